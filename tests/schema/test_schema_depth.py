"""Deep documents: the schema layer never recurses on the input's depth; it stops at ``max_depth``
(Pydantic's JSON parser refuses about 200 levels) with ``SchemaError(kind="depth_limit")``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from fieldstream import StreamError
from fieldstream.schema import MAX_DEPTH, SchemaError, SchemaErrorKind, SchemaStream


class Tree(BaseModel):
    children: list[Tree] = []


class Holder(BaseModel):
    anything: Any = None
    items: list = []  # type: ignore[type-arg]
    table: dict = {}  # type: ignore[type-arg]


def deep_holder(depth: int, field: str) -> str:
    """A ``Holder`` document nested ``depth`` levels in total, the deep part in ``field``."""
    if field == "table":
        body = '{"k": ' * (depth - 1) + "0" + "}" * (depth - 1)
    else:
        body = "[" * (depth - 1) + "]" * (depth - 1)
    return f'{{"{field}": {body}}}'


def deep_tree(levels: int) -> str:
    """A Tree whose JSON nesting is ``2 * levels - 1`` (object, array, object, ...)."""
    return '{"children": [' * (levels - 1) + '{"children": []}' + "]}" * (levels - 1)


def feed_all(s: SchemaStream[Any], doc: str, step: int) -> None:
    for i in range(0, len(doc), step):
        s.feed(doc[i:i + step])
    s.close()


@pytest.mark.parametrize("field", ["anything", "items", "table"])
@pytest.mark.parametrize("step", [1, 7, 10**6])
def test_deepest_valid_document_validates_like_pydantic(field: str, step: int) -> None:
    doc = deep_holder(MAX_DEPTH, field)
    s = SchemaStream(Holder)
    feed_all(s, doc, step)
    assert s.value == Holder.model_validate_json(doc)  # Pydantic accepts this depth too
    assert s.partial == s.value
    assert s.partial_dict == json.loads(doc)


@pytest.mark.parametrize("field", ["anything", "items", "table"])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 977, 1024])
def test_deeper_documents_fail_with_depth_limit_not_recursion_error(field: str, depth: int) -> None:
    doc = deep_holder(depth, field)
    s = SchemaStream(Holder, fail_fast=False)  # a structural stop: fail_fast does not matter
    with pytest.raises(SchemaError) as info:
        feed_all(s, doc, 64)
    assert info.value.kind is SchemaErrorKind.DEPTH_LIMIT
    assert len(info.value.path) == MAX_DEPTH  # the first container too deep
    with pytest.raises(SchemaError) as closed:
        s.feed("]")
    assert closed.value.kind is SchemaErrorKind.CLOSED
    if depth > 201:  # Pydantic itself refuses such a document (its JSON parser's recursion limit)
        with pytest.raises(ValidationError):
            Holder.model_validate_json(doc)


def test_recursive_model_at_the_limit_and_beyond() -> None:
    levels = (MAX_DEPTH + 1) // 2  # 199 JSON levels
    doc = deep_tree(levels)
    s = SchemaStream(Tree)
    feed_all(s, doc, 5)
    assert s.value == Tree.model_validate_json(doc)
    too_deep = deep_tree(490)  # 979 levels, below the parser's own limit of 1024
    with pytest.raises(SchemaError) as info:
        feed_all(SchemaStream(Tree), too_deep, 4096)
    assert info.value.kind is SchemaErrorKind.DEPTH_LIMIT


def test_max_depth_is_configurable_and_the_parser_limit_still_applies() -> None:
    doc = deep_holder(12, "items")
    with pytest.raises(SchemaError) as info:
        feed_all(SchemaStream(Holder, max_depth=10), doc, 3)
    assert info.value.kind is SchemaErrorKind.DEPTH_LIMIT and len(info.value.path) == 10
    s = SchemaStream(Holder, max_depth=12)
    feed_all(s, doc, 3)
    assert s.value == Holder.model_validate_json(doc)
    with pytest.raises(StreamError) as core:  # the parser stops at its own limit (1024) first
        SchemaStream(Holder, max_depth=2000).feed(deep_holder(1100, "items"))
    assert core.value.kind.value == "depth_limit"
