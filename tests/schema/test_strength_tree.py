"""The schema tree (``schema/_tree.py``) against Pydantic, the oracle: which positions stream, which
are validated as a whole, and what each sub-schema accepts, for types the other schema tests do
not build (after-validators on plain scalars, variadic tuples, callable discriminators, custom
``__init__``, root models as members, unhashable annotations). Every document runs under every
chunking through :func:`support.schema_contract.run_checked` (values and error locations equal
Pydantic's ``validate_json`` of the whole document) plus the events each case is about."""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

import pytest
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
    TypeAdapter,
    model_validator,
)
from pydantic_core import core_schema as cs

from fieldstream import StringDelta, ValueStart
from fieldstream.schema import FieldDone, FieldInvalid, SchemaError, SchemaStream, Stream
from support.core import chunkings
from support.schema_contract import merge_schema_events, run_checked


def _all_chunkings(tp: Any, doc: str, **kw: Any) -> list[tuple[list[Any], Any]]:
    """run_checked under every chunking; the merged events must not depend on the chunking."""
    runs = [run_checked(tp, chunks, **kw) for chunks in chunkings(doc, random.Random(7)).values()]
    merged = [merge_schema_events(ev) for ev, _ in runs]
    assert all(m == merged[0] for m in merged), "events depend on the chunking"
    return runs


def _done(events: list[Any], path: tuple[Any, ...]) -> Any:
    [value] = [e.value for e in events if type(e) is FieldDone and e.path == path]
    return value


# --- after-validators on plain scalars run (no identity shortcut) ------------------------------

Shout = Annotated[str, AfterValidator(str.upper)]
Double = Annotated[int, AfterValidator(lambda v: v * 2)]


class Loud(BaseModel):
    word: Shout
    n: Double
    words: list[Shout]


def test_after_validators_on_plain_scalars_run_like_pydantic() -> None:
    doc = '{"word": "hey", "n": 21, "words": ["a", "b"]}'
    for events, value in _all_chunkings(Loud, doc):
        assert (value.word, value.n, value.words) == ("HEY", 42, ["A", "B"])
        assert _done(events, ("word",)) == "HEY"
        assert _done(events, ("n",)) == 42
        assert _done(events, ("words", 1)) == "B"
    for tp, doc, want in [(Shout, '"hey"', "HEY"), (Double, "4", 8)]:
        for _, value in _all_chunkings(tp, doc):
            assert value == want == TypeAdapter(tp).validate_json(doc)


# --- a number that overflows to inf, validated by a sub-schema ----------------------------------

class Positive(BaseModel):
    x: Annotated[float, Field(gt=0)]
    xs: Annotated[list[float], Field(max_length=3)]


def test_overflowing_number_is_validated_as_infinity() -> None:
    doc = '{"x": 1e400, "xs": [2e400, 1.5]}'
    for events, value in _all_chunkings(Positive, doc):
        assert value == Positive.model_validate_json(doc)
        assert value.x == float("inf") and value.xs[0] == float("inf")
        assert _done(events, ("x",)) == float("inf")
    for _, value in _all_chunkings(Annotated[float, Field(gt=0)], "-1e400", fail_fast=False):
        assert isinstance(value, SchemaError)
        assert [e["type"] for e in value.errors] == ["greater_than"]


class Finite(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)
    x: float
    y: list[float]


def test_overflow_to_infinity_is_invalid_where_the_config_wants_finite_numbers() -> None:
    doc = '{"x": 1e400, "y": [1.5, -1e400]}'
    for events, err in _all_chunkings(Finite, doc, fail_fast=False):
        assert isinstance(err, SchemaError)
        assert sorted((tuple(e["loc"]), e["type"]) for e in err.errors) == [
            (("x",), "finite_number"), (("y", 1), "finite_number")]
        assert [e.path for e in events if type(e) is FieldInvalid] == [("x",), ("y", 1)]
        assert not [e for e in events if type(e) is FieldDone and e.path in {("x",), ("y",), ("y", 1)}]
        assert _done(events, ("y", 0)) == 1.5


# --- strings whose schema carries metadata (a description, a JSON-schema override) still stream --

class Described(BaseModel):
    title: Annotated[str, Field(description="the title")]
    tags: list[Annotated[str, Field(description="a tag")]]


def test_described_strings_stream() -> None:
    doc = '{"title": "Hello world", "tags": ["abc", "de"]}'
    assert TypeAdapter(Annotated[str, Field(description="d")]).core_schema.get("metadata")
    for events, _ in _all_chunkings(Described, doc, streamed=lambda p: True):
        assert any(type(e) is StringDelta and e.path == ("title",) for e in events)
        assert any(type(e) is StringDelta and e.path == ("tags", 0) for e in events)
    for events, value in _all_chunkings(Annotated[str, Field(description="d")], '"root text"',
                                        streamed=lambda p: True):
        assert value == "root text"
        assert "".join(e.delta for e in events if type(e) is StringDelta) == "root text"


# --- variadic tuples ----------------------------------------------------------------------------

class Head:
    """``tuple[str, *tuple[int, ...]]`` (the star syntax needs Python 3.11)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> cs.CoreSchema:
        return cs.tuple_schema([cs.str_schema(), cs.int_schema()], variadic_item_index=1)


class Framed:
    """``tuple[int, *tuple[int, ...], str]``: an item after the variadic part."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> cs.CoreSchema:
        return cs.tuple_schema([cs.int_schema(), cs.int_schema(), cs.str_schema()], variadic_item_index=1)


class Tuples(BaseModel):
    ints: tuple[int, ...]
    head: Head
    framed: Framed


@pytest.mark.parametrize("doc", [
    '{"ints": [1, 2, 3], "head": ["a", 1, 2], "framed": [1, 2, 3, "x"]}',
    '{"ints": [], "head": ["a"], "framed": [1, "x"]}',
    '{"ints": [1, "z"], "head": ["a", 1, "b"], "framed": [1, 2, 3]}',
    '{"ints": [1, 2], "head": [1, 2], "framed": ["x"]}',
])
def test_variadic_tuples_like_pydantic(doc: str) -> None:
    for fail_fast in (True, False):
        _all_chunkings(Tuples, doc, fail_fast=fail_fast, opaque=lambda p: p[:1] == ("framed",))


def test_variadic_tuple_items_get_their_own_field_done() -> None:
    doc = '{"ints": [1, 2], "head": ["a", 1, 2], "framed": [1, "x"]}'
    for events, value in _all_chunkings(Tuples, doc, opaque=lambda p: p[:1] == ("framed",)):
        assert value.head == ("a", 1, 2)
        assert [_done(events, ("head", i)) for i in range(3)] == ["a", 1, 2]
        assert [_done(events, ("ints", i)) for i in range(2)] == [1, 2]
    _, err = run_checked(Tuples, ['{"ints": [1], "head": ["a", "1x"], "framed": [1, "x"]}'],
                         opaque=lambda p: p[:1] == ("framed",))
    assert isinstance(err, SchemaError)
    assert [tuple(e["loc"]) for e in err.errors] == [("head", 1)]


# --- values validated as a whole: callable discriminators, custom __init__, before-validators ---

class Cat(BaseModel):
    kind: Literal["cat"] = "cat"
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"] = "dog"
    good: bool


def _pet_tag(v: Any) -> str:
    return str(v.get("kind") if isinstance(v, dict) else getattr(v, "kind", ""))


Pet = Annotated[Annotated[Cat, Tag("cat")] | Annotated[Dog, Tag("dog")], Discriminator(_pet_tag)]


class Inited(BaseModel):
    a: int
    b: str = "b"

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)


class Before(BaseModel):
    a: int

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, v: Any) -> Any:
        return v["wrapped"] if isinstance(v, dict) and "wrapped" in v else v


class Holder(BaseModel):
    pet: Pet
    inited: Inited
    before: Before


def _inside_whole(p: tuple[Any, ...]) -> bool:
    return len(p) > 1


@pytest.mark.parametrize("doc", [
    '{"pet": {"kind": "dog", "good": true}, "inited": {"a": 1, "b": "x"}, "before": {"wrapped": {"a": 2}}}',
    '{"pet": {"lives": 9, "kind": "cat"}, "inited": {"a": 3}, "before": {"a": 4}}',
    '{"pet": {"kind": "cat", "lives": "x"}, "inited": {"a": "y"}, "before": {"wrapped": {"a": "z"}}}',
])
def test_values_validated_as_a_whole(doc: str) -> None:
    for fail_fast in (True, False):
        for events, value in _all_chunkings(Holder, doc, fail_fast=fail_fast, opaque=_inside_whole):
            # no FieldDone/FieldInvalid inside them: the schema changes their input
            assert not [e for e in events if type(e) is not ValueStart and type(e) is not StringDelta
                        and len(e.path) > 1]
            if not isinstance(value, SchemaError):
                assert _done(events, ("pet",)) == value.pet
                assert _done(events, ("inited",)) == value.inited
                assert _done(events, ("before",)) == value.before


# --- root models as members and as the root -----------------------------------------------------

Ints = RootModel[list[int]]
Word = RootModel[str]


class Roots(BaseModel):
    ints: Ints
    word: Word
    words: RootModel[list[str]]


def test_root_models_like_pydantic() -> None:
    doc = '{"ints": [1, 2], "word": "hello", "words": ["x", "yz"]}'
    for events, value in _all_chunkings(Roots, doc, streamed=lambda p: p[:1] == ("words",)):
        assert value == Roots.model_validate_json(doc)
        assert type(_done(events, ("ints",))) is Ints
        assert type(_done(events, ("word",))) is Word
        assert _done(events, ("ints", 1)) == 2
        # a RootModel[str] is validated as a whole: its text does not stream
        assert not [e for e in events if type(e) is StringDelta and e.path == ("word",)]
    for _, value in _all_chunkings(Ints, "[3, 4]"):
        assert type(value) is Ints and value.root == [3, 4]


def test_root_model_partial_view_is_the_root_model() -> None:
    s = SchemaStream(Roots)
    s.feed('{"ints": [1, 2')
    part = s.partial
    assert type(part.ints) is Ints and part.ints.root == [1]
    s.feed('], "word": "a", "words": ["b"]}')
    s.close()
    assert s.value == Roots.model_validate_json('{"ints": [1, 2], "word": "a", "words": ["b"]}')


# --- an unhashable annotation (not cached, still built) -----------------------------------------

def test_unhashable_annotation() -> None:
    tp = Annotated[int, {"unhashable": ["metadata"]}]
    with pytest.raises(TypeError):
        hash(tp)
    for _ in range(2):
        for _, value in _all_chunkings(tp, "12"):
            assert value == 12
        for _, value in _all_chunkings(tp, '"x"'):
            assert isinstance(value, SchemaError)


# --- a hand-written model schema on a plain class (no model_fields: no streaming policy) ---------

class Plain:
    """A class validated by a ``model_schema`` of its own (pydantic-core sets its ``__dict__``)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> cs.CoreSchema:
        return cs.model_schema(cls, cs.model_fields_schema({
            "a": cs.model_field(cs.int_schema()),
            "b": cs.model_field(cs.nullable_schema(cs.str_schema())),
        }))


def test_plain_class_model_schema_streams_every_field() -> None:
    doc = '{"b": "xy", "a": 1}'
    want = TypeAdapter(Plain).validate_json(doc)
    for chunks in chunkings(doc, random.Random(3)).values():
        s = SchemaStream(Plain)
        events: list[Any] = []
        for c in chunks:
            events += s.feed(c)
        events += s.close()
        merged = merge_schema_events(events)
        assert merged[:2] == [("start", (), "object"), ("start", ("b",), "string")]
        assert merged[2:-1] == [("delta", ("b",), "xy"), ("done", ("b",), "xy"),
                                ("start", ("a",), "number"), ("done", ("a",), 1)]
        assert merged[-1][:2] == ("done", ())
        assert type(s.value) is Plain and vars(s.value) == vars(want)


# --- a recursive model's policies hold at every depth -------------------------------------------

class Outline(BaseModel):
    kids: list[Outline] = []
    title: Annotated[str, Stream.done]  # declared after the recursive field
    note: str | None = None


Outline.model_rebuild()


def test_recursive_model_policy_applies_inside() -> None:
    doc = ('{"kids": [{"kids": [{"title": "c", "note": "n"}], "title": "b"}], '
           '"title": "a", "note": "top"}')
    want = Outline.model_validate_json(doc)
    for chunks in chunkings(doc, random.Random(5)).values():
        s = SchemaStream(Outline)
        events: list[Any] = []
        for c in chunks:
            events += s.feed(c)
        events += s.close()
        assert s.value == want
        titles = [("kids", 0, "title"), ("kids", 0, "kids", 0, "title"), ("title",)]
        for p in titles:  # Stream.done: no ValueStart/StringDelta, one FieldDone
            assert [type(e).__name__ for e in events if getattr(e, "path", None) == p] == ["FieldDone"]
