"""Round trips through real DataHub Lite (acryl-datahub's ``datahub.lite``, SQLite backend): the example's
events written with ``flowscope emit --to datahub-lite``, read back through Lite's own API and compared with
the events. Skipped without the ``datahub`` extra (CI's emitters-alone run installs it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flowscope_emitters.plugin
from flowscope.cli import main
from flowscope.plugins import make_manager
from flowscope.store import Store

pytest.importorskip(
    "datahub", reason="acryl-datahub not installed: pip install 'flowscope-emitters[datahub]'"
)

from flowscope_emitters.datahub_convert import dataset_urn

# acryl-datahub's Lite calls its own deprecated urn methods on every write: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
OTHER = "urn:li:dataset:(urn:li:dataPlatform:kafka,other.source_topic,PROD)"


def field_urn(dataset: str, field: str) -> str:
    return f"urn:li:schemaField:({dataset},{field})"


@pytest.fixture
def store(tmp_path: Path, example_events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "store"
    with Store.open(where) as s:
        s.replace("scan", "example", [], [], example_events)
    monkeypatch.setenv("FLOWSCOPE_STORE", str(where))
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )
    return where


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    code = done.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


@pytest.fixture
def lite_reader() -> Iterator[Any]:
    from datahub.lite.lite_util import get_datahub_lite

    opened: list[Any] = []

    def open_(path: Path) -> Any:
        lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path), "read_only": True}}, True)
        opened.append(lite)
        return lite

    yield open_
    for lite in opened:
        lite.close()


def expected(events: list[dict[str, Any]]) -> dict[str, Any]:
    """What DataHub should hold, worked out from the OpenLineage events alone."""
    upstreams: dict[str, set[str]] = {}
    fine: dict[tuple[str, str], dict[str, float]] = {}  # (downstream field, operation) -> upstream -> conf
    schemas: dict[str, set[str]] = {}
    tags: dict[str, set[str]] = {}
    field_tags: dict[tuple[str, str], set[str]] = {}
    for ev in events:
        ins = ev.get("inputs") or []
        for ds in ins + (ev.get("outputs") or []):
            urn = dataset_urn(ds["namespace"], ds["name"])
            facets = ds.get("facets") or {}
            for f in (facets.get("schema") or {}).get("fields") or []:
                schemas.setdefault(urn, set()).add(f["name"])
            for t in (facets.get("tags") or {}).get("tags") or []:
                name = t["key"] if t.get("value") in ("", "true") else f"{t['key']}:{t['value']}"
                where = (
                    field_tags.setdefault((urn, t["field"]), set())
                    if t.get("field")
                    else tags.setdefault(urn, set())
                )
                where.add(f"urn:li:tag:{name}")
        for out in ev.get("outputs") or []:
            urn = dataset_urn(out["namespace"], out["name"])
            facets = out.get("facets") or {}
            # A dataset's upstreams are the inputs its edges come from (field-level, dataset-level and
            # INDIRECT ones), else every input of the job.
            lineage = facets.get("columnLineage") or {}
            named = [i for spec in (lineage.get("fields") or {}).values() for i in spec["inputFields"]]
            named += list(lineage.get("dataset") or [])
            named += [e["input"] for e in (facets.get("flowscope") or {}).get("edges") or []]
            sources = {dataset_urn(i["namespace"], i["name"]) for i in named or ins}
            upstreams.setdefault(urn, set()).update(sources)
            conf = {}
            for e in (facets.get("flowscope") or {}).get("edges") or []:
                i = e["input"]
                conf[(i["namespace"], i["name"], i.get("field"), e.get("outputField"))] = e["confidence"]
            for name, spec in ((facets.get("columnLineage") or {}).get("fields") or {}).items():
                for i in spec["inputFields"]:
                    op = ",".join(f"{t['type']}/{t['subtype']}" for t in i.get("transformations") or [])
                    up = field_urn(dataset_urn(i["namespace"], i["name"]), i["field"])
                    c = conf.get((i["namespace"], i["name"], i["field"], name), 1.0)
                    ups = fine.setdefault((field_urn(urn, name), op), {})
                    ups[up] = min(c, ups.get(up, 1.0))
    return {"upstreams": upstreams, "fine": fine, "schemas": schemas, "tags": tags, "field_tags": field_tags}


def read_back(lite: Any) -> dict[str, Any]:
    upstreams: dict[str, set[str]] = {}
    fine: dict[tuple[str, str], dict[str, float]] = {}
    schemas: dict[str, set[str]] = {}
    tags: dict[str, set[str]] = {}
    field_tags: dict[tuple[str, str], set[str]] = {}
    for urn in lite.list_ids():
        got = lite.get(urn, None, typed=True) or {}
        if "upstreamLineage" in got:
            lineage = got["upstreamLineage"]
            upstreams[urn] = {u.dataset for u in lineage.upstreams}
            for fgl in lineage.fineGrainedLineages or []:
                [down] = fgl.downstreams
                key = (down, fgl.transformOperation or "")
                assert key not in fine, f"one fine-grained lineage per downstream and operation: {key}"
                fine[key] = {up: fgl.confidenceScore for up in fgl.upstreams}
        if "schemaMetadata" in got:
            schemas[urn] = {f.fieldPath for f in got["schemaMetadata"].fields}
        if "globalTags" in got:
            tags[urn] = {t.tag for t in got["globalTags"].tags}
        if "editableSchemaMetadata" in got:
            for info in got["editableSchemaMetadata"].editableSchemaFieldInfo:
                field_tags[(urn, info.fieldPath)] = {t.tag for t in info.globalTags.tags}
    return {"upstreams": upstreams, "fine": fine, "schemas": schemas, "tags": tags, "field_tags": field_tags}


def as_min(fine: dict[tuple[str, str], dict[str, float]]) -> dict[tuple[str, str], tuple[set[str], float]]:
    """DataHub keeps one confidence per fine-grained lineage: the lowest of its upstreams'."""
    return {k: (set(v), round(min(v.values()), 6)) for k, v in fine.items()}


def test_example_round_trip_through_lite(
    store: Path, tmp_path: Path, example_events: list[dict[str, Any]], capsys: Any, lite_reader: Any
) -> None:
    path = tmp_path / "lite" / "datahub.db"
    code, err = run(capsys, "emit", "--to", "datahub-lite", str(path))
    assert code == 0, err
    assert err.startswith(f"datahub-lite {path}: ") and err.strip().endswith(
        f"from {len(example_events)} events"
    )
    want, got = expected(example_events), read_back(lite_reader(path))
    assert want["fine"], "the example has column lineage"
    assert got["upstreams"] == want["upstreams"]
    assert as_min(got["fine"]) == as_min(want["fine"])
    assert {c for v in got["fine"].values() for c in v.values()} != {1.0}, "confidence is carried"
    assert got["schemas"] == want["schemas"]
    assert got["tags"] == want["tags"] and want["tags"]
    assert got["field_tags"] == want["field_tags"] and want["field_tags"]
    jobs = [u for u in lite_reader(path).list_ids() if u.startswith("urn:li:dataJob:")]
    assert len(jobs) == sum(1 for e in example_events if e.get("inputs") or e.get("outputs"))
    # A second emit changes nothing: patches merge by key, they do not pile up.
    code, err = run(capsys, "emit", "--to", "datahub-lite", str(path))
    assert code == 0, err
    again = read_back(lite_reader(path))
    assert again == got


def test_what_other_sources_wrote_survives(
    store: Path, tmp_path: Path, example_events: list[dict[str, Any]], capsys: Any, lite_reader: Any
) -> None:
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.lite.lite_util import get_datahub_lite
    from datahub.metadata.schema_classes import (
        FineGrainedLineageClass,
        GlobalTagsClass,
        TagAssociationClass,
        UpstreamClass,
        UpstreamLineageClass,
    )

    path = tmp_path / "datahub.db"
    photos = dataset_urn("mysql://appdb:3306", "photos_app.photos")
    other_fgl = FineGrainedLineageClass(
        upstreamType="FIELD_SET",
        upstreams=[field_urn(OTHER, "loc")],
        downstreamType="FIELD",
        downstreams=[field_urn(photos, "location")],
        confidenceScore=0.5,
        transformOperation="IDENTITY",
    )
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path)}})
    lite.write(
        MetadataChangeProposalWrapper(
            entityUrn=photos,
            aspect=UpstreamLineageClass(
                upstreams=[UpstreamClass(OTHER, "COPY")], fineGrainedLineages=[other_fgl]
            ),
        )
    )
    lite.write(
        MetadataChangeProposalWrapper(
            entityUrn=photos, aspect=GlobalTagsClass([TagAssociationClass("urn:li:tag:other")])
        )
    )
    lite.close()
    code, err = run(capsys, "emit", "--to", "datahub-lite", str(path))
    assert code == 0, err
    got = lite_reader(path).get(photos, ["upstreamLineage", "globalTags"], typed=True)
    lineage, tags = got["upstreamLineage"], got["globalTags"]
    want = expected(example_events)
    by_dataset = {u.dataset: u for u in lineage.upstreams}
    assert set(by_dataset) == want["upstreams"][photos] | {OTHER}
    assert by_dataset[OTHER].type == "COPY", "the other source's upstream is kept as it wrote it"
    kept = [f for f in lineage.fineGrainedLineages if f.upstreams == other_fgl.upstreams]
    assert [(f.downstreams, f.confidenceScore, f.transformOperation) for f in kept] == [
        (other_fgl.downstreams, 0.5, "IDENTITY")
    ]
    ours = {
        (f.downstreams[0], f.transformOperation or "") for f in lineage.fineGrainedLineages if f not in kept
    }
    assert ours == {k for k in want["fine"] if k[0].startswith(f"urn:li:schemaField:({photos},")}
    assert {t.tag for t in tags.tags} == want["tags"][photos] | {"urn:li:tag:other"}


def test_default_path_is_datahubs_own(store: Path, capsys: Any, lite_reader: Any) -> None:
    code, err = run(capsys, "emit", "--to", "datahub-lite")
    assert code == 0, err
    path = Path("~/.datahub/lite/datahub.db").expanduser()  # HOME is the test's own folder
    assert err.startswith(f"datahub-lite {path}: ")
    assert any(u.startswith("urn:li:dataset:") for u in lite_reader(path).list_ids())


@pytest.mark.parametrize("kind", ["text", "folder"])
def test_not_a_lite_database_is_one_line(store: Path, tmp_path: Path, capsys: Any, kind: str) -> None:
    path = tmp_path / "notes.db"
    if kind == "text":
        path.write_text("these are my notes, not a database\n" * 50)
    else:
        path.mkdir()
    code, err = run(capsys, "emit", "--to", "datahub-lite", str(path))
    assert code == 1
    assert err.startswith(f"error: {path}: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    if kind == "text":
        assert path.read_text().startswith("these are my notes"), (
            "nothing written into a file that is not Lite"
        )


def test_patch_merge_unit() -> None:
    """The merge rules on plain JSON, including cases the example does not reach."""
    from flowscope_emitters.datahub_patch import apply

    current = {
        "upstreams": [{"dataset": OTHER, "type": "COPY"}],
        "fineGrainedLineages": [
            {
                "upstreamType": "FIELD_SET",
                "upstreams": ["a", "b"],
                "downstreamType": "FIELD_SET",
                "downstreams": ["x", "y"],
            }
        ],
    }
    ops = [
        {
            "op": "add",
            "path": "/upstreams/urn:li:dataset:(p,a~1b,PROD)",
            "value": {"dataset": "urn:li:dataset:(p,a/b,PROD)", "type": "TRANSFORMED"},
        },
        {"op": "add", "path": "/fineGrainedLineages/OP/d/NONE/u1", "value": {"confidenceScore": 0.9}},
        {"op": "add", "path": "/fineGrainedLineages/OP/d/NONE/u2", "value": {"confidenceScore": 0.4}},
        {"op": "remove", "path": "/upstreams/urn:li:dataset:(p,missing,PROD)"},
    ]
    out = apply("upstreamLineage", current, ops)
    assert [u["dataset"] for u in out["upstreams"]] == [OTHER, "urn:li:dataset:(p,a/b,PROD)"]
    assert out["fineGrainedLineages"][0]["upstreams"] == ["u1", "u2"]
    assert out["fineGrainedLineages"][0]["confidenceScore"] == 0.4
    assert out["fineGrainedLineages"][1] == current["fineGrainedLineages"][0], "unkeyable lineage kept as is"
    assert current["upstreams"] == [{"dataset": OTHER, "type": "COPY"}], "the input is not changed"
    tags = apply(
        "globalTags",
        {"tags": [{"tag": "urn:li:tag:t", "attribution": {"source": "s"}}]},
        [{"op": "add", "path": "/tags//urn:li:tag:t", "value": {"tag": "urn:li:tag:t"}}],
        {"tags": ["attribution\u241fsource", "tag"]},
    )
    assert tags["tags"] == [{"tag": "urn:li:tag:t", "attribution": {"source": "s"}}, {"tag": "urn:li:tag:t"}]
    fields = apply(
        "editableSchemaMetadata",
        None,
        [
            {
                "op": "add",
                "path": "/editableSchemaFieldInfo/a~1b/globalTags/tags/urn:li:tag:x",
                "value": {"tag": "urn:li:tag:x"},
            }
        ],
    )
    assert fields["editableSchemaFieldInfo"] == [
        {"fieldPath": "a/b", "globalTags": {"tags": [{"tag": "urn:li:tag:x"}]}}
    ]
    assert json.dumps(fields)  # plain JSON all the way down


def test_pull_back_from_lite_gives_the_example_lineage(
    store: Path, tmp_path: Path, example_events: list[dict[str, Any]], capsys: Any
) -> None:
    """DataHub Lite has no lineage query; `datahub pull` walks the lineage aspects it holds."""
    from flowscope_emitters.datahub_pull import to_asset

    path = tmp_path / "datahub.db"
    assert run(capsys, "emit", "--to", "datahub-lite", str(path))[0] == 0
    want = expected(example_events)
    start = dataset_urn("https://www.photoshare.example", "/api/v1/photos/upload")
    # What the events say is downstream of the upload request, worked out here from them alone.
    step: dict[str, set[str]] = {}
    for down, ups in want["upstreams"].items():
        for up in ups:
            step.setdefault(up, set()).add(down)
    for (down, _), ups in want["fine"].items():
        for up in ups:
            step.setdefault(up, set()).add(down)
    fields: dict[str, set[str]] = {}
    for node in step:
        if node.startswith("urn:li:schemaField:("):
            fields.setdefault(node.removeprefix("urn:li:schemaField:(").rsplit(",", 1)[0], set()).add(node)
    hops, todo, seen = set(), [start], {start}
    for node in todo:
        todo.extend(f for f in fields.get(node, ()) if f not in seen)
        seen.update(fields.get(node, ()))
        for nxt in step.get(node, ()):
            hops.add((node, nxt))
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert any(u.startswith("urn:li:schemaField:") for u, _ in hops), "field-level lineage is walked too"
    pulled = tmp_path / "pulled"
    code, out = run(capsys, "--store", str(pulled), "datahub", "pull", str(path), start, "--depth", "10")
    assert code == 0, out
    with Store.open(pulled) as s:
        edges = s.edges()
    got = {(e.source.id, e.target.id) for e in edges}
    wanted = set()
    for u, d in hops:
        a, b = to_asset(u), to_asset(d)
        assert a is not None and b is not None
        wanted.add((a.id, b.id))
    assert got == wanted
    jobs = {e.job.name for e in edges}
    assert "PhotoUploadController.genUpload" in jobs, "hops take the job that wrote them"


def test_a_failed_write_leaves_lite_as_it_was(
    tmp_path: Path, example_events: list[dict[str, Any]], lite_reader: Any
) -> None:
    """Lite is written in one transaction: an error half-way leaves nothing of flowscope's behind."""
    from datahub.metadata.schema_classes import (
        ChangeTypeClass,
        GenericAspectClass,
        MetadataChangeProposalClass,
    )

    from flowscope.errors import UserError
    from flowscope_emitters.datahub_convert import convert_all
    from flowscope_emitters.datahub_lite import open_lite, write

    path = tmp_path / "datahub.db"
    with open_lite(path) as lite:
        write(lite, convert_all(example_events[:1]).mcps())
    before = sorted(lite_reader(path).list_ids())
    unknown = MetadataChangeProposalClass(
        entityUrn=dataset_urn("postgres://db:5432", "t"),
        entityType="dataset",
        changeType=ChangeTypeClass.PATCH,
        aspectName="dataProductProperties",
        aspect=GenericAspectClass(value=b"[]", contentType="application/json-patch+json"),
    )
    with (
        pytest.raises(UserError, match="cannot apply a patch to aspect dataProductProperties"),
        open_lite(path) as lite,
    ):
        write(lite, [*convert_all(example_events).mcps(), unknown])
    assert sorted(lite_reader(path).list_ids()) == before
