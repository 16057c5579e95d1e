"""One input file, read safely: a size cap, binary detection, a time budget, YAML/JSON with key lines.

Configs are parsed as data only. YAML goes through core's bounded loader (:mod:`flowscope.yamlsafe`,
limits under ``yaml:`` in flowscope.yaml); JSON through :func:`json.loads` (C, 20 MB in well under a
second) followed by an iterative walk that enforces the same depth and node limits, so no later
recursive walk of the value can overflow. JSON key lines are found lazily, only for keys that end up as
evidence. Python files are parsed with :mod:`ast`, never imported.

A file's work is bounded in time too: :func:`tick` is called by the loops that could be long (Hydra
interpolation, pipeline DAG walks, Python statements) and raises :class:`SkipFile` once the file's budget
(``max_file_seconds``) is spent, so one pathological file costs at most its budget.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope.errors import UserError
from flowscope.yamlpos import load_yaml_all
from flowscope.yamlsafe import current_limits

KeyPath = tuple[str | int, ...]


class SkipFile(Exception):
    """The file cannot be read at all (too big, binary, not UTF-8, invalid, over a limit); says why."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


_budget = threading.local()


class budget:
    """``with budget(seconds):`` around the work on one file; :func:`tick` checks it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> budget:
        _budget.deadline = time.monotonic() + self.seconds
        _budget.seconds = self.seconds
        return self

    def __exit__(self, *exc: object) -> None:
        _budget.deadline = None


def tick() -> None:
    """Raise SkipFile when the current file's time budget is spent (cheap: one clock read)."""
    deadline = getattr(_budget, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        _budget.deadline = None
        raise SkipFile(f"skipped: parsing took longer than {_budget.seconds:g} s (max_file_seconds)")


def read_text(path: Path, max_bytes: int) -> str:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SkipFile(f"skipped: file is {size} bytes, over the max_file_bytes cap of {max_bytes}")
        raw = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"cannot read: {exc.strerror}") from None
    if b"\x00" in raw[:8192]:
        raise SkipFile("skipped: binary file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SkipFile("skipped: not UTF-8 text (binary?)") from None


@dataclass
class Doc:
    """One document: its data and the 1-based line of each key path (JSON: found on demand)."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    text: str | None = None  # JSON text, searched for the lines of keys not in ``lines``

    def line(self, path: KeyPath) -> int:
        if self.text is not None:
            return self._json_line(path)
        for n in range(len(path), -1, -1):
            found = self.lines.get(path[:n])
            if found is not None:
                return found
        return 1

    def _json_line(self, path: KeyPath) -> int:
        known = self.lines.get(path)
        if known is not None:
            return known
        text, pos = self.text or "", 0
        for part in path:
            if isinstance(part, int):
                continue
            needle = json.dumps(part)
            at = text.find(needle, pos)
            while at >= 0 and text[at + len(needle) :].lstrip(" \t\r\n")[:1] != ":":
                at = text.find(needle, at + 1)
            if at < 0:
                break
            pos = at
        line = text.count("\n", 0, pos) + 1
        self.lines[path] = line
        return line


def load_docs(text: str, source: str = "<config>") -> list[Doc]:
    """Every document of a YAML text, with lines; raise SkipFile with the line on bad YAML.

    Parsed by core's one YAML loader, so alias bombs, recursive aliases and deep nesting fail this file
    alone with a clear problem (limits: ``yaml:`` in flowscope.yaml, docs/configuration.md).
    """
    try:
        documents = load_yaml_all(text, source)
    except UserError as exc:
        raise SkipFile(exc.message, exc.line) from None
    return [Doc(d.data, d.lines) for d in documents]


def load_json(text: str) -> list[Doc]:
    """A JSON document under the YAML limits (size, depth, nodes); SkipFile names the limit or the line."""
    limits = current_limits()
    if len(text) > limits.max_bytes:
        raise SkipFile(
            f"JSON text is {len(text)} characters, over the limit of {limits.max_bytes} (yaml.max_bytes)"
        )
    try:
        data = json.loads(text)
    except RecursionError:
        raise SkipFile(f"JSON nests deeper than {limits.max_depth} levels (yaml.max_depth)") from None
    except json.JSONDecodeError as exc:
        raise SkipFile(f"invalid JSON: {exc.msg}", exc.lineno) from None
    _check_shape(data, limits.max_depth, limits.max_nodes)
    return [Doc(data, text=text)]


def _check_shape(data: Any, max_depth: int, max_nodes: int) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise SkipFile(f"JSON has more than {max_nodes} nodes (yaml.max_nodes)")
        if isinstance(value, dict):
            if depth > max_depth:
                raise SkipFile(f"JSON nests deeper than {max_depth} levels (yaml.max_depth)")
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, dict | list))
            nodes += len(value)
        elif isinstance(value, list):
            if depth > max_depth:
                raise SkipFile(f"JSON nests deeper than {max_depth} levels (yaml.max_depth)")
            stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
            nodes += len(value)


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def get(data: Any, *keys: str | int) -> Any:
    """``data[k1][k2]...`` or None when any step is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, list) or key >= len(data):
                return None
        elif not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    return data


def first(data: Any, *paths: KeyPath) -> tuple[KeyPath, Any] | None:
    """The first of ``paths`` present (and not None) in ``data``, with its value."""
    for path in paths:
        value = get(data, *path)
        if value is not None:
            return path, value
    return None


def items(value: Any) -> Iterator[tuple[str | int, Any]]:
    """List items as (index, item), mappings as (key, value); anything else as one item at index 0."""
    if isinstance(value, list):
        yield from enumerate(value)
    elif isinstance(value, Mapping):
        yield from ((str(k), v) for k, v in value.items())
    elif value is not None:
        yield 0, value


def text_of(value: Any) -> str | None:
    """A scalar as text (numbers too); None for anything else or an empty string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


Reporter = Callable[[str, int | None], None]
