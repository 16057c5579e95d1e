"""Finding and reading source files safely: size cap, binary and non-UTF-8 detection, symlink loops.

Every file that cannot be analyzed becomes a problem naming it; the scan goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

EXTENSIONS = {
    ".php": "hack",
    ".hack": "hack",
    ".hh": "hack",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".cxx": "cpp",
    ".h": "cpp",
    ".hpp": "cpp",
    ".py": "python",
}
SKIP_DIRS = {".git", ".hg", "node_modules", "__pycache__", ".venv", ".flowscope", "buck-out"}

Report = Callable[[str, Path, int | None], None]

# Test code is skipped by default (``skip_tests``), as Bearer and Privado do: a user's email built in a
# test factory and logged in an assertion is not a flow of the product, and on real repositories such
# findings were false positives. Folders by name anywhere below a scanned root; files by the naming
# conventions of pytest/unittest, gtest and PHPUnit/HackTest.
# Not spec/specs: in many repositories those folders hold API specifications, which are product code.
TEST_DIRS = {"test", "tests", "testing", "__tests__", "fixtures", "testdata", "test_data"}
_TEST_FILES = (
    "test_*.py",
    "*_test.py",
    "*_tests.py",
    "conftest.py",
    "*_test.cc",
    "*_test.cpp",
    "*_test.cxx",
    "*_unittest.cc",
    "*_unittest.cpp",
    "*Test.php",
    "*Test.hack",
    "*Test.hh",
)


def is_test(name: str, folder: bool) -> bool:
    """Whether a folder or file name is test code by convention (case-sensitive, like the tools)."""
    if folder:
        return name.lower() in TEST_DIRS
    return any(fnmatch(name, pat) for pat in _TEST_FILES)


@dataclass
class SourceFile:
    path: Path
    language: str
    data: bytes
    text: str
    utf8: bool


def language_of(path: Path) -> str | None:
    return EXTENSIONS.get(path.suffix.lower())


_HACK_START = (b"<?hh", b"<?php", b"#!/usr/bin/env hhvm")
_CPP_WORDS = (
    b"#include",
    b"#pragma",
    b"#ifndef",
    b"#define",
    b"namespace ",
    b"template <",
    b"template<",
    b"std::",
)


def hh_language(data: bytes) -> str:
    """``.hh`` is Hack (``<?hh``) or a C++ header (folly, HHVM's own runtime): decided by the content."""
    head = data[:4096].lstrip()
    if head.startswith(_HACK_START):
        return "hack"
    return "cpp" if any(w in head for w in _CPP_WORDS) else "hack"


def walk(root: Path, exclude: list[str], report: Report, skip_tests: bool = False) -> Iterator[Path]:
    """Source files under ``root`` (or ``root`` itself), sorted, following symlinks once each.

    ``skip_tests`` leaves out test folders and files below ``root``; a root named explicitly (a test file
    or ``tests/`` itself) is always scanned: the user asked for it.
    """
    if root.is_file():
        if language_of(root):
            yield root
        return
    if not root.is_dir():
        report("no such file or folder", root, None)
        return
    seen: set[str] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder)
        if real in seen:
            report("symlink loop: folder already scanned, skipped", folder, None)
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            report(f"cannot list: {exc.strerror or exc}", folder, None)
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            if exclude:
                rel = path.relative_to(root).as_posix()
                if any(fnmatch(rel, pat) or fnmatch(entry.name, pat) for pat in exclude):
                    continue
            try:
                if entry.is_dir():
                    if entry.name not in SKIP_DIRS and not (skip_tests and is_test(entry.name, True)):
                        subdirs.append(path)
                elif entry.is_file() and EXTENSIONS.get(os.path.splitext(entry.name)[1].lower()):
                    if not (skip_tests and is_test(entry.name, False)):
                        yield path
                elif entry.is_symlink() and not path.exists():
                    report("broken or looping symlink, skipped", path, None)
            except OSError as exc:  # ELOOP on a self-referencing link
                report(f"cannot stat: {exc.strerror or exc}", path, None)
        stack.extend(reversed(subdirs))


def read(path: Path, max_bytes: int, report: Report) -> SourceFile | None:
    language = language_of(path)
    if language is None:
        return None
    try:
        size = path.stat().st_size
        if size > max_bytes:
            report(f"skipped: {size} bytes is over max_file_bytes ({max_bytes}); generated code?", path, None)
            return None
        data = path.read_bytes()
    except OSError as exc:
        report(f"cannot read: {exc.strerror or exc}", path, None)
        return None
    if path.suffix.lower() == ".hh":
        language = hh_language(data)
    if b"\0" in data[:8192]:
        report("skipped: binary file", path, None)
        return None
    try:
        text, utf8 = data.decode("utf-8"), True
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report("not UTF-8: undecodable bytes replaced, the rest analyzed", path, line)
        text, utf8 = data.decode("utf-8", "replace"), False
    return SourceFile(path, language, data, text, utf8)
