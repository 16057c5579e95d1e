"""The spool for ``flowscope scan``'s ``openlineage:`` emitter, and the sender that replays it.

During a scan the configured OpenLineage client sends each event. When its transport fails, the event and
every later one go to the same spool ``flowscope emit`` uses (``<store>/spool``) instead of the dead
transport, exactly as the client would have sent them: the client still runs (facets, tags, filters), only
its transport's ``emit`` is swapped for a capture. A composite transport's dead child gets its own spool
file; the other children keep receiving events.

Spool records name the target by its transport config as JSON, without secrets (keys that look like
credentials are dropped; user-info is removed from URLs): ``flowscope emit --replay`` rebuilds the
transport from it, and the OpenLineage client fills credentials in from ``OPENLINEAGE__...`` environment
variables, as it does for the scan.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowscope.errors import UserError
from flowscope_emitters.delivery import Transient, http_failure
from flowscope_emitters.failures import describe, mask, scrub, secrets_in

TO = "openlineage"
_SENSITIVE = re.compile(r"key|token|secret|passw|credential|sasl|header|cert|session", re.IGNORECASE)
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def public_config(config: Any, sensitive: bool = False) -> Any:
    """``config`` without values that may be secrets (``auth.type`` and other non-secret keys stay)."""
    if isinstance(config, Mapping):
        out: dict[str, Any] = {}
        for key, value in config.items():
            hidden = sensitive or bool(_SENSITIVE.search(str(key))) or str(key).lower() == "auth"
            if isinstance(value, Mapping | list):
                out[str(key)] = public_config(value, hidden)
            elif not (hidden and isinstance(value, str) and str(key) != "type"):
                out[str(key)] = _USERINFO.sub("", value) if isinstance(value, str) else value
        return out
    if isinstance(config, list):
        return [public_config(v, sensitive) for v in config]
    return config


def target_of(transport_config: Mapping[str, Any]) -> str:
    return json.dumps(public_config(transport_config), sort_keys=True)


def describe_target(target: str) -> str:
    """A spool target for people: ``http http://host:5000``, ``file /x/events.jsonl``, ``composite``."""
    try:
        config = json.loads(target)
    except ValueError:
        return target
    if not isinstance(config, dict):
        return target
    where = config.get("url") or config.get("log_file_path") or config.get("topic") or ""
    return f"{config.get('type', '?')} {where}".strip()


def children_configs(transport_config: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """A composite's children configs in the order the client builds them (None when it sorts them)."""
    if transport_config.get("type") != "composite" or transport_config.get("sort_transports"):
        return None
    children = transport_config.get("transports") or []
    if isinstance(children, Mapping):
        return [{**c, "name": name} for name, c in children.items() if c]
    return [dict(c) for c in children if c]


class ClientSender:
    """Replays spooled events through the transport their target config describes."""

    to = TO

    def __init__(self, target: str) -> None:
        from flowscope_emitters.openlineage_emitter import OpenLineageEmitterFactory

        self.target = target
        try:
            config = json.loads(target)
        except ValueError:
            raise UserError(f"spool: unreadable openlineage target {target[:80]!r}") from None
        if isinstance(config, dict) and config.get("type") == "http" and not config.get("auth"):
            from flowscope_emitters.olconfig import API_KEY_ENV

            if os.environ.get(API_KEY_ENV):  # spooled from OPENLINEAGE_URL: its key is OPENLINEAGE_API_KEY
                config["auth"] = {"type": "api_key", "apiKey": os.environ[API_KEY_ENV]}
        emitter = OpenLineageEmitterFactory().from_config({"openlineage": {"transport": config}}, Path.cwd())
        if emitter is None:
            raise UserError("spool: OPENLINEAGE_DISABLED=true; nothing replayed to the OpenLineage client")
        self.client = emitter.client
        self.transport = emitter.client.transport
        self._secrets = secrets_in(self.client.config.transport)

    def send(self, event: Mapping[str, Any]) -> None:
        import requests

        try:
            self.transport.emit(event)  # type: ignore[arg-type]  # the client serializes dicts as they are
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            reason = mask(describe(exc, self.transport), self._secrets)
            raise http_failure(status, reason) from None
        except Exception as exc:
            raise Transient(scrub(describe(exc, self.transport), self._secrets)) from None

    def close(self) -> None:
        self.client.close(10.0)


class Capture:
    """Wraps a transport's ``emit``: remembers what it was given and, once ``hold`` is set, sends nothing."""

    def __init__(self, transport: Any) -> None:
        self.events: list[Any] = []
        self.hold = False
        original: Callable[[Any], Any] = transport.emit

        def emit(event: Any) -> Any:
            self.events.append(event)
            return None if self.hold else original(event)

        transport.emit = emit

    def take(self) -> Any | None:
        """The event the transport got in the last client call (None when the client filtered it out)."""
        last = self.events[-1] if self.events else None
        self.events.clear()
        return last


def as_dict(event: Any) -> dict[str, Any]:
    from openlineage.client.serde import Serde

    return event if isinstance(event, dict) else Serde.to_dict(event)
