"""URL credentials out of everything the probes write or log.

Services put secrets in URLs: ``https://user:password@host/``, ``?token=...``, ``?api_key=...``. The probes
never write captured values, but labels are built from configured names (``sql_namespace``, kafka
bootstrap servers, explicit ``sink("http://...")`` names) and warnings quote exceptions whose text may hold
a URL. :func:`strip_credentials` is applied to every spool record as it is serialized and to every message
the probes log: user info becomes ``***@`` and the value of a credential-like query parameter ``***``.
"""

from __future__ import annotations

import re

# scheme://user[:password]@  (user info never holds '/', '@', whitespace or quotes)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s\"'<>\\]+@")
# bare user:password@host (kafka bootstrap strings, DSN fragments without a scheme)
_BARE_USERINFO = re.compile(r"(?<![\w/.:@-])[\w.%~+-]+:[^/@\s\"'<>\\]+@(?=[\w.-]+(?::\d+)?\b)")
_SECRET_NAMES = (
    "token|access_token|refresh_token|id_token|auth|auth_token|apikey|api_key|api-key|key|secret|"
    "client_secret|password|passwd|pwd|pass|signature|sig|session|sessionid|credential|credentials"
)
_QUERY_SECRET = re.compile(rf"(?i)([?&;](?:{_SECRET_NAMES})=)[^&#\s\"'<>\\]*")


def strip_credentials(text: str) -> str:
    """``text`` with URL user info and credential-like query values replaced by ``***``."""
    if "@" in text:
        text = _USERINFO.sub(r"\1***@", text)
        text = _BARE_USERINFO.sub("***@", text)
    if "=" in text:
        text = _QUERY_SECRET.sub(r"\1***", text)
    return text
