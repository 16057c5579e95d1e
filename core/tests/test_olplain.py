"""``flowscope.olplain.to_plain`` is the client's ``Serde.to_dict``, made in one walk."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime

import attr
from openlineage.client.serde import Serde

from flowscope.olplain import to_plain


class Color(enum.Enum):
    RED = "red"


@attr.define
class Leaf:
    a: object = None
    b: object = None


@attr.define
class Tree:
    name: str
    when: object
    items: object
    mapping: object
    leaf: Leaf
    _private: str = "kept"


def test_every_rule_of_serde() -> None:
    tree = Tree(
        name="t",
        when=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        items=[None, Leaf(), Leaf(a=1), Color.RED, (1, None, {}), {"x": None}, date(2026, 1, 2)],
        mapping={"empty": {}, "none": None, "leaf": Leaf(b=Color.RED), "ids": {uuid.UUID(int=5)}, 3: 4.5},
        leaf=Leaf(a=(Leaf(), frozenset({"z"})), b=True),
    )
    assert to_plain(tree) == Serde.to_dict(tree)
    items = to_plain(tree)["items"]
    assert items == [{"a": 1}, "red", [1], "2026-01-02"]  # None and {} dropped from lists
    assert to_plain(tree)["mapping"]["empty"] == {} and "none" not in to_plain(tree)["mapping"]


def test_plain_values_pass_through_as_serde_leaves_them() -> None:
    for value in ("s", 1, 2.5, True, None, [None, 1], {"k": None, "v": [{}]}):
        assert to_plain(value) == Serde.remove_nulls_and_enums(value)


def test_canonical_is_the_plain_form_stripped_of_meta_keys_in_one_walk() -> None:
    from flowscope.events import _strip_meta
    from flowscope.olplain import to_canonical

    tree = Tree(
        name="t",
        when=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        # a list item whose only key is a meta key is {} once stripped, yet kept: to_plain kept it
        items=[None, Leaf(), {"_producer": "p"}, {"schemaURL": "u", "k": 1}, Color.RED, (Leaf(a=2), None)],
        mapping={"_x": 1, "schemaURL": "u", "y": {"_z": 2, "w": [Leaf(b=1), {}]}, 3: Leaf()},
        leaf=Leaf(a={"_only": 1}, b=[{"_only": None}]),
    )
    for value in (tree, [tree, tree], {"a": tree}, "s", None, [None, {}], Color.RED):
        assert to_canonical(value) == _strip_meta(to_plain(value))
    assert to_canonical(tree)["items"][:2] == [{}, {"k": 1}]
