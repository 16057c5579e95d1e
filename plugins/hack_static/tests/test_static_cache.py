"""The per-file cache: a re-scan reads entries instead of analyzing; edits re-analyze what they touch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowscope.contracts import CollectContext
from flowscope.model import Signal
from flowscope_hack_static import engine
from flowscope_hack_static.collector import HackStaticCollector, Settings

HELPERS = """import logging


def audit(message):
    logging.info("audit %s", message)
"""

VIEWS = """from flask import request
from helpers import audit


def signup():
    email = request.form["email"]
    audit(email)
"""


def scan(root: Path, **kw: object) -> tuple[set[tuple[str, str, str]], list[str], HackStaticCollector]:
    settings = Settings(cache_dir=str(root.parent / "cache"), **kw)  # type: ignore[arg-type]
    ctx = CollectContext(collector="hack_static", settings=settings, base_dir=root)
    collector = HackStaticCollector()
    flows = {
        (o.job.name, str(o.source), str(o.target)) for o in collector.collect(ctx) if isinstance(o, Signal)
    }
    return flows, [str(p) for p in ctx.problems], collector


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    root.mkdir()
    (root / "helpers.py").write_text(HELPERS, encoding="utf-8")
    (root / "views.py").write_text(VIEWS, encoding="utf-8")
    return root


def count_analyses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = engine.analyze_unit

    def counting(ir, unit, models, index):  # type: ignore[no-untyped-def]
        seen.append(unit.name)
        real(ir, unit, models, index)

    monkeypatch.setattr(engine, "analyze_unit", counting)
    return seen


def test_a_rescan_of_an_unchanged_tree_analyzes_nothing(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, problems, c1 = scan(tree)
    assert ("signup", "service://python-app/request#email", "log://python/root#email") in first
    assert problems == [] and c1.stats.cache_misses == 2
    seen = count_analyses(monkeypatch)
    again, problems, c2 = scan(tree)
    assert again == first and problems == []
    assert c2.stats.cache_hits == 2 and seen == []


def test_a_changed_callee_re_analyzes_its_caller_only(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(tree)
    (tree / "helpers.py").write_text(
        HELPERS.replace('logging.info("audit %s", message)', "pass"), encoding="utf-8"
    )
    seen = count_analyses(monkeypatch)
    flows, _, c = scan(tree)
    assert flows == set(), "the helper no longer logs: the caller's flow is gone"
    assert c.stats.cache_hits == 1 and "signup" in seen and seen.count("audit") == 1
    (tree / "views.py").write_text(VIEWS + "\n\ndef unrelated():\n    return 1\n", encoding="utf-8")
    seen.clear()
    scan(tree)
    assert "audit" not in seen, "an unchanged file whose summaries nobody changed is not analyzed again"


def file_entries(tree: Path) -> list[Path]:
    """The per-file entries, with the tree's consolidated entry removed so that they are the ones read."""
    for path in (tree.parent / "cache" / "trees").glob("*.fsc"):
        path.unlink()
    return sorted(p for p in (tree.parent / "cache").rglob("*.fsc") if p.parent.name != "trees")


def test_corrupt_entries_are_a_note_and_a_miss(tree: Path) -> None:
    first, _, _ = scan(tree)
    entries = file_entries(tree)
    assert len(entries) == 2
    entries[0].write_bytes(b"\x80\x05garbage")
    entries[1].write_bytes(b"")
    again, problems, c = scan(tree)
    assert again == first and c.stats.cache_misses == 2
    assert len(problems) == 1, "one note for the scan, not one per file"
    assert "2 entries" in problems[0] and "not signed by this store" in problems[0], problems
    assert "analyzed again" in problems[0] and "rebuilt" in problems[0], problems
    _, problems, c = scan(tree)
    assert problems == [] and c.stats.cache_hits == 2, "rewritten after the miss"


def crafted_pickle(command: str) -> bytes:
    """Protocol 4: STACK_GLOBAL("os", "system"), (command,), REDUCE: unpickling it runs ``command``."""

    def text(value: str) -> bytes:
        return b"\x8c" + bytes([len(value)]) + value.encode()

    return b"\x80\x04" + text("os") + text("system") + b"\x93" + text(command) + b"\x85R."


def signed(path: Path, data: bytes) -> None:
    """Write ``data`` as this store would, signature and all (as if the store's key had leaked)."""
    from flowscope_hack_static import cache

    path.write_bytes(cache.MAGIC + cache.secret.sign(data, cache.signing_key(), path.name.encode()) + data)


def test_entries_are_data_never_code(tree: Path) -> None:
    import msgpack

    marker = tree.parent / "pwned"
    first, _, _ = scan(tree)
    entry = file_entries(tree)[0]
    entry.write_bytes(crafted_pickle(f"touch {marker}"))  # unsigned: not even decoded
    again, problems, c = scan(tree)
    assert again == first and c.stats.cache_misses == 1 and any("(Foreign)" in p for p in problems), problems
    # signed with this store's key, a pickle is still only bytes that are no entry: it never runs
    for bad in (
        crafted_pickle(f"touch {marker}"),
        msgpack.packb(msgpack.ExtType(1, b"os.system")),  # an extension type is refused, not decoded
        msgpack.packb([[], [], [], [], [[], [], None, {"__reduce__": "os.system"}]]),  # wrong shapes
        msgpack.packb([[["ns", 7, None]], [], [], [], [[], [], None, []]]),  # an asset named by a number
    ):
        scan(tree)
        entry = file_entries(tree)[0]
        signed(entry, bad)
        again, problems, c = scan(tree)
        assert again == first and c.stats.cache_misses == 1, bad
        assert len(problems) == 1 and "unreadable" in problems[0], problems
        assert not marker.exists(), "a cache entry ran a command"
    for path in (tree.parent / "cache").rglob("*.fsc"):
        assert path.read_bytes().startswith(b"FSC\x03")


def test_an_entry_decodes_to_what_was_encoded() -> None:
    """Every record of an entry and an outcome comes back equal from the plain-data codec."""
    from flowscope.model import Evidence
    from flowscope_hack_static import cachecodec
    from flowscope_hack_static.cache import Entry
    from flowscope_hack_static.engine import EMPTY, Unit
    from flowscope_hack_static.scan import Outcome
    from flowscope_hack_static.taint import Flow, Label, ParamSink, Result, Summary, asset

    detail = (("data_category", "user.contact.email"),)
    ev = Evidence("hack_static", "static", "views.py:6", "audit(email)", detail)
    hops = (ev, Evidence("hack_static", "static", "helpers.py:5", "logging.info"))
    src, dst = asset("service://python-app", "request", "email"), asset("log://python", "root", "email")
    flow = Flow("signup", src, dst, hops, False, True, ("x > 1",), False, 2)
    summary = Summary(
        frozenset({ParamSink(0, "email", dst, hops, True, False, (), True, 1)}),
        frozenset({Label(src, hops[:1], False, True, True, 3), Label(asset("param", "0"), ())}),
        ("message", "level"),
        1,
    )
    deps = {("C", "audit"): ("h.audit", "ab12"), (None, "g"): (None, None)}
    unit = Unit(3, 1, "signup", Result([flow], 2, 40, {"signup": summary}), deps, summary)  # type: ignore[arg-type]
    entry = Entry([unit, Unit(3, 0, "other")], [4, 9], ("syntax error", 7), {"User": "auth_user"})
    back = cachecodec.decode_entry(cachecodec.encode_entry(entry))
    assert back == entry and back.units[1].summary == EMPTY
    assert back.units[0].summary is back.units[0].result.summaries["signup"], "shared summaries stay shared"
    out = Outcome("views.py", [flow, flow], 1, [3], None, True, {"User": "auth_user"})
    assert cachecodec.decode_outcome(cachecodec.encode_outcome(out)) == out


def test_an_unchanged_tree_is_read_from_one_entry(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _, _ = scan(tree)
    (tree.parent / "cache" / "trees").rename(tree.parent / "trees")
    for path in (tree.parent / "cache").rglob("*.fsc"):
        path.unlink()  # only the tree's entry is left
    (tree.parent / "trees").rename(tree.parent / "cache" / "trees")
    seen = count_analyses(monkeypatch)
    again, problems, c = scan(tree)
    assert again == first and problems == [] and seen == [] and c.stats.cache_hits == 2
    (tree / "views.py").write_text(VIEWS.replace('request.form["email"]', '"x"'), encoding="utf-8")
    edited, _, c = scan(tree)
    assert edited == set() and c.stats.cache_hits == 1, "a changed file: the last outcomes are not reused"


def test_a_corrupt_or_foreign_tree_entry_is_a_note(tree: Path) -> None:
    first, _, _ = scan(tree)
    (entry,) = (tree.parent / "cache" / "trees").glob("*.fsc")
    marker = tree.parent / "pwned"
    for bad in (b"\x80\x05garbage", crafted_pickle(f"touch {marker}"), b""):
        entry.write_bytes(bad)
        again, problems, c = scan(tree)
        assert again == first and c.stats.cache_hits == 2, "the per-file entries still serve"
        assert len(problems) == 1 and "1 entry" in problems[0] and "trees" in problems[0], problems
        assert problems[0].startswith("cache: ") and "discarded" in problems[0]
    assert not marker.exists()


def test_no_cache_reads_and_writes_nothing(tree: Path) -> None:
    flows, _, c = scan(tree, cache=False)
    assert flows and c.stats.cache_hits == 0 and not (tree.parent / "cache").exists()


def test_an_unwritable_cache_is_one_note(tree: Path) -> None:
    (tree.parent / "cache").write_text("a file where the folder should be", encoding="utf-8")
    flows, problems, _ = scan(tree)
    assert flows and len(problems) == 1 and "cache not written" in problems[0]


def test_a_changed_model_pack_invalidates_entries(tree: Path, tmp_path: Path) -> None:
    scan(tree)
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "name: extra\nsinks:\n  - {call: '*audit', kind: log, system: audit, name: trail}\n", encoding="utf-8"
    )
    flows, _, c = scan(tree, models=[str(pack)])
    assert c.stats.cache_hits == 0
    assert ("signup", "service://python-app/request#email", "log://audit/trail#email") in flows


def test_a_cycle_through_a_changed_file_gives_what_a_fresh_scan_gives(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    ping = "from flask import request\nfrom pong import pong\n\ndef ping(x, n):\n    pong(x, n)\n\ndef start():\n    ping(request.form['email'], 3)\n"
    pong = "import logging\nfrom ping import ping\n\ndef pong(x, n):\n    logging.info('%s', x)\n    ping(x, n - 1)\n"
    (root / "ping.py").write_text(ping, encoding="utf-8")
    (root / "pong.py").write_text(pong, encoding="utf-8")
    first, _, _ = scan(root)
    assert ("start", "service://python-app/request#email", "log://python/root#email") in first
    (root / "pong.py").write_text(pong.replace("logging.info('%s', x)", "pass"), encoding="utf-8")
    cached, _, c = scan(root)
    fresh, _, _ = scan(root, cache=False)
    assert c.stats.cache_hits == 1 and cached == fresh == set()


def test_a_renamed_table_renames_the_flows_of_unchanged_files(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    model = "from sqlalchemy.orm import DeclarativeBase\n\nclass User(Base):\n    __tablename__ = 'users'\n"
    view = "from flask import request\nfrom models import User\n\ndef signup(session):\n    session.add(User(email=request.form['email']))\n"
    (root / "models.py").write_text(model, encoding="utf-8")
    (root / "views.py").write_text(view, encoding="utf-8")
    first, _, _ = scan(root)
    assert any(t.endswith("users#email") for _, _, t in first), first
    (root / "models.py").write_text(model.replace("'users'", "'members'"), encoding="utf-8")
    renamed, _, c = scan(root)
    fresh, _, _ = scan(root, cache=False)
    assert c.stats.cache_hits == 1 and renamed == fresh
    assert any(t.endswith("members#email") for _, _, t in renamed), renamed
    again, _, c = scan(root)
    assert again == renamed and c.stats.cache_hits == 2, "the tree's stored outcomes have the new name"


def test_the_cache_follows_the_store_option(
    tree: Path, tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    from flowscope_hack_static import plugin

    config = tree / "flowscope.yaml"
    config.write_text("plugins:\n  hack_static:\n    paths: ['.']\n")
    store = tmp_path / "elsewhere"
    pm = plugin_manager(("hack_static", plugin))
    result = run_cli(pm, "--store", str(store), "scan", "-c", str(config), "--only", "hack_static")
    assert result.exit_code == 0, result.output
    assert any(p.is_file() for p in (store / "cache" / "static").rglob("*"))
    assert not (tmp_path / "store" / "cache").exists()  # not under $FLOWSCOPE_STORE, which run_cli sets


def test_the_cache_is_kept_under_its_size_limit_least_recently_used_first(tree: Path) -> None:
    import os

    cache = tree.parent / "cache"
    first, _, _ = scan(tree, cache_max_mb=1)
    old = cache / "ab"
    old.mkdir(parents=True, exist_ok=True)
    for i in range(12):  # 1.2 MB of entries last used long ago, oldest first
        stale = old / f"stale{i:02d}.fsc"
        stale.write_bytes(b"x" * 100_000)
        os.utime(stale, (1_000_000 + i, 1_000_000 + i))
    leftover = old / "half-written.1234.tmp"
    leftover.write_bytes(b"x")
    os.utime(leftover, (1_000_000, 1_000_000))

    _, _, unchanged = scan(tree, cache_max_mb=1)  # nothing written: nothing walked, nothing evicted
    assert unchanged.stats.cache_evicted == 0 and len(list(old.glob("stale*"))) == 12

    (tree / "views.py").write_text(VIEWS + "\n\ndef other():\n    pass\n", encoding="utf-8")
    _, problems, edited = scan(tree, cache_max_mb=1)
    assert problems == []
    left = sorted(p.name for p in old.glob("stale*"))
    assert left == [f"stale{i:02d}.fsc" for i in range(12 - len(left), 12)]  # the oldest went first
    size = sum(p.stat().st_size for p in cache.rglob("*.fsc"))
    assert size <= 0.8 * (1 << 20) and not leftover.exists()
    assert edited.stats.cache_evicted == 12 - len(left) + 1

    again, _, rescan = scan(tree, cache_max_mb=1)  # what the last scan used is still there
    assert rescan.stats.cache_misses == 0 and again >= first


def test_no_size_limit_evicts_nothing(tree: Path) -> None:
    cache = tree.parent / "cache"
    scan(tree, cache_max_mb=0)
    (cache / "zz").mkdir(parents=True, exist_ok=True)
    (cache / "zz" / "big.fsc").write_bytes(b"x" * 2_000_000)
    (tree / "helpers.py").write_text(HELPERS + "\n# edited\n", encoding="utf-8")
    _, _, c = scan(tree, cache_max_mb=0)
    assert c.stats.cache_evicted == 0 and (cache / "zz" / "big.fsc").exists()


def test_entries_of_the_pickle_format_are_deleted_never_read(tree: Path) -> None:
    cache = tree.parent / "cache"
    (cache / "ab").mkdir(parents=True)
    legacy = cache / "ab" / "ab12.pkl"  # a signed pickle of the old format: never opened
    legacy.write_bytes(b"\x80\x04.")
    flows, problems, c = scan(tree)
    assert flows and problems == [] and not legacy.exists() and c.stats.cache_evicted == 1
    assert list(cache.rglob("*.fsc")), "entries are written in the new format"
