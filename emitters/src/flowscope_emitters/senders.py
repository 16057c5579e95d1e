"""Senders for :func:`flowscope_emitters.delivery.deliver`: one event at a time, failures classified.

The HTTP sender is openlineage-python's own ``HttpTransport`` (so auth, compression and TLS options work as
the client documents them) with the transport's urllib3 retries turned off: retrying, backoff and the
spool are :mod:`flowscope_emitters.delivery`'s job, and doing both would multiply the waits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openlineage.client.transport.http import HttpConfig, HttpTransport

from flowscope import private
from flowscope.errors import UserError
from flowscope_emitters import olconfig
from flowscope_emitters.delivery import Transient, http_failure
from flowscope_emitters.failures import describe_http, mask

API_KEY_ENV = "OPENLINEAGE_API_KEY"  # the client's own variable for a plain HTTP transport


class HttpSender:
    """POSTs each event to ``<url>/api/v1/lineage`` (Marquez's endpoint) through the client's transport."""

    to = "marquez"

    def __init__(
        self, url: str, timeout: float = 5.0, api_key: str | None = None, endpoint: str | None = None
    ) -> None:
        self.target = url
        # The key as the client finds it: OPENLINEAGE__TRANSPORT__AUTH__API_KEY (or the client's config
        # file), else OPENLINEAGE_API_KEY. It goes into the Authorization header and nowhere else.
        key = api_key if api_key is not None else olconfig.api_key()
        self._secrets = {key} if key else set()
        params: dict[str, Any] = {
            "url": url,
            "endpoint": endpoint or olconfig.http_target()[1],  # OPENLINEAGE_ENDPOINT, else Marquez's
            "timeout": timeout,
            "retry": {"total": 0, "connect": 0, "read": 0, "status": 0, "other": 0},
        }
        if key:
            params["auth"] = {"type": "api_key", "apiKey": key}
        try:
            self.transport = HttpTransport(HttpConfig.from_dict(params))
        except Exception as exc:
            raise UserError(f"--to {self.to}: {mask(str(exc), self._secrets)}") from None

    def send(self, event: Mapping[str, Any]) -> None:
        import requests

        try:
            self.transport.emit(event)  # type: ignore[arg-type]  # the client serializes dicts as they are
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            reason = mask(describe_http(exc, self.transport), self._secrets)
            raise http_failure(status, reason) from None
        except requests.RequestException as exc:
            raise Transient(mask(describe_http(exc, self.transport), self._secrets)) from None

    def close(self) -> None:
        self.transport.close()


class FileSender:
    """Appends each event as one JSON line to a file; an OS error is transient (a full disk frees up)."""

    to = "file"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.target = str(self.path)
        self._file: Any = None

    def send(self, event: Mapping[str, Any]) -> None:
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = private.open_fd(self.path, os.O_WRONLY | os.O_APPEND)  # 0600, like -o
                self._file = os.fdopen(fd, "a", encoding="utf-8")
            self._file.write(json.dumps(event, separators=(",", ":")) + "\n")
        except OSError as exc:
            raise Transient(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
