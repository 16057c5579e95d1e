"""Credentials in URLs are masked in text and dropped from names; ordinary output is left alone."""

from __future__ import annotations

import io

import pytest

from flowscope.merge import normalize_asset
from flowscope.model import Asset, Evidence
from flowscope.redact import RedactingStream, redact, redact_evidence, strip_url, url_without_credentials


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("http://alice:pw@host:5000/api", "http://***@host:5000/api"),
        ("error: postgres://bob@db:5432/x unknown", "error: postgres://***@db:5432/x unknown"),
        ("GET /api/v1/lineage?apikey=K3Y&x=1 HTTP/1.1", "GET /api/v1/lineage?apikey=***&x=1 HTTP/1.1"),
        ("https://h/hook?a=1&access_token=abc#frag", "https://h/hook?a=1&access_token=***#frag"),
        (
            "s3://b/k?X-Amz-Signature=ab12&X-Amz-Credential=AK/2024",
            "s3://b/k?X-Amz-Signature=***&X-Amz-Credential=***",
        ),
        ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer ***"),
        ("{'type': 'api_key', 'apiKey': 'sekrit'}", "{'type': 'api_key', 'apiKey': '***'}"),
    ],
)
def test_credentials_are_masked(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "kafka://broker:9092 mysql://db:3306/app.users#email",
        "INSERT INTO t SELECT a FROM b WHERE key = 1 AND token_count > 2",
        "mail alice@example.com about log://scribe/signups",
        "3 assets downstream of postgres://db:5432/app.users (depth 10, min confidence 0)",
        "password  VARCHAR    users.password_hash",
    ],
)
def test_ordinary_output_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_names_lose_their_credentials() -> None:
    assert strip_url("postgres://bob:pw@db:5432") == "postgres://db:5432"
    a = normalize_asset(Asset("POSTGRES://bob:pw@DB:5432", "app.users", "email"))
    assert a == normalize_asset(Asset("postgres://db:5432", "app.users", "email")), "one asset either way"
    assert normalize_asset(Asset("https://api.x.com", "/hook?token=T")).name == "/hook?token=***"


def test_spool_targets_drop_credentials() -> None:
    url = "http://carol:pw@127.0.0.1:5000/base?access_token=T&tenant=a"
    assert url_without_credentials(url) == "http://127.0.0.1:5000/base?tenant=a"


def test_evidence_snippets_are_masked_and_untouched_ones_kept() -> None:
    ev = Evidence("static", "static", "app.py:3", 'engine = create_engine("postgresql://u:pw@db/app")')
    assert redact_evidence(ev).snippet == 'engine = create_engine("postgresql://***@db/app")'
    plain = Evidence("static", "static", "app.py:4", "x = request.form['email']")
    assert redact_evidence(plain) is plain


def test_the_stream_masks_writes_and_refuses_bytes() -> None:
    buf = io.StringIO()
    stream = RedactingStream(buf)
    stream.write("to http://u:p@h/ now\n")
    assert buf.getvalue() == "to http://***@h/ now\n"
    with pytest.raises(TypeError):
        stream.write(b"x")  # type: ignore[arg-type]
