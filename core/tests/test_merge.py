from __future__ import annotations

from datetime import UTC, datetime

from flowscope.merge import merge_edges, merge_signals
from flowscope.model import Asset, Evidence, Job, Signal, SourceLocation, Transformation

JOB = Job("flowscope://static", "PhotoUploadController::upload")
SRC = Asset("mysql://appdb:3306", "photos_app.photos", "location")
DST = Asset("log://scribe", "photo_uploads", "location")


def sig(kind: str, line: int, match: str | None = None, **kw: object) -> tuple[str, Signal]:
    ev = Evidence(kind, kind, f"upload.php:{line}", "log($photo['location'])")
    return (kind, Signal(kind, JOB, SRC, DST, evidence=(ev,), match=match, **kw))  # type: ignore[arg-type]


def test_same_flow_from_moved_code_is_one_edge_with_both_evidence() -> None:
    [edge] = merge_signals([sig("static", 10), sig("static", 42)])
    assert [e.location for e in edge.evidence] == ["upload.php:10", "upload.php:42"]
    assert edge.count == 2
    assert edge.confidence == 0.35


def test_identical_evidence_is_kept_once() -> None:
    [edge] = merge_signals([sig("static", 10), sig("static", 10)])
    assert len(edge.evidence) == 1


def test_static_plus_runtime_is_raised_and_keeps_all_collectors() -> None:
    [edge] = merge_signals([sig("static", 10), sig("runtime", 0, "EXACT_MATCH")])
    assert edge.confidence >= 0.95
    assert edge.collectors == {"static", "runtime"}
    assert edge.kinds == ["runtime", "static"]


def test_unobserved_static_is_lowered_when_job_sampled_often() -> None:
    [edge] = merge_signals([sig("static", 10)], {JOB.key: 500})
    assert edge.confidence == 0.1


def test_spelling_variants_of_one_asset_merge() -> None:
    other = Signal("sql", JOB, Asset("MYSQL://AppDB:3306/", "`photos_app`.`photos`", "location"), DST)
    [edge] = merge_signals([sig("static", 10), ("sql", other)])
    assert edge.source == SRC


def test_times_span_and_job_description_is_kept() -> None:
    t1, t2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    rich_job = Job(JOB.namespace, JOB.name, job_type="FUNCTION", source=SourceLocation("www/upload.php"))
    a = ("runtime", Signal("runtime", JOB, SRC, DST, match="CONTAINS", first_seen=t2, last_seen=t2))
    b = ("static", Signal("static", rich_job, SRC, DST, first_seen=t1, last_seen=t1))
    [edge] = merge_signals([a, b])
    assert (edge.first_seen, edge.last_seen) == (t1, t2)
    assert edge.job.source is not None and edge.job.job_type == "FUNCTION"


def test_merge_edges_across_collectors_rescores() -> None:
    static = merge_signals([sig("static", 10)])
    runtime = merge_signals([sig("runtime", 0, "EXACT_MATCH")])
    [edge] = merge_edges(static + runtime)
    assert edge.confidence >= 0.95 and len(edge.evidence) == 2
    assert static[0].confidence == 0.35, "inputs are not mutated"


def test_transformations_accumulate() -> None:
    masked = Transformation("DIRECT", "TRANSFORMATION", masking=True)
    [edge] = merge_signals([sig("static", 1, transformation=masked)])
    assert edge.masked
