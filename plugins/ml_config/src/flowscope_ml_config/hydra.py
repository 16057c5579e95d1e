"""Hydra / OmegaConf composition without importing either: defaults lists, config groups, ``${...}``.

Only the parts that decide lineage are implemented: ``defaults`` entries (``- group: option``,
``- /group@pkg: option``, ``- base``, ``_self_``, ``override``, ``optional``), the ``# @package``
header, deep merge, and interpolation of absolute (``${a.b}``) and relative (``${.x}``) keys and
``${oc.env:VAR,default}`` (the default only: the environment is never read). Every composed key remembers
the file and line it came from, so evidence points at the group file that set it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope_ml_config.source import Doc, KeyPath, SkipFile, dotted, load_docs, read_text, tick

_INTERP = re.compile(r"\$\{([^${}]+)\}")
MAX_FILES = 500  # configs one primary may compose
MAX_VALUE = 100_000  # characters one interpolated value may grow to
# Config groups Hydra itself provides: never looked for in the user's folders.
HYDRA_GROUPS = ("hydra", "hydra_logging", "job_logging", "launcher", "sweeper", "hydra_help")
_PACKAGE = re.compile(r"^#\s*@package\s+(\S+)", re.M)


@dataclass
class Composed:
    data: dict[str, Any] = field(default_factory=dict)
    origin: dict[KeyPath, tuple[str, int]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    problems: list[tuple[str, str, int | None]] = field(default_factory=list)  # (file, message, line)
    choices: dict[str, str] = field(default_factory=dict)  # package -> the option chosen for it

    def where(self, path: KeyPath) -> tuple[str, int]:
        for n in range(len(path), -1, -1):
            if path[:n] in self.origin:
                return self.origin[path[:n]]
        return next(iter(self.origin.values()), ("", 1))


def _escapes(name: str) -> bool:
    """An absolute path or one with ``..`` in a defaults entry: would read outside the repository."""
    text = name.replace("\\", "/").strip()
    return text.startswith("~") or ".." in text.split("/") or bool(re.match(r"^[A-Za-z]:/", text))


def is_primary(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("defaults"), list)


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for k, v in new.items():
        if isinstance(v, Mapping) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = _copy(v)


def _copy(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _copy(x) for k, x in v.items()}
    return [_copy(x) for x in v] if isinstance(v, list) else v


def _at(data: dict[str, Any], package: str) -> dict[str, Any]:
    node = data
    for part in [p for p in package.split(".") if p]:
        node = node.setdefault(part, {})
    return node


Preloaded = dict[Path, tuple[str, list[Doc]]]


class Composer:
    def __init__(self, root: Path, display: Path, max_bytes: int, preloaded: Preloaded | None = None) -> None:
        self.root, self.display, self.max_bytes = root, display, max_bytes
        self.preloaded = preloaded or {}
        self.out = Composed()
        self.loaded = 0

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.display))
        except ValueError:
            return path.name

    def load(self, path: Path, package: str, from_file: str, line: int, optional: bool = False) -> None:
        tick()
        resolved = path.resolve()
        if resolved != self.display and self.display not in resolved.parents:
            self.out.problems.append(
                (from_file, f"defaults: {path.name} is outside the scanned folder; not read", line)
            )
            return
        if not path.is_file():
            if not optional:
                self.out.problems.append((from_file, f"defaults: config {self.rel(path)} not found", line))
            return
        self.loaded += 1
        if self.loaded > MAX_FILES:
            self.out.problems.append(
                (from_file, f"defaults: more than {MAX_FILES} configs composed; stopped", line)
            )
            return
        try:
            text, docs = self.preloaded.get(resolved) or (None, [])
            if text is None:
                text = read_text(path, self.max_bytes)
                docs = load_docs(text)
        except SkipFile as exc:
            self.out.problems.append((self.rel(path), exc.message, exc.line))
            return
        self.out.files.append(path)
        header = _PACKAGE.search(text)
        if header:
            package = "" if header[1] == "_global_" else header[1].replace("_group_", package)
        doc = docs[0] if docs else Doc({})
        data = doc.data if isinstance(doc.data, Mapping) else {}
        self_done = False
        raw_defaults = data.get("defaults")
        defaults: list[Any] = raw_defaults if isinstance(raw_defaults, list) else []
        for i, entry in enumerate(defaults):
            if entry == "_self_":
                self._apply(data, doc, package, path)
                self_done = True
            else:
                self._default(entry, path.parent, package, self.rel(path), doc.line(("defaults", i)))
        if not self_done:
            self._apply(data, doc, package, path)

    def _default(self, entry: Any, here: Path, package: str, rel: str, line: int) -> None:
        if isinstance(entry, str):
            if _escapes(entry):
                self.out.problems.append(
                    (rel, f"defaults: {entry} points outside the repository; not read", line)
                )
                return
            self.load(self._file(entry, here), package, rel, line)
            return
        if not isinstance(entry, Mapping) or len(entry) != 1:
            self.out.problems.append((rel, f"defaults: cannot read entry {entry!r}", line))
            return
        ((group, option),) = entry.items()
        group = str(group).strip()
        optional = group.startswith("optional ")
        group = group.removeprefix("override ").removeprefix("optional ").strip()
        if option is None:
            return
        if group.strip("/").split("/")[0] in HYDRA_GROUPS or (
            package == "hydra" and not group.startswith("/")
        ):
            return  # Hydra's own groups (job_logging, launcher, sweeper ...) ship with Hydra
        if _escapes(group) or any(
            _escapes(str(o)) for o in (option if isinstance(option, list) else [option])
        ):
            self.out.problems.append(
                (rel, f"defaults: {group}: {option} points outside the repository; not read", line)
            )
            return
        group, _, pkg = group.partition("@")
        target = pkg or group.strip("/").replace("/", ".")
        if package and not group.startswith("/") and not pkg:
            target = f"{package}.{target}"
        if target == "_global_":
            target = ""
        for opt in option if isinstance(option, list) else [option]:
            if "${" in str(opt):
                self.out.problems.append((rel, f"unresolved interpolation in defaults: {group}: {opt}", line))
                continue
            base = self.root if group.startswith("/") else here
            self.out.choices[target] = str(opt).removesuffix(".yaml").removesuffix(".yml")
            self.load(self._file(f"{group.strip('/')}/{opt}", base), target, rel, line, optional)

    def _file(self, name: str, here: Path) -> Path:
        path = here / name
        return path if path.suffix in (".yaml", ".yml") else path.with_name(path.name + ".yaml")

    def _apply(self, data: Mapping[str, Any], doc: Doc, package: str, path: Path) -> None:
        body = {k: v for k, v in data.items() if k != "defaults"}
        _merge(_at(self.out.data, package), body)
        prefix: KeyPath = tuple(p for p in package.split(".") if p)
        rel = self.rel(path)
        for key_path, line in doc.lines.items():
            if key_path and key_path[0] != "defaults":
                self.out.origin[prefix + key_path] = (rel, line)
        self.out.origin.setdefault(prefix, (rel, doc.line(())))


def compose(
    primary: Path, display_root: Path, max_bytes: int, preloaded: Preloaded | None = None
) -> Composed:
    composer = Composer(primary.parent, display_root, max_bytes, preloaded)
    composer.load(primary, "", composer.rel(primary), 1)
    out = composer.out
    out.data = resolve(out.data, out)
    return out


def resolve(data: dict[str, Any], out: Composed) -> dict[str, Any]:
    """Every ``${...}`` replaced; an unresolvable one is kept as written and reported with its key."""

    def lookup(ref: str, here: KeyPath, depth: int) -> Any:
        ref = ref.strip()
        if ref.startswith(("oc.env:", "env:")):
            var, _, default = ref.partition(":")[2].partition(",")
            if not default:
                return "${" + var.strip() + "}"  # the environment is never read: a visible placeholder
            return default.strip().strip("'\"")
        if ref.startswith(("hydra:", "now:")):
            return "${" + ref + "}"  # known only when Hydra runs; a problem only if lineage needs it
        if ":" in ref:
            raise KeyError(ref)
        if ref.startswith("."):
            level = len(ref) - len(ref.lstrip("."))
            parts = [str(p) for p in here[: max(0, len(here) - level + 1)]] + ref.lstrip(".").split(".")
        else:
            parts = ref.split(".")
        node: Any = data
        for part in parts:
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise KeyError(ref)
        return value(node, tuple(parts), depth + 1)

    def value(v: Any, path: KeyPath, depth: int) -> Any:
        if depth > 20:
            raise KeyError("interpolation cycle")
        if isinstance(v, Mapping):
            return {k: value(x, (*path, k), depth) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x, (*path, i), depth) for i, x in enumerate(v)]
        if not isinstance(v, str) or "${" not in v:
            return v
        tick()
        whole = _INTERP.fullmatch(v)
        if whole:
            return lookup(whole[1], path[:-1], depth)
        out = _INTERP.sub(lambda m: str(lookup(m[1], path[:-1], depth)), v)
        if len(out) > MAX_VALUE:
            raise KeyError(f"interpolation grows past {MAX_VALUE} characters")
        return out

    def walk(v: Any, path: KeyPath) -> Any:
        if isinstance(v, Mapping):
            return {k: walk(x, (*path, k)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, (*path, i)) for i, x in enumerate(v)]
        try:
            return value(v, path, 0)
        except KeyError as exc:
            rel, line = out.where(path)
            out.problems.append(
                (rel, f"unresolved interpolation {v!r} at {dotted(path)} ({exc.args[0]})", line)
            )
            return v

    return {k: walk(v, (k,)) for k, v in data.items()}
