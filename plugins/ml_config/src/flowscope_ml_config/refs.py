"""Turning what configs write (URIs, table names, ``view:feature``, ``models:/name/3``, Hub ids) into assets.

Every name goes through OpenLineage's naming spec or ``flowscope.naming``; nothing here invents a scheme.
Environment references (``${oc.env:DATA}``, ``${env:DATA}``, ``$DATA``, ``${DATA}``) are never read:
they stay in the name as a visible ``${DATA}`` placeholder and the collector reports each variable
once. A value only known when code runs (``f"{CURRENT_DIR}/data"`` in a Feast repo) is a ``${name}``
placeholder too. Any other ``${...}`` left in a name (``${paths.data_dir}``, ``${hydra:...}``) is an
interpolation nobody resolved: the name is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowscope import naming
from flowscope.model import Asset

# OpenLineage naming: scheme://authority + path for object stores and warehouses.
_URI = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<authority>[^/]*)/?(?P<path>.*)$")
_OBJECT_STORES = (
    "s3",
    "s3a",
    "s3n",
    "gs",
    "gcs",
    "abfs",
    "abfss",
    "wasb",
    "wasbs",
    "hdfs",
    "dbfs",
    "oss",
    "pvc",
)
HF_REGISTRY = "huggingface"
_ENV = re.compile(
    r"\$\{(?:oc\.env:|env:)\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,[^}]*)?\}"
    r"|\$\{([A-Z_][A-Z0-9_]*)\}"
    r"|\$([A-Z_][A-Z0-9_]*)"
)
_OTHER_INTERP = re.compile(r"\$\{(?![A-Z_][A-Z0-9_]*\})")
# A value only code knows, from a Python file read as data: written ${name} once the name is checked.
_CODE = re.compile("\ue000([^\ue000]{1,200})\ue000")


def code_placeholder(name: str) -> str:
    """``${name}`` for a value computed when the code runs (never mistaken for a config interpolation)."""
    return f"\ue000{name}\ue000"


_FILE_EXT = re.compile(
    r"\.(csv|tsv|parquet|json|jsonl|ndjson|txt|xml|arrow|feather|avro|orc|tfrecords?|pkl|pckl|pickle|npy|npz|"
    r"h5|hdf5|zip|gz|tar|bin|pt|pth|ckpt|onnx|joblib|mar|safetensors|gguf|ya?ml|db|sqlite)$",
    re.I,
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class Unresolved(ValueError):
    """A reference still holding a ``${...}`` interpolation: skipped, the rest of the config is kept."""


def env_placeholders(text: str) -> tuple[str, list[str]]:
    """``text`` with every environment reference written ``${VAR}``, and the variables named."""
    found: list[str] = []

    def keep(m: re.Match[str]) -> str:
        var = m[1] or m[2] or m[3]
        found.append(var)
        return "${" + var + "}"

    return _ENV.sub(keep, text), found


def norm_path(path: str) -> str:
    """A path as one name: no ``./`` prefix, no doubled or trailing slash."""
    path = re.sub(r"(?<!:)/{2,}", "/", path.strip())
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/") or path or "."


def looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~")) or "://" in text


def looks_local(text: str) -> bool:
    """A local path rather than a Hub id: ./x, /x, ~/x, a file name, or more than one slash."""
    return (
        looks_like_path(text) or text.count("/") > 1 or bool(_FILE_EXT.search(text)) or text.startswith("${")
    )


@dataclass(eq=False)
class Names:
    """Defaults for names a config leaves implicit (from the plugin's settings), and the environment
    variables met so far (reported once each by the collector)."""

    registry: str = naming.DEFAULT_SYSTEM
    feature_store: str = "feast"
    table_namespace: str = ""
    env_seen: dict[str, None] = field(default_factory=dict)

    def clean(self, text: str) -> str:
        """Environment references as placeholders; Unresolved when another interpolation is left."""
        if "$" in text:
            text, found = env_placeholders(text)
            for var in found:
                self.env_seen.setdefault(var, None)
            if _OTHER_INTERP.search(text):
                raise Unresolved(f"unresolved interpolation in {text!r}")
        if "\ue000" in text:
            text = _CODE.sub(lambda m: "${" + m[1] + "}", text)
        return text

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
        text = self.clean(value.strip())
        if text.startswith("bigquery:") and "://" not in text:
            return Asset("bigquery", text.removeprefix("bigquery:"))
        if text.startswith(("hf://datasets/", "hf:")):
            return hf_dataset(text.removeprefix("hf://datasets/").removeprefix("hf:"))
        uri = self.uri(text)
        if uri is not None:
            return uri
        if looks_like_path(text) or _FILE_EXT.search(text) or "/" in text:
            return Asset("file", norm_path(text))
        return self.table(text)

    def uri(self, text: str) -> Asset | None:
        """A ``scheme://...`` URI as an asset (object stores keep their path), else None."""
        m = _URI.match(text)
        if not m:
            rclone = re.match(r"^(s3|gs|gcs|azure|minio):(?!//)([^/\s]+)/?(.*)$", text)
            if rclone:  # rclone remotes (Seldon): s3:bucket/path
                scheme = {"gcs": "gs", "minio": "s3", "azure": "abfss"}.get(rclone[1], rclone[1])
                return Asset(f"{scheme}://{rclone[2]}", norm_path(rclone[3]) if rclone[3] else "/")
            return None
        scheme, authority, path = m["scheme"], m["authority"], m["path"]
        if scheme == "file":
            return Asset("file", norm_path("/" + path if authority == "" else f"{authority}/{path}"))
        if scheme in ("feast", "feature"):
            view, _, feat = path.partition(":")
            return naming.feature(view, feat or None, store=authority or self.feature_store)
        if scheme == "model":
            return self.model(path, registry=authority)
        if scheme == "hf":
            if authority == "datasets":
                return hf_dataset(path)
            return hf_model(f"{authority}/{path}" if path else authority)
        if scheme in ("http", "https"):
            return naming.http("/" + path, authority, scheme=scheme)
        if scheme in _OBJECT_STORES:
            return Asset(f"{scheme}://{authority}", norm_path(path) if path else "/")
        return Asset(f"{scheme}://{authority}", path.replace("/", ".") if "." not in path else path)

    def file(self, path: str) -> Asset:
        return Asset("file", norm_path(self.clean(path)))

    def table(self, name: str, namespace: str | None = None) -> Asset:
        return naming.table(namespace or self.table_namespace or "file", self.clean(name))

    def model(
        self, value: Any, version: Any = None, registry: str | None = None, key: str | None = None
    ) -> Asset | None:
        """``name``, ``name/3`` with a version, ``models:/name/3`` (MLflow) or ``{name, version, registry}``."""
        if isinstance(value, Mapping):
            name = value.get("name") or value.get("model")
            return self.model(name, value.get("version", version), value.get("registry") or registry, key)
        if not isinstance(value, str) or not value.strip():
            return None
        text = self.clean(value.strip())
        if version is not None:
            version = self.clean(str(version))
        if text.startswith("models:/"):
            name, _, ver = text.removeprefix("models:/").partition("/")
            return naming.model(name, ver or None, registry=registry or self.registry, key=key)
        return naming.model(
            text, str(version) if version is not None else None, registry or self.registry, key
        )

    def feature(self, ref: str, view: str | None = None) -> Asset | None:
        """A Feast feature reference ``view:feature`` (or a bare feature of ``view``)."""
        ref = self.clean(ref)
        left, sep, right = ref.partition(":")
        if sep:
            return naming.feature(left.strip(), right.strip(), store=self.feature_store)
        if view:
            return naming.feature(view, ref.strip(), store=self.feature_store)
        return None

    def hub_model(self, value: str) -> Asset:
        """A model reference in a fine-tuning config: a Hub id, a URI, or a local folder."""
        text = self.clean(value.strip())
        if text.startswith("models:/"):
            model = self.model(text)
            assert model is not None
            return model
        uri = self.uri(text)
        if uri is not None:
            return uri
        if looks_local(text) or not _HUB_ID.match(text):
            return Asset("file", norm_path(text))
        return hf_model(text)

    def hub_dataset(self, value: str) -> Asset:
        """A dataset reference in a fine-tuning config: a Hub id, a URI, or a local file or folder."""
        text = self.clean(value.strip())
        if text.startswith(("hf://datasets/", "hf:")) and "://" not in text.removeprefix("hf://datasets/"):
            return hf_dataset(text.removeprefix("hf://datasets/").removeprefix("hf:"))
        uri = self.uri(text)
        if uri is not None:
            return uri
        if looks_local(text) or not _HUB_ID.match(text):
            return Asset("file", norm_path(text))
        return hf_dataset(text)


def hf_model(name: str) -> Asset:
    """A model on the Hugging Face Hub: registry ``huggingface``, name ``org/model``."""
    return naming.model(name.strip("/"), registry=HF_REGISTRY)


def hf_dataset(name: str) -> Asset:
    """A Hugging Face Hub dataset, named by its https URL path (OpenLineage http naming)."""
    return naming.http(f"datasets/{name.strip('/')}", "huggingface.co", scheme="https")
