"""MatchEngine: which source values of one request occur in which sink payloads, and where.

EXACT_MATCH: a sink leaf equals the source value after normalization. CONTAINS: the value occurs inside a leaf
on token boundaries (:mod:`.search`). Every other (source, sink) pair is NO_MATCH, which is implied (the
aggregator counts those pairs).

Search strategies (all give the same hits; tests check this on randomized inputs):

- compiled: the C speedups (``_speedups.find``), one pass over the text for every value, taken whenever they
  are built and the text is one byte per character (Latin-1), unless ``aho_corasick`` is ``on``; the
  flattening and the noise floor are C too then (:mod:`.leaves`, :meth:`MatchEngine.normalized_all`).
- plain, direct: ``str.find`` of each needle in the request's joined sink text (:mod:`.leaves`). One C-speed
  pass per needle, the cheapest when a request has few sources.
- plain, token set: each sink's text is cut once into its set of tokens; a needle is looked for with ``find``
  only in the sinks holding its longest token (a needle occurring on token boundaries has every one of its
  tokens as a whole token of the text, so the prefilter loses nothing). Cost: one tokenization per sink plus
  a set intersection, whatever the number of sources.
- Aho-Corasick (:mod:`.aho`): one automaton over all needles, one pass over the text.

EXACT hits fall out of the same search (an occurrence that is its whole leaf). A hash set of normalized leaves
was the first design: it cannot spare the search (every value still needs its CONTAINS pass) and needed each
leaf normalized one by one, ~0.3 us a leaf, so it was dropped.

Otherwise ``auto`` estimates the cost of each Python strategy from sizes with per-character costs measured on
an x86-64 VM (see bench/README.md) and takes the cheapest; the estimates only pick a strategy, never change a
result.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from operator import itemgetter

from flowscope_probes.keys import DEFAULT_KEY_PATTERNS, KeyRule
from flowscope_probes.matching.config import CONTAINS, EXACT_MATCH, Hit, MatchConfig, aho_available
from flowscope_probes.matching.leaves import RequestText, speedups
from flowscope_probes.matching.noise import entropy_at_least
from flowscope_probes.matching.normalize import (
    digit_count,
    hash_key,
    json_variants,
    key_token,
    number_text,
    source_text,
    tokens,
)
from flowscope_probes.matching.search import Found, Needle, scan, scan_at

# Measured costs in nanoseconds (bench/matcher_bench.py, x86-64 VM, CPython 3.11): str.find per character
# and needle; the token path per character (cutting into tokens, set intersection, candidate checks; regex
# tokenizing when the text is not ASCII); an automaton pass per character and its building per needle.
FIND_NS = 0.5
TOKEN_NS = 25.0
TOKEN_NS_UNICODE = 60.0
AHO_NS = 20.0
AHO_BUILD_NS = 1100.0

STRATEGIES = ("compiled", "direct", "tokens", "aho")
MAX_PATHS = 4  # leaves reported per (source, sink): the first ones in payload order

_NUMBER_START = frozenset("+-.,0123456789")
_NUMERIC_RE = re.compile(r"[+-]?[\d.,]*\d[\d.,]*")


class MatchEngine:
    """Matches the source values of one request against its sink payloads. Stateless between calls except
    for counters, so one engine can serve a worker thread for the life of the process."""

    def __init__(self, config: MatchConfig | None = None, *, strategy: str | None = None) -> None:
        """``strategy`` forces one search path (``direct``, ``tokens`` or ``aho``) for tests and benchmarks;
        by default it is chosen per call from ``config.aho_corasick`` and the sizes."""
        if strategy not in (None, *STRATEGIES):
            raise ValueError(f"unknown strategy {strategy!r}")
        if strategy == "compiled" and speedups is None:
            raise ValueError("the compiled strategy needs the C speedups, which are not built")
        self.config = config if config is not None else MatchConfig()
        self.strategy = strategy
        self._key = hash_key(self.config.salt)
        self.keys = KeyRule(self.config.salt, (*DEFAULT_KEY_PATTERNS, *self.config.key_patterns))
        # keyed once, copied per value (no key block to process each time)
        self._hasher = hashlib.blake2b(digest_size=8, key=self._key)
        cfg = self.config
        self._min_length = cfg.min_length
        self._min_digits = cfg.min_digits
        self._stop_list = frozenset(cfg.stop_list)
        self._entropy_floor = cfg.min_entropy
        self._min_distinct = math.ceil(2**cfg.min_entropy) if cfg.min_entropy > 0 else 0
        self._max_share = 2.0**-cfg.min_entropy
        self._aho = self.config.aho_corasick == "on" or (
            self.config.aho_corasick == "auto" and aho_available()
        )
        self.truncated_sinks = 0  # sinks searched only in part (too many leaves or characters)
        self.last_strategy = ""  # "direct", "tokens", "aho" or a mix like "direct+tokens"; for the bench

    def normalized(self, value: object) -> str | None:
        """The normalized form of a source value when it passes the noise floor, else None."""
        t = type(value)
        if t is str:
            parts = value.lower().split()  # type: ignore[attr-defined]
            if not parts:
                return None
            norm = parts[0] if len(parts) == 1 else " ".join(parts)
            numeric = norm[0] in _NUMBER_START and _NUMERIC_RE.fullmatch(norm) is not None
        elif t is int:
            try:
                norm = str(value)
            except ValueError:  # more digits than int->str allows
                return None
            numeric = True
        elif t is float:
            text = number_text(value)  # type: ignore[arg-type]
            if text is None:
                return None
            norm, numeric = text, True
        else:
            prepared = source_text(value)
            if prepared is None:
                return None
            norm, numeric = prepared
        n = len(norm)
        if "\x00" in norm:  # NUL separates leaves in the searched text
            return None
        if n < self._min_length or norm in self._stop_list:
            return None
        if numeric and digit_count(norm) < self._min_digits:
            return None
        # Entropy floor, mostly without counting (see noise.entropy_at_least): k distinct characters give
        # between -log2((n-k+1)/n) and log2(k) bits per character.
        if self._entropy_floor > 0:
            k = len(set(norm))
            if k < self._min_distinct:
                return None
            if n - k + 1 > n * self._max_share and not entropy_at_least(norm, self._entropy_floor):
                return None
        return norm

    def normalized_all(self, values: Sequence[object]) -> list[str | None]:
        """:meth:`normalized` of each value; in one C call when the speedups are built and used."""
        if speedups is None or self.strategy not in (None, "compiled"):
            return [self.normalized(v) for v in values]
        return speedups.normalize(  # type: ignore[no-any-return]
            values if type(values) is list else list(values),
            self.normalized,
            self._stop_list,
            self._min_length,
            self._min_digits,
            self._entropy_floor,
            self._min_distinct,
            self._max_share,
        )

    def eligible(self, value: object) -> bool:
        """Whether ``value`` passes the noise floor (values that do not are never searched)."""
        return self.normalized(value) is not None

    def value_hash(self, value: object) -> str | None:
        """The salted hash a Hit for ``value`` carries, or None when it is not eligible."""
        norm = self.normalized(value)
        return None if norm is None else self._hash(norm)

    def _hash(self, norm: str) -> str:
        """:func:`.normalize.value_hash` of ``norm`` with this engine's salt."""
        h = self._hasher.copy()
        h.update(norm.encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def match(self, sources: Sequence[object], sinks: Sequence[object]) -> list[Hit]:
        """Hits of ``sources`` (leaf values) in ``sinks`` (payloads), ordered by (source, sink, payload order)."""
        return self.match_normalized(self.normalized_all(sources), sinks)

    def match_normalized(self, norms: Sequence[str | None], sinks: Sequence[object]) -> list[Hit]:
        """:meth:`match` for sources already passed through :meth:`normalized` (None: not eligible, never
        searched), so a caller that filters values by eligibility does not normalize them twice."""
        owners_of: dict[str, list[int]] = {}  # each distinct value (canon) -> its source indexes
        for s_idx, norm in enumerate(norms):
            if norm is not None:
                same = owners_of.get(norm)
                if same is None:
                    owners_of[norm] = [s_idx]
                else:
                    same.append(s_idx)
        canons = list(owners_of)
        owners = list(owners_of.values())
        if not canons or not sinks:
            self.last_strategy = ""
            return []
        rt = RequestText(sinks, compiled=self.strategy in (None, "compiled"), keys=self.keys)
        self.truncated_sinks += rt.truncated
        found: Found = {}
        if not self._compiled_search(canons, rt, found):
            self._search(_needles(canons), rt, found)
        return self._hits(found, rt, canons, owners)

    def _compiled_search(self, canons: list[str], rt: RequestText, found: Found) -> bool:
        """The C speedups' one pass over the text for every value: values without spaces are recorded in
        ``found`` by the C code itself; for values with spaces it returns where their anchor may start, and the
        Python rules run on those places only (:func:`.search.scan_at`). False when it does not apply: the
        speedups are not built, another strategy is asked for, or the text is not one byte per character."""
        if speedups is None or self.strategy not in (None, "compiled"):
            return False
        if self.strategy is None and self.config.aho_corasick == "on":
            return False
        texts = canons
        owner: list[int] | None = None  # canon id of each needle text; None: one needle per canon
        if not _plain(" ".join(canons)):  # some value has JSON-escaped spellings: search those too
            texts, owner = [], []
            for cid, norm in enumerate(canons):
                texts.append(norm)
                owner.append(cid)
                if not _plain(norm):
                    for variant in json_variants(norm):
                        texts.append(variant)
                        owner.append(cid)
        places = speedups.find(rt.text, texts, owner, found, rt.known_leaves)
        if places is None:
            return False
        self.last_strategy = "compiled"
        at: dict[int, list[int]] = {}  # needle with spaces -> where its anchor may start
        for n in range(0, len(places), 2):
            k = places[n]
            positions = at.get(k)
            if positions is None:
                positions = at[k] = []
            positions.append(places[n + 1])
        size = len(rt.text)
        for k, positions in at.items():
            nd = Needle(texts[k], k if owner is None else owner[k])
            if positions[0] < 0:  # a one-character anchor: the C code leaves it to str.find
                scan(nd, rt, found, 0, size)
            else:
                scan_at(nd, rt, found, positions)
        return True

    def _search(self, needles: list[Needle], rt: RequestText, found: Found) -> None:
        n = len(needles)
        chars = len(rt.text)
        direct_ns = n * FIND_NS * chars
        tokens_ns = (TOKEN_NS if rt.text.isascii() else TOKEN_NS_UNICODE) * chars
        aho_ns = AHO_BUILD_NS * n + AHO_NS * chars
        mode = self.config.aho_corasick
        forced = None if self.strategy == "compiled" else self.strategy  # compiled, but text not Latin-1
        if forced == "aho" or (
            forced is None and self._aho and (mode == "on" or aho_ns < min(direct_ns, tokens_ns))
        ):
            from flowscope_probes.matching.aho import AhoSearch

            self.last_strategy = "aho"
            AhoSearch(needles).search(rt, found)
        elif forced == "direct" or (forced is None and direct_ns <= tokens_ns):
            self.last_strategy = "direct"
            find = rt.text.find
            for nd in needles:  # most values are in no sink: one find, no call into scan()
                p = find(nd.anchor)
                if p >= 0:
                    scan(nd, rt, found, 0, chars, p)
        else:
            self.last_strategy = "tokens"
            self._tokens(needles, rt, found)

    def _tokens(self, needles: list[Needle], rt: RequestText, found: Found) -> None:
        by_key: dict[bytes, list[Needle]] = {}
        keyless: list[Needle] = []
        for nd in needles:
            key = key_token(nd.text)
            if key is None:
                keyless.append(nd)
            else:
                by_key.setdefault(key, []).append(nd)
        text = rt.text
        for lo, hi in rt.sink_spans():
            if hi <= lo:
                continue
            for key in by_key.keys() & tokens(text[lo:hi]):
                for nd in by_key[key]:
                    scan(nd, rt, found, lo, hi)
        for nd in keyless:
            scan(nd, rt, found, 0, len(text))

    def _hits(self, found: Found, rt: RequestText, canons: list[str], owners: list[list[int]]) -> list[Hit]:
        """Hits from the recorded leaves: the first MAX_PATHS leaves per (value, sink) in payload order."""
        hits: list[Hit] = []
        where = rt.leaves_at([start for leaves in found.values() for start in leaves])
        hash_of = self._hash
        path = rt.path
        for cid, leaves in found.items():
            h = hash_of(canons[cid])
            sink = -1
            kept = 0
            for start in sorted(leaves) if len(leaves) > 1 else leaves:
                k, s = where[start]
                kept = kept + 1 if s == sink else 1
                sink = s
                if kept > MAX_PATHS:
                    continue
                kind = EXACT_MATCH if leaves[start] else CONTAINS
                p = path(k)
                for s_idx in owners[cid]:
                    hits.append(Hit(s_idx, s, kind, p, h))
        hits.sort(key=_order)
        return hits


def _plain(norm: str) -> bool:
    """Whether ``norm`` has no JSON-escaped spelling other than itself."""
    return norm.isascii() and norm.isprintable() and '"' not in norm and "\\" not in norm


def _needles(canons: list[str]) -> list[Needle]:
    """A needle per value and per JSON-escaped spelling of it."""
    needles = [Needle(norm, cid) for cid, norm in enumerate(canons)]
    for cid, norm in enumerate(canons):
        if not _plain(norm):
            needles.extend(Needle(v, cid) for v in json_variants(norm))
    return needles


_order = itemgetter(0, 1)  # hits by (source, sink)
