"""The one confidence function. Plugins supply evidence (a :class:`~flowscope.model.Basis` per signal);
only this module turns evidence into a number, so every edge in every store is scored the same way.

Base confidence of one piece of evidence:

==========  ===============  =====  ====================================================================
kind        match            base   why
==========  ===============  =====  ====================================================================
declared    -                0.95   a person wrote it down; also lineage ingested from other producers
declared    FAILED_RUN       0.20   ingested from a run its producer reported FAIL or ABORT: tried, not done
sql         -                0.90   deterministic parse of the statement that moves the data
config      -                0.90   deterministic parse of a training/serving/feature config
runtime     EXACT_MATCH      0.90   the source value was seen verbatim in the sink payload
runtime     CONTAINS         0.80   the source value was seen inside the sink payload
runtime     NO_MATCH         0.15   both seen in one request, no value match: full-set, review only
context     JOB_ID           0.70   read and write share a warehouse job id
context     TRACE_ID         0.60   read and write share a trace id
context     USER_WINDOW      0.35   same user, close in time
static      -                0.35   code path found by analysis alone (capped, below)
static      DIRECT           0.40   unconditional, untransformed, into a sink named in the code
static      INDIRECT         0.30   through a transformation, an unknown call or a guard
static      OPAQUE           0.25   through two or more calls the analysis could not see into
static      UNRESOLVED       0.20   into a sink whose name the code does not spell out
==========  ===============  =====  ====================================================================

Combining evidence of an edge:

1. The strongest piece per kind counts once (a hundred static hits are still static evidence).
2. Independent kinds combine as a noisy-OR: ``1 - prod(1 - c)``.
3. Static alone never exceeds ``STATIC_CAP`` (0.40, medium-low).
4. Static confirmed by runtime EXACT_MATCH or CONTAINS is raised to at least ``CONFIRMED_FLOOR`` (0.95).
5. Static never observed at runtime while its job was sampled at least ``SAMPLED_OFTEN`` (100) times is
   lowered to ``UNOBSERVED`` (0.10) — unless other non-static evidence supports it.

The result is rounded to 3 decimals so stored and emitted values compare exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

from flowscope.model import Basis

BASE: dict[tuple[str, str | None], float] = {
    ("declared", None): 0.95,
    ("declared", "FAILED_RUN"): 0.20,
    ("sql", None): 0.90,
    ("config", None): 0.90,
    ("runtime", "EXACT_MATCH"): 0.90,
    ("runtime", "CONTAINS"): 0.80,
    ("runtime", "NO_MATCH"): 0.15,
    ("context", "JOB_ID"): 0.70,
    ("context", "TRACE_ID"): 0.60,
    ("context", "USER_WINDOW"): 0.35,
    ("static", None): 0.35,
    ("static", "DIRECT"): 0.40,
    ("static", "INDIRECT"): 0.30,
    ("static", "OPAQUE"): 0.25,
    ("static", "UNRESOLVED"): 0.20,
}
STATIC_CAP = 0.40
CONFIRMED_FLOOR = 0.95
SAMPLED_OFTEN = 100
UNOBSERVED = 0.10

# A runtime signal without a match type, or a context signal without a basis, is scored as the weakest
# of its kind rather than rejected: the plugin still told us something.
_DEFAULT_MATCH = {"runtime": "NO_MATCH", "context": "USER_WINDOW"}


def base_confidence(basis: Basis) -> float:
    """The confidence of a single piece of evidence (the table above)."""
    match = basis.match if basis.kind in _DEFAULT_MATCH or basis.kind in ("static", "declared") else None
    if basis.kind in _DEFAULT_MATCH and match is None:
        match = _DEFAULT_MATCH[basis.kind]
    try:
        return BASE[(basis.kind, match)]
    except KeyError:
        raise ValueError(f"no confidence defined for evidence {basis.kind}/{basis.match}") from None


def score(bases: Iterable[Basis], job_samples: int = 0) -> float:
    """Merge every piece of evidence of one edge into its confidence (rules 1-5 above)."""
    best: dict[str, float] = {}
    for basis in bases:
        c = base_confidence(basis)
        best[basis.kind] = max(best.get(basis.kind, 0.0), c)
    if not best:
        return 0.0
    confirmed = best.get("runtime", 0.0) >= BASE[("runtime", "CONTAINS")]
    if set(best) == {"static"}:
        if job_samples >= SAMPLED_OFTEN:
            return UNOBSERVED
        return round(min(best["static"], STATIC_CAP), 3)
    miss = 1.0
    for c in best.values():
        miss *= 1.0 - c
    result = 1.0 - miss
    if "static" in best and confirmed:
        result = max(result, CONFIRMED_FLOOR)
    return round(min(result, 1.0), 3)
