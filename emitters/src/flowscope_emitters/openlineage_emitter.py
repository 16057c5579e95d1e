"""Send flowscope's events through the OpenLineage Python client.

The config's ``openlineage:`` section is the client's own config (``transport``, ``facets``, ``filters``,
``tags``, ``dataset``), passed to ``OpenLineageClient(config=...)`` as is, so every transport the client
documents (console, file, http for Marquez, kafka, composite, ...) works with its documented keys, and
the client still merges ``OPENLINEAGE__...`` environment variables into it (that is where secrets go).
flowscope adds two conveniences: relative ``log_file_path`` values of file transports are resolved
against the config file's folder (whose parent folder is created), and failures become one-line
:class:`~flowscope.UserError` messages with secrets masked.
"""

from __future__ import annotations

import copy
import difflib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent
from openlineage.client.transport import get_default_factory

from flowscope.errors import UserError
from flowscope.events import event_to_dict
from flowscope_emitters import olconfig
from flowscope_emitters.client_spool import TO, Capture, as_dict, children_configs, target_of
from flowscope_emitters.delivery import Spool
from flowscope_emitters.failures import describe, mask, scrub, secrets_in

log = logging.getLogger(__name__)

SECTION = "openlineage"
KAFKA_HINT = "pip install flowscope-emitters[kafka]"
# Longest wait for buffered events (Kafka, async HTTP) when the scan closes its emitters.
CLOSE_TIMEOUT = 30.0
_KAFKA_TYPES = ("kafka", "msk_iam")


class OpenLineageEmitterFactory:
    """``kind = "openlineage"``: configured by the config's ``openlineage:`` section or, without one, the
    way the OpenLineage client configures itself (:mod:`flowscope_emitters.olconfig`).

    With ``spool_dir`` (the CLI passes the store folder of the running command), events a dead transport
    did not take are kept in ``<store>/spool`` for ``flowscope emit --replay`` instead of being lost."""

    kind = "openlineage"

    def __init__(self, spool_dir: Callable[[], Path] | None = None) -> None:
        self.spool_dir = spool_dir

    def from_config(self, config: Mapping[str, Any], base_dir: Path) -> OpenLineageEmitter | None:
        if olconfig.disabled():  # OPENLINEAGE_DISABLED=true: the client would send nothing
            return None
        if SECTION not in config:
            # No section: configured exactly as the client configures itself (OPENLINEAGE_URL,
            # OPENLINEAGE_CONFIG / openlineage.yml, OPENLINEAGE__TRANSPORT__...), or not at all.
            if not olconfig.configured():
                return None
            return self._build(None, base_dir, from_section=False)
        section = config[SECTION]
        if section is None:
            section = {}
        if not isinstance(section, Mapping):
            raise UserError(
                f"{SECTION}: expected a mapping (the OpenLineage client config), got {type(section).__name__}"
            )
        return self._build(copy.deepcopy(dict(section)), base_dir, from_section=True)

    def _build(
        self, client_config: dict[str, Any] | None, base_dir: Path, from_section: bool
    ) -> OpenLineageEmitter:
        """The client over ``client_config`` (the client's factory pops keys from what it is given: a copy)."""
        transport = (client_config or {}).get("transport")
        if transport is not None:
            _check_transport(transport, f"{SECTION}.transport")
            _resolve_files(transport, base_dir)
        # What the transport is built from (the section, the file, OPENLINEAGE__ variables, or
        # OPENLINEAGE_URL), before the client's factory pops keys from it: the spool names it, without
        # secrets, so that a replay can rebuild it.
        merged = olconfig.merged(copy.deepcopy(client_config))
        transport_config = _transport_config(merged)
        # Secrets may also come from the file and the environment, which the client merges in.
        env = {k: v for k, v in os.environ.items() if k.startswith("OPENLINEAGE")}
        secrets = secrets_in(merged) | secrets_in(env)
        try:
            with _guarded_logs(secrets):
                client = olconfig.FlowscopeClient(config=client_config)
        except UserError:
            raise
        except Exception as exc:
            if isinstance(exc, ModuleNotFoundError) and exc.name == "confluent_kafka":
                raise UserError(
                    f"{SECTION}: the kafka transport needs confluent-kafka: {KAFKA_HINT}"
                ) from None
            cause = f" ({exc.__cause__})" if exc.__cause__ is not None else ""
            reason = scrub(f"{exc}{cause}", secrets)
            where = SECTION if from_section else "OpenLineage client"
            raise UserError(f"{where}: cannot set up the OpenLineage client: {reason}") from None
        spool = None
        if self.spool_dir is not None and transport_config is not None:
            spool = Spool(self.spool_dir())
        return OpenLineageEmitter(client, secrets, spool, transport_config)


def _transport_config(merged: Mapping[str, Any]) -> dict[str, Any] | None:
    transport = merged.get("transport")
    if isinstance(transport, Mapping) and transport.get("type"):
        return dict(transport)
    if os.environ.get(olconfig.URL_ENV):
        # The client's step 5: a plain HTTP transport from OPENLINEAGE_URL (the key stays in the env).
        return {
            "type": "http",
            "url": os.environ[olconfig.URL_ENV],
            "endpoint": os.environ.get(olconfig.ENDPOINT_ENV, olconfig.DEFAULT_ENDPOINT),
        }
    return None


def _transports(transport: Mapping[str, Any], where: str) -> Iterator[tuple[Any, str]]:
    """The transport and, for composites, its children (a list, or a dict keyed by name)."""
    yield transport, where
    if transport.get("type") == "composite":
        children = transport.get("transports")
        items = children.items() if isinstance(children, Mapping) else enumerate(children or [])
        for key, child in items:
            if isinstance(child, Mapping):
                yield from _transports(child, f"{where}.transports.{key}")
            elif child is not None:
                raise UserError(f"{where}.transports.{key}: expected a mapping with a `type`")


def _check_transport(transport: object, where: str) -> None:
    if not isinstance(transport, Mapping):
        raise UserError(f"{where}: expected a mapping with a `type`, got {type(transport).__name__}")
    known = sorted(get_default_factory().transports)
    for t, at in _transports(transport, where):
        kind = t.get("type")
        if not kind:
            raise UserError(f"{at}: missing `type` (one of {', '.join(known)})")
        kind = str(kind)
        if kind not in known and "." not in kind:  # a dotted name is a custom transport class
            hint = difflib.get_close_matches(kind, known, n=1)
            more = f"did you mean {hint[0]!r}?" if hint else f"known: {', '.join(known)}"
            raise UserError(f"{at}: unknown transport type {kind!r} ({more})")
        if kind in _KAFKA_TYPES:
            try:
                import confluent_kafka  # noqa: F401
            except ImportError:
                raise UserError(f"{at}: the {kind} transport needs confluent-kafka: {KAFKA_HINT}") from None


def _resolve_files(transport: Mapping[str, Any], base_dir: Path) -> None:
    for t, _ in _transports(transport, SECTION):
        path = t.get("log_file_path")
        if t.get("type") != "file" or not isinstance(path, str) or "://" in path:
            continue  # remote (fsspec) and file:// URLs are used as given
        resolved = Path(path).expanduser()
        if not resolved.is_absolute():
            resolved = base_dir / resolved
        # If this fails, the transport reports the failed write, with the path, when it first writes.
        with suppress(OSError):
            resolved.parent.mkdir(parents=True, exist_ok=True)
        t["log_file_path"] = str(resolved)


class OpenLineageEmitter:
    """Forwards each event to the client. The first delivery failure raises a one-line UserError;
    later events are not attempted (a dead server would fail each of them after its retries)."""

    def __init__(
        self,
        client: OpenLineageClient,
        secrets: Iterable[str] = (),
        spool: Spool | None = None,
        transport_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.kind = str(client.transport.kind or type(client.transport).__name__)
        # The client's merged config: the section plus OPENLINEAGE__... variables, where secrets live.
        self._secrets = set(secrets) | secrets_in(client.config.transport)
        self._failure: UserError | None = None
        self._closed = False
        # Children of a composite that failed: dropped for the rest of the run (a dead server would make
        # every later event wait for its retries), with how many events each did not get.
        self._dropped: dict[str, int] = {}
        # Spool mode (flowscope scan): failures do not raise at once; what was not delivered is spooled at
        # close, per target (the transport, or a composite's dead child), as the transport would have got it.
        self._spool = spool
        self._pending: dict[str, list[Any]] = {}
        self._capture: Capture | None = None
        self._target = ""
        self._child_targets: dict[int, str] = {}
        self._dead_targets: dict[str, str] = {}  # dropped child's message -> its spool target
        if spool is not None and transport_config is not None:
            self._target = target_of(transport_config)
            self._capture = Capture(client.transport)
            configs = children_configs(transport_config)
            children = list(getattr(client.transport, "transports", []) or [])
            if configs is not None and len(configs) == len(children):
                self._child_targets = {
                    id(c): target_of(cfg) for c, cfg in zip(children, configs, strict=True)
                }

    def emit(self, event: RunEvent) -> None:
        if self._capture is not None:
            self._emit_spooling(event, self._capture)
            return
        if self._failure is not None:
            raise self._failure
        # The client adds facets to the event it sends; other emitters must see flowscope's event unchanged.
        event = copy.deepcopy(event)
        with _child_failures(self.client.transport) as partial, _guarded_logs(self._secrets) as logged:
            try:
                self.client.emit(event)
            except Exception as exc:
                self._fail(self._describe(exc, partial))
        for child, message in partial:
            text = self._scrub(message)
            log.warning("%s (the other transports delivered the event; no more events go there)", text)
            self._dropped[text] = 0
            with suppress(ValueError, AttributeError):
                getattr(self.client.transport, "transports", []).remove(child)
        for text in self._dropped:
            self._dropped[text] += 1
        self._check_logged(logged)

    def _emit_spooling(self, event: RunEvent, capture: Capture) -> None:
        event = copy.deepcopy(event)
        if capture.hold:  # the transport is dead: the client still shapes the event, the spool gets it
            with _guarded_logs(self._secrets):
                self.client.emit(event)
            self._keep(self._target, capture.take())
            return
        with _child_failures(self.client.transport) as partial, _guarded_logs(self._secrets) as logged:
            try:
                self.client.emit(event)
            except Exception as exc:
                self._failure = UserError(self._scrub(self._describe(exc, partial)))
                capture.hold = True
                sent = capture.take()
                self._keep(self._target, sent if sent is not None else event_to_dict_safe(event))
                return
        sent = capture.take()
        for child, message in partial:
            text = self._scrub(message)
            log.warning("%s (the other transports delivered the event; no more events go there)", text)
            self._dropped[text] = 0
            if id(child) in self._child_targets:
                self._dead_targets[text] = self._child_targets[id(child)]
            with suppress(ValueError, AttributeError):
                getattr(self.client.transport, "transports", []).remove(child)
        for text in self._dropped:
            self._dropped[text] += 1
            if text in self._dead_targets:
                self._keep(self._dead_targets[text], sent)
        if logged and self._failure is None:
            self._failure = UserError(
                self._scrub(f"openlineage kafka transport: delivery failed: {logged[0]}")
            )

    def _keep(self, target: str, event: Any | None) -> None:
        if event is not None:  # None: the client's filters dropped the event
            self._pending.setdefault(target, []).append(event)

    def _close_spooling(self, spool: Spool) -> None:
        with _guarded_logs(self._secrets) as logged:
            try:
                self.client.close(CLOSE_TIMEOUT)
            except Exception as exc:
                if self._failure is None:
                    self._failure = UserError(self._scrub(describe(exc, self.client.transport)))
        if logged and self._failure is None:
            self._failure = UserError(
                self._scrub(f"openlineage kafka transport: delivery failed: {logged[0]}")
            )
        kept = 0
        for target, events in self._pending.items():
            spool.add(TO, target, [as_dict(e) for e in events])
            kept += len(events)
        parts = [str(self._failure)] if self._failure is not None else []
        if self._dropped:
            lost = "; ".join(
                f"{text} ({n} event(s) not delivered there)" for text, n in self._dropped.items()
            )
            parts.append(
                f"openlineage composite transport: {lost}; the other transports delivered every event"
            )
        if kept:
            parts.append(f"{kept} event(s) kept in {spool.directory}; resend with `flowscope emit --replay`")
        if parts:
            raise UserError("; ".join(parts))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._spool is not None and self._capture is not None:
            self._close_spooling(self._spool)
            return
        with _guarded_logs(self._secrets) as logged:
            try:
                delivered = self.client.close(CLOSE_TIMEOUT)
            except Exception as exc:
                raise UserError(self._scrub(describe(exc, self.client.transport))) from None
        self._check_logged(logged)
        if self._dropped and self._failure is None:
            lost = "; ".join(
                f"{text} ({n} event(s) not delivered there)" for text, n in self._dropped.items()
            )
            raise UserError(
                f"openlineage composite transport: {lost}; the other transports delivered every event"
            )
        if not delivered and self._failure is None:
            raise UserError(
                f"openlineage {self.kind} transport: not every event was delivered within {CLOSE_TIMEOUT:g}s of closing"
            )

    def _describe(self, exc: Exception, partial: list[tuple[Any, str]]) -> str:
        if self.kind == "composite" and partial:
            config = getattr(self.client.transport, "config", None)
            messages = [m for _, m in partial]
            if getattr(config, "continue_on_failure", True):
                return f"openlineage composite transport: no transport delivered the event: {'; '.join(messages)}"
            return f"openlineage composite transport: stopped at the first failure: {messages[-1]}"
        return describe(exc, self.client.transport)

    def _scrub(self, message: str) -> str:
        return scrub(message, self._secrets)

    def _fail(self, message: str) -> None:
        self._failure = UserError(self._scrub(message))
        raise self._failure from None

    def _check_logged(self, logged: list[str]) -> None:
        """Kafka reports failed deliveries only through its callback, which the client logs."""
        if logged and self._failure is None:
            self._fail(f"openlineage kafka transport: delivery failed: {logged[0]}")


def event_to_dict_safe(event: Any) -> Any:
    return event_to_dict(event) if isinstance(event, RunEvent) else event


@contextmanager
def _child_failures(transport: Any) -> Iterator[list[tuple[Any, str]]]:
    """Record what each child of a composite transport raised: the composite only logs it, or raises a
    generic "none of the transports" error, and users need the actual cause."""
    failures: list[tuple[Any, str]] = []
    children = (
        list(getattr(transport, "transports", [])) if getattr(transport, "kind", None) == "composite" else []
    )
    patched: list[Any] = []
    for child in children:
        if "emit" in vars(child):  # already patched (or customised): leave it alone
            continue
        original = child.emit

        def wrapped(event: Any, _child: Any = child, _emit: Callable[..., Any] = original) -> Any:
            try:
                return _emit(event)
            except Exception as exc:
                failures.append((_child, describe(exc, _child)))
                raise

        patched.append(child)
        child.emit = wrapped
    try:
        yield failures
    finally:
        for child in patched:
            del child.emit  # drop the instance attribute: back to the class's method


# The client's loggers that may print transport errors (and with them URLs, headers or tokens).
_CLIENT_LOGGERS = tuple(
    f"openlineage.client.{name}"
    for name in ("client", "transport.composite", "transport.http", "transport.async_http", "transport.kafka")
)


class _Guard(logging.Filter):
    """While flowscope talks to the client: mask secrets in its log records, drop the composite's
    per-transport warnings (flowscope reports them itself, masked) and collect Kafka delivery errors."""

    def __init__(self, secrets: set[str], kafka_errors: list[str]) -> None:
        super().__init__()
        self.secrets = secrets
        self.kafka_errors = kafka_errors

    def filter(self, record: logging.LogRecord) -> bool:
        message = mask(record.getMessage(), self.secrets)
        if record.name.endswith(".composite") and "failed to emit event" in message:
            return False
        if record.name.endswith(".kafka") and record.levelno >= logging.ERROR:
            self.kafka_errors.append(message)
            return False
        record.msg, record.args = message, None
        return True


@contextmanager
def _guarded_logs(secrets: set[str]) -> Iterator[list[str]]:
    kafka_errors: list[str] = []
    guard = _Guard(secrets, kafka_errors)
    loggers = [logging.getLogger(name) for name in _CLIENT_LOGGERS]
    for logger in loggers:
        logger.addFilter(guard)
    try:
        yield kafka_errors
    finally:
        for logger in loggers:
            logger.removeFilter(guard)
