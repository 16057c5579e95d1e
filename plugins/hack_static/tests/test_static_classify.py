"""The data-element classifier: names in any case style to fideslang categories, with exclusions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowscope.cli import build_app
from flowscope.plugins import make_manager
from flowscope_hack_static.classify import CATEGORIES, classify, technical


@pytest.mark.parametrize(
    ("name", "qualifier", "category"),
    [
        ("email", "", "user.contact.email"),
        ("customerEmail", "", "user.contact.email"),
        ("getValueOfEmail", "", "user.contact.email"),
        ("phone_number", "", "user.contact.phone_number"),
        ("date_of_birth", "", "user.demographic.date_of_birth"),
        ("m_homeCity", "", "user.contact.address.city"),
        ("ip_address", "", "user.device.ip_address"),
        ("device_token", "", "user.device.device_id"),
        ("legal_name", "", "user.name"),
        ("password_hash", "", "user.authorization.credentials"),
        ("name", "user", "user.name"),
        ("id", "current_user", "user.unique_id"),
        ("latitude", "", "user.location.precise"),
        # exclusions: about something else, constants, ambiguous words on no person
        ("email_template", "", None),
        ("phone_prefix", "", None),
        ("email_enabled", "", None),
        ("DEFAULT_FROM_EMAIL", "", None),
        ("name", "product", None),
        ("id", "", None),
        ("title", "", None),
        # names of things, not people: plural ``names`` is personal only on a person
        ("pk_names", "", None),
        ("middlewareNames", "", None),
        ("csp_file_names", "", None),
        ("user_names", "", "user.name"),
        ("names", "customer", "user.name"),
        # anti-forgery tokens and an application's own secrets are no one's credentials
        ("integration_csrf_token", "", None),
        ("xsrf_token", "", None),
        ("client_secret", "", None),
        ("slack_client_secret", "", None),
        ("access_token", "", "user.authorization.credentials"),
        ("api_key", "", "user.authorization.credentials"),
        # store credit, settings and flags about personal data are not the data
        ("gift_card", "", None),
        ("gift_card_payment_gateway_id", "", None),
        ("card_number", "", "user.financial.credit_card"),
        ("country_tax_configuration", "", None),
        ("draft_save_billing_address", "", None),
        ("saved_address", "", "user.contact.address"),
        ("gift_recipient_email", "", "user.contact.email"),
    ],
)
def test_names_are_classified_by_their_words(name: str, qualifier: str, category: str | None) -> None:
    assert classify(name, qualifier) == category


def test_request_fields_about_the_request_are_technical() -> None:
    assert technical("page") and technical("csrf_token") and technical("per_page")
    assert not technical("email") and not technical("comment")


def test_categories_are_fideslang_names() -> None:
    taxonomy = pytest.importorskip("fideslang.default_taxonomy", reason="fideslang not installed")
    keys = {c.fides_key for c in taxonomy.DEFAULT_TAXONOMY.data_category}
    assert set(CATEGORIES) <= keys


def test_every_signal_carries_its_category_and_fields_are_tagged(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import logging\nfrom flask import request\nlog = logging.getLogger('signup')\n\n"
        "def notify(user, page):\n    log.info('user %s', user.email)\n    log.info('page %s', page)\n\n"
        "def search():\n    log.info('q %s', request.args.get('page'))\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    app = build_app(make_manager())
    out = runner.invoke(app, ["static", "scan", str(tmp_path), "--json", "--no-cache"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    [edge] = data["edges"]  # page is no personal data, request.args['page'] is about the request
    assert edge["source"] == "datasetField:code://default:app.py:email"
    assert edge["data_categories"] == ["user.contact.email"]
