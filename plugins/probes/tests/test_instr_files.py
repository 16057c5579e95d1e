"""File writes through open() and pathlib during a sampled request become ``file`` sinks."""

from __future__ import annotations

import builtins
import gc
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowscope import naming
from flowscope_probes.context import FAULTS, Recorder
from flowscope_probes.instrumentations import files as probe_files
from flowscope_probes.instrumentations.files import FileInstrumentation


@pytest.fixture
def inst(tmp_path: Path) -> Iterator[FileInstrumentation]:
    i = FileInstrumentation()
    i.install({"spool": str(tmp_path / "spool"), "skip_paths": [str(tmp_path / "skipped")]})
    yield i
    i.uninstall()


def asset(path: Path) -> object:
    return naming.table("file", os.path.realpath(path))


def test_writes_text_bytes_append_and_pathlib(
    inst: FileInstrumentation, rec: Recorder, tmp_path: Path
) -> None:
    a, b, c = tmp_path / "a.txt", tmp_path / "b.bin", tmp_path / "c.txt"
    with open(a, "w") as f:
        f.write("email=a@example.org\n")
        f.writelines(["x\n", "y\n"])
        print("printed", file=f)
    with open(b, "wb") as f:
        f.write(b"\x00bytes")
    c.write_text("via pathlib")
    with open(a, "a") as f:
        f.write("more")
    with open(a) as f:  # reads record nothing
        f.read()
    assert rec.sinks == [
        (asset(a), "email=a@example.org\n"),
        (asset(a), "x\n"),
        (asset(a), "y\n"),
        (asset(a), "printed"),
        (asset(a), "\n"),
        (asset(b), b"\x00bytes"),
        (asset(c), "via pathlib"),
        (asset(a), "more"),
    ]
    assert a.read_text() == "email=a@example.org\nx\ny\nprinted\nmore"


def test_skipped_folders_and_descriptors(inst: FileInstrumentation, rec: Recorder, tmp_path: Path) -> None:
    (tmp_path / "spool").mkdir()
    (tmp_path / "skipped").mkdir()
    with open(tmp_path / "spool" / "s.jsonl", "w") as f:
        f.write("spooled")
    with open(tmp_path / "skipped" / "s.txt", "w") as f:
        f.write("skipped")
    fd = os.open(tmp_path / "fd.txt", os.O_WRONLY | os.O_CREAT)
    with open(fd, "w") as f:
        f.write("by fd")
    with open(os.devnull, "w") as f:
        f.write("null")
    assert rec.sinks == []
    assert sys.prefix  # the interpreter's own folders are skipped too (see files.py)


def test_object_keeps_its_type_and_an_unclosed_file_is_flushed_at_once(
    inst: FileInstrumentation, rec: Recorder, tmp_path: Path
) -> None:
    p = tmp_path / "leak.txt"
    f = open(p, "w")  # noqa: SIM115 - the host forgets to close on purpose
    assert type(f) is io.TextIOWrapper
    f.write("unclosed")
    del f  # refcounting closes it now, as without probes (no reference cycle through the probe)
    assert p.read_text() == "unclosed"
    gc.collect()


def test_nothing_recorded_without_recorder(inst: FileInstrumentation, tmp_path: Path) -> None:
    r = Recorder("job", "/r")
    with open(tmp_path / "n.txt", "w") as f:
        f.write("quiet")
        assert "write" not in vars(f)  # files opened outside a sampled request are not touched
    assert r.sinks == []


def test_host_sees_the_same_errors(inst: FileInstrumentation, rec: Recorder, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open(tmp_path / "missing" / "x.txt", "w")  # noqa: SIM115
    with pytest.raises(ValueError, match="invalid mode"):
        open(tmp_path / "x.txt", "wz")  # noqa: SIM115
    with open(tmp_path / "t.txt", "w") as f, pytest.raises(TypeError):
        f.write(b"bytes into text")


def test_uninstall_restores_and_double_install_patches_once() -> None:
    original = builtins.open
    a, b = FileInstrumentation(), FileInstrumentation()
    a.install()
    b.install()
    assert b._patched == [] and builtins.open.__wrapped__ is original  # type: ignore[attr-defined]
    assert io.open.__wrapped__ is original  # type: ignore[attr-defined]
    a.uninstall()
    assert builtins.open is original and io.open is original


def test_probe_fault_is_counted_not_raised(
    inst: FileInstrumentation, rec: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("probe bug")

    monkeypatch.setattr(probe_files, "_watch", broken)
    before = FAULTS.counts.get("files", 0)
    with open(tmp_path / "f.txt", "w") as f:
        f.write("still written")
    assert (tmp_path / "f.txt").read_text() == "still written"
    assert FAULTS.counts["files"] == before + 1
