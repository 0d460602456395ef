"""SchemaStream: events, validation, early failure, partial views; oracle = pydantic itself."""

from __future__ import annotations

import enum
import itertools
import json
from typing import Annotated, Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, create_model

import fieldstream
from fieldstream.schema import FieldDone, FieldInvalid, SchemaError, SchemaStream, Skipped
from support.schema_contract import merge_schema_events, run_checked


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(alias="Lives")


class Dog(BaseModel):
    kind: Literal["dog"]
    bark: str = Field(pattern="^w")


class Story(BaseModel):
    title: str
    content: str
    moral: str
    tags: list[str] = []


class Zoo(BaseModel):
    name: str
    color: Color
    star: Annotated[Cat | Dog, Field(discriminator="kind")]
    pets: list[Cat | Dog] = []
    scores: dict[str, int | None] = {}
    parent: Zoo | None = None


def run(tp: Any, chunks: list[str], **opts: Any) -> tuple[list[Any], Any]:
    s = SchemaStream(tp, **opts)
    events: list[Any] = []
    for c in chunks:
        events.extend(s.feed(c))
    events.extend(s.close())
    return events, s.value


def split(text: str, cuts: list[int]) -> list[str]:
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


ZOO = json.dumps({
    "name": "City zoo", "color": "red", "star": {"kind": "dog", "bark": "woof"},
    "pets": [{"kind": "cat", "Lives": 9}, {"Lives": 3, "kind": "cat"}],
    "scores": {"a": 1, "b": None},
    "parent": {"name": "Root", "color": "blue", "star": {"Lives": 1, "kind": "cat"}},
})


def test_story_streams_string_deltas_and_validated_fields() -> None:
    doc = '{"title": "Dune", "content": "A desert planet", "moral": "fear is the mind-killer"}'
    events, story = run(Story, [doc[i:i + 4] for i in range(0, len(doc), 4)])
    text = "".join(e.delta for e in events
                   if isinstance(e, fieldstream.StringDelta) and e.path == ("content",))
    assert text == "A desert planet"
    done = {e.path: e.value for e in events if isinstance(e, FieldDone)}
    assert done[("title",)] == "Dune"
    assert done[()] == Story.model_validate_json(doc) == story


def test_every_field_is_validated_when_complete_with_coerced_value() -> None:
    events, zoo = run(Zoo, [ZOO])
    done = {e.path: e.value for e in events if isinstance(e, FieldDone)}
    assert done[("color",)] is Color.RED
    assert done[("star",)] == Dog(kind="dog", bark="woof")
    assert done[("pets", 1)] == Cat(kind="cat", Lives=3)
    assert done[("parent", "star", "Lives")] == 1
    assert ("pets", 0, "Lives") not in done  # plain unions are validated as a whole
    assert done[("scores", "b")] is None
    assert zoo == Zoo.model_validate_json(ZOO)


def test_enum_literal_and_pattern_strings_do_not_stream() -> None:
    events, _ = run(Zoo, [ZOO])
    streamed = {e.path for e in events if isinstance(e, fieldstream.StringDelta)}
    assert ("name",) in streamed
    assert ("color",) not in streamed
    assert ("star", "bark") not in streamed  # pattern-constrained


def test_alias_is_the_json_key_in_path_and_field_name_in_field_path() -> None:
    events, _ = run(Zoo, [ZOO])
    ev = next(e for e in events if isinstance(e, FieldDone) and e.path == ("parent", "star", "Lives"))
    assert ev.field_path == ("parent", "star", "lives")
    assert ev.dotted == "parent.star.Lives"
    assert ev.field_dotted == "parent.star.lives"


def test_discriminated_union_validates_members_once_branch_known() -> None:
    doc = '{"name": "z", "color": "blue", "star": {"kind": "cat", "Lives": "x"}}'
    s = SchemaStream(Zoo)
    with pytest.raises(SchemaError) as info:
        s.feed(doc[:-2])  # the star object is not closed yet: the member itself fails
    assert info.value.path == ("star", "Lives")
    assert [e["loc"] for e in info.value.errors] == [("star", "cat", "Lives")]
    with pytest.raises(ValidationError) as ref:
        Zoo.model_validate_json(doc)
    assert [e["loc"] for e in ref.value.errors()] == [("star", "cat", "Lives")]


def test_early_failure_happens_before_the_rest_of_the_document() -> None:
    doc = '{"name": "z", "color": "green", "star": {"kind": "cat", "Lives": 1}, "pets": []}'
    s = SchemaStream(Zoo)
    fed = 0
    with pytest.raises(SchemaError) as info:
        for i in range(0, len(doc), 3):
            fed = i + 3
            s.feed(doc[i:i + 3])
    assert fed < doc.index("star")
    err = info.value
    assert err.path == ("color",) and err.kind == "invalid"
    assert isinstance(err.events[-1], FieldInvalid) and err.events[-1].path == ("color",)
    assert err.pos == fed
    with pytest.raises(SchemaError):
        s.feed("x")


def test_fail_fast_off_reports_every_invalid_field_then_raises_at_close() -> None:
    doc = '{"name": 1, "color": "green", "star": {"kind": "cat", "Lives": 1}}'
    events: list[Any] = []
    s = SchemaStream(Zoo, fail_fast=False)
    events.extend(s.feed(doc))
    with pytest.raises(SchemaError) as info:
        s.close()
    assert [e.path for e in events if isinstance(e, FieldInvalid)] == [("name",), ("color",)]
    with pytest.raises(ValidationError) as ref:
        Zoo.model_validate_json(doc)
    assert sorted(e["loc"] for e in info.value.errors) == sorted(e["loc"] for e in ref.value.errors())


def test_missing_required_fields_are_all_named() -> None:
    s = SchemaStream(Story)
    with pytest.raises(SchemaError) as info:
        s.feed('{"title": "x"}')
        s.close()
    assert sorted(info.value.missing) == [("content",), ("moral",)]
    assert info.value.kind == "missing"


def test_truncated_document_reports_missing_paths_at_close() -> None:
    s = SchemaStream(Zoo)
    s.feed('{"name": "z", "star": {"kind": "cat"')
    with pytest.raises(SchemaError) as info:
        s.close()
    assert info.value.kind == "incomplete"
    assert ("color",) in info.value.missing and ("star", "Lives") in info.value.missing


def test_extra_forbid_fails_at_the_key() -> None:
    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")
        a: int

    s = SchemaStream(Strict)
    with pytest.raises(SchemaError) as info:
        s.feed('{"a": 1, "zzz": [1, 2')
    assert info.value.path == ("zzz",) and info.value.kind == "extra_forbidden"


def test_extra_ignore_hides_unknown_keys() -> None:
    events, story = run(Story, ['{"title": "t", "junk": {"x": "y"}, "content": "c", "moral": "m"}'])
    assert not any(e.path and e.path[0] == "junk" for e in events if not isinstance(e, Skipped))
    assert story.title == "t"


def test_partial_views_follow_the_stream() -> None:
    s = SchemaStream(Zoo)
    s.feed('{"name": "City", "color": "red", "pets": [{"kind": "cat", "Lives": 2}, {"kind": "c')
    assert s.partial_dict == {"name": "City", "color": "red",  # the JSON as written
                              "pets": [{"kind": "cat", "Lives": 2}, {"kind": "c"}]}
    assert s.partial_dict is s.parser.snapshot()  # no second copy of the document
    p = s.partial
    assert isinstance(p, Zoo) and p.name == "City" and p.color is Color.RED
    assert p.pets[0] == Cat(kind="cat", Lives=2)
    assert not hasattr(p, "star")  # missing fields are absent
    assert p.pets[1] == {"kind": "c"}  # tagged union, branch not known yet: raw members
    s.feed('at", "Lives": 3}], "star": {"kind": "dog", "bark": "woof"}, "parent": {"name": "Ro')
    assert s.partial is p and p.pets[1] == Cat(kind="cat", Lives=3)  # live, validated when complete
    assert p.star == Dog(kind="dog", bark="woof")
    assert p.parent is not None and p.parent.name == "Ro" and s.partial_dict["parent"]["name"] == "Ro"
    s.feed('ot", "color": "blue", "star": {"Lives": 1, "kind": "cat"}}}')
    s.close()
    assert s.partial == s.value == Zoo.model_validate_json(json.dumps(s.partial_dict))


def test_paths_filter_selects_events() -> None:
    events, _ = run(Zoo, [ZOO], paths=["scores.*", "/**/bark"])  # "$..bark": core bug, see report
    paths = {e.path for e in events}
    assert paths == {("scores", "a"), ("scores", "b"), ("star", "bark")}


def test_root_model_and_non_object_roots() -> None:
    class Tags(RootModel[list[int]]):
        pass

    events, tags = run(Tags, ["[1, 2", ", 3]"])
    assert tags == Tags([1, 2, 3])
    assert [e.path for e in events if isinstance(e, FieldDone)][:3] == [(0,), (1,), (2,)]
    _, n = run(int, ["4", "2"])
    assert n == 42
    _, d = run(dict[str, list[float]], ['{"a": [1, 2.5]}'])
    assert d == {"a": [1.0, 2.5]}


def test_strict_mode_rejects_wrapped_output_and_lenient_accepts_it() -> None:
    raw = 'Sure!\n```json\n{"title": "a", "content": "b", "moral": "c"}\n```\nAnything else?'
    with pytest.raises(fieldstream.StreamError):
        run(Story, [raw])
    events, story = run(Story, [raw[i:i + 5] for i in range(0, len(raw), 5)], lenient=True)
    assert story == Story(title="a", content="b", moral="c")
    skipped = [e for e in events if isinstance(e, Skipped)]
    assert "".join(e.text for e in skipped) == "Sure!\n```json\n\n```\nAnything else?"
    assert all(raw[e.pos:e.pos + len(e.text)] == e.text for e in skipped)


# ----------------------------------------------------------------------------- random models

_counter = itertools.count()

leaf_kinds = st.sampled_from(["str", "int", "float", "bool", "lit", "enum", "constr", "opt_int"])


def type_trees() -> st.SearchStrategy[Any]:
    return st.recursive(
        leaf_kinds,
        lambda inner: st.one_of(
            st.tuples(st.just("list"), inner),
            st.tuples(st.just("dict"), inner),
            st.tuples(st.just("model"), st.lists(st.tuples(inner, st.booleans(), st.booleans()),
                                                 min_size=1, max_size=4)),
            st.tuples(st.just("tagged"), st.lists(
                st.tuples(st.just("model"), st.lists(st.tuples(inner, st.booleans(), st.booleans()),
                                                     min_size=1, max_size=3)), min_size=1, max_size=3)),
            st.tuples(st.just("opt"), inner),
        ),
        max_leaves=8,
    )


def build_type(tree: Any, tag: str | None = None) -> Any:
    if tree == "str":
        return str
    if tree == "int":
        return int
    if tree == "float":
        return float
    if tree == "bool":
        return bool
    if tree == "lit":
        return Literal["a", "b"]
    if tree == "enum":
        return Color
    if tree == "constr":
        return Annotated[str, Field(max_length=3)]
    if tree == "opt_int":
        return int | None
    if tree[0] == "list":
        return list[build_type(tree[1])]  # type: ignore[misc]
    if tree[0] == "dict":
        return dict[str, build_type(tree[1])]  # type: ignore[misc]
    if tree[0] == "opt":
        return build_type(tree[1]) | None
    if tree[0] == "tagged":
        branches = [build_type(sub, tag=f"k{j}") for j, sub in enumerate(tree[1])]
        if len(branches) == 1:
            return branches[0]
        union: Any = branches[0]
        for b in branches[1:]:
            union = union | b
        return Annotated[union, Field(discriminator="kind")]
    fields: dict[str, Any] = {}
    if tag is not None:
        fields["kind"] = (Literal[tag], ...)
    for i, (sub, aliased, _) in enumerate(tree[1]):
        tp = build_type(sub)
        fields[f"f{i}"] = (tp, Field(alias=f"F-{i}") if aliased else ...)
    return create_model(f"R{next(_counter)}", **fields)  # type: ignore[call-overload]


def values(tree: Any, bad: bool) -> st.SearchStrategy[Any]:
    """JSON data for ``tree``; with ``bad`` some leaves may be of a wrong type or a field missing."""
    wrong = st.sampled_from([[], {}, "zz", 1.5, True, None, "1234"])
    base: st.SearchStrategy[Any]
    if tree == "str":
        base = st.text(max_size=8)
    elif tree == "int":
        base = st.integers(-10**6, 10**6)
    elif tree == "float":
        base = st.floats(allow_nan=False, allow_infinity=False)
    elif tree == "bool":
        base = st.booleans()
    elif tree == "lit":
        base = st.sampled_from(["a", "b"])
    elif tree == "enum":
        base = st.sampled_from(["red", "blue"])
    elif tree == "constr":
        base = st.text(max_size=3)
    elif tree == "opt_int":
        base = st.one_of(st.none(), st.integers(-5, 5))
    elif tree[0] == "list":
        base = st.lists(values(tree[1], bad), max_size=3)
    elif tree[0] == "dict":
        base = st.dictionaries(st.text(max_size=3), values(tree[1], bad), max_size=3)
    elif tree[0] == "opt":
        base = st.one_of(st.none(), values(tree[1], bad))
    elif tree[0] == "tagged":
        tags = st.sampled_from(["zz", "k0"]) if bad else st.just(None)

        def tagged(j: int, obj: Any, first: bool, wrong: str | None) -> Any:
            if not isinstance(obj, dict):
                return obj
            tag = wrong if wrong is not None and wrong != "k0" else f"k{j}"
            return {"kind": tag, **obj} if first else {**obj, "kind": tag}

        base = st.one_of(*(st.builds(tagged, st.just(j), values(sub, bad), st.booleans(), tags)
                           for j, sub in enumerate(tree[1])))
    else:
        subs = tree[1]
        keys = [f"F-{i}" if aliased else f"f{i}" for i, (_, aliased, _) in enumerate(subs)]

        def obj(vals: list[Any], drop: list[bool]) -> dict[str, Any]:
            return {k: v for k, v, d in zip(keys, vals, drop, strict=True) if not (bad and d)}

        base = st.builds(obj, st.tuples(*(values(s, bad) for s, _, _ in subs)).map(list),
                         st.lists(st.booleans().map(lambda b: b and False), min_size=len(subs),
                                  max_size=len(subs)) if not bad else
                         st.lists(st.sampled_from([False] * 6 + [True]), min_size=len(subs),
                                  max_size=len(subs)))
    if bad:
        return st.one_of(base, base, base, wrong)
    return base


@st.composite
def model_docs(draw: st.DrawFn, bad: bool) -> tuple[Any, str, list[int]]:
    tree = draw(st.tuples(st.just("model"), st.lists(st.tuples(type_trees(), st.booleans(), st.booleans()),
                                                      min_size=1, max_size=4)))
    tp = build_type(tree)
    data = draw(values(tree, bad))
    doc = json.dumps(data) if bad else tp.model_validate(data).model_dump_json(by_alias=True)
    cuts = draw(st.lists(st.integers(0, 10**6), max_size=12))
    return tp, doc, cuts


def normalized(events: list[Any]) -> list[Any]:
    """Events with consecutive string deltas merged (their split depends on the chunking)."""
    out: list[Any] = []
    for e in events:
        if isinstance(e, fieldstream.StringDelta) and out and isinstance(out[-1], tuple) and \
                out[-1][1] == e.path:
            out[-1] = ("delta", e.path, out[-1][2] + e.delta)
        elif isinstance(e, fieldstream.StringDelta):
            out.append(("delta", e.path, e.delta))
        elif isinstance(e, FieldInvalid):
            out.append(("invalid", e.path, [(x["loc"], x["type"]) for x in e.errors]))
        else:
            out.append(e)
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(model_docs(bad=False))
def test_random_models_chunking_invariant_and_equal_to_model_validate_json(case: Any) -> None:
    tp, doc, cuts = case
    whole_events, whole = run(tp, [doc])
    events, result = run(tp, split(doc, cuts))
    assert normalized(events) == normalized(whole_events)
    assert result == whole == tp.model_validate_json(doc)
    assert [e.path for e in events if isinstance(e, FieldDone)][-1] == ()


def outcome(tp: Any, chunks: list[str], fail_fast: bool) -> tuple[Any, list[Any]]:
    s = SchemaStream(tp, fail_fast=fail_fast)
    events: list[Any] = []
    try:
        for c in chunks:
            events.extend(s.feed(c))
        events.extend(s.close())
        return s.value, events
    except SchemaError as exc:
        events.extend(exc.events if fail_fast else [])
        return exc, events


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(model_docs(bad=True))
def test_random_documents_differential_against_model_validate_json(case: Any) -> None:
    tp, doc, cuts = case
    try:
        expected: Any = tp.model_validate_json(doc)
        ref_locs: set[Any] = set()
    except ValidationError as exc:
        expected = None
        ref_locs = {e["loc"] for e in exc.errors()}
    got, _ = outcome(tp, split(doc, cuts), fail_fast=False)
    if expected is not None:
        assert got == expected
        return
    assert isinstance(got, SchemaError)
    assert {tuple(e["loc"]) for e in got.errors} == ref_locs
    first, events = outcome(tp, split(doc, cuts), fail_fast=True)
    assert isinstance(first, SchemaError)
    assert {tuple(e["loc"]) for e in first.errors} <= ref_locs
    assert isinstance(events[-1], FieldInvalid)


def test_extra_allow_reports_unknown_members() -> None:
    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int

    events, value = run(Open, ['{"a": 1, "zz": "hi", "q": [1]}'])
    done = {e.path: e.value for e in events if isinstance(e, FieldDone)}
    assert done[("zz",)] == "hi" and done[("q",)] == [1]
    assert value == Open.model_validate_json('{"a": 1, "zz": "hi", "q": [1]}')


def test_before_validators_and_str_config_are_respected() -> None:
    class Upper(BaseModel):
        model_config = ConfigDict(str_strip_whitespace=True)
        s: str
        t: list[str]

    events, value = run(Upper, ['{"s": "  hi  ", "t": [" a "]}'])
    assert not any(isinstance(e, fieldstream.StringDelta) for e in events)  # text would change
    assert value == Upper(s="hi", t=["a"])
    assert {e.path: e.value for e in events if isinstance(e, FieldDone)}[("t", 0)] == "a"


def test_unknown_discriminator_fails_like_pydantic() -> None:
    doc = '{"name": "z", "color": "red", "star": {"Lives": 1, "kind": "fish"}}'
    got, _ = outcome(Zoo, [doc], fail_fast=True)
    assert isinstance(got, SchemaError)
    with pytest.raises(ValidationError) as ref:
        Zoo.model_validate_json(doc)
    assert [(e["loc"], e["type"]) for e in got.errors] == [(e["loc"], e["type"]) for e in ref.value.errors()]


def test_bytes_deltas_split_inside_utf8_work() -> None:
    raw = '{"title": "caf\u00e9 \U0001f600", "content": "c", "moral": "m"}'.encode()
    _, story = run(Story, [raw[i:i + 1] for i in range(len(raw))])  # type: ignore[misc]
    assert story.title == "caf\u00e9 \U0001f600"


def test_lenient_error_position_is_absolute_in_the_raw_stream() -> None:
    s = SchemaStream(Story, lenient=True)
    with pytest.raises(SchemaError) as info:
        s.feed('Hello {"title": 5}')
    assert info.value.pos == len('Hello {"title": 5}')  # the end of the delta, raw offsets


def test_close_returns_what_the_end_of_input_completed_and_value_is_then_ready() -> None:
    s = SchemaStream(int)
    assert not any(isinstance(e, FieldDone) for e in s.feed("42"))  # 42 might go on: 420
    with pytest.raises(SchemaError) as info:
        _ = s.value
    assert info.value.kind == "incomplete"
    done = [e for e in s.close() if isinstance(e, FieldDone)]
    assert [(e.path, e.value) for e in done] == [((), 42)]
    assert s.value == 42


def test_value_is_ready_when_the_root_completes_and_raises_the_failure_after_one() -> None:
    s = SchemaStream(Story)
    s.feed('{"title": "t", "content": "c", "moral": "m"}')
    assert s.value == Story(title="t", content="c", moral="m")  # before close(), like Parser.value
    assert s.close() == []
    bad = SchemaStream(Story, fail_fast=False)
    bad.feed('{"title": 1, "content": "c", "moral": "m"}')
    with pytest.raises(SchemaError) as info:
        bad.close()
    with pytest.raises(SchemaError) as again:
        _ = bad.value
    assert again.value is info.value


# ----------------------------------------------------------------------------- the event contract


def _chunkings(doc: str, cuts: list[int]) -> list[list[str]]:
    return [[doc], split(doc, cuts), [doc[i:i + 3] for i in range(0, len(doc), 3)]]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(model_docs(bad=False))
def test_event_contract_on_valid_documents_for_every_chunking(case: Any) -> None:
    tp, doc, cuts = case
    merged = [merge_schema_events(run_checked(tp, chunks)[0]) for chunks in _chunkings(doc, cuts)]
    assert merged[1] == merged[0] and merged[2] == merged[0]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(model_docs(bad=True), st.booleans())
def test_event_contract_on_random_documents_for_every_chunking(case: Any, fail_fast: bool) -> None:
    tp, doc, cuts = case
    runs = [run_checked(tp, chunks, fail_fast=fail_fast) for chunks in _chunkings(doc, cuts)]
    if not fail_fast:  # with fail_fast the events end with the call that failed: chunking-dependent
        merged = [merge_schema_events(events) for events, _ in runs]
        assert merged[1] == merged[0] and merged[2] == merged[0]


def test_event_contract_on_the_zoo_with_opaque_unions() -> None:
    opaque = {("pets", 0, "kind"), ("pets", 0, "Lives"), ("pets", 1, "Lives"), ("pets", 1, "kind")}
    for step in (1, 4, len(ZOO)):
        run_checked(Zoo, [ZOO[i:i + step] for i in range(0, len(ZOO), step)], opaque=opaque.__contains__)


class _DoneAtStart(SchemaStream[Any]):
    """A planted bug: a FieldDone for each array also when it starts."""

    def feed(self, delta: str | bytes) -> list[Any]:
        out: list[Any] = []
        for e in super().feed(delta):
            out.append(e)
            if isinstance(e, fieldstream.ValueStart) and e.kind == "array":
                out.append(FieldDone(e.path, []))
        return out


class _LastDeltaLost(SchemaStream[Any]):
    """A planted bug: the last delta of each string is lost."""

    def feed(self, delta: str | bytes) -> list[Any]:
        evs = super().feed(delta)
        return [e for i, e in enumerate(evs)
                if not (isinstance(e, fieldstream.StringDelta) and i + 1 < len(evs)
                        and isinstance(evs[i + 1], FieldDone))]


@pytest.mark.parametrize("planted", [_DoneAtStart, _LastDeltaLost])
def test_the_contract_checker_catches_planted_bugs(planted: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import support.schema_contract as contract

    doc = '{"title": "t", "content": "some text", "moral": "m", "tags": ["x", "y"]}'
    chunks = [doc[i:i + 3] for i in range(0, len(doc), 3)]
    run_checked(Story, chunks, streamed=lambda path: True)
    monkeypatch.setattr(contract, "SchemaStream", planted)
    with pytest.raises(AssertionError):
        run_checked(Story, chunks, streamed=lambda path: True)  # every string of a Story streams


# ----------------------------------------------------------------------------- live partial views


class _Rec(BaseModel):
    name: str
    qty: int


class _Article(BaseModel):
    title: str
    records: list[_Rec]
    body: str


@pytest.mark.parametrize("step", [1, 4, 7])
def test_partial_views_after_every_delta_match_a_bare_parser(step: int) -> None:
    doc = json.dumps({"title": "T\u00e9", "records": [{"name": "a\\n", "qty": 1}, {"name": "bb", "qty": 22}],
                      "body": "# md\n" + "long text " * 30})
    s = SchemaStream(_Article)
    bare = fieldstream.Parser()
    for i in range(0, len(doc), step):
        s.feed(doc[i:i + step])
        bare.feed(doc[i:i + step])
        p = s.partial
        if i % 3 == 0:
            assert s.partial_dict == bare.snapshot(copy=True)  # the parser's document, no copy kept
        pd = bare.snapshot()
        if pd is None:
            assert p is None
            continue
        assert isinstance(p, _Article)
        for name in ("title", "body"):
            assert getattr(p, name, None) == pd.get(name)  # the open string's text so far
        recs = pd.get("records", [])
        assert len(getattr(p, "records", [])) == len(recs)
        for got, raw in zip(getattr(p, "records", []), recs, strict=True):
            assert getattr(got, "name", None) == raw.get("name")
            assert getattr(got, "qty", None) == raw.get("qty")
    s.close()
    assert s.partial == s.value == _Article.model_validate_json(doc)


def test_invalid_list_items_keep_their_index_in_both_views() -> None:
    s = SchemaStream(list[_Rec], fail_fast=False)
    s.feed('[{"name": "a", "qty": 1}, {"name": "b", "qty": "x"}, {"name": "c", "qty": 3}, {"name": "d')
    # the invalid item stays (later items keep their index), without its invalid member
    assert s.partial_dict == [{"name": "a", "qty": 1}, {"name": "b"}, {"name": "c", "qty": 3}, {"name": "d"}]
    p = s.partial
    assert p is not None and p[0] == _Rec(name="a", qty=1) and p[2] == _Rec(name="c", qty=3)
    assert p[1] == {"name": "b"}  # invalid: kept raw
    assert p[3].name == "d"


def test_invalid_object_members_leave_both_views_but_not_the_validation() -> None:
    s = SchemaStream(Story, fail_fast=False)
    s.feed('{"title": 5, "content": "c", "tags": ["a", 1]')
    assert s.partial_dict == {"content": "c"}  # "title" and "tags" (an invalid item inside) are invalid
    assert s.partial is not None and s.partial.content == "c" and not hasattr(s.partial, "tags")
    with pytest.raises(SchemaError) as info:
        s.feed(', "moral": "m"}')
        s.close()
    with pytest.raises(ValidationError) as ref:
        Story.model_validate_json('{"title": 5, "content": "c", "tags": ["a", 1], "moral": "m"}')
    assert {tuple(e["loc"]) for e in info.value.errors} == {e["loc"] for e in ref.value.errors()}
