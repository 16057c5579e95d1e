"""The matcher's settings and its one output record.

CONTRACT shared by the runtime and the matcher (see ``flowscope_probes.matching``): keep these names.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import NamedTuple

from flowscope.errors import UserError
from flowscope_probes.matching.noise import DEFAULT_MIN_ENTROPY, DEFAULT_STOP_LIST

EXACT_MATCH = "EXACT_MATCH"
CONTAINS = "CONTAINS"
NO_MATCH = "NO_MATCH"

AHO_MODES = ("auto", "on", "off")


def aho_available() -> bool:
    """True when pyahocorasick (the ``aho`` extra) can be imported."""
    return importlib.util.find_spec("ahocorasick") is not None


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Noise floor, search strategy and hashing salt. Each threshold is explained in :mod:`.noise`.

    ``aho_corasick``: ``auto`` uses Aho-Corasick when pyahocorasick is installed and the request is large
    enough for it to be cheaper (see :mod:`.engine`), ``on`` always (an error here when the package is
    missing), ``off`` never. ``salt`` keys the value hashes; give each deployment its own, so hashes from
    two deployments cannot be joined and a hash cannot be checked against a guessed value without it.
    """

    min_length: int = 4
    min_entropy: float = DEFAULT_MIN_ENTROPY
    min_digits: int = 5
    stop_list: frozenset[str] = DEFAULT_STOP_LIST
    aho_corasick: str = "auto"
    salt: bytes = field(default=b"", repr=False)  # never in logs
    key_patterns: tuple[str, ...] = ()  # more value detectors for sink-path keys (flowscope_probes.keys)

    def __post_init__(self) -> None:
        if self.aho_corasick not in AHO_MODES:
            raise UserError(
                f"probes: aho_corasick must be one of {', '.join(AHO_MODES)}, not {self.aho_corasick!r}"
            )
        if self.aho_corasick == "on" and not aho_available():
            raise UserError(
                "probes: aho_corasick is 'on' but pyahocorasick is not installed "
                "(pip install 'flowscope-probes[aho]', or set aho_corasick: auto)"
            )
        if not isinstance(self.salt, bytes):
            raise UserError("probes: the matcher salt must be bytes")
        if self.min_length < 1 or self.min_digits < 0 or self.min_entropy < 0:
            raise UserError("probes: min_length must be >= 1, min_digits and min_entropy >= 0")


class Hit(NamedTuple):
    """One source value found in one sink payload. Holds no raw value: only indexes, the match type, the
    field path inside the sink and the salted hash of the normalized value. A named tuple: a few are made
    for every sampled request, and a tuple is made three times faster than a frozen dataclass."""

    source: int  # index into the sources given to MatchEngine.match()
    sink: int  # index into the sinks given to MatchEngine.match()
    match: str  # EXACT_MATCH | CONTAINS
    sink_path: str  # "" (the whole payload), "[1]", "location", "a.b[0]"
    value_hash: str  # salted blake2b of the normalized source value, 16 hex chars
