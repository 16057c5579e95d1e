"""No literal of a logged query ever leaves (issue 19): canary values planted in every literal form of every
dialect, and in users and trace ids, are searched for in every byte the CLI and a scan produce: stdout,
stderr, the ``-o`` file and the whole store folder."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlglot.dialects.dialect import Dialect

from flowscope_sql import plugin
from flowscope_sql.literals import fingerprint, redact
from flowscope_sql.settings import DIALECTS

SEEDS = range(3)


def literal_forms(dialect: str, canary: str, number: str) -> list[str]:
    """Every way ``dialect`` writes a literal, each holding a canary (hex strings hold hex canaries)."""
    tok = Dialect.get_or_raise(dialect).tokenizer_class
    forms = [f"'{canary}'", f"'it''s {canary}'", number, f"{number}.5", f"{number}e3"]
    ident_opens = {i if isinstance(i, str) else i[0] for i in tok.IDENTIFIERS}
    for q in tok.QUOTES:
        if isinstance(q, str) and q not in ident_opens and q != "'":
            forms.append(f"{q}{canary}{q}")
    for attr in ("BYTE_STRINGS", "UNICODE_STRINGS", "RAW_STRINGS", "BIT_STRINGS", "HEX_STRINGS"):
        for spec in getattr(tok, attr, []) or []:
            if isinstance(spec, str) or not spec[1]:
                continue
            opener, close = spec
            body = {"HEX_STRINGS": "CAFE" + number, "BIT_STRINGS": "1011" + number[:0]}.get(attr, canary)
            if attr == "BIT_STRINGS":
                continue  # bits cannot hold a canary
            forms.append(f"{opener}{body}{close}")
    if "$" in (getattr(tok, "HEREDOC_STRINGS", []) or []):
        forms += [f"$${canary}$$", f"$tag${canary}$tag$"]
    return forms


def comments(dialect: str, canary: str) -> list[str]:
    tok = Dialect.get_or_raise(dialect).tokenizer_class
    out = [f"/* {canary} */", f"-- {canary}\n"]
    out += [f"{c} {canary}\n" for c in tok.COMMENTS if c in ("#", "//")]
    return out


def queries(dialect: str, rng: random.Random, canary: str, number: str) -> list[str]:
    forms = literal_forms(dialect, canary, number)
    notes = comments(dialect, canary)
    pick = rng.choice
    tok = Dialect.get_or_raise(dialect).tokenizer_class
    brackets_name = any((i if isinstance(i, str) else i[0]) == "[" for i in tok.IDENTIFIERS)
    out = []
    for form in forms:
        note = pick(notes)
        out += [
            f"INSERT INTO db.dst SELECT a, {form} AS b FROM db.src WHERE c = {form} {note}",
            f"SELECT {form}, a FROM db.src {note} WHERE a IN ({form}, {form})",
            f"{note} UPDATE db.dst SET b = {form} WHERE a = {form}",
            f"INSERT INTO db.dst (a, b) VALUES ({form}, {form}), ({form}, {form})",
            f"SELECT {'props' if brackets_name else f'props[{form}]'} FROM db.src",  # [x] names a column there
            f"SELECT a FROM db.src WHERE ( {form}",  # a syntax error that holds the canary
            f"FROBNICATE {form}",  # not SQL at all
        ]
    return out


def log_lines(rng: random.Random, canary: str, number: str) -> list[str]:
    lines = []
    for dialect in DIALECTS:
        for q, sql in enumerate(queries(dialect, rng, canary, number)):
            lines.append(
                json.dumps(
                    {
                        "query": sql,
                        "engine": dialect,
                        "query_id": f"{dialect}-{q}",
                        "user": f"{canary}@example.com",
                        "trace_id": f"trace-{canary}",
                    }
                )
            )
    return lines


def leaks(canaries: list[str], *blobs: bytes) -> list[str]:
    found = []
    for blob in blobs:
        low = blob.lower()
        found += [c for c in canaries if c.lower().encode() in low]
    return found


def everything_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.mark.parametrize("seed", SEEDS)
def test_no_canary_leaves_through_the_cli_or_a_scan(seed: int, tmp_path, plugin_manager, run_cli) -> None:
    rng = random.Random(seed)
    canary = f"canary{rng.randrange(10**6, 10**7)}x"
    number = str(rng.randrange(10**8, 10**9))
    log = tmp_path / "logs" / "queries.jsonl"
    log.parent.mkdir()
    log.write_text("\n".join(log_lines(rng, canary, number)) + "\n", encoding="utf-8")
    pm = plugin_manager(("sql", plugin))
    out = tmp_path / "out.jsonl"
    cli = run_cli(pm, "sql", "logs", str(log), "-d", "trino", "-o", str(out))
    assert cli.exit_code == 1  # the syntax errors and FROBNICATE are problems, named by line
    assert "warning: " in cli.stderr and out.stat().st_size > 0
    config = tmp_path / "flowscope.yaml"
    config.write_text("plugins:\n  sql:\n    logs: [logs/*.jsonl]\n", encoding="utf-8")
    scan_out = tmp_path / "scan.jsonl"
    scan = run_cli(pm, "scan", "--config", str(config), "--only", "sql", "-o", str(scan_out), "--json")
    assert scan_out.stat().st_size > 0
    store = Path(tmp_path / "store")
    assert store.is_dir() and any(store.iterdir())
    canaries = [canary, number, "CAFE" + number]
    blobs = [
        cli.stdout.encode(),
        cli.stderr.encode(),
        out.read_bytes(),
        scan.stdout.encode(),
        scan.stderr.encode(),
        scan_out.read_bytes(),
        everything_under(store),
    ]
    assert leaks(canaries, *blobs) == []
    events = [json.loads(x) for x in out.read_text().splitlines()]
    assert any("?" in (e["job"].get("facets", {}).get("sql", {}).get("query", "")) for e in events)


def test_raw_ids_only_by_opt_in(tmp_path, plugin_manager, run_cli) -> None:
    log = tmp_path / "q.jsonl"
    log.write_text(
        json.dumps({"query": "SELECT a FROM t", "user": "jane.doe", "trace_id": "tr-77", "query_id": "q1"})
        + "\n",
        encoding="utf-8",
    )
    pm = plugin_manager(("sql", plugin))
    hashed = run_cli(pm, "sql", "logs", str(log), "-d", "trino")
    assert "jane.doe" not in hashed.stdout and "tr-77" not in hashed.stdout and "h:" in hashed.stdout
    again = run_cli(pm, "sql", "logs", str(log), "-d", "trino")
    assert hashed.stdout == again.stdout  # same store, same salt, same hashes
    raw = run_cli(pm, "sql", "logs", str(log), "-d", "trino", "--keep-raw-ids")
    assert "jane.doe" in raw.stdout and "tr-77" in raw.stdout


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_literal_form_is_redacted(dialect: str) -> None:
    forms = literal_forms(dialect, "zzcanary", "424242")
    for form in forms + comments(dialect, "zzcanary"):
        text = redact(f"SELECT {form} FROM t WHERE x = 1", dialect)
        assert "zzcanary" not in text.lower() and "424242" not in text, (dialect, form, text)


def test_fingerprints_collapse_in_lists_and_values_rows() -> None:
    assert fingerprint("SELECT * FROM t WHERE id IN (1, 2, 3)", "trino") == fingerprint(
        "select * from t where id in (7)", "trino"
    )
    assert fingerprint("INSERT INTO t VALUES (1, 'a'), (2, 'b')", "mysql") == fingerprint(
        "INSERT INTO t VALUES (3, 'c')", "mysql"
    )
    assert fingerprint('SELECT a FROM "Users"', "trino") != fingerprint('SELECT a FROM "users"', "trino")
    assert fingerprint("SELECT a FROM t WHERE b IN (1, 2)", "trino") != fingerprint(
        "SELECT a FROM t WHERE b IN (SELECT c FROM u)", "trino"
    )
