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


# ------------------------------------------------------------- bytes that are not UTF-8 (lenient mode)
_NOT_UTF8 = [
    (b'Here: {"a": "x"}\xc3', "invalid_utf8"),  # cut inside a character after the document
    (b'Here: {"a": "x\xc3', "incomplete"),  # cut inside a character of an open string
    (b'Here:\n {"a": "x\xff"}', "invalid_utf8"),  # a byte that never starts a character
    (b'```json\n{"a": "\xe2\x82"} ok', "invalid_utf8"),  # a character cut short, then more
    (b'{"a": "x"} and then \xed\xa0\x80', "invalid_utf8"),  # an encoded surrogate in the prose after
]


@pytest.mark.parametrize(("data", "kind"), _NOT_UTF8)
def test_lenient_bytes_that_are_not_utf8_raise_stream_error_at_the_same_place_for_every_chunking(
        data: bytes, kind: str) -> None:
    import random

    from pydantic import BaseModel

    from fieldstream.schema import SchemaStream
    from support.core import chunkings

    class M(BaseModel):
        a: str

    try:  # the oracle: the position right after the valid UTF-8 prefix, in characters
        data.decode("utf-8")
        raise AssertionError("the case must not be UTF-8")
    except UnicodeDecodeError as exc:
        good = data[:exc.start].decode("utf-8")
    where, lines = len(good), good.split("\n")
    for name, chunks in chunkings(data, random.Random(7)).items():
        stream = SchemaStream(M, lenient=True)
        with pytest.raises(fieldstream.StreamError) as info:  # never a bare UnicodeDecodeError
            for chunk in chunks:
                stream.feed(chunk)
            stream.close()
        assert (info.value.kind.value, info.value.pos) == (kind, where), name
        assert (info.value.line, info.value.col) == (len(lines), len(lines[-1]) + 1), name
