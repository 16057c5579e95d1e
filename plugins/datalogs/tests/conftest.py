"""Shared fixtures: the example warehouse, generated once per session by its committed script, and a
fresh copy of the example's reviewed catalog and requests per test."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flowscope.plugins import Manager, make_manager

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "photo_sharing" / "warehouse"


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_data", EXAMPLE / "make_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def warehouse_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("warehouse") / "data"
    _generator().generate(out)
    return out


@pytest.fixture
def example(tmp_path: Path, warehouse_data: Path) -> Path:
    """``tmp/data`` (the generated warehouse, copied: tests may damage it) and ``tmp/datalogs/`` with the
    example's catalog and requests, so the catalog's relative locations hold."""
    shutil.copytree(warehouse_data, tmp_path / "data")
    shutil.copytree(EXAMPLE / "datalogs", tmp_path / "datalogs")
    return tmp_path


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the whole test session (the Spark engine uses the active one)."""
    pytest.importorskip("pyspark", reason="the Spark engine needs the spark extra")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("flowscope-datalogs-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def manager() -> Manager:
    import flowscope_datalogs.plugin

    return make_manager(load_entrypoints=False, plugins=[("datalogs", flowscope_datalogs.plugin)])


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(
    manager: Manager, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """``cli(*args)``: ``flowscope --store tmp/store datalogs ARGS`` through the real entry point (one
    ``error:`` line and exit 1 for user errors), with this plugin's manager; returns code, stdout, stderr."""
    from flowscope import cli as core_cli

    monkeypatch.setattr(core_cli, "make_manager", lambda: manager)

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            core_cli.main(["--store", str(tmp_path / "store"), "datalogs", *args])
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_args(base: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--catalog",
        str(base / "datalogs" / "catalog.yaml"),
        "--requests",
        str(base / "datalogs" / "requests.jsonl"),
        "--delivery",
        str(base / "delivery"),
        "--state",
        str(base / "state"),
        *extra,
    ]


def delivered(delivery: Path) -> dict[str, bytes]:
    """request id -> package bytes, through the batch indexes the run writes."""
    out: dict[str, bytes] = {}
    for index in sorted(delivery.glob("batch-*.jsonl")):
        for line in index.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            out[entry["request_id"]] = (delivery / entry["package"]).read_bytes()
    return out


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def edit_catalog(base: Path, old: str, new: str) -> None:
    path = base / "datalogs" / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")
