"""Turning the ASSET argument of lineage commands into a stored :class:`~flowscope.model.Asset`.

Accepted forms (also in ``docs/lineage.md`` and the commands' help):

- ``dataset:<namespace>:<name>`` and ``datasetField:<namespace>:<name>:<field>`` — Marquez node ids, as
  ``--json`` prints them. Namespaces contain ``:`` (``mysql://appdb:3306``), so the namespace is matched
  against the stored ones (longest first); the field is always the part after the last ``:``.
- ``NAME``, ``NAME#FIELD`` or ``NAME.FIELD`` — NAME is a dataset's name, its ``namespace/name``, or a
  suffix of ``namespace/name`` that starts after a ``.`` or ``/`` (``photos`` finds
  ``photos_app.photos``), in any namespace. ``NAME.FIELD`` is read both ways (``a.b`` may be dataset
  ``a.b`` or field ``b`` of ``a``). A dataset whose name is exactly NAME wins over suffix matches.

Several matches raise :class:`UserError` listing them as full ids; no match raises one with the closest
stored names (difflib).
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict

from flowscope.errors import UserError
from flowscope.model import Asset
from flowscope.store import Store

FORMS_HELP = (
    "ASSET is dataset:<ns>:<name>, datasetField:<ns>:<name>:<field>, or NAME, NAME#FIELD, NAME.FIELD "
    "where NAME is a dataset name or its suffix after '.' or '/' (photos finds photos_app.photos)."
)

# Fallback when no stored namespace matches: scheme://host[:port][,host[:port]...] then ':' then the name.
_NS_URI = re.compile(r"^([A-Za-z][\w+.-]*://[^:/,]*(?::\d+)?(?:,[^:/,]+(?::\d+)?)*):(.+)$")


def resolve(store: Store, text: str) -> Asset:
    """The stored asset ``text`` names; raises UserError when none or several do."""
    text = text.strip()
    if not text:
        raise UserError("empty asset name")
    if text.startswith(("dataset:", "datasetField:")):
        return _resolve_id(store, text)
    return _resolve_short(store, text)


def parse_id(text: str, namespaces: list[str]) -> Asset:
    """Split a Marquez node id into namespace, name and field, preferring the longest known namespace."""
    kind, _, rest = text.partition(":")
    field = None
    if kind == "datasetField":
        rest, _, field = rest.rpartition(":")
        if not rest or not field:
            raise UserError(f"bad field id {text!r}: expected datasetField:<namespace>:<name>:<field>")
    for ns in sorted(namespaces, key=len, reverse=True):
        if rest.startswith(ns + ":") and len(rest) > len(ns) + 1:
            return Asset(ns, rest[len(ns) + 1 :], field)
    m = _NS_URI.match(rest)
    ns, sep, name = (m.group(1), ":", m.group(2)) if m else rest.partition(":")
    if not sep or not ns or not name:
        raise UserError(
            f"bad asset id {text!r}: expected {kind}:<namespace>:<name>{':<field>' if field else ''}"
        )
    return Asset(ns, name, field)


def _split_candidates(text: str) -> list[Asset]:
    """Every way to read a node id as namespace:name[:field], longest namespace first."""
    kind, _, rest = text.partition(":")
    field = None
    if kind == "datasetField":
        rest, _, field = rest.rpartition(":")
        if not rest or not field:
            return []
    cuts = [i for i, ch in enumerate(rest) if ch == ":" and 0 < i < len(rest) - 1]
    return [Asset(rest[:i], rest[i + 1 :], field) for i in reversed(cuts)]


def _resolve_id(store: Store, text: str) -> Asset:
    # A node id names one asset: try its few readings against the store's unique index (the longest
    # stored namespace wins, as parse_id does) instead of listing every namespace of a 10M-asset store.
    for candidate in _split_candidates(text):
        if store.lookup(candidate) is not None:
            return candidate
    asset = parse_id(text, store.namespaces())
    if store.lookup(asset) is not None:
        return asset
    if asset.field is not None and store.lookup(asset.dataset) is not None:
        raise _unknown_field(store, asset.dataset, asset.field)
    ids = [d.id for d in store.datasets()]
    raise UserError(f"unknown asset {text}{_suggest(text, {i: [i] for i in ids})}")


def _key(a: Asset) -> str:
    return f"{a.namespace}/{a.name}"


def _matching_datasets(store: Store, name: str) -> list[Asset]:
    """Datasets named ``name`` or ``namespace/name`` exactly; failing that, those whose ``namespace/name``
    ends with ``.name`` or ``/name``. The exact forms are index look-ups; only the suffix form reads every
    dataset (in SQLite, without building an object per dataset)."""
    exact = store.datasets_named(name)
    for i, ch in enumerate(name):
        if ch == "/" and 0 < i < len(name) - 1:
            whole = Asset(name[:i], name[i + 1 :])
            if store.lookup(whole) is not None and whole not in exact:
                exact.append(whole)
    if exact:
        return sorted(exact, key=lambda d: d.id)
    return store.datasets_ending(name)


def _resolve_short(store: Store, text: str) -> Asset:
    readings: list[tuple[str, str | None]] = []
    if "#" in text:
        name, _, field = text.rpartition("#")
        readings.append((name, field or None))
    else:
        readings.append((text, None))
        if "." in text.strip("."):
            name, _, field = text.rpartition(".")
            readings.append((name, field))
    found: list[Asset] = []
    missing_field: tuple[Asset, str] | None = None
    for short, wanted in readings:
        for d in _matching_datasets(store, short):
            if wanted is None:
                found.append(d)
            elif wanted in store.fields_of(d):
                found.append(d.with_field(wanted))
            else:
                missing_field = (d, wanted)
    if len(found) == 1:
        return found[0]
    if found:
        raise UserError(f"{text!r} is ambiguous; use one of: {', '.join(sorted(a.id for a in found))}")
    if missing_field is not None:
        raise _unknown_field(store, *missing_field)
    pool: dict[str, list[str]] = defaultdict(list)
    for d in store.datasets():  # only when nothing matched: the suggestions need every name
        for alias in {d.name, _key(d), re.split(r"[./]", d.name)[-1]}:
            pool[alias].append(d.id)
    raise UserError(f"unknown asset {text!r}{_suggest(readings[0][0], pool)}")


def _unknown_field(store: Store, dataset: Asset, field: str) -> UserError:
    fields = store.fields_of(dataset)
    if not fields:
        return UserError(f"no field {field!r} in {dataset.id}: no fields of it are known; use the dataset")
    pool = {f: [dataset.with_field(f).id] for f in fields}
    return UserError(f"no field {field!r} in {dataset.id}{_suggest(field, pool)}")


def _suggest(text: str, pool: dict[str, list[str]]) -> str:
    """``; did you mean: a, b`` from close matches of ``text`` among ``pool`` keys (shown as their ids)."""
    close = difflib.get_close_matches(text, list(pool), n=8, cutoff=0.6)
    ids = list(dict.fromkeys(i for c in close for i in sorted(pool[c])))[:5]
    return f"; did you mean: {', '.join(ids)}" if ids else ""
