"""Keys are user data too: which mapping keys may appear in field paths, and what the others become.

JSON object keys, query-string and form parameter names and the keys of sink payloads (a log record's dict
argument, a Redis hash, a message body) become parts of field paths (``prefs.theme``), and field paths are
written to the spool and end up in lineage. A service that keys a map by e-mail address
(``{"prefs": {"bob@example.org": "verified"}}``) or takes ``?carol@example.org=tok`` would otherwise put
personal data into every byte the probes write. So a key is kept only when it looks like a name in code:

- an *identifier*: a letter or ``_`` first, then letters, digits, ``_`` or ``-``, at most ``MAX_KEY`` (64)
  characters in all (ASCII only: ``user_id``, ``first-name``, ``addressLine2``), or a number of at most
  four digits (``"7"``, ``3``: positions in list-like maps; the matcher ignores numbers that short too), and
- not matching any of the *value detectors* (``key_patterns``: regular expressions searched in the key; the
  defaults below catch ids, phone numbers, dates, UUIDs, hashes and tokens spelled as identifiers, such as
  ``u1234567`` or ``a3f9c2d41b7e4e0f``).

Every other key becomes ``{key-<10 hex>}``: a salted hash (the deployment's salt, so the same key gets the
same placeholder within a deployment and cannot be checked against a guess without the salt). Keys that are
not strings (integers, tuples) are placeholders too; the text of a non-builtin key object is never asked for
(its ``__str__`` is the host's code).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

MAX_KEY = 64
IDENTIFIER = re.compile(rf"[A-Za-z_][A-Za-z0-9_-]{{0,{MAX_KEY - 1}}}|[0-9]{{1,4}}")
DEFAULT_KEY_PATTERNS: tuple[str, ...] = (
    r"[0-9]{5}",  # five digits in a row: ids, phone numbers, dates, card and account numbers
    r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}",  # a UUID
    r"[0-9A-Fa-f]{12}",  # a hash or hex id
    r"(?=[A-Za-z_-]*[0-9])(?=[0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16}",  # a token mixing letters and digits
)
_BUILTIN_KEYS = (int, float, bool, bytes, type(None))
_MAX_KEPT = 4096


def compile_patterns(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regular expression searching for any of ``patterns``; ``re.error`` when one is invalid."""
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


class KeyRule:
    """``rule(key)``: the key itself when it may appear in a field path, else its placeholder."""

    __slots__ = ("_detect", "_hasher", "_kept")

    def __init__(self, salt: bytes = b"", patterns: Sequence[str] = DEFAULT_KEY_PATTERNS) -> None:
        key = salt if len(salt) <= 64 else hashlib.blake2b(salt).digest()
        self._hasher = hashlib.blake2b(digest_size=5, key=key, person=b"fs-probes-key")
        self._detect = compile_patterns(patterns)
        # identifiers already judged: they are names by the rule above, not personal data (bounded)
        self._kept: dict[str, bool] = {}

    def kept(self, key: str) -> bool:
        known = self._kept.get(key)
        if known is not None:
            return known
        ok = IDENTIFIER.fullmatch(key) is not None and (self._detect is None or not self._detect.search(key))
        if ok and len(self._kept) < _MAX_KEPT:
            self._kept[key] = True
        return ok

    def __call__(self, key: object) -> str:
        text: str | bytes
        if type(key) is str:
            if self.kept(key):
                return key
            text = key
        elif type(key) is int and 0 <= key < 10_000:
            return str(key)
        elif isinstance(key, _BUILTIN_KEYS):
            text = repr(key)
        else:
            return "{key}"
        h = self._hasher.copy()
        h.update(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        return "{key-" + h.hexdigest() + "}"


PLAIN = KeyRule()  # unsalted: for tests and tools that match without a deployment
