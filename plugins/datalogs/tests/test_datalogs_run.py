"""The export end to end through the CLI, on the example warehouse: packages, their contents, the owner
check, permissions, lineage events and status."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from conftest import Result, delivered, run_args, unzip

from flowscope.store import Store

PARIS_USER_REQUEST = "r-7Kq2mW9xT4vBn8Lp"  # user 1001, Europe/Paris
UNKNOWN_USER_REQUEST = "r-Bv6yK1rD9fQ3sTu0"  # user 999999, in no table


def _rows(base: Path, table: str, user: int) -> list[tuple[Any, ...]]:
    ext = "csv" if table == "friend_requests" else "parquet"
    reader = "read_csv" if ext == "csv" else "read_parquet"
    owner = "from_user_id" if table == "friend_requests" else "user_id"
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT * FROM {reader}('{base}/data/{table}/**/*.{ext}') WHERE {owner} = {user}"
        ).fetchall()


def test_example_run_delivers_one_package_per_request_with_every_reviewed_table(
    example: Path, cli: Callable[..., Result]
) -> None:
    result = cli(*run_args(example, "--json"))
    assert result.code == 0, result.err
    report = json.loads(result.out)
    [batch] = report["batches"]
    assert batch["status"] == "done" and batch["requests"] == 4 and batch["packages"] == 4
    assert batch["partitions"] == 21 and not batch["failed_partitions"] and not batch["held_back"]
    packages = delivered(example / "delivery")
    assert set(packages) == {
        PARIS_USER_REQUEST,
        UNKNOWN_USER_REQUEST,
        "r-Qz3hV6cY1sJd5RfA",
        "r-Hn4tP8gXw2LmC7eZ",
    }

    files = unzip(packages[PARIS_USER_REQUEST])
    manifest = json.loads(files["manifest.json"])
    assert manifest["user_id"] == 1001 and manifest["timezone"] == "Europe/Paris"
    for name, digest in manifest["files"].items():  # every file's hash, and nothing unlisted
        assert hashlib.sha256(files[name]).hexdigest() == digest
    assert set(files) == {*manifest["files"], "manifest.json"}
    logged = {t["name"]: t["logged_rows"] for t in manifest["tables"]}
    for table in ("app_events", "photo_uploads", "friend_requests", "account_settings"):
        assert logged[table] == len(_rows(example, table, 1001)), table  # every row of theirs, no other
    events = json.loads(files["tables/app_events.json"])
    assert sum(r["times_logged"] for r in events["rows"]) == logged["app_events"]
    assert {c["name"] for c in events["columns"]} == {
        "event_time",
        "event_type",
        "client_version",
        "session_ms",
        "ds",
    }


def test_withheld_and_unreviewed_columns_never_leave_the_warehouse(
    example: Path, cli: Callable[..., Result]
) -> None:
    assert cli(*run_args(example, "--keep-intermediate")).code == 0
    files = unzip(delivered(example / "delivery")[PARIS_USER_REQUEST])
    text = b"".join(files.values()).decode("utf-8")
    device = _rows(example, "app_events", 1001)[0][4]
    assert device.startswith("dev-") and device not in text  # device_id: withheld (security)
    uploads = json.loads(files["tables/photo_uploads.json"])
    assert all("reviewed_by" not in r and "spam_score" not in r for r in uploads["rows"])
    assert "the moderator who looked at the photo" in files["index.html"].decode()  # and why it is left out
    # the intermediate Parquet holds only the owner, partition and exported columns
    [batch_dir] = (example / "state" / "batches").iterdir()
    with duckdb.connect() as con:
        cols = [
            r[0]
            for r in con.execute(
                f"DESCRIBE SELECT * FROM '{batch_dir}/joined/photo_uploads/*/*.parquet'"
            ).fetchall()
        ]
    assert set(cols) <= {"user_id", "ds", "photo_id", "uploaded_at", "caption", "location"}


def test_rendering_labels_times_in_the_users_zone_and_collapses_near_duplicates(
    example: Path, cli: Callable[..., Result]
) -> None:
    assert cli(*run_args(example)).code == 0
    files = unzip(delivered(example / "delivery")[PARIS_USER_REQUEST])
    events = list(csv.reader(io.StringIO(files["tables/app_events.csv"].decode())))
    assert events[0] == ["When", "What you did", "App version", "Time spent", "Day (UTC)", "Times"]
    labels = {
        "Opened the camera",
        "Shared a photo",
        "Liked a photo",
        "Commented on a photo",
        "Searched for someone",
        "Changed a setting",
    }
    assert {r[1] for r in events[1:]} <= labels
    assert all(r[0].endswith((" CEST", " CET")) for r in events[1:])  # Europe/Paris, not UTC
    assert any(r[3].endswith(" s") and " min " in r[3] for r in events[1:])  # durations
    # the example logs some actions twice within seconds from two app versions: shown once, counted twice
    raw = _rows(example, "app_events", 1001)
    collapsed = [r for r in events[1:] if r[5] == "2"]
    assert collapsed and len(events) - 1 < len(raw)
    assert sum(int(r[5]) for r in events[1:]) == len(raw)
    settings = json.loads(files["tables/account_settings.json"])["rows"]
    assert all(r["enabled"] in ("On", "Off") for r in settings)
    assert all(
        set(r["audiences"].split(", ")) <= {"Friends", "Friends of friends", "Everyone"} for r in settings
    )


def test_every_value_on_the_page_is_escaped_and_csv_cells_cannot_run_formulas(
    example: Path, cli: Callable[..., Result]
) -> None:
    with duckdb.connect() as con:  # a caption that tries to run script, and one a spreadsheet would run
        users = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT user_id FROM read_parquet('{example}/data/photo_uploads/**/*.parquet') "
                "WHERE caption IN ('Brunch <3', '=1+1 in my notebook') ORDER BY 1 LIMIT 2"
            ).fetchall()
        ]
    requests = example / "datalogs" / "requests.jsonl"
    requests.write_text(
        "".join(
            json.dumps(
                {"request_id": f"esc-{u}-abcdefgh", "user_id": u, "requested_at": "2024-06-12T00:00:00Z"}
            )
            + "\n"
            for u in users
        ),
        encoding="utf-8",
    )
    assert cli(*run_args(example)).code == 0
    pages = [unzip(p) for p in delivered(example / "delivery").values()]
    html = "\n".join(p["index.html"].decode() for p in pages)
    csvs = "\n".join(p["tables/photo_uploads.csv"].decode() for p in pages)
    assert "Brunch &lt;3" in html or "=1+1 in my notebook" in html
    assert "<3" not in html.replace("&lt;3", "")
    assert "&quot;famous&quot;" in html or '"famous"' not in html
    assert "<script" not in html and "default-src 'none'" in html
    if "=1+1" in csvs:
        assert "'=1+1 in my notebook" in csvs


def test_a_request_for_an_unknown_user_gets_an_empty_package_with_a_note(
    example: Path, cli: Callable[..., Result]
) -> None:
    assert cli(*run_args(example)).code == 0
    files = unzip(delivered(example / "delivery")[UNKNOWN_USER_REQUEST])
    manifest = json.loads(files["manifest.json"])
    assert all(t["rows"] == 0 for t in manifest["tables"]) and manifest["notes"]
    assert "We found no rows about you" in files["index.html"].decode()


def test_personal_data_is_private_and_package_names_are_random(
    example: Path, cli: Callable[..., Result]
) -> None:
    old = os.umask(0o022)
    try:
        assert cli(*run_args(example, "--keep-intermediate")).code == 0
    finally:
        os.umask(old)
    for root in (example / "state", example / "delivery"):
        for path in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    names = [p.stem for p in (example / "delivery").glob("*.zip")]
    assert len(names) == 4 and all(len(n) == 32 for n in names)
    requests = [
        json.loads(line) for line in (example / "datalogs" / "requests.jsonl").read_text().splitlines()
    ]
    for n in names:  # neither a request id nor a user id leads to a package (names are 192 random bits)
        assert all(r["request_id"] not in n and str(r["user_id"]) not in n for r in requests)
    first = set(names)
    (example / "delivery2").mkdir()
    other = cli(
        *run_args(example, "--state", str(example / "state2"))[:-2], "--delivery", str(example / "delivery2")
    )
    assert other.code == 0
    assert first.isdisjoint(p.stem for p in (example / "delivery2").glob("*.zip"))


def test_the_exports_own_jobs_are_valid_openlineage_and_enter_the_graph(
    example: Path,
    cli: Callable[..., Result],
    assert_valid_event: Callable[[dict[str, Any]], None],
    tmp_path: Path,
) -> None:
    events_file = example / "events.jsonl"
    assert cli(*run_args(example, "--events", str(events_file))).code == 0
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    names = [e["job"]["name"] for e in events]
    assert names[0] == "datalogs.batch" and "datalogs.requesters" in names and names[-1] == "datalogs.package"
    assert {
        f"datalogs.join.{t}" for t in ("app_events", "photo_uploads", "friend_requests", "account_settings")
    } <= set(names)
    for e in events:
        assert_valid_event(e)
    with Store.open(tmp_path / "store") as store:
        edges = store.edges(collector="datalogs")
    flows = {(e.source.name, e.source.field, e.target.name if e.target else None) for e in edges}
    assert (
        "analytics.app_events",
        "event_type",
        str((example / "state").resolve() / "intermediate" / "app_events"),
    ) in flows
    delivery = str((example / "delivery").resolve())
    assert any(
        t == delivery and s.endswith("/intermediate/photo_uploads") and f == "caption" for s, f, t in flows
    )
    assert not any(f in ("device_id", "reviewed_by", "spam_score") for _, f, _ in flows)


def test_status_shows_batches_progress_and_delivery(example: Path, cli: Callable[..., Result]) -> None:
    assert cli(*run_args(example)).code == 0
    status = cli("status", "--state", str(example / "state"), "--json")
    assert status.code == 0, status.err
    data = json.loads(status.out)
    assert data["requests"] == {"pending": 0, "batched": 0, "delivered": 4}
    [b] = data["batches"]
    assert (b["status"], b["partitions_done"], b["packages_delivered"]) == ("done", 21, 4)
    human = cli("status", "--state", str(example / "state"))
    assert "4 delivered" in human.out and b["batch"] in human.out
    again = cli(*run_args(example, "--json"))  # nothing new: no batch, nothing redone
    assert again.code == 0 and json.loads(again.out)["batches"] == []


def test_batches_respect_size_and_age_limits(example: Path, cli: Callable[..., Result]) -> None:
    waiting = cli(*run_args(example, "--batch-size", "10", "--max-age", "1000000d", "--json"))
    assert waiting.code == 0
    report = json.loads(waiting.out)
    assert report["batches"] == [] and report["pending"] == 4 and "wait for a batch" in report["waiting"]
    split = cli(*run_args(example, "--batch-size", "3", "--max-age", "1000000d", "--json"))
    report = json.loads(split.out)
    assert [b["requests"] for b in report["batches"]] == [3] and report["pending"] == 1
    aged = json.loads(cli(*run_args(example, "--batch-size", "3", "--max-age", "1d", "--json")).out)
    assert [b["requests"] for b in aged["batches"]] == [1] and aged["pending"] == 0
    assert len(delivered(example / "delivery")) == 4


def test_packages_built_by_several_processes_are_the_same_bytes(
    example: Path, cli: Callable[..., Result]
) -> None:
    """Two packaging workers, each with its own range of user ids, give what one process gives."""
    reports = {}
    for workers in ("1", "2"):
        args = run_args(example, "--json", "--workers", workers)
        args[args.index("--delivery") + 1] = str(example / f"w{workers}" / "delivery")
        args[args.index("--state") + 1] = str(example / f"w{workers}" / "state")
        result = cli(*args)
        assert result.code == 0, result.err
        [reports[workers]] = json.loads(result.out)["batches"]
    one, two = delivered(example / "w1" / "delivery"), delivered(example / "w2" / "delivery")
    assert len(one) == 4 and one == two
    for key in ("packages", "packaged_now", "rows", "unrendered_values", "renderer_errors"):
        assert reports["1"][key] == reports["2"][key], key
