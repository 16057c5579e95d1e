"""Files are lowered and analyzed in batches: the outcome of each file does not depend on the batch size."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowscope_hack_static import scan
from flowscope_hack_static.packs import load_models
from flowscope_hack_static.scan import FileJob, analyze_files

CORPUS = Path(__file__).resolve().parents[1] / "bench" / "corpus"


def jobs() -> list[FileJob]:
    out = []
    for path in sorted(CORPUS.rglob("*")):
        lang = {".php": "hack", ".py": "python", ".cpp": "cpp", ".cc": "cpp"}.get(path.suffix)
        if lang:
            data = path.read_bytes()
            out.append(FileJob(lang, data, data.decode(), True, path.name))
    broken = b"def f(:\n"  # a Python file libcst cannot parse, in the middle of the batch
    out.insert(3, FileJob("python", broken, broken.decode(), True, "broken.py"))
    return out


def outcomes(monkeypatch: pytest.MonkeyPatch, batch: int) -> list[tuple[str, list[str], object]]:
    monkeypatch.setattr(scan, "BATCH", batch)
    return [
        (o.rel, sorted(f"{f.source} -> {f.target}" for f in o.flows), o.problem)
        for o in analyze_files(jobs(), load_models([]), workers=1)
    ]


def test_each_file_keeps_its_own_outcome_whatever_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    one = outcomes(monkeypatch, 1)
    assert outcomes(monkeypatch, 5) == one
    assert outcomes(monkeypatch, 32) == one
    by_file = {rel: (flows, problem) for rel, flows, problem in one}
    assert by_file["broken.py"][1] is not None and by_file["broken.py"][0] == []
    assert len(one) == len(jobs()) and all(
        by_file[rel][0] for rel in ("ProfileController.php", "geo_client.cpp")
    )
