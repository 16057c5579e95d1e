"""Cache entries as plain data: the analysis's records turned into nested lists of str, int, bool and None.

The cache's files are untrusted input (a crafted or copied ``.flowscope`` folder), so they are never
unpickled: an entry is encoded here into primitives, written with msgpack, and read back by building the
records from those primitives, field by field. A decoder that only calls this module's constructors on
numbers and strings has nothing to execute, whatever the bytes say; a malformed entry raises (``ValueError``,
``TypeError``, ``IndexError``, ``KeyError``) and the cache treats it as a miss.

One entry shares its assets, its evidence, its evidence chains (``hops``) and its summaries many times
over, so each blob carries tables of them and the records refer to rows by number: the blob stays small,
and the decoder builds each asset, chain and summary once, as the analysis shares them in memory.

Layout of a blob (msgpack arrays): ``[assets, evidence, hops, summaries, body]`` where

* ``assets``: ``[namespace, name, field]`` rows; ``evidence``: ``[collector, kind, location, snippet,
  [[key, value], ...]]``; ``hops``: rows of evidence numbers; ``summaries``: ``[sinks, returns, params,
  kwargs]`` with a sink ``[param, field, target, hops, masked, transformed, guards, unresolved, opaque]``
  and a returned label ``[source, hops, masked, transformed, narrow, opaque]``;
* ``body`` an entry ``[units, error_regions, problem, tables]`` (a unit ``[file, index, name, [flows,
  dead, work, [[name, summary], ...]], [[class, callee, resolved, digest], ...], summary]``) or an outcome
  ``[rel, flows, dead, error_regions, problem, cached, tables]``; a flow is ``[function, source, target,
  hops, masked, transformed, guards, unresolved, opaque]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgpack

from flowscope.model import Asset, Evidence
from flowscope_hack_static.engine import Unit, summary_digest
from flowscope_hack_static.taint import Flow, Label, ParamSink, Result, Summary, asset

if TYPE_CHECKING:
    from flowscope_hack_static.cache import Entry
    from flowscope_hack_static.scan import Outcome


class _Tables:
    """Rows of the shared parts of one blob, each row written once."""

    def __init__(self) -> None:
        self.assets: dict[Asset, int] = {}
        self.evidence: dict[Evidence, int] = {}
        self.hops: dict[tuple[Evidence, ...], int] = {}
        self.summaries: dict[int, int] = {}  # id(summary) -> row
        self.asset_rows: list[list[Any]] = []
        self.evidence_rows: list[list[Any]] = []
        self.hop_rows: list[list[int]] = []
        self.summary_rows: list[list[Any]] = []
        self._keep: list[Summary] = []  # the summaries whose ids are keys above stay alive

    def asset(self, a: Asset) -> int:
        row = self.assets.get(a)
        if row is None:
            row = self.assets[a] = len(self.asset_rows)
            self.asset_rows.append([a.namespace, a.name, a.field])
        return row

    def chain(self, hops: tuple[Evidence, ...]) -> int:
        row = self.hops.get(hops)
        if row is None:
            row = self.hops[hops] = len(self.hop_rows)
            self.hop_rows.append([self._evidence(e) for e in hops])
        return row

    def _evidence(self, e: Evidence) -> int:
        row = self.evidence.get(e)
        if row is None:
            row = self.evidence[e] = len(self.evidence_rows)
            self.evidence_rows.append(
                [e.collector, e.kind, e.location, e.snippet, [list(d) for d in e.detail]]
            )
        return row

    def summary(self, s: Summary) -> int:
        row = self.summaries.get(id(s))
        if row is None:
            sinks = [
                [p.param, p.field, self.asset(p.target), self.chain(p.hops), p.masked, p.transformed,
                 list(p.guards), p.unresolved, p.opaque]
                for p in s.sinks
            ]  # fmt: skip
            returns = [
                [self.asset(lb.source), self.chain(lb.hops), lb.masked, lb.transformed, lb.narrow, lb.opaque]
                for lb in s.returns
            ]
            row = self.summaries[id(s)] = len(self.summary_rows)
            self._keep.append(s)
            self.summary_rows.append([sinks, returns, list(s.params), s.kwargs])
        return row

    def flow(self, f: Flow) -> list[Any]:
        return [
            f.function, self.asset(f.source), self.asset(f.target), self.chain(f.hops), f.masked,
            f.transformed, list(f.guards), f.unresolved, f.opaque,
        ]  # fmt: skip

    def pack(self, body: list[Any]) -> bytes:
        data: bytes = msgpack.packb(
            [self.asset_rows, self.evidence_rows, self.hop_rows, self.summary_rows, body], use_bin_type=True
        )
        return data


def _problem(p: tuple[str, int | None] | None) -> list[Any] | None:
    return None if p is None else [p[0], p[1]]


def encode_entry(entry: Entry) -> bytes:
    t = _Tables()
    units = []
    for u in entry.units:
        r = u.result
        result = [
            [t.flow(f) for f in r.flows],
            r.dead,
            r.work,
            [[n, t.summary(s)] for n, s in r.summaries.items()],
        ]
        deps = [
            [cls, callee, name, summary_digest(got) if isinstance(got, Summary) else got]
            for (cls, callee), (name, got) in u.deps.items()
        ]
        units.append([u.file, u.index, u.name, result, deps, t.summary(u.summary)])
    tables = [[k, v] for k, v in entry.tables.items()]
    return t.pack([units, list(entry.error_regions), _problem(entry.problem), tables])


def encode_outcome(out: Outcome) -> bytes:
    t = _Tables()
    tables = [[k, v] for k, v in out.tables.items()]
    flows = [t.flow(f) for f in out.flows]
    return t.pack(
        [out.rel, flows, out.dead, list(out.error_regions), _problem(out.problem), out.cached, tables]
    )


def pack(value: Any) -> bytes:
    """Plain data (lists, str, int, bytes, None) as msgpack: the tree entry's frame around the blobs."""
    data: bytes = msgpack.packb(value, use_bin_type=True)
    return data


def unpack(data: bytes | memoryview) -> Any:
    """msgpack into lists and primitives; nothing else can come out (no extension types are decoded)."""
    return msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=True, ext_hook=_no_ext)


def _no_ext(code: int, data: bytes) -> Any:
    raise ValueError(f"msgpack extension type {code} in a cache entry")


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected a string, got {type(v).__name__}")
    return v


def _opt_str(v: Any) -> str | None:
    return None if v is None else _str(v)


def _int(v: Any) -> int:
    if type(v) is not int:
        raise TypeError(f"expected an integer, got {type(v).__name__}")
    return v


def _bool(v: Any) -> bool:
    if type(v) is not bool:
        raise TypeError(f"expected a boolean, got {type(v).__name__}")
    return v


def _strs(v: Any) -> tuple[str, ...]:
    return tuple(_str(x) for x in v)


class _Reader:
    """The tables of one blob, made into the analysis's records."""

    def __init__(self, blob: list[Any]) -> None:
        asset_rows, evidence_rows, hop_rows, summary_rows, self.body = blob
        self.assets = [asset(_str(ns), _str(name), _opt_str(fld)) for ns, name, fld in asset_rows]
        evidence = [
            Evidence(_str(c), _str(k), _str(loc), _str(snip), tuple((_str(a), _str(b)) for a, b in detail))
            for c, k, loc, snip, detail in evidence_rows
        ]
        self.hops = [tuple(evidence[_int(i)] for i in row) for row in hop_rows]
        self.summaries = [self._summary(row) for row in summary_rows]

    def _summary(self, row: list[Any]) -> Summary:
        sinks, returns, params, kwargs = row
        return Summary(
            frozenset(
                ParamSink(
                    _int(p), _opt_str(fld), self.assets[_int(tgt)], self.hops[_int(h)], _bool(m), _bool(tr),
                    _strs(g), _bool(un), _int(op),
                )
                for p, fld, tgt, h, m, tr, g, un, op in sinks
            ),
            frozenset(
                Label(self.assets[_int(src)], self.hops[_int(h)], _bool(m), _bool(tr), _bool(nw), _int(op))
                for src, h, m, tr, nw, op in returns
            ),
            _strs(params),
            _int(kwargs),
        )  # fmt: skip

    def flow(self, row: list[Any]) -> Flow:
        fn, src, tgt, h, m, tr, g, un, op = row
        return Flow(
            _str(fn), self.assets[_int(src)], self.assets[_int(tgt)], self.hops[_int(h)], _bool(m), _bool(tr),
            _strs(g), _bool(un), _int(op),
        )  # fmt: skip

    def summary(self, row: Any) -> Summary:
        return self.summaries[_int(row)]


def _read_problem(v: Any) -> tuple[str, int | None] | None:
    if v is None:
        return None
    msg, line = v
    return (_str(msg), None if line is None else _int(line))


def _read_tables(v: Any) -> dict[str, str]:
    return {_str(k): _str(t) for k, t in v}


def decode_entry(data: bytes | memoryview) -> Entry:
    from flowscope_hack_static.cache import Entry

    r = _Reader(unpack(data))
    units_rows, regions, problem, tables = r.body
    units = []
    for file, index, name, result, deps, summary in units_rows:
        flows, dead, work, summaries = result
        res = Result(
            [r.flow(f) for f in flows], _int(dead), _int(work), {_str(n): r.summary(s) for n, s in summaries}
        )
        unit_deps = {
            (_opt_str(cls), _str(callee)): (_opt_str(got_name), _opt_str(digest))
            for cls, callee, got_name, digest in deps
        }
        units.append(Unit(_int(file), _int(index), _str(name), res, unit_deps, r.summary(summary)))  # type: ignore[arg-type]
    return Entry(units, [_int(x) for x in regions], _read_problem(problem), _read_tables(tables))


def decode_outcome(data: bytes | memoryview) -> Outcome:
    from flowscope_hack_static.scan import Outcome

    r = _Reader(unpack(data))
    rel, flows, dead, regions, problem, cached, tables = r.body
    return Outcome(
        _str(rel),
        [r.flow(f) for f in flows],
        _int(dead),
        [_int(x) for x in regions],
        _read_problem(problem),
        _bool(cached),
        _read_tables(tables),
    )
