"""The one configuration file: finding it, reading it with line numbers, and parsing plugin sections.

Lookup order: ``--config``, then ``$FLOWSCOPE_CONFIG``, then ``./flowscope.yaml``; none -> an empty
config rooted at the working directory. Every error names the file, the line and the key, because a
config is usually fixed by someone who did not write the plugin. See docs/configuration.md.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from flowscope.errors import UserError
from flowscope.yamlpos import Document, KeyPath, dotted, load_yaml, show, suggest, type_name
from flowscope.yamlsafe import DEFAULT_LIMITS, YamlLimits, set_limits

ENV_VAR = "FLOWSCOPE_CONFIG"
DEFAULT_NAME = "flowscope.yaml"
TOP_LEVEL_KEYS: tuple[str, ...] = ("openlineage", "plugins", "scan", "yaml", "zones", "purposes")


@dataclass(frozen=True)
class ScanSettings:
    """``scan:``: which collectors a plain ``flowscope scan`` runs."""

    collectors: list[str] = field(default_factory=list)  # empty: every installed collector
    disable: list[str] = field(default_factory=list)  # never run these (applied after ``collectors``)


@dataclass(frozen=True)
class ZoneSettings:
    """``zones:``: where the zone files are (globs relative to the config's folder; docs/zones.md)."""

    files: list[str] = field(default_factory=lambda: ["zones/*.yaml"])


@dataclass
class Config:
    """A loaded config file. ``raw`` is what ``yaml.safe_load`` returns (an empty dict for no file)."""

    path: Path | None
    base_dir: Path
    raw: Mapping[str, Any] = field(default_factory=dict)
    doc: Document = field(default_factory=lambda: Document({}))
    scan: ScanSettings = field(default_factory=ScanSettings)
    zones: ZoneSettings = field(default_factory=ZoneSettings)
    purposes: dict[str, list[str] | str] = field(default_factory=dict)

    @property
    def openlineage(self) -> dict[str, Any]:
        """The ``openlineage:`` section as written, for the OpenLineage client (not validated here)."""
        return dict(self.raw.get("openlineage") or {})

    @property
    def plugins(self) -> dict[str, dict[str, Any]]:
        """``plugins:`` as ``name -> section``; a section written as an empty key is ``{}``."""
        return {str(k): dict(v or {}) for k, v in (self.raw.get("plugins") or {}).items()}

    @property
    def scan_collectors(self) -> list[str]:
        return list(self.scan.collectors)

    @property
    def scan_disable(self) -> list[str]:
        return list(self.scan.disable)

    @property
    def display_path(self) -> str:
        """How errors name the file: relative to the working directory when it is below it."""
        if self.path is None:
            return DEFAULT_NAME
        try:
            return str(self.path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(self.path)

    def line_of(self, key_path: KeyPath) -> int | None:
        """1-based line where ``key_path`` (e.g. ``("plugins", "sql", "workers")``) is written."""
        return self.doc.line_of(key_path) if self.path is not None else None

    def error(self, key_path: KeyPath, message: str) -> UserError:
        """A :class:`UserError` ``FILE:LINE: a.b.c: message`` for the key at ``key_path``."""
        prefix = f"{dotted(key_path)}: " if key_path else ""
        return UserError(prefix + message, self.display_path, self.line_of(key_path))


def find_config(path: Path | str | None = None) -> Path | None:
    """The config file to use: ``path``, else ``$FLOWSCOPE_CONFIG``, else ``./flowscope.yaml`` if present.

    An explicitly named file (argument or environment) that does not exist is an error, not a fallback.
    """
    if path is not None:
        explicit, origin = Path(path), "--config"
    elif os.environ.get(ENV_VAR, "").strip():
        explicit, origin = Path(os.environ[ENV_VAR].strip()), ENV_VAR
    else:
        default = Path(DEFAULT_NAME)
        return default if default.is_file() else None
    explicit = explicit.expanduser()
    if not explicit.is_file():
        raise UserError(f"config file not found ({origin}): {explicit}")
    return explicit


def load_config(path: Path | None = None) -> Config:
    """Find and load the config (see :func:`find_config`); no file at all is an empty config."""
    found = find_config(path)
    if found is None:
        set_limits(DEFAULT_LIMITS)
        return Config(path=None, base_dir=Path.cwd())
    config = Config(path=found, base_dir=found.resolve().parent)
    try:
        text = found.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read config: {exc}", config.display_path) from None
    config.doc = load_yaml(text, config.display_path, DEFAULT_LIMITS)  # its own `yaml:` applies after
    data = config.doc.data
    if data is None:
        data = config.doc.data = {}
    if not isinstance(data, Mapping):
        raise UserError(f"expected a mapping at the top level, got {type_name(data)}", config.display_path, 1)
    config.raw = data
    _check_top_level(config)
    config.scan = parse_value(config, ("scan",), data.get("scan") or {}, ScanSettings)
    config.zones = parse_value(config, ("zones",), data.get("zones") or {}, ZoneSettings)
    # Asset pattern -> fideslang data use(s); the names are checked by flowscope.zones when zones run.
    config.purposes = parse_value(
        config, ("purposes",), data.get("purposes") or {}, dict[str, list[str] | str]
    )
    set_limits(parse_value(config, ("yaml",), data.get("yaml") or {}, YamlLimits))
    return config


def _check_top_level(config: Config) -> None:
    for dup in config.doc.duplicates:
        raise UserError(
            f"{dotted(dup.path)}: key written twice (first on line {dup.first_line})",
            config.display_path,
            dup.line,
        )
    for key, value in config.raw.items():
        if str(key) not in TOP_LEVEL_KEYS:
            raise config.error((str(key),), "unknown top-level key" + suggest(str(key), TOP_LEVEL_KEYS))
        if value is not None and not isinstance(value, Mapping):
            raise config.error((str(key),), f"expected a mapping, got {type_name(value)}")
    for name, section in (config.raw.get("plugins") or {}).items():
        if section is not None and not isinstance(section, Mapping):
            raise config.error(("plugins", str(name)), f"expected a mapping, got {type_name(section)}")


def check_plugin_sections(config: Config, known: Collection[str]) -> None:
    """Fail on a ``plugins.<name>`` section that no installed plugin reads (likely a typo)."""
    for name in config.plugins:
        if name not in known:
            hint = suggest(name, known, "installed")
            raise config.error(("plugins", name), f"no installed plugin reads this section{hint}")


def parse_section(config: Config, plugin: str, cls: type | None) -> Any:
    """``plugins.<plugin>`` parsed into dataclass ``cls`` (or the raw mapping when ``cls`` is None).

    Fields may be str, int, float, bool, Path (relative to the config's folder), ``list[X]``,
    ``dict[str, X]``, ``X | None``, Literal or nested dataclasses. Unknown keys, missing required keys
    and wrong types raise :class:`UserError` naming file, line and key.
    """
    section = config.plugins.get(plugin, {})
    if cls is None:
        return section
    return parse_value(config, ("plugins", plugin), section, cls)


def parse_value(config: Config, path: KeyPath, value: Any, hint: Any) -> Any:
    """Check ``value`` (found at ``path``) against type ``hint`` and convert it; see :func:`parse_section`."""
    if hint is Any or hint is object:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors: list[UserError] = []
        for option in options:
            try:
                return parse_value(config, path, value, option)
            except UserError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        raise config.error(path, f"expected {_describe(hint)}, got {show(value)}")
    if origin is typing.Literal:
        if value in args:
            return value
        choices = ", ".join(str(a) for a in args)
        raise config.error(path, f"expected one of {choices}, got {show(value)}")
    if origin in (list, tuple, set, frozenset) or hint in (list, tuple):
        if not isinstance(value, list):
            raise config.error(path, f"expected a list, got {show(value)}")
        item = args[0] if args else Any
        items = [parse_value(config, (*path, i), v, item) for i, v in enumerate(value)]
        container = origin or hint
        return items if container is list else container(items)
    if origin is dict or hint is dict:
        if not isinstance(value, Mapping):
            raise config.error(path, f"expected a mapping, got {show(value)}")
        value_hint = args[1] if len(args) == 2 else Any
        return {str(k): parse_value(config, (*path, str(k)), v, value_hint) for k, v in value.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _parse_dataclass(config, path, value, hint)
    return _parse_scalar(config, path, value, hint)


def _parse_scalar(config: Config, path: KeyPath, value: Any, hint: Any) -> Any:
    ok: bool
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif hint is str or hint is Path:
        # Numbers are fine where text is expected (ports, versions); containers and booleans are not.
        ok = isinstance(value, str | int | float) and not isinstance(value, bool)
        if ok and hint is Path:
            p = Path(str(value)).expanduser()
            return p if p.is_absolute() else config.base_dir / p
        value = str(value) if ok else value
    else:
        raise TypeError(f"parse_section does not support fields of type {hint!r} (at {dotted(path)})")
    if not ok:
        raise config.error(path, f"expected {_describe(hint)}, got {show(value)}")
    return value


def _parse_dataclass(config: Config, path: KeyPath, value: Any, cls: type) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise config.error(path, f"expected a mapping, got {show(value)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        name = str(key)
        if name not in fields:
            raise config.error((*path, name), "unknown key" + suggest(name, fields))
        kwargs[name] = parse_value(config, (*path, name), item, hints[name])
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise config.error(path, f"missing required key {missing[0]!r}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:  # the dataclass's own __post_init__ checks
        raise config.error(path, str(exc)) from None


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return " or ".join(_describe(a) for a in typing.get_args(hint) if a is not type(None))
    if origin is not None:
        return {list: "a list", dict: "a mapping"}.get(origin, str(hint))
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    return {Path: "a path"}.get(hint, getattr(hint, "__name__", str(hint)))
