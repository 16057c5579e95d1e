"""The matcher as core sees it: a PayloadMatcher (``register_matchers``) comparing one value with one payload."""

from __future__ import annotations

from flowscope.contracts import PayloadMatch
from flowscope_probes.matching.config import EXACT_MATCH, NO_MATCH, MatchConfig
from flowscope_probes.matching.engine import MatchEngine


class ProbesPayloadMatcher:
    """EXACT_MATCH / CONTAINS / NO_MATCH of one source value in one sink payload, with the field path of the
    strongest hit (the first in payload order among equals). Neither value nor payload is kept."""

    kind = "payload"

    def __init__(self, config: MatchConfig | None = None, name: str = "probes_payload") -> None:
        self.name = name
        self.engine = MatchEngine(config)

    def match(self, value: object, payload: object) -> PayloadMatch:
        hits = self.engine.match([value], [payload])
        if not hits:
            return PayloadMatch(NO_MATCH)
        best = next((h for h in hits if h.match == EXACT_MATCH), hits[0])
        return PayloadMatch(best.match, best.sink_path or None)


def payload_matchers(config: MatchConfig | None = None) -> list[object]:
    """The payload matchers the probes plugin registers with core."""
    return [ProbesPayloadMatcher(config)]
