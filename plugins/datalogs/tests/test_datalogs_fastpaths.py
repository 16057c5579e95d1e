"""The packager's fast paths against the standard library they stand in for: the same bytes.

Packages must not change when the packager gets faster (resumed runs, the two engines and older runs
all compare bytes), so every shortcut is compared here with what it replaces, on seeded random input
that includes the awkward cases: ZIP entries (:mod:`zipfile`), ``strftime`` formats across zones and
DST changes, every built-in renderer's compiled form against ``render``, the CSV, JSON and HTML
encodings of a cell (:mod:`csv`, :mod:`json`, :func:`html.escape`) and the row order
(:func:`kinds.sort_key`).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import random
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flowscope_datalogs import kinds
from flowscope_datalogs.catalog import load_catalog
from flowscope_datalogs.cells import RAW_NOTE, csv_field, csv_line, csv_quote, make_cell
from flowscope_datalogs.datacheck import check_catalog
from flowscope_datalogs.package import TableRenderer
from flowscope_datalogs.renderers import BUILTINS
from flowscope_datalogs.timefmt import compile_format
from flowscope_datalogs.zipwrite import ZIP_DATE, _with_zipfile, zip_entries

ZONES = [
    "UTC",
    "Europe/Paris",
    "America/Los_Angeles",
    "Australia/Lord_Howe",  # a 30-minute DST change
    "Asia/Kathmandu",  # +05:45
    "Europe/Amsterdam",  # +00:19:32 before 1937: an offset with seconds
    "America/St_Johns",
    "Africa/Monrovia",
]
TEXTS = [
    "",
    "plain",
    "=SUM(A1)",
    "+1",
    "-",
    "@x",
    "\tx",
    "a,b",
    'say "hi"',
    "two\nlines",
    "cr\r",
    "<b>&'",
    "é ✓",
]


def test_zip_entries_are_byte_for_byte_what_zipfile_writes() -> None:
    rng = random.Random(18)
    for _ in range(150):
        entries = [
            (
                rng.choice(["index.html", "manifest.json", "tables/événements.csv", "t/x.json", ""]) + str(i),
                rng.choice([b"", rng.randbytes(rng.randint(1, 4000)), b"abc" * rng.randint(1, 9000)]),
            )
            for i in range(rng.randint(0, 6))
        ]
        reference = io.BytesIO()
        with zipfile.ZipFile(reference, "w") as z:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                z.writestr(info, data, compresslevel=6)
        assert zip_entries(entries) == reference.getvalue() == _with_zipfile(entries)
    with zipfile.ZipFile(io.BytesIO(zip_entries([("a", b"x" * 100)]))) as z:
        assert z.testzip() is None and z.read("a") == b"x" * 100


def test_compiled_formats_equal_strftime_across_zones_and_dst_changes() -> None:
    rng = random.Random(18)
    formats = [
        "%Y-%m-%d %H:%M:%S %Z",
        "%Y-%m-%d %H:%M:%S.%f",
        "%d/%m/%Y",
        "%H:%M %z",
        "{%Y}} %% %Z%z",
        "%a %d %B %Y",  # names: strftime's own
        "%Y%",
        "plain",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Z",
        "",
    ]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for _ in range(20_000):
        zone = ZoneInfo(rng.choice(ZONES))
        fmt = rng.choice(formats)
        when = (
            epoch + timedelta(microseconds=rng.randint(-2_500_000_000_000_000, 4_000_000_000_000_000))
        ).astimezone(zone)
        if rng.random() < 0.1:
            when = when.replace(tzinfo=None)
        assert compile_format(fmt)(when) == when.strftime(fmt), (when, fmt)
    spring = datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC)  # Paris changes to summer time at 01:00 UTC
    paris = ZoneInfo("Europe/Paris")
    for when in (spring, spring + timedelta(seconds=1)):
        assert compile_format("%H:%M:%S %Z")(when.astimezone(paris)) == when.astimezone(paris).strftime(
            "%H:%M:%S %Z"
        )


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        return (type(exc), str(exc))


def test_every_compiled_renderer_gives_what_render_gives() -> None:
    at = datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    values: dict[str, list[Any]] = {
        "timestamp": [
            None,
            True,
            0,
            1.5,
            1.7e9,
            math.nan,
            "x",
            at,
            at.replace(tzinfo=None),
            date(2024, 1, 1),
        ],
        "duration": [None, 0, 0.25, 59.6, 3723, 90_061_000, -1, math.inf, Decimal("3.5"), True, "x"],
        "enum": [None, 1, "1", "PUBLIC", 7, True, 1.0],
        "text": [None, 1, "a", b"\x00\xff", [1, None], at, True, Decimal("1.10")],
    }
    options: dict[str, list[dict[str, Any]]] = {
        "timestamp": [
            {"timezone": "Europe/Paris"},
            {"timezone": "UTC", "unit": "ms", "format": "%d/%m/%Y %a"},
            {"timezone": "Asia/Kathmandu", "format": "%H:%M %z"},
        ],
        "duration": [{"unit": "ms"}, {}, {"unit": "h"}],
        "enum": [
            {"values": {1: "one", "1": "a second label for the same text", "PUBLIC": "Everyone", "true": "T"}}
        ],
        "text": [{}],
    }
    for name, inputs in values.items():
        renderer = BUILTINS[name]
        for opts in options[name]:
            compiled = renderer.compile(opts)
            for value in inputs:
                assert _outcome(compiled, value) == _outcome(renderer.render, value, opts), (
                    name,
                    opts,
                    value,
                )


def test_cell_encodings_are_what_csv_json_and_html_escape_write() -> None:
    for text in TEXTS:
        guarded = "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text
        for fields in ([text], [text, "x"], ["", text, ""]):
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\r\n").writerow(fields)
            assert csv_line([csv_quote(f) for f in fields]) == buf.getvalue(), fields
        assert csv_field(text) == csv_quote(guarded)
        for ok in (True, False):
            cell = make_cell('colonne "é"', text, ok)
            assert cell[0] == text and cell[1] is ok and cell[4] == csv_field(text)
            assert "{" + cell[3] + "}" == json.dumps({'colonne "é"': text}, ensure_ascii=False)
            escaped = html.escape(text, quote=True)
            assert cell[2] == (
                f"<td>{escaped}</td>" if ok else f'<td class="raw" title="{RAW_NOTE}">{escaped}</td>'
            )


CATALOG = """version: 1
user_id: {type: bigint}
tables:
  t:
    dataset: {namespace: "hive://x:9083", name: a.t}
    title: T
    location: t
    owner: user_id
    columns:
      ratio: {title: Ratio}
      label: {title: Label}
      tags: {title: Tags}
"""


def test_rows_sort_as_the_canonical_key_orders_them_with_none_nan_and_lists(tmp_path: Path) -> None:
    import duckdb

    (tmp_path / "t").mkdir()
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT 1::BIGINT AS user_id, 0.5::DOUBLE AS ratio, 'a' AS label, ['x'] AS tags) "
            f"TO '{tmp_path}/t/part-0.parquet' (FORMAT parquet)"
        )
    (tmp_path / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    result = check_catalog(load_catalog(tmp_path / "catalog.yaml"), BUILTINS)
    result.raise_first()
    renderer = TableRenderer(result.plans[0], BUILTINS)
    rng = random.Random(18)
    pool: dict[int, list[Any]] = {
        1: [None, math.nan, -0.0, 0.0, 1.5, -2.0, math.inf],
        2: [None, "", "a", "B", "é"],
        3: [None, [], ["x"], ["x", None], ["a", "b"]],
    }
    for trial in range(400):
        columns = [1, 2] if trial % 2 else [1, 2, 3]  # without lists, the fast comparison is tried
        rows = [
            (1, *(rng.choice(pool[c]) if c in columns else None for c in (1, 2, 3)))
            for _ in range(rng.randint(0, 12))
        ]
        expected = sorted(rows, key=lambda r: tuple(kinds.sort_key(v) for v in r))
        got = renderer._sorted(rows)
        assert [tuple(map(repr, r)) for r in got] == [tuple(map(repr, r)) for r in expected], rows
