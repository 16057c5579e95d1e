"""With no ``openlineage:`` section flowscope configures the OpenLineage client exactly as the client does on
its own (OPENLINEAGE_URL / OPENLINEAGE_API_KEY, OPENLINEAGE_CONFIG, ./openlineage.yml, ~/.openlineage,
OPENLINEAGE__TRANSPORT__..., OPENLINEAGE_DISABLED), and ``emit --to marquez`` finds Marquez and its key the
same way. A real recording HTTP server on 127.0.0.1 checks what arrives, including the Authorization
header; the key never appears in anything printed or logged."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import RunEvent

import flowscope_emitters.plugin
from flowscope.cli import main
from flowscope.events import event_to_dict
from flowscope.plugins import make_manager
from flowscope.store import Store
from flowscope_emitters import OpenLineageEmitterFactory

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "photo_sharing"
SECRET = "s3cr3t-ol-key-9f2c"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )


@pytest.fixture
def scan_config(tmp_path: Path) -> Path:
    """A config with no openlineage: section, scanning the example's declared flows."""
    config = tmp_path / "flowscope.yaml"
    flows = (EXAMPLE / "flows").as_posix()
    config.write_text(f"plugins:\n  declared:\n    files: ['{flows}/*.yaml']\n", encoding="utf-8")
    return config


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 0), out.out, out.err


def scan(capsys: Any, tmp_path: Path, config: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "--store", str(tmp_path / "store"), *extra, "scan", "-c", str(config), "--json")


def auth_headers(server: Any) -> set[str | None]:
    return {r["headers"].get("Authorization") for r in server.requests}


def test_openlineage_url_and_api_key_deliver_a_scan_without_a_section(
    cli: None,
    scan_config: Path,
    tmp_path: Path,
    server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", server.url)
    monkeypatch.setenv("OPENLINEAGE_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    code, out, err = scan(capsys, tmp_path, scan_config, "--debug")
    assert code == 0, err
    with Store.open(tmp_path / "store") as s:
        stored = len(list(s.events()))
    assert stored > 1 and len(server.requests) == stored
    assert {r["path"] for r in server.requests} == {"/api/v1/lineage"}
    assert auth_headers(server) == {f"Bearer {SECRET}"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "OpenLineageClient will use `http` transport" in logged  # the client's own resolution
    assert SECRET not in out + err + logged


def test_openlineage_transport_variables_and_the_key_variable(
    cli: None, scan_config: Path, tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", server.url)
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__ENDPOINT", "api/v2/events")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__TYPE", "api_key")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__API_KEY", SECRET)
    code, out, err = scan(capsys, tmp_path, scan_config)
    assert code == 0, err
    assert server.requests and {r["path"] for r in server.requests} == {"/api/v2/events"}
    assert auth_headers(server) == {f"Bearer {SECRET}"}
    assert SECRET not in out + err


@pytest.mark.parametrize("where", ["cwd", "home", "env"])
def test_openlineage_yml_is_found_where_the_client_looks(
    cli: None,
    scan_config: Path,
    tmp_path: Path,
    server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    where: str,
) -> None:
    text = (
        f"transport:\n  type: http\n  url: {server.url}\n  auth:\n    type: api_key\n    apiKey: {SECRET}\n"
    )
    home = Path.home()  # the hermetic fixture's home, also the working directory
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    if where == "cwd":
        (work / "openlineage.yml").write_text(text)
    elif where == "home":
        (home / ".openlineage").mkdir()
        (home / ".openlineage" / "openlineage.yml").write_text(text)
    else:
        (tmp_path / "ol.yml").write_text(text)
        monkeypatch.setenv("OPENLINEAGE_CONFIG", str(tmp_path / "ol.yml"))
    code, out, err = scan(capsys, tmp_path, scan_config)
    assert code == 0, err
    assert server.requests and auth_headers(server) == {f"Bearer {SECRET}"}
    assert SECRET not in out + err


def test_openlineage_disabled_sends_nothing_even_with_a_section(
    cli: None, tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch, scan_config: Path, capsys: Any
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", server.url)
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    code, _, err = scan(capsys, tmp_path, scan_config)
    assert code == 0, err
    config = {"openlineage": {"transport": {"type": "http", "url": server.url}}}
    assert OpenLineageEmitterFactory().from_config(config, tmp_path) is None
    assert server.requests == []


def test_nothing_configured_means_no_emitter_rather_than_the_console(tmp_path: Path) -> None:
    assert OpenLineageEmitterFactory().from_config({}, tmp_path) is None


def test_a_broken_openlineage_yml_is_an_error_naming_it(
    cli: None, scan_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    bad = tmp_path / "ol.yml"
    bad.write_text("transport: [unclosed\n")
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(bad))
    code, _, err = scan(capsys, tmp_path, scan_config)
    assert code == 1
    assert f"{bad}:" in err and "invalid YAML" in err
    assert "Traceback" not in err


@pytest.fixture
def stored(tmp_path: Path, events: list[RunEvent], monkeypatch: pytest.MonkeyPatch, cli: None) -> Path:
    where = tmp_path / "store"
    with Store.open(where) as s:
        s.replace("scan", "scope-1", [], [], [event_to_dict(e) for e in events])
    monkeypatch.setenv("FLOWSCOPE_STORE", str(where))
    return where


@pytest.mark.parametrize("key_variable", ["OPENLINEAGE_API_KEY", "OPENLINEAGE__TRANSPORT__AUTH__API_KEY"])
def test_emit_to_marquez_falls_back_to_openlineage_url_with_the_key(
    stored: Path,
    server: Any,
    events: list[RunEvent],
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: pytest.LogCaptureFixture,
    key_variable: str,
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", server.url)
    monkeypatch.setenv(key_variable, SECRET)
    caplog.set_level(logging.DEBUG)
    code, out, err = run(capsys, "--debug", "emit", "--to", "marquez")
    assert code == 0, err
    assert f"marquez {server.url}: {len(events)} sent" in err
    assert len(server.requests) == len(events) and auth_headers(server) == {f"Bearer {SECRET}"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in out + err + logged


def test_emit_to_marquez_without_any_url_says_how_to_give_one(stored: Path, capsys: Any) -> None:
    code, _, err = run(capsys, "emit", "--to", "marquez")
    assert code == 1
    assert "--to marquez needs a TARGET" in err
