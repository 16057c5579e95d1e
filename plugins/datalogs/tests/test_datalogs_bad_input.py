"""Bad input, each case through the CLI: one clear line naming the file and place, a non-zero exit where
the run as a whole failed, no traceback, and nothing already done lost."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result, delivered, edit_catalog, run_args, unzip
from flowscope_datalogs import split
from flowscope_datalogs.state import State

CATALOG = "datalogs/catalog.yaml"


def _one_error(result: Result) -> str:
    assert result.code == 1, (result.out, result.err)
    lines = [ln for ln in result.err.splitlines() if ln.startswith("error:")]
    assert lines and "Traceback" not in result.err, result.err
    return lines[0]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "      caption: {title: Caption}",
            "      captoin: {title: Caption}",
            r":4\d: tables.photo_uploads.columns.captoin: no such column in .*did you mean caption",
        ),
        (
            "location: ../data/app_events",
            "location: ../data/app_event",
            r":13: tables.app_events.location: no such folder",
        ),
        (
            "    owner: user_id\n    near",
            "    owner: client_version\n    near",
            r":17: tables.app_events.owner: column 'client_version' is VARCHAR .* user ids are bigint",
        ),
        (
            "renderer: duration",
            "renderer: durration",
            r"tables.app_events.columns.session_ms.renderer: unknown renderer 'durration' \(did you mean duration\?\)",
        ),
        (
            "            1: Opened the camera\n",
            "            1: \n",
            r"tables.app_events.columns.event_type.options: enum: the label of 1 must be a non-empty string",
        ),
        (
            "      spam_score: {withheld: integrity}",
            "      spam_score: {withheld: secret}",
            r"tables.photo_uploads.columns.spam_score.withheld: got 'secret'",
        ),
        (
            "    owner: user_id\n    near",
            "    owner: user_id\n    owner: user_id\n    near",
            r"tables.app_events.owner: written twice",
        ),
        (
            "      event_time: {title: When, renderer: timestamp}",
            "      event_time: {renderer: timestamp}",
            r"tables.app_events.columns.event_time: an exported column needs a title",
        ),
    ],
)
def test_catalog_errors_name_file_line_and_key(
    example: Path, cli: Callable[..., Result], old: str, new: str, expected: str
) -> None:
    import re

    edit_catalog(example, old, new)
    for args in (("check", "--catalog", str(example / CATALOG)), run_args(example)):
        line = _one_error(cli(*args))
        assert f"{example / CATALOG}:" in line, line
        assert re.search(expected, line), line
    assert not (example / "delivery").exists() or not list((example / "delivery").iterdir())


def test_a_catalog_that_is_not_yaml_or_missing_is_one_line(example: Path, cli: Callable[..., Result]) -> None:
    (example / CATALOG).write_bytes(b"tables: {a: [\x00\xff")
    assert "catalog.yaml" in _one_error(cli("check", "--catalog", str(example / CATALOG)))
    assert "no such catalog file" in _one_error(cli("check", "--catalog", str(example / "nope.yaml")))


def test_a_missing_renderer_label_shows_the_raw_value_with_a_marker_and_counts_it(
    example: Path, cli: Callable[..., Result]
) -> None:
    edit_catalog(example, "            6: Changed a setting\n", "")
    result = cli(*run_args(example, "--json"))
    assert result.code == 0, result.err
    [batch] = json.loads(result.out)["batches"]
    assert batch["unrendered_values"]["app_events.event_type"] > 0
    assert "no label for '6'" in batch["renderer_errors"]["app_events.event_type"]
    pages = [unzip(p) for p in delivered(example / "delivery").values()]
    assert any("6 [shown as stored]" in p["tables/app_events.csv"].decode() for p in pages)
    marked = [p for p in pages if json.loads(p["manifest.json"])["tables"][0]["unrendered"]]
    assert marked and 'class="raw"' in marked[0]["index.html"].decode()


def test_malformed_request_lines_are_skipped_and_reported(example: Path, cli: Callable[..., Result]) -> None:
    requests = example / "datalogs" / "requests.jsonl"
    good = requests.read_text(encoding="utf-8").splitlines()
    requests.write_bytes(
        "\n".join(
            [
                good[0],
                "{not json",
                json.dumps({"request_id": "short", "user_id": 1, "requested_at": "2024-06-01T00:00:00Z"}),
                json.dumps(
                    {"request_id": "r-abcdefgh1", "user_id": "1001", "requested_at": "2024-06-01T00:00:00Z"}
                ),
                json.dumps({"request_id": "r-abcdefgh2", "user_id": 1001, "requested_at": "yesterday"}),
                json.dumps(
                    {
                        "request_id": "r-abcdefgh3",
                        "user_id": 1001,
                        "requested_at": "2024-06-01",
                        "timezone": "Mars/Olympus",
                    }
                ),
                good[1],
            ]
        ).encode()
        + b"\n\xff\xfe binary junk\n"
        + b"x" * 70_000
        + b"\n"
    )
    result = cli(*run_args(example, "--json"))
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["new_requests"] == 2
    by_line = {p.split("requests.jsonl:")[1].split(":")[0]: p for p in report["problems"]}
    expected = {2: "not JSON", 3: "request_id must be", 4: "user_id must be an integer", 5: "ISO 8601",
                6: "unknown timezone", 8: "not UTF-8", 9: "longer than"}  # fmt: skip
    assert sorted(by_line) == sorted(str(n) for n in expected), report["problems"]
    for line, why in expected.items():
        assert why in by_line[str(line)] and by_line[str(line)].endswith("skipped")
    human = cli(*run_args(example))
    assert "warning:" in human.err and "requests.jsonl:2: not JSON" in human.err


def test_a_second_run_while_one_holds_the_batch_is_refused(example: Path, cli: Callable[..., Result]) -> None:
    state = State(example / "state")
    hold, release = threading.Event(), threading.Event()

    def holder() -> None:
        with state.lock():
            hold.set()
            release.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert hold.wait(10)
        line = _one_error(cli(*run_args(example)))
        assert "another datalogs run (pid" in line and "holds the batch" in line
    finally:
        release.set()
        t.join()
        state.close()
    assert cli(*run_args(example)).code == 0  # and runs once the holder is gone


def test_an_unwritable_delivery_folder_fails_before_any_work(
    example: Path, cli: Callable[..., Result]
) -> None:
    blocker = example / "not_a_folder"
    blocker.write_text("x")
    line = _one_error(
        cli(
            *run_args(example)[:-4],
            "--delivery",
            str(blocker / "delivery"),
            "--state",
            str(example / "state"),
        )
    )
    assert str(blocker / "delivery") in line and "cannot create a private folder" in line
    assert not (example / "state").exists()  # nothing started


def test_an_unwritable_delivery_folder_for_a_non_root_user(example: Path, cli: Callable[..., Result]) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the not-a-folder case above covers it")
    ro = example / "ro"
    ro.mkdir(mode=0o500)
    assert "not writable" in _one_error(
        cli(*run_args(example)[:-4], "--delivery", str(ro), "--state", str(example / "state"))
    )


def test_a_mismatched_row_stops_that_table_for_the_whole_batch(
    example: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A splitter bug, simulated: one photo row of another requester is shuffled into a package."""
    real = split.split_rows
    shuffled = {"done": False}

    def buggy(
        group: split.UserRows, requests: list[split.Request]
    ) -> list[tuple[split.Request, dict[str, list[split.Row]]]]:
        out = real(group, requests)
        if group.user_id == 1042 and not shuffled["done"]:
            stolen = (1001, *group.tables["photo_uploads"][0][1:]) if group.tables["photo_uploads"] else None
            if stolen is not None:
                out = [(r, {**t, "photo_uploads": [*t["photo_uploads"], stolen]}) for r, t in out]
                shuffled["done"] = True
        return out

    monkeypatch.setattr(split, "split_rows", buggy)
    result = cli(*run_args(example, "--json"))
    assert shuffled["done"]
    assert result.code == 1
    [batch] = json.loads(result.out)["batches"]
    assert set(batch["held_back"]) == {"photo_uploads"}
    assert "1 row(s) whose owner is not the requester" in batch["held_back"]["photo_uploads"]
    assert "r-Qz3hV6cY1sJd5RfA" in batch["held_back"]["photo_uploads"]  # names the request, not the user
    packages = delivered(example / "delivery")
    assert len(packages) == 4
    for data in packages.values():  # nothing of that table ships, to anyone; the other tables do
        files = unzip(data)
        assert "tables/photo_uploads.json" not in files and "tables/app_events.json" in files
        manifest = json.loads(files["manifest.json"])
        assert [h["name"] for h in manifest["held_back"]] == ["photo_uploads"]
        assert "automatic check found rows that might not be yours" in files["index.html"].decode()
    human = cli("status", "--state", str(example / "state"))
    assert "photo_uploads held back" in human.out


def test_an_unreadable_partition_is_retried_reported_and_the_others_finish(
    example: Path, cli: Callable[..., Result]
) -> None:
    bad = example / "data" / "app_events" / "ds=2024-06-03" / "part-0.parquet"
    good = bad.read_bytes()
    bad.write_bytes(b"PAR1 this is not parquet" * 10)
    result = cli(*run_args(example, "--attempts", "2", "--json"))
    assert result.code == 1
    [batch] = json.loads(result.out)["batches"]
    assert batch["status"] == "blocked" and len(batch["failed_partitions"]) == 1
    assert batch["failed_partitions"][0].startswith("app_events ds=2024-06-03:")
    assert batch["partitions_joined_now"] == 20  # every other partition finished
    assert not (example / "delivery").exists() or not list((example / "delivery").glob("*.zip"))
    status = json.loads(cli("status", "--state", str(example / "state"), "--json").out)
    [failed] = status["batches"][0]["failed"]
    assert failed["partition"] == "ds=2024-06-03" and failed["attempts"] == 2
    human = cli(*run_args(example, "--attempts", "1"))
    assert "partition failed: app_events ds=2024-06-03" in human.err and "--ship-incomplete" in human.err
    bad.write_bytes(good)  # fixed: the next run joins only that partition and delivers
    again = cli(*run_args(example, "--json"))
    assert again.code == 0, again.err
    [batch] = json.loads(again.out)["batches"]
    assert batch["partitions_joined_now"] == 1 and batch["packages"] == 4


def test_ship_incomplete_delivers_with_a_note_naming_what_is_missing(
    example: Path, cli: Callable[..., Result]
) -> None:
    shutil.rmtree(example / "data" / "friend_requests" / "ds=2024-06-02")
    (example / "data" / "friend_requests" / "ds=2024-06-02").mkdir()
    (example / "data" / "friend_requests" / "ds=2024-06-02" / "part-0.csv").write_text(
        'from_user_id,to_user_id\n1,2,3,4\n"x\n'
    )
    result = cli(*run_args(example, "--attempts", "1", "--ship-incomplete", "--json"))
    assert result.code == 1  # delivered, but not everything: the exit says so
    [batch] = json.loads(result.out)["batches"]
    assert batch["status"] == "done" and batch["packages"] == 4 and batch["failed_partitions"]
    files = unzip(delivered(example / "delivery")["r-7Kq2mW9xT4vBn8Lp"])
    assert (
        "ds=2024-06-02" in files["index.html"].decode()
        and "could not be read" in files["index.html"].decode()
    )
