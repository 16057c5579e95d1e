"""Deterministic ZIP archives, written in one pass with :mod:`struct` and :mod:`zlib`.

A package is a handful of small files. :mod:`zipfile` spends most of a small archive's time in Python
bookkeeping (a ``ZipInfo`` per entry, a writer object, a seek back to rewrite each local header), not in
compression; this writer builds the same bytes directly: the same headers, fields and DEFLATE stream
(level 6, raw, as ``zipfile`` makes it), so an archive is byte for byte what
``zipfile.ZipFile.writestr`` writes for entries with a fixed date and mode (a unit test compares the
two). Entries that would need ZIP64 (over 2 GB) go through :mod:`zipfile` itself.
"""

from __future__ import annotations

import struct
import sys
import zipfile
import zlib
from collections.abc import Sequence

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o600
LEVEL = 6
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # zipfile.structCentralDir
_END = struct.Struct("<4s4H2LH")  # zipfile.structEndArchive
_VERSION = 20  # zipfile.DEFAULT_VERSION
_SYSTEM = 0 if sys.platform == "win32" else 3  # what zipfile.ZipInfo records as the creating system
_UTF8_NAME = 0x800
_LIMIT = (1 << 31) - 1  # zipfile.ZIP64_LIMIT
_DOSDATE = (ZIP_DATE[0] - 1980) << 9 | ZIP_DATE[1] << 5 | ZIP_DATE[2]
_DOSTIME = ZIP_DATE[3] << 11 | ZIP_DATE[4] << 5 | (ZIP_DATE[5] // 2)


def _name(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8_NAME


def zip_entries(entries: Sequence[tuple[str, bytes]]) -> bytes:
    """A ZIP of ``entries`` in this order, each deflated, dated 1980-01-01 and mode 0600."""
    if sum(len(data) for _, data in entries) * 1.05 > _LIMIT:  # offsets too must stay below ZIP64's
        return _with_zipfile(entries)
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, data in entries:
        raw, flags = _name(name)
        packed = zlib.compress(data, LEVEL, -15)
        crc, size = zlib.crc32(data), len(data)
        # version needed, flags, method, time, date, CRC, compressed and full size, name length; no extra
        fields = (flags, zipfile.ZIP_DEFLATED, _DOSTIME, _DOSDATE, crc, len(packed), size, len(raw))
        header = _LOCAL.pack(b"PK\003\004", _VERSION, 0, *fields, 0)  # 0: reserved byte, extra length
        # central record: made by (version, system), needed version, the same fields, no extra or
        # comment, disk 0, internal attributes 0, the mode, the local header's offset
        central.append(
            _CENTRAL.pack(
                b"PK\001\002", _VERSION, _SYSTEM, _VERSION, 0, *fields, 0, 0, 0, 0, FILE_MODE << 16, offset
            )
            + raw
        )
        out += (header, raw, packed)
        offset += len(header) + len(raw) + len(packed)
    directory = b"".join(central)
    end = _END.pack(b"PK\005\006", 0, 0, len(entries), len(entries), len(directory), offset, 0)
    return b"".join(out) + directory + end


def _with_zipfile(entries: Sequence[tuple[str, bytes]]) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = FILE_MODE << 16
            z.writestr(info, data, compresslevel=LEVEL)
    return buf.getvalue()
