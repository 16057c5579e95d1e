"""Checked access to a parsed declared-flows file: every failure names the key path and its line."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from flowscope.yamlpos import Document, KeyPath, dotted, show, suggest, type_name

ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class SpecError(Exception):
    """One invalid entry. Caught per asset, job or flow so the rest of the file still loads."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Reader:
    """A file's document plus helpers that turn bad values into :class:`SpecError` at the right line."""

    doc: Document
    source: str  # the file as errors and evidence name it, relative to the config's folder

    def error(self, path: KeyPath, message: str) -> SpecError:
        prefix = f"{dotted(path)}: " if path else ""
        return SpecError(prefix + message, self.doc.line_of(path))

    def line(self, path: KeyPath) -> int:
        return self.doc.line_of(path) or 1

    def where(self, path: KeyPath) -> str:
        return f"{self.source}:{self.line(path)}"

    def mapping(
        self, path: KeyPath, value: Any, allowed: Collection[str], required: Collection[str] = ()
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, f"expected a mapping, got {show(value)}")
        for key in value:
            if str(key) not in allowed:
                raise self.error((*path, str(key)), "unknown key" + suggest(str(key), allowed))
        for key in required:
            if value.get(key) is None:
                raise self.error(path, f"missing required key {key!r}")
        return {str(k): v for k, v in value.items()}

    def string(self, path: KeyPath, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(path, f"expected a string, got {show(value)}")
        text = str(value).strip()
        if not text:
            raise self.error(path, "must not be empty")
        return text

    def optional_string(self, path: KeyPath, value: Any) -> str:
        return "" if value is None else self.string(path, value)

    def boolean(self, path: KeyPath, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, f"expected true or false, got {show(value)}")
        return value

    def strings(self, path: KeyPath, value: Any) -> list[str]:
        """One string or a list of them (``tags: pii`` and ``tags: [pii, location]`` both work)."""
        if value is None:
            return []
        if isinstance(value, list):
            return [self.string((*path, i), v) for i, v in enumerate(value)]
        return [self.string(path, value)]

    def identifier(self, path: KeyPath, value: Any, what: str) -> str:
        text = self.string(path, value)
        if not ID_RE.match(text):
            raise self.error(path, f"{what} id {text!r} must be letters, digits, '_' or '-' (no dots)")
        return text

    def entries(self, key: str) -> list[tuple[KeyPath, Any]]:
        """The items of a top-level list (``flows``) or mapping (``assets``, ``jobs``), with their paths."""
        data = self.doc.data if isinstance(self.doc.data, Mapping) else {}
        value = data.get(key)
        if value is None:
            return []
        if key == "flows":
            if not isinstance(value, list):
                raise self.error((key,), f"expected a list, got {type_name(value)}")
            return [((key, i), v) for i, v in enumerate(value)]
        if not isinstance(value, Mapping):
            raise self.error((key,), f"expected a mapping of id -> {key[:-1]}, got {type_name(value)}")
        return [((key, str(k)), v) for k, v in value.items()]
