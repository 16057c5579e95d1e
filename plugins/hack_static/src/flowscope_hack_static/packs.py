"""Model packs: YAML files that say which calls are sources, sinks, propagators and masking functions.

A pack is data, so the analysis knows no framework by name. Every entry is checked when the pack is
loaded; a wrong key, a missing one or a bad value is a :class:`UserError` naming the file and line.
Built-in packs live in ``flowscope_hack_static/packs/``; users add theirs with ``models:`` or ``--models``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase, translate
from importlib.resources import files
from pathlib import Path
from typing import Any

from flowscope.errors import UserError
from flowscope.yamlpos import Document, KeyPath, dotted, load_yaml, suggest

LANGUAGES = ("hack", "cpp", "python")
SINK_KINDS = ("table", "sql", "log", "http", "cache", "queue", "kafka", "email", "file")
TRANSFORMATIONS = ("IDENTITY", "TRANSFORMATION", "NONE")

_TOP = {
    "name",
    "description",
    "languages",
    "classify_fields",
    "sources",
    "sinks",
    "propagators",
    "masking",
    "pysa",
}
_SOURCE = {
    "call",
    "var",
    "param_type",
    "function",
    "param",
    "decorator",
    "namespace",
    "name",
    "field",
    "field_arg",
    "field_part",
    "classify",
    "languages",
}
_SINK = {
    "call",
    "kind",
    "namespace",
    "system",
    "name",
    "name_arg",
    "name_template",
    "host",
    "host_arg",
    "path_arg",
    "data_arg",
    "data_kwarg",
    "data_args",
    "data_kwargs",
    "sql_arg",
    "relabel",
    "orm",
    "name_from",
    "data_receiver",
    "stream",
    "require_literal",
    "statement",
    "statement_arg",
    "languages",
}
ORM_FORMS = (
    "insert_values",
    "instance_arg",
    "instance_receiver",
    "manager",
    "model_arg",
    "assignments",
    "dirty",
    "model_class",
)
_PROPAGATOR = {"call", "transformation", "receiver", "key_arg", "out_arg", "languages"}
_MASKING = {"call", "languages"}


@dataclass(frozen=True)
class SourceModel:
    """A source: a call's result, a variable, a parameter of a type, or the parameters of handlers.

    ``function`` + ``param``: parameters named ``param`` (a pattern) of functions named ``function``;
    ``decorator``: every parameter of functions with that decorator (``@app.route``), each a field."""

    namespace: str
    name: str
    call: str | None = None
    var: str | None = None
    param_type: str | None = None
    function: str | None = None
    param: str | None = None
    decorator: str | None = None
    field: str | None = None
    field_arg: int | None = None
    # a ``var`` source's field: this dotted part of the name (``form.email.data``, -2: ``email``); a var
    # pattern ``Cls().rest`` matches a variable made by a call of ``Cls`` (``form = SignupForm()``)
    field_part: int | None = None
    # only fields named as personal data (elements.request_category): the built-in framework models
    # (classify_fields: true); a pack's own declared sources mean every field they carry
    classify: bool = False
    languages: tuple[str, ...] = LANGUAGES
    where: str = ""


@dataclass(frozen=True)
class SinkModel:
    call: str
    kind: str
    namespace: str | None = None
    system: str | None = None
    name: str | None = None
    name_arg: int | None = None
    name_template: str = "{name}"
    host: str | None = None
    host_arg: int | None = None
    path_arg: int | None = None
    data_arg: int | None = None
    data_kwarg: str | None = None
    data_args: tuple[int, ...] = ()  # several data arguments (merged), by position ...
    data_kwargs: tuple[str, ...] = ()  # ... and by keyword
    sql_arg: int | None = None
    relabel: bool = False
    orm: str | None = None  # one of ORM_FORMS: table and fields from an ORM write (see sinknames.orm_write)
    # ``made``: the first argument of the call that made the receiver (``log = logging.getLogger("audit");
    # log.info(x)``; ``name`` when nothing made it here); ``receiver``: the receiver's own name (a Celery
    # task's ``send_welcome.delay(x)``)
    name_from: str | None = None
    data_receiver: bool = False  # the receiver carries data too (``EmailMessage(to=[e]).send()``)
    stream: bool = False  # C++ ``LOG_INFO << x``, ``std::cout << x``: the pattern names the stream's head
    require_literal: bool = False  # a loose pattern (``*.exec``): a sink only when its name is a literal
    # prepared statements: ``prepare`` gives a statement its SQL (``sqlite3_prepare_v2(db, sql, -1, &st, 0)``,
    # Qt's ``q.prepare(sql)``); ``bind`` binds its next parameter (``st->setString(1, x)``,
    # ``sqlite3_bind_text(st, 1, x, ...)``). The statement is argument ``statement_arg``, else the receiver.
    statement: str | None = None
    statement_arg: int | None = None
    languages: tuple[str, ...] = LANGUAGES
    where: str = ""


@dataclass(frozen=True)
class CallModel:
    call: str
    transformation: str = "TRANSFORMATION"
    receiver: bool = False
    key_arg: int | None = None  # idx($d, 'k'), d.get('k'): the result is key k of the value
    out_arg: int | None = None  # reader.parse(text, root): the call writes its data into this argument
    languages: tuple[str, ...] = LANGUAGES


@dataclass
class Models:
    """All loaded packs, merged; lookups are by language and callee text (shell-style patterns)."""

    sources: list[SourceModel] = field(default_factory=list)
    sinks: list[SinkModel] = field(default_factory=list)
    propagators: list[CallModel] = field(default_factory=list)
    masking: list[CallModel] = field(default_factory=list)
    packs: list[str] = field(default_factory=list)
    texts: list[bytes] = field(default_factory=list, repr=False)  # every pack's bytes, for the digest
    problems: list[str] = field(default_factory=list)  # Pysa lines that could not be imported

    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def _first(self, items: list[Any], language: str, callee: str) -> Any:
        key = (id(items), language, callee)  # callees repeat across a code base: match each text once
        if key not in self.memo:
            self.memo[key] = self._patterns(items, language, "call").first((callee,))
        return self.memo[key]

    def _patterns(self, items: list[Any], language: str, attr: str) -> _Patterns:
        key = (3, id(items), language, attr)
        table = self.memo.get(key)
        if table is None:
            table = self.memo[key] = _Patterns([m for m in items if language in m.languages], attr)
        return table

    def classifies(self, namespace: str, name: str) -> bool:
        """Whether the sources of this asset carry only the fields named as personal data."""
        key = (6, namespace, name)
        hit = self.memo.get(key)
        if hit is None:
            hit = self.memo[key] = any(
                m.classify for m in self.sources if m.namespace == namespace and m.name == name
            )
        return hit

    def source_call(self, language: str, callee: str) -> SourceModel | None:
        return self._first(self.sources, language, callee)  # type: ignore[no-any-return]

    def source_var(self, language: str, name: str) -> SourceModel | None:
        key = (1, language, name)  # every variable read not yet assigned asks: match each name once
        if key not in self.memo:
            self.memo[key] = self._patterns(self.sources, language, "var").first((name,))
        return self.memo[key]  # type: ignore[no-any-return]

    def source_handler(
        self, language: str, function: str, param: str, decorators: tuple[str, ...]
    ) -> SourceModel | None:
        """A parameter a pack declares a source by its function and name, or by its function's decorator."""
        key = (5, language, function, param, decorators)
        if key not in self.memo:
            found = None
            for m in self.sources:
                if language not in m.languages:
                    continue
                if m.function and m.param:
                    if _match(m.function, function) and fnmatchcase(param, m.param):
                        found = m
                        break
                elif m.decorator and any(_match(m.decorator, d) for d in decorators):
                    found = m
                    break
            self.memo[key] = found
        return self.memo[key]  # type: ignore[no-any-return]

    def source_param(self, language: str, type_name: str | None) -> SourceModel | None:
        if not type_name:
            return None
        key = (2, language, type_name)
        if key not in self.memo:
            bare = type_name.replace("const", "").replace("&", "").replace("*", "").strip().split("::")[-1]
            self.memo[key] = next(
                (
                    m
                    for m in self.sources
                    if language in m.languages and m.param_type and _match(m.param_type, bare)
                ),
                None,
            )
        return self.memo[key]  # type: ignore[no-any-return]

    def sink(self, language: str, callee: str) -> SinkModel | None:
        return self._first(self.sinks, language, callee)  # type: ignore[no-any-return]

    def masks(self, language: str, callee: str) -> bool:
        return self._first(self.masking, language, callee) is not None

    def propagator(self, language: str, callee: str) -> CallModel | None:
        return self._first(self.propagators, language, callee)  # type: ignore[no-any-return]

    def classify(
        self, language: str, *callees: str
    ) -> tuple[SinkModel | None, bool, SourceModel | None, CallModel | None]:
        """(sink, masks, source, propagator) for a call known by several names (its text, its receiver's
        class): the first entry in pack order matching any of them, so a user's pack wins either way."""
        key = (0, language, callees)
        hit = self.memo.get(key)
        if hit is None:
            hit = (
                self._patterns(self.sinks, language, "call").first(callees),
                self._patterns(self.masking, language, "call").first(callees) is not None,
                self._patterns(self.sources, language, "call").first(callees),
                self._patterns(self.propagators, language, "call").first(callees),
            )
            self.memo[key] = hit
        return hit

    def knows(self, language: str, callee: str) -> bool:
        """Whether any model names this callee (else the analysis retries it with the receiver's class)."""
        lists = (self.sinks, self.sources, self.masking, self.propagators)
        return any(self._first(items, language, callee) is not None for items in lists)

    def digest(self) -> str:
        """Changes whenever a loaded pack does: part of every cache key."""
        h = hashlib.blake2b(digest_size=16)
        for text in self.texts:
            h.update(len(text).to_bytes(8, "big") + text)
        return h.hexdigest()

    def prefilter_words(self) -> set[str]:
        """Plain words that must appear in a file for any model to fire (the cheap textual prefilter)."""
        key = (1, "", "prefilter")
        if key in self.memo:
            return self.memo[key]  # type: ignore[no-any-return]
        words: set[str] = set()
        for m in [*self.sources, *self.sinks]:
            pattern = (
                getattr(m, "call", None)
                or getattr(m, "var", None)
                or getattr(m, "param_type", None)
                or getattr(m, "decorator", None)
                or getattr(m, "param", None)
                or ""
            )
            tail = pattern.replace("->", ".").replace("::", ".").split(".")[-1].strip("*?[]")
            words.add(tail or "")
        words.discard("")
        self.memo[key] = words
        return words


def _match(pattern: str, callee: str) -> bool:
    return fnmatchcase(callee, pattern) or fnmatchcase(callee.replace("->", ".").replace("::", "."), pattern)


class _Patterns:
    """The shell-style patterns (``attr``) of some models, in one regular expression: a match finds the
    first model, in pack order, whose pattern fits a name as written or with ``->`` and ``::`` as ``.``.
    One match instead of one ``fnmatch`` per model: a code base has many distinct callee texts."""

    def __init__(self, models: list[Any], attr: str) -> None:
        self.models = [m for m in models if getattr(m, attr)]
        alternatives = "|".join(f"({translate(getattr(m, attr))})" for m in self.models)
        self.regex = re.compile(alternatives) if self.models else None

    def first(self, names: tuple[str, ...]) -> Any:
        if self.regex is None:
            return None
        best = 0
        for name in names:
            for text in {name, name.replace("->", ".").replace("::", ".")}:
                m = self.regex.fullmatch(text)
                if m is not None and (not best or m.lastindex < best):  # type: ignore[operator]
                    best = m.lastindex  # type: ignore[assignment]
        return self.models[best - 1] if best else None


def builtin_packs() -> list[Path]:
    """The built-in packs, specific ones (a framework, an SDK) before the ``*_common`` ones, so a specific
    model of a call wins over a generic pattern that also matches it."""
    root = files("flowscope_hack_static") / "packs"
    found = [Path(str(p)) for p in root.iterdir() if str(p).endswith(".yaml")]
    return sorted(found, key=lambda p: (p.stem.endswith("_common"), p.name))


def load_models(paths: list[Path], builtins: bool = True, pysa: list[Path] | None = None) -> Models:
    models = Models()
    for path in [*paths, *(builtin_packs() if builtins else [])]:  # user packs first: they win
        load_pack(path, models)
    if pysa:
        _import_pysa(pysa, models)
    return models


def _import_pysa(paths: list[Path], models: Models) -> None:
    from flowscope_hack_static.pysa import add_to, import_pysa

    for path in paths:
        with contextlib.suppress(OSError):  # import_pysa reports it
            models.texts.append(path.read_bytes())
    add_to(models, import_pysa(paths))


def load_pack(path: Path, into: Models) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read model pack: {exc}") from None
    into.texts.append(text.encode())
    doc = load_yaml(text, str(path))
    data = doc.data
    if not isinstance(data, dict):
        raise UserError(f"{path}:1: a model pack is a mapping with sources, sinks, propagators, masking")
    _keys(doc, path, (), data, _TOP)
    default_langs = _langs(doc, path, ("languages",), data.get("languages", list(LANGUAGES)))
    classify_fields = data.get("classify_fields", False)
    if not isinstance(classify_fields, bool):
        raise _err(doc, path, ("classify_fields",), "must be true or false")
    for section, allowed in (
        ("sources", _SOURCE),
        ("sinks", _SINK),
        ("propagators", _PROPAGATOR),
        ("masking", _MASKING),
    ):
        items = data.get(section) or []
        if not isinstance(items, list):
            raise _err(doc, path, (section,), "must be a list")
        for i, item in enumerate(items):
            at: KeyPath = (section, i)
            if not isinstance(item, dict):
                raise _err(doc, path, at, "must be a mapping")
            _keys(doc, path, at, item, allowed)
            langs = _langs(doc, path, (*at, "languages"), item.get("languages", default_langs))
            where = f"{path.name}:{doc.line_of(at)}"
            fields: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in item.items() if k != "languages"
            }
            try:
                if section == "sources":
                    if not any(k in item for k in ("call", "var", "param_type", "decorator")) and not (
                        "function" in item and "param" in item
                    ):
                        raise ValueError("needs one of call, var, param_type, decorator, function with param")
                    fields.setdefault("classify", classify_fields)
                    into.sources.append(SourceModel(languages=langs, where=where, **fields))
                elif section == "sinks":
                    if item.get("kind") not in SINK_KINDS:
                        raise _err(
                            doc,
                            path,
                            (*at, "kind"),
                            "unknown sink kind" + suggest(str(item.get("kind")), SINK_KINDS),
                        )
                    if item.get("statement") not in (None, "prepare", "bind"):
                        raise _err(doc, path, (*at, "statement"), "must be prepare or bind")
                    if item.get("name_from") not in (None, "made", "receiver"):
                        raise _err(doc, path, (*at, "name_from"), "must be made or receiver")
                    if item.get("orm") is not None and item["orm"] not in ORM_FORMS:
                        raise _err(
                            doc, path, (*at, "orm"), "unknown ORM form" + suggest(str(item["orm"]), ORM_FORMS)
                        )
                    into.sinks.append(SinkModel(languages=langs, where=where, **fields))
                else:
                    if item.get("transformation", "TRANSFORMATION") not in TRANSFORMATIONS:
                        raise _err(
                            doc,
                            path,
                            (*at, "transformation"),
                            "must be one of " + ", ".join(TRANSFORMATIONS),
                        )
                    model = CallModel(languages=langs, **fields)
                    (into.propagators if section == "propagators" else into.masking).append(model)
            except TypeError as exc:
                raise _err(doc, path, at, str(exc).split("__init__() ")[-1]) from None
            except ValueError as exc:
                raise _err(doc, path, at, str(exc)) from None
    pysa = data.get("pysa") or []
    if not isinstance(pysa, list) or not all(isinstance(p, str) for p in pysa):
        raise _err(doc, path, ("pysa",), "a list of .pysa files and taint.config, relative to the pack")
    if pysa:
        _import_pysa([path.parent / p for p in pysa], into)
    into.packs.append(str(data.get("name") or path.stem))


def _keys(doc: Document, path: Path, at: KeyPath, item: dict[str, Any], allowed: set[str]) -> None:
    for key in item:
        if key not in allowed:
            raise _err(doc, path, (*at, key), f"unknown key{suggest(str(key), sorted(allowed))}")


def _langs(doc: Document, path: Path, at: KeyPath, value: Any) -> tuple[str, ...]:
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list | tuple) or any(v not in LANGUAGES for v in value):
        raise _err(doc, path, at, f"languages must be among {', '.join(LANGUAGES)}")
    return tuple(value)


def _err(doc: Document, path: Path, at: KeyPath, message: str) -> UserError:
    return UserError(f"{path}:{doc.line_of(at) or 1}: {dotted(at)}: {message}")
