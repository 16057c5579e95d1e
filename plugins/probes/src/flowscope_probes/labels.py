"""Labels the worker hands to the matcher and writes to the spool, and the explicit-name rule.

- An asset's label is ``<namespace>|<name>#<field>`` (``#`` always written, the field may be empty); a
  job's label is ``<namespace>|<name>``. Namespaces never hold ``|``, so both parse back unambiguously.
- :func:`asset_from_name` is the rule for ``flowscope_probes.source(name, value)``: a name with ``://`` is
  read the way :class:`~flowscope.model.Asset` prints itself (``<namespace>/<name>#<field>``, e.g.
  ``log://python/audit#user_id`` or ``http://api.internal//v1/users#email``; user info and a query string
  are dropped: ``http://u:pw@api.internal/v1?token=x`` is ``http://api.internal/v1``); any other name is an asset of
  the service itself, ``service://<service>`` with name and field split at ``#`` (``signup#email``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flowscope.model import Asset, Job
from flowscope_probes.keys import PLAIN


def asset_label(asset: Asset) -> str:
    return f"{asset.namespace}|{asset.name}#{asset.field or ''}"


def parse_asset_label(label: str) -> Asset:
    namespace, sep, rest = label.partition("|")
    if not sep:
        raise ValueError(f"not an asset label: {label!r}")
    name, _, fld = rest.rpartition("#") if "#" in rest else (rest, "", "")
    return Asset(namespace, name, fld or None)


def job_label(job: Job) -> str:
    return f"{job.namespace}|{job.name}"


def parse_job_label(label: str) -> Job:
    namespace, sep, name = label.partition("|")
    if not sep:
        raise ValueError(f"not a job label: {label!r}")
    return Job(namespace, name)


def service_namespace(service: str) -> str:
    return f"service://{service}"


def asset_from_name(name: str | Asset, service: str) -> Asset:
    """See the module docstring for the rule."""
    if isinstance(name, Asset):
        return name
    body, _, fld = name.partition("#")
    scheme, sep, rest = body.partition("://")
    if sep:
        authority, _, path = rest.partition("/")
        authority = authority.rpartition("@")[2]  # user info is a credential, never part of a name
        path = path.partition("?")[0]  # and so is a query string (?token=...)
        return Asset(f"{scheme}://{authority}", path or "/", fld or None)
    return Asset(service_namespace(service), body, fld or None)


LEAF_TYPES = (str, bytes, int, float)


def flatten(
    value: object, prefix: str = "", depth: int = 0, name: Callable[[object], str] = PLAIN
) -> Iterator[tuple[str, object]]:
    """Leaves of a decoded JSON/form value with their field paths (``user.emails[0]``); bools and None
    skipped. Keys go through ``name`` (a :class:`~flowscope_probes.keys.KeyRule`): a key that is not an
    identifier is user data and becomes a placeholder."""
    if depth > 16:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            part = name(key)
            yield from flatten(item, f"{prefix}.{part}" if prefix else part, depth + 1, name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{i}]", depth + 1, name)
    elif isinstance(value, LEAF_TYPES) and not isinstance(value, bool):
        yield prefix, value
