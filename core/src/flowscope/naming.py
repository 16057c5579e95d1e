"""Asset and job names for kinds the OpenLineage naming spec does not cover.

Where the spec has a scheme (postgres://, hive://, trino://, kafka://, s3://, file, bigquery) use
``openlineage.client.naming.dataset`` or the spec's format directly. For everything else flowscope
defines exactly one scheme per kind, here, so plugins never invent names:

=========  ==============================  =======================================  ================
kind       namespace                       name                                     field
=========  ==============================  =======================================  ================
log        ``log://<system>``              log category (``photo_uploads``)         logged key
http       ``http://<host>`` (or https)    path template (``/api/nearby_friends``)  body/query key
cache      ``cache://<cluster>``           key prefix (``photo:``)                  value key
queue      ``queue://<system>``            queue name                               message key
kafka      ``kafka://<bootstrap>``         topic (OpenLineage spec)                 message key
feature    ``feature://<store>``           feature view                             feature
model      ``model://<registry>``          ``<model>`` or ``<model>/<version>``     input feature
service    ``service://<name>``            endpoint or method                       request key
code       ``code://<repo>``               module or file path                      variable
result     ``result://<engine>``           the job that ran the query               result column
=========  ==============================  =======================================  ================

``result`` is what a query returns to whoever ran it (a bare ``SELECT``): one dataset per job, its fields the
result columns, so the application that reads them, and whatever it writes next, can be joined at field level.

Jobs live in namespaces named after what runs them, as the OpenLineage naming spec asks (the producer's or
scheduler's namespace, never a dataset's URI): ``$OPENLINEAGE_NAMESPACE`` when it is set (the variable the
OpenLineage integrations read for it), else ``flowscope://<collector>``, unless a plugin is told a better one
(a service's name).
"""

from __future__ import annotations

import os

from flowscope.model import Asset

KINDS: tuple[str, ...] = (
    "log",
    "http",
    "cache",
    "queue",
    "kafka",
    "feature",
    "model",
    "service",
    "code",
    "result",
)

DEFAULT_SYSTEM = "default"


def _ns(scheme: str, authority: str) -> str:
    authority = authority.strip().strip("/") or DEFAULT_SYSTEM
    return f"{scheme}://{authority}"


def log(category: str, system: str = DEFAULT_SYSTEM, key: str | None = None) -> Asset:
    return Asset(_ns("log", system), category, key)


def http(path: str, host: str, key: str | None = None, scheme: str = "http") -> Asset:
    if scheme not in ("http", "https"):
        raise ValueError(f"http endpoints use http or https, not {scheme!r}")
    return Asset(_ns(scheme, host), "/" + path.lstrip("/"), key)


def cache(prefix: str, cluster: str = DEFAULT_SYSTEM, key: str | None = None) -> Asset:
    return Asset(_ns("cache", cluster), prefix, key)


def queue(name: str, system: str = DEFAULT_SYSTEM, key: str | None = None) -> Asset:
    return Asset(_ns("queue", system), name, key)


def kafka(topic: str, bootstrap: str, key: str | None = None) -> Asset:
    return Asset(_ns("kafka", bootstrap), topic, key)


def feature(view: str, feature_name: str | None = None, store: str = DEFAULT_SYSTEM) -> Asset:
    return Asset(_ns("feature", store), view, feature_name)


def model(
    name: str, version: str | None = None, registry: str = DEFAULT_SYSTEM, key: str | None = None
) -> Asset:
    return Asset(_ns("model", registry), f"{name}/{version}" if version else name, key)


def service(name: str, endpoint: str, key: str | None = None) -> Asset:
    return Asset(_ns("service", name), endpoint, key)


def code(path: str, repo: str = DEFAULT_SYSTEM, variable: str | None = None) -> Asset:
    return Asset(_ns("code", repo), path, variable)


def result(job_name: str, engine: str = DEFAULT_SYSTEM, column: str | None = None) -> Asset:
    """The result set of the query job ``job_name`` ran on ``engine`` (a namespace such as
    ``trino://coordinator:8080``, whose authority names the engine here)."""
    return Asset(_ns("result", engine.partition("://")[2] or engine), job_name, column)


def table(namespace: str, name: str, column: str | None = None) -> Asset:
    """A table named by the OpenLineage spec (``postgres://host:5432`` + ``db.schema.table``)."""
    return Asset(namespace, name, column)


JOB_NAMESPACE_ENV = "OPENLINEAGE_NAMESPACE"


def job_namespace(collector: str) -> str:
    """The namespace of ``collector``'s jobs: ``$OPENLINEAGE_NAMESPACE``, else ``flowscope://<collector>``."""
    return os.environ.get(JOB_NAMESPACE_ENV, "").strip() or f"flowscope://{collector}"


def scan_job_namespace() -> str:
    """The namespace of the scan's own job: ``$OPENLINEAGE_NAMESPACE``, else ``flowscope``."""
    return os.environ.get(JOB_NAMESPACE_ENV, "").strip() or "flowscope"


def kind_of(asset: Asset) -> str:
    """The asset kind from its namespace scheme (``log``, ``postgres``, ``file`` ...)."""
    scheme, sep, _ = asset.namespace.partition("://")
    return scheme if sep else asset.namespace
