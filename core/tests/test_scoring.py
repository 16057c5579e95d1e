from __future__ import annotations

import pytest

from flowscope import scoring
from flowscope.model import Basis


@pytest.mark.parametrize(
    ("kind", "match", "expected"),
    [
        ("declared", None, 0.95),
        ("declared", "FAILED_RUN", 0.20),
        ("sql", None, 0.90),
        ("config", None, 0.90),
        ("runtime", "EXACT_MATCH", 0.90),
        ("runtime", "CONTAINS", 0.80),
        ("runtime", "NO_MATCH", 0.15),
        ("context", "JOB_ID", 0.70),
        ("context", "TRACE_ID", 0.60),
        ("context", "USER_WINDOW", 0.35),
        ("static", None, 0.35),
        ("static", "DIRECT", 0.40),
        ("static", "INDIRECT", 0.30),
        ("static", "OPAQUE", 0.25),
        ("static", "UNRESOLVED", 0.20),
    ],
)
def test_every_row_of_the_base_table(kind: str, match: str | None, expected: float) -> None:
    assert scoring.base_confidence(Basis(kind, match)) == expected
    assert scoring.score([Basis(kind, match)]) == expected


def test_table_has_no_row_untested() -> None:
    assert len(scoring.BASE) == 15


def test_context_confidence_falls_job_trace_user() -> None:
    job, trace, user = (scoring.score([Basis("context", m)]) for m in ("JOB_ID", "TRACE_ID", "USER_WINDOW"))
    assert job > trace > user


def test_runtime_without_match_is_weakest_runtime() -> None:
    assert scoring.score([Basis("runtime")]) == scoring.BASE[("runtime", "NO_MATCH")]


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="no confidence"):
        scoring.score([Basis("guess")])


def test_static_alone_is_capped_even_with_many_hits() -> None:
    assert scoring.score([Basis("static")] * 50) <= scoring.STATIC_CAP


def test_static_confirmed_by_runtime_is_raised() -> None:
    for match in ("EXACT_MATCH", "CONTAINS"):
        confirmed = scoring.score([Basis("static"), Basis("runtime", match)])
        assert confirmed >= scoring.CONFIRMED_FLOOR
        assert confirmed > scoring.score([Basis("runtime", match)])


def test_static_with_no_match_runtime_is_not_confirmed() -> None:
    assert scoring.score([Basis("static"), Basis("runtime", "NO_MATCH")]) < scoring.CONFIRMED_FLOOR


def test_static_never_seen_while_job_sampled_often_is_lowered() -> None:
    assert scoring.score([Basis("static")], job_samples=scoring.SAMPLED_OFTEN) == scoring.UNOBSERVED
    assert (
        scoring.score([Basis("static")], job_samples=scoring.SAMPLED_OFTEN - 1)
        == scoring.BASE[("static", None)]
    )


def test_sampled_job_does_not_lower_static_with_other_evidence() -> None:
    assert scoring.score([Basis("static"), Basis("sql")], job_samples=10_000) > 0.9


def test_independent_kinds_combine_as_noisy_or() -> None:
    assert scoring.score([Basis("sql"), Basis("context", "JOB_ID")]) == round(1 - 0.1 * 0.3, 3)


def test_empty_evidence_scores_zero() -> None:
    assert scoring.score([]) == 0.0


def test_static_strength_orders_static_evidence_under_the_cap() -> None:
    direct = scoring.score([Basis("static", "DIRECT")])
    plain = scoring.score([Basis("static")])
    indirect = scoring.score([Basis("static", "INDIRECT")])
    opaque = scoring.score([Basis("static", "OPAQUE")])
    unresolved = scoring.score([Basis("static", "UNRESOLVED")])
    assert scoring.STATIC_CAP >= direct > plain > indirect > opaque > unresolved > 0
    # the strongest static piece of an edge counts: a direct hit beside weaker ones keeps the edge at DIRECT
    assert scoring.score([Basis("static", "INDIRECT"), Basis("static", "DIRECT")]) == direct


def test_a_failed_run_does_not_lower_a_flow_a_completed_run_declared() -> None:
    assert scoring.score([Basis("declared", "FAILED_RUN"), Basis("declared")]) == 0.95
    assert scoring.score([Basis("declared", "FAILED_RUN"), Basis("static")]) == 0.48  # 1 - 0.8 * 0.65
