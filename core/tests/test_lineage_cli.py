"""``lineage``/``assets``/``ingest`` commands over a real store, and ASSET argument parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from flowscope import assetref
from flowscope.cli.ingest import add_ingest_command
from flowscope.cli.lineage import add_lineage_commands
from flowscope.errors import UserError
from flowscope.model import Asset
from flowscope.store import Store

DATA = Path(__file__).parent / "data"
SAMPLES = [DATA / "airflow_photos.jsonl", DATA / "spark_photo_features.json", DATA / "dbt_array.json"]
OWNER = "datasetField:mysql://appdb:3306:photos_app.photos:owner_id"
HASH = "datasetField:trino://trino.acme.internal:8080:analytics.public.user_geo_daily:owner_hash"


def run(store_dir: Path, *args: str) -> Result:
    app = typer.Typer()
    add_lineage_commands(app, lambda: store_dir)
    add_ingest_command(app, lambda: store_dir)
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    store_dir = tmp_path / ".flowscope"
    result = run(store_dir, "ingest", *map(str, SAMPLES))
    assert result.exit_code == 0, result.output
    return store_dir


def error_of(result: Result) -> str:
    assert result.exit_code == 1 and isinstance(result.exception, UserError), result.output
    return str(result.exception)


def test_ingest_reports_what_it_stored(tmp_path: Path) -> None:
    result = run(tmp_path / "s", "ingest", *map(str, SAMPLES))
    assert result.stdout.splitlines() == [
        f"{SAMPLES[0]}: 3 events, 7 edges, 3 asset infos stored",
        f"{SAMPLES[1]}: 1 events, 4 edges, 2 asset infos stored",
        f"{SAMPLES[2]}: 2 events, 2 edges, 0 asset infos stored",
        f"3 file(s), 6 events, 13 edges stored in {tmp_path / 's'} (1 symlink name(s) folded into 1 asset(s))",
    ]


def test_ingest_with_invalid_lines_loads_the_rest_and_fails(tmp_path: Path) -> None:
    broken = DATA / "broken_lines.jsonl"
    result = run(tmp_path / "s", "ingest", str(broken))
    assert "2 events, 2 edges" in result.stdout
    assert (
        result.stderr.splitlines()[0] == f"{broken}:2: not JSON: Unterminated string starting at (column 222)"
    )
    assert len(result.stderr.splitlines()) == 6
    assert error_of(result) == "6 invalid line(s) skipped; the valid events were stored"
    with Store.open(tmp_path / "s") as s:
        assert len(s.edges()) == 2


def test_a_bad_file_is_named_and_the_others_are_stored(tmp_path: Path) -> None:
    """A missing file, a binary one and one without a valid event: each one ``error:`` line naming the
    file; the good file is stored all the same and the exit code is 1."""
    binary = tmp_path / "blob.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    result = run(
        tmp_path / "s",
        "ingest",
        str(SAMPLES[0]),
        str(tmp_path / "nope.jsonl"),
        str(binary),
        str(DATA / "all_invalid.jsonl"),
    )
    assert error_of(result) == "3 file(s) not ingested; the other files were stored"
    errors = result.stderr.splitlines()
    assert errors[0] == f"error: {tmp_path / 'nope.jsonl'}: no such file"
    assert errors[1].startswith(f"error: {binary}: cannot read")
    assert errors[2].startswith(f"error: {DATA / 'all_invalid.jsonl'}: no valid OpenLineage events")
    assert result.stdout.startswith(f"{SAMPLES[0]}: 3 events, 7 edges")
    with Store.open(tmp_path / "s") as s:
        assert len(s.edges()) == 7 and len(list(s.events())) == 3


def test_downstream_table_and_json(loaded: Path) -> None:
    table = run(loaded, "lineage", "downstream", "photos_app.photos#owner_id")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0] == f"5 assets downstream of {OWNER} (depth 10, min confidence 0)"
    row = next(line for line in lines if "raw.photos:owner_id" in line)
    assert "0.950" in row and "airflow-prod/photos_daily.extract_photos" in row

    doc = json.loads(run(loaded, "lineage", "downstream", OWNER, "--json", "--min-confidence", "0.9").stdout)
    assert (doc["start"], doc["direction"], doc["depth"], doc["min_confidence"]) == (
        OWNER,
        "downstream",
        10,
        0.9,
    )
    first = doc["reached"][0]
    assert first == {
        "asset": "datasetField:hive://metastore:9083:raw.photos:owner_id",
        "namespace": "hive://metastore:9083",
        "name": "raw.photos",
        "field": "owner_id",
        "confidence": 0.95,
        "hops": 1,
        "via": {"namespace": "airflow-prod", "name": "photos_daily.extract_photos"},
        "predecessor": OWNER,
        "step": {
            "job": {"namespace": "airflow-prod", "name": "photos_daily.extract_photos"},
            "source": OWNER,
            "target": "datasetField:hive://metastore:9083:raw.photos:owner_id",
            "confidence": 0.95,
            "kinds": ["declared"],
        },
    }
    hashed = next(r for r in doc["reached"] if r["asset"] == HASH)
    assert (hashed["hops"], hashed["confidence"]) == (3, 0.857375)
    # the tree: following predecessors from any reached asset leads back to the start in `hops` links,
    # and the steps' confidences multiply to the asset's
    by_id = {r["asset"]: r for r in doc["reached"]}
    for r in doc["reached"]:
        node, product, links = r, 1.0, 0
        while True:
            assert node["step"]["target"] == node["asset"]
            # the edge leaves the predecessor itself, or its dataset / a field of it
            assert dataset_of(node["step"]["source"]) == dataset_of(node["predecessor"]), node
            product *= node["step"]["confidence"]
            links += 1
            if node["predecessor"] == OWNER:
                break
            node = by_id[node["predecessor"]]
        assert links == r["hops"] and round(product, 6) == r["confidence"], r
    up = json.loads(run(loaded, "lineage", "upstream", HASH, "--json").stdout)
    for r in up["reached"]:
        assert r["step"]["source"] == r["asset"], "upstream steps still run in data-flow order"
    assert doc["reached"] == sorted(doc["reached"], key=lambda r: (-r["confidence"], r["hops"], r["asset"]))

    shallow = json.loads(run(loaded, "lineage", "downstream", OWNER, "--json", "--depth", "1").stdout)
    assert {r["hops"] for r in shallow["reached"]} == {1}


def dataset_of(asset_id: str) -> str:
    kind, _, rest = asset_id.partition(":")
    return rest.rpartition(":")[0] if kind == "datasetField" else rest


def test_upstream(loaded: Path) -> None:
    doc = json.loads(run(loaded, "lineage", "upstream", "user_geo_daily.owner_hash", "--json").stdout)
    assert doc["direction"] == "upstream"
    assert OWNER in {r["asset"] for r in doc["reached"]}
    text = run(loaded, "lineage", "upstream", HASH).stdout
    assert "reader job" in text and "dbt-analytics/analytics.user_geo_daily" in text


def test_why_text_and_json(loaded: Path) -> None:
    text = run(loaded, "lineage", "why", OWNER, "user_geo_daily#owner_hash").stdout
    assert text.splitlines()[0] == f"{OWNER} -> {HASH}: confidence 0.857 over 3 hop(s)"
    assert "TRANSFORMATION: sha256(cast(owner_id as varchar))" in text
    assert f"evidence {DATA / 'dbt_array.json'}:12 [ingest/declared]" in text

    doc = json.loads(run(loaded, "lineage", "why", OWNER, HASH, "--json").stdout)
    assert (doc["source"], doc["target"], doc["hops"]) == (OWNER, HASH, 3)
    last = doc["path"][-1]
    assert last["transformations"] == [
        {
            "type": "DIRECT",
            "subtype": "TRANSFORMATION",
            "masking": True,
            "description": "sha256(cast(owner_id as varchar))",
        }
    ]
    assert last["job"]["sql"].startswith("select sha256")
    assert last["kinds"] == ["declared"] and last["evidence"][0]["detail"]["eventType"] == "COMPLETE"
    assert set(last) == {
        "job", "source", "target", "confidence", "kinds", "collectors", "transformations", "guards", "count",
        "first_seen", "last_seen", "evidence",
    }  # fmt: skip


def test_why_without_a_path_names_pure_readers(loaded: Path) -> None:
    msg = error_of(run(loaded, "lineage", "why", "raw.photos", "photos_app.photos"))
    assert msg == (
        "no flow from dataset:hive://metastore:9083:raw.photos to dataset:mysql://appdb:3306:photos_app.photos; "
        "jobs that read it without writing: airflow-prod/photos_daily.check_row_counts"
    )


def test_assets_table_json_and_query(loaded: Path) -> None:
    text = run(loaded, "assets").stdout
    assert text.splitlines()[0] == "4 datasets"
    doc = json.loads(run(loaded, "assets", "owner", "--json").stdout)
    assert [a["id"] for a in doc["assets"]] == [
        "dataset:hive://metastore:9083:features.photo_geo",
        "dataset:hive://metastore:9083:raw.photos",
        "dataset:mysql://appdb:3306:photos_app.photos",
        "dataset:trino://trino.acme.internal:8080:analytics.public.user_geo_daily",
    ]
    raw = doc["assets"][1]
    assert raw["fields"][0] == {"name": "id", "type": "BIGINT"}
    assert raw["read_by"] == [{"namespace": "airflow-prod", "name": "photos_daily.check_row_counts"}]
    assert set(raw) == {"id", "namespace", "name", "fields", "tags", "description", "read_by"}


def test_unknown_and_ambiguous_assets(loaded: Path) -> None:
    assert error_of(run(loaded, "lineage", "downstream", "fotos")) == (
        "unknown asset 'fotos'; did you mean: dataset:hive://metastore:9083:raw.photos, "
        "dataset:mysql://appdb:3306:photos_app.photos"
    )
    msg = error_of(run(loaded, "lineage", "downstream", "photos#owner_id"))
    assert (
        msg
        == f"'photos#owner_id' is ambiguous; use one of: datasetField:hive://metastore:9083:raw.photos:owner_id, {OWNER}"
    )
    assert error_of(run(loaded, "lineage", "upstream", "photo_geo.ownr")) == (
        "no field 'ownr' in dataset:hive://metastore:9083:features.photo_geo; "
        "did you mean: datasetField:hive://metastore:9083:features.photo_geo:owner_id"
    )
    assert error_of(
        run(loaded, "lineage", "downstream", "dataset:mysql://appdb:3306:photos_app.foto")
    ).startswith(
        "unknown asset dataset:mysql://appdb:3306:photos_app.foto; did you mean: "
        "dataset:mysql://appdb:3306:photos_app.photos"
    )


def test_queries_without_a_store_say_how_to_make_one(tmp_path: Path) -> None:
    msg = error_of(run(tmp_path / "none", "assets"))
    assert (
        msg
        == f"{tmp_path / 'none'}: no lineage store here yet; run `flowscope scan` or `flowscope ingest FILE` first"
    )
    assert not (tmp_path / "none").exists()


def test_asset_reference_forms(loaded: Path) -> None:
    with Store.open(loaded) as s:
        photos = Asset("mysql://appdb:3306", "photos_app.photos")
        assert assetref.resolve(s, "dataset:mysql://appdb:3306:photos_app.photos") == photos
        assert assetref.resolve(s, OWNER) == photos.with_field("owner_id")
        assert assetref.resolve(s, "photos_app.photos") == photos
        assert assetref.resolve(s, "photos_app.photos.owner_id") == photos.with_field("owner_id")
        assert assetref.resolve(s, "mysql://appdb:3306/photos_app.photos#lat") == photos.with_field("lat")
        assert assetref.resolve(s, "photo_geo") == Asset("hive://metastore:9083", "features.photo_geo")
        assert assetref.resolve(s, "metastore:9083/raw.photos") == Asset(
            "hive://metastore:9083", "raw.photos"
        )
        with pytest.raises(UserError, match="empty asset name"):
            assetref.resolve(s, "  ")


def test_marquez_ids_parse_without_a_store() -> None:
    assert assetref.parse_id("dataset:mysql://appdb:3306:photos_app.photos", []) == Asset(
        "mysql://appdb:3306", "photos_app.photos"
    )
    assert assetref.parse_id("datasetField:kafka://b1:9092,b2:9092:clicks:user_id", []) == Asset(
        "kafka://b1:9092,b2:9092", "clicks", "user_id"
    )
    assert assetref.parse_id("dataset:bigquery:proj.ds.t", []) == Asset("bigquery", "proj.ds.t")
    assert assetref.parse_id("dataset:file:/data/x.csv", ["file"]) == Asset("file", "/data/x.csv")
    # A known namespace wins over the URI heuristic (here a name that itself contains ':').
    assert assetref.parse_id("dataset:s3://b:k:1", ["s3://b"]) == Asset("s3://b", "k:1")
    with pytest.raises(UserError, match="bad field id"):
        assetref.parse_id("datasetField:x", [])


def _fan_out(store_dir: Path, n: int) -> Asset:
    from flowscope.model import Basis, Edge, Job

    hub = Asset("pg://db", "hub", "id")
    edges = [
        Edge(Job("j", f"copy{i}"), hub, Asset("pg://db", f"t{i:04d}", "id"), 0.9, {Basis("sql")})
        for i in range(n)
    ]
    with Store.open(store_dir) as store:
        store.replace("sql", "r", edges, [], [])
    return hub


def test_a_large_table_is_capped_with_a_count_and_the_way_to_all(tmp_path: Path) -> None:
    hub = _fan_out(tmp_path / "s", 250)
    capped = run(tmp_path / "s", "lineage", "downstream", hub.id)
    assert capped.exit_code == 0, capped.output
    lines = capped.stdout.splitlines()
    assert lines[0].startswith("250 assets downstream of")
    assert sum("datasetField:pg://db:t" in line for line in lines) == 200
    assert lines[-1] == (
        "50 more not shown (the most confident come first): --limit 0 shows all, --json prints every one"
    )
    five = run(tmp_path / "s", "lineage", "downstream", hub.id, "--limit", "5")
    assert sum("datasetField:pg://db:t" in line for line in five.stdout.splitlines()) == 5
    everything = run(tmp_path / "s", "lineage", "downstream", hub.id, "--limit", "0")
    assert sum("datasetField:pg://db:t" in line for line in everything.stdout.splitlines()) == 250
    assert "more not shown" not in everything.stdout


def test_json_is_compact_unless_pretty(tmp_path: Path) -> None:
    hub = _fan_out(tmp_path / "s", 3)
    compact = run(tmp_path / "s", "lineage", "downstream", hub.id, "--json").stdout
    pretty = run(tmp_path / "s", "lineage", "downstream", hub.id, "--json", "--pretty").stdout
    # one reached asset per line (streamed), every line compact
    assert compact.count("\n") == 1 + 4 + 3 + 3 and ", " not in compact and '": ' not in compact
    assert sum(line.startswith('    {"asset":') for line in compact.splitlines()) == 3
    assert pretty.count("\n") > 10 and pretty.startswith('{\n  "start"')
    assert json.loads(compact) == json.loads(pretty)
    assert len(json.loads(compact)["reached"]) == 3
