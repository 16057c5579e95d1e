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
