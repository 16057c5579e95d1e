"""Which functions mask a value (hashing, masking UDFs) and which pick one row's value (first_value, lag):
the names the tracer classifies a column's path by."""

from __future__ import annotations

from sqlglot import exp

MASKING_FUNCTIONS = frozenset(
    [
        "md5",
        "sha",
        "sha1",
        "sha2",
        "sha256",
        "sha512",
        "hash",
        "xxhash64",
        "xxhash",
        "murmur_hash",
        "murmur3",
        "crc32",
        "hmac",
        "mask",
        "mask_hash",
        "mask_first_n",
        "mask_last_n",
        "mask_show_first_n",
        "mask_show_last_n",
        "farm_fingerprint",
        "fingerprint",
        "to_hex_sha256",
        "hash_md5",
        "approx_hash",
        "standard_hash",
        "ora_hash",
    ]
)
_MASK_TYPES: tuple[type[exp.Expr], ...] = tuple(
    t
    for t in (getattr(exp, n, None) for n in ("MD5", "MD5Digest", "SHA", "SHA2", "SHA1Digest", "SHA2Digest"))
    if isinstance(t, type)
)


PICKS: tuple[type[exp.Expr], ...] = tuple(
    t
    for t in (getattr(exp, n, None) for n in ("FirstValue", "LastValue", "NthValue", "Lag", "Lead"))
    if isinstance(t, type)
)


def is_mask(node: exp.Expr) -> bool:
    if isinstance(node, _MASK_TYPES):
        return True
    if isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        return name.lower() in MASKING_FUNCTIONS
    return False
