"""OpenLineage names -> DataHub urns that match DataHub's own connectors.

DataHub's Hive, MySQL, Postgres, Trino and Kafka sources, its OpenLineage converter and
``mce_builder.make_dataset_urn`` name a table by platform and the table's own name, with no host:
``hive://warehouse:9083`` + ``analytics.photo_events`` is ``(hive,analytics.photo_events,PROD)``. So by default:

- platform: the namespace's scheme, with DataHub's spelling (``postgresql`` -> ``postgres``, ``sqlserver`` ->
  ``mssql``, ``awsathena`` -> ``athena``, ``gs`` -> ``gcs``, ``abfss`` -> ``adls``); a namespace without a scheme
  (``bigquery``, ``file``) is the platform;
- name: the OpenLineage name; for object stores (s3, gcs, adls) ``bucket/path`` as DataHub's data-lake sources
  write it; no platform instance; env ``PROD``;
- flowscope's own kinds (``log://``, ``cache://``, ``queue://``, ``service://``, ``http(s)://``, ``code://``) get a
  platform each, registered with ``dataPlatformInfo``; paths are named ``host/path`` (an endpoint), other
  names get their system (unless ``default``) as the platform instance (``log://scribe``); features and models become DataHub's ML entities (:mod:`flowscope_emitters.datahub_ml`).

Where a connector was set up differently (a ``platform_instance``, another env, a database name the connector
leaves out), the ``plugins.openlineage.datahub`` section of flowscope.yaml says so per namespace::

    plugins:
      openlineage:
        datahub:
          env: PROD                       # default env
          namespaces:
            "postgres://db.internal:5432":
              platform_instance: shop_pg  # as in the postgres recipe
              drop_prefix: "shop."        # the connector's names start at the schema
            "trino://trino:8080": {platform: presto, env: DEV, lowercase: true}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flowscope.errors import UserError

SCHEME_PLATFORMS = {
    "postgresql": "postgres",
    "sqlserver": "mssql",
    "awsathena": "athena",
    "gs": "gcs",
    "abfss": "adls",
    "abfs": "adls",
    "wasbs": "adls",
    "s3a": "s3",
    "s3n": "s3",
    "https": "http",
}
OBJECT_STORES = frozenset({"s3", "gcs", "adls"})
# flowscope's own kinds (flowscope.naming): platform -> (display name, DataHub PlatformType)
OWN_PLATFORMS: dict[str, tuple[str, str]] = {
    "log": ("Log", "OTHERS"),
    "cache": ("Cache", "KEY_VALUE_STORE"),
    "queue": ("Queue", "MESSAGE_BROKER"),
    "service": ("Service", "OTHERS"),
    "http": ("HTTP API", "OTHERS"),
    "code": ("Code", "OTHERS"),
}
ML_SCHEMES = frozenset({"feature", "model"})
DEFAULT_SYSTEM = "default"


@dataclass(frozen=True)
class Rule:
    """How one OpenLineage namespace maps onto DataHub (every key optional)."""

    platform: str | None = None
    platform_instance: str | None = None
    env: str | None = None
    drop_prefix: str = ""
    lowercase: bool = False


@dataclass(frozen=True)
class Target:
    """Where a dataset lands in DataHub."""

    platform: str
    name: str
    instance: str | None
    env: str


@dataclass(frozen=True)
class Naming:
    env: str = "PROD"
    rules: Mapping[str, Rule] = field(default_factory=dict)

    def target(self, namespace: str, name: str) -> Target:
        return _target(self, namespace, name)

    def dataset_urn(self, namespace: str, name: str) -> str:
        return _dataset_urn(self, namespace, name)

    def platforms(self, urns: list[str]) -> set[str]:
        return {u.split(",", 1)[0].removeprefix("urn:li:dataset:(urn:li:dataPlatform:") for u in urns}

    def __hash__(self) -> int:
        return hash((self.env, tuple(sorted(self.rules.items()))))


def _split(namespace: str) -> tuple[str, str]:
    scheme, sep, rest = namespace.partition("://")
    if sep:
        return scheme.lower(), rest.strip("/")
    return namespace.lower(), ""


@lru_cache(maxsize=65536)
def _target(naming: Naming, namespace: str, name: str) -> Target:
    rule = naming.rules.get(namespace) or Rule()
    scheme, host = _split(namespace)
    platform = rule.platform or SCHEME_PLATFORMS.get(scheme, scheme)
    instance = rule.platform_instance
    if (platform in OBJECT_STORES or (platform in OWN_PLATFORMS and name.startswith("/"))) and host:
        name = f"{host}/{name.lstrip('/')}"  # a bucket's or a host's path: host/path, as URLs read
    elif platform in OWN_PLATFORMS and instance is None and host and host != DEFAULT_SYSTEM:
        instance = host
    if rule.drop_prefix and name.startswith(rule.drop_prefix):
        name = name[len(rule.drop_prefix) :]
    if rule.lowercase:
        name = name.lower()
    return Target(platform, name, instance, rule.env or naming.env)


# Characters acryl-datahub percent-encodes inside urns (``UrnEncoder``): names holding one take its slow path.
_RESERVED = frozenset(",()\u241f")


def _plain(*parts: str) -> bool:
    return all(p and not _RESERVED.intersection(p) and not p.startswith("urn:") for p in parts)


@lru_cache(maxsize=65536)
def _dataset_urn(naming: Naming, namespace: str, name: str) -> str:
    """acryl-datahub's ``make_dataset_urn_with_platform_instance`` (a test compares them), written directly
    when no part needs encoding: its urn classes validate at length."""
    from datahub.emitter import mce_builder

    t = _target(naming, namespace, name)
    full = f"{t.instance}.{t.name}" if t.instance else t.name
    if _plain(t.platform, full, t.env) and t.env == t.env.upper() and not mce_builder.DATASET_URN_TO_LOWER:
        return f"urn:li:dataset:(urn:li:dataPlatform:{t.platform},{full},{t.env})"
    return str(mce_builder.make_dataset_urn_with_platform_instance(t.platform, t.name, t.instance, t.env))


def naming_from(section: Mapping[str, Any] | None, where: str = "plugins.openlineage.datahub") -> Naming:
    """The ``datahub`` mapping of flowscope.yaml (already read); every problem names the key."""
    if not section:
        return Naming()
    if not isinstance(section, Mapping):
        raise UserError(f"{where}: expected a mapping")
    unknown = set(section) - {"env", "namespaces"}
    if unknown:
        raise UserError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: env, namespaces)")
    rules: dict[str, Rule] = {}
    for ns, spec in (section.get("namespaces") or {}).items():
        at = f"{where}.namespaces.{ns}"
        if not isinstance(spec, Mapping):
            raise UserError(f"{at}: expected a mapping with platform, platform_instance, env, drop_prefix")
        bad = set(spec) - set(Rule.__dataclass_fields__)
        if bad:
            raise UserError(
                f"{at}: unknown key {sorted(bad)[0]!r} (known: {', '.join(Rule.__dataclass_fields__)})"
            )
        text = {k: v for k, v in spec.items() if k != "lowercase"}
        if any(v is not None and not isinstance(v, str) for v in text.values()):
            raise UserError(f"{at}: platform, platform_instance, env and drop_prefix are strings")
        rules[str(ns)] = Rule(
            platform=text.get("platform"),
            platform_instance=text.get("platform_instance"),
            env=text.get("env"),
            drop_prefix=text.get("drop_prefix") or "",
            lowercase=bool(spec.get("lowercase", False)),
        )
    return Naming(str(section.get("env") or "PROD"), rules)
