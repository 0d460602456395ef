"""Chunking invariance: events (deltas merged) and value are identical however the input is split.

Checked on Hypothesis-generated documents (random whitespace, escapes incl. surrogate-pair escapes,
astral characters), as ``str`` and as UTF-8 ``bytes`` split inside multibyte sequences, through
``Parser`` (events) and ``parse()`` (the ``events=False`` fast path), and on the bench corpus.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fieldstream
from support.core import (
    BENCH,
    chunkings,
    expected_events,
    json_texts,
    merge_events,
    oracle_loads,
    random_chunks,
    run_parse,
    run_parser,
    same_json,
    split_at,
)


def _check_all_chunkings(data: str | bytes, expected_value: Any, rnd: random.Random) -> None:
    expected = expected_events(expected_value)
    for name, chunks in chunkings(data, rnd).items():
        out = run_parser(chunks)
        assert out.error is None, (name, out.error)
        assert same_json(out.value, expected_value), name
        assert merge_events(out.events) == expected, name
        fast = run_parse(chunks)
        assert fast.error is None, (name, fast.error)
        assert same_json(fast.value, expected_value), name


@given(json_texts(), st.randoms(use_true_random=False))
def test_generated_text_yields_same_events_and_value_for_every_str_chunking(
    case: tuple[Any, str], rnd: random.Random
) -> None:
    _, text = case
    _check_all_chunkings(text, oracle_loads(text), rnd)


@given(json_texts(), st.randoms(use_true_random=False))
def test_generated_bytes_split_inside_multibyte_sequences_yield_same_events_and_value(
    case: tuple[Any, str], rnd: random.Random
) -> None:
    _, text = case
    data = text.encode("utf-8")
    _check_all_chunkings(data, oracle_loads(text), rnd)


@given(json_texts(), st.data())
def test_hypothesis_chosen_split_points_yield_same_events(case: tuple[Any, str], data: st.DataObject) -> None:
    _, text = case
    raw = text.encode()
    expected = expected_events(oracle_loads(text))
    for doc in (text, raw):
        cuts = data.draw(st.lists(st.integers(0, len(doc)), max_size=12))
        out = run_parser(split_at(doc, cuts))
        assert out.error is None, out.error
        assert merge_events(out.events) == expected


ESCAPE_HEAVY = [
    '"\\ud83d\\ude00"',
    '["a\\u00e9b", "\\ud83d\\ude00\\ud83d\\ude01", "x\\ud800y", "\\udc00", '
    '"\\ud800\\ud800\\udc00", "\\ud800"]',
    '{"k\\n": "v\\"\\\\\\/\\b\\f\\n\\r\\t", "\\ud83d\\ude00": "\\uD83D\\uDE00z"}',
    '["\\ud800\\u0041", "\\ud800\\n", "\\ud800\\"", "\\ud83d\\ude00\\ud83d"]',
    '[0, -0, -0.0, 1e5, 1E+5, 1e-5, 123.456e-7, -12345678901234567890123, true, false, null]',
    '  {"a" : [ ] , "b" : { } , "c" :"" }  \n',
    '"é😀\u2028\x7f"',
]


@pytest.mark.parametrize("text", ESCAPE_HEAVY)
def test_every_single_split_point_yields_the_same_events(text: str) -> None:
    """Cut once at every position (str) and every byte position (bytes)."""
    expected = expected_events(oracle_loads(text))
    raw = text.encode("utf-8", "surrogatepass")
    for doc in (text, raw):
        for i in range(len(doc) + 1):
            for j in (i, min(i + 1, len(doc)), min(i + 6, len(doc))):
                out = run_parser(split_at(doc, [i, j]))
                assert out.error is None, (doc, i, j, out.error)
                assert merge_events(out.events) == expected, (doc, i, j)


def _bench_files() -> list[Path]:
    return sorted(BENCH.glob("*.json"))


@pytest.fixture(scope="module", params=_bench_files(), ids=lambda p: p.name)
def bench_doc(request: pytest.FixtureRequest) -> tuple[bytes, Any, Any]:
    raw = request.param.read_bytes()
    whole = run_parser([raw])
    assert whole.error is None
    return raw, json.loads(raw), merge_events(whole.events, deep=False)


def test_bench_corpus_whole_document_equals_json_loads(bench_doc: tuple[bytes, Any, Any]) -> None:
    raw, expected, _ = bench_doc
    assert same_json(fieldstream.parse(raw), expected)
    assert same_json(fieldstream.parse(raw.decode()), expected)


@pytest.mark.parametrize("mode", ["str-random", "bytes-random", "str-4"])
def test_bench_corpus_events_identical_under_other_chunkings(
    bench_doc: tuple[bytes, Any, Any], mode: str
) -> None:
    raw, expected, whole_events = bench_doc
    rnd = random.Random(mode)
    data: str | bytes = raw if mode.startswith("bytes") else raw.decode()
    if mode == "str-4":
        # 4-character deltas (an LLM-like rate) on a slice: the whole files take too long.
        data = data[: 200_000]
        expected = None
        chunks = [data[i:i + 4] for i in range(0, len(data), 4)]
        out = run_parser(chunks)
        assert out.error is not None and out.error.kind is fieldstream.ErrorKind.INCOMPLETE
        assert out.error.pos == len(data)
        cut = run_parser([data])
        assert merge_events(out.events, deep=False) == merge_events(cut.events, deep=False)
        assert len(out.events) > 1000
        return
    chunks = random_chunks(data, rnd, 300)
    out = run_parser(chunks)
    assert out.error is None
    assert same_json(out.value, expected)
    assert merge_events(out.events, deep=False) == whole_events
    fast = run_parse(chunks)
    assert fast.error is None and same_json(fast.value, expected)


def test_bench_corpus_byte_by_byte_on_a_slice_of_twitter() -> None:
    """One byte at a time over a real document (an object taken from twitter.json)."""
    doc = json.loads((BENCH / "twitter.json").read_bytes())
    sub = json.dumps(doc["statuses"][:6], ensure_ascii=False).encode()
    expected = json.loads(sub)
    whole = run_parser([sub])
    out = run_parser([sub[i:i + 1] for i in range(len(sub))])
    assert out.error is None and same_json(out.value, expected)
    assert merge_events(out.events) == merge_events(whole.events) == expected_events(expected)
