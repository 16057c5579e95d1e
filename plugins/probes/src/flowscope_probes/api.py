"""Explicit captures for in-house frameworks: ``source(name, value)`` and ``sink(name, payload)``.

``name`` is an :class:`~flowscope.model.Asset` or a string read by the rule in
:mod:`flowscope_probes.labels` (``"signup#email"`` -> ``service://<service>/signup#email``; a name with
``://`` is read as an asset printed: ``"log://python/audit"``). A dict or list value given to ``source`` is
recorded leaf by leaf with field paths appended (``signup#user.email``). Both are no-ops outside a
sampled request and never raise.
"""

from __future__ import annotations

from functools import lru_cache

from flowscope.model import Asset
from flowscope_probes import runtime
from flowscope_probes.context import CURRENT, FAULTS
from flowscope_probes.keys import PLAIN
from flowscope_probes.labels import asset_from_name as _parse
from flowscope_probes.labels import flatten


@lru_cache(maxsize=4096)
def _named(name: str, service: str) -> Asset:
    return _parse(name, service)


def asset_from_name(name: str | Asset, service: str) -> Asset:
    return name if isinstance(name, Asset) else _named(name, service)


def source(name: str | Asset, value: object) -> None:
    rec = CURRENT.get()
    if rec is None:
        return
    try:
        rt = runtime.STATE
        asset = asset_from_name(name, rt.settings.service if rt else "app")
        if isinstance(value, dict | list | tuple):
            for path, leaf in flatten(value, name=rt.keys if rt else PLAIN):
                fld = f"{asset.field}.{path}" if asset.field and path else (path or asset.field)
                rec.add_source(asset.with_field(fld), leaf)
        else:
            rec.add_source(asset, value)
    except Exception:
        FAULTS.add("api.source")


def sink(name: str | Asset, payload: object) -> None:
    rec = CURRENT.get()
    if rec is None:
        return
    try:
        rt = runtime.STATE
        rec.add_sink(asset_from_name(name, rt.settings.service if rt else "app"), payload)
    except Exception:
        FAULTS.add("api.sink")
