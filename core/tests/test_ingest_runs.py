"""Ingest as the integrations write: one run spread over files (the file transport's default layout),
FAIL/ABORT runs, ``symlinks`` aliases, folder arguments. Hand-written events in ``data/runs``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from flowscope import ingest, olruns
from flowscope.cli.ingest import add_ingest_command
from flowscope.model import Asset
from flowscope.specs import spec_dir, validate_event
from flowscope.store import Store

RUNS = Path(__file__).parent / "data" / "runs"
START = RUNS / "events.jsonl-20240601-100000.000001.json"
COMPLETE = RUNS / "events.jsonl-20240601-100042.500000.json"
HIVE = "hive://metastore:9083"
PHOTOS = Asset(HIVE, "raw.photos")
COUNTS = Asset(HIVE, "features.photo_counts")
GEO = Asset(HIVE, "features.photo_geo")


def cli(store: Path, *args: str) -> tuple[int, str, str]:
    app = typer.Typer()
    add_ingest_command(app, lambda: store)
    app.command("noop")(lambda: None)  # a second command keeps "ingest" a sub-command
    result = CliRunner().invoke(app, ["ingest", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_run_spread_over_two_files_is_one_run(tmp_path: Path) -> None:
    """START names the input, COMPLETE the output: read together they are one edge, with the SQL of START
    and both sides under their table names (symlinks)."""
    loaded = [ingest.read_events(START), ingest.read_events(COMPLETE)]
    ingest.derive_all(loaded)
    assert loaded[0].edges == []  # the edge goes with the event that named the output
    (edge,) = loaded[1].edges
    assert (edge.source, edge.target, edge.confidence) == (PHOTOS, COUNTS, 0.95)
    assert edge.job.sql is not None and edge.job.sql.startswith("INSERT INTO features.photo_counts")
    assert edge.evidence[0].location == f"{COMPLETE}:1"
    (info,) = loaded[1].assets
    assert info.asset == COUNTS and info.fields == (("owner_id", "long"), ("photos", "long"))
    # Each file alone: the START file's input is a pure read, the COMPLETE file's output has no input.
    alone = ingest.read_events(START)
    ingest.derive(alone, str(START))
    assert [(e.source, e.target) for e in alone.edges] == [(PHOTOS, None)]


def test_failed_and_aborted_runs_are_kept_at_low_confidence() -> None:
    loaded = [ingest.read_events(RUNS / "hive_failed.jsonl")]
    derived = ingest.derive_all(loaded)
    assert derived.failed_runs == 2
    got = {(e.source, e.target): e for e in loaded[0].edges}
    assert set(got) == {(PHOTOS, GEO), (GEO, Asset(HIVE, "features.photo_geo_backfill"))}
    assert {e.confidence for e in got.values()} == {0.2}
    assert all(b.match == "FAILED_RUN" for e in got.values() for b in e.bases)


def test_a_completed_run_of_the_same_flow_outweighs_a_failed_one(tmp_path: Path) -> None:
    events = [json.loads(line) for line in (RUNS / "hive_failed.jsonl").read_text().splitlines()[:2]]
    retry = json.loads(json.dumps(events[0]))
    retry["run"]["runId"] = "0190d4d9-0000-7aaa-8bbb-000000000003"
    done = {**retry, "eventType": "COMPLETE", "eventTime": "2024-06-01T12:00:00Z"}
    path = tmp_path / "retry.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in [*events, retry, done]) + "\n")
    loaded = [ingest.read_events(path)]
    ingest.derive_all(loaded)
    (edge,) = loaded[0].edges
    assert edge.confidence == 0.95 and edge.count == 2  # one observation per run: the failed one, the retry


def test_symlink_groups_choose_the_table_name() -> None:
    aliases = olruns.Aliases()
    aliases.add(
        {
            "namespace": "file",
            "name": "/tmp/warehouse/test",
            "facets": {
                "symlinks": {
                    "identifiers": [
                        {"namespace": "file:/tmp/warehouse", "name": "default.test", "type": "TABLE"}
                    ]
                }
            },
        }
    )
    aliases.add(
        {
            "namespace": "hive://localhost:9083",
            "name": "test.t1",
            "facets": {
                "symlinks": {
                    "identifiers": [
                        {
                            "namespace": "file",
                            "name": "/opt/hive/data/warehouse/test.db/t1",
                            "type": "LOCATION",
                        }
                    ]
                }
            },
        }
    )
    assert aliases.canonical("file", "/tmp/warehouse/test") == Asset("file:/tmp/warehouse", "default.test")
    assert aliases.canonical("file", "/opt/hive/data/warehouse/test.db/t1", "a") == Asset(
        "hive://localhost:9083", "test.t1", "a"
    )
    assert aliases.canonical("s3://x", "y") == Asset("s3://x", "y")  # not in any group
    assert aliases.groups() == [
        (Asset("file:/tmp/warehouse", "default.test"), [Asset("file", "/tmp/warehouse/test")]),
        (Asset("hive://localhost:9083", "test.t1"), [Asset("file", "/opt/hive/data/warehouse/test.db/t1")]),
    ]


def test_a_folder_argument_reads_its_event_files(tmp_path: Path) -> None:
    store = tmp_path / "s"
    code, out, err = cli(store, str(RUNS))
    assert code == 0, err
    assert out.splitlines()[-1] == (
        f"3 file(s), 6 events, 3 edges stored in {store} (2 failed or aborted run(s) kept at low confidence; "
        "2 symlink name(s) folded into 2 asset(s))"
    )
    with Store.open(store) as s:
        got = {(e.source, e.target): e.confidence for e in s.edges()}
        assert got == {
            (PHOTOS, COUNTS): 0.95,
            (PHOTOS, GEO): 0.2,
            (GEO, Asset(HIVE, "features.photo_geo_backfill")): 0.2,
        }
        assert len(list(s.events())) == 6  # every event kept verbatim, symlinks included
    code, out, _ = cli(store, str(RUNS), "--json")
    doc = json.loads(out)
    assert (doc["events"], doc["edges"], doc["failed_runs"]) == (6, 3, 2)
    assert doc["aliases"][0] == {
        "asset": f"dataset:{HIVE}:features.photo_counts",
        "names": ["dataset:file:/warehouse/features.db/photo_counts"],
    }
    assert [f["path"] for f in doc["files"]] == [str(p) for p in sorted(RUNS.iterdir())]
    assert doc["failed_files"] == []


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not events")
    code, _, _ = cli(tmp_path / "s", str(tmp_path / "empty"))
    assert code == 1


def test_hand_written_run_events_are_valid_openlineage() -> None:
    spec = spec_dir()
    if spec is None:
        import pytest

        pytest.skip("OpenLineage spec folder not found (set FLOWSCOPE_OL_SPEC)")
    for path in sorted(RUNS.iterdir()):
        for _, event in ingest.read_events(path).events:
            assert validate_event(event, spec) == [], path


def test_names_are_printed_literally(tmp_path: Path) -> None:
    """A file name with rich markup, an emoji code and a control character comes out as written."""
    odd = tmp_path / "postgres_host:1234:smile:[red]x[-red]\x1b[2J.json"
    odd.write_bytes(COMPLETE.read_bytes())
    code, out, err = cli(tmp_path / "s", str(odd))
    assert code == 0, err
    assert f"{tmp_path}/postgres_host:1234:smile:[red]x[-red]\\x1b[2J.json: 1 events" in out
    assert "\x1b" not in out and "😄" not in out
