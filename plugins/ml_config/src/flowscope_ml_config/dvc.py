"""DVC pipelines (``dvc.yaml``): each stage reads its deps and params and writes its outs, metrics and
plots.

Code deps (``src/train.py``) are the stage's program, not its data, and are left out. Params name keys
of a params file (``params.yaml`` unless a ``- file.yaml: [keys]`` entry says otherwise): the file is
an input with the key as its field. ``foreach``/``do`` and ``matrix`` stages are expanded (``${item}``,
``${key}``, ``${item.x}``, matrix names); other ``${...}`` templating (``vars``) is left as written and
reported. Paths are as written, joined with the stage's ``wdir``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from flowscope import naming
from flowscope.model import Asset, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.source import Doc, KeyPath, dotted, items, text_of, tick

STEP = Transformation("DIRECT", "TRANSFORMATION")
CODE_SUFFIXES = (
    ".py",
    ".ipynb",
    ".sh",
    ".bash",
    ".r",
    ".jl",
    ".scala",
    ".java",
    ".js",
    ".ts",
    ".rb",
    ".pl",
    ".go",
)
MAX_EXPANSION = 1000
_TEMPLATE = re.compile(r"\$\{\s*([\w.\-]+)\s*\}")


def is_dvc(data: Any, name: str) -> bool:
    return (
        name in ("dvc.yaml", "dvc.yml")
        and isinstance(data, Mapping)
        and isinstance(data.get("stages"), Mapping)
    )


def _render(value: Any, env: Mapping[str, Any]) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            node: Any = env
            for part in m[1].split("."):
                if not isinstance(node, Mapping) or part not in node:
                    return m[0]
                node = node[part]
            return str(node)

        return _TEMPLATE.sub(sub, value)
    if isinstance(value, list):
        return [_render(v, env) for v in value]
    if isinstance(value, Mapping):
        return {str(_render(str(k), env)): _render(v, env) for k, v in value.items()}
    return value


def _stages(name: str, spec: Any, found: Found, line: int) -> list[tuple[str, Mapping[str, Any]]]:
    """A stage, or the stages a ``foreach``/``matrix`` expands to."""
    if not isinstance(spec, Mapping):
        return []
    if "foreach" in spec and isinstance(spec.get("do"), Mapping):
        loop = spec["foreach"]
        pairs = (
            list(loop.items())
            if isinstance(loop, Mapping)
            else list(enumerate(loop))
            if isinstance(loop, list)
            else []
        )
        if not pairs:
            found.problem(
                f"stage {name}: foreach over {loop!r} is not a literal list or mapping; left out", line
            )
        return [(f"{name}@{k}", _render(spec["do"], {"item": v, "key": k})) for k, v in pairs[:MAX_EXPANSION]]
    if isinstance(spec.get("matrix"), Mapping):
        dims = [(str(k), v if isinstance(v, list) else [v]) for k, v in spec["matrix"].items()]
        body = {k: v for k, v in spec.items() if k != "matrix"}
        out = []
        for combo in itertools.islice(itertools.product(*(v for _, v in dims)), MAX_EXPANSION):
            env = {"item": dict(zip((k for k, _ in dims), combo, strict=True))}
            out.append((f"{name}@{'-'.join(str(c) for c in combo)}", _render(body, env)))
        return out
    return [(name, spec)]


def _paths(value: Any) -> list[tuple[int, str]]:
    out = []
    for i, entry in items(value):
        if isinstance(entry, Mapping):  # - path: {cache: false}
            out += [(int(i) if isinstance(i, int) else 0, str(k)) for k in entry]
        elif text_of(entry):
            out.append((int(i) if isinstance(i, int) else 0, str(entry)))
    return out


def parse_dvc(doc: Doc, rel: str, scope: Scope, found: Found) -> None:
    names = scope.names
    for sname, raw in doc.data["stages"].items():
        at: KeyPath = ("stages", str(sname))
        for stage_name, stage in _stages(str(sname), raw, found, doc.line(at)):
            tick()
            wdir = text_of(stage.get("wdir")) or "."

            def asset(path: str, at_line: int, w: str = wdir) -> Asset | None:
                joined = path if w in (".", "") or path.startswith("/") else str(PurePosixPath(w) / path)
                return guarded(found, at_line, lambda: names.file(joined))

            job = Job(naming.job_namespace("ml_config"), f"dvc.{stage_name}", job_type="PIPELINE_STAGE",
                      source=SourceLocation(rel), description=text_of(stage.get("desc")))  # fmt: skip
            inputs: list[tuple[KeyPath, Asset]] = []
            for i, dep in _paths(stage.get("deps")):
                if dep.lower().endswith(CODE_SUFFIXES):
                    continue
                got = asset(dep, doc.line((*at, "deps", i)))
                if got is not None:
                    inputs.append(((*at, "deps", i), got))
            for j, entry in items(stage.get("params")):
                files = entry.items() if isinstance(entry, Mapping) else [("params.yaml", [entry])]
                for pfile, keys in files:
                    got = asset(str(pfile), doc.line((*at, "params", j)))
                    if got is None:
                        continue
                    keys = keys if isinstance(keys, list) else []
                    for k in keys or [None]:
                        inputs.append(((*at, "params", j), got.with_field(str(k)) if k else got))
            outputs: list[Asset] = []
            for key in ("outs", "metrics", "plots"):
                for i, out in _paths(stage.get(key)):
                    got = asset(out, doc.line((*at, key, i)))
                    if got is not None:
                        outputs.append(got)
            for path, src in inputs:
                for dst in outputs or [None]:  # type: ignore[list-item]
                    snippet = f"{stage_name}: {src.name}{'#' + src.field if src.field else ''}"
                    found.add(Link(job, src, dst, dotted(path), doc.line(path), snippet, STEP))
