"""End to end: the README's first command on the bundled example, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from flowscope import hookimpl
from flowscope.contracts import CollectContext
from flowscope.model import Asset, Evidence, Job, Signal
from flowscope.plugins import make_manager

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "photo_sharing" / "flowscope.yaml"


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_scan_example_emits_valid_events_and_location_reaches_both_models(
    tmp_path: Path, run_cli: Callable[..., Any], assert_valid_event: Callable[[dict[str, Any]], None]
) -> None:
    pm = make_manager(load_entrypoints=True)
    out = tmp_path / "events.jsonl"
    result = run_cli(pm, "scan", "--config", str(EXAMPLE), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "declared" in result.stdout
    events = read_events(out)
    assert len(events) > 5
    for event in events:
        assert_valid_event(event)
    result = run_cli(pm, "lineage", "downstream", "photos.location", "--json")
    assert result.exit_code == 0, result.output
    reached = json.loads(result.stdout)
    names = {(r["namespace"], r["name"]) for r in reached["reached"]}
    assert ("model://registry", "ad_targeting_model") in names
    assert ("model://registry", "nearby_friends_model") in names
    ads = next(r for r in reached["reached"] if r["name"] == "ad_targeting_model")
    assert 0.5 < ads["confidence"] <= 1.0
    assert ("service://content-moderation", "/v1/classify") not in names, "caption flows must not be reached"
    why = run_cli(pm, "lineage", "why", "photos.location", "ad_targeting_model", "--json")
    assert why.exit_code == 0, why.output
    path = json.loads(why.stdout)
    assert all(step["evidence"] for step in path["path"])
    # The ML hops come from the configs under ml/ (the ml_config plugin), not from declarations.
    last = path["path"][-1]
    assert last["kinds"] == ["config"] and last["job"]["name"] == "train.ad_targeting_model"
    assert last["evidence"][0]["location"].startswith("ml/models/ad_targeting/")
    assert ("service://ads-ranking", "/v1/rank") in names
    assert ("service://friend-suggestions", "/v1/suggest") in names


def test_rescan_replaces_instead_of_duplicating(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    pm = make_manager(load_entrypoints=True)
    counts = []
    for _ in range(2):
        assert run_cli(pm, "scan", "--config", str(EXAMPLE)).exit_code == 0
        listed = run_cli(pm, "assets", "--json")
        counts.append(len(json.loads(listed.stdout)["assets"]))
    assert counts[0] == counts[1] > 10


def test_a_partial_scan_scores_static_edges_as_the_full_scan(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """``--only hack_static`` does not run the probes, but the job sample counts they stored last time still
    lower the static flows that never fired (scoring rule 5), as in the full scan."""
    from flowscope.store import Store

    def static_edges() -> dict[tuple[str, str, str], float]:
        with Store.open(tmp_path / ".flowscope") as store:
            return {
                (e.job.name, str(e.source), str(e.target)): e.confidence
                for e in store.edges(collector="hack_static")
            }

    pm = make_manager(load_entrypoints=True)
    assert (
        run_cli(pm, "--store", str(tmp_path / ".flowscope"), "scan", "--config", str(EXAMPLE)).exit_code == 0
    )
    full = static_edges()
    lowered = [k for k, c in full.items() if k[0] == "update_last_location" and c <= 0.1]
    assert lowered, "the example has static flows of an often-sampled job that never fired"
    only = run_cli(
        pm, "--store", str(tmp_path / ".flowscope"), "scan", "--config", str(EXAMPLE), "--only", "hack_static"
    )
    assert only.exit_code == 0, only.output
    assert static_edges() == full


class ExplodingCollector:
    name = "exploding"
    config_section = "exploding"
    config_class = None

    def collect(self, ctx: CollectContext) -> Iterable[Signal]:
        job = Job("flowscope://exploding", "half_done")
        yield Signal(
            "declared",
            job,
            Asset("postgres://db:5432", "app.users", "email"),
            Asset("log://default", "audit"),
            evidence=(Evidence("exploding", "declared", "x:1"),),
        )
        raise RuntimeError("disk on fire")


class ExplodingPlugin:
    @hookimpl
    def register_collectors(self, register: Callable[[Any], None]) -> None:
        register(ExplodingCollector())


def test_a_failing_collector_is_recorded_and_exits_nonzero_but_the_rest_is_kept(
    tmp_path: Path, run_cli: Callable[..., Any], assert_valid_event: Callable[[dict[str, Any]], None]
) -> None:
    # Entry points too: the example configures installed plugins (plugins.ml_config), whose sections must be known.
    pm = make_manager(load_entrypoints=True, plugins=[("exploding", ExplodingPlugin())])
    out = tmp_path / "events.jsonl"
    result = run_cli(pm, "scan", "--config", str(EXAMPLE), "-o", str(out))
    assert result.exit_code == 1
    assert "exploding" in result.output and "disk on fire" in result.output
    events = read_events(out)
    for event in events:
        assert_valid_event(event)
    scan = next(e for e in events if e["job"]["name"] == "scan")
    errors = scan["run"]["facets"]["extractionError"]
    assert errors["failedTasks"] == 1
    assert any("disk on fire" in e["errorMessage"] for e in errors["errors"])
    jobs = {e["job"]["name"] for e in events}
    assert "half_done" in jobs, "what the failing collector yielded before failing is kept"
    assert "PhotoUploadController.genUpload" in jobs, "the other collectors still ran"


def run_main(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from flowscope.cli import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        (
            {"flowscope.yaml": "plugins:\n  declared:\n    filez: [a]\n"},
            ["scan"],
            "flowscope.yaml:3: plugins.declared.filez: unknown key",
        ),
        ({"flowscope.yaml": "plugins:\n  declard: {}\n"}, ["scan"], "flowscope.yaml:2"),
        ({"flowscope.yaml": "plugins: [\n"}, ["scan"], "flowscope.yaml:"),
        ({}, ["scan", "--only", "declard"], "unknown collector 'declard'; did you mean declared?"),
        ({}, ["lineage", "downstream", "nowhere.table"], "no lineage store here yet"),
    ],
)
def test_bad_input_gives_one_error_line_and_no_traceback(
    tmp_path: Path, files: dict[str, str], args: list[str], expected: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = run_main(*args, cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "flowscope.yaml").write_text("plugins: [\n", encoding="utf-8")
    proc = run_main("--debug", "scan", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_unknown_disabled_plugin_is_an_error(tmp_path: Path) -> None:
    code = "import sys; from flowscope.cli import main; main(['plugins'])"
    env = {"FLOWSCOPE_DISABLE_PLUGINS": "sqll", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: FLOWSCOPE_DISABLE_PLUGINS names unknown plugin 'sqll'")


def test_plugins_command_lists_names_versions_and_hooks(run_cli: Callable[..., Any]) -> None:
    result = run_cli(make_manager(load_entrypoints=True), "plugins", "--json")
    listed = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    assert listed["declared"]["hooks"] == ["register_collectors"]
    assert listed["declared"]["provides"] == ["collector:declared"]
    assert listed["openlineage"]["version"] == "0.1.0"
    assert "emitter:openlineage" in listed["openlineage"]["provides"]
