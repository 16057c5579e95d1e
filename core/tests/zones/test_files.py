"""Zone and review files: every bad input is one error naming the file, the line and the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from flowscope.errors import UserError
from flowscope.store import Store
from flowscope.zones import Workspace, apply_review, load_zone, zone_status
from flowscope.zones.review import Decision, Review, dump_review, load_review

from .conftest import S_EMAIL, ZONE

Estate = tuple[Store, Callable[[], Workspace], Path]


def zone_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "z.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("owner: privacy@example.com", "ownr: x"),
            r"^z.yaml:3: ownr: unknown key \(did you mean owner\?\)$",
        ),
        (
            ("  min_confidence: 0.5", "  min_confidence: high"),
            r"^z.yaml:10: discovery.min_confidence: expected float, got 'high'$",
        ),
        (
            ("  min_confidence: 0.5", "  min_confidence: 1.5"),
            r"^z.yaml:10: discovery.min_confidence: expected a number from 0 to 1",
        ),
        (
            ("[user.contact.email]", "[user.contact.emial]"),
            r"^z.yaml:4: data_categories\[0\]: unknown data category 'user.contact.emial' in fideslang's default taxonomy \(did you mean user.contact.email ",
        ),
        (
            ("denied: [marketing.advertising]", "denied: [marketing.adverts]"),
            r"^z.yaml:8: denied\[0\]: unknown data use 'marketing.adverts'",
        ),
        (
            ("allowed: [essential.service]", "allowed: [marketing.advertising]"),
            r"^z.yaml:8: denied\[0\]: 'marketing.advertising' is both allowed and denied$",
        ),
        (
            ("  - app.users#email", "  - 'a#b#c'"),
            r"^z.yaml:6: sources\[0\]: bad asset pattern 'a#b#c': more than one '#'$",
        ),
        (
            ("  - app.users#email", "  - {color: red}"),
            r"^z.yaml:6: sources\[0\]: a source is an asset, a glob, \{tag: NAME\} or \{data_category: NAME\}$",
        ),
        (
            ("  - app.users#email", "  - data_category: user.nope"),
            r"^z.yaml:6: sources\[0\].data_category: unknown data category 'user.nope'",
        ),
        (("name: email", "name: Email Zone"), r"^z.yaml:1: name: zone names are lower-case"),
        (
            ("sources:\n  - app.users#email\n", "sources: []\n"),
            r"^z.yaml:5: sources: a zone needs at least one source$",
        ),
        (
            ("  min_confidence: 0.5", "  min_confidence: 0.5\n  kinds: [sqll]"),
            r"^z.yaml:11: discovery.kinds\[0\]: unknown evidence kind 'sqll'",
        ),
    ],
)
def test_bad_zone_files_name_file_line_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: tuple[str, str], expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert change[0] in ZONE
    with pytest.raises(UserError, match=expected):
        load_zone(zone_file(tmp_path, ZONE.replace(change[0], change[1])))


def test_zone_file_that_is_not_yaml_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bin.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(UserError, match=r"^bin.yaml: not UTF-8 text"):
        load_zone(tmp_path / "bin.yaml")
    with pytest.raises(UserError, match=r"^z.yaml:3: invalid YAML"):
        load_zone(zone_file(tmp_path, "name: x\nsources: [a\n"))
    with pytest.raises(UserError, match=r"^z.yaml:1: a zone file is a mapping"):
        load_zone(zone_file(tmp_path, "- just a list\n"))


def test_a_source_matching_nothing_names_its_line(estate: Estate) -> None:
    store, ws, root = estate
    sources = "  - app.users#email\n  - tag: no_such_tag\n"
    (root / "zones" / "email.yaml").write_text(
        ZONE.replace("  - app.users#email\n", sources), encoding="utf-8"
    )
    w = ws()
    with pytest.raises(
        UserError,
        match=r"^zones/email.yaml:7: sources\[1\].tag: the tag 'no_such_tag' matches no asset in the store$",
    ):
        zone_status(store, w, w.zone("email"))
    (root / "zones" / "email.yaml").write_text(
        ZONE.replace("app.users#email", "app.userz#email"), encoding="utf-8"
    )
    w = ws()
    with pytest.raises(
        UserError, match=r"^zones/email.yaml:6: sources\[0\]: unknown asset 'app.userz#email'"
    ):
        zone_status(store, w, w.zone("email"))


def review_text(body: str) -> str:
    return "zone: email\ndecisions:\n" + body


DECISION = "  {id}:\n    decision: {d}\n    by: ann\n    at: '2024-06-01T00:00:00Z'\n    reason: copy\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            DECISION.format(id=S_EMAIL.id, d="include") * 2,
            r"^zones/email.review.yaml:8: decisions.datasetField:hive://wh:9083:staging.users:email: two decisions for one asset \(first on line 3\)$",
        ),
        (
            DECISION.format(id=S_EMAIL.id, d="maybe"),
            r"^zones/email.review.yaml:4: decisions.datasetField:hive://wh:9083:staging.users:email.decision: expected one of include, exclude, acknowledge, got 'maybe'$",
        ),
        (
            DECISION.format(id=S_EMAIL.id, d="include").replace("    by: ann\n", ""),
            r"^zones/email.review.yaml:3: decisions.datasetField:hive://wh:9083:staging.users:email: missing required key 'by'$",
        ),
        (
            DECISION.format(id=S_EMAIL.id, d="include") + "    colour: red\n",
            r"^zones/email.review.yaml:8: decisions.datasetField:.*colour: unknown key",
        ),
        (
            DECISION.format(id="staging.users#email", d="include"),
            r"^zones/email.review.yaml:3: decisions.staging.users#email: decisions are keyed by asset id",
        ),
        (
            DECISION.format(id=S_EMAIL.id, d="include")
            .replace("[", "")
            .replace("reason: copy", "reason: [copy"),
            r"^zones/email.review.yaml:8: invalid YAML",
        ),
    ],
)
def test_bad_review_files_name_file_line_and_key_and_spare_other_zones(
    estate: Estate, body: str, expected: str
) -> None:
    store, ws, root = estate
    (root / "zones" / "other.yaml").write_text(ZONE.replace("name: email", "name: other"), encoding="utf-8")
    (root / "zones" / "email.review.yaml").write_text(review_text(body), encoding="utf-8")
    w = ws()
    with pytest.raises(UserError, match=expected):
        zone_status(store, w, w.zone("email"))
    with pytest.raises(UserError, match=expected):  # and nothing is written over it
        apply_review(store, w, w.zone("email"), "include", [S_EMAIL], reason="r", by="b")
    assert zone_status(store, w, w.zone("other")).counts()["violation"] == 1  # the other zone is fine


def test_review_files_are_sorted_one_block_per_asset_and_round_trip(tmp_path: Path) -> None:
    decisions = {
        i: Decision(i, "include", "ann", "2024-06-01T00:00:00Z", "why: a reason", "abc", ("sql",))
        for i in ["datasetField:z://n:b:f", "dataset:a://n:x"]
    }
    review = Review(tmp_path / "z.review.yaml", "z", decisions)
    text = dump_review(review)
    assert text.index("dataset:a://n:x") < text.index("datasetField:z://n:b:f")
    review.path.write_text(text, encoding="utf-8")
    assert load_review(review.path, "z").decisions == decisions
    with pytest.raises(
        UserError, match=r"z.review.yaml:\d+: zone: this review file is for zone 'z', not 'y'"
    ):
        load_review(review.path, "y")


def test_two_zone_files_with_one_name_and_a_broken_zone_file_spare_the_others(estate: Estate) -> None:
    store, ws, root = estate
    (root / "zones" / "copy.yaml").write_text(ZONE, encoding="utf-8")
    (root / "zones" / "broken.yaml").write_text("name: broken\nsources: [\n", encoding="utf-8")
    w = ws()
    assert list(w.zones) == ["email"]
    errors = sorted(str(e) for e in w.broken.values())
    assert errors[0].startswith("zones/broken.yaml:3: invalid YAML")
    assert errors[1] == "zones/email.yaml: name: zone 'email' is already defined in zones/copy.yaml"
    with pytest.raises(UserError, match="invalid YAML"):
        w.zone("broken")
    assert zone_status(store, w, w.zone("email")).zone.name == "email"


def test_export_tags_leave_out_a_broken_zone_and_keep_the_others(estate: Estate) -> None:
    from flowscope.zones.export import zone_tags

    store, ws, root = estate
    bad = ZONE.replace("name: email", "name: ghost").replace("app.users#email", "app.nothing#email")
    (root / "zones" / "ghost.yaml").write_text(bad, encoding="utf-8")
    (root / "zones" / "worse.yaml").write_text("name: worse\nsources: [\n", encoding="utf-8")
    apply_review(store, ws(), ws().zone("email"), "include", [S_EMAIL], reason="copy", by="ann")
    infos, problems = zone_tags(store, ws())
    assert any(p.startswith("zones/ghost.yaml:6: sources[0]: unknown asset") for p in problems)
    assert any(p.startswith("zones/worse.yaml:3: invalid YAML") for p in problems)
    tags = {i.asset: i.tags for i in infos}
    assert tags[S_EMAIL] == ("zone:email", "data_category:user.contact.email")
    assert len(tags) == 2  # the source and the included copy


def test_config_purposes_with_unknown_uses_name_the_config_line(estate: Estate) -> None:
    _, ws, root = estate
    (root / "flowscope.yaml").write_text("purposes:\n  ads_model: marketing.ads\n", encoding="utf-8")
    with pytest.raises(
        UserError,
        match=r"^flowscope.yaml:2: purposes.ads_model: unknown data use 'marketing.ads' in fideslang",
    ):
        ws()
