"""install() / uninstall(): settings, instrumentations from entry points, the sampler and the worker.

One :class:`Runtime` per process (``STATE``). Request roots read ``STATE`` and do nothing when it is None,
so an uninstalled process pays one global read per request. ``install`` is idempotent: the same settings
again return the running runtime; different settings uninstall and install afresh. After ``os.fork`` the
child keeps the patches but gets a fresh worker, queue and spool file (the parent's pending requests
stay the parent's).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from flowscope.model import Job
from flowscope_probes.blind import UNOBSERVED
from flowscope_probes.context import FAULTS, Recorder
from flowscope_probes.imports import HOOKS
from flowscope_probes.instrument import Instrumentation
from flowscope_probes.keys import DEFAULT_KEY_PATTERNS, KeyRule
from flowscope_probes.labels import service_namespace
from flowscope_probes.roots import fast
from flowscope_probes.sampling import Sampler, reseed
from flowscope_probes.scrub import strip_credentials
from flowscope_probes.settings import ProbeSettings, from_environment, load_settings_file, make_settings
from flowscope_probes.spool import resolve_salt
from flowscope_probes.worker import Worker

log = logging.getLogger(__name__)

GROUP = "flowscope_probes.instrumentations"
SWITCH_ENV = "FLOWSCOPE_PROBES"


class Runtime:
    def __init__(self, settings: ProbeSettings) -> None:
        self.settings = settings
        self.sampler = Sampler(settings.sample_rate, settings.rates_by_route, settings.trust_upstream_sampled)
        self.salt = resolve_salt(settings.salt, settings.spool)
        self.keys = KeyRule(self.salt, (*DEFAULT_KEY_PATTERNS, *settings.key_patterns))
        self.worker = Worker(settings, self.salt)
        self.namespace = service_namespace(settings.service)
        self.instrumentations: dict[str, Instrumentation] = {}
        self.failed: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        self.pending: set[str] = set()
        self.jobs: dict[str, Job] = {}  # waiting for their library to be imported

    def recorder(self, route: str, trace_id: str | None) -> Recorder:
        s = self.settings
        rec = Recorder(None, route, trace_id, s.max_captures, s.max_payload_bytes, s.max_request_bytes)
        rec.unobserved = UNOBSERVED.any  # writes may go through connections the probes cannot see
        return rec

    def job(self, name: str) -> Job:
        job = self.jobs.get(name)
        if job is None:
            if len(self.jobs) > 10_000:
                self.jobs.clear()
            job = self.jobs[name] = Job(self.namespace, name)
        return job

    def finish(self, rec: Recorder) -> None:
        """A sampled request ended: hand its recorder to the worker (never raises)."""
        try:
            self.worker.submit(rec)
        except Exception:
            FAULTS.add("submit")

    def after_fork(self) -> None:
        reseed()
        self.worker = Worker(self.settings, self.salt)

    def status(self) -> dict[str, Any]:
        return {
            "service": self.settings.service,
            "spool": str(self.worker.writer.path),
            "sample_rate": self.settings.sample_rate,
            "instrumentations": sorted(self.instrumentations),
            "pending": sorted(self.pending),
            "skipped": dict(self.skipped),
            "failed": dict(self.failed),
            **self.worker.health(),
        }


STATE: Runtime | None = None
_INSTALLING: Runtime | None = None
_FORK_HOOKED = False


def _clean(exc: BaseException) -> str:
    """An exception's text as the probes may log it: URL credentials stripped."""
    return strip_credentials(str(exc))


def _discover() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep
    return found


def _install_one(rt: Runtime, name: str, inst: Instrumentation) -> None:
    if runtime_of(rt) is None:
        return  # uninstalled before the library was imported
    try:
        inst.install({**rt.settings.as_dict(), **rt.settings.instrumentations.get(name, {})})
    except Exception as exc:  # one broken instrumentation never stops the others or the host
        rt.failed[name] = f"{type(exc).__name__}: {_clean(exc)}"
        rt.pending.discard(name)
        FAULTS.add(f"install.{name}")
        log.warning("flowscope probes: instrumentation %s failed to install: %s", name, _clean(exc))
        return
    rt.pending.discard(name)
    rt.instrumentations[name] = inst
    try:
        inst.survey()
    except Exception:
        FAULTS.add(f"survey.{name}")


def runtime_of(rt: Runtime) -> Runtime | None:
    return rt if STATE is rt or _INSTALLING is rt else None


def _install_instrumentations(rt: Runtime) -> None:
    """Install each discovered instrumentation now, or when its library is first imported."""
    disabled = set(rt.settings.disable)
    for name, ep in sorted(_discover().items()):
        if name in disabled:
            rt.skipped[name] = "disabled"
            continue
        try:
            obj = ep.load()
            inst: Instrumentation = obj() if isinstance(obj, type) else obj
            if not inst.available():
                rt.skipped[name] = f"{inst.module or name} not installed"
                continue
        except Exception as exc:
            rt.failed[name] = f"{type(exc).__name__}: {_clean(exc)}"
            FAULTS.add(f"install.{name}")
            log.warning("flowscope probes: instrumentation %s failed to load: %s", name, _clean(exc))
            continue
        top = inst.module.partition(".")[0]
        if not top:
            _install_one(rt, name, inst)
            continue
        rt.pending.add(name)
        HOOKS.when_imported(top, functools.partial(_install_one, rt, name, inst))


def _after_fork_in_child() -> None:
    rt = STATE
    if rt is not None:
        try:
            rt.after_fork()
        except Exception:
            FAULTS.add("fork")


def install(
    service: str | None = None,
    config: str | Path | ProbeSettings | dict[str, Any] | None = None,
    sample_rate: float | None = None,
    rates_by_route: dict[str, float] | None = None,
    disable: list[str] | None = None,
    spool: str | Path | None = None,
    salt: str | None = None,
    **more: Any,
) -> Runtime | None:
    """Start the probes in this process; see docs/probes.md. Returns None when ``FLOWSCOPE_PROBES=0``.

    ``config``: settings, a mapping of them, or a YAML file (its ``plugins.probes`` section); without it
    ``$FLOWSCOPE_PROBES_CONFIG`` is read when set. Keyword arguments override the config. Bad settings
    raise :class:`~flowscope_probes.settings.SettingsError` here, at startup, never later.
    """
    global STATE, _FORK_HOOKED, _INSTALLING
    if os.environ.get(SWITCH_ENV, "").strip() == "0":
        return None
    if isinstance(config, ProbeSettings):
        values = config.as_dict()
    elif isinstance(config, dict):
        values = make_settings(config).as_dict()
    elif config is not None:
        values = load_settings_file(Path(config)).as_dict()
    else:
        env = from_environment()
        values = env.as_dict() if env is not None else {}
    overrides = {
        "service": service,
        "sample_rate": sample_rate,
        "rates_by_route": rates_by_route,
        "disable": disable,
        "spool": str(spool) if spool is not None else None,
        "salt": salt,
        **more,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = make_settings(values)
    if STATE is not None:
        if STATE.settings == settings:
            return STATE
        uninstall()
    rt = Runtime(settings)
    UNOBSERVED.clear()
    UNOBSERVED.installing(True)
    _INSTALLING = rt
    try:
        _install_instrumentations(rt)
    finally:
        _INSTALLING = None
        UNOBSERVED.installing(False)
    STATE = rt
    fast.configure(rt.sampler)
    if not _FORK_HOOKED:
        os.register_at_fork(after_in_child=_after_fork_in_child)
        atexit.register(_at_exit)
        _FORK_HOOKED = True
    return rt


def install_from_env() -> Runtime | None:
    """Install when ``FLOWSCOPE_PROBES=1`` (settings from ``$FLOWSCOPE_PROBES_CONFIG``); else nothing."""
    if os.environ.get(SWITCH_ENV, "").strip() not in ("1", "true", "yes", "on"):
        return None
    return install()


def uninstall() -> None:
    """Undo every patch, flush what was recorded, stop the worker. Safe to call when not installed."""
    global STATE
    rt, STATE = STATE, None
    fast.configure(None)
    if rt is None:
        return
    UNOBSERVED.clear()
    HOOKS.clear()
    for name, inst in rt.instrumentations.items():
        try:
            inst.uninstall()
        except Exception as exc:
            FAULTS.add(f"uninstall.{name}")
            log.warning("flowscope probes: instrumentation %s failed to uninstall: %s", name, _clean(exc))
    try:
        rt.worker.stop()
    except Exception:
        FAULTS.add("stop")


def flush() -> None:
    """Process queued requests and write every aggregate now (tests, shutdown hooks, drivers)."""
    rt = STATE
    if rt is not None:
        rt.worker.drain()


def status() -> dict[str, Any] | None:
    rt = STATE
    return rt.status() if rt is not None else None


def _at_exit() -> None:
    rt = STATE
    if rt is not None and rt.worker.pid == os.getpid():
        with contextlib.suppress(Exception):
            rt.worker.stop(timeout=1.0)
