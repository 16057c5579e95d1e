from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowscope.contracts import CollectContext
from flowscope.model import Signal
from flowscope_hack_static.collector import HackStaticCollector, Settings

BROKEN_HACK = """<?hh
final class C {
  public function f(): void {
    $d = $this->getRequestBody();
    Logger::log('ok', dict['u' => $d['user']]);
  }
  <<<<<<< merge conflict left in
  public function g(: void {{{
}
"""


def run(tmp_path: Path, **kw: object) -> tuple[list[Signal], list[str], HackStaticCollector]:
    ctx = CollectContext(collector="hack_static", settings=Settings(**kw), base_dir=tmp_path)  # type: ignore[arg-type]
    collector = HackStaticCollector()
    signals = [o for o in collector.collect(ctx) if isinstance(o, Signal)]
    return signals, [str(p) for p in ctx.problems], collector


def test_unparsable_hack_reports_error_regions_and_keeps_the_visible_flows(tmp_path: Path) -> None:
    (tmp_path / "c.php").write_text(BROKEN_HACK, encoding="utf-8")
    signals, problems, collector = run(tmp_path)
    assert [s.target.name for s in signals if s.target] == ["ok"]
    assert any(p.startswith("c.php:") and "parse error region" in p for p in problems), problems
    assert collector.stats.files[0].error_regions >= 1


def test_unparsable_python_is_a_problem_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import logging\n\ndef f(:\n    logging.info(x)\n", encoding="utf-8")
    signals, problems, _ = run(tmp_path)
    assert signals == []
    assert any(p.startswith("bad.py:") and "unparsable Python" in p for p in problems), problems


def test_non_utf8_is_reported_and_still_analyzed(tmp_path: Path) -> None:
    src = "<?hh\n// caf\xe9\nfunction f(): void {\n  $d = $r->getRequestBody();\n  Logger::log('c', dict['u' => $d['u']]);\n}\n"
    (tmp_path / "latin1.php").write_bytes(src.encode("latin-1"))
    signals, problems, _ = run(tmp_path)
    assert len(signals) == 1
    assert any(p.startswith("latin1.php:2: not UTF-8") for p in problems), problems


def test_huge_generated_files_are_skipped_by_the_size_cap(tmp_path: Path) -> None:
    (tmp_path / "gen.py").write_text("# @generated\n" + "logging.info(x)\n" * 5000, encoding="utf-8")
    signals, problems, _ = run(tmp_path, max_file_bytes=10_000)
    assert signals == []
    assert any(p.startswith("gen.py: skipped") and "max_file_bytes" in p for p in problems), problems


def test_binary_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "blob.cpp").write_bytes(b"\x7fELF\x00\x00\x01log(" + bytes(range(256)))
    signals, problems, _ = run(tmp_path)
    assert signals == [] and any("binary file" in p for p in problems), problems


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_symlink_loops_terminate_and_are_reported(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("import logging\n", encoding="utf-8")
    os.symlink(tmp_path, tmp_path / "src" / "loop")
    os.symlink(tmp_path / "self", tmp_path / "self")
    _, problems, collector = run(tmp_path)
    assert [f.path for f in collector.stats.files] == ["src/a.py"]
    assert any("symlink" in p for p in problems), problems


def test_a_process_pool_lowers_files_to_the_same_signals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowscope_hack_static import scan

    app = Path(__file__).resolve().parents[3] / "examples" / "photo_sharing" / "app"
    one, _, _ = run(app, workers=1)
    monkeypatch.setattr(scan, "PARALLEL_MIN_FILES", 1)
    two, problems, _ = run(app, workers=2)
    assert one == two and len(one) >= 15 and problems == []
    monkeypatch.setattr(scan.forked, "can_fork", lambda: False)  # where processes do not fork: a pool
    pooled, problems, _ = run(app, workers=2)
    assert pooled == one and problems == []


def test_too_deeply_nested_code_is_a_problem_and_the_other_files_still_count(tmp_path: Path) -> None:
    # tree-sitter parses any depth; lowering recurses, and stops at Python's recursion limit
    deep = "void f() { x = " + "(" * 3000 + "y" + ")" * 3000 + "; scribe_->log(x); }\n"
    (tmp_path / "deep.cpp").write_text(deep, encoding="utf-8")
    (tmp_path / "c.php").write_text(BROKEN_HACK, encoding="utf-8")
    signals, problems, _ = run(tmp_path)
    assert [s.target.name for s in signals if s.target] == ["ok"]
    assert any(p.startswith("deep.cpp") and "too deeply nested" in p for p in problems), problems


def test_hh_files_are_hack_or_cpp_by_content(tmp_path: Path) -> None:
    from flowscope_hack_static.scanner import read

    (tmp_path / "a.hh").write_text("<?hh\nfunction f(): void {}\n", encoding="utf-8")
    (tmp_path / "b.hh").write_text(
        "#pragma once\n#include <string>\nnamespace x { int f(); }\n", encoding="utf-8"
    )
    seen = {p.name: read(p, 10**6, lambda *a: None) for p in (tmp_path / "a.hh", tmp_path / "b.hh")}
    assert {k: v.language for k, v in seen.items() if v} == {"a.hh": "hack", "b.hh": "cpp"}
