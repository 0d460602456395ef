"""JSON Patch output: applying the ops with the `jsonpatch` package rebuilds the document."""

from __future__ import annotations

import itertools
import json
from typing import Any

import jsonpatch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import fieldstream
from fieldstream.patch import PatchBuilder, apply_append
from fieldstream.schema import SchemaStream

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=15,
)


def apply(doc: Any, ops: list[dict[str, Any]]) -> Any:
    for op in ops:
        if op["op"] == "append":
            doc = apply_append(doc, op)
        else:
            doc = jsonpatch.apply_patch(doc, [op], in_place=True)
    return doc


def rebuild(chunks: list[str], strict: bool) -> tuple[Any, list[dict[str, Any]]]:
    p = fieldstream.Parser()
    b = PatchBuilder(strict=strict)
    doc: Any = None
    all_ops: list[dict[str, Any]] = []
    for c in chunks:
        ops = b.feed(p.feed(c))
        all_ops.extend(ops)
        doc = apply(doc, ops)
    ops = b.feed(p.close())
    all_ops.extend(ops)
    return apply(doc, ops), all_ops


@settings(max_examples=100, deadline=None)
@given(json_values, st.lists(st.integers(0, 10**6), max_size=10), st.booleans())
def test_patches_rebuild_the_document_for_every_chunking(value: Any, cuts: list[int], strict: bool) -> None:
    text = json.dumps(value, ensure_ascii=False)
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    doc, ops = rebuild([text[a:b] for a, b in itertools.pairwise(bounds)], strict)
    assert doc == json.loads(text)
    if strict:
        assert {op["op"] for op in ops} <= {"add", "replace"}


def test_string_deltas_become_append_ops_or_replace_in_strict_mode() -> None:
    text = '{"a": "hello world"}'
    _, ops = rebuild([text[:10], text[10:15], text[15:]], strict=False)
    assert [op for op in ops if op["op"] == "append"] == [
        {"op": "append", "path": "/a", "value": "hel"}, {"op": "append", "path": "/a", "value": "lo wo"},
        {"op": "append", "path": "/a", "value": "rld"}]
    _, ops = rebuild([text[:10], text[10:15], text[15:]], strict=True)
    assert [op["value"] for op in ops if op["op"] == "replace"] == ["hel", "hello wo", "hello world"]


class Item(BaseModel):
    name: str
    qty: int


class Order(BaseModel):
    customer: str
    items: list[Item]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10**6), max_size=10), st.booleans())
def test_schema_events_rebuild_the_document(cuts: list[int], strict: bool) -> None:
    text = Order(customer="Ann \u00e9", items=[Item(name="tea", qty=2), Item(name="cup", qty=1)]) \
        .model_dump_json()
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    s = SchemaStream(Order)
    b = PatchBuilder(strict=strict)
    doc: Any = None
    for a, z in itertools.pairwise(bounds):
        doc = apply(doc, b.feed(s.feed(text[a:z])))
    s.close()
    assert doc == json.loads(text)
