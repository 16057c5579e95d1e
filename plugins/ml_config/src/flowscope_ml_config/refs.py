"""Turning what configs write (URIs, table names, ``view:feature``, ``models:/name/3``) into assets.

Every name goes through OpenLineage's naming spec or ``flowscope.naming``; nothing here invents a scheme.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowscope import naming
from flowscope.model import Asset

# OpenLineage naming: scheme://authority + path for object stores and warehouses.
_URI = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<authority>[^/]*)/?(?P<path>.*)$")
_OBJECT_STORES = ("s3", "s3a", "gs", "abfss", "wasbs", "hdfs", "dbfs")
HF_REGISTRY = "huggingface"


class Unresolved(ValueError):
    """A reference still holding a ``${...}`` interpolation: skipped, the rest of the config is kept."""


@dataclass(frozen=True)
class Names:
    """Defaults for names a config leaves implicit; from the plugin's settings."""

    registry: str = naming.DEFAULT_SYSTEM
    feature_store: str = "feast"
    table_namespace: str = ""

    def dataset(self, value: Any) -> Asset | None:
        """A dataset from a URI, a ``{uri|path|table, namespace}`` mapping, or a bare table name."""
        if isinstance(value, Mapping):
            ns = value.get("namespace")
            for key in ("uri", "path", "location", "url"):
                if isinstance(value.get(key), str):
                    return self.dataset(value[key])
            table = value.get("table") or value.get("name")
            if isinstance(table, str):
                return self.table(table, ns if isinstance(ns, str) else None)
            return None
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        if "${" in text:
            raise Unresolved(f"unresolved interpolation in {text!r}")
        if text.startswith("bigquery:") and "://" not in text:
            return Asset("bigquery", text.removeprefix("bigquery:"))
        if text.startswith(("hf://datasets/", "hf:")):
            return hf_dataset(text.removeprefix("hf://datasets/").removeprefix("hf:"))
        m = _URI.match(text)
        if m:
            scheme, authority, path = m["scheme"], m["authority"], m["path"]
            if scheme == "file":
                return Asset("file", "/" + path if authority == "" else f"{authority}/{path}")
            if scheme in ("feast", "feature"):
                view, _, feat = path.partition(":")
                return naming.feature(view, feat or None, store=authority or self.feature_store)
            if scheme == "model":
                return self.model(path, registry=authority)
            if scheme in _OBJECT_STORES:
                return Asset(f"{scheme}://{authority}", path or "/")
            return Asset(f"{scheme}://{authority}", path.replace("/", ".") if "." not in path else path)
        if text.startswith(("/", "./", "../")) or re.search(
            r"\.(csv|parquet|json|jsonl|tfrecord|txt)$", text
        ):
            return Asset("file", text)
        return self.table(text)

    def table(self, name: str, namespace: str | None = None) -> Asset:
        if "${" in name:
            raise Unresolved(f"unresolved interpolation in {name!r}")
        return naming.table(namespace or self.table_namespace or "file", name)

    def model(
        self, value: Any, version: Any = None, registry: str | None = None, key: str | None = None
    ) -> Asset | None:
        """``name``, ``name/3`` with a version, ``models:/name/3`` (MLflow) or ``{name, version, registry}``."""
        if isinstance(value, Mapping):
            name = value.get("name") or value.get("model")
            return self.model(name, value.get("version", version), value.get("registry") or registry, key)
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        if "${" in text or (version is not None and "${" in str(version)):
            raise Unresolved(f"unresolved interpolation in {text!r}")
        if text.startswith("models:/"):
            name, _, ver = text.removeprefix("models:/").partition("/")
            return naming.model(name, ver or None, registry=registry or self.registry, key=key)
        return naming.model(
            text, str(version) if version is not None else None, registry or self.registry, key
        )

    def feature(self, ref: str, view: str | None = None) -> Asset | None:
        """A Feast feature reference ``view:feature`` (or a bare feature of ``view``)."""
        if "${" in ref:
            raise Unresolved(f"unresolved interpolation in {ref!r}")
        left, sep, right = ref.partition(":")
        if sep:
            return naming.feature(left.strip(), right.strip(), store=self.feature_store)
        if view:
            return naming.feature(view, ref.strip(), store=self.feature_store)
        return None


def hf_model(name: str) -> Asset:
    """A model on the Hugging Face Hub: registry ``huggingface``, name ``org/model``."""
    return naming.model(name, registry=HF_REGISTRY)


def hf_dataset(name: str) -> Asset:
    """A Hugging Face Hub dataset, named by its https URL path (OpenLineage http naming)."""
    return naming.http(f"datasets/{name}", "huggingface.co", scheme="https")


def looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~")) or "://" in text
