"""The held-out corpus: labels in ``heldout.yaml``, statements taken from the repositories at run time.

Each repository is read with ``git show COMMIT:PATH`` from a git directory found as ``--repos DIR/<owner>+<name>``
(``/repo`` inside it or the directory itself: a ``git clone`` or a mirror) or ``$FLOWSCOPE_HELDOUT_REPOS`` (default ``~/.cache/flowscope/mirrors``); the
extracted statements go to ``<cache>/heldout.jsonl`` (outside the repository: they are other people's code).

dbt models are compiled with a few documented rules, not dbt: ``{{ ref('x') }}`` -> ``x``, ``{{ source('a',
'b') }}`` -> ``a.b``, ``{{ this }}`` -> the model's name, ``{{ config(...) }}`` and ``{% if is_incremental() %}
... {% endif %}`` dropped (a full refresh), ``{{ dbt_utils.generate_surrogate_key([...]) }}`` ->
``md5(concat(...))``; Airflow templates ``{{ params.X }}`` take the case's ``params``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from suites import HERE, Case, edge, norm

REPOS = Path(os.environ.get("FLOWSCOPE_HELDOUT_REPOS", Path.home() / ".cache" / "flowscope" / "mirrors"))


def git_dir(root: Path, repo: str) -> Path:
    base = root / repo.replace("/", "+")
    return base / "repo" if (base / "repo").exists() else base


def read(root: Path, repo: str, commit: str, path: str) -> str:
    out = subprocess.run(
        ["git", "--git-dir", str(git_dir(root, repo)), "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
    )
    return out.stdout.decode("utf-8", "replace")


def from_line(text: str, line: int) -> str:
    """The statement starting at ``line``: up to the first line that ends with ';' (without it)."""
    lines = text.splitlines()[line - 1 :]
    out = []
    for raw in lines:
        out.append(raw)
        if raw.rstrip().endswith(";"):
            break
    return "\n".join(out).rstrip().rstrip(";")


_REF = re.compile(r"\{\{\s*ref\(\s*['\"]([^'\"]+)['\"]\s*\)\s*\}\}")
_SOURCE = re.compile(r"\{\{\s*source\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]+)['\"]\s*\)\s*\}\}")
_CONFIG = re.compile(r"\{\{\s*config\(.*?\)\s*\}\}", re.S)
_INCREMENTAL = re.compile(r"\{%-?\s*if\s+is_incremental\(\)\s*-?%\}.*?\{%-?\s*endif\s*-?%\}", re.S)
_SURROGATE = re.compile(r"\{\{\s*dbt_utils\.generate_surrogate_key\(\s*\[(.*?)\]\s*\)\s*\}\}", re.S)
_PARAM = re.compile(r"\{\{\s*params\.(\w+)\s*\}\}")


def compile_jinja(text: str, name: str, params: dict[str, str]) -> str:
    text = _CONFIG.sub("", text)
    text = _INCREMENTAL.sub("", text)
    text = _REF.sub(lambda m: m.group(1), text)
    text = _SOURCE.sub(lambda m: f"{m.group(1)}.{m.group(2)}", text)
    text = re.sub(r"\{\{\s*this\s*\}\}", name, text)
    text = _SURROGATE.sub(
        lambda m: "md5(concat(" + ", ".join(c.strip().strip("'\"") for c in m.group(1).split(",")) + "))",
        text,
    )
    return _PARAM.sub(lambda m: params.get(m.group(1), m.group(1)), text)


def expand(columns: list[str]) -> list[str]:
    """``col001..col100`` -> col001, col002, ... col100 (DDL with numbered columns)."""
    out = []
    for c in columns:
        m = re.fullmatch(r"([a-z_]+)(\d+)\.\.\1(\d+)", str(c))
        if m:
            width = len(m.group(2))
            out += [f"{m.group(1)}{i:0{width}d}" for i in range(int(m.group(2)), int(m.group(3)) + 1)]
        else:
            out.append(str(c))
    return out


def labels(case: dict[str, Any]) -> set[str]:
    cols = set(case.get("columns") or [])
    same = case.get("same")
    if same:
        cols |= {edge(same["from"], c, same["to"], c) for c in same["columns"]}
    return cols


def extract(root: Path, cache: Path) -> Path:
    data = yaml.safe_load((HERE / "heldout.yaml").read_text(encoding="utf-8"))
    rows = []
    for n, case in enumerate(data["cases"], 1):
        repo, path = case["repo"], case["path"]
        text = read(root, repo, data["repos"][repo], path)
        name = Path(path).stem
        if case.get("model"):
            sql = f"CREATE TABLE {name} AS\n{compile_jinja(text, name, {})}"
        else:
            sql = compile_jinja(from_line(text, case["line"]), name, case.get("params") or {})
        rows.append({"n": n, "repo": repo, "path": path, "sql": sql})
    out = cache / "heldout.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return out


def heldout_cases(cache: Path, root: Path = REPOS) -> list[Case]:
    data = yaml.safe_load((HERE / "heldout.yaml").read_text(encoding="utf-8"))
    extracted = cache / "heldout.jsonl"
    if not extracted.exists():
        extract(root, cache)
    texts = {r["n"]: r["sql"] for r in map(json.loads, extracted.read_text(encoding="utf-8").splitlines())}
    out = []
    for n, case in enumerate(data["cases"], 1):
        out.append(
            Case(
                f"heldout#{n}:{case['path'].rsplit('/', 1)[-1]}",
                texts[n],
                case["dialect"],
                {norm(t) for t in case["inputs"]},
                {norm(t) for t in case["outputs"]},
                labels(case),
                schemas={t: expand(cols) for t, cols in (case.get("schemas") or {}).items()},
            )
        )
    return out
