"""fieldstream.testing: the strategies generate what they promise, and the documented example runs."""

from __future__ import annotations

import json
import math
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import fieldstream
from fieldstream.testing import chunkings, json_texts, json_values, llm_deltas, model_instances, mutations

FAST = settings(max_examples=60, deadline=None)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a) == json.dumps(b)


@FAST
@given(st.data())
def test_json_texts_load_to_the_value_they_were_made_from(data: st.DataObject) -> None:
    value = data.draw(json_values())
    text = data.draw(json_texts(st.just(value)))
    assert _same(json.loads(text), value)
    assert _same(fieldstream.parse(text), value)


@FAST
@given(st.data())
def test_chunkings_are_non_empty_and_concatenate_to_the_text(data: st.DataObject) -> None:
    text = data.draw(json_texts())
    for whole in (text, text.encode()):
        chunks = data.draw(chunkings(whole))
        assert all(len(c) for c in chunks)
        assert whole[:0].join(chunks) == whole


def test_chunkings_of_bytes_can_split_inside_a_multibyte_sequence() -> None:
    raw = '"\U0001F600"'.encode()

    @settings(max_examples=200, deadline=None)
    @given(chunkings(raw))
    def record(chunks: list[bytes]) -> None:
        seen.update(len(c) for c in chunks[:1])

    seen: set[int] = set()
    record()
    assert seen & {2, 3, 4}  # the first cut fell inside the 4-byte sequence at least once


def test_chunkings_can_split_inside_escapes_and_between_surrogate_halves() -> None:
    text = '"\\ud83d\\ude00"'
    cuts: set[int] = set()

    @settings(max_examples=200, deadline=None)
    @given(chunkings(text))
    def record(chunks: list[str]) -> None:
        cuts.add(len(chunks[0]))

    record()
    assert 7 in cuts and any(2 <= c <= 6 for c in cuts)


@FAST
@given(st.data())
def test_llm_deltas_concatenate_to_the_text_in_short_pieces(data: st.DataObject) -> None:
    text = data.draw(json_texts())
    deltas = data.draw(llm_deltas(text))
    assert "".join(deltas) == text
    assert all(deltas)


@FAST
@given(st.data())
def test_mutated_texts_are_accepted_or_rejected_like_json_loads(data: st.DataObject) -> None:
    text = data.draw(json_texts())
    mutated = data.draw(mutations(text))
    try:
        expected: Any = json.loads(mutated)
    except ValueError:
        expected = ValueError
    try:
        got: Any = fieldstream.parse(mutated)
    except fieldstream.StreamError:
        got = ValueError
    if expected is ValueError or got is ValueError:
        # NaN/Infinity aside, both agree on rejection
        assert got is expected or (isinstance(expected, float) and not math.isfinite(expected))
    else:
        assert _same(got, expected)


class Item(BaseModel):
    name: str
    qty: int = 1


class Order(BaseModel):
    id: int
    items: list[Item]
    status: Literal["open", "closed"]
    note: str | None = None


@FAST
@given(model_instances(Order))
def test_model_instances_are_valid_json_of_the_model(text: str) -> None:
    order = Order.model_validate_json(text)
    assert _same(json.loads(text), json.loads(order.model_dump_json()))


def test_docstring_example_of_a_user_testing_a_renderer_runs() -> None:
    import fieldstream.testing as testing

    doc = testing.__doc__
    assert doc is not None
    code = doc.split("for chunking invariance::", 1)[1]
    lines = [line[4:] for line in code.splitlines() if line.startswith("    ") or not line.strip()]
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)
    test = namespace["test_render_does_not_depend_on_chunking"]
    settings(max_examples=30, deadline=None)(test)()


@pytest.mark.parametrize("name", ["chunkings", "json_texts", "json_values", "llm_deltas", "model_instances",
                                  "mutations"])
def test_strategies_are_exported(name: str) -> None:
    import fieldstream.testing as testing

    assert name in testing.__all__ and callable(getattr(testing, name))
