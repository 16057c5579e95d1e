"""``use_store_schemas``: star expansion from schema facets already in the embedded store."""

from __future__ import annotations

from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope.model import Asset, AssetInfo, Signal
from flowscope.store import Store
from flowscope_sql.collector import SqlCollector
from flowscope_sql.settings import Settings, Source

NS = "hive://warehouse:9083"


def _collect(tmp_path: Path, **options: object) -> tuple[list[Signal], list[str]]:
    (tmp_path / "job.sql").write_text(
        "INSERT INTO analytics.copy SELECT * FROM analytics.src", encoding="utf-8"
    )
    settings = Settings(files=["job.sql"], sources=[Source("hive", NS)], **options)  # type: ignore[arg-type]
    ctx = CollectContext("sql", settings, tmp_path)
    signals = [o for o in SqlCollector().collect(ctx) if isinstance(o, Signal)]
    return signals, [str(p) for p in ctx.problems]


def _fields(signals: list[Signal]) -> set[tuple[str | None, str | None]]:
    return {
        (s.source.field, s.target.field if s.target else None)
        for s in signals
        if s.transformation.type == "DIRECT"
    }


def test_star_is_expanded_from_the_store(tmp_path: Path) -> None:
    with Store.open(tmp_path / "store") as store:
        fields = (("id", "bigint"), ("email", "string"))
        store.replace("ingest", "airflow", [], [AssetInfo(Asset(NS, "analytics.src"), fields)], [])
        store.replace(
            "ingest", "other", [], [AssetInfo(Asset("mysql://db:3306", "analytics.src"), (("x", "int"),))], []
        )
    without, _ = _collect(tmp_path)
    assert _fields(without) == {("*", "*")}
    signals, problems = _collect(tmp_path, use_store_schemas=True, store="store")
    assert not problems
    assert _fields(signals) == {("id", "id"), ("email", "email")}  # the other namespace's table is not ours


def test_missing_store_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    signals, problems = _collect(tmp_path, use_store_schemas=True, store="nowhere")
    assert _fields(signals) == {("*", "*")}
    assert problems and "no flowscope store" in problems[0]
    assert not (tmp_path / "nowhere").exists()  # never created
