"""``SchemaStream(Item, multiple=True)``: JSON Lines item streaming, each document validated.

Oracle: Pydantic's ``model_validate_json`` of each line; the events of each document must be those
of a single-document ``SchemaStream`` on that line, followed by ``DocumentDone(index, item)``.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from fieldstream import DocumentDone, FieldDone, FieldInvalid
from fieldstream.schema import SchemaError, SchemaStream
from support.core import chunkings


class Item(BaseModel):
    name: str
    qty: int = Field(ge=0)
    tags: list[str] = []


items_st = st.builds(lambda n, q, t: {"name": n, "qty": q, "tags": t},
                     st.text(max_size=8), st.integers(0, 99), st.lists(st.text(max_size=4), max_size=2))


def shape(events: list[Any]) -> list[tuple[Any, ...]]:
    """Events as data, consecutive deltas of one path merged (their split follows the chunking)."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        row = (type(e).__name__, e.path, getattr(e, "delta", None), repr(getattr(e, "value", None)))
        if row[0] == "StringDelta" and out and out[-1][:2] == row[:2]:
            out[-1] = (*row[:2], out[-1][2] + row[2], row[3])
        else:
            out.append(row)
    return out


@settings(max_examples=30, deadline=None)
@given(st.lists(items_st, max_size=4), st.randoms(use_true_random=False))
def test_each_line_is_validated_and_has_the_events_of_a_single_document(docs: list[dict[str, Any]],
                                                                          rnd: random.Random) -> None:
    lines = [json.dumps(d) for d in docs]
    text = "".join(line + "\n" for line in lines)
    oracle = [Item.model_validate_json(line) for line in lines]
    want: list[tuple[Any, ...]] = []
    for i, line in enumerate(lines):
        single = SchemaStream(Item)
        want += shape(single.feed(line) + single.close())
        want.append(("DocumentDone", (), None, repr(oracle[i])))
    for name, chunks in chunkings(text, rnd).items():
        s = SchemaStream(Item, multiple=True)
        events: list[Any] = []
        for c in chunks:
            events += s.feed(c)
        events += s.close()
        got = [e for e in events if type(e) is DocumentDone]
        assert [d.index for d in got] == list(range(len(docs))), name
        assert [d.value for d in got] == oracle, name
        assert shape(events) == want, name


def test_partial_and_value_follow_the_current_document() -> None:
    s = SchemaStream(Item, multiple=True)
    s.feed('{"name": "a", "qty": 1}\n{"name": "b')
    assert s.partial.__dict__ == {"name": "b"} and not s.done
    assert s.feed('", "qty": 2}')[-1] == DocumentDone(1, Item(name="b", qty=2))
    assert s.done and s.value == Item(name="b", qty=2)
    assert s.close() == []


def test_an_invalid_document_is_reported_and_the_stream_goes_on_without_fail_fast() -> None:
    text = '{"name": "a", "qty": 1}\n{"name": "b", "qty": -1}\n{"name": "c", "qty": 3}\n'
    with pytest.raises(SchemaError):
        SchemaStream(Item, multiple=True).feed(text)
    s = SchemaStream(Item, multiple=True, fail_fast=False)
    events = s.feed(text)
    assert [(d.index, d.value.name) for d in events if type(d) is DocumentDone] == [(0, "a"), (2, "c")]
    assert [e.path for e in events if type(e) is FieldInvalid] == [("qty",)]
    assert [e.value for e in events if type(e) is FieldDone and e.path == ("qty",)] == [1, 3]
    with pytest.raises(SchemaError):
        s.close()


def test_empty_stream_is_zero_documents() -> None:
    s = SchemaStream(Item, multiple=True)
    assert s.feed("\n \n") == [] and s.close() == []
