"""The OpenLineage client's own configuration, found and read the way openlineage-python does it.

With no ``openlineage:`` section in flowscope's config, flowscope still sends its events when the client
would: ``OPENLINEAGE_URL`` (with ``OPENLINEAGE_API_KEY`` and ``OPENLINEAGE_ENDPOINT``), a YAML file named by
``OPENLINEAGE_CONFIG``, ``./openlineage.yml`` or ``~/.openlineage/openlineage.yml``, or
``OPENLINEAGE__TRANSPORT__...`` variables. ``OPENLINEAGE_DISABLED=true`` turns sending off, section or not.
Precedence is the client's: the section, then the file, then ``OPENLINEAGE__`` variables.

Two things differ from the client, both on purpose: the YAML file is read with flowscope's bounded loader
(:mod:`flowscope.yamlsafe`) and an unreadable or invalid file is an error naming it (the client logs it and
goes on with the console transport); and with nothing configured at all flowscope sends nothing (the
client would print every event to the console).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.utils import deep_merge_dicts

from flowscope.errors import UserError
from flowscope.yamlsafe import safe_load

ENV_PREFIX = "OPENLINEAGE__"
URL_ENV, API_KEY_ENV, ENDPOINT_ENV = "OPENLINEAGE_URL", "OPENLINEAGE_API_KEY", "OPENLINEAGE_ENDPOINT"
CONFIG_ENV, DISABLED_ENV, NAMESPACE_ENV = (
    "OPENLINEAGE_CONFIG",
    "OPENLINEAGE_DISABLED",
    "OPENLINEAGE_NAMESPACE",
)
DEFAULT_ENDPOINT = "api/v1/lineage"
# The client's names for the API key of an http transport's ``auth`` (it reads all three).
_KEY_NAMES = ("apiKey", "apikey", "api_key")


def disabled() -> bool:
    """``OPENLINEAGE_DISABLED=true``: the client sends nothing (its NoopTransport); nor does flowscope."""
    return os.environ.get(DISABLED_ENV, "").strip().lower() == "true"


def config_file() -> Path | None:
    """The YAML file the client would read: ``$OPENLINEAGE_CONFIG``, ``./openlineage.yml``,
    ``~/.openlineage/openlineage.yml`` (the first readable one)."""
    found = OpenLineageClient._find_yaml_config_path()
    return Path(found) if found else None


def read_file(path: Path) -> dict[str, Any]:
    """The file's mapping, through flowscope's bounded YAML loader; problems name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(f"cannot read the OpenLineage config: {reason}", str(path)) from None
    doc = safe_load(text, str(path))
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise UserError(f"the OpenLineage config must be a mapping, not {type(doc).__name__}", str(path))
    return doc


def env_config() -> dict[str, Any]:
    """``OPENLINEAGE__A__B=v`` as ``{"a": {"b": v}}``, values parsed as JSON when they are (the client's rule)."""
    return OpenLineageClient._load_config_from_env_variables() or {}


def configured() -> bool:
    """Would the client, on its own, find somewhere to send events (other than its console fallback)?"""
    if os.environ.get(URL_ENV) or config_file() is not None:
        return True
    return bool((env_config().get("transport") or {}).get("type"))


class FlowscopeClient(OpenLineageClient):
    """openlineage-python's client, reading its YAML file with flowscope's bounded loader."""

    @staticmethod
    def _get_config_file_content(config_path: str) -> dict[str, Any]:
        return read_file(Path(config_path))


def merged(section: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the client would configure itself with: the section, over the file, over ``OPENLINEAGE__``."""
    config = dict(section or {})
    if (path := config_file()) is not None:
        config = deep_merge_dicts(read_file(path), config)
    return deep_merge_dicts(env_config(), config)


def http_target() -> tuple[str | None, str, str | None]:
    """(url, endpoint, api key) for ``flowscope emit --to marquez`` without a URL: ``OPENLINEAGE_URL`` with
    ``OPENLINEAGE_ENDPOINT``, else an ``http`` transport the client is configured with. The key: the
    transport's ``auth`` (``OPENLINEAGE__TRANSPORT__AUTH__API_KEY``, the file), else ``OPENLINEAGE_API_KEY``."""
    transport = merged().get("transport") or {}
    if not isinstance(transport, dict):
        transport = {}
    url = os.environ.get(URL_ENV) or (transport.get("url") if transport.get("type") == "http" else None)
    endpoint = os.environ.get(ENDPOINT_ENV) or str(transport.get("endpoint") or DEFAULT_ENDPOINT)
    return (str(url) if url else None), endpoint, api_key(transport)


def api_key(transport: dict[str, Any] | None = None) -> str | None:
    """The API key from the environment (or the client's transport config), as the client would send it."""
    if transport is None:
        transport = merged().get("transport") or {}
    auth = transport.get("auth") if isinstance(transport, dict) else None
    if isinstance(auth, dict):
        for name in _KEY_NAMES:
            if auth.get(name):
                return str(auth[name])
    return os.environ.get(API_KEY_ENV) or None
