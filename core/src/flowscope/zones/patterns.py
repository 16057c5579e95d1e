"""Asset patterns, as zone sources and ``purposes:`` keys write them.

Two forms, checked when the file is read:

- a Marquez node id, ``dataset:<ns>:<name>`` or ``datasetField:<ns>:<name>:<field>``: that asset exactly;
- a glob (``*``, ``?``, ``[...]`` as in shell patterns) over ``<namespace>/<name>`` for datasets and
  ``<namespace>/<name>#<field>`` for fields, or the same without ``<namespace>/``:
  ``model://registry/ad_targeting_model``, ``ad_targeting_model``, ``analytics.*#location``,
  ``hive://warehouse:9083/raw_logs.*``. A pattern without ``#`` names datasets, one with ``#`` fields.

A data use given to a dataset applies to its fields too (a model's purpose is every feature's purpose).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from flowscope.model import Asset
from flowscope.terminal import clean

_GLOB_CHARS = re.compile(r"[*?\[]")
_ID_PREFIXES = ("dataset:", "datasetField:")


def is_glob(text: str) -> bool:
    return not text.startswith(_ID_PREFIXES) and bool(_GLOB_CHARS.search(text))


@dataclass(frozen=True)
class AssetPattern:
    """One checked pattern; :meth:`matches` says whether it names an asset."""

    text: str
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> AssetPattern:
        """The pattern ``text``; ValueError saying what is wrong with it."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty asset pattern")
        if text != text.strip() or clean(text) != text:
            raise ValueError(f"asset pattern {clean(text)!r} has surrounding spaces or control characters")
        if text.startswith(_ID_PREFIXES):
            kind, _, rest = text.partition(":")
            parts = rest.rsplit(":", 1 if kind == "dataset" else 2)
            if len(parts) < (2 if kind == "dataset" else 3) or not all(parts):
                shape = "<namespace>:<name>" + (":<field>" if kind == "datasetField" else "")
                raise ValueError(f"bad asset id {text!r}: expected {kind}:{shape}")
            return cls(text)
        if text.count("#") > 1:
            raise ValueError(f"bad asset pattern {text!r}: more than one '#'")
        name, sep, fld = text.partition("#")
        if not name or (sep and not fld):
            raise ValueError(f"bad asset pattern {text!r}: expected NAME or NAME#FIELD (globs allowed)")
        try:
            regex = re.compile(fnmatch.translate(text))
        except re.error as exc:  # fnmatch escapes almost everything; keep the message if it does not
            raise ValueError(f"bad asset pattern {text!r}: {exc}") from None
        return cls(text, regex)

    @property
    def for_fields(self) -> bool:
        """Does it name fields (``#`` or a ``datasetField:`` id) rather than datasets?"""
        return self.text.startswith("datasetField:") or (self._regex is not None and "#" in self.text)

    def matches(self, asset: Asset) -> bool:
        """Does the pattern name exactly this asset (a dataset pattern does not name the fields)?"""
        if self._regex is None:
            return asset.id == self.text
        if (asset.field is not None) != self.for_fields:
            return False
        suffix = f"#{asset.field}" if asset.field is not None else ""
        full = f"{asset.namespace}/{asset.name}{suffix}"
        return bool(self._regex.match(full) or self._regex.match(asset.name + suffix))

    def covers(self, asset: Asset) -> bool:
        """Does it name the asset or, for a field, its dataset (how purposes apply)?"""
        return self.matches(asset) or (asset.field is not None and self.matches(asset.dataset))
