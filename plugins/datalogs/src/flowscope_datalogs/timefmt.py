"""``datetime.strftime`` for the numeric directives, without its per-call cost.

``strftime`` re-parses the format, substitutes ``%Z``/``%z``/``%f`` itself and then calls the C
library's ``strftime`` on every value: several microseconds each, the largest single cost of a package
whose rows are mostly distinct instants. :func:`compile_format` turns a format made only of
locale-independent numeric directives (``%Y %m %d %H %M %S %f %Z %z %%``) into ``%``-templates filled from
the datetime's fields (one ``attrgetter`` call each); any other directive (names of days or months,
``%p``, ``%j``, platform extensions) keeps ``strftime``. The output is the same string (a unit test
compares them over zones, DST transitions and formats); years before 1000 and offsets with seconds go
through ``strftime``, whose padding of those is platform-dependent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

_FIELDS = {
    "Y": ("year", "%04d"),
    "m": ("month", "%02d"),
    "d": ("day", "%02d"),
    "H": ("hour", "%02d"),
    "M": ("minute", "%02d"),
    "S": ("second", "%02d"),
    "f": ("microsecond", "%06d"),
}
Piece = tuple[str, Callable[[datetime], tuple[int, ...]] | None] | str  # (template, fields) or "Z"/"z"


def _pieces(fmt: str) -> list[Piece] | None:
    """Runs of numeric directives and text as ``(%-template, attrgetter)``, with ``Z``/``z`` apart."""
    pieces: list[Piece] = []
    template: list[str] = []
    fields: list[str] = []

    def close() -> None:
        if template:
            getter: Callable[[datetime], tuple[Any, ...]] | None = None
            if len(fields) > 1:
                getter = attrgetter(*fields)
            elif len(fields) == 1:
                one = attrgetter(fields[0])
                getter = lambda d: (one(d),)  # noqa: E731
            pieces.append(("".join(template), getter))
            template.clear()
            fields.clear()

    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            template.append(c)
            i += 1
            continue
        d = fmt[i + 1] if i + 1 < len(fmt) else ""
        if d == "%":
            template.append("%%")
        elif d in _FIELDS:
            name, spec = _FIELDS[d]
            template.append(spec)
            fields.append(name)
        elif d in ("Z", "z"):
            close()
            pieces.append(d)
        else:
            return None
        i += 2
    close()
    return pieces


def _offset(delta: timedelta | None) -> str | None:
    """``%z`` as strftime writes it (``+HHMM``), or None when it needs seconds (strftime's own rules)."""
    if delta is None:
        return ""
    seconds = delta.days * 86400 + delta.seconds
    if seconds % 60 or delta.microseconds:
        return None
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}{minutes:02d}"


def compile_format(fmt: str) -> Callable[[datetime], str]:
    """A function equal to ``lambda d: d.strftime(fmt)``."""
    pieces = _pieces(fmt)
    if pieces is None:
        return lambda d: d.strftime(fmt)
    if len(pieces) == 2 and pieces[1] == "Z" and not isinstance(pieces[0], str):
        template, getter = pieces[0]  # the default format: numbers, then the zone's name
        assert getter is not None

        def numbers_then_zone(d: datetime) -> str:
            if d.year < 1000:
                return d.strftime(fmt)
            return template % getter(d) + (d.tzname() or "")

        return numbers_then_zone

    def general(d: datetime) -> str:
        if d.year < 1000:
            return d.strftime(fmt)
        out = []
        for piece in pieces:
            if piece == "Z":
                out.append(d.tzname() or "")
            elif piece == "z":
                z = _offset(d.utcoffset())
                if z is None:
                    return d.strftime(fmt)
                out.append(z)
            elif isinstance(piece, tuple):
                template, getter = piece
                out.append(template % getter(d) if getter is not None else template % ())
        return "".join(out)

    return general
