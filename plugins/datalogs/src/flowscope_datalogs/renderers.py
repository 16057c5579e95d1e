"""The built-in renderers: raw warehouse value -> what a person reads.

They are registered through core's ``register_renderers`` hook like any plugin's (see ``plugin.py``), so
a catalog names ``enum`` or a plugin's ``distance`` the same way. Each is a pure function of the value and
its options (``timezone`` added by the export): the same text on every engine and every run.

``check_options`` is this module's own addition: ``datalogs check`` calls it, when a renderer has it, to
report a bad option with the catalog's file and line before any run. So is ``compile(options)``: the
packager calls it, when a renderer has it, once per column and time zone, and renders every value of
that column through the function it returns, which must give exactly what ``render(value, options)``
gives (a unit test compares them). It reads the options once (the enum's labels become one dict, the
time zone and format are looked up once) instead of once per value: a package renders tens of
thousands of values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flowscope_datalogs.kinds import raw_text
from flowscope_datalogs.timefmt import compile_format

Render = Callable[[object], str]
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}


def _unit(options: Mapping[str, Any], default: str) -> float:
    unit = str(options.get("unit", default))
    if unit not in _UNITS:
        raise ValueError(f"unknown unit {unit!r} (expected one of {', '.join(_UNITS)})")
    return _UNITS[unit]


def _only(options: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in options:
        if key not in allowed:
            raise ValueError(f"unknown option {key!r} (expected one of {', '.join(allowed) or 'none'})")


@dataclass(frozen=True)
class TextRenderer:
    name: str = "text"

    def check_options(self, options: Mapping[str, Any]) -> None:
        _only(options, ())

    def render(self, value: object, options: Mapping[str, Any]) -> str:
        return raw_text(value)

    def compile(self, options: Mapping[str, Any]) -> Render:
        return raw_text


@dataclass(frozen=True)
class NumberRenderer:
    """Numbers with an optional unit and a fixed number of decimals (``decimals``, ``unit``)."""

    name: str = "number"

    def check_options(self, options: Mapping[str, Any]) -> None:
        _only(options, ("decimals", "unit"))
        d = options.get("decimals")
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 12):
            raise ValueError("decimals must be an integer from 0 to 12")

    def render(self, value: object, options: Mapping[str, Any]) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValueError(f"not a number: {value!r}")
        decimals = options.get("decimals")
        if isinstance(value, float) and not math.isfinite(value):
            text = str(value)
        elif decimals is not None:
            text = f"{value:,.{int(decimals)}f}"
        elif isinstance(value, float):
            text = f"{value:,.15g}" if abs(value) < 1e15 else repr(value)
        else:
            text = f"{value:,}"
        unit = options.get("unit")
        return f"{text} {unit}" if unit else text


@dataclass(frozen=True)
class EnumRenderer:
    """An integer or internal constant -> a label (``values: {1: Opened the camera}``)."""

    name: str = "enum"

    def check_options(self, options: Mapping[str, Any]) -> None:
        _only(options, ("values",))
        values = options.get("values")
        if not isinstance(values, Mapping) or not values:
            raise ValueError("values must map each stored value to its label")
        for k, v in values.items():
            if not isinstance(v, str) or not v:
                raise ValueError(f"the label of {k!r} must be a non-empty string")

    def render(self, value: object, options: Mapping[str, Any]) -> str:
        if value is None:
            return ""
        values = options.get("values") or {}
        key = raw_text(value)
        for k, label in values.items():
            if raw_text(k) == key:
                return str(label)
        raise ValueError(f"no label for {key!r}")

    def compile(self, options: Mapping[str, Any]) -> Render:
        labels: dict[str, str] = {}
        for k, label in (options.get("values") or {}).items():
            labels.setdefault(raw_text(k), str(label))  # the first key that prints the same wins, as above

        def render(value: object) -> str:
            if value is None:
                return ""
            key = raw_text(value)
            label = labels.get(key)
            if label is None:
                raise ValueError(f"no label for {key!r}")
            return label

        return render


@dataclass(frozen=True)
class TimestampRenderer:
    """An instant in the person's time zone (``format``, strftime; ``unit`` for epoch numbers)."""

    name: str = "timestamp"
    default_format: str = "%Y-%m-%d %H:%M:%S %Z"

    def check_options(self, options: Mapping[str, Any]) -> None:
        _only(options, ("format", "unit", "timezone"))
        _unit(options, "s")

    def render(self, value: object, options: Mapping[str, Any]) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            raise ValueError(f"not a time: {value!r}")
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise ValueError(f"not a time: {value!r}")
            value = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=value * _unit(options, "s"))
        if not isinstance(value, datetime):
            raise ValueError(f"not a time: {value!r}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        zone = ZoneInfo(str(options.get("timezone") or "UTC"))
        return value.astimezone(zone).strftime(str(options.get("format") or self.default_format))

    def compile(self, options: Mapping[str, Any]) -> Render:
        zone = ZoneInfo(str(options.get("timezone") or "UTC"))
        fmt = compile_format(str(options.get("format") or self.default_format))
        unit = _unit(options, "s")
        epoch = datetime(1970, 1, 1, tzinfo=UTC)

        def render(value: object) -> str:
            if type(value) is datetime and value.tzinfo is not None:  # what the export hands over
                return fmt(value.astimezone(zone))
            if value is None:
                return ""
            if isinstance(value, bool):
                raise ValueError(f"not a time: {value!r}")
            if isinstance(value, int | float):
                if not math.isfinite(value):
                    raise ValueError(f"not a time: {value!r}")
                value = epoch + timedelta(seconds=value * unit)
            if not isinstance(value, datetime):
                raise ValueError(f"not a time: {value!r}")
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return fmt(value.astimezone(zone))

        return render


@dataclass(frozen=True)
class DateRenderer:
    name: str = "date"

    def check_options(self, options: Mapping[str, Any]) -> None:
        _only(options, ("format", "timezone"))

    def render(self, value: object, options: Mapping[str, Any]) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value)
        if not isinstance(value, date):
            raise ValueError(f"not a date: {value!r}")
        return value.strftime(str(options.get("format") or "%Y-%m-%d"))


@dataclass(frozen=True)
class DurationRenderer:
    """A number of ``unit`` (default seconds) as ``1 h 2 min 3 s``."""

    name: str = "duration"

    def check_options(self, options: Mapping[str, Any]) -> None:
        _only(options, ("unit",))
        _unit(options, "s")

    def render(self, value: object, options: Mapping[str, Any]) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValueError(f"not a duration: {value!r}")
        seconds = float(value) * _unit(options, "s")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"not a duration: {value!r}")
        if seconds < 1:
            return f"{round(seconds * 1000)} ms"
        total = round(seconds)
        parts = []
        for size, label in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
            n, total = divmod(total, size)
            if n:
                parts.append(f"{n} {label}")
        return " ".join(parts)

    def compile(self, options: Mapping[str, Any]) -> Render:
        unit = _unit(options, "s")
        finite = math.isfinite

        def render(value: object) -> str:
            if value is None:
                return ""
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                raise ValueError(f"not a duration: {value!r}")
            seconds = float(value) * unit
            if not finite(seconds) or seconds < 0:
                raise ValueError(f"not a duration: {value!r}")
            if seconds < 1:
                return f"{round(seconds * 1000)} ms"
            days, rest = divmod(round(seconds), 86400)
            hours, rest = divmod(rest, 3600)
            minutes, secs = divmod(rest, 60)
            parts = []
            if days:
                parts.append(f"{days} d")
            if hours:
                parts.append(f"{hours} h")
            if minutes:
                parts.append(f"{minutes} min")
            if secs:
                parts.append(f"{secs} s")
            return " ".join(parts)

        return render


@dataclass(frozen=True)
class BooleanRenderer:
    name: str = "boolean"

    def check_options(self, options: Mapping[str, Any]) -> None:
        _only(options, ("true", "false"))

    def render(self, value: object, options: Mapping[str, Any]) -> str:
        if value is None:
            return ""
        if not isinstance(value, bool):
            raise ValueError(f"not a yes/no value: {value!r}")
        return str(options.get("true", "Yes")) if value else str(options.get("false", "No"))


@dataclass(frozen=True)
class ListRenderer:
    """Each item with the ``item`` renderer (built-ins only, default text), joined by ``separator``."""

    name: str = "list"

    def check_options(self, options: Mapping[str, Any]) -> None:
        _only(options, ("item", "item_options", "separator"))
        item = options.get("item", "text")
        if item not in BUILTINS or item == "list":
            raise ValueError(f"item must be a built-in renderer other than list, got {item!r}")
        BUILTINS[str(item)].check_options(options.get("item_options") or {})

    def render(self, value: object, options: Mapping[str, Any]) -> str:
        if value is None:
            return ""
        if not isinstance(value, list):
            raise ValueError(f"not a list: {value!r}")
        item = BUILTINS[str(options.get("item", "text"))]
        item_options = {**(options.get("item_options") or {}), "timezone": options.get("timezone", "UTC")}
        return str(options.get("separator", ", ")).join(item.render(v, item_options) for v in value)


BUILTINS: dict[str, Any] = {
    r.name: r
    for r in (
        TextRenderer(),
        NumberRenderer(),
        EnumRenderer(),
        TimestampRenderer(),
        DateRenderer(),
        DurationRenderer(),
        BooleanRenderer(),
        ListRenderer(),
    )
}
