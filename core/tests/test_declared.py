from __future__ import annotations

import shutil
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import pytest

from flowscope.config import load_config, parse_section
from flowscope.contracts import CollectContext
from flowscope.declared import DeclaredCollector, DeclaredSettings, load_declared
from flowscope.merge import merge_signals
from flowscope.model import Asset, AssetInfo, Edge, Observation, Signal, Transformation
from flowscope.plugins import Plugins, make_manager

DATA = Path(__file__).parent / "data" / "declared"
EXAMPLE = Path(__file__).parents[2] / "examples" / "photo_sharing"

APPDB = "mysql://appdb:3306"
HIVE = "hive://warehouse:9083"
PHOTOS_LOCATION = Asset(APPDB, "photos_app.photos", "location")


def run(settings: object, base_dir: Path) -> tuple[list[Observation], CollectContext]:
    ctx = CollectContext(collector="declared", settings=settings, base_dir=base_dir)
    return list(DeclaredCollector().collect(ctx)), ctx


def signals(observations: Iterable[Observation]) -> list[Signal]:
    return [o for o in observations if isinstance(o, Signal)]


def downstream(edges: list[Edge], start: Asset) -> dict[Asset, list[Edge]]:
    """Field-level reachability: every asset reachable from ``start``, with the path of edges to it."""
    out: dict[Asset, list[Edge]] = {start: []}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for e in edges:
            if e.source == node and e.target is not None and e.target not in out:
                out[e.target] = [*out[node], e]
                queue.append(e.target)
    return out


@pytest.fixture
def example() -> tuple[list[Observation], CollectContext]:
    config = load_config(EXAMPLE / "flowscope.yaml")
    return run(parse_section(config, "declared", DeclaredSettings), config.base_dir)


# --- the example estate ------------------------------------------------------------------------------


def test_example_estate_loads_without_problems(example: tuple[list[Observation], CollectContext]) -> None:
    observations, ctx = example
    assert ctx.problems == []
    sigs = signals(observations)
    assert len(sigs) >= 10
    assert all(s.kind == "declared" and len(s.evidence) == 1 for s in sigs)
    locations = {s.evidence[0].location.rsplit(":", 1)[0] for s in sigs}
    # The ML hops come from ml/ (ml_config plugin) and the warehouse SQL from warehouse/ (sql plugin);
    # tests/test_scan_example.py follows the whole path across all collectors.
    assert locations == {"flows/app.yaml", "flows/warehouse.yaml"}
    assert not any(s.job.name == "analytics.import_photo_events" for s in sigs), "SQL jobs are not declared"


def test_example_tags_photos_location_as_pii(example: tuple[list[Observation], CollectContext]) -> None:
    infos = {o.asset: o for o in example[0] if isinstance(o, AssetInfo)}
    assert set(infos[PHOTOS_LOCATION].tags) == {"pii", "location"}
    table = infos[PHOTOS_LOCATION.dataset]
    assert ("location", "varchar(255)") in table.fields and table.tags == ("pii",)
    assert infos[Asset("log://scribe", "photo_uploads")].fields[0] == ("photo_id", "bigint")


def test_example_declares_the_app_tier_field_by_field(
    example: tuple[list[Observation], CollectContext],
) -> None:
    edges = merge_signals(("declared", s) for s in signals(example[0]))
    reach = downstream(edges, PHOTOS_LOCATION)
    api = Asset("http://nearby-friends.internal", "/api/v1/nearby_friends", "location")
    log = Asset("log://scribe", "photo_uploads", "location")
    for target in (api, log):
        [edge] = reach[target]
        assert edge.job.name == "PhotoUploadController.genUpload"
        assert edge.confidence == 0.95
        assert edge.evidence[0].location.startswith("flows/app.yaml:")
    upstream = Asset("https://www.photoshare.example", "/api/v1/photos/upload", "location")
    assert PHOTOS_LOCATION in downstream(edges, upstream)
    # Selectivity: the caption's path to content moderation is not downstream of the location.
    moderation = Asset("service://content-moderation", "/v1/classify", "text")
    assert moderation not in reach
    assert moderation in downstream(edges, PHOTOS_LOCATION.with_field("caption"))


def test_whole_dataset_flow_and_job_details(example: tuple[list[Observation], CollectContext]) -> None:
    sigs = signals(example[0])
    whole = [s for s in sigs if s.target == Asset(HIVE, "raw_logs.photo_uploads")]
    assert [(s.source, s.job.processing_type) for s in whole] == [
        (Asset("log://scribe", "photo_uploads"), "STREAMING")
    ]
    upload = next(s for s in sigs if s.job.name == "PhotoUploadController.genUpload")
    assert upload.job.namespace == "service://www" and upload.job.job_type == "ENDPOINT"
    assert upload.job.source is not None and upload.job.source.path.endswith("PhotoUploadController.php")
    assert upload.job.owner == "photos-infra"


def test_declared_collector_through_the_plugin_manager() -> None:
    plugins = Plugins(make_manager(load_entrypoints=False))
    (reg,) = [c for c in plugins.collectors() if c.name == "declared"]
    assert reg.plugin == "declared"
    assert reg.item.config_section == "declared" and reg.item.config_class is DeclaredSettings
    config = load_config(EXAMPLE / "flowscope.yaml")
    ctx = CollectContext("declared", parse_section(config, "declared", DeclaredSettings), config.base_dir)
    assert any(s.source == PHOTOS_LOCATION for s in signals(reg.item.collect(ctx)))
    assert ctx.problems == []


def test_no_files_configured_collects_nothing(tmp_path: Path) -> None:
    assert run(DeclaredSettings(), tmp_path)[0] == []
    assert run({"files": []}, tmp_path)[0] == []


# --- resilience --------------------------------------------------------------------------------------


def test_bad_file_is_reported_and_good_files_still_load(tmp_path: Path) -> None:
    for name in ("tables.yaml", "broken.yaml", "reads.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    observations, ctx = run(DeclaredSettings(files=["*.yaml", "missing/*.yaml"]), tmp_path)
    problems = [str(p) for p in ctx.problems]
    assert problems == [
        "plugins.declared.files: 'missing/*.yaml' matches no file",
        "broken.yaml:4: invalid YAML: expected ',' or '}', but got ':'",
        "tables.yaml:33: flows[1].to: unknown asset 'user_copy' (did you mean users_copy?)",
    ]
    sigs = signals(observations)
    pg = "postgres://db:5432"
    got = {(s.source, s.target, s.transformation.masking) for s in sigs}
    assert got == {
        (Asset(pg, "app.public.users", "id"), Asset(pg, "app.public.users_copy", "id"), False),
        (Asset(pg, "app.public.users", "email"), Asset(pg, "app.public.users_copy", "email_hash"), True),
        (Asset(pg, "app.public.users"), Asset(pg, "app.public.users_copy"), False),  # the third flow
        (Asset(pg, "app.public.users", "email"), None, False),  # reads.yaml, a read with no output
    }
    report = next(s for s in sigs if s.target is None)
    assert report.job.namespace == "flowscope://declared" and report.job.name == "weekly_user_report"
    assert report.evidence[0].location == "reads.yaml:11"
    assert (report.job.description, report.job.owner) == ("Reads users for a report nobody stores.", "growth")
    copy = next(s for s in sigs if s.job.name == "copy_users")
    assert copy.job.sql is not None and copy.job.sql.startswith("INSERT INTO users_copy")


def test_same_id_in_two_files_is_reported_once_and_the_first_wins(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("assets:\n  t: {namespace: 'log://a', name: one}\n")
    (tmp_path / "b.yaml").write_text("\nassets:\n  t: {namespace: 'log://b', name: two}\n")
    problems: list[str] = []
    obs = list(
        load_declared(
            [tmp_path / "a.yaml", tmp_path / "b.yaml"],
            tmp_path,
            lambda m, p, line: problems.append(f"{p}:{line}: {m}"),
        )
    )
    assert problems == ["b.yaml:3: assets.t: already declared at a.yaml:2"]
    assert [o.asset for o in obs if isinstance(o, AssetInfo)] == [Asset("log://a", "one")]


HEADER = """\
ns:
  appdb: mysql://appdb:3306
assets:
  photos:
    namespace: appdb
    name: photos_app.photos
    fields: [photo_id, location]
  photo_logs: {namespace: 'log://scribe', name: photo_uploads}
  other: {namespace: 'log://scribe', name: other}
jobs:
  j: {name: upload}
"""


def compose(tail: str) -> str:
    """The header plus ``tail``: ``assets:``/``jobs:`` lines indented under those keys, others appended."""
    if tail.startswith("jobs:\n"):
        return HEADER + tail.removeprefix("jobs:\n")
    if tail.startswith("  "):
        return HEADER.replace("jobs:\n", tail + "jobs:\n")
    return HEADER + tail


CASES = [
    (
        "flows:\n  - {job: j, from: photos, to: photo_logs}\n  - {job: j, from: photos, to: photo_logz}  #!\n",
        "flows[1].to: unknown asset 'photo_logz' (did you mean photo_logs",
    ),
    (
        "flows:\n  - {job: upload, from: photos}  #!\n",
        "flows[0].job: unknown job 'upload' (declared jobs: j)",
    ),
    ("flows:\n  - {from: photos, to: other}  #!\n", "flows[0]: missing required key 'job'"),
    ("flows:\n  - {job: j, form: photos}  #!\n", "flows[0].form: unknown key (did you mean from?)"),
    (
        "flows:\n  - job: j\n    from: photos\n    to: photo_logs\n    fields:\n      - {from: locaton, to: loc}  #!\n",
        "flows[0].fields[0].from: unknown field 'locaton' of asset 'photos' (did you mean location?)",
    ),
    (
        "flows:\n  - job: j\n    from: photos\n    to: photo_logs\n    fields:\n"
        "      - from: location\n        transformation: AGGREGATE  #!\n",
        "flows[0].fields[0].transformation: unknown transformation 'AGGREGATE' (did you mean AGGREGATION",
    ),
    (
        "flows:\n  - job: j\n    from: photos\n    to: photo_logs\n    fields:\n"
        "      - {from: location, transformation: DIRECT/FILTER}  #!\n",
        "flows[0].fields[0].transformation: unknown DIRECT subtype 'FILTER' (expected one of: AGGREGATION, IDENTITY, TRANSFORMATION)",
    ),
    (
        "flows:\n  - job: j\n    from: photos\n    to: photo_logs\n    fields:\n"
        "      - {from: location, transformation: INDIRECT}  #!\n",
        "flows[0].fields[0].transformation: INDIRECT needs a subtype: FILTER, JOIN, GROUP_BY, SORT, WINDOW, CONDITIONAL",
    ),
    (
        "flows:\n  - job: j\n    from: photos\n    to: photo_logs\n    fields:\n"
        "      - from: location\n        masking: 'yes'  #!\n",
        "flows[0].fields[0].masking: expected true or false, got 'yes'",
    ),
    (
        "flows:\n  - job: j\n    from: [photos, other]\n    to: photo_logs\n    fields:\n      - location  #!\n",
        "flows[0].fields[0]: field 'location' is ambiguous: this flow's inputs are photos, other; write <asset>.location",
    ),
    (
        "flows:\n  - job: j\n    from: photos\n    to: photo_logs\n    fields:\n      - {from: '*', to: x}  #!\n",
        "flows[0].fields[0].from: '*' (the whole dataset) can only be a target",
    ),
    (
        "flows:\n  - job: j\n    from: photos\n    fields:\n      - {from: location, to: x}  #!\n",
        "flows[0].fields[0].to: this flow has no 'to' asset to write into",
    ),
    (
        "flows:\n  - {job: j, from: photos, to: other, dataset: maybe}  #!\n",
        "flows[0].dataset: expected true or false, got 'maybe'",
    ),
    ("flow:  #!\n  - {job: j, from: photos}\n", "flow: unknown top-level key (did you mean flows?)"),
    (
        "  x:\n    namespce: appdb  #!\n    name: x\n",
        "assets.x.namespce: unknown key (did you mean namespace",
    ),
    (
        "  x:\n    namespace: apdb  #!\n    name: x\n",
        "assets.x.namespace: unknown namespace alias 'apdb' (did you mean appdb?)",
    ),
    ("  x:  #!\n    namespace: appdb\n", "assets.x: missing required key 'name'"),
    (
        "  x:\n    namespace: appdb\n    name: x\n    tags: [{a: 1}]  #!\n",
        "assets.x.tags[0]: expected a string, got a mapping",
    ),
    (
        "  x:\n    namespace: appdb\n    name: x\n    fields:\n      loc: {type: string, tag: pii}  #!\n",
        "assets.x.fields.loc.tag: unknown key (did you mean tags?)",
    ),
    (
        "  x.y: {namespace: appdb, name: x}  #!\n",
        "assets.x.y: asset id 'x.y' must be letters, digits, '_' or '-' (no dots)",
    ),
    (
        "  x:\n    namespace: 'http://api'\n    name: [a]  #!\n",
        "assets.x.name: expected a string, got a list",
    ),
    (
        "jobs:\n  k:\n    processing: REALTIME  #!\n",
        "jobs.k.processing: expected BATCH or STREAMING, got 'REALTIME'",
    ),
    ("jobs:\n  k:\n    source: {url: x}  #!\n", "jobs.k.source: missing required key 'path'"),
    ("flows:  #!\n  photos: j\n", "flows: expected a list, got mapping"),
]


@pytest.mark.parametrize(
    ("tail", "message"), CASES, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(CASES)]
)
def test_every_validation_error_names_file_line_and_key(tmp_path: Path, tail: str, message: str) -> None:
    text = compose(tail)
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.endswith("#!"))
    observations, ctx = run(DeclaredSettings(files=["bad.yaml"]), tmp_path)
    problems = [str(p) for p in ctx.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"bad.yaml:{line}: {message}"), problems[0]
    # Everything else in the file still loaded.
    assert any(isinstance(o, AssetInfo) and o.asset.name == "photos_app.photos" for o in observations)


def test_transformation_spellings(tmp_path: Path) -> None:
    flows = (
        "flows:\n  - job: j\n    from: photos\n    to: photo_logs\n    fields:\n"
        "      - {from: location, to: a, transformation: direct/aggregation}\n"
        "      - {from: location, to: b, transformation: GROUP_BY}\n"
        "      - {from: location, to: c, transformation: DIRECT, masking: true}\n"
        "      - {from: location, to: d, transformation: indirect/conditional}\n"
    )
    (tmp_path / "f.yaml").write_text(HEADER + flows, encoding="utf-8")
    observations, ctx = run(DeclaredSettings(files=["f.yaml"]), tmp_path)
    assert ctx.problems == []
    got = {s.target.field: s.transformation for s in signals(observations) if s.target}
    assert got == {
        "a": Transformation("DIRECT", "AGGREGATION"),
        "b": Transformation("INDIRECT", "GROUP_BY"),
        "c": Transformation("DIRECT", "IDENTITY", True),
        "d": Transformation("INDIRECT", "CONDITIONAL"),
    }


def test_flowscope_schemes_go_through_naming(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(
        "assets:\n"
        "  api: {namespace: 'https://Nearby.Internal/', name: api/v1/x}\n"
        "  m: {namespace: 'model://', name: ranker/3}\n",
        encoding="utf-8",
    )
    observations, ctx = run(DeclaredSettings(files=["f.yaml"]), tmp_path)
    assert ctx.problems == []
    assets = [o.asset for o in observations if isinstance(o, AssetInfo)]
    assert assets == [Asset("https://Nearby.Internal", "/api/v1/x"), Asset("model://default", "ranker/3")]


def test_the_documented_example_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "declared_flows.md").read_text(encoding="utf-8")
    block = doc.split("## A flow file", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "flows.yaml").write_text(block, encoding="utf-8")
    observations, ctx = run(DeclaredSettings(files=["flows.yaml"]), tmp_path)
    assert ctx.problems == []
    sigs = signals(observations)
    assert any(s.transformation.masking for s in sigs)
    assert any(s.source.field is None and s.target is not None and s.target.field is None for s in sigs)
    assert any(s.guard == "only photos shared publicly" for s in sigs)
