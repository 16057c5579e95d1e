"""Reading data-logs requests: JSON lines ``{"request_id", "user_id", "requested_at"[, "timezone"]}``.

The product writes them to a file or a folder of ``*.jsonl`` files. A malformed line is skipped and
reported with its file and line; the others are read. Lines are bounded (``MAX_LINE`` bytes) so a
runaway writer cannot make a run read gigabytes into one string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flowscope.errors import UserError
from flowscope_datalogs.state import Request

MAX_LINE = 64 * 1024
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


@dataclass
class ReadResult:
    requests: list[Request] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def request_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".jsonl", ".json"))
    if path.is_file():
        return [path]
    raise UserError("no such requests file or folder", path=str(path))


def read_requests(path: Path, user_id_type: str) -> ReadResult:
    out = ReadResult()
    for file in request_files(path):
        try:
            fh = file.open("rb")
        except OSError as exc:
            out.problems.append(f"{file}: cannot read: {exc.strerror or exc}")
            continue
        with fh:
            for n, raw in enumerate(_lines(fh), start=1):
                where = f"{file}:{n}"
                if raw is None:
                    out.problems.append(f"{where}: line longer than {MAX_LINE} bytes; skipped")
                    continue
                if not raw.strip():
                    continue
                try:
                    out.requests.append(parse_line(raw, where, user_id_type))
                except ValueError as exc:
                    out.problems.append(f"{where}: {exc}; skipped")
    return out


def _lines(fh: BinaryIO) -> Iterator[bytes | None]:
    """Lines of a binary file, each cut at ``MAX_LINE`` (None stands for an over-long line)."""
    while True:
        chunk = fh.readline(MAX_LINE + 1)
        if not chunk:
            return
        if len(chunk) > MAX_LINE and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # skip the rest of the long line
                chunk = fh.readline(MAX_LINE + 1)
            yield None
            continue
        yield chunk


def parse_line(raw: bytes, where: str, user_id_type: str) -> Request:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise ValueError("expected a JSON object")
    for key in ("request_id", "user_id", "requested_at"):
        if key not in doc:
            raise ValueError(f"missing {key}")
    rid = doc["request_id"]
    if not isinstance(rid, str) or not REQUEST_ID.match(rid):
        raise ValueError("request_id must be 8 to 128 letters, digits, - or _")
    uid = doc["user_id"]
    if user_id_type == "bigint":
        if isinstance(uid, bool) or not isinstance(uid, int) or not -(2**63) <= uid < 2**63:
            raise ValueError("user_id must be an integer (the catalog's user_id.type is bigint)")
    elif not isinstance(uid, str) or not uid:
        raise ValueError("user_id must be a non-empty string (the catalog's user_id.type is string)")
    at = doc["requested_at"]
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        when = None
    if when is None:
        raise ValueError("requested_at must be an ISO 8601 time")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    zone = doc.get("timezone")
    if zone is not None:
        try:
            if not isinstance(zone, str):
                raise ValueError
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {str(zone)[:40]!r}") from None
    requested_at = when.astimezone(UTC).isoformat(timespec="seconds")
    return Request(rid, uid, requested_at, zone, where)
