"""One-line failure messages and secret masking, tested directly."""

from __future__ import annotations

from flowscope_emitters.failures import mask, public_url, scrub, secrets_in


def test_secrets_are_values_under_credential_like_keys_and_url_tokens() -> None:
    config = {
        "type": "http",
        "url": "https://bot:pa55word@marquez.example.com/?api_token=tok123",
        "endpoint": "api/v1/lineage",
        "auth": {"type": "api_key", "apiKey": "k-123456"},
        "custom_headers": {"X-Tenant": "acme-corp"},
        "transports": [
            {"type": "kafka", "config": {"sasl.password": "kafkapw", "bootstrap.servers": "k:9092"}}
        ],
    }
    assert secrets_in(config) == {"bot:pa55word", "tok123", "api_key", "k-123456", "acme-corp", "kafkapw"}


def test_scrub_masks_and_keeps_one_line() -> None:
    text = "failed for https://u:p@host/x with key k-123456\nTraceback ..."
    assert scrub(text, {"k-123456"}) == "failed for https://***@host/x with key ***"
    assert mask("a\nb k-123456", {"k-123456"}) == "a\nb ***"
    assert scrub("", set()) == ""


def test_public_url_drops_userinfo_query_and_fragment() -> None:
    assert (
        public_url("https://u:p@marquez:5000/api/v1/lineage?token=x#f")
        == "https://marquez:5000/api/v1/lineage"
    )
