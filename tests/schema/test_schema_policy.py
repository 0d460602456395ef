"""Per-field streaming policy (``Stream.done``, ``Stream.not_null``, ``Stream.with_state``).

Oracles: the same model without markers (its events, minus exactly those the policy hides, must be
the marked model's events), and Pydantic on the whole text (the final value). Every property is
checked after every delta of every chunking of :func:`support.core.chunkings`.
"""

from __future__ import annotations

import json
import random
from typing import Annotated, Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from fieldstream import FieldDone, FieldInvalid, StringDelta, ValueStart
from fieldstream.schema import SchemaError, SchemaStream, Stream
from support.core import chunkings


class Item(BaseModel):
    note: str = ""
    name: Annotated[str, Stream.not_null]


class Doc(BaseModel):
    title: Annotated[str, Stream.done, Stream.with_state]
    body: Annotated[str, Stream.with_state]
    tags: Annotated[list[str], Stream.done]
    meta: Annotated[dict[str, list[int]], Stream.done]
    items: list[Item]


class PlainItem(BaseModel):
    note: str = ""
    name: str


class PlainDoc(BaseModel):
    title: str
    body: str
    tags: list[str]
    meta: dict[str, list[int]]
    items: list[PlainItem]


DONE = [("title",), ("tags",), ("meta",)]
STATE = [("title",), ("body",)]

text_st = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


@st.composite
def documents(draw: Any) -> str:
    items = []
    for _ in range(draw(st.integers(0, 3))):
        item = {"name": draw(text_st)}
        if draw(st.booleans()):
            item = {"note": draw(text_st), **item}  # the gating field after another one
        items.append(item)
    doc = {"title": draw(text_st), "body": draw(text_st), "tags": draw(st.lists(text_st, max_size=3)),
           "meta": draw(st.dictionaries(text_st, st.lists(st.integers(-5, 5), max_size=2), max_size=2)),
           "items": items}
    keys = list(doc)
    draw(st.randoms(use_true_random=False)).shuffle(keys)
    return json.dumps({k: doc[k] for k in keys}, ensure_ascii=draw(st.booleans()),
                      indent=draw(st.sampled_from([None, 1])))


def hidden(ev: Any) -> bool:
    """What the policy hides from the events: everything at or below a done path but its FieldDone."""
    if type(ev) is FieldInvalid:
        return False
    return any(ev.path[:len(d)] == d and (len(ev.path) > len(d) or type(ev) is not FieldDone) for d in DONE)


def key(ev: Any) -> tuple[Any, ...]:
    """An event as comparable data (the two models' instances compared by their JSON)."""
    value = getattr(ev, "value", None)
    if isinstance(value, list):
        value = [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
    elif isinstance(value, BaseModel):
        value = value.model_dump()
    return (type(ev).__name__, ev.path, getattr(ev, "delta", None), getattr(ev, "kind", None), value)


def run(tp: Any, chunks: list[str], check: Any = None) -> tuple[list[Any], Any]:
    s = SchemaStream(tp)
    events: list[Any] = []
    for c in chunks:
        new = s.feed(c)
        events += new
        if check is not None:
            check(s, events)
    events += s.close()
    if check is not None:
        check(s, events)
    return events, s.value


def check_partial(s: SchemaStream[Doc], events: list[Any]) -> None:
    finished = {e.path: e.value for e in events if type(e) is FieldDone}
    started = {e.path for e in events if type(e) in (ValueStart, StringDelta)} | set(finished)
    p = s.partial
    if p is None:
        return
    shown = p.__dict__
    for d in DONE:  # absent until complete, then the final value
        name = d[0]
        if d in finished:
            assert shown[name] == finished[d]
        else:
            assert name not in shown
    for item in shown.get("items", []):  # an item is shown only once its name has a value
        assert "name" in item.__dict__
    for path in STATE:
        state = s.partial_state.get(path)
        if path in finished:
            assert state == "done"
        elif state is not None:
            assert state == "streaming"
    assert ("body",) not in started or s.partial_state.get(("body",)) in ("streaming", "done")


@settings(max_examples=30, deadline=None)
@given(documents(), st.randoms(use_true_random=False))
def test_policy_events_and_partials_for_every_chunking(text: str, rnd: random.Random) -> None:
    oracle = Doc.model_validate_json(text)
    for name, chunks in chunkings(text, rnd).items():
        plain, _ = run(PlainDoc, chunks)
        marked, value = run(Doc, chunks, check_partial)
        assert value == oracle, name
        assert [key(e) for e in marked] == [key(e) for e in plain if not hidden(e)], name
        for d in DONE:
            assert sum(1 for e in marked if e.path == d) == 1, name  # its FieldDone, nothing else


def test_done_field_before_during_after() -> None:
    s = SchemaStream(Doc)
    evs = s.feed('{"title": "Hel')
    assert [type(e).__name__ for e in evs] == ["ValueStart"]  # the root only: nothing of the title
    assert "title" not in s.partial.__dict__ and s.partial_state == {("title",): "streaming"}
    evs = s.feed('lo", "body": "B')
    assert [(type(e).__name__, e.path) for e in evs] == [
        ("FieldDone", ("title",)), ("ValueStart", ("body",)), ("StringDelta", ("body",))]
    assert s.partial.title == "Hello" and s.partial.body == "B"
    assert s.partial_state == {("title",): "done", ("body",): "streaming"}


def test_not_null_gates_the_object_until_the_field_has_a_value() -> None:
    s = SchemaStream(Doc)
    s.feed('{"title": "t", "body": "b", "tags": [], "meta": {}, "items": [{"note": "n", "na')
    assert s.partial.items == []
    s.feed('me": "x')
    assert s.partial.items == []  # the name is not complete yet
    s.feed('"')
    assert [i.name for i in s.partial.items] == ["x"]


def test_an_invalid_done_field_is_reported() -> None:
    class Strict(BaseModel):
        n: Annotated[list[int], Stream.done, Stream.with_state]

    s = SchemaStream(Strict, fail_fast=False)
    evs = s.feed('{"n": [1, "x"]')
    assert [(type(e).__name__, e.path) for e in evs] == [("ValueStart", ()), ("FieldInvalid", ("n", 1))]
    assert s.partial_state[("n",)] == "invalid"  # a value inside it failed
    assert "n" not in s.partial.__dict__
    try:
        s.close()
    except SchemaError:
        pass
    else:  # pragma: no cover
        raise AssertionError("close() must raise")
