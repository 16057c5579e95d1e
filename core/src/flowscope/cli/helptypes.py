"""Plain value types in ``--help``: ``TEXT``, ``INTEGER``, ``PATH``, nothing for a flag.

Recent typer versions print a parameter's Python annotation (``<bool>``, ``<list[Path]>``, ``<str>``) after
every option, flags included; users read help, not type hints. :func:`use_plain_types` swaps typer's
``display_type`` for one that says what to type, the way click always did. Older typer versions (no
``display_type``) already print plain types and are left alone.
"""

from __future__ import annotations

from typing import Any

_PLAIN = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "FLOAT",
    "path": "PATH",
    "file": "FILE",
    "directory": "DIR",
}


def plain(label: str, flag: bool) -> str:
    """``<list[Path]>`` -> ``PATH...``; ``<bool>`` of a flag -> ``""``."""
    if flag:
        return ""
    label = label.strip("<>")
    many = label.startswith("list[") and label.endswith("]")
    if many:
        label = label[5:-1]
    text = _PLAIN.get(label.lower(), label.upper() if label.isidentifier() else label)
    return text + ("..." if many else "")


def use_plain_types() -> None:
    from typer import core

    param: Any = getattr(core, "_TyperParameter", None)
    original = getattr(param, "display_type", None)
    if original is None or getattr(original, "_flowscope_plain", False):
        return

    def display_type(self: Any, ctx: Any) -> str:
        flag = bool(getattr(self, "is_flag", False) or getattr(self, "is_bool_flag", False))
        return plain(str(original(self, ctx)), flag)

    display_type._flowscope_plain = True  # type: ignore[attr-defined]
    param.display_type = display_type
