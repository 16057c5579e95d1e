"""A small estate for the zone engine: a source field, a copy chain into an ads model, an aggregate
branch to exclude, a weak static edge below the zone's threshold, and purposes from config and tags."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flowscope.config import load_config
from flowscope.merge import merge_signals
from flowscope.model import Asset, AssetInfo, Evidence, Job, Signal, SignalKind, Transformation
from flowscope.store import Store
from flowscope.zones import Workspace, load_workspace

USERS = Asset("pg://db:5432", "app.users")
EMAIL = USERS.with_field("email")
STAGING = Asset("hive://wh:9083", "staging.users")
S_EMAIL = STAGING.with_field("email")
MART = Asset("hive://wh:9083", "mart.contacts")
M_EMAIL = MART.with_field("email")
AGG = Asset("hive://wh:9083", "agg.domains")
A_DOMAIN = AGG.with_field("domain")
REPORT = Asset("hive://wh:9083", "report.domains")
R_DOMAIN = REPORT.with_field("domain")
DASH = Asset("hive://wh:9083", "dash.domains")
D_DOMAIN = DASH.with_field("domain")
ADS = Asset("model://registry", "ads_model")
ADS_EMAIL = ADS.with_field("email")
SUPPORT = Asset("service://support", "/tickets")
SUPPORT_EMAIL = SUPPORT.with_field("email")
CRM = Asset("log://default", "crm_export")

ZONE = """\
name: email
description: Users' email addresses.
owner: privacy@example.com
data_categories: [user.contact.email]
sources:
  - app.users#email
allowed: [essential.service]
denied: [marketing.advertising]
discovery:
  min_confidence: 0.5
"""

CONFIG = """\
purposes:
  model://registry/ads_model: marketing.advertising.first_party.targeted
zones:
  files: [zones/*.yaml]
"""


def sig(kind: SignalKind, job: str, source: Asset, target: Asset, line: int = 3, **kw: object) -> Signal:
    ev = (Evidence(kind, kind, f"jobs/{job}.sql:{line}"),)
    return Signal(kind, Job("flowscope://etl", job), source, target, evidence=ev, **kw)  # type: ignore[arg-type]


BASE = [
    sig("sql", "stage", EMAIL, S_EMAIL),  # 0.90
    sig("sql", "mart", S_EMAIL, M_EMAIL),
    sig("sql", "agg", EMAIL, A_DOMAIN, transformation=Transformation("DIRECT", "TRANSFORMATION")),
    sig("sql", "report", A_DOMAIN, R_DOMAIN),
    sig("sql", "dash", R_DOMAIN, D_DOMAIN),
    sig("config", "train_ads", M_EMAIL, ADS_EMAIL),
    sig("declared", "support", M_EMAIL, SUPPORT_EMAIL),  # 0.95
    sig("static", "crm", M_EMAIL, CRM),  # 0.35: below the zone's 0.5
]


def fill(store: Store, signals: list[Signal], scope: str = "repo") -> None:
    by_kind: dict[str, list[tuple[str, Signal]]] = {}
    for s in signals:
        by_kind.setdefault(s.kind, []).append((s.kind, s))
    for kind, group in by_kind.items():
        store.replace(kind, scope, merge_signals(group), [], [])
    store.replace(
        "catalog",
        scope,
        [],
        [AssetInfo(SUPPORT, tags=("data_use:essential.service",)), AssetInfo(EMAIL, tags=("pii",))],
        [],
    )


@pytest.fixture
def estate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Store, Callable[[], Workspace], Path]]:
    """(store, a function loading the workspace fresh, the folder of the config)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / "email.yaml").write_text(ZONE, encoding="utf-8")
    (tmp_path / "flowscope.yaml").write_text(CONFIG, encoding="utf-8")
    with Store.open(tmp_path / ".flowscope") as store:
        fill(store, BASE)
        yield store, lambda: load_workspace(load_config(tmp_path / "flowscope.yaml")), tmp_path
