"""Read a lineage neighbourhood from DataHub into flowscope's graph: GraphQL ``scrollAcrossLineage``, sent
through acryl-datahub's ``DataHubGraph.execute_graphql``.

One query per page (``nextScrollId`` until there is none), the way acryl-datahub's own lineage client asks
it: results are entities with their ``degree`` and the ``paths`` from the start node to them. Consecutive
entities of a path are hops; a DataJob (or Query) between two datasets is the job of the hop between them,
otherwise the hop gets a job named after its target. Starting from a ``schemaField`` urn gives field-level
edges. Names: a dataset ``urn:li:dataset:(urn:li:dataPlatform:P,NAME,ENV)`` becomes the asset ``P:NAME``
(namespace = the platform), which :func:`~flowscope_emitters.datahub_convert.dataset_urn` turns back into
the same urn (for ``PROD``). Every page is checked before anything is stored: a malformed answer stores
nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from flowscope.errors import UserError
from flowscope.merge import merge_signals
from flowscope.model import Asset, Edge, Evidence, Job, Signal
from flowscope_emitters.failures import connection_reason, mask, public_url

COLLECTOR = "datahub"
TOKEN_ENV = "DATAHUB_GMS_TOKEN"
PAGE = 500
MAX_PAGES = 1000  # a server that keeps answering with a scroll id would otherwise hold us forever
QUERY = """query scrollAcrossLineage($input: ScrollAcrossLineageInput!) {
  scrollAcrossLineage(input: $input) {
    nextScrollId
    searchResults {
      degree
      entity {
        urn
        type
      }
      paths {
        path {
          urn
          type
        }
      }
    }
  }
}"""
DATA_TYPES = ("DATASET", "SCHEMA_FIELD")
JOB_TYPES = ("DATA_JOB", "QUERY")


class GraphQL:
    """GraphQL at ``<gms>/api/graphql`` through acryl-datahub's ``DataHubGraph`` (its session, token and
    query handling; its retries off); every failure is a one-line UserError without the token."""

    def __init__(self, url: str, timeout: float = 10.0, token: str | None = None) -> None:
        from datahub.ingestion.graph.client import DatahubClientConfig, DataHubGraph

        self.url = url.rstrip("/")
        self.where = f"{public_url(self.url)}/api/graphql"
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        self._secrets = {token} if token else set()
        config = DatahubClientConfig(
            server=self.url, token=token, timeout_sec=timeout, retry_max_times=0, retry_status_codes=[]
        )
        self.graph = DataHubGraph(config)

    def query(self, query: str, variables: Mapping[str, Any]) -> Any:
        import requests
        from datahub.configuration.common import GraphError, OperationalError

        try:
            data = self.graph.execute_graphql(query, dict(variables), format_exception=False)
        except OperationalError as exc:
            response = getattr(exc.__cause__, "response", None)
            status = getattr(response, "status_code", 0)
            text = f"datahub: {self.where} answered HTTP {status} {getattr(response, 'reason', '') or ''}".rstrip()
            raise UserError(text + (f" (check ${TOKEN_ENV})" if status in (401, 403) else "")) from None
        except GraphError as exc:
            errors = exc.args[0] if exc.args else None
            first = errors[0] if isinstance(errors, list) and errors else errors
            said = first.get("message") if isinstance(first, dict) else first
            lines = mask(str(said), self._secrets).strip().splitlines()
            raise UserError(
                f"datahub: {self.where}: GraphQL error: {(lines[0] if lines else '?')[:300]}"
            ) from None
        except ValueError:  # requests' JSONDecodeError
            raise UserError(f"datahub: {self.where}: malformed response (not JSON)") from None
        except requests.RequestException as exc:
            raise UserError(f"datahub: {self.where}: cannot reach GMS: {connection_reason(exc)}") from None
        except (KeyError, TypeError, AttributeError):
            data = None
        if not isinstance(data, dict):
            raise UserError(f"datahub: {self.where}: malformed response (expected {{'data': {{...}}}})")
        return data

    def close(self) -> None:
        self.graph.close()


def degrees(depth: int) -> list[str]:
    """DataHub's ``degree`` filter values: it tells 1, 2 and "3+" apart (deeper results are cut here)."""
    return [str(d) for d in range(1, depth + 1)] if depth <= 2 else ["1", "2", "3+"]


def scroll(api: GraphQL, urn: str, direction: str, depth: int) -> list[dict[str, Any]]:
    """Every search result, all pages, each checked; raises before returning anything if one is malformed."""
    variables: dict[str, Any] = {
        "input": {
            "urn": urn,
            "direction": direction.upper(),
            "count": PAGE,
            "orFilters": [{"and": [{"field": "degree", "condition": "EQUAL", "values": degrees(depth)}]}],
        }
    }
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        data = api.query(QUERY, variables).get("scrollAcrossLineage")
        if not isinstance(data, dict) or not isinstance(data.get("searchResults"), list):
            raise UserError(
                f"datahub: {api.where}: malformed response (no scrollAcrossLineage.searchResults)"
            )
        for n, result in enumerate(data["searchResults"]):
            _check(result, f"searchResults[{n}]", api.where)
            if result["degree"] <= depth:
                results.append(result)
        after = data.get("nextScrollId")
        if not after:
            return results
        if after in seen:
            raise UserError(f"datahub: {api.where}: malformed response (nextScrollId {after!r} repeats)")
        seen.add(after)
        variables["input"]["scrollId"] = after
    raise UserError(f"datahub: {api.where}: more than {MAX_PAGES} pages of results; pull a smaller --depth")


def _check(result: Any, where: str, url: str) -> None:
    def bad(what: str) -> UserError:
        return UserError(f"datahub: {url}: malformed response ({where}: {what})")

    if not isinstance(result, dict) or not isinstance(result.get("degree"), int):
        raise bad("expected an object with an integer degree")
    if not _is_entity(result.get("entity")):
        raise bad("entity needs a urn and a type")
    paths = result.get("paths")
    if paths is None:
        return
    if not isinstance(paths, list):
        raise bad("paths is not a list")
    for path in paths:
        if not isinstance(path, dict) or not isinstance(path.get("path"), list):
            raise bad("each path needs a list `path`")
        if not all(_is_entity(e) for e in path["path"]):
            raise bad("every entity of a path needs a urn and a type")


def _is_entity(entity: Any) -> bool:
    return (
        isinstance(entity, dict)
        and isinstance(entity.get("urn"), str)
        and isinstance(entity.get("type"), str)
    )


class InvalidUrnError(ValueError):
    """acryl-datahub's urn parsing error (imported lazily with it)."""


def to_asset(urn: str) -> Asset | None:
    """A dataset or schema-field urn as a flowscope asset; None for other entities."""
    from datahub.metadata.urns import DatasetUrn, SchemaFieldUrn
    from datahub.utilities.urns.error import InvalidUrnError as DataHubUrnError
    from datahub.utilities.urns.field_paths import get_simple_field_path_from_v2_field_path

    try:
        if urn.startswith("urn:li:schemaField:"):
            f = SchemaFieldUrn.from_string(urn)
            parent = to_asset(f.parent)
            return (
                parent.with_field(get_simple_field_path_from_v2_field_path(f.field_path)) if parent else None
            )
        if urn.startswith("urn:li:dataset:"):
            d = DatasetUrn.from_string(urn)
            platform = d.platform.removeprefix("urn:li:dataPlatform:")
            env = "" if d.env == "PROD" else f"@{d.env}"
            return Asset(f"{platform}{env}", d.name)
    except DataHubUrnError as exc:
        raise InvalidUrnError(str(exc)) from None
    return None


def to_job(urn: str) -> Job:
    from datahub.metadata.urns import DataJobUrn
    from datahub.utilities.urns.error import InvalidUrnError as DataHubUrnError

    if not urn.startswith("urn:li:dataJob:"):
        return Job("datahub", urn)  # a Query entity: its urn is all there is
    try:
        j = DataJobUrn.from_string(urn)
    except DataHubUrnError as exc:
        raise InvalidUrnError(str(exc)) from None
    flow = j.get_data_flow_urn()
    return Job(f"{flow.orchestrator}://{flow.flow_id}", j.job_id)


def hops(path: Sequence[Mapping[str, Any]], downstream: bool) -> Iterator[tuple[str, str | None, str]]:
    """(source urn, job urn or None, target urn) for each hop between data entities of a path."""
    chain = list(path) if downstream else list(reversed(path))
    last: str | None = None
    job: str | None = None
    for entity in chain:
        kind = entity["type"]
        if kind in JOB_TYPES:
            job = entity["urn"]
        elif kind in DATA_TYPES:
            if last is not None:
                yield last, job, entity["urn"]
            last, job = entity["urn"], None


def check_start(urn: str, direction: str) -> None:
    if direction not in ("downstream", "upstream"):
        raise UserError(f"--direction: expected downstream or upstream, got {direction!r}")
    try:
        start = to_asset(urn) if not urn.startswith("urn:li:dataJob:") else to_job(urn)
    except InvalidUrnError:
        start = None
    if start is None:
        raise UserError(f"not a dataset, schemaField or dataJob urn: {urn}")


def pull(api: GraphQL, urn: str, direction: str = "downstream", depth: int = 3) -> list[Edge]:
    """The neighbourhood of ``urn`` in one direction as merged declared edges of the collector ``datahub``."""
    check_start(urn, direction)
    results = scroll(api, urn, direction, depth)
    down = direction == "downstream"
    found: list[tuple[str, str | None, str]] = []
    for result in results:
        paths = result.get("paths") or [{"path": [{"urn": urn, "type": _type_of(urn)}, result["entity"]]}]
        for path in paths:
            found.extend(hops(path["path"], down))
    try:
        return to_edges(found, Evidence(COLLECTOR, "declared", public_url(api.url), detail=(("urn", urn),)))
    except InvalidUrnError as exc:
        raise UserError(f"datahub: {api.where}: malformed response (bad urn: {exc})") from None


def to_edges(found: Iterable[tuple[str, str | None, str]], evidence: Evidence) -> list[Edge]:
    """(source urn, job urn or None, target urn) hops as merged declared edges; a hop without a job gets
    one named after its target dataset."""
    signals: list[tuple[str, Signal]] = []
    for hop in dict.fromkeys(found):
        source, target = to_asset(hop[0]), to_asset(hop[2])
        if source is None or target is None:
            continue
        job = to_job(hop[1]) if hop[1] else Job(target.namespace, f"{target.dataset.name} (datahub)")
        signals.append((COLLECTOR, Signal("declared", job, source, target, evidence=(evidence,))))
    return merge_signals(signals)


def _type_of(urn: str) -> str:
    for prefix, kind in (("urn:li:schemaField:", "SCHEMA_FIELD"), ("urn:li:dataset:", "DATASET")):
        if urn.startswith(prefix):
            return kind
    return "DATA_JOB"
