"""Plain text, numbers, flags and paths from the command line without pydantic.

typer 0.29 turns every argument into its Python type through a pydantic ``TypeAdapter``: importing pydantic
and building the adapters cost 0.25-0.4 s of CPU on each command, more than everything else a lineage query
does. For the parameters flowscope's commands mostly have — text, flags, paths, and integers or floats with
an optional ``min``/``max`` — :func:`use_light_coercion` converts values the way click always did, with
click's messages (paths still go through typer's own checks, handed a ``Path`` so they need no pydantic);
every other parameter (choices, lists, files, custom parsers) keeps typer's own conversion. Older typer versions (no runtime parameters) convert without pydantic already and are
left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off", ""}


def _range_text(lo: Any, hi: Any) -> str:
    if lo is not None and hi is not None:
        return f"{lo}<=x<={hi}"
    return f"x>={lo}" if lo is not None else f"x<={hi}"


def convert(annotation: type, info: Any, value: Any) -> Any:
    """``value`` (text from the command line, or a default) as ``annotation``; ValueError with click's
    message when it is not one."""
    if annotation is str:
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(f"{value!r} is not a valid boolean.")
    if isinstance(value, annotation) and not isinstance(value, bool):
        number = value
    else:
        try:
            number = annotation(str(value).strip())
        except ValueError:
            kind = "integer" if annotation is int else "float"
            raise ValueError(f"{value!r} is not a valid {kind}.") from None
    lo, hi = info.min, info.max
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise ValueError(f"{number} is not in the range {_range_text(lo, hi)}.")
    return number


def _kind(descriptor: Any) -> str | None:
    """ "plain" (str, int, float, bool), "path" (a Path, typer's checks), or None (typer's conversion)."""
    info = descriptor.parameter_info
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return None
    if getattr(info, "clamp", False) or descriptor.is_file or descriptor.is_choice or descriptor.is_list:
        return None
    if descriptor.annotation is Path and getattr(info, "path_type", None) in (None, Path):
        return "path"
    if descriptor.annotation in (str, int, float, bool) and not descriptor.is_path:
        return "plain"
    return None


def use_light_coercion() -> None:
    """Give typer's parameters of plain types a converter that needs no pydantic (idempotent)."""
    try:
        from typer import _coercion, core
        from typer._click.exceptions import BadParameter
        from typer._param_types import coerce_cli_path
    except ImportError:  # an older typer: click's own types, no pydantic
        return
    param_class: Any = getattr(core, "_TyperParameter", None)
    base: Any = getattr(_coercion, "RuntimeParam", None)
    original = getattr(param_class, "get_runtime_param", None)
    if base is None or original is None or getattr(original, "_flowscope_light", False):
        return

    class Plain(base):  # type: ignore[misc]
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return convert(self.annotation, self.parameter_info, value)
            except ValueError as exc:
                raise BadParameter(str(exc), ctx=ctx, param=param) from None

    class PlainPath(base):  # type: ignore[misc]
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            path = value if isinstance(value, Path) else Path(value)
            return coerce_cli_path(path, self.parameter_info, path_type=Path, param=param, ctx=ctx)

    def get_runtime_param(self: Any) -> Any:
        if getattr(self, "_runtime_param", None) is None:
            descriptor: Any = getattr(self, "type_descriptor", None)
            kind = _kind(descriptor) if descriptor is not None else None
            if kind is not None:
                cls = Plain if kind == "plain" else PlainPath
                self._runtime_param = cls(
                    parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
                )
        return original(self)

    get_runtime_param._flowscope_light = True  # type: ignore[attr-defined]
    param_class.get_runtime_param = get_runtime_param
