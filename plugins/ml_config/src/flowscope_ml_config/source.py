"""One input file, read safely: a size cap, binary detection, YAML/JSON with the line of every key.

Configs are parsed as data only (core's bounded ``safe_load``, :mod:`flowscope.yamlsafe`); Python files are handed to libcst, never imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope.errors import UserError
from flowscope.yamlpos import load_yaml_all

KeyPath = tuple[str | int, ...]


class SkipFile(Exception):
    """The file cannot be read at all (too big, binary, not UTF-8, invalid YAML); the message says why."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


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
    """One YAML document: its data and the 1-based line of each key path."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int:
        for n in range(len(path), -1, -1):
            found = self.lines.get(path[:n])
            if found is not None:
                return found
        return 1


def load_docs(text: str, source: str = "<config>") -> list[Doc]:
    """Every document of a YAML (or JSON) text, with lines; raise SkipFile with the line on bad YAML.

    Parsed by core's one YAML loader, so alias bombs, recursive aliases and deep nesting fail this file
    alone with a clear problem (limits: ``yaml:`` in flowscope.yaml, docs/configuration.md).
    """
    try:
        documents = load_yaml_all(text, source)
    except UserError as exc:
        raise SkipFile(exc.message, exc.line) from None
    return [Doc(d.data, d.lines) for d in documents]


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


Reporter = Callable[[str, int | None], None]
