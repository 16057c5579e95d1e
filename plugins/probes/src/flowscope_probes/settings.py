"""The probes' settings: one dataclass for both sides.

In a running service they come from ``install(...)`` keywords, or from a YAML file named by
``$FLOWSCOPE_PROBES_CONFIG`` (its ``plugins.probes`` section, so the service and ``flowscope scan`` can share
one ``flowscope.yaml``; a file holding only the keys below works too). In ``flowscope scan`` the ``probes``
collector reads the same section and only needs ``spool`` (and ``service`` for explicit names).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope.errors import UserError
from flowscope.yamlsafe import safe_load
from flowscope_probes.keys import compile_patterns

CONFIG_ENV = "FLOWSCOPE_PROBES_CONFIG"
SALT_ENV = "FLOWSCOPE_PROBES_SALT"


@dataclass
class ProbeSettings:
    service: str = "app"  # job namespace service://<service>
    spool: Path = Path(".flowscope/probes")  # folder of JSONL files (one per process)
    sample_rate: float = 0.01  # fraction of requests recorded
    rates_by_route: dict[str, float] = field(default_factory=dict)  # path or glob -> rate
    disable: list[str] = field(default_factory=list)  # instrumentation names not to install
    salt: str = ""  # prefer $FLOWSCOPE_PROBES_SALT; empty: a random salt kept in <spool>/salt
    http_host: str = ""  # host in request asset names (http://<host>); empty: the service name
    http_hosts: list[str] = field(default_factory=list)  # Host header values allowed to name them instead
    trust_upstream_sampled: bool = False  # a traceparent's sampled flag decides (only behind a trusted proxy)
    headers: list[str] = field(default_factory=list)  # request headers recorded as sources (allow-list)
    cache_clusters: dict[str, str] = field(
        default_factory=dict
    )  # cache host -> cluster name (default: first DNS label)
    flush_seconds: float = 10.0
    window_seconds: float = 300.0
    queue_size: int = 1000  # finished requests waiting for the worker; beyond it they are dropped, counted
    max_captures: int = 1000  # sources + sinks per request; beyond it they are dropped, counted
    max_body: int = 65536  # request bodies larger than this are not parsed for sources
    max_payload_bytes: int = 65536  # text/bytes captured per payload (the rest cut off, counted)
    max_request_bytes: int = 1 << 20  # text/bytes captured per request (further captures dropped, counted)
    key_patterns: list[str] = field(default_factory=list)  # more value detectors for keys (see keys.py)
    max_labels: int = 1000  # distinct source/sink labels per job; beyond it captures are dropped, counted
    emit: str = ""  # a flowscope.yaml: also send each flush as OpenLineage events to its emitters
    debug_samples: bool = False  # opt-in: redacted samples of matched values in the spool (see docs)
    instrumentations: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-instrumentation options

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["spool"] = str(self.spool)
        return out


class SettingsError(ValueError):
    """A bad probes setting: names the file (when there is one) and the key."""


def _coerce(name: str, value: Any, default: Any, where: str) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingsError(f"{where}{name}: expected true or false, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{where}{name}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"{where}{name}: expected an integer, got {value!r}")
        return value
    if isinstance(default, Path):
        return Path(str(value)).expanduser()
    if isinstance(default, str):
        if not isinstance(value, str):
            raise SettingsError(f"{where}{name}: expected a string, got {value!r}")
        return value
    if isinstance(default, list):
        if not isinstance(value, list | tuple):
            raise SettingsError(f"{where}{name}: expected a list, got {value!r}")
        return [str(v) for v in value]
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise SettingsError(f"{where}{name}: expected a mapping, got {value!r}")
        return dict(value)
    return value


def make_settings(values: dict[str, Any], where: str = "", base_dir: Path | None = None) -> ProbeSettings:
    """Build settings from a mapping, checking keys and types; relative ``spool`` resolves against base_dir."""
    defaults = ProbeSettings()
    known = {f.name for f in dataclasses.fields(ProbeSettings)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise SettingsError(f"{where}{key}: unknown probes setting (known: {', '.join(sorted(known))})")
        if value is None:
            continue
        kwargs[key] = _coerce(key, value, getattr(defaults, key), where)
    settings = ProbeSettings(**kwargs)
    if not 0.0 <= settings.sample_rate <= 1.0:
        raise SettingsError(f"{where}sample_rate: expected a fraction between 0 and 1")
    for route, rate in settings.rates_by_route.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
            raise SettingsError(f"{where}rates_by_route.{route}: expected a fraction between 0 and 1")
    try:
        compile_patterns(settings.key_patterns)
    except re.error as exc:
        raise SettingsError(f"{where}key_patterns: not a regular expression: {exc}") from None
    for name in ("max_labels", "max_captures", "max_payload_bytes", "max_request_bytes", "queue_size"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"{where}{name}: expected at least 1")
    hosts = []
    for host in settings.http_hosts:
        plain = normal_host(host)
        if plain is None:
            raise SettingsError(
                f"{where}http_hosts: {host!r} is not a host name (letters, digits, '.', '-', ':port')"
            )
        hosts.append(plain)
    settings.http_hosts = hosts
    if base_dir is not None and not settings.spool.is_absolute():
        settings.spool = base_dir / settings.spool
    if base_dir is not None and settings.emit and not Path(settings.emit).is_absolute():
        settings.emit = str(base_dir / settings.emit)
    return settings


_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?")


def normal_host(value: str) -> str | None:
    """A Host header value as compared with ``http_hosts``: lower case, no trailing dot; None when it is not
    a plain ``host`` or ``host:port`` (so nothing a client makes up can become part of an asset name)."""
    host = value.strip().lower()
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    name = name.rstrip(".")
    host = f"{name}{colon}{port}"
    return host if len(host) <= 255 and _HOST.fullmatch(host) else None


def load_settings_file(path: Path) -> ProbeSettings:
    """Settings from a YAML file: its ``plugins.probes`` section, or the whole file when it has none."""
    try:
        data = safe_load(path.read_text(encoding="utf-8"), str(path)) or {}
    except UserError as exc:
        line = f":{exc.line}" if exc.line else ""
        raise SettingsError(f"{path}{line}: cannot read probes settings: {exc.message}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read probes settings: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping")
    section = data.get("plugins", {}).get("probes") if isinstance(data.get("plugins"), dict) else None
    where = f"{path}: plugins.probes." if section is not None else f"{path}: "
    return make_settings(section if section is not None else data, where, path.resolve().parent)


def from_environment() -> ProbeSettings | None:
    """Settings from ``$FLOWSCOPE_PROBES_CONFIG``, or None when it is unset."""
    path = os.environ.get(CONFIG_ENV, "").strip()
    return load_settings_file(Path(path)) if path else None
