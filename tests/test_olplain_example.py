"""Every OpenLineage event of the example's scan serializes to what the client's ``Serde`` makes of it, and
its run id is the one the client's serialization gave before ``flowscope.olplain``."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import attr
from openlineage.client.serde import Serde

from flowscope.config import load_config
from flowscope.events import RUN_ID_NAMESPACE, _strip_meta, build_events, event_to_dict, write_jsonl
from flowscope.pipeline import scan
from flowscope.plugins import Plugins, make_manager

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "photo_sharing" / "flowscope.yaml"


def _serde_run_id(ev: object) -> str:
    """job_run_id as it was: attrs -> dicts, then Serde's null and enum pass."""

    def plain(obj: object) -> object:
        if attr.has(type(obj)):
            return attr.asdict(obj)  # type: ignore[arg-type]
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [plain(v) for v in obj]
        return obj

    content = [ev.job.facets, ev.inputs, ev.outputs]  # type: ignore[attr-defined]
    canonical = json.dumps(_strip_meta(Serde.remove_nulls_and_enums(plain(content))), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return str(uuid.uuid5(RUN_ID_NAMESPACE, f"{ev.job.namespace}\n{ev.job.name}\n{digest}"))  # type: ignore[attr-defined]


def test_the_example_events_serialize_as_serde_does(tmp_path: Path) -> None:
    plugins = Plugins(make_manager(load_entrypoints=True))
    config = load_config(EXAMPLE)
    result = scan(plugins, config)
    events = build_events(
        result.edges, result.assets, scan_id="s", event_time=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert len(events) > 10
    for ev in events:
        assert event_to_dict(ev) == Serde.to_dict(ev)
    for ev in events[1:]:  # the first is the scan's own event, whose run id comes from the scan id
        assert ev.run.runId == _serde_run_id(ev)
    out = tmp_path / "events.jsonl"
    write_jsonl(events, out)
    assert out.read_text(encoding="utf-8").splitlines() == [Serde.to_json(ev) for ev in events]
