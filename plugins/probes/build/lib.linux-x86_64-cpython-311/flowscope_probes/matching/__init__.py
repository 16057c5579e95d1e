"""Payload matching of the probes: source values against sink payloads, in memory, keeping no raw value.

CONTRACT shared by the runtime and the matcher: ``MatchConfig``, ``Hit``, ``MatchEngine`` and
``payload_matchers`` keep these names and signatures. Modules: :mod:`.normalize` (case, whitespace, numbers,
JSON escapes, tokens, salted hashes), :mod:`.noise` (the noise floor and why), :mod:`.leaves` (payloads to
field paths), :mod:`.search` (boundary rule), :mod:`.engine` (strategies), :mod:`.aho` (Aho-Corasick),
:mod:`.matchers` (core's PayloadMatcher).
"""

from __future__ import annotations

from flowscope_probes.matching.config import (
    CONTAINS,
    EXACT_MATCH,
    NO_MATCH,
    Hit,
    MatchConfig,
    aho_available,
)
from flowscope_probes.matching.engine import MatchEngine
from flowscope_probes.matching.matchers import ProbesPayloadMatcher, payload_matchers
from flowscope_probes.matching.noise import DEFAULT_STOP_LIST

__all__ = [
    "CONTAINS",
    "DEFAULT_STOP_LIST",
    "EXACT_MATCH",
    "NO_MATCH",
    "Hit",
    "MatchConfig",
    "MatchEngine",
    "ProbesPayloadMatcher",
    "aho_available",
    "payload_matchers",
]
