"""Strength tests of the JSON Patch builder: the exact operations, not only the rebuilt document.

Each test was written against a mutant of ``_patch.py`` that the round-trip tests of ``test_patch.py``
let through (the document came out right from the wrong operations, or a branch was never reached).
"""

from __future__ import annotations

import json
from decimal import Decimal

import jsonpatch
from pydantic import BaseModel, ConfigDict

import fieldstream
from fieldstream.patch import PatchBuilder, apply_append, to_patches
from fieldstream.schema import SchemaStream

DOC = '{"a": 1, "b": "xy", "c": [true, {}]}'


def test_core_events_give_exactly_one_add_per_value_and_one_append_per_delta() -> None:
    assert to_patches(fieldstream.Parser().feed(DOC)) == [
        {"op": "add", "path": "", "value": {}},
        {"op": "add", "path": "/a", "value": 1},
        {"op": "add", "path": "/b", "value": ""},
        {"op": "append", "path": "/b", "value": "xy"},
        {"op": "add", "path": "/c", "value": []},
        {"op": "add", "path": "/c/0", "value": True},
        {"op": "add", "path": "/c/1", "value": {}},
    ]


def test_a_string_delta_without_its_start_adds_the_string_first() -> None:
    # a filtered stream (the string's ValueStart dropped): the builder starts the string itself
    events = [e for e in fieldstream.Parser().feed('{"b": "xy"}')
              if not (isinstance(e, fieldstream.ValueStart) and e.path == ("b",))]
    ops = PatchBuilder().feed(events)
    assert ops == [{"op": "add", "path": "", "value": {}}, {"op": "add", "path": "/b", "value": ""},
                   {"op": "append", "path": "/b", "value": "xy"}]


class Stripped(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    name: str


class Priced(BaseModel):
    price: Decimal


def test_a_validated_string_that_differs_from_the_streamed_text_is_replaced() -> None:
    s = SchemaStream(Stripped)
    ops = PatchBuilder().feed([*s.feed('{"name": "  tea  "}'), *s.close()])
    assert ops[-1] == {"op": "replace", "path": "/name", "value": "tea"}
    doc = None
    for op in ops:
        doc = apply_append(doc, op) if op["op"] == "append" else jsonpatch.apply_patch(doc, [op])
    assert doc == {"name": "tea"}


def test_a_validated_value_that_is_not_a_json_type_is_added_through_default() -> None:
    s = SchemaStream(Priced)
    ops = PatchBuilder().feed([*s.feed('{"price": 1.50}'), *s.close()])
    assert {"op": "add", "path": "/price", "value": "1.5"} in ops  # str(Decimal), the default default
    ops = PatchBuilder(default=float).feed([*SchemaStream(Priced).feed('{"price": 1.50}')])
    assert {"op": "add", "path": "/price", "value": 1.5} in ops


def test_apply_append_extends_a_string_inside_an_array() -> None:
    doc = {"a": ["x", "y"], "b": [["p"]]}
    assert apply_append(doc, {"op": "append", "path": "/a/1", "value": "z"})["a"] == ["x", "yz"]
    assert apply_append(doc, {"op": "append", "path": "/b/0/0", "value": "q"})["b"] == [["pq"]]
    assert apply_append("ab", {"op": "append", "path": "", "value": "c"}) == "abc"


class Counted(BaseModel):
    n: int


def test_a_string_validated_into_a_number_is_replaced_by_the_number() -> None:
    s = SchemaStream(Counted)
    ops = PatchBuilder().feed([*s.feed('{"n": "5"}'), *s.close()])
    assert ops[-1] == {"op": "replace", "path": "/n", "value": 5}


def test_keys_with_slash_and_tilde_are_escaped_and_apply_append_unescapes_them() -> None:
    # RFC 6901: "/" in a key is "~1", "~" is "~0"; apply_append must undo both to find the string
    text = '{"a/b": "x", "m~n": ["p", "q"], "~1": {"/": "z"}}'
    events = list(fieldstream.iter_events([text[i:i + 3] for i in range(0, len(text), 3)]))
    ops = to_patches(events)
    assert {"op": "append", "path": "/a~1b", "value": "x"} in ops
    doc = None
    for op in ops:
        doc = apply_append(doc, op) if op["op"] == "append" else jsonpatch.apply_patch(doc, [op])
    assert doc == json.loads(text)
    nested = apply_append({"~1": {"/": "z"}}, {"op": "append", "path": "/~01/~1", "value": "!"})
    assert nested == {"~1": {"/": "z!"}}
