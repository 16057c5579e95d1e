"""OpenLineage client objects as plain JSON data, the same as the client's ``Serde.to_dict`` makes, faster.

``Serde.to_dict`` runs ``attr.asdict`` over the whole event and then walks the result again to drop nulls
and turn enums into their values; for a scan's thousands of events (each serialized for its run id, for the
store and for the file) that was most of ``flowscope scan`` on a large code base. This does both in one
walk, reading each attrs class's field names once. ``tests/test_olplain.py`` holds it equal to
``Serde.to_dict`` on every event of the example's scan and on values built to reach each rule.
"""

from __future__ import annotations

import datetime
import uuid
from enum import Enum
from functools import cache
from typing import Any

import attr


@cache
def _fields(cls: type) -> tuple[str, ...] | None:
    """The attrs field names of ``cls`` in declaration order; None for a class attrs did not make."""
    return tuple(f.name for f in attr.fields(cls)) if attr.has(cls) else None


_LEAVES = frozenset((str, int, float, bool))  # returned as they are; checked inline, before a call


def to_plain(obj: Any) -> Any:
    """``Serde.to_dict(obj)`` for an attrs object, ``Serde.remove_nulls_and_enums`` of anything else."""
    cls: type = type(obj)
    if cls in _LEAVES or obj is None:
        return obj
    names = _fields(cls)
    if names is not None:
        out = {}
        for name in names:
            value = getattr(obj, name)
            if value is not None and type(value) not in _LEAVES:
                value = to_plain(value)
            if value is not None:
                out[name] = value
        return out
    if isinstance(obj, dict):  # keys as they are, as Serde keeps them
        out = {}
        for k, v in obj.items():
            if v is not None and type(v) not in _LEAVES:
                v = to_plain(v)
            if v is not None:
                out[k] = v
        return out
    if isinstance(obj, list | tuple | set | frozenset):  # attr.asdict makes lists of all four
        items = []
        for v in obj:
            if v is None:
                continue
            if type(v) not in _LEAVES:
                v = to_plain(v)
                if v is None or v == {}:
                    continue
            items.append(v)
        return items
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, datetime.date):  # datetime subclasses date
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if cls.__name__ == "int64":  # numpy, as Serde
        return int(obj)
    return obj


def to_canonical(obj: Any) -> Any:
    """``_strip_meta(to_plain(obj))`` of :mod:`flowscope.events` in one walk: the plain form without keys
    starting with ``_`` (``_producer``, ``_schemaURL``) or named ``schemaURL``, at every level. A job's run
    id hashes this; building the plain form and then a stripped copy of it was a third of the event
    building of a job with 200,000 outputs. ``tests/test_olplain.py`` holds the two equal."""
    cls: type = type(obj)
    if cls in _LEAVES or obj is None:
        return obj
    names = _fields(cls)
    if names is not None or isinstance(obj, dict):
        return _canonical_map(obj, names)[0]
    if isinstance(obj, list | tuple | set | frozenset):
        items = []
        for v in obj:
            if v is None:
                continue
            if type(v) in _LEAVES:
                items.append(v)
                continue
            v_cls: type = type(v)
            v_names = _fields(v_cls)
            if v_names is not None or isinstance(v, dict):
                value, kept = _canonical_map(v, v_names)
                if kept:  # to_plain drops a list item whose plain form is {} (before stripping)
                    items.append(value)
                continue
            items.append(to_canonical(v))
        return items
    return to_plain(obj)


def _canonical_map(obj: Any, names: tuple[str, ...] | None) -> tuple[dict[Any, Any], bool]:
    """The stripped plain form of an attrs object or a dict, and whether its plain form had any key."""
    out: dict[Any, Any] = {}
    kept = False
    pairs = ((n, getattr(obj, n)) for n in names) if names is not None else obj.items()
    for k, v in pairs:
        if v is None:
            continue
        kept = True
        if (k if type(k) is str else str(k)).startswith("_") or k == "schemaURL":
            continue
        out[k] = v if type(v) in _LEAVES else to_canonical(v)
    return out, kept
