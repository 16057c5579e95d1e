"""The noise floor: which source values are specific enough that finding them in a sink means data flowed.

A value that also occurs by chance in unrelated payloads (``true``, ``200``, ``2024``, ``0000``, ``info``) would
"match" everything and turn every pair of assets into a fake flow. The thresholds, all applied to the
normalized value (lower case, whitespace collapsed):

- ``min_length`` = 4 characters. Three characters or fewer collide constantly (``yes``, ``abc``, ``us``, ``42``);
  four already excludes most short codes while keeping short names (``anna``) and ids.
- ``min_digits`` = 5 for numbers (ints, floats, and strings made only of digits, sign, ``.`` and ``,``). Numbers
  under five digits are counts, ports, HTTP statuses, years, page sizes and small enum codes (``8080``, ``2024``,
  ``1000``): they appear in every log line. Five digits keep user and object ids from 10000 up and coordinates
  like ``37.7749``. Lower it (e.g. to 1) in a test estate whose ids are small.
- ``min_entropy`` = 1.0 bit per character (Shannon, over the characters of the value). Rejects values made mostly
  of one repeated symbol (``00000``, ``100000``, ``aaaaaa``, ``-----``, placeholder masks like ``xxxx-xxxx``):
  such values are defaults and masks, not data. Real identifiers, names, e-mails and coordinates score 2-4 bits.
  One bit is low on purpose: a four-character value can score at most 2 bits.
- ``stop_list``: words that pass the other tests but are vocabulary, not data: booleans and nulls in their
  spellings, log levels, HTTP methods and schemes, status words, content types and placeholder names. Kept
  short and inspectable; extend it per deployment.

Values seen in many distinct sinks are demoted later, by the aggregator (``noisy_sinks``), because that is only
visible across requests.
"""

from __future__ import annotations

import math

DEFAULT_MIN_ENTROPY = 1.0

DEFAULT_STOP_LIST: frozenset[str] = frozenset(
    {
        # booleans, nulls and their spellings
        "true", "false", "null", "none", "nil", "nan", "inf", "-inf", "infinity", "undefined", "n/a", "na",
        "yes", "no", "ok", "okay", "on", "off", "y", "n", "t", "f",
        # placeholders
        "default", "unknown", "empty", "blank", "test", "testing", "example", "sample", "string", "value",
        "text", "data", "foo", "bar", "baz", "todo", "tbd", "xxxx", "dummy", "placeholder", "changeme",
        # log levels, statuses
        "trace", "debug", "info", "notice", "warn", "warning", "error", "errors", "fatal", "critical",
        "success", "successful", "failed", "failure", "fail", "pending", "active", "inactive", "enabled",
        "disabled", "open", "closed", "done", "valid", "invalid", "public", "private", "new", "old",
        # HTTP and formats
        "get", "post", "put", "patch", "delete", "head", "options", "http", "https", "json", "xml", "html",
        "utf-8", "utf8", "ascii", "gzip", "application/json", "text/plain", "text/html", "localhost",
        "127.0.0.1", "0.0.0.0",
        # roles and generic account words
        "admin", "root", "user", "users", "guest", "anonymous", "system", "service", "login", "logout",
        # SQL words that reach sinks as literals
        "select", "insert", "update", "from", "where", "and", "the", "this", "that", "with",
    }
)  # fmt: skip


def entropy(text: str) -> float:
    """Shannon entropy of ``text`` in bits per character."""
    n = len(text)
    if n == 0:
        return 0.0
    total = 0.0
    for ch in set(text):
        p = text.count(ch) / n
        total -= p * math.log2(p)
    return total


def entropy_at_least(text: str, floor: float) -> bool:
    """``entropy(text) >= floor``, mostly without counting: the entropy lies between the min-entropy bound
    ``-log2((n-k+1)/n)`` (the most any one of k distinct characters can occur is n-k+1 times) and
    ``log2(k)``, so only values between the two bounds are counted."""
    if floor <= 0:
        return True
    n = len(text)
    k = len(set(text))
    if k <= 1 or math.log2(k) < floor:
        return False
    if -math.log2((n - k + 1) / n) >= floor:
        return True
    return entropy(text) >= floor
