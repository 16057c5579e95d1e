"""What flowscope emitted to each DataHub target last time, so that the next emit removes what a re-scan no
longer finds: an upstream, a fine-grained lineage, a tag, a field tag, a job's input or output, an owner.

The state is ``<store>/datahub/<target hash>.json``: the target, and the items flowscope added
(:mod:`flowscope_emitters.datahub_items`). On the next emit, items that were added last time and are not
in this emit become ``remove`` operations for exactly those items. Nothing else is ever removed, so lineage
and tags other producers wrote stay (an item another producer also wrote is the same item in DataHub: it
goes too). The state is written only once the target took everything; a target flowscope never reached
keeps the older state, and the next emit retracts against that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flowscope import private
from flowscope_emitters.datahub_items import Item, key

STATE_DIR = "datahub"
# Descriptions are set, not added: there is nothing of flowscope's own to take back.
RETRACTABLE = frozenset({"upstream", "fgl", "tag", "field_tag", "job_in", "job_out", "owner"})


class EmitState:
    def __init__(self, store: Path, target: str) -> None:
        digest = hashlib.sha256(target.encode()).hexdigest()[:16]
        self.path = store / STATE_DIR / f"{digest}.json"
        self.target = target

    def previous(self) -> list[Item]:
        try:
            doc: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(
            doc, dict
        ):  # a state file is the store's, but read as untrusted: any shape is "none"
            return []
        items = doc.get("items")
        if doc.get("target") != self.target or not isinstance(items, list):
            return []
        return [tuple(str(p) for p in i) for i in items if isinstance(i, list) and i]

    def retractions(self, current: Iterable[Item]) -> list[Item]:
        """Items added last time that this emit does not add again (the state holds items' keys)."""
        now = {key(i) for i in current}
        return [i for i in self.previous() if i[0] in RETRACTABLE and i not in now]

    def save(self, current: Iterable[Item]) -> None:
        items = sorted({key(i) for i in current if i[0] in RETRACTABLE})
        # private like everything in the store (0700 folder, 0600 file), written whole or not at all
        private.write_text(self.path, json.dumps({"target": self.target, "items": items}))
