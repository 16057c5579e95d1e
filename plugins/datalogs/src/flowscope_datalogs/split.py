"""Splitting a batch's joined rows per requester, and checking every row went to its owner.

Each table's intermediate rows are read once, sorted by owner, and merged across tables user by user, so
memory holds one user's rows at a time however large the batch. :func:`split_rows` is the splitter: it
decides which requester a row goes to. :func:`verify` does not trust it: it compares every row's own
owner value with the user id of the request the row is about to be delivered to. A row the splitter put
in the wrong package, or a joined row that matches no requester at all, is a mismatch, and a mismatch
keeps that table out of every package of the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from flowscope_datalogs import duck
from flowscope_datalogs.datacheck import TablePlan
from flowscope_datalogs.intermediate import files_of
from flowscope_datalogs.state import Request

Row = tuple[Any, ...]  # canonical values in TablePlan.columns order; the owner first
FETCH = 20_000


Bounds = tuple[Any, Any]  # owner values from (inclusive) and below (exclusive); None: unbounded


def stream_table(
    con: duckdb.DuckDBPyConnection, plan: TablePlan, joined: Path, bounds: Bounds = (None, None)
) -> Iterator[Row]:
    """The table's joined rows of this batch, sorted by owner (DuckDB sorts out of core); with
    ``bounds``, only owners in that range (one packaging worker's share)."""
    files = files_of(joined, plan.table.name)
    if not files:
        return
    cols = ", ".join(duck.ident(c) for c in plan.columns)
    owner = duck.ident(plan.columns[0])
    where, params = [], []
    if bounds[0] is not None:
        where.append(f"{owner} >= ?")
        params.append(bounds[0])
    if bounds[1] is not None:
        where.append(f"{owner} < ?")
        params.append(bounds[1])
    sql = f"SELECT {cols} FROM read_parquet({duck.file_list(files)})"
    if where:
        sql += " WHERE " + " AND ".join(where)
    cur = con.cursor()
    try:
        cur.execute(sql + " ORDER BY 1", params)
        while batch := cur.fetchmany(FETCH):
            yield from batch
    finally:
        cur.close()


@dataclass
class UserRows:
    """One user's rows per table, and joined rows found on the way that belong to no requester."""

    user_id: Any
    tables: dict[str, list[Row]]
    strays: dict[str, int] = field(default_factory=dict)


def merge_by_user(streams: dict[str, Iterator[Row]], users: list[Any]) -> Iterator[UserRows]:
    """Walk the sorted streams in step with the sorted requesters."""
    heads: dict[str, Row | None] = {t: next(s, None) for t, s in streams.items()}
    for user in sorted(set(users)):
        out = UserRows(user, {t: [] for t in streams})
        for t, stream in streams.items():
            head = heads[t]
            while head is not None and head[0] < user:  # a row of nobody in this batch
                out.strays[t] = out.strays.get(t, 0) + 1
                head = next(stream, None)
            rows = out.tables[t]
            while head is not None and head[0] == user:
                rows.append(head)
                head = next(stream, None)
            heads[t] = head
        yield out
    tail = UserRows(None, {t: [] for t in streams})
    for t, stream in streams.items():
        n = sum(1 for _ in stream) + (heads[t] is not None)
        if n:
            tail.strays[t] = n
    if tail.strays:
        yield tail


def split_rows(group: UserRows, requests: list[Request]) -> list[tuple[Request, dict[str, list[Row]]]]:
    """The splitter: every request of the group's user gets that user's rows."""
    return [(r, group.tables) for r in requests if r.user_id == group.user_id]


@dataclass
class Mismatch:
    table: str
    rows: int
    requests: list[str]  # request ids that would have received someone else's rows

    def describe(self) -> str:
        shown = ", ".join(self.requests[:3]) + (" ..." if len(self.requests) > 3 else "")
        whom = f" (requests {shown})" if self.requests else " (rows of no requester)"
        return f"{self.rows} row(s) whose owner is not the requester they were split to{whom}"


def verify(request: Request, tables: dict[str, list[Row]]) -> dict[str, int]:
    """Rows per table whose owner value is not ``request.user_id``; empty when all are theirs."""
    bad = {}
    for t, rows in tables.items():
        n = sum(1 for row in rows if row[0] != request.user_id)
        if n:
            bad[t] = n
    return bad


def scan_batch(
    con: duckdb.DuckDBPyConnection,
    plans: list[TablePlan],
    joined: Path,
    requests: list[Request],
    bounds: Bounds = (None, None),
) -> Iterator[tuple[Request, dict[str, list[Row]], dict[str, int]]]:
    """``(request, rows per table, mismatched rows per table)`` for every request of the batch (or of
    ``bounds``: then ``requests`` are the ones whose user is in that range), in user id order; strays
    (rows of nobody) are reported against a pseudo request with an empty id."""
    by_user: dict[Any, list[Request]] = {}
    for r in requests:
        by_user.setdefault(r.user_id, []).append(r)
    streams = {p.table.name: stream_table(con, p, joined, bounds) for p in plans}
    for group in merge_by_user(streams, list(by_user)):
        if group.strays:
            yield Request("", None, "", None, ""), {}, dict(group.strays)  # type: ignore[arg-type]
        if group.user_id is None:
            continue
        for request, tables in split_rows(group, by_user[group.user_id]):
            yield request, tables, verify(request, tables)
