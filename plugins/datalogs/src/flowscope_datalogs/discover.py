"""``datalogs discover``: propose catalog entries from the lineage graph.

A warehouse table belongs in the export when one of its fields holds a user id: a field downstream of the
configured user-id fields (``--owner users.id``) through DIRECT, unmasked column lineage. The walk is
core's (:func:`flowscope.graph.walk_many`, DIRECT hops only); a field reached only through a hash or a
mask (``sha2(user_id)``) is not a user id and is listed as such, not proposed. Each proposal has that
field as its owner column and every other known column marked ``pending: true``: a reviewer must give
each a title and renderer or withhold it with a reason, because nothing pending is ever exported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope import assetref
from flowscope.errors import UserError
from flowscope.graph import WalkOptions, walk_many
from flowscope.model import Asset
from flowscope.naming import kind_of
from flowscope.store import Store
from flowscope.store.schema import DB_NAME
from flowscope.terminal import clean
from flowscope_datalogs.catalog import NAME

WAREHOUSE_SCHEMES = (
    "hive", "trino", "presto", "spark", "bigquery", "snowflake", "redshift", "databricks",
    "awsathena", "s3", "s3a", "gs", "hdfs", "abfss", "wasbs",
)  # fmt: skip
PARTITION_NAMES = ("ds", "dt")


@dataclass
class Proposal:
    dataset: Asset
    owner: str
    via: str  # the owner field's path, for the reviewer
    fields: list[tuple[str, str]]  # (name, type) of the other columns


@dataclass
class Found:
    owners: list[Asset]
    tables: list[Proposal] = field(default_factory=list)
    masked: list[str] = field(default_factory=list)
    known: int = 0  # proposals the given catalog already has


def _existing(catalog: Path | None) -> set[tuple[str, str, str]]:
    if catalog is None:
        return set()
    from flowscope_datalogs.catalog import load_catalog

    cat = load_catalog(catalog)
    known = {(t.namespace, t.dataset, t.owner) for t in cat.tables}
    return known | {s.identity for s in cat.skipped if s.identity is not None}


def discover(store_dir: Path, owners: list[str], namespaces: list[str], catalog: Path | None) -> Found:
    if not (store_dir / DB_NAME).exists():
        raise UserError("no lineage store here yet; run `flowscope scan` first", str(store_dir))
    known = _existing(catalog)
    with Store.open(store_dir) as store:
        starts = [assetref.resolve(store, o) for o in owners]
        for a in starts:
            if a.field is None:
                raise UserError(f"--owner {a.id} is a dataset; name its user-id field (e.g. users.id)")
        found = Found(starts)
        trav = walk_many(store, starts, "down", WalkOptions(direct_only=True))
        by_table: dict[Asset, list[tuple[str, str]]] = {}
        for r in trav.reached:
            a = r.asset
            if a.field is None or not _wanted(a, namespaces):
                continue
            masked = _masked_hop(store, r.path)
            if masked:
                found.masked.append(f"{a.namespace}/{a.name}#{a.field} (masked by {masked})")
                continue
            hops = " -> ".join(f"{s.job[1]}" for s in r.path)
            by_table.setdefault(a.dataset, []).append(
                (a.field, f"{r.hops} hop(s) via {hops}, confidence {r.confidence:g}")
            )
        for ds, owner_fields in sorted(by_table.items()):
            info = store.asset_info(ds)
            fields = list(info.fields) if info else []
            for owner, via in sorted(owner_fields):
                if (ds.namespace, ds.name, owner) in known:
                    found.known += 1
                    continue
                others = [(n, t) for n, t in fields if n != owner]
                found.tables.append(Proposal(ds, owner, via, others))
    return found


def _wanted(a: Asset, namespaces: list[str]) -> bool:
    if namespaces:
        return a.namespace in namespaces
    return kind_of(a) in WAREHOUSE_SCHEMES


def _masked_hop(store: Store, path: Any) -> str:
    """The job of the first masking hop on ``path``, or ``""``."""
    for step in path:
        for e in store.edges(step.target):
            if e.job.key == step.job and e.source == step.source and e.target == step.target and e.masked:
                return f"{step.job[1]}"
    return ""


def _yaml_key(name: str) -> str:
    return name if NAME.match(name) else json.dumps(name)


def _key(p: Proposal, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", p.dataset.name.rsplit(".", 1)[-1]).lstrip("0123456789") or "table"
    key = base if base not in taken else f"{base}_by_{p.owner}"
    taken.add(key)
    return key


def proposal_yaml(found: Found, data_root: str) -> str:
    q = json.dumps  # JSON strings are YAML strings: names with any character stay valid
    owners = clean(", ".join(a.id for a in found.owners))  # comments hold names from other people's files
    lines = [
        f"# Proposed by `flowscope datalogs discover` from column lineage downstream of {owners}.",
        "# Review every entry before use: give each column a title and a renderer, or withhold it with a",
        "# reason (other_people, integrity, security); set the location; then remove `pending: true`.",
        "# Nothing still pending is ever exported.",
        "version: 1",
        "user_id: {type: bigint}",
        "tables:",
    ]
    for m in found.masked:
        lines.insert(4, f"# not proposed, reached only through masking: {clean(m)}")
    if found.known:
        lines.insert(4, f"# {found.known} owner field(s) found are already in the catalog")
    if not found.tables:
        lines[-1] = "tables: {}  # nothing new to propose"
    taken: set[str] = set()
    for p in found.tables:
        key = _key(p, taken)
        names = [n for n, _ in p.fields]
        parts = [n for n in PARTITION_NAMES if n in names]
        lines += [
            f"  {key}:",
            "    pending: true",
            f"    dataset: {{namespace: {q(p.dataset.namespace)}, name: {q(p.dataset.name)}}}",
            f"    title: {q(p.dataset.name)}",
            '    description: ""',
            f"    location: {q(data_root.rstrip('/') + '/' + p.dataset.name.rsplit('.', 1)[-1])}",
            "    format: parquet",
            f"    partitions: [{', '.join(parts)}]" + ("  # guessed from the column names" if parts else ""),
            f"    owner: {_yaml_key(p.owner)}  # {clean(p.via)}",
            "    columns:",
        ]
        for name, ftype in p.fields:
            if name in parts:
                continue
            lines.append(
                f"      {_yaml_key(name)}: {{pending: true}}" + (f"  # {clean(ftype)}" if ftype else "")
            )
        if len(lines) and lines[-1] == "    columns:":
            lines[-1] = "    columns: {}"
    return "\n".join(lines) + "\n"


def proposal_json(found: Found) -> dict[str, Any]:
    return {
        "owners": [a.id for a in found.owners],
        "tables": [
            {
                "namespace": p.dataset.namespace,
                "name": p.dataset.name,
                "owner": p.owner,
                "via": p.via,
                "columns": [{"name": n, "type": t} for n, t in p.fields],
            }
            for p in found.tables
        ],
        "masked": found.masked,
        "already_in_catalog": found.known,
    }
