"""install() / uninstall(): idempotent, every patch undone, instrumentations disabled one by one, env switch."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import flowscope_probes
from flowscope_probes import runtime
from flowscope_probes.instrument import MARK
from flowscope_probes.settings import SettingsError


def patched() -> dict[str, bool]:
    return {
        "flask": getattr(Flask.wsgi_app, MARK, False),
        "threads": getattr(threading.Thread.start, MARK, False),
        "executor": getattr(ThreadPoolExecutor.submit, MARK, False),
    }


def test_install_twice_is_one_install_and_uninstall_restores(probes: Callable[..., Any]) -> None:
    before = (Flask.wsgi_app, Flask.dispatch_request, threading.Thread.start, ThreadPoolExecutor.submit)
    rt = probes()
    assert all(patched().values())
    wrapper = Flask.wsgi_app
    assert probes() is rt  # same settings: the running runtime, nothing patched twice
    assert Flask.wsgi_app is wrapper and Flask.wsgi_app.__wrapped__ is before[0]
    assert {"flask", "threads"} <= set(rt.instrumentations)  # flask is imported here: installed at once
    assert {"flask", "starlette", "django", "threads"} <= set(rt.instrumentations) | rt.pending
    flowscope_probes.uninstall()
    assert runtime.STATE is None
    after = (Flask.wsgi_app, Flask.dispatch_request, threading.Thread.start, ThreadPoolExecutor.submit)
    assert after == before
    flowscope_probes.uninstall()  # a second uninstall is harmless


def test_install_with_other_settings_reinstalls(probes: Callable[..., Any]) -> None:
    rt = probes()
    rt2 = probes(sample_rate=0.5)
    assert rt2 is not rt and runtime.STATE is rt2
    assert Flask.wsgi_app.__wrapped__.__name__ == "wsgi_app" and not getattr(
        Flask.wsgi_app.__wrapped__, MARK, False
    )


def test_disable_one_by_one(probes: Callable[..., Any]) -> None:
    rt = probes(disable=["flask", "threads"])
    assert patched() == {"flask": False, "threads": False, "executor": False}
    assert rt.skipped["flask"] == "disabled" and "flask" not in rt.instrumentations
    assert "starlette" in set(rt.instrumentations) | rt.pending


def test_an_instrumentation_waits_for_its_library_to_be_imported(
    probes: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """install() never imports a library the service does not use; the patch lands when it is imported."""
    from flowscope_probes.instrument import Instrumentation

    lib = tmp_path / "lib"
    (lib / "probe_fake_lib").mkdir(parents=True)
    (lib / "probe_fake_lib" / "__init__.py").write_text(
        "class Client:\n    def send(self, x):\n        return x\n"
    )
    (lib / "probe_fake_lib" / "data.txt").write_text("resource")
    monkeypatch.syspath_prepend(str(lib))

    class FakeLib(Instrumentation):
        name = "fake_lib"
        module = "probe_fake_lib"

        def _install(self) -> None:
            import probe_fake_lib

            self.patch(probe_fake_lib.Client, "send", lambda orig: lambda self, x: ("patched", orig(self, x)))

    class EntryPoint:
        name = "fake_lib"

        def load(self) -> type:
            return FakeLib

    real = runtime._discover
    monkeypatch.setattr(runtime, "_discover", lambda: {**real(), "fake_lib": EntryPoint()})
    rt = probes()
    assert "probe_fake_lib" not in sys.modules and "fake_lib" in rt.pending
    import importlib.resources

    import probe_fake_lib  # type: ignore[import-not-found]

    assert "fake_lib" in rt.instrumentations and not rt.pending & {"fake_lib"}
    assert probe_fake_lib.Client().send(1) == ("patched", 1)
    assert importlib.resources.files("probe_fake_lib").joinpath("data.txt").read_text() == "resource"
    assert probe_fake_lib.__spec__.loader.__class__.__name__ == "SourceFileLoader"
    flowscope_probes.uninstall()
    assert probe_fake_lib.Client().send(1) == 1
    sys.modules.pop("probe_fake_lib", None)


def test_a_broken_instrumentation_is_reported_not_raised(
    probes: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowscope_probes.roots.flask import FlaskRoot

    def boom(self: Any) -> None:
        raise RuntimeError("cannot patch")

    monkeypatch.setattr(FlaskRoot, "_install", boom)
    rt = probes()
    assert rt.failed["flask"] == "RuntimeError: cannot patch"
    assert "threads" in rt.instrumentations


def test_kill_switch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWSCOPE_PROBES", "0")
    assert flowscope_probes.install(spool=tmp_path) is None
    assert runtime.STATE is None


def test_install_from_env_reads_the_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "flowscope.yaml"
    cfg.write_text("plugins:\n  probes:\n    service: billing\n    spool: spool\n    sample_rate: 0.2\n")
    monkeypatch.setenv("FLOWSCOPE_PROBES_CONFIG", str(cfg))
    monkeypatch.delenv("FLOWSCOPE_PROBES", raising=False)
    assert flowscope_probes.install_from_env() is None  # the switch is off
    monkeypatch.setenv("FLOWSCOPE_PROBES", "1")
    try:
        rt = flowscope_probes.install_from_env()
        assert rt is not None
        assert (rt.settings.service, rt.settings.sample_rate) == ("billing", 0.2)
        assert rt.settings.spool == tmp_path.resolve() / "spool"
    finally:
        flowscope_probes.uninstall()


def test_bad_settings_fail_at_install(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="sample_rate"):
        flowscope_probes.install(spool=tmp_path, sample_rate=3)
    assert runtime.STATE is None


def test_run_module_entry_point(tmp_path: Path) -> None:
    """``python -m flowscope_probes --config F script.py`` runs the script with the probes installed."""
    cfg = tmp_path / "probes.yaml"
    cfg.write_text(f"service: cli\nspool: {tmp_path / 'spool'}\n")
    script = tmp_path / "app.py"
    script.write_text(
        "import sys, flowscope_probes\n"
        "st = flowscope_probes.status()\n"
        "print(st['service'], sys.argv[1:], __name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "flowscope_probes", "--config", str(cfg), str(script), "a", "b"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "cli ['a', 'b'] __main__"
    bad = subprocess.run(
        [sys.executable, "-m", "flowscope_probes", "--config", str(tmp_path / "nope.yaml"), str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "nope.yaml" in bad.stderr and "Traceback" not in bad.stderr
