"""LenientFilter: finds the JSON inside LLM prose and fences; positions are absolute."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fieldstream
from fieldstream._lenient import LenientFilter

DOC = '{"answer": "use {braces} and [brackets] \\" freely", "n": [1, {"x": null}]}'
WRAPPED = {
    "bare": DOC,
    "fence": "```json\n" + DOC + "\n```",
    "fence_no_lang": "```\n" + DOC + "\n```\n",
    "prose_before": "Sure! Here is the JSON you asked for:\n" + DOC,
    "prose_after": DOC + "\n\nLet me know if you need anything else.",
    "both": "Here you go:\n\n```json\n" + DOC + "\n```\n\nHope this helps! {not json}",
    "array_root": "Result: [1, 2, \"]\"] done",
}


def run(raw: str, chunks: list[str]) -> tuple[object, list[tuple[str, int]]]:
    f = LenientFilter()
    p = fieldstream.Parser()
    skipped: list[tuple[str, int]] = []
    for c in chunks:
        text, sk = f.feed(c)
        skipped.extend(sk)
        if text:
            p.feed(text)
    text, sk = f.close()
    skipped.extend(sk)
    p.close()
    return p.value, skipped


@pytest.mark.parametrize("name", sorted(WRAPPED))
def test_wrapped_outputs_parse_in_every_two_way_split(name: str) -> None:
    raw = WRAPPED[name]
    expected_json = json.loads(raw[raw.index("["):raw.rindex("]") + 1]) if name == "array_root" else \
        json.loads(DOC)
    for cut in range(len(raw) + 1):
        value, skipped = run(raw, [raw[:cut], raw[cut:]])
        assert value == expected_json
        for text, pos in skipped:
            assert raw[pos:pos + len(text)] == text


@pytest.mark.parametrize("name", ["fence", "prose_before", "prose_after", "both"])
def test_strict_parser_rejects_wrapped_outputs(name: str) -> None:
    with pytest.raises(fieldstream.StreamError):
        fieldstream.parse(WRAPPED[name])


def test_skipped_text_is_reported_with_absolute_positions() -> None:
    raw = WRAPPED["both"]
    _, skipped = run(raw, [raw])
    assert skipped == [("Here you go:\n\n```json\n", 0), ("\n```\n\nHope this helps! {not json}",
                                                              raw.index(DOC) + len(DOC))]


def test_offset_locates_the_json_in_the_raw_stream() -> None:
    f = LenientFilter()
    f.feed("Text before ")
    f.feed("```json\n{")
    assert f.offset == len("Text before ```json\n")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(WRAPPED)), st.lists(st.integers(0, 400), max_size=10))
def test_random_chunkings_give_the_same_value_and_skips(name: str, cuts: list[int]) -> None:
    raw = WRAPPED[name]
    bounds = sorted({0, len(raw), *(c % (len(raw) + 1) for c in cuts)})
    chunks = [raw[a:b] for a, b in itertools.pairwise(bounds)]
    value, skipped = run(raw, chunks)
    ref_value, ref_skipped = run(raw, [raw])
    assert value == ref_value
    assert "".join(t for t, _ in skipped) == "".join(t for t, _ in ref_skipped)
