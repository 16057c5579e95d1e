"""Scoring rule 5 across collectors: samples counted by one collector lower another collector's static edge
in the store, and runtime evidence from one raises another's static edge (rules 4 and 5, docs in scoring.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope import hookimpl
from flowscope.contracts import CollectContext
from flowscope.model import Asset, Job, JobSampled, Observation, Signal

JOB = Job("service://nearby", "update")
SRC = Asset("http://nearby.internal", "/api/v1/nearby", "location")
CACHED = Asset("cache://nearby-cache", "last:{}", "location")
LOGGED = Asset("log://python", "metrics", "location")


@dataclass
class Emits:
    name: str
    observations: list[Observation] = field(default_factory=list)
    config_section: str = ""
    config_class: type | None = None

    def __post_init__(self) -> None:
        self.config_section = self.name

    def collect(self, ctx: CollectContext) -> Iterable[Observation]:
        yield from self.observations


class TwoCollectors:
    def __init__(self, samples: int) -> None:
        self.static = Emits("code", [Signal("static", JOB, SRC, CACHED), Signal("static", JOB, SRC, LOGGED)])
        runtime: list[Observation] = [Signal("runtime", JOB, SRC, CACHED, match="EXACT_MATCH", count=samples)]
        self.runtime = Emits("probes_fake", [*runtime, JobSampled(JOB, samples)])

    @hookimpl
    def register_collectors(self, register: Callable[[Any], None]) -> None:
        register(self.static)
        register(self.runtime)


def downstream(run_cli: Callable[..., Any], pm: Any) -> dict[str, float]:
    start = f"datasetField:{SRC.namespace}:{SRC.name}:location"
    result = run_cli(pm, "lineage", "downstream", start, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    return {f"{a['namespace']}:{a['name']}": a["confidence"] for a in doc["reached"]}


def scan(tmp_path: Path, run_cli: Callable[..., Any], pm: Any) -> None:
    config = tmp_path / "flowscope.yaml"
    config.write_text("plugins: {}\nscan: {collectors: [code, probes_fake]}\n")
    result = run_cli(pm, "scan", "--config", str(config))
    assert result.exit_code == 0, result.output


def test_a_job_sampled_often_by_another_collector_lowers_the_static_edge_it_never_saw(
    tmp_path: Path, run_cli: Callable[..., Any], plugin_manager: Callable[..., Any]
) -> None:
    pm = plugin_manager(("two", TwoCollectors(samples=150)))
    scan(tmp_path, run_cli, pm)
    conf = downstream(run_cli, pm)
    assert conf["cache://nearby-cache:last:{}"] >= 0.95  # confirmed by the runtime collector
    assert conf["log://python:metrics"] == 0.10  # 150 samples of its job, never seen


def test_few_samples_leave_the_unseen_static_edge_at_its_static_score(
    tmp_path: Path, run_cli: Callable[..., Any], plugin_manager: Callable[..., Any]
) -> None:
    pm = plugin_manager(("two", TwoCollectors(samples=20)))
    scan(tmp_path, run_cli, pm)
    assert downstream(run_cli, pm)["log://python:metrics"] == 0.35
