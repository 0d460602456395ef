"""Schema-layer contracts that a planted bug could break without any other test noticing.

Checked against scratch copies with the bug planted (each test failed) and against main (passes):

* exactly one ``FieldDone`` per path, carrying the finished, validated value (a container's comes
  when it closes, after its children's, never when it starts), compared with Pydantic's own result;
* ``fail_fast=False``: an invalid list item keeps its index in ``partial_dict``/``partial`` (later
  items do not shift), as ``docs/schema.md`` promises, and later ``FieldDone`` paths keep theirs;
* the open string of an aliased field or an extra member grows in the partial model under the
  field's name / in ``__pydantic_extra__``; an array where a dict belongs fails like Pydantic.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import pytest
from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from fieldstream import FieldDone, FieldInvalid, SchemaError, StringDelta
from fieldstream.schema import SchemaStream


class Item(BaseModel):
    name: str
    qty: int


class Inner(BaseModel):
    grid: list[list[int]]
    note: str


class Order(BaseModel):
    owner: str
    items: list[Item]
    tags: dict[str, list[int]]
    inner: Inner
    empty: list[str]
    flag: bool


DOC = ('{"owner": "Ann", "items": [{"name": "tea", "qty": 2}, {"name": "cups", "qty": 10}], '
       '"tags": {"x": [3, 4], "y": []}, "inner": {"grid": [[1, 2], [], [3]], "note": "n"}, '
       '"empty": [], "flag": true}')


def chunkings(text: str) -> Iterator[list[str]]:
    yield [text]
    yield list(text)
    for size in (2, 3, 7, 16):
        yield [text[i:i + size] for i in range(0, len(text), size)]


def run(chunks: list[str], **options: Any) -> tuple[list[Any], Any]:
    s = SchemaStream(Order, **options)
    events: list[Any] = []
    for c in chunks:
        events += s.feed(c)
    events += s.close()
    return events, s.value


def at(value: Any, path: tuple[Any, ...]) -> Any:
    """The sub-value of a validated Pydantic result at a JSON path (no aliases in these models)."""
    for key in path:
        value = value[key] if isinstance(value, (list, dict)) else getattr(value, key)
    return value


def json_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path of a JSON document (containers, items, the root)."""
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from json_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from json_paths(v, (*path, i))


@pytest.mark.parametrize("chunks", list(chunkings(DOC)), ids=lambda c: f"{len(c)}-chunks")
def test_exactly_one_field_done_per_path_with_the_finished_value(chunks: list[str]) -> None:
    expected = Order.model_validate_json(DOC)
    events, value = run(chunks)
    assert value == expected
    done = [e for e in events if type(e) is FieldDone]
    counts = Counter(e.path for e in done)
    assert [p for p, n in counts.items() if n != 1] == []  # one done-event per path
    assert set(counts) == set(json_paths(json.loads(DOC)))  # ... for every value, containers included
    for e in done:
        assert e.value == at(expected, e.path), e.path
    # a container is done after everything inside it
    index = {e.path: i for i, e in enumerate(done)}
    for p, i in index.items():
        for q, j in index.items():
            if len(q) > len(p) and q[:len(p)] == p:
                assert j < i, (q, p)


def test_field_done_of_a_container_is_not_emitted_when_it_starts() -> None:
    s = SchemaStream(Order)
    events = s.feed('{"owner": "Ann", "items": [{"name": "tea", "qty": 2}, ')
    paths = [e.path for e in events if type(e) is FieldDone]
    assert paths == [("owner",), ("items", 0, "name"), ("items", 0, "qty"), ("items", 0)]
    events = s.feed('{"name": "c", "qty": 1}], "tags": {"x": [')
    paths = [e.path for e in events if type(e) is FieldDone]
    assert paths == [("items", 1, "name"), ("items", 1, "qty"), ("items", 1), ("items",)]


class Cart(BaseModel):
    owner: str
    nums: list[int]
    items: list[Item]


HEAD = '{"owner": "Ann", "nums": [1, "z", 3, "w", 5'
TAIL = '], "items": [{"name": "a", "qty": 1}, {"name": "b", "qty": "x"}, {"name": "c", "qty": 3}, {"na'


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_fail_fast_false_keeps_the_index_of_an_invalid_list_item(size: int) -> None:
    s = SchemaStream(Cart, fail_fast=False)
    events: list[Any] = []
    for i in range(0, len(HEAD), size):
        events += s.feed(HEAD[i:i + size])
    # the raw invalid items stay in place: item 2 is still at index 2
    assert s.partial_dict == {"owner": "Ann", "nums": [1, "z", 3, "w"]}
    assert s.partial.nums == [1, "z", 3, "w"]
    for i in range(0, len(TAIL), size):
        events += s.feed(TAIL[i:i + size])
    # docs/schema.md: invalid object members are removed, invalid list items stay (indices aligned)
    assert s.partial_dict["items"] == [{"name": "a", "qty": 1}, {"name": "b"},
                                       {"name": "c", "qty": 3}, {}]
    assert s.partial.items[2] == Item(name="c", qty=3)
    done = {e.path: e.value for e in events if type(e) is FieldDone}
    assert done[("nums", 2)] == 3 and done[("nums", 4)] == 5 and done[("items", 2)] == Item(name="c", qty=3)
    invalid = [e.path for e in events if type(e) is FieldInvalid]
    assert invalid == [("nums", 1), ("nums", 3), ("items", 1, "qty")]
    events += s.feed('me": "d", "qty": 4}]}')
    with pytest.raises(SchemaError) as info:
        s.close()
    assert [e["loc"] for e in info.value.errors] == [("nums", 1), ("nums", 3), ("items", 1, "qty")]


class Loose(BaseModel):
    x: Any
    y: int = 0


def test_any_fields_stream_their_text() -> None:
    s = SchemaStream(Loose)
    events = s.feed('{"x": "ab') + s.feed('c", "y": 1}')
    deltas = [e.delta for e in events if type(e) is StringDelta and e.path == ("x",)]
    assert "".join(deltas) == "abc" and len(deltas) == 2
    s.close()
    assert s.value == Loose(x="abc", y=1)


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    a: int


def test_extra_allow_members_show_in_the_partial_model() -> None:
    s = SchemaStream(Open)
    s.feed('{"a": 1, "zz": "q", "n": 2, "w": "op')
    assert s.partial_dict == {"a": 1, "zz": "q", "n": 2, "w": "op"}
    assert s.partial.a == 1 and s.partial.model_extra == {"zz": "q", "n": 2, "w": "op"}


class Cat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["dog"]


class Box(BaseModel):
    pet: Cat | Dog = Field(discriminator="kind")


@pytest.mark.parametrize(("doc", "input"), [
    # before the tag: the member is checked when the tag arrives, with its value (as Pydantic reports)
    ('{"pet": {"lives": 9, "extra": [1, 2], "kind": "cat"}}', [1, 2]),
    # after the tag: reported as soon as the key is read, before its value (docs/schema.md: input None)
    ('{"pet": {"kind": "cat", "lives": 9, "extra": {"a": "b"}}}', None),
])
def test_extra_forbidden_errors_before_and_after_the_discriminator(doc: str, input: Any) -> None:
    with pytest.raises(ValidationError) as expected:
        Box.model_validate_json(doc)
    s = SchemaStream(Box, fail_fast=False)
    with pytest.raises(SchemaError) as got:
        s.feed(doc)
        s.close()
    want = [{k: e[k] for k in ("type", "loc", "msg")} for e in expected.value.errors()]
    assert [{k: e[k] for k in ("type", "loc", "msg")} for e in got.value.errors] == want
    assert [e["input"] for e in got.value.errors] == [input]


def test_done_is_false_until_the_root_validated() -> None:
    s = SchemaStream(Item)
    assert s.done is False
    s.feed('{"name": "a", "qty": 1')
    assert s.done is False
    s.feed("}")
    assert s.done is True


def test_partial_of_a_root_string_is_its_text_so_far() -> None:
    s = SchemaStream(str)
    s.feed('"ab')
    assert s.partial_dict == "ab"
    s.feed('c"')
    s.close()
    assert s.value == "abc"


class Doubled(BaseModel):
    qty: int
    doubled: int = 0

    @model_validator(mode="after")
    def _double(self) -> Doubled:
        self.doubled = 2 * self.qty
        return self


class Holder(BaseModel):
    one: Doubled
    many: list[Doubled]
    tens: Annotated[dict[str, int], AfterValidator(lambda d: {k: 10 * v for k, v in d.items()})]
    rest: str = ""


class Aliased(BaseModel):
    rest: str = ""  # a plain field declared before the AliasPath one
    aliased: int = Field(validation_alias=AliasPath("deep", 1))


def test_a_completed_container_shows_its_validated_value_in_the_partial_model() -> None:
    s = SchemaStream(Holder)
    s.feed('{"one": {"qty": 3}, "many": [{"qty": 4}, {"qty"')
    assert s.partial.one == Doubled(qty=3) and s.partial.one.doubled == 6  # the model validator ran
    assert s.partial.many[0].doubled == 8
    assert s.partial_dict["one"] == {"qty": 3}  # partial_dict keeps plain JSON-shaped values


@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_wrapped_containers_and_alias_paths_validate_like_pydantic(chunk: int) -> None:
    doc = '{"one": {"qty": 1}, "many": [], "tens": {"a": 1, "b": 2}, "rest": "r"}'
    s = SchemaStream(Holder)
    events: list[Any] = []
    for i in range(0, len(doc), chunk):
        events += s.feed(doc[i:i + chunk])
    events += s.close()
    value = s.value
    assert value == Holder.model_validate_json(doc) and value.tens == {"a": 10, "b": 20}
    done = {e.path: e.value for e in events if type(e) is FieldDone}
    assert done[("tens",)] == {"a": 10, "b": 20} and done[("one",)].doubled == 2
    doc = '{"deep": ["x", 7, "y"], "rest": "r"}'
    s = SchemaStream(Aliased)
    for i in range(0, len(doc), chunk):
        s.feed(doc[i:i + chunk])
    s.close()
    assert s.value == Aliased.model_validate_json(doc) == Aliased(deep=["x", 7], rest="r")


class Toy(BaseModel):
    kind: Literal["toy"]
    parts: list[int]
    meta: dict[str, str]


class Tool(BaseModel):
    kind: Literal["tool"]
    size: int


class Crate(BaseModel):
    item: Toy | Tool = Field(discriminator="kind")


@pytest.mark.parametrize("chunk", [1, 4, 1000])
def test_containers_before_the_discriminator_validate_once_it_arrives(chunk: int) -> None:
    doc = '{"item": {"parts": [1, 2], "meta": {"a": "b"}, "kind": "toy"}}'
    s = SchemaStream(Crate)
    events: list[Any] = []
    for i in range(0, len(doc), chunk):
        events += s.feed(doc[i:i + chunk])
    closing = s.close()
    assert s.value == Crate.model_validate_json(doc)
    done = [e.path for e in events + list(closing) if type(e) is FieldDone]
    assert Counter(done)[("item", "parts")] == 1 and ("item",) in done
    bad = '{"item": {"parts": [1, "x"], "kind": "toy"}}'
    with pytest.raises(SchemaError) as info:
        s = SchemaStream(Crate, fail_fast=False)
        s.feed(bad)
        s.close()
    with pytest.raises(ValidationError) as expected:
        Crate.model_validate_json(bad)
    assert [e["loc"] for e in info.value.errors] == [e["loc"] for e in expected.value.errors()]


def test_field_done_repr_truncates_long_values_at_80_characters() -> None:
    short = FieldDone(("a",), "x" * 78)  # repr is 80 characters: kept
    long = FieldDone(("a",), "x" * 79)   # 81: cut to 77 + "..."
    assert repr(short) == f"FieldDone(path=('a',), value={'x' * 78!r})"
    assert repr(long) == "FieldDone(path=('a',), value='" + "x" * 76 + "...)"


def test_a_model_with_an_alias_path_is_validated_as_a_whole() -> None:
    s = SchemaStream(Aliased)
    events = s.feed('{"deep": ["x", 7], "rest": "r"}')
    events += s.close()
    value = s.value
    # docs/schema.md: such a value is validated as a whole when it completes, its members get no FieldDone
    assert [e.path for e in events if type(e) is FieldDone] == [()]
    assert value == Aliased(deep=["x", 7], rest="r")


def test_close_twice_and_close_after_a_failure_raise_closed() -> None:
    s = SchemaStream(Item)
    s.feed('{"name": "a", "qty": 1}')
    s.close()
    assert s.value == Item(name="a", qty=1)
    with pytest.raises(SchemaError) as info:
        s.close()
    assert info.value.kind == "closed"
    s = SchemaStream(Item)
    with pytest.raises(SchemaError):
        s.feed('{"qty": "x"')
    with pytest.raises(SchemaError) as info:
        s.close()
    assert info.value.kind == "closed"


def test_any_fields_keep_containers_as_they_are() -> None:
    doc = '{"x": [1, {"a": [2, null]}, "s"], "y": 3}'
    s = SchemaStream(Loose)
    events = s.feed(doc)
    closing = s.close()
    value = s.value
    assert value == Loose.model_validate_json(doc) and value.x == [1, {"a": [2, None]}, "s"]
    done = {e.path: e.value for e in events + list(closing) if type(e) is FieldDone}
    assert done[("x",)] == [1, {"a": [2, None]}, "s"]


class ByName(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    count: int = Field(alias="Count")
    label: str = Field(alias="Label")


@pytest.mark.parametrize("doc", ['{"count": 2, "label": "ab"}', '{"Count": 2, "Label": "ab"}',
                                 '{"count": 2, "Label": "ab"}'])
def test_populate_by_name_accepts_field_names_and_aliases(doc: str) -> None:
    s = SchemaStream(ByName)
    events = s.feed(doc)
    closing = s.close()
    assert s.value == ByName.model_validate_json(doc) == ByName(Count=2, Label="ab")
    assert "".join(e.delta for e in events if type(e) is StringDelta) == "ab"
    assert len([e for e in events + list(closing) if type(e) is FieldDone]) == 3


def test_strings_inside_any_containers_stream() -> None:
    s = SchemaStream(Loose)
    events = s.feed('{"x": ["ab') + s.feed('c", {"k": "de')
    by_path: dict[Any, str] = {}
    for e in events:
        if type(e) is StringDelta:
            by_path[e.path] = by_path.get(e.path, "") + e.delta
    assert by_path == {("x", 0): "abc", ("x", 1, "k"): "de"}


class Secretive(BaseModel):
    name: str
    _token: str = PrivateAttr(default="t")


def test_partial_model_with_private_attributes_is_usable() -> None:
    s = SchemaStream(Secretive)
    s.feed('{"name": "ab')
    partial = s.partial
    assert partial.name == "ab" and "ab" in repr(partial)
    assert partial.__pydantic_private__ is None  # not initialised (docs/schema.md)
    assert partial.model_dump() == {"name": "ab"}


def test_fail_fast_false_a_container_with_an_invalid_member_gets_no_field_done() -> None:
    doc = '{"items": [{"name": "a", "qty": "x"}, {"name": "b", "qty": 1}], "n": 1}'

    class Basket(BaseModel):
        items: list[Item]
        n: int

    s = SchemaStream(Basket, fail_fast=False)
    events = s.feed(doc)
    with pytest.raises(SchemaError) as info:
        s.close()
    events += info.value.events
    assert [e.path for e in events if type(e) is FieldDone] == [
        ("items", 0, "name"), ("items", 1, "name"), ("items", 1, "qty"), ("items", 1), ("n",)]
    assert [e.path for e in events if type(e) is FieldInvalid] == [("items", 0, "qty")]
    with pytest.raises(ValidationError) as expected:
        Basket.model_validate_json(doc)
    assert [e["loc"] for e in info.value.errors] == [e["loc"] for e in expected.value.errors()]


def test_fail_fast_false_an_invalid_member_before_the_tag_fails_its_container() -> None:
    doc = '{"item": {"parts": [1, "x"], "meta": {}, "kind": "toy"}}'
    s = SchemaStream(Crate, fail_fast=False)
    events = s.feed(doc)
    with pytest.raises(SchemaError) as failed:
        s.close()
    events += failed.value.events
    done = [e.path for e in events if type(e) is FieldDone]
    assert ("item",) not in done and () not in done and ("item", "meta") in done


def test_fail_fast_false_a_nested_list_with_an_invalid_item_is_not_done() -> None:
    class Grid(BaseModel):
        grid: list[list[int]]

    doc = '{"grid": [[1, "x"], [2]]}'
    s = SchemaStream(Grid, fail_fast=False)
    events = s.feed(doc)
    with pytest.raises(SchemaError) as info:
        s.close()
    events += info.value.events
    done = [e.path for e in events if type(e) is FieldDone]
    assert done == [("grid", 0, 0), ("grid", 1, 0), ("grid", 1)]
    assert [e["loc"] for e in info.value.errors] == [("grid", 0, 1)]


class Choices(BaseModel):
    value: int = Field(validation_alias=AliasChoices("v", "val"))
    name: str = ""


@pytest.mark.parametrize("doc", ['{"v": 1, "name": "a"}', '{"val": 2, "name": "b"}', '{"name": "c", "v": 3}'])
def test_alias_choices_stream_under_each_alias(doc: str) -> None:
    s = SchemaStream(Choices)
    events = s.feed(doc)
    events += s.close()
    value = s.value
    assert value == Choices.model_validate_json(doc)
    done = {e.path for e in events if type(e) is FieldDone}
    key = "v" if '"v"' in doc else "val"
    assert done == {(key,), ("name",), ()}


def test_field_invalid_repr_lists_error_locations_and_types() -> None:
    s = SchemaStream(Item, fail_fast=False)
    events = s.feed('{"name": 5, "qty": "x"}')
    invalid = [e for e in events if type(e) is FieldInvalid]
    assert [repr(e) for e in invalid] == ["FieldInvalid(path=('name',), errors=[(('name',), 'string_type')])",
                                          "FieldInvalid(path=('qty',), errors=[(('qty',), 'int_parsing')])"]


@pytest.mark.parametrize(("count", "shown"), [(20, 20), (21, 20), (25, 20)])
def test_schema_error_message_lists_at_most_20_errors(count: int, shown: int) -> None:
    s = SchemaStream(list[int], fail_fast=False)
    s.feed("[" + ", ".join(['"x"'] * count) + "]")
    with pytest.raises(SchemaError) as info:
        s.close()
    assert len(info.value.errors) == count
    lines = str(info.value).splitlines()
    assert len([ln for ln in lines if "[type=int_parsing]" in ln]) == shown
    assert (f"  ... and {count - 20} more" in lines) is (count > 20)


class _Rec(BaseModel):
    name: str
    note: str | None


class _Recs(BaseModel):
    items: list[_Rec]


@pytest.mark.parametrize("size", [1, 2, 4])
def test_partial_while_a_literal_of_an_optional_string_field_is_open(size: int) -> None:
    # regression: `"note": nu` (a literal being written where a string may stand) made .partial raise
    doc = '{"items": [{"name": "a", "note": null}, {"name": "b", "note": "x"}]}'
    s = SchemaStream(_Recs)
    for i in range(0, len(doc), size):
        s.feed(doc[i:i + size])
        p = s.partial
        if p is not None and getattr(p, "items", None):
            last = p.items[-1]
            note = getattr(last, "note", None) if isinstance(last, _Rec) else last.get("note")
            assert note in (None, "", "x")
    s.close()
    assert s.value == _Recs.model_validate_json(doc)


class StrictFields(BaseModel):
    lax: int
    n: int = Field(default=0, strict=True)
    b: bool = Field(default=False, strict=True)


@pytest.mark.parametrize("doc", ['{"lax": true}', '{"lax": 1, "n": true}', '{"lax": 1, "n": 2.0}',
                                 '{"lax": 1, "b": 1}', '{"lax": 1, "n": 3, "b": true}'])
def test_strict_fields_accept_and_reject_like_pydantic(doc: str) -> None:
    # a JSON true is an int for a lax field but not for a strict one: no shortcut may skip strictness
    try:
        expected: Any = StrictFields.model_validate_json(doc).model_dump()
    except ValidationError:
        expected = SchemaError
    for chunks in chunkings(doc):
        s = SchemaStream(StrictFields)
        if expected is SchemaError:
            with pytest.raises(SchemaError):
                for c in chunks:
                    s.feed(c)
                s.close()
        else:
            for c in chunks:
                s.feed(c)
            s.close()
            assert s.value.model_dump() == expected and type(s.value.n) is int


class Mixed(BaseModel):
    t: tuple[int, str]
    v: Annotated[list[int], AfterValidator(lambda x: [i * 10 for i in x])]


def test_tuple_members_and_after_validated_lists_stream_member_by_member() -> None:
    doc = '{"t": [1, "ab"], "v": [1, 2]}'
    for chunks in chunkings(doc):
        s = SchemaStream(Mixed)
        events = [e for c in chunks for e in s.feed(c)] + s.close()
        done = [(e.path, e.value) for e in events if isinstance(e, FieldDone)]
        # each tuple member validated by its own type; list members of an after-validated list are
        # validated one by one, and the validator runs on the whole list
        assert done == [(("t", 0), 1), (("t", 1), "ab"), (("t",), (1, "ab")),
                        (("v", 0), 1), (("v", 1), 2), (("v",), [10, 20]), ((), s.value)]
        assert "".join(e.delta for e in events if isinstance(e, StringDelta) and e.path == ("t", 1)) == "ab"
        assert s.value == Mixed.model_validate_json(doc)


@pytest.mark.parametrize(("text", "missing"), [
    ("", [("owner",), ("items",), ("tags",), ("inner",), ("empty",), ("flag",)]),
    ("   ", [("owner",), ("items",), ("tags",), ("inner",), ("empty",), ("flag",)]),
    ('{"owner": "Ann", "items": [{"name": "t',
     [("tags",), ("inner",), ("empty",), ("flag",), ("items", 0, "qty")]),
])
def test_a_truncated_document_lists_each_missing_required_field_once(text: str, missing: list[Any]) -> None:
    s = SchemaStream(Order)
    s.feed(text)
    with pytest.raises(SchemaError) as info:
        s.close()
    assert info.value.missing == missing


class LaxText(BaseModel):
    text: str = Field(strict=False)


def test_a_str_field_marked_strict_false_still_streams_its_text() -> None:
    s = SchemaStream(LaxText)
    events = s.feed('{"text": "once upon') + s.feed(' a time"}') + s.close()
    assert [e.delta for e in events if isinstance(e, StringDelta)] == ["once upon", " a time"]
    assert s.value == LaxText(text="once upon a time")


class Titled(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: str = Field(alias="Title")


def test_the_open_string_of_an_aliased_field_or_an_extra_member_grows_in_the_partial_model() -> None:
    # the open string's slot is the field *name* (not its JSON key) and, for an extra member,
    # __pydantic_extra__: every read of `partial` shows the text so far in the right place
    s = SchemaStream(Titled)
    seen = []
    for piece in ['{"Title": "He', 'l', 'lo", "more": "a', 'b', 'c"}']:
        s.feed(piece)
        p = s.partial
        assert p is not None
        seen.append((p.title, dict(p.__pydantic_extra__ or {}), set(p.__dict__)))
    assert seen == [("He", {}, {"title"}), ("Hel", {}, {"title"}), ("Hello", {"more": "a"}, {"title"}),
                    ("Hello", {"more": "ab"}, {"title"}), ("Hello", {"more": "abc"}, {"title"})]
    s.close()
    assert s.value == Titled.model_validate_json('{"Title": "Hello", "more": "abc"}')


class Counts(BaseModel):
    d: dict[str, int]
    n: int


@pytest.mark.parametrize("fail_fast", [False, True])
@pytest.mark.parametrize("doc", ['{"d": ["x", 1], "n": 2}', '{"d": [1, "x"], "n": 2}',
                                 '{"d": [[1], {"a": "x"}], "n": 2}'])
@pytest.mark.parametrize("size", [1, 4, 1000])
def test_an_array_where_an_object_belongs_fails_like_pydantic(size: int, doc: str, fail_fast: bool) -> None:
    # Pydantic rejects the array as a whole (dict_type at ("d",)) and never looks at its items:
    # neither does the stream (no item is validated against the dict's value type)
    s = SchemaStream(Counts, fail_fast=fail_fast)
    events: list[Any] = []
    with pytest.raises(SchemaError) as info:
        for i in range(0, len(doc), size):
            events += s.feed(doc[i:i + size])
        s.close()
    events += info.value.events  # those of the call that raised
    with pytest.raises(ValidationError) as expected:
        Counts.model_validate_json(doc)
    want = [(e["loc"], e["type"]) for e in expected.value.errors()]
    assert want == [(("d",), "dict_type")]
    assert [(tuple(e["loc"]), e["type"]) for e in info.value.errors] == want
    terminal = [(type(e).__name__, e.path) for e in events if type(e) in (FieldDone, FieldInvalid)]
    assert [p for _, p in terminal if p[:1] == ("d",)] == [("d",)]  # nothing inside the array
    assert ("FieldInvalid", ("d",)) in terminal
    if not fail_fast:
        assert s.partial_dict == {"n": 2}  # docs/schema.md: an invalid object member is removed
        assert ("FieldDone", ("n",)) in terminal
