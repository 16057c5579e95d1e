"""Sources and sinks from existing Pysa models: ``.pysa`` stub files and ``taint.config``.

What is imported, by name (Pysa's own semantics beyond that — features, model queries — are not):

- ``def requests.api.post(url, data: TaintSink[RequestSend], json: TaintSink[RequestSend], **kw): ...``
  -> a sink on ``requests.api.post`` (and the ``requests.post`` re-export) whose data are those parameters;
- ``def os.getenv(key) -> TaintSource[Secrets]: ...`` -> a source call;
- ``django.http.request.HttpRequest.GET: TaintSource[UserControlled] = ...`` -> a source attribute;
- ``@Sanitize`` (with or without arguments) on ``def myapp.hash_email(email): ...`` -> a masking function:
  a flow through it is reported masked (low confidence), not dropped, as for a pack's ``masking`` entry.

``TaintInTaintOut`` needs no import: a call the models do not know already passes every argument's taint
to its result (the analysis is conservative where Pysa is told).

The kind of sink follows Pysa's kind name (``*Request*``/``*Http*`` -> http with the ``url`` parameter as
the path, ``*SQL*`` -> sql, ``*Log*`` -> log, ``*File*`` -> file, ``*Cache*``/``*Redis*`` -> cache,
``*Kafka*``/``*Queue*``/``*Publish*`` -> queue); any other kind becomes ``log://pysa/<Kind>``. Sources
are named ``<namespace>/<Kind>`` (namespace ``service://pysa`` unless the pack says otherwise). A
``taint.config`` lists the kinds; a model naming a kind it does not list is an error. Other decorators,
``TaintInTaintOut`` and ``ModelQuery`` are valid Pysa and skipped quietly; a line that is none of these is
an error naming the file and line, and the rest of the file is kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from flowscope_hack_static.packs import CallModel, Models, SinkModel, SourceModel

_DEF = re.compile(r"^(?:async\s+)?def\s+([\w.]+)\s*\((.*)\)\s*(?:->\s*(.+?))?\s*:\s*\.\.\.\s*$", re.S)
_ATTR = re.compile(r"^([\w.]+)\s*:\s*(.+?)\s*=\s*\.\.\.\s*$", re.S)
_TAINT = re.compile(r"\b(TaintSource|TaintSink|TaintInTaintOut|ViaTypeOf|ViaValueOf)\[(.*)\]", re.S)
_SKIPPED = re.compile(r"^(ModelQuery|@|class\s+\w+\s*\(\s*\w*\s*\)\s*:\s*\.\.\.)")
_KINDS = (
    (re.compile(r"request|http|url|api", re.I), "http"),
    (re.compile(r"sql", re.I), "sql"),
    (re.compile(r"log", re.I), "log"),
    (re.compile(r"file", re.I), "file"),
    (re.compile(r"cache|redis", re.I), "cache"),
    (re.compile(r"kafka|queue|publish", re.I), "queue"),
)


@dataclass
class PysaImport:
    sources: list[SourceModel] = field(default_factory=list)
    sinks: list[SinkModel] = field(default_factory=list)
    masking: list[CallModel] = field(default_factory=list)  # @Sanitize functions
    problems: list[str] = field(default_factory=list)  # "file:line: message"


def read_config(path: Path) -> tuple[set[str], set[str], list[str]]:
    """(source kinds, sink kinds, problems) of a taint.config (JSON)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return set(), set(), [f"{path}: cannot read: {exc}"]
    except json.JSONDecodeError as exc:
        return set(), set(), [f"{path}:{exc.lineno}: not JSON: {exc.msg}"]
    if not isinstance(data, dict):
        return set(), set(), [f"{path}:1: taint.config is an object with sources and sinks"]

    def names(key: str) -> set[str]:
        items = data.get(key) or []
        return {str(i["name"]) for i in items if isinstance(i, dict) and "name" in i}

    return names("sources"), names("sinks"), []


def statements(text: str) -> list[tuple[int, str]]:
    """Logical statements (brackets joined across lines) with their first line; comments dropped."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    depth, start = 0, 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip() and not buf:
            continue
        if not buf:
            start = n
        buf.append(line.strip())
        depth += sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}")
        if depth <= 0:
            out.append((start, " ".join(buf)))
            buf, depth = [], 0
    if buf:
        out.append((start, " ".join(buf)))
    return out


def _split_params(params: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in params:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch in "([{"
        depth -= ch in ")]}"
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _kinds(annotation: str, wanted: str) -> list[str]:
    kinds = []
    for m in _TAINT.finditer(annotation):
        if m.group(1) == wanted:
            kinds += [k.strip() for k in _split_params(m.group(2)) if re.fullmatch(r"\w+", k.strip())]
    return kinds


def _patterns(qualified: str) -> list[str]:
    """Callee patterns for a Pysa name: the name, a package's re-export, a method on any receiver."""
    parts = qualified.split(".")
    out = [qualified]
    if len(parts) >= 3 and not parts[-2][:1].isupper():
        out.append(f"{parts[0]}.{parts[-1]}")  # requests.api.post -> requests.post
    if len(parts) >= 2 and parts[-2][:1].isupper():
        out.append(f"*{parts[-2]}.{parts[-1]}")  # a method: typed receivers (kv = redis.Redis())
    return out


def _sink_kind(kind: str) -> str:
    return next((ours for pattern, ours in _KINDS if pattern.search(kind)), "log")


def import_pysa(paths: list[Path], namespace: str = "service://pysa") -> PysaImport:
    out = PysaImport()
    configs = [p for p in paths if p.suffix in (".config", ".json")]
    source_kinds: set[str] = set()
    sink_kinds: set[str] = set()
    for cfg in configs:
        src, snk, problems = read_config(cfg)
        source_kinds |= src
        sink_kinds |= snk
        out.problems += problems
    for path in paths:
        if path in configs:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out.problems.append(f"{path}: cannot read Pysa models: {exc}")
            continue
        decorator = ""
        for line, stmt in statements(text):
            if decorator and stmt.startswith(("def ", "async def ")):
                m = _DEF.match(stmt)
                if m and re.match(r"@Sanitize\b", decorator):
                    for pattern in _patterns(m.group(1)):
                        out.masking.append(CallModel(pattern, languages=("python",)))
                decorator = ""  # the function a decorator models is its own, not a source or sink
                continue
            decorator = stmt if stmt.startswith("@") else ""
            where = f"{path.name}:{line}"
            problem = _statement(stmt, where, namespace, out, configs, source_kinds, sink_kinds)
            if problem:
                out.problems.append(f"{path}:{line}: {problem}")
    return out


def _statement(
    stmt: str,
    where: str,
    namespace: str,
    out: PysaImport,
    configs: list[Path],
    source_kinds: set[str],
    sink_kinds: set[str],
) -> str | None:
    def unknown(kinds: list[str], known: set[str], what: str) -> str | None:
        bad = [k for k in kinds if configs and k not in known]
        return f"{what} kind {bad[0]} is not declared in taint.config" if bad else None

    if _SKIPPED.match(stmt):
        return None
    m = _DEF.match(stmt)
    if m:
        name, params, ret = m.group(1), _split_params(m.group(2)), m.group(3) or ""
        sources = _kinds(ret, "TaintSource")
        problem = unknown(sources, source_kinds, "source")
        if problem:
            return problem
        for kind in sources[:1]:
            for pattern in _patterns(name):
                out.sources.append(
                    SourceModel(namespace, kind, call=pattern, languages=("python",), where=where)
                )
        positional = [p for p in params if not p.startswith("*")]
        method = len(name.split(".")) >= 2 and name.split(".")[-2][:1].isupper()
        if method and positional and positional[0].split(":")[0].strip() in ("self", "cls"):
            positional = positional[1:]
        names = [p.split(":")[0].split("=")[0].strip() for p in positional]
        tainted: dict[str, list[int | str]] = {}
        for i, p in enumerate(positional):
            _, _, annotation = p.partition(":")
            for kind in _kinds(annotation, "TaintSink"):
                tainted.setdefault(kind, []).extend([i, names[i]])
        problem = unknown(list(tainted), sink_kinds, "sink")
        if problem:
            return problem
        for kind, params_of in tainted.items():
            ours = _sink_kind(kind)
            idx = tuple(v for v in params_of if isinstance(v, int))
            kws = tuple(v for v in params_of if isinstance(v, str))
            extra: dict[str, object] = {}
            if ours == "http":
                extra["path_arg"] = names.index("url") if "url" in names else None
                extra["name"] = None if "url" in names else name
            elif ours == "sql":
                extra["sql_arg"] = 0
                extra["namespace"] = "unknown://pysa"
            else:
                extra["name"] = kind if ours == "log" else name
                extra["system"] = "pysa"
            for pattern in _patterns(name):
                out.sinks.append(
                    SinkModel(
                        pattern,
                        ours,
                        data_args=idx,
                        data_kwargs=kws,
                        languages=("python",),
                        where=where,
                        **extra,  # type: ignore[arg-type]
                    )
                )
        if not sources and not tainted and "Taint" not in stmt:
            return "a model with no TaintSource or TaintSink"
        return None
    m = _ATTR.match(stmt)
    if m:
        name, annotation = m.group(1), m.group(2)
        sources = _kinds(annotation, "TaintSource")
        problem = unknown(sources, source_kinds, "source")
        if problem:
            return problem
        if not sources:
            return None if "Taint" in annotation else "an attribute model with no TaintSource"
        attr = name.rpartition(".")[2]
        for var in (name, f"*.{attr}"):
            out.sources.append(
                SourceModel(namespace, sources[0], var=var, languages=("python",), where=where)
            )
        return None
    return f"cannot read this Pysa model: {stmt[:60]}"


def add_to(models: Models, imported: PysaImport) -> None:
    """Imported entries go before the built-ins, like a user's pack."""
    models.sources[:0] = imported.sources
    models.sinks[:0] = imported.sinks
    models.masking[:0] = imported.masking
    models.problems += imported.problems
