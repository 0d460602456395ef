"""``SchemaStream`` paths that the rest of the schema tests did not reach (mutation survivors).

Each test compares with Pydantic (``model_validate_json`` of the whole document) over every chunking
of ``support.core.chunkings`` where a value is involved, and checks the event contract with
``support.schema_contract.run_checked``; the partial views are checked against what
``docs/schema.md`` promises (a root string shows its text so far, a ``Stream.not_null`` object is
absent until its field has a value, members a tagged branch does not know leave ``partial_dict``,
a duplicate key keeps its later value there: the last wins).
"""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, TypeAdapter, ValidationError

from fieldstream import DocumentDone, StreamError
from fieldstream.schema import FieldDone, FieldInvalid, SchemaError, SchemaStream, Stream
from support.core import chunkings, split_at
from support.schema_contract import run_checked


def _each_chunking(doc: str) -> list[list[str]]:
    return list(chunkings(doc, random.Random(7)).values())


# ---------------------------------------------------------------- the markers' repr


class Tagged(BaseModel):
    name: Annotated[str, Stream.not_null, Stream.done]


def test_markers_repr_as_written_in_the_annotation() -> None:
    assert [repr(m) for m in (Stream.done, Stream.with_state, Stream.not_null)] == [
        "Stream.done", "Stream.with_state", "Stream.not_null"]
    # what Pydantic shows for the field (model reprs, error reports)
    assert "metadata=[Stream.not_null, Stream.done]" in repr(Tagged.model_fields["name"])


# ---------------------------------------------------------------- a top-level scalar's partial


def test_root_string_partial_is_its_text_so_far() -> None:
    doc = '"Dune, by F. Herbert"'
    for chunks in _each_chunking(doc):
        run_checked(str, chunks)
        s = SchemaStream(str)
        assert s.partial is None
        text = ""
        for c in chunks:
            s.feed(c)
            text += c
            if s.done:
                assert s.partial == TypeAdapter(str).validate_json(doc)
            else:  # the open string: what json.loads gives for the text so far, closed
                assert s.partial == text[1:]
        s.close()
        assert s.value == s.partial == "Dune, by F. Herbert"


@pytest.mark.parametrize("tp, doc", [(int, "12345"), (float, "-1.5e3"), (bool, "true"),
                                     (Annotated[str, Field(max_length=40)], '"constrained"')])
def test_root_scalar_that_does_not_stream_has_no_partial_until_done(tp: Any, doc: str) -> None:
    """Numbers and literals are never shown open; nor is a string that does not stream (a
    constrained ``str``: its ``FieldDone`` alone carries it), like such a member of a model."""
    for chunks in _each_chunking(doc):
        run_checked(tp, chunks)
        s = SchemaStream(tp)
        for c in chunks[:-1]:
            s.feed(c)
            assert s.partial is None and not s.done
        s.feed(chunks[-1])
        s.close()
        assert s.partial == s.value == TypeAdapter(tp).validate_json(doc)


class Note(BaseModel):
    code: Annotated[str, Field(max_length=40)]
    text: str


def test_member_string_that_does_not_stream_is_absent_while_open() -> None:
    s = SchemaStream(Note)
    s.feed('{"code": "ab')
    assert s.partial is not None and "code" not in s.partial.__dict__
    s.feed('c", "text": "hel')
    assert s.partial.__dict__ == {"code": "abc", "text": "hel"}


# ---------------------------------------------------------------- close() errors


def test_close_reraises_a_parser_error_that_is_not_incompleteness() -> None:
    """A truncated UTF-8 character after the document is the parser's ``invalid_utf8``, not a
    schema ``incomplete`` error: the value was complete."""
    s = SchemaStream(list[int])
    assert s.feed(b"[1, 2] \xc3")[-1] == FieldDone((), [1, 2])
    with pytest.raises(StreamError) as info:
        s.close()
    assert not isinstance(info.value, SchemaError)
    assert info.value.kind.value == "invalid_utf8"


# ---------------------------------------------------------------- Stream.not_null


class Gate(BaseModel):
    note: str = ""
    name: Annotated[str, Stream.not_null]


def test_root_with_not_null_field_is_none_until_the_field_has_a_value() -> None:
    doc = '{"note": "first", "name": "shell"}'
    expected = Gate.model_validate_json(doc)
    for chunks in _each_chunking(doc):
        run_checked(Gate, chunks)
        s = SchemaStream(Gate)
        text = ""
        for c in chunks:
            s.feed(c)
            text += c
            p = s.partial
            if '"shell"' in text:
                assert p is not None and p.name == "shell" and p.note == "first"
            else:  # the root too is held back (docs/schema.md: "the root: partial is None")
                assert p is None
        s.close()
        assert s.value == expected


class Inner(BaseModel):
    tags: Annotated[list[str], Stream.not_null]
    note: str


class Outer(BaseModel):
    inner: Inner


def test_not_null_container_field_shows_its_object_once_complete() -> None:
    doc = '{"inner": {"tags": ["a", "b"], "note": "n"}}'
    expected = Outer.model_validate_json(doc)
    for chunks in _each_chunking(doc):
        run_checked(Outer, chunks)
        s = SchemaStream(Outer)
        text = ""
        for c in chunks:
            s.feed(c)
            text += c
            p = s.partial
            if p is None:
                continue
            if s.done:
                assert p == expected
            elif '"b"]' in text:  # tags complete: Inner shown with what it has
                assert p.inner.tags == ["a", "b"]
            else:
                assert "inner" not in p.__dict__
        s.close()
        assert s.value == expected


# ---------------------------------------------------------------- open strings in dict views


def test_open_string_of_a_dict_value_grows_in_partial() -> None:
    doc = '{"k": "hello world", "m": "x"}'
    for chunks in _each_chunking(doc):
        run_checked(dict[str, str], chunks)
        s = SchemaStream(dict[str, str])
        seen = []
        for c in chunks:
            s.feed(c)
            p = s.partial
            if p is not None and "k" in p:
                seen.append(p["k"])
        assert seen[-1] == "hello world"
        assert all("hello world".startswith(t) for t in seen)
        s.close()
        assert s.value == {"k": "hello world", "m": "x"}
    s = SchemaStream(dict[str, str])
    s.feed('{"k": "hel')
    assert s.partial == {"k": "hel"}
    s.feed('lo')
    assert s.partial == {"k": "hello"}


# ---------------------------------------------------------------- tagged unions


class Cat(BaseModel):
    kind: Literal["cat"]
    name: str
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    name: str


Pet = Annotated[Cat | Dog, Field(discriminator="kind")]


class Owner(BaseModel):
    pet: Pet


def test_nested_tagged_union_shows_the_branch_model_in_partial() -> None:
    s = SchemaStream(Owner)
    s.feed('{"pet": {"kind": "cat", "name": "To')
    p = s.partial
    assert p is not None and type(p.pet) is Cat and p.pet.name == "To"
    s.feed('m", "lives": 9}}')
    s.close()
    assert s.value == Owner.model_validate_json('{"pet": {"kind": "cat", "name": "Tom", "lives": 9}}')


def test_members_before_the_tag_unknown_to_the_branch_leave_partial_dict() -> None:
    doc = '{"pet": {"lives": 3, "name": "Rex", "kind": "dog"}}'
    expected = Owner.model_validate_json(doc)
    for chunks in _each_chunking(doc):
        # "lives" started before the tag said "dog": it gets no FieldDone
        run_checked(Owner, chunks, opaque=lambda p: p == ("pet", "lives"))
        s = SchemaStream(Owner)
        text = ""
        for c in chunks:
            s.feed(c)
            text += c
            if '"dog"' in text:  # resolved: "lives" is no Dog field
                assert "lives" not in s.partial_dict["pet"]
        assert s.partial_dict == {"pet": {"name": "Rex", "kind": "dog"}}
        s.close()
        assert s.value == expected


def test_fail_fast_stops_at_the_first_invalid_member_before_the_tag() -> None:
    doc = '{"pet": {"lives": "many", "name": 5, "kind": "cat"}}'
    with pytest.raises(Exception) as ref:
        Owner.model_validate_json(doc)
    ref_locs = {e["loc"] for e in ref.value.errors()}  # type: ignore[attr-defined]
    for chunks in _each_chunking(doc):
        run_checked(Owner, chunks)
        s = SchemaStream(Owner)
        with pytest.raises(SchemaError) as info:
            for c in chunks:
                s.feed(c)
            s.close()
        invalid = [e for e in info.value.events if type(e) is FieldInvalid]
        assert [e.path for e in invalid] == [("pet", "lives")]  # the first, and nothing after it
        assert {tuple(e["loc"]) for e in info.value.errors} <= ref_locs


# ---------------------------------------------------------------- unknown containers, paths


class Small(BaseModel):
    a: int


def test_unknown_container_member_leaves_partial_dict_when_complete() -> None:
    doc = '{"junk": {"x": [1, {"y": 2}]}, "a": 1}'
    for chunks in _each_chunking(doc):
        run_checked(Small, chunks)
        s = SchemaStream(Small)
        text = ""
        for c in chunks:
            s.feed(c)
            text += c
            if "}}" in text:
                assert "junk" not in s.partial_dict
        s.close()
        assert s.partial_dict == {"a": 1}
        assert s.value == Small.model_validate_json(doc)


class Basket(BaseModel):
    items: list[Small]
    owner: str


def test_paths_select_a_container_field_done() -> None:
    doc = '{"items": [{"a": 1}, {"a": 2}], "owner": "Ann"}'
    expected = Basket.model_validate_json(doc)
    for chunks in _each_chunking(doc):
        s = SchemaStream(Basket, paths=["items", "owner"])
        events = [e for c in chunks for e in s.feed(c)] + s.close()
        done = [(e.path, e.value) for e in events if type(e) is FieldDone]
        assert done == [(("items",), expected.items), (("owner",), "Ann")]


# ---------------------------------------------------------------- RootModel of a model, dict views


class Free(BaseModel):
    model_config = ConfigDict(extra="allow")
    a: int


class FreeRoot(RootModel[Free]):
    pass


def test_root_model_of_a_model_has_a_partial_while_an_extra_string_streams() -> None:
    doc = '{"a": 1, "zz": "hello", "q": 2}'
    expected = FreeRoot.model_validate_json(doc)
    for chunks in _each_chunking(doc):
        # (run_checked's field lookup does not reach into a RootModel of a model: value checked below)
        s = SchemaStream(FreeRoot)
        text = ""
        for c in chunks:
            s.feed(c)
            text += c
            p = s.partial
            if s.done:
                assert p == expected
            elif text.strip():
                assert type(p) is FreeRoot  # the root model, its members so far (no junk keys)
                assert set(p.root) <= {"a"} and (p.root.get("a") == 1 or '1,' not in text)
        s.close()
        assert s.value == expected


def _no_bad(v: str) -> str:
    if v.startswith("bad"):
        raise ValueError("bad word")
    return v


Checked = Annotated[str, AfterValidator(_no_bad)]


def test_invalid_dict_value_shown_while_open_is_omitted_once_done() -> None:
    doc = '{"a": "bad one", "b": "good"}'
    with pytest.raises(ValidationError) as ref:
        TypeAdapter(dict[str, Checked]).validate_json(doc)
    assert [e["loc"] for e in ref.value.errors()] == [("a",)]
    for chunks in _each_chunking(doc[:-1]):  # the root stays open: partial is the live view
        run_checked(dict[str, Checked], [*chunks, "}"], fail_fast=False)
        s = SchemaStream(dict[str, Checked], fail_fast=False)
        text = ""
        for c in chunks:
            s.feed(c)
            text += c
            p = s.partial
            if '"bad one"' in text:  # invalid members are omitted (docs/schema.md)
                assert "a" not in p and "a" not in s.partial_dict
            elif p:
                assert "bad one".startswith(p["a"])  # the open string is shown meanwhile
        assert s.partial == {"b": "good"}
        s.feed("}")
        with pytest.raises(SchemaError):
            s.close()


# ---------------------------------------------------------------- several documents in one feed


class Row(BaseModel):
    id: int
    name: str


ROWS = '{"id": "x", "name": "a"}\n{"id": 2, "name": "b"}\n{"id": "y", "name": "c"}\n'


@pytest.mark.parametrize("cuts", [None, (9,), (9, 48), (30,)])
def test_documents_ending_in_one_feed_drop_their_own_invalid_members(cuts: tuple[int, ...] | None) -> None:
    """With ``multiple=True`` each document's invalid members leave *its* ``partial_dict`` (and no
    other document's), whether the documents complete in separate feeds or several in one."""
    assert ROWS[48:].startswith('{"id": "y"')  # (9, 48): the first two documents end in one feed
    runs = _each_chunking(ROWS) if cuts is None else [split_at(ROWS, cuts)]
    for chunks in runs:
        s = SchemaStream(Row, multiple=True, fail_fast=False)
        events = []
        text = ""
        for c in chunks:
            events += s.feed(c)
            text += c
            if text.endswith('"b"}\n'):
                assert s.partial_dict == {"id": 2, "name": "b"}
        assert s.partial_dict == {"name": "c"}  # the current (last) document, "id" dropped
        with pytest.raises(SchemaError) as info:
            s.close()
        assert [e.path for e in events if type(e) is FieldInvalid] == [("id",), ("id",)]
        assert [e.value for e in events if type(e) is DocumentDone] == [Row(id=2, name="b")]
        assert {tuple(e["loc"]) for e in info.value.errors} == {("id",)}


# ---------------------------------------------------------------- an invalid member with a default


class WithDefault(BaseModel):
    x: int = 0
    y: str = ""


class Holder(BaseModel):
    f0: WithDefault
    z: int = 1


def test_object_with_an_invalid_defaulted_member_is_invalid_not_defaulted() -> None:
    """The dropped member is put back when its object is validated: Pydantic sees what the
    document said (``"bad"``), not a missing field that its default would fill in."""
    doc = '{"f0": {"x": "bad", "y": "ok"}, "z": 2}'
    with pytest.raises(ValidationError) as ref:
        Holder.model_validate_json(doc)
    assert [e["loc"] for e in ref.value.errors()] == [("f0", "x")]
    for chunks in _each_chunking(doc):
        events, outcome = run_checked(Holder, chunks, fail_fast=False)
        assert isinstance(outcome, SchemaError)
        assert [e.path for e in events if type(e) is FieldDone] == [("f0", "y"), ("z",)]
        assert [e["loc"] for e in outcome.errors] == [("f0", "x")]


# ---------------------------------------------------------------- duplicate keys: the last wins


class Pair(BaseModel):
    a: int
    b: dict[str, int] = {}


def test_a_duplicate_key_keeps_the_later_value_in_partial_dict() -> None:
    """An invalid or unknown member leaves ``partial_dict`` when it completes; when its key comes
    again later in the same delta, the parser's document already holds the later value (JSON
    duplicate keys: the last wins, as for Pydantic), and that one stays."""
    doc = '{"a": "x", "zz": [1], "b": {"k": 1}, "zz": {"q": [2]}, "a": 1}'
    assert Pair.model_validate_json(doc) == Pair(a=1, b={"k": 1})
    s = SchemaStream(Pair, fail_fast=False)
    events = s.feed(doc)
    assert s.partial_dict == {"a": 1, "b": {"k": 1}}
    assert s.partial == Pair(a=1, b={"k": 1})
    assert events[-1] == FieldDone((), Pair(a=1, b={"k": 1}))
    # one delta per member: the first "a" is dropped before the second arrives
    s = SchemaStream(Pair, fail_fast=False)
    for piece in ['{"a": "x",', ' "zz": [1],', ' "zz": {"q": [2]},', ' "a": 1', "}"]:
        s.feed(piece)
    assert s.partial_dict == {"a": 1}


def test_unknown_scalar_members_leave_partial_dict_at_every_depth() -> None:
    doc = '{"zz": 3, "f0": {"x": 1, "zz": 5, "y": "ok", "q": true}, "z": 2, "w": null}'
    expected = Holder.model_validate_json(doc)
    for chunks in _each_chunking(doc):
        run_checked(Holder, chunks)
        s = SchemaStream(Holder)
        text = ""
        for c in chunks:
            s.feed(c)
            text += c
            if '"y"' in text:  # the nested "zz" is complete
                assert "zz" not in s.partial_dict and "zz" not in s.partial_dict["f0"]
        s.close()
        assert s.partial_dict == {"f0": {"x": 1, "y": "ok"}, "z": 2}
        assert s.value == expected


def test_an_incomplete_document_names_its_missing_fields_or_none() -> None:
    from pydantic import BaseModel

    class Two(BaseModel):
        a: int
        b: str = "x"

    s = SchemaStream(Two)
    s.feed('{"a": 1, "b": "y')  # every required field is there, the document is cut in a string
    with pytest.raises(SchemaError) as info:
        s.close()
    assert str(info.value).startswith("the document ended before it was complete")
    assert "missing" not in str(info.value) and info.value.missing == []
    s = SchemaStream(Two)
    s.feed('{"b": "y", ')
    with pytest.raises(SchemaError) as info:
        s.close()
    assert "(1 required field(s) missing: a)" in str(info.value) and info.value.missing == [("a",)]
