"""One scan: run each enabled collector on its own, then merge and score what they found.

A collector that raises does not sink the scan: what it yielded before failing is kept, its failure is
recorded (and later emitted as an ExtractionErrorRunFacet), and the CLI exits non-zero.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowscope.config import Config, parse_section
from flowscope.contracts import CollectContext, Collector, Problem
from flowscope.errors import UserError
from flowscope.events import build_events, write_jsonl
from flowscope.merge import merge_signals, normalize_asset
from flowscope.model import Asset, AssetInfo, Edge, JobSampled, Observation, Signal
from flowscope.plugins import Plugins, Registered

log = logging.getLogger(__name__)


@dataclass
class CollectorReport:
    """What one collector did in one scan, for the summary table and the run event."""

    name: str
    plugin: str
    signals: int = 0
    edges: int = 0
    assets: int = 0
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None
    seconds: float = 0.0
    outside: list[str] = field(default_factory=list)  # inputs read from outside the config's folder

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        if self.skipped:
            return "skipped"
        return "problems" if self.problems else "ok"


@dataclass
class CollectorOutput:
    signals: list[Signal] = field(default_factory=list)
    assets: dict[Asset, AssetInfo] = field(default_factory=dict)
    samples: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass
class ScanResult:
    reports: list[CollectorReport]
    outputs: dict[str, CollectorOutput]
    edges: list[Edge]
    assets: dict[Asset, AssetInfo]
    samples: dict[tuple[str, str], int] = field(default_factory=dict)

    def edges_of(self, collector: str) -> list[Edge]:
        """This collector's own edges, scored on its evidence alone (the store re-merges across collectors).

        Job samples count scan-wide: a static edge whose job the probes sampled 100 times in this scan
        without seeing it is lowered (scoring rule 5) even though the samples came from another collector.
        """
        out = self.outputs.get(collector)
        if out is None:
            return []
        if all(o is out or not o.signals for o in self.outputs.values()):
            return self.edges  # the only collector with signals: the scan's merge is already its own
        return merge_signals(((collector, s) for s in out.signals), self.samples or out.samples)

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.reports for p in r.problems]

    @property
    def outside(self) -> list[str]:
        """Inputs read from outside the config's folder, each once across collectors."""
        return list(dict.fromkeys(p for r in self.reports for p in r.outside))

    @property
    def failures(self) -> dict[str, str]:
        return {r.name: r.error for r in self.reports if r.error}


def _merge_info(known: AssetInfo | None, new: AssetInfo) -> AssetInfo:
    if known is None:
        return new
    fields = dict(known.fields)
    for name, typ in new.fields:
        if typ or name not in fields:
            fields[name] = typ
    tags = tuple(dict.fromkeys(known.tags + new.tags))
    return AssetInfo(known.asset, tuple(fields.items()), tags, known.description or new.description)


def _consume(observations: Iterable[Observation], out: CollectorOutput) -> None:
    """Sort a collector's observations into ``out`` as they come, so a later failure keeps the earlier ones."""
    for obs in observations:
        if isinstance(obs, Signal):
            out.signals.append(obs)
        elif isinstance(obs, AssetInfo):
            asset = normalize_asset(obs.asset)
            out.assets[asset] = _merge_info(
                out.assets.get(asset), AssetInfo(asset, obs.fields, obs.tags, obs.description)
            )
        elif isinstance(obs, JobSampled):
            out.samples[obs.job.key] = out.samples.get(obs.job.key, 0) + obs.samples
        else:
            raise TypeError(
                f"collector yielded {type(obs).__name__}, expected Signal, AssetInfo or JobSampled"
            )


@dataclass
class Standalone:
    """One collector run alone, outside ``flowscope scan`` (a plugin's own ``scan`` command)."""

    name: str
    output: CollectorOutput
    problems: list[Problem]

    @property
    def edges(self) -> list[Edge]:
        return merge_signals(((self.name, s) for s in self.output.signals), self.output.samples)

    def write_events(self, path: Path, scan_id: str) -> int:
        """The run's OpenLineage events as JSON lines (``-o``), built exactly as ``flowscope scan`` builds them."""
        events = build_events(
            self.edges,
            self.output.assets,
            scan_id=scan_id,
            event_time=datetime.now(UTC),
            problems=self.problems,
            collectors=[self.name],
        )
        return write_jsonl(events, path)


def collect_alone(collector: Collector, settings: Any, base_dir: Path) -> Standalone:
    """Run ``collector`` with ``settings`` (its parsed config section) and gather what it yields."""
    ctx = CollectContext(collector=collector.name, settings=settings, base_dir=base_dir)
    out = CollectorOutput()
    _consume(collector.collect(ctx), out)
    return Standalone(collector.name, out, ctx.problems)


def _settings(reg: Registered[Collector], config: Config) -> tuple[Any, str | None]:
    """The collector's parsed section, or a reason to skip it when it is absent and has required keys."""
    section = reg.item.config_section
    cls = reg.item.config_class
    if section not in config.plugins and cls is not None:
        try:
            return cls(), None
        except TypeError:
            return None, f"not configured (add plugins.{section} to the config)"
    return parse_section(config, section, cls), None


def run_collector(
    reg: Registered[Collector], config: Config, advance: Callable[[int], None] = lambda n: None
) -> tuple[CollectorReport, CollectorOutput]:
    report = CollectorReport(reg.name, reg.plugin)
    out = CollectorOutput()
    settings, skipped = _settings(reg, config)
    if skipped:
        report.skipped = skipped
        return report, out
    ctx = CollectContext(
        collector=reg.name,
        settings=settings,
        base_dir=config.base_dir,
        config=config.raw,
        problems=report.problems,
        log=logging.getLogger(f"flowscope.collect.{reg.name}"),
        advance=advance,
    )
    start = time.perf_counter()
    try:
        _consume(reg.item.collect(ctx), out)
    except UserError as exc:
        report.error = str(exc)
        log.error("collector %s (plugin %s) failed: %s", reg.name, reg.plugin, exc)
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        log.error(
            "collector %s (plugin %s) failed: %s",
            reg.name,
            reg.plugin,
            report.error,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
    report.seconds = time.perf_counter() - start
    report.outside = list(ctx.outside)
    report.signals = len(out.signals)
    report.assets = len(out.assets)
    return report, out


def scan(
    plugins: Plugins,
    config: Config,
    only: Sequence[str] = (),
    on_start: Callable[[str], Callable[[int], None]] = lambda name: lambda n: None,
    earlier_samples: Mapping[str, Mapping[tuple[str, str], int]] | None = None,
) -> ScanResult:
    """Run the selected collectors (all registered ones when ``only`` and ``scan.collectors`` are empty).

    ``earlier_samples``: per collector, the job sample counts of its last stored scan; those of collectors
    not run this time count scan-wide, so ``--only hack_static`` scores static edges as a full scan does."""
    registered = {c.name: c for c in plugins.collectors()}
    wanted = list(only) or list(config.scan_collectors) or list(registered)
    wanted = [n for n in wanted if n not in config.scan_disable or n in only]
    for name in wanted:
        if name not in registered:
            import difflib

            hint = difflib.get_close_matches(name, list(registered), n=3)
            more = (
                f"; did you mean {', '.join(hint)}?"
                if hint
                else f"; installed: {', '.join(sorted(registered))}"
            )
            raise UserError(f"unknown collector {name!r}{more}")
    reports: list[CollectorReport] = []
    outputs: dict[str, CollectorOutput] = {}
    for name in wanted:
        report, out = run_collector(registered[name], config, on_start(name))
        reports.append(report)
        outputs[name] = out
    for plugin, err in plugins.failures.items():
        reports.append(CollectorReport(name=plugin, plugin=plugin, error=err))
    samples: dict[tuple[str, str], int] = {}
    for name, counts in (earlier_samples or {}).items():
        if name not in outputs:
            for key, n in counts.items():
                samples[key] = samples.get(key, 0) + n
    assets: dict[Asset, AssetInfo] = {}
    for out in outputs.values():
        for key, n in out.samples.items():
            samples[key] = samples.get(key, 0) + n
        for asset, info in out.assets.items():
            assets[asset] = _merge_info(assets.get(asset), info)
    pairs = [(name, s) for name, out in outputs.items() for s in out.signals]
    edges = merge_signals(pairs, samples)
    for report in reports:
        if report.name in outputs:
            report.edges = len({(s.job.key, s.source, s.target) for s in outputs[report.name].signals})
    return ScanResult(reports, outputs, edges, assets, samples)
