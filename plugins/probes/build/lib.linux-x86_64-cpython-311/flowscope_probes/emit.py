"""OpenLineage events straight from a long-running service (setting ``emit: <flowscope.yaml>``).

On every flush that wrote match rows, the worker also turns those rows into edges exactly as the ``probes``
collector would (:func:`flowscope_probes.collector.observations`), scores them with core's merge, builds the
OpenLineage events with core's ``build_events`` and hands them to every emitter the named flowscope config
asks for (its ``openlineage:`` section, through the installed ``register_emitters`` plugins, e.g.
flowscope-emitters' HTTP transport to Marquez). Events carry what the spool carries — labels, counts, match
types — never a raw value. A failing emitter is counted (``emit_failures``) and logged once by the worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowscope.config import load_config
from flowscope.events import build_events
from flowscope.merge import merge_signals
from flowscope.model import JobSampled, Signal
from flowscope.plugins import Plugins, make_manager
from flowscope_probes.collector import SpoolSummary, _add, observations
from flowscope_probes.spool import SpoolLine


class EventSink:
    def __init__(self, config_path: Path, service: str, plugins: Plugins | None = None) -> None:
        self.config = load_config(config_path)
        self.plugins = plugins if plugins is not None else Plugins(make_manager())
        self.service = service
        self.batches = 0

    def emit(self, records: Sequence[dict[str, Any]], where: Path) -> int:
        """Emit the flushed ``records``; returns the number of events sent to each emitter."""
        summary = SpoolSummary()
        for i, rec in enumerate(records, 1):
            if rec.get("type") in ("match", "samples"):
                _add(summary, SpoolLine(where, i, {"at": time.time(), **rec}), None)
        if not summary.rows:
            return 0
        signals: list[tuple[str, Signal]] = []
        samples: dict[tuple[str, str], int] = {}
        for obs in observations(summary):
            if isinstance(obs, Signal):
                signals.append(("probes", obs))
            elif isinstance(obs, JobSampled):
                samples[obs.job.key] = samples.get(obs.job.key, 0) + obs.samples
        self.batches += 1
        events = build_events(
            merge_signals(signals, samples),
            {},
            scan_id=f"probes:{self.service}:{os.getpid()}:{self.batches}:{time.time_ns()}",
            event_time=datetime.now(UTC),
            collectors=["probes"],
        )
        for reg in self.plugins.emitters():
            emitter = reg.item.from_config(self.config.raw, self.config.base_dir)
            if emitter is None:
                continue
            try:
                for event in events:
                    emitter.emit(event)
            finally:
                emitter.close()
        return len(events)
