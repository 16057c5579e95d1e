"""The walk index file: a small JSON header, then raw numpy arrays, each 64-byte aligned, memory-mapped.

Why this layout: a lineage query opens the file, reads a few hundred bytes of header and maps the arrays;
the pages a walk touches are read from the page cache or disk on demand, so a cold query on a 10M-edge
store costs milliseconds, not the seconds a full read would. Arrays are plain little-endian numpy dtypes
named in the header, so nothing in the file is ever executed or unpickled.

Damage: the header carries the file size and a CRC32 of the header and of every array. :func:`read`
rejects a file whose magic, header, size or array bounds do not match; the arrays' CRCs are checked when
the data is at most ``VERIFY_MAX`` bytes (reading a 1 GB index to check it would cost the second the
index exists to save). Larger files are checked when written and, in use, by numpy's bounds checks: a
damaged id or offset that points outside the arrays raises, and the caller rebuilds the index. A flipped
bit that still lands inside the arrays goes unnoticed until the next rebuild; ``flowscope lineage index
--rebuild`` forces one.
"""

from __future__ import annotations

import json
import mmap
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"FSWALK01"
ALIGN = 64
VERIFY_MAX = 64 * 1024 * 1024


class Damaged(Exception):
    """The index file is not one this code wrote, or not whole; the caller rebuilds it."""


def _pad(n: int) -> int:
    return -n % ALIGN


def _data_start(header_len: int) -> int:
    """Magic, header length and file size (8 bytes each), the header, its CRC32, padding."""
    end = len(MAGIC) + 16 + header_len + 4
    return end + _pad(end)


def write(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> int:
    """Write ``arrays`` and ``meta`` to ``path`` atomically (a temporary file renamed over it); return
    the file's size. Readers holding the old file keep their mapping of it."""
    specs: dict[str, dict[str, Any]] = {}
    offset = 0
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        specs[name] = {
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "offset": offset,
            "crc": zlib.crc32(arr.data.cast("B")) if arr.size else 0,
        }
        offset += arr.nbytes + _pad(arr.nbytes)
    header = json.dumps({"meta": dict(meta), "arrays": specs}).encode()
    start = _data_start(len(header))
    total = start + offset
    prefix = MAGIC + len(header).to_bytes(8, "little") + total.to_bytes(8, "little")
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(prefix + header + zlib.crc32(prefix + header).to_bytes(4, "little"))
            f.write(b"\0" * (start - f.tell()))
            for arr in arrays.values():
                arr = np.ascontiguousarray(arr)
                f.write(arr.data.cast("B"))
                f.write(b"\0" * _pad(arr.nbytes))
            size = f.tell()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return size


def read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any], int]:
    """Map ``path``; return its arrays (read-only views of the mapping), its meta and its size.
    :class:`Damaged` if anything about it is wrong; OSError if it cannot be opened."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < len(MAGIC) + 20:
            raise Damaged("too short")
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        if mm[: len(MAGIC)] != MAGIC:
            raise Damaged("not a flowscope walk index")
        head_len = int.from_bytes(mm[len(MAGIC) : len(MAGIC) + 8], "little")
        expected = int.from_bytes(mm[len(MAGIC) + 8 : len(MAGIC) + 16], "little")
        if expected != size:
            raise Damaged(f"{size} bytes but the header says {expected}")
        end = len(MAGIC) + 16 + head_len
        if end + 4 > size:
            raise Damaged("header runs past the end")
        if zlib.crc32(mm[:end]) != int.from_bytes(mm[end : end + 4], "little"):
            raise Damaged("header checksum")
        doc = json.loads(mm[len(MAGIC) + 16 : end])
        start = _data_start(head_len)
        verify = size - start <= VERIFY_MAX
        arrays: dict[str, np.ndarray] = {}
        for name, spec in doc["arrays"].items():
            dtype = np.dtype(spec["dtype"])
            count = int(np.prod(spec["shape"], dtype=np.int64))
            begin = start + int(spec["offset"])
            if begin + count * dtype.itemsize > size:
                raise Damaged(f"array {name} runs past the end")
            arr = np.frombuffer(mm, dtype=dtype, count=count, offset=begin).reshape(spec["shape"])
            if verify and count and zlib.crc32(arr.data.cast("B")) != spec["crc"]:
                raise Damaged(f"array {name} checksum")
            arrays[name] = arr
        return arrays, doc["meta"], size
    except (ValueError, KeyError, TypeError) as exc:
        raise Damaged(str(exc)) from None
