"""Zone answers for the page: every one is a call into :mod:`flowscope.zones` (status, discover,
apply_review) re-read on each request, so the page, the CLI and the review files never disagree.

The workspace (zone files, review files) is loaded per request: a decision written by ``flowscope zone
review`` in a terminal shows on the next click, with no server restart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flowscope.config import load_config
from flowscope.errors import UserError
from flowscope.model import Asset
from flowscope.store import Store
from flowscope_ui.answers import STATUS_SORT, BadRequest, NotFound, Params, integer, text

ACTIONS = ("include", "exclude", "acknowledge", "clear")


def workspace(config: Path | None) -> Any:
    from flowscope.zones import load_workspace

    return load_workspace(load_config(config))


def zone_of(ws: Any, name: str) -> Any:
    if name not in ws.zones:
        for path, error in ws.broken.items():
            if name == path.stem:
                raise BadRequest(str(error))
        raise NotFound(f"unknown zone {name!r} (zones: {', '.join(sorted(ws.zones)) or 'none'})")
    return ws.zones[name]


def list_zones(ws: Any) -> dict[str, Any]:
    return {
        "zones": [
            {
                "name": z.name,
                "file": z.display,
                "owner": z.owner,
                "description": z.description,
                "data_categories": list(z.data_categories),
            }
            for z in ws.zones.values()
        ],
        "broken": [str(e) for e in ws.broken.values()],
    }


def _row(state: Any) -> dict[str, Any]:
    d = state.decision
    return {
        "asset": state.asset.id,
        "label": f"{state.asset.name}#{state.asset.field}" if state.asset.field else state.asset.name,
        "namespace": state.asset.namespace,
        "status": state.status,
        "source": state.source,
        "confidence": state.confidence,
        "hops": state.hops,
        "decision": d.decision if d else None,
        "by": d.by if d else None,
        "reason": d.reason if d else None,
        "inherited": state.inherited,
        "acknowledged": state.acknowledged,
        "stale": state.stale,
        "uses": [u.use for u in state.uses],
        "denied": list(state.denied),
    }


def status_table(store: Store, ws: Any, zone: Any, params: Params) -> dict[str, Any]:
    """One page of the zone's assets (``zone_status``), filtered and sorted for the table view, plus the
    status of every asset as a compact map the graph colours from."""
    from flowscope.zones import zone_status

    sort = text(params, "sort", "status")
    if sort not in STATUS_SORT:
        raise BadRequest(f"parameter 'sort' must be one of {', '.join(STATUS_SORT)}, got {sort[:40]!r}")
    order = text(params, "order", "asc")
    if order not in ("asc", "desc"):
        raise BadRequest(f"parameter 'order' must be asc or desc, got {order[:40]!r}")
    wanted = text(params, "status", "")
    statuses = {s for s in wanted.split(",") if s}
    unknown = statuses - {"protected", "needs_review", "excluded", "violation"}
    if unknown:
        raise BadRequest(f"unknown status {sorted(unknown)[0]!r}")
    needle = text(params, "q", "").lower()
    offset = integer(params, "offset", 0, 0, 10**9)
    limit = integer(params, "limit", 200, 1, 5000)
    status = zone_status(store, ws, zone, paths=False)
    rows = [
        _row(s)
        for s in status.assets
        if (not statuses or s.status in statuses) and (not needle or needle in s.asset.id.lower())
    ]
    order_of = {"violation": 0, "needs_review": 1, "protected": 2, "excluded": 3}
    keys: dict[str, Callable[[dict[str, Any]], Any]] = {
        "status": lambda r: (order_of[r["status"]], r["asset"]),
        "asset": lambda r: r["asset"],
        "confidence": lambda r: (r["confidence"], r["asset"]),
        "hops": lambda r: (r["hops"], r["asset"]),
        "decision": lambda r: (r["decision"] or "", r["asset"]),
    }
    rows.sort(key=keys[sort], reverse=order == "desc")
    return {
        "zone": zone.name,
        "counts": status.counts(),
        "total": len(rows),
        "offset": offset,
        "rows": rows[offset : offset + limit],
        "colours": {s.asset.id: s.status for s in status.assets},
    }


def queue(store: Store, ws: Any, zone: Any) -> dict[str, Any]:
    """This iteration's review queue (``discover``): the candidates, biggest subtree first."""
    from flowscope.zones import discover

    found = discover(store, ws, zone)
    return {
        "zone": zone.name,
        "converged": found.converged,
        "pending": found.pending,
        "counts": found.status.counts(),
        "candidates": [
            {**_row(c.state), "behind": c.behind, "kinds": list(c.kinds), "from": c.start.id}
            for c in found.candidates
        ],
    }


def decisions(ws: Any, zone: Any) -> dict[str, Any]:
    review = ws.review(zone)
    return {
        "zone": zone.name,
        "file": str(review.path),
        "decisions": [d.to_json() for _, d in sorted(review.decisions.items())],
    }


def review(
    store: Store, ws: Any, zone: Any, body: Any, by: str, resolve: Callable[[str], Asset]
) -> dict[str, Any]:
    """Record a decision with the engine's ``apply_review`` (the same review file ``flowscope zone
    review`` writes). ``by`` comes from the server (token label or config), never from the request."""
    from flowscope.zones import apply_review

    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    action = body.get("action")
    if action not in ACTIONS:
        raise BadRequest(f"'action' must be one of {', '.join(ACTIONS)}")
    raw_assets = body.get("assets")
    if not isinstance(raw_assets, list) or not raw_assets or not all(isinstance(a, str) for a in raw_assets):
        raise BadRequest("'assets' must be a non-empty list of asset ids")
    if len(raw_assets) > 20_000:
        raise BadRequest("at most 20000 assets per review request")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 2000:
        raise BadRequest("'reason' must be a string of at most 2000 characters")
    downstream = body.get("downstream", False)
    if not isinstance(downstream, bool):
        raise BadRequest("'downstream' must be true or false")
    assets: Sequence[Asset] = [resolve(a) for a in raw_assets]
    try:
        out = apply_review(store, ws, zone, action, assets, reason=reason, by=by, downstream=downstream)
    except NotFound:
        raise
    except UserError as exc:
        raise BadRequest(str(exc)) from None
    result: dict[str, Any] = out.to_json()
    return result
