"""SQLAlchemy, Django ORM and Kafka producer sinks from the built-in Python pack."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowscope.contracts import CollectContext
from flowscope.errors import UserError
from flowscope.model import AssetInfo, Signal
from flowscope_hack_static.collector import HackStaticCollector, Settings
from flowscope_hack_static.packs import load_models

MODELS = """from django.db import models


class Review(models.Model):
    text = models.TextField()
"""

VIEWS = """from flask import request
from kafka import KafkaProducer
from shop.models import Review

kp = KafkaProducer(bootstrap_servers="k:9092")


def post(session, storage):
    text = request.form["text"]
    Review(text=text).save()
    Review.objects.filter(id=1).update(text=text)
    session.add(Unknown(body=text))
    storage.open(text).save(text)
    kp.send("reviews", value=text)
"""


def scan(root: Path, **kw: object) -> tuple[set[tuple[str, str]], list[AssetInfo]]:
    settings = Settings(cache_dir=str(root.parent / "cache"), **kw)  # type: ignore[arg-type]
    ctx = CollectContext(collector="hack_static", settings=settings, base_dir=root)
    out = list(HackStaticCollector().collect(ctx))
    flows = {(str(o.source), str(o.target)) for o in out if isinstance(o, Signal)}
    return flows, [o for o in out if isinstance(o, AssetInfo)]


def test_django_sqlalchemy_and_kafka_writes(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "models.py").write_text(MODELS, encoding="utf-8")
    (root / "shop" / "views.py").write_text(VIEWS, encoding="utf-8")
    src = "service://python-app/request#text"
    expected = {
        (src, "postgres://default:5432/shop_review#text"),  # Django's default app_model table name
        (src, "postgres://default:5432/unresolved:Unknown#body"),  # an ORM write, its model not in the scan
        (src, "kafka://k:9092/reviews#text"),  # the producer's bootstrap_servers name the cluster
    }
    for _ in range(2):  # the second scan reads the cache: table names come from the cached entries
        flows, infos = scan(root)
        assert flows == expected, "storage.open(...).save() is no model's save: no flow"
        unresolved = [str(i.asset) for i in infos if "unresolved" in i.tags]
        assert unresolved == ["postgres://default:5432/unresolved:Unknown"]
        tagged = {str(i.asset): i.tags for i in infos if "unresolved" not in i.tags}
        assert tagged[src] == ("data_category:user.content",)  # a form field whose name says nothing


def test_an_unknown_orm_form_in_a_pack_is_an_error_with_its_line(tmp_path: Path) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text(
        "name: bad\nsinks:\n  - {call: '*.persist', kind: table, orm: instance}\n", encoding="utf-8"
    )
    with pytest.raises(UserError, match=r"bad.yaml:3: sinks\[0\].orm: unknown ORM form"):
        load_models([pack])


def test_django_meta_app_label_names_the_default_table(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "shop").mkdir(parents=True)
    labeled = MODELS + '\n    class Meta:\n        app_label = "store"\n'
    (root / "shop" / "models.py").write_text(labeled, encoding="utf-8")
    (root / "shop" / "views.py").write_text(VIEWS, encoding="utf-8")
    flows, _ = scan(root, cache=False)
    assert ("service://python-app/request#text", "postgres://default:5432/store_review#text") in flows


def test_kafka_topics_are_named_by_the_producers_first_bootstrap_server(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    (root / "events.py").write_text(
        "from confluent_kafka import Producer\nfrom flask import request\nfrom kafka import KafkaProducer\n\n\n"
        "def publish(settings):\n"
        '    local = KafkaProducer(bootstrap_servers=["b1:9092", "b2:9092"])\n'
        '    local.send("signups", value=request.form["email"])\n'
        "    other = KafkaProducer(bootstrap_servers=settings.servers)\n"
        '    other.send("audit", value=request.form["email"])\n'
        '    conf = Producer({"bootstrap.servers": "c1,c2:9093"})\n'
        '    conf.produce("clicks", request.form["email"])\n',
        encoding="utf-8",
    )
    flows, _ = scan(root, cache=False)
    assert flows == {
        ("service://python-app/request#email", "kafka://b1:9092/signups#email"),
        ("service://python-app/request#email", "kafka://default/audit#email"),  # not a literal: the default
        ("service://python-app/request#email", "kafka://c1:9092/clicks#email"),  # the default port
    }
