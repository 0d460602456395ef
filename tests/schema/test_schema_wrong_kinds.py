"""Differential test of ``SchemaStream(fail_fast=False)`` against ``Model.model_validate_json``.

Random small models (nested models, ``dict[str, int]``, ``list[int]``, ``tuple[int, str]``, ``str``
fields, some optional) and documents that put a random JSON value at random fields, wrong kinds of
container included (an array where a model or dict belongs, an object where a list or tuple belongs,
a scalar where a container belongs, and the reverse). For every chunking of the text:

* the final ``SchemaError`` lists exactly Pydantic's errors (``loc`` and ``type``, with multiplicity),
  and so do the ``FieldInvalid`` events together;
* no ``FieldDone``/``FieldInvalid`` lies inside a value Pydantic rejects for its kind (``dict_type``,
  ``list_type``...): Pydantic never looks inside such a value, so neither may the stream;
* a valid document gives Pydantic's value;
* ``fail_fast=True`` stops at one of Pydantic's errors.

The event contract of :mod:`support.schema_contract` is checked on one chunking per example too.
"""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from typing import Annotated, Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from fieldstream.schema import FieldDone, FieldInvalid, SchemaError, SchemaStream
from support.core import chunkings
from support.schema_contract import run_checked

# A type tree: "str" | "dict" | "list" | "tuple" | ("model", ((tree, optional), ...)).
LEAF_KINDS = ("str", "dict", "list", "tuple")
_LEAF_TYPES: dict[str, Any] = {"str": str, "dict": dict[str, int], "list": list[int],
                               "tuple": tuple[int, str]}


def trees(depth: int = 2) -> st.SearchStrategy[Any]:
    leaves = st.sampled_from(LEAF_KINDS)
    if depth == 0:
        return leaves
    fields = st.lists(st.tuples(trees(depth - 1), st.booleans()), min_size=1, max_size=3).map(tuple)
    return leaves | leaves | st.tuples(st.just("model"), fields)


@functools.cache
def build(tree: Any) -> Any:
    """The Python type of ``tree`` (models are built once per tree, so the stream's cache works)."""
    if isinstance(tree, str):
        return _LEAF_TYPES[tree]
    fields: dict[str, Any] = {}
    for i, (sub, optional) in enumerate(tree[1]):
        tp = build(sub)
        fields[f"f{i}"] = (Optional[tp], None) if optional else (tp, ...)  # noqa: UP045 (a runtime type)
    model: type[BaseModel] = create_model(f"M{abs(hash(tree))}", **fields)  # type: ignore[call-overload]
    return model


SMALL_INTS = st.integers(-3, 3)
KEYS = st.sampled_from(["f0", "f1", "f2", "a", "b"])  # model field names too: an object may half-fit
SCALARS = st.one_of(st.none(), st.booleans(), SMALL_INTS, st.sampled_from([1.5, 2.0, -0.0]),
                    st.sampled_from(["", "x", "7", "1.5"]))
# Any JSON value: what a model may put at a field instead of the right thing.
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(KEYS, inner, max_size=3), max_leaves=6)
# A non-empty container of either kind: of the wrong kind wherever the other kind belongs.
WRONG = st.lists(SCALARS, min_size=1, max_size=3) | st.dictionaries(KEYS, SCALARS, min_size=1, max_size=3)


def documents(tree: Any, root: bool = False) -> st.SearchStrategy[Any]:
    """The right shape for ``tree`` at three positions in five, else a random JSON value or a
    non-empty container (the root: mostly an object with the model's fields)."""
    if tree == "str":
        right: st.SearchStrategy[Any] = st.sampled_from(["", "hi", "é\n"])
    elif tree == "dict":
        right = st.dictionaries(KEYS, SMALL_INTS, max_size=3)
    elif tree == "list":
        right = st.lists(SMALL_INTS, max_size=3)
    elif tree == "tuple":
        pair = st.tuples(SMALL_INTS, st.sampled_from(["", "s"])).map(list)
        # too short or too long: Pydantic reports only ``too_long`` then, whatever the items are
        right = pair | st.lists(SMALL_INTS | st.sampled_from(["s", "1"]), max_size=4)
    else:
        subs = tree[1]

        def obj(vals: list[Any], keep: list[bool]) -> dict[str, Any]:
            return {f"f{i}": v for i, (v, k) in enumerate(zip(vals, keep, strict=True)) if k}

        right = st.builds(obj, st.tuples(*(documents(sub) for sub, _ in subs)).map(list),
                          st.lists(st.sampled_from([True] * 7 + [False]), min_size=len(subs),
                                   max_size=len(subs)))
    # (weights by an integer: one_of() of the same strategy twice does not weigh it twice)
    if root:
        return st.integers(0, 9).flatmap(lambda i: WRONG if i == 9 else right)
    return st.integers(0, 4).flatmap(lambda i: JSON if i == 3 else WRONG if i == 4 else right)


def containers(tree: Any, doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[bool, tuple[Any, ...], bool]]:
    """The positions in ``doc`` where ``tree`` wants a container: (a model, path, an object)."""
    if tree == "str" or not isinstance(doc, (dict, list)):
        return []
    if tree in ("dict", "list", "tuple"):
        return [(False, path, tree == "dict")]
    out = [(True, path, True)]
    if isinstance(doc, dict):
        for i, (sub, _) in enumerate(tree[1]):
            if f"f{i}" in doc:
                out += containers(sub, doc[f"f{i}"], (*path, f"f{i}"))
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, str, int]:
    tree = draw(st.tuples(st.just("model"), st.lists(st.tuples(trees(), st.booleans()), min_size=1,
                                                      max_size=4).map(tuple)))
    doc = draw(documents(tree, root=True))
    # Most of the time, one dict/list/tuple (a nested model if there is none) gets a non-empty
    # container of the other kind, or a tuple gets too many items (some invalid).
    spots = containers(tree, doc)[1:]  # (not the root: documents() sees to it)
    spots = [spot for spot in spots if not spot[0]] or spots
    if spots and draw(st.integers(0, 3)):
        _, path, wants_object = draw(st.sampled_from(spots))
        if wants_object:
            wrong = draw(st.lists(JSON, min_size=1, max_size=3))
        else:
            too_long = st.lists(SMALL_INTS | st.sampled_from(["s", "1", 1.5]), min_size=3, max_size=4)
            wrong = draw(st.dictionaries(KEYS, JSON, min_size=1, max_size=3) | too_long)
        if not path:
            doc = wrong
        else:
            parent = doc
            for k in path[:-1]:
                parent = parent[k]
            parent[path[-1]] = wrong
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1])))
    return tree, text, draw(st.integers(0, 2**32))


def _errors(errors: list[Any]) -> Counter[tuple[tuple[Any, ...], str]]:
    return Counter((tuple(e["loc"]), e["type"]) for e in errors)


def _run(tp: Any, chunks: list[str], fail_fast: bool) -> tuple[list[Any], Any]:
    s = SchemaStream(tp, fail_fast=fail_fast)
    events: list[Any] = []
    try:
        for c in chunks:
            events += s.feed(c)
        events += s.close()
    except SchemaError as exc:
        return events + exc.events, exc
    return events, s.value


@given(cases())
def test_errors_are_pydantics_for_random_values_at_random_fields(case: tuple[Any, str, int]) -> None:
    tree, text, seed = case
    tp = build(tree)
    try:
        expected: Any = tp.model_validate_json(text)
        ref: Counter[Any] = Counter()
    except ValidationError as exc:
        expected = None
        ref = _errors(exc.errors())
    whole = {loc for loc, kind in ref if kind.endswith("_type")}  # rejected without looking inside

    rnd = random.Random(seed)
    for name, chunks in chunkings(text, rnd).items():
        events, got = _run(tp, chunks, fail_fast=False)
        where = f"{name} chunking of {text!r}"
        if expected is not None:
            assert got == expected, where
            assert not any(type(e) is FieldInvalid for e in events), where
            continue
        assert isinstance(got, SchemaError), where
        assert _errors(got.errors) == ref, where
        reported = [x for e in events if type(e) is FieldInvalid for x in e.errors]
        assert _errors(reported) == ref, where
        inside = [e.path for e in events if type(e) in (FieldDone, FieldInvalid)
                  and any(len(e.path) > len(loc) and e.path[:len(loc)] == loc for loc in whole)]
        assert not inside, f"events inside a value of the wrong kind: {inside} ({where})"

    chunks = chunkings(text, rnd)["random"]
    run_checked(tp, chunks, fail_fast=False)
    _, first = run_checked(tp, chunks, fail_fast=True)
    if expected is None:
        assert set(_errors(first.errors)) <= set(ref)


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    x: int = 0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: int = 0


class Shapes(BaseModel):
    d: dict[str, int] = {}
    l: list[int] = []  # noqa: E741
    t: tuple[int, str] = (0, "")
    short: Annotated[list[int], Field(max_length=2)] = []
    loose: Loose | None = None
    strict: Strict | None = None
    tt: tuple[tuple[int, str], int] = ((0, ""), 0)


@pytest.mark.parametrize("fail_fast", [False, True])
@pytest.mark.parametrize(("doc", "where"), [
    ('{"d": [1, "x"]}', ("d",)),  # an array where an object belongs
    ('{"l": {"a": 1, "b": "x"}}', ("l",)),  # an object where an array belongs
    ('{"t": {"0": "x"}}', ("t",)),
    ('{"loose": [1, "x"]}', ("loose",)),  # extra members allowed: still no member here
    ('{"strict": [1, "x"]}', ("strict",)),  # extra members forbidden: still no extra_forbidden
    ('{"d": {"a": [1]}, "l": [{"x": 1}]}', ("d", "a")),  # the reverse, inside
    ('{"t": [1, 2, 3]}', ("t",)),  # too long: Pydantic reports only too_long, not t.1
    ('{"short": ["x", 1, 2]}', ("short",)),
    ('{"tt": [[1, 2, 3], 1]}', ("tt", 0)),
    ('{"tt": [["x", "s"], 1, 2]}', ("tt",)),
])
def test_wrong_kinds_and_too_long_containers_fail_like_pydantic(doc: str, where: tuple[Any, ...],
                                                               fail_fast: bool) -> None:
    with pytest.raises(ValidationError) as ref:
        Shapes.model_validate_json(doc)
    want = _errors(ref.value.errors())
    assert where in {loc for loc, _ in want}
    for size in (1, 3, len(doc)):
        events, got = _run(Shapes, [doc[i:i + size] for i in range(0, len(doc), size)], fail_fast)
        assert isinstance(got, SchemaError)
        if fail_fast:
            assert set(_errors(got.errors)) <= set(want)
        else:
            assert _errors(got.errors) == want
        # nothing invalid inside; nothing at all inside a container of the wrong kind (a valid item
        # of a container that turns out too long was reported before the stream could know)
        wrong_kind = any(loc == where and kind.endswith("_type") for loc, kind in want)
        shown = (FieldDone, FieldInvalid) if wrong_kind else (FieldInvalid,)
        inside = [e.path for e in events
                  if type(e) in shown and e.path[:len(where)] == where and len(e.path) > len(where)]
        assert not inside, (size, inside)


@pytest.mark.parametrize("doc", ['{"t": ["x", "s"], "l": [1]}', '{"short": ["x", 2], "l": [1]}'])
def test_an_invalid_item_of_a_tuple_or_bounded_list_is_reported_when_it_closes(doc: str) -> None:
    # until then, Pydantic might still report only too_long for the container
    s = SchemaStream(Shapes)
    end = doc.index("]") + 1
    assert not any(type(e) is FieldInvalid for e in s.feed(doc[:end - 1]))
    with pytest.raises(SchemaError) as info:
        s.feed(doc[end - 1:])
    with pytest.raises(ValidationError) as ref:
        Shapes.model_validate_json(doc)
    assert _errors(info.value.errors) == _errors(ref.value.errors())
    assert next(e.path for e in info.value.events if type(e) is FieldInvalid)[1] == 0
