"""The peers' own regression suites (their "goldens"), extracted at run time into a cache outside the repo.

Nothing of theirs is committed here: this script reads their repositories (a git directory or a checkout)
and writes one JSON line per golden statement under ``--cache`` (default ``~/.cache/flowscope-sqlbench``):

- **sqllineage** (``reata/sqllineage``): its tests call ``assert_table_lineage_equal(sql, sources, targets,
  dialect=...)`` and ``assert_column_lineage_equal(sql, [(src, dst), ...], dialect=..., metadata_provider=...)``
  with parametrized dialects, f-strings and shared schemas, so they are run (pytest, in the bench environment
  where sqllineage is installed) with both helpers replaced by recorders: each call is written down, no
  lineage is computed. ``git archive`` of ``tests/`` at the recorded commit goes to the cache first.
- **DataHub** (``datahub-project/datahub``): ``metadata-ingestion/tests/unit/sql_parsing/test_sqlglot_lineage.py``
  calls ``assert_sql_result(sql, dialect=..., expected_file=RESOURCE_DIR / "x.json", schemas=..., default_db=...)``
  with literal arguments only; they are read with ``ast`` (never executed) and paired with the golden JSON files
  beside the test (``in_tables``, ``out_tables``, ``column_lineage``).

    python peers.py sqllineage --repo PATH/TO/sqllineage[.git] [--commit SHA]
    python peers.py datahub --root PATH/TO/datahub-checkout
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

CACHE = Path(os.environ.get("FLOWSCOPE_SQLBENCH_CACHE", Path.home() / ".cache" / "flowscope-sqlbench"))
SQLLINEAGE_COMMIT = "cc86b66201a362a7ea965fc7ab77d9dbc7daa625"  # reata/sqllineage, 2026-08-22 (v1.5.8-29)
DATAHUB_TEST = "metadata-ingestion/tests/unit/sql_parsing/test_sqlglot_lineage.py"
DATAHUB_GOLDENS = "metadata-ingestion/tests/unit/sql_parsing/goldens"

# Written next to sqllineage's tests: replaces the two assertion helpers with recorders.
RECORDER = """
import json, os
import pytest
from tests import helpers

OUT = os.environ["PEERS_OUT"]

def _table(t):
    return str(t)

def _record(kind, sql, dialect, **kw):
    with open(OUT, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"kind": kind, "sql": sql, "dialect": dialect,
                             "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0], **kw}) + "\\n")

def table_eq(sql, source_tables=None, target_tables=None, dialect="ansi", test_sqlfluff=True, test_sqlparse=True):
    _record("table", sql, dialect if test_sqlfluff else "non-validating",
            inputs=sorted(_table(t) for t in source_tables or []),
            outputs=sorted(_table(t) for t in target_tables or []))

def column_eq(sql, column_lineages=None, dialect="ansi", metadata_provider=None, test_sqlfluff=True, test_sqlparse=True):
    schemas = getattr(metadata_provider, "metadata", None)
    if metadata_provider is not None and schemas is None:
        return  # the same test with the SQLAlchemy provider: recorded once, with the dummy one
    pairs = [[[s.column, s.qualifier], [t.column, t.qualifier]] for s, t in column_lineages or []]
    _record("column", sql, dialect if test_sqlfluff else "non-validating", columns=pairs, schemas=schemas or {})

helpers.assert_table_lineage_equal = table_eq
helpers.assert_column_lineage_equal = column_eq
"""


def extract_sqllineage(repo: Path, commit: str, cache: Path) -> Path:
    out = cache / f"sqllineage-{commit[:12]}.jsonl"
    if out.exists():
        return out
    git_dir = repo / ".git" if (repo / ".git").exists() else repo
    work = cache / f"sqllineage-{commit[:12]}-tests"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as tar:
        subprocess.run(["git", "--git-dir", str(git_dir), "archive", commit, "tests"], stdout=tar, check=True)
        tar.seek(0)
        with tarfile.open(fileobj=tar) as archive:
            archive.extractall(work, filter="data")
    (work / "conftest.py").write_text(RECORDER, encoding="utf-8")
    partial = out.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    env = {**os.environ, "PEERS_OUT": str(partial)}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/sql", "-x", "--no-header"],
        cwd=work,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    partial.rename(out)
    return out


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # RESOURCE_DIR / "x.json"
        return _literal(node.right)
    return ast.literal_eval(node)


def extract_datahub(root: Path, cache: Path) -> Path:
    test = root / DATAHUB_TEST
    tree = ast.parse(test.read_text(encoding="utf-8"))
    out = cache / "datahub-goldens.jsonl"
    lines = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        skipped = any(w in ast.unparse(d) for d in fn.decorator_list for w in ("skip", "xfail"))
        for call in ast.walk(fn):
            if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "assert_sql_result"):
                continue
            try:
                args = {k.arg: _literal(k.value) for k in call.keywords if k.arg}
                sql = _literal(call.args[0]) if call.args else args.pop("sql")
            except (ValueError, KeyError, IndexError):
                continue  # a call built from variables: not a literal golden
            golden_path = root / DATAHUB_GOLDENS / str(args.get("expected_file", ""))
            if not golden_path.is_file():
                continue
            golden = json.loads(golden_path.read_text(encoding="utf-8"))
            columns = []
            for info in golden.get("column_lineage") or []:
                down = info["downstream"]
                for up in info.get("upstreams") or []:
                    columns.append([[up["column"], up["table"]], [down["column"], down.get("table")]])
            lines.append(
                {
                    "kind": "column",
                    "test": fn.name,
                    "skipped": skipped,
                    "sql": sql,
                    "dialect": args.get("dialect", ""),
                    "default_db": args.get("default_db"),
                    "default_schema": args.get("default_schema"),
                    "schemas": args.get("schemas") or {},
                    "allow_table_error": bool(args.get("allow_table_error")),
                    "query_type": golden.get("query_type"),
                    "inputs": golden.get("in_tables") or [],
                    "outputs": golden.get("out_tables") or [],
                    "columns": columns,
                    "no_column_lineage": golden.get("column_lineage") is None,  # DataHub does not do CLL here
                }
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return out


def urn_name(urn: str) -> str:
    """``urn:li:dataset:(urn:li:dataPlatform:p,db.schema.t,PROD)`` -> ``db.schema.t``."""
    match = re.search(r"urn:li:dataset:\(urn:li:dataPlatform:[^,]+,(.+),[A-Z]+\)$", urn)
    return match.group(1) if match else urn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("peer", choices=["sqllineage", "datahub"])
    parser.add_argument("--repo", type=Path, help="sqllineage: its git directory or a clone")
    parser.add_argument("--commit", default=SQLLINEAGE_COMMIT)
    parser.add_argument("--root", type=Path, help="DataHub: a checkout (only the sql_parsing tests are read)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    if args.peer == "sqllineage":
        path = extract_sqllineage(args.repo, args.commit, args.cache)
    else:
        path = extract_datahub(args.root, args.cache)
    print(f"{sum(1 for _ in path.open())} goldens in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
