"""Zone membership reaches the catalogs: the tags core's zone export puts on a scan's events become Marquez
tags on the field (tags API) and DataHub tags on the schema field, through the emitters as they are."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowscope.config import load_config
from flowscope.events import build_events, event_to_dict
from flowscope.model import Asset, Basis, Edge, Evidence, Job
from flowscope.store import Store
from flowscope.zones.export import zone_tags
from flowscope.zones.workspace import load_workspace
from flowscope_emitters.marquez import tag_operations

PG = "postgres://db.internal:5432"
EMAIL = Asset(PG, "shop.public.users", "email")
COPY = Asset(PG, "shop.public.emails", "email")


def zone_events(tmp_path: Path) -> list[dict[str, object]]:
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / "email.yaml").write_text(
        "name: email\ndata_categories: [user.contact.email]\nsources: ['shop.public.users#email']\n",
        encoding="utf-8",
    )
    (tmp_path / "flowscope.yaml").write_text("zones:\n  files: [zones/*.yaml]\n", encoding="utf-8")
    edge = Edge(
        job=Job(PG, "etl.emails"),
        source=EMAIL,
        target=COPY,
        confidence=0.9,
        bases={Basis("sql")},
        evidence=[Evidence("sql", "statement", "etl/emails.sql:3")],
        collectors={"sql"},
        count=1,
    )
    with Store.open(tmp_path / ".flowscope") as store:
        store.replace("sql", "repo", [edge], [], [])
        infos, problems = zone_tags(store, load_workspace(load_config(tmp_path / "flowscope.yaml")))
    assert problems == []
    when = datetime(2024, 5, 1, tzinfo=UTC)
    events = build_events(
        [edge], {i.asset: i for i in infos}, scan_id="s", event_time=when, collectors=["sql"]
    )
    return [event_to_dict(e) for e in events]


def test_zone_tags_become_marquez_field_tags(tmp_path: Path) -> None:
    ops = tag_operations(zone_events(tmp_path))
    users = f"namespaces/{'postgres%3A%2F%2Fdb.internal%3A5432'}/datasets/shop.public.users"
    assert (users, "email", "zone:email") in ops
    assert (users, "email", "data_category:user.contact.email") in ops
    assert not any(path.endswith("shop.public.emails") for path, _, _ in ops)  # not included by anyone


def test_zone_tags_become_datahub_schema_field_tags(tmp_path: Path) -> None:
    pytest.importorskip(
        "datahub", reason="acryl-datahub not installed: pip install 'flowscope-emitters[datahub]'"
    )
    import json

    from flowscope_emitters.datahub_convert import convert_all, dataset_urn

    mcps = convert_all(zone_events(tmp_path)).mcps()
    urn = dataset_urn(PG, "shop.public.users")
    values = [
        json.loads(m.aspect.value)
        for m in mcps
        if m.entityUrn == urn and m.aspectName == "editableSchemaMetadata"
    ]
    paths = [op["path"] for v in values for op in (v["patch"] if isinstance(v, dict) else v)]
    assert any("/editableSchemaFieldInfo/email/globalTags/tags/urn:li:tag:zone:email" in p for p in paths)
    assert any("urn:li:tag:data_category:user.contact.email" in p for p in paths)
