"""DataHub GMS as a delivery target: each OpenLineage event's proposals in one batch through acryl-datahub's
``DatahubRestEmitter``, failures classified for :func:`flowscope_emitters.delivery.deliver` (so a dead GMS
spools what it did not take, and ``flowscope emit --replay`` converts and resends it).

The emitter's own urllib3 retries are turned off: retries, backoff and the spool are delivery's job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flowscope.errors import UserError
from flowscope_emitters.datahub_convert import convert, require_datahub
from flowscope_emitters.delivery import REFUSED, Rejected, Transient, http_failure
from flowscope_emitters.failures import connection_reason, mask, public_url

TOKEN_ENV = "DATAHUB_GMS_TOKEN"


class DataHubSender:
    """Sends the proposals of one event per call to GMS (``/aspects?action=ingestProposalBatch``)."""

    to = "datahub"

    def __init__(self, url: str, timeout: float = 5.0, token: str | None = None, naming: Any = None) -> None:
        require_datahub()
        from flowscope_emitters.datahub_names import Naming

        self.naming = naming if naming is not None else Naming()
        from datahub.emitter.rest_emitter import DatahubRestEmitter

        self.target = url
        self.where = public_url(url)
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        self._secrets = {token} if token else set()
        try:
            self.emitter = DatahubRestEmitter(
                url,
                token=token,
                timeout_sec=timeout,
                retry_max_times=0,
                retry_status_codes=[],
                openapi_ingestion=False,
            )
        except Exception as exc:
            raise UserError(f"datahub {self.where}: {self._clean(str(exc))}") from None

    def send(self, event: Mapping[str, Any]) -> None:
        self.send_mcps(convert(event, self.naming))

    def send_mcps(self, mcps: list[Any]) -> None:
        import requests
        from datahub.configuration.common import OperationalError

        if not mcps:
            return
        try:
            self.emitter.emit_mcps(mcps)
        except OperationalError as exc:
            cause = exc.__cause__
            response = getattr(cause, "response", None)
            if isinstance(cause, requests.HTTPError) and response is not None:
                status = response.status_code
                said = (exc.info or {}).get("message") if isinstance(exc.info, dict) else None
                text = f"datahub {self.where} answered HTTP {status} {response.reason or ''}".rstrip()
                if status in REFUSED:
                    text += f" (check ${TOKEN_ENV})" if status in (401, 403) else " (is this DataHub GMS?)"
                elif said:
                    text += f": {self._clean(str(said))}"
                raise http_failure(status, text) from None
            if isinstance(cause, requests.RequestException):
                raise Transient(
                    f"datahub {self.where}: cannot reach GMS: {connection_reason(cause)}"
                ) from None
            raise Rejected(f"datahub {self.where}: {self._clean(str(exc))}") from None

    def _clean(self, text: str) -> str:
        lines = mask(text, self._secrets).strip().splitlines()
        return (lines[0] if lines else "")[:300]

    def close(self) -> None:
        self.emitter.close()
