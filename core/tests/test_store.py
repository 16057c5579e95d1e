"""The embedded store: opening, replace semantics, merging across scopes, atomicity, concurrent readers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

import pytest

from flowscope import scoring
from flowscope.errors import UserError
from flowscope.merge import merge_edges, merge_signals
from flowscope.model import Asset, AssetInfo, Evidence, Job, Signal, SourceLocation, Transformation
from flowscope.store import Store
from flowscope.store.write import BULK_MIN

USERS = Asset("postgres://db:5432", "app.public.users")
EMAIL = USERS.with_field("email")
STAGING = Asset("hive://metastore:9083", "staging.users")
STAGING_EMAIL = STAGING.with_field("email")
LOG = Asset("log://default", "signup_events")
ETL = Job(
    "flowscope://sql",
    "etl/users.sql",
    sql="INSERT INTO staging.users SELECT lower(email) FROM app.public.users",
    source=SourceLocation(
        "etl/users.sql", "git", repo_url="https://github.com/acme/etl.git", version="4f2c9e1"
    ),
)
T0 = datetime(2024, 5, 1, tzinfo=UTC)
T1 = datetime(2024, 5, 7, tzinfo=UTC)


def edges_of(collector: str, *signals: Signal) -> list[Any]:
    return merge_signals([(collector, s) for s in signals])


def sql_signal(source: Asset = EMAIL, target: Asset | None = STAGING_EMAIL, line: int = 3) -> Signal:
    return Signal(
        "sql",
        ETL,
        source,
        target,
        Transformation("DIRECT", "TRANSFORMATION", description="lower(email)"),
        (Evidence("sql", "sql", f"etl/users.sql:{line}", "lower(email)", (("statement", "1"),)),),
        guard="country = 'DE'",
        count=3,
        first_seen=T0,
        last_seen=T1,
    )


def static_signal(source: Asset = EMAIL, target: Asset | None = STAGING_EMAIL) -> Signal:
    return Signal("static", ETL, source, target, evidence=(Evidence("static", "static", "app/signup.py:88"),))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / ".flowscope") as s:
        yield s


def test_open_creates_folder_and_wal_database(tmp_path: Path) -> None:
    folder = tmp_path / "nested" / ".flowscope"
    with Store.open(folder) as s:
        assert s.path == folder / "lineage.db"
    conn = sqlite3.connect(folder / "lineage.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,)]


def test_corrupt_database_is_a_user_error_and_left_untouched(tmp_path: Path) -> None:
    folder = tmp_path / ".flowscope"
    folder.mkdir()
    junk = os.urandom(8192)
    (folder / "lineage.db").write_bytes(junk)
    with pytest.raises(UserError) as err:
        Store.open(folder)
    assert str(folder / "lineage.db") in str(err.value)
    assert "not a usable flowscope store" in str(err.value)
    assert "\n" not in str(err.value)
    assert (folder / "lineage.db").read_bytes() == junk


def test_other_sqlite_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / ".flowscope"
    folder.mkdir()
    other = sqlite3.connect(folder / "lineage.db")
    other.execute("CREATE TABLE photos (id INTEGER)")
    other.commit()
    other.close()
    with pytest.raises(UserError, match="not a flowscope store"):
        Store.open(folder)
    assert sqlite3.connect(folder / "lineage.db").execute("SELECT name FROM sqlite_master").fetchall() == [
        ("photos",)
    ]


def test_store_location_under_a_file_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(UserError, match="cannot create the store folder") as err:
        Store.open(tmp_path / "afile" / ".flowscope")
    assert str(tmp_path / "afile" / ".flowscope") in str(err.value)
    with pytest.raises(UserError, match="not a folder"):
        Store.open(tmp_path / "afile")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permission bits")
def test_unwritable_folder_is_a_user_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(UserError, match="the store folder is not writable") as err:
            Store.open(folder)
        assert str(folder) in str(err.value)
        assert not (folder / "lineage.db").exists()
    finally:
        folder.chmod(0o700)


def test_round_trip_keeps_every_detail(store: Store) -> None:
    edges = edges_of("sql", sql_signal())
    store.replace(
        "sql", "repo", edges, [AssetInfo(USERS, (("email", "text"),), ("pii",), "users")], [{"a": 1}]
    )
    (got,) = store.edges()
    want = edges[0]
    assert (got.job, got.source, got.target, got.confidence) == (want.job, want.source, want.target, 0.9)
    assert got.job.sql == ETL.sql and got.job.source == ETL.source
    assert got.bases == want.bases and got.transformations == want.transformations
    assert got.evidence == want.evidence and got.guards == {"country = 'DE'"}
    assert (got.count, got.first_seen, got.last_seen, got.collectors) == (3, T0, T1, {"sql"})
    info = store.asset_info(USERS)
    assert info is not None and info.fields == (("email", "text"),) and info.tags == ("pii",)
    assert list(store.events()) == [{"a": 1}]


def test_rescan_replaces_and_other_scopes_stay(store: Store) -> None:
    store.replace("sql", "repo-a", edges_of("sql", sql_signal(), sql_signal(EMAIL, None)), [], [{"n": 1}])
    store.replace("sql", "repo-b", edges_of("sql", sql_signal(USERS, LOG)), [], [{"n": 2}])
    assert len(store.edges()) == 3
    store.replace("sql", "repo-a", edges_of("sql", sql_signal()), [], [{"n": 3}])
    keys = {(e.source, e.target) for e in store.edges()}
    assert keys == {(EMAIL, STAGING_EMAIL), (USERS, LOG)}
    assert [e["n"] for e in store.events()] == [2, 3]
    assert store.scopes() == [("sql", "repo-a"), ("sql", "repo-b")]
    assert [e.target for e in store.edges(scope="repo-b")] == [LOG]


def test_same_key_from_two_collectors_is_merged_by_merge_edges(store: Store) -> None:
    sql_edges = edges_of("sql", sql_signal())
    static_edges = edges_of("static", static_signal())
    store.replace("sql", "repo", sql_edges, [], [])
    store.replace("static", "repo", static_edges, [], [])
    (got,) = store.edges()
    (want,) = merge_edges(sql_edges + static_edges)
    assert got.confidence == want.confidence == scoring.score(want.bases)
    assert got.confidence not in (sql_edges[0].confidence, static_edges[0].confidence)
    assert got.collectors == {"sql", "static"} and len(got.evidence) == 2
    # The traversal reads the same merged number.
    ids = store.lookup(EMAIL)
    assert ids is not None
    assert {r[4] for r in store.adjacent([ids], "down")} == {want.confidence}
    # Dropping one collector's scope brings the other's own score back.
    store.replace("sql", "repo", [], [], [])
    assert [e.confidence for e in store.edges()] == [static_edges[0].confidence]
    assert {r[4] for r in store.adjacent([ids], "down")} == {static_edges[0].confidence}


def test_a_sampled_jobs_lowered_static_edge_stays_lowered_when_merged(store: Store) -> None:
    lowered = merge_signals([("static", static_signal())], {ETL.key: 500})
    assert lowered[0].confidence == scoring.UNOBSERVED
    store.replace("static", "repo", lowered, [], [])
    store.replace("static2", "repo", edges_of("static2", static_signal()), [], [])
    assert [e.confidence for e in store.edges()] == [scoring.UNOBSERVED]


def test_job_samples_are_kept_per_scope_and_replaced_with_it(store: Store, tmp_path: Path) -> None:
    job = ("service://api", "signup")
    store.replace("probes", "repo", [], [], [], {job: 120})
    store.replace("probes", "other", [], [], [], {job: 7})
    store.replace("sql", "repo", [], [], [])
    assert store.job_samples("repo") == {"probes": {job: 120}}
    store.replace("probes", "repo", [], [], [], {("service://api", "login"): 3})
    assert store.job_samples("repo") == {"probes": {("service://api", "login"): 3}}
    assert store.job_samples("other") == {"probes": {job: 7}}


def test_a_store_written_before_job_samples_gets_the_table(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s") as s:
        s.replace("probes", "repo", [], [], [], {("service://api", "signup"): 5})
    conn = sqlite3.connect(tmp_path / "s" / "lineage.db")
    conn.execute("DROP TABLE job_samples")
    conn.commit()
    conn.close()
    with Store.open(tmp_path / "s") as s:  # opened as an older flowscope left it: the table comes back
        assert s.job_samples("repo") == {}
        s.replace("probes", "repo", [], [], [], {("service://api", "signup"): 6})
        assert s.job_samples("repo") == {"probes": {("service://api", "signup"): 6}}


def test_assets_listing_and_garbage_collection(store: Store) -> None:
    store.replace("sql", "repo", edges_of("sql", sql_signal()), [AssetInfo(USERS, (("id", "bigint"),))], [])
    listed = {i.asset: i for i in store.assets()}
    assert set(listed) == {USERS, STAGING}
    assert listed[USERS].fields == (("id", "bigint"), ("email", ""))
    assert [i.asset for i in store.assets("EMAIL")] == [STAGING, USERS]
    assert [i.asset for i in store.assets("hive")] == [STAGING]
    store.replace("sql", "repo", edges_of("sql", sql_signal(USERS, LOG)), [], [])
    assert {i.asset for i in store.assets()} == {USERS, LOG}
    assert store.lookup(EMAIL) is None and store.lookup(STAGING) is None


def test_readers_lists_pure_reads(store: Store) -> None:
    store.replace("sql", "repo", edges_of("sql", sql_signal(EMAIL, None)), [], [])
    assert store.readers() == {USERS: [ETL.key]}
    assert [e.target for e in store.reads(USERS)] == [None]


class Exploding(Sequence[Any]):
    """A sequence of edges that runs ``action`` when iteration reaches item ``at``."""

    def __init__(self, items: list[Any], at: int, action: Callable[[], None]) -> None:
        self.items, self.at, self.action = items, at, action

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        return self.items[i]

    def __iter__(self) -> Iterator[Any]:
        for n, item in enumerate(self.items):
            if n == self.at:
                self.action()
            yield item


def many_edges(n: int, collector: str = "bench") -> list[Any]:
    job = Job("flowscope://sql", "bulk")
    signals = [
        (
            collector,
            Signal(
                "sql", job, Asset("hive://m", f"t{i // 10}", f"c{i % 10}"), Asset("hive://m", "sink", f"c{i}")
            ),
        )
        for i in range(n)
    ]
    return merge_signals(signals)


def index_names(store: Store) -> set[str]:
    conn = sqlite3.connect(store.path)
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def state(store: Store) -> list[tuple[str, str, float]]:
    return [(e.source.id, e.target.id if e.target else "", e.confidence) for e in store.edges()]


@pytest.mark.parametrize("n", [1_000, BULK_MIN + 5_000], ids=["small", "bulk"])
def test_exception_mid_insert_keeps_previous_state(store: Store, n: int) -> None:
    store.replace("sql", "repo", edges_of("sql", sql_signal()), [], [{"v": 1}])
    before = state(store)

    def boom() -> None:
        raise RuntimeError("collector crashed")

    with pytest.raises(RuntimeError, match="collector crashed"):
        store.replace("sql", "repo", Exploding(many_edges(n), n - 10, boom), [], [{"v": 2}])
    assert state(store) == before
    assert list(store.events()) == [{"v": 1}]
    indexes = {
        r[0] for r in sqlite3.connect(store.path).execute("SELECT name FROM sqlite_master WHERE type='index'")
    }
    assert {"edges_down", "edges_up"} <= indexes
    store.replace("sql", "repo", many_edges(100), [], [])  # and the store still takes writes
    assert len(store.edges()) == 100


def test_killed_write_keeps_previous_state(tmp_path: Path) -> None:
    folder = tmp_path / ".flowscope"
    with Store.open(folder) as s:
        s.replace("sql", "repo", edges_of("sql", sql_signal()), [], [])
        before = state(s)
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from test_store import Exploding, many_edges
        from flowscope.store import Store
        store = Store.open(Path({str(folder)!r}))
        edges = many_edges(80_000)
        store.replace("sql", "repo", Exploding(edges, 70_000, lambda: os.kill(os.getpid(), signal.SIGKILL)), [], [])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=900)
    assert proc.returncode == -9, proc.stderr.decode()
    with Store.open(folder) as s:
        assert state(s) == before
        assert {"edges_down", "edges_up"} <= index_names(s)  # the bulk load had dropped them
        s.replace("sql", "repo", many_edges(10), [], [])
        assert len(s.edges()) == 10


def test_readers_see_the_old_state_while_a_scan_writes(tmp_path: Path) -> None:
    folder = tmp_path / ".flowscope"
    writer = Store.open(folder)
    reader = Store.open(folder)
    writer.replace("sql", "repo", edges_of("sql", sql_signal()), [], [])
    before = state(reader)
    seen: list[Any] = []

    def read_now() -> None:
        seen.append(state(reader))
        seen.append([i.asset for i in reader.assets()])

    writer.replace("sql", "repo", Exploding(many_edges(BULK_MIN + 1_000), BULK_MIN, read_now), [], [])
    assert seen == [before, [STAGING, USERS]]
    assert len(reader.edges()) == BULK_MIN + 1_000
    writer.close()
    reader.close()


def test_lookup_many_finds_stored_assets_in_one_call(store: Store) -> None:
    store.replace("sql", "repo", edges_of("sql", sql_signal(), sql_signal(STAGING_EMAIL, LOG)), [], [])
    stored = [EMAIL, STAGING_EMAIL, LOG, STAGING, USERS]
    ghost = Asset("pg://nowhere", "none", "x")
    found = store.lookup_many([*stored, ghost, stored[0].dataset])
    assert ghost not in found
    for a in [*stored, stored[0].dataset]:
        assert found[a] == store.lookup(a)


def test_tags_lists_every_tagged_dataset_and_field_merged_over_scopes(tmp_path: Path) -> None:
    photos = Asset("mysql://db:3306", "app.photos")
    loc = photos.with_field("location")
    with Store.open(tmp_path / "s") as s:
        s.replace(
            "declared", "a", [], [AssetInfo(photos, tags=("pii",)), AssetInfo(loc, tags=("location",))], []
        )
        s.replace(
            "ingest", "b", [], [AssetInfo(loc, tags=("location", "data_category:user.location.precise"))], []
        )
        s.replace("ingest", "c", [], [AssetInfo(photos.with_field("caption"))], [])  # no tags: not listed
        assert s.tags() == {
            photos: ("pii",),
            loc: ("location", "data_category:user.location.precise"),
        }


def test_new_assets_get_ids_in_name_order_whatever_the_hash_seed(store: Store) -> None:
    """Ids decide how walks break ties between equally confident paths; they must not follow string
    hashing, which changes with every process."""
    b, a = Asset("pg://db", "b", "x"), Asset("pg://db", "a", "x")
    store.replace("sql", "repo", edges_of("sql", sql_signal(b, a), sql_signal(a, b)), [], [])
    ids = store.lookup_many([a, b, a.dataset, b.dataset])
    assert ids[a.dataset][0] < ids[b.dataset][0] and ids[a][0] < ids[b][0]
