"""Edge and AssetInfo details <-> the JSON documents the store keeps per ``(collector, scope)`` row.

The identity columns (job, source, target) live in SQL; everything else an :class:`~flowscope.model.Edge`
carries goes into one compact JSON document so a scan writes one row per edge and a query decodes only
the edges it shows. Empty values are left out to keep a million rows small.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import datetime
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from flowscope.model import Asset, AssetInfo, Basis, Edge, Evidence, Job, SourceLocation, Transformation

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


# The C encoder called directly skips JSONEncoder's Python-level wrappers: half the cost per edge, which
# matters at a million edges per scan. Falls back to the public API where the C accelerator is missing.
def _default(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_c_encode = (
    c_make_encoder(None, _default, encode_basestring, None, ":", ",", False, False, True)
    if c_make_encoder
    else None
)


def _encode(value: object) -> str:
    return "".join(_c_encode(value, 0)) if _c_encode is not None else _dumps(value)


def _job_doc(job: Job) -> dict[str, Any] | None:
    if job.sql is None and job.source is None and job.job_type == "JOB" and job.processing_type == "BATCH":
        return None
    doc: dict[str, Any] = {}
    if job.job_type != "JOB":
        doc["type"] = job.job_type
    if job.processing_type != "BATCH":
        doc["processing"] = job.processing_type
    if job.sql is not None:
        doc["sql"] = job.sql
    if job.source is not None:
        s = job.source
        doc["source"] = {
            "path": s.path,
            "type": s.type,
            "url": s.url,
            "repo_url": s.repo_url,
            "version": s.version,
        }
    return doc


@functools.lru_cache(maxsize=4096)
def _iso_cached(value: datetime, offset: object) -> str:
    return value.isoformat()


def _iso(value: datetime | None) -> str | None:
    """The edges of one scan or ingested file share a few timestamps: format each once (keyed by the
    offset too: equal instants in two time zones are equal datetimes but print differently)."""
    return None if value is None else _iso_cached(value, value.utcoffset())


def edge_doc(edge: Edge) -> str:
    """A positional JSON array (smaller and faster than an object, as there is one per stored edge):
    ``[bases, transformations, evidence, count, collectors, guards, first_seen, last_seen, job]``."""
    return _encode(
        [
            [[b.kind, b.match] for b in edge.bases],
            [[t.type, t.subtype, t.masking, t.description] for t in edge.transformations],
            [[v.collector, v.kind, v.location, v.snippet, v.detail] for v in edge.evidence],
            edge.count,
            list(edge.collectors),
            list(edge.guards),
            _iso(edge.first_seen),
            _iso(edge.last_seen),
            _job_doc(edge.job),
        ]
    )


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def decode_edge(
    data: str, job_key: tuple[str, str], source: Asset, target: Asset | None, confidence: float
) -> Edge:
    bases, trs, evidence, count, collectors, guards, first, last, jd = json.loads(data)
    jd = jd or {}
    src = jd.get("source")
    job = Job(
        job_key[0],
        job_key[1],
        job_type=jd.get("type", "JOB"),
        processing_type=jd.get("processing", "BATCH"),
        sql=jd.get("sql"),
        source=SourceLocation(src["path"], src["type"], src["url"], src["repo_url"], src["version"])
        if src
        else None,
    )
    return Edge(
        job=job,
        source=source,
        target=target,
        confidence=confidence,
        bases={Basis(k, m) for k, m in bases},
        transformations={Transformation(t, s, m, d) for t, s, m, d in trs},
        evidence=[
            Evidence(c, k, loc, snip, tuple((a, b) for a, b in det)) for c, k, loc, snip, det in evidence
        ],
        collectors=set(collectors),
        guards=set(guards),
        count=count,
        first_seen=_time(first),
        last_seen=_time(last),
    )


def info_doc(info: AssetInfo) -> str:
    return _dumps(
        {"fields": [list(f) for f in info.fields], "tags": list(info.tags), "description": info.description}
    )


def merge_infos(asset: Asset, docs: Iterable[str], extra_fields: Iterable[str] = ()) -> AssetInfo:
    """One AssetInfo from what several scopes said: fields and tags unioned in first-seen order.

    A field's type is the first non-empty type any scope gave; ``extra_fields`` (fields known only from
    lineage) are appended with an empty type.
    """
    fields: dict[str, str] = {}
    tags: dict[str, None] = {}
    description = ""
    for data in docs:
        doc = json.loads(data)
        for name, type_ in doc["fields"]:
            if not fields.get(name):
                fields[name] = type_
        tags.update(dict.fromkeys(doc["tags"]))
        description = description or doc["description"]
    for name in extra_fields:
        fields.setdefault(name, "")
    return AssetInfo(asset, tuple(fields.items()), tuple(tags), description)
