"""The zone engine on a small store: iterations, cascades, bulk decisions, staleness, violations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from flowscope.errors import UserError
from flowscope.store import Store
from flowscope.zones import Workspace, apply_review, check, discover, zone_status

from .conftest import (
    A_DOMAIN,
    ADS_EMAIL,
    CRM,
    D_DOMAIN,
    EMAIL,
    M_EMAIL,
    MART,
    R_DOMAIN,
    S_EMAIL,
    STAGING,
    SUPPORT_EMAIL,
    fill,
    sig,
)

Estate = tuple[Store, Callable[[], Workspace], Path]


def decide(estate: Estate, action: str, *assets: object, downstream: bool = False) -> object:
    store, ws, _ = estate
    w = ws()
    return apply_review(
        store,
        w,
        w.zone("email"),
        action,
        list(assets),
        reason="test",
        by="tester",
        downstream=downstream,  # type: ignore[arg-type]
    )


def test_first_iteration_lists_one_hop_candidates_with_what_sits_behind(estate: Estate) -> None:
    store, ws, _ = estate
    w = ws()
    found = discover(store, w, w.zone("email"))
    by = {c.asset: c for c in found.candidates}
    assert set(by) == {S_EMAIL, A_DOMAIN}
    assert by[S_EMAIL].behind == 3 and by[A_DOMAIN].behind == 2  # mart, ads, support / report, dash
    assert by[S_EMAIL].state.confidence == 0.9 and by[S_EMAIL].state.hops == 1
    assert by[S_EMAIL].kinds == ("sql",) and by[S_EMAIL].start == EMAIL
    assert [c.asset for c in found.candidates] == [S_EMAIL, A_DOMAIN]  # the bigger subtree first
    assert found.pending == 7 and not found.converged
    assert CRM not in {s.asset for s in found.status.assets}  # 0.35 edge: below min_confidence


def test_excluding_cascades_and_iterations_continue_from_included_assets(estate: Estate) -> None:
    store, ws, _ = estate
    decide(estate, "exclude", A_DOMAIN)
    w = ws()
    found = discover(store, w, w.zone("email"))
    assert [c.asset for c in found.candidates] == [S_EMAIL]
    assert found.pending == 4  # agg's subtree left the queue at once
    states = {s.asset: s.status for s in found.status.assets}
    assert states[A_DOMAIN] == "excluded" and R_DOMAIN not in states and D_DOMAIN not in states
    decide(estate, "include", S_EMAIL)
    assert [c.asset for c in discover(store, ws(), ws().zone("email")).candidates] == [M_EMAIL]
    decide(estate, "include", M_EMAIL)
    found = discover(store, ws(), ws().zone("email"))
    assert {c.asset for c in found.candidates} == {ADS_EMAIL, SUPPORT_EMAIL}
    assert {c.asset for c in found.candidates if c.state.denied} == {ADS_EMAIL}
    decide(estate, "include", SUPPORT_EMAIL)
    decide(estate, "acknowledge", ADS_EMAIL)
    found = discover(store, ws(), ws().zone("email"))
    assert found.converged and found.pending == 0


def test_violation_has_its_path_and_data_use_origin(estate: Estate) -> None:
    store, ws, _ = estate
    w = ws()
    status = zone_status(store, w, w.zone("email"))
    [v] = status.violations
    assert v.asset == ADS_EMAIL and v.denied == ("marketing.advertising.first_party.targeted",)
    assert v.uses[0].origin.endswith("flowscope.yaml:2")
    assert [e.target for e in v.path] == [S_EMAIL, M_EMAIL, ADS_EMAIL]
    assert all(e.evidence for e in v.path)
    support = status.state(SUPPORT_EMAIL)
    assert support is not None and support.status == "needs_review"
    assert [u.origin for u in support.uses] == ["tag data_use:essential.service"]


def test_downstream_applies_to_the_reachable_subtree_and_keeps_earlier_decisions(estate: Estate) -> None:
    store, ws, _ = estate
    decide(estate, "exclude", SUPPORT_EMAIL)
    out = decide(estate, "include", S_EMAIL, downstream=True)
    applied = {d.asset_id for d in out.applied}  # type: ignore[attr-defined]
    assert applied == {S_EMAIL.id, M_EMAIL.id, ADS_EMAIL.id}
    assert [d.asset_id for d in out.kept] == [SUPPORT_EMAIL.id]  # type: ignore[attr-defined]
    assert CRM.id not in applied  # below the zone's threshold: not in the subtree
    status = zone_status(store, ws(), ws().zone("email"))
    assert status.state(SUPPORT_EMAIL).status == "excluded"  # type: ignore[union-attr]


def test_a_dataset_decision_covers_its_fields_and_stops_the_walk(estate: Estate) -> None:
    store, ws, _ = estate
    decide(estate, "exclude", STAGING)
    status = zone_status(store, ws(), ws().zone("email"))
    s = status.state(S_EMAIL)
    assert s is not None and s.status == "excluded" and s.inherited
    assert status.state(M_EMAIL) is None and status.state(ADS_EMAIL) is None


def test_new_evidence_kinds_make_a_decision_stale(estate: Estate) -> None:
    store, ws, _ = estate
    decide(estate, "include", S_EMAIL)
    status = zone_status(store, ws(), ws().zone("email"))
    assert not status.stale
    # static analysis now sees the same flow: same path, a new kind of evidence on it
    fill(store, [sig("static", "stage", EMAIL, S_EMAIL)], scope="code")
    status = zone_status(store, ws(), ws().zone("email"))
    [stale] = status.stale
    assert stale.asset == S_EMAIL and stale.stale == "new evidence kinds on the path: static"
    report = check(store, ws(), [ws().zone("email")])
    assert "stale_decision" in {f.rule for f in report.findings}
    decide(estate, "include", S_EMAIL)  # reviewed again on the new evidence
    assert not zone_status(store, ws(), ws().zone("email")).stale


def test_an_included_asset_nothing_reaches_is_kept_walked_and_flagged(estate: Estate) -> None:
    store, ws, _ = estate
    decide(estate, "include", S_EMAIL)
    decide(estate, "include", M_EMAIL)
    store.replace("sql", "repo", [e for e in store.edges(collector="sql") if e.target != M_EMAIL], [], [])
    status = zone_status(store, ws(), ws().zone("email"))
    mart = status.state(M_EMAIL)
    assert (
        mart is not None
        and mart.status == "protected"
        and mart.stale == "no longer reached from the zone's sources"
    )
    assert status.state(ADS_EMAIL) is not None  # what the copy already reached stays in the zone


def test_decisions_on_assets_the_store_lost_are_reported_and_kept(estate: Estate) -> None:
    store, ws, root = estate
    decide(estate, "include", S_EMAIL)
    review = root / "zones" / "email.review.yaml"
    text = review.read_text(encoding="utf-8")
    ghost = (
        "  datasetField:hive://wh:9083:gone.table:email:\n    decision: include\n    by: someone\n"
        "    at: '2024-01-01T00:00:00Z'\n    reason: it held emails\n"
    )
    review.write_text(text + ghost, encoding="utf-8")
    status = zone_status(store, ws(), ws().zone("email"))
    assert [d.asset_id for d in status.missing] == ["datasetField:hive://wh:9083:gone.table:email"]
    decide(estate, "include", M_EMAIL)
    assert "gone.table" in review.read_text(encoding="utf-8")  # rewriting keeps it


def test_clear_removes_decisions_and_unknown_assets_are_errors(estate: Estate) -> None:
    store, ws, _ = estate
    decide(estate, "include", S_EMAIL)
    out = decide(estate, "clear", S_EMAIL)
    assert out.cleared == [S_EMAIL.id]  # type: ignore[attr-defined]
    with pytest.raises(UserError, match="unknown asset"):
        decide(estate, "include", MART.with_field("nope"))
    w = ws()
    with pytest.raises(UserError, match="needs a reason"):
        apply_review(store, w, w.zone("email"), "include", [S_EMAIL], reason=" ", by="x")
