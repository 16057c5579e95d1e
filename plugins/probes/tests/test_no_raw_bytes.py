"""No raw value in any byte written (issue 21, item 1): keys are user data too.

A property test: random keys (identifiers, and the kinds of keys that are really values — e-mail addresses,
ids, names with spaces, non-ASCII text, dotted and punctuated strings) and random values (e-mail addresses,
ids, phone numbers, free text) go through a Flask service under the probes as JSON bodies and query strings;
the service writes them to a log record, a Redis hash (fakeredis), a cache key, an SQLite table and an
explicit sink, so values match and their sink paths are written too. Then every byte the probes wrote (the
spool), the collector's output (``probes show --json``, ``probes status --json``) and ``flowscope scan -o``
(the events file and the store folder) is searched for every value and every key that is not an identifier.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from flask import Flask, request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowscope_probes
from flowscope_probes import plugin
from flowscope_probes.collector import summarize
from flowscope_probes.keys import IDENTIFIER

IDENT = st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True)
EMAIL = st.from_regex(r"[a-z]{3,8}\.[a-z]{3,8}@[a-z]{4,8}\.(org|com|net)", fullmatch=True)
NUMBER = st.from_regex(r"[1-9][0-9]{6,11}", fullmatch=True)
NAME = st.from_regex(r"[A-Z][a-z]{3,7} [A-Z][a-z]{3,9}", fullmatch=True)
UNICODE = st.text(st.characters(min_codepoint=0xC0, max_codepoint=0x24F), min_size=5, max_size=10)
PUNCT = st.from_regex(r"[a-z]{3,6}[|#/:+~%][a-z]{3,6}[0-9]{2}", fullmatch=True)
HOSTILE_KEY = st.one_of(EMAIL, NUMBER, NAME, UNICODE, PUNCT, st.from_regex(r"u[0-9]{6,9}", fullmatch=True))
KEY = st.one_of(IDENT, HOSTILE_KEY)
VALUE = st.one_of(
    EMAIL,
    NUMBER,
    NAME.map(lambda n: f"{n} {len(n)}7"),
    st.from_regex(r"\+44 7[0-9]{3} [0-9]{6}", fullmatch=True),
)
PAIRS = st.dictionaries(KEY, VALUE, min_size=1, max_size=4)


def service(db: Path, cache: Any) -> Flask:
    app = Flask("prefs")
    log = logging.getLogger("prefs.audit")

    @app.route("/api/v1/prefs/<user>", methods=["POST"])
    def save_prefs(user: str) -> dict[str, bool]:
        body = request.get_json()
        prefs = body["prefs"]
        log.info("prefs %s for %s", prefs, user)
        cache.hset(f"prefs:{user}", mapping=prefs)
        for value in prefs.values():
            cache.set(f"seen:{value}", "1")
        conn = sqlite3.connect(db)
        with conn:
            conn.executemany("INSERT INTO prefs (name, value) VALUES (?, ?)", list(prefs.items()))
        conn.close()
        flowscope_probes.sink(
            "log://python/prefs.raw", {"user": user, "prefs": prefs, "args": dict(request.args)}
        )
        return {"ok": True}

    return app


def forms(text: str) -> Iterator[str]:
    """How a string could appear in a written file: as is, JSON-escaped, lower-cased."""
    for t in {text, text.lower()}:
        yield t
        yield json.dumps(t)[1:-1]
        yield json.dumps(t, ensure_ascii=False)[1:-1]


def test_no_raw_key_or_value_in_any_written_byte(
    probes: Callable[..., Any],
    tmp_path: Path,
    plugin_manager: Callable[..., Any],
    run_cli: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE prefs (name TEXT, value TEXT)")
    probes(service="prefs", http_host="prefs.internal", spool=tmp_path / "spool")
    logging.getLogger("prefs.audit").setLevel(logging.INFO)
    client = service(db, fakeredis.FakeRedis(host="prefs-cache.internal")).test_client()
    secrets: set[str] = set()

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(user=VALUE, prefs=PAIRS, query=PAIRS)
    def drive(user: str, prefs: dict[str, str], query: dict[str, str]) -> None:
        r = client.post(f"/api/v1/prefs/{user}", query_string=query, json={"prefs": prefs, "user_id": user})
        assert r.status_code == 200
        for mapping in (prefs, query):
            secrets.update(k for k in mapping if not IDENTIFIER.fullmatch(k) or re.search(r"[0-9]{5}", k))
            secrets.update(mapping.values())
        secrets.add(user)
        for value in [*prefs.values(), *query.values(), user]:  # and the parts that name a person
            if "@" in value:
                secrets.add(value.split("@")[0])
            elif value[0].isalpha():
                secrets.add(value.rsplit(" ", 1)[0])

    drive()
    flowscope_probes.uninstall()  # flushes everything
    cfg = tmp_path / "flowscope.yaml"
    cfg.write_text("plugins:\n  probes:\n    spool: spool\n")
    pm = plugin_manager(("probes", plugin))
    written: dict[str, str] = {}
    for args in (("probes", "show", "--json"), ("probes", "status", "--json")):
        result = run_cli(pm, *args, str(tmp_path / "spool"))
        assert result.exit_code == 0, result.output
        written[" ".join(args)] = result.output
    result = run_cli(pm, "scan", "--config", str(cfg), "-o", str(tmp_path / "events.jsonl"))
    assert result.exit_code == 0, result.output
    written["scan output"] = result.output
    for path in [
        *(tmp_path / "spool").iterdir(),
        tmp_path / "events.jsonl",
        *(tmp_path / ".flowscope").rglob("*"),
    ]:
        if path.is_file() and path.name != "salt":
            written[str(path)] = path.read_bytes().decode("utf-8", "replace")
    written["log"] = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("flowscope"))
    shows = json.loads(written["probes show --json"])
    assert any(r["match"] != "NO_MATCH" for r in shows["rows"]), "values matched: sink paths were written"
    assert len(secrets) > 100
    for where, text in written.items():
        low = text.lower()
        for secret in secrets:
            for form in forms(secret):
                assert form.lower() not in low, f"{secret!r} written in {where}"


def test_distinct_labels_per_job_are_capped_and_the_overflow_counted(probes: Callable[..., Any]) -> None:
    rt = probes(service="prefs", max_labels=12)
    app = Flask("cap")

    @app.route("/prefs", methods=["POST"])
    def save_prefs() -> dict[str, bool]:
        prefs = request.get_json()
        flowscope_probes.sink("log://python/prefs", {"prefs": prefs})
        return {"ok": True}

    client = app.test_client()
    for i in range(40):  # a map keyed by e-mail address: every request brings new keys
        client.post("/prefs", json={f"user{i}.name@example.org": f"verified-{i:06d}", f"k{i}": f"{i:07d}"})
    flowscope_probes.flush()
    s = summarize(rt.settings.spool)
    labels = {k[1] for k in s.rows} | {f"{k[2]} {k[4]}" for k in s.rows}
    assert len(labels) <= 12
    (health,) = s.health.values()
    assert health["labels_dropped"] > 0
    assert health["labels_dropped"] == rt.worker.stats.labels_dropped
    assert s.samples == {"service://prefs|save_prefs": 40}  # the requests still count
