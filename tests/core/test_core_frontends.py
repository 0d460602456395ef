"""Front ends over the one core: iter_events, aiter_events, parse() and SchemaStream agree with
Parser.feed/close; the core cases run through every front end (the ``frontend`` fixture matrix)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fieldstream
from fieldstream import ErrorKind, Event, StreamError
from support.core import (
    INVALID_DOCUMENTS,
    VALID_DOCUMENTS,
    FrontEnd,
    chunkings,
    expected_events,
    json_texts,
    line_col,
    merge_events,
    oracle_loads,
    random_chunks,
    recognize,
    run_parser,
    same_json,
)


async def _agen(chunks: list[Any]) -> AsyncIterator[Any]:
    for c in chunks:
        await asyncio.sleep(0)
        yield c


def _collect_async(chunks: list[Any], **options: Any) -> list[Event]:
    async def main() -> list[Event]:
        return [e async for e in fieldstream.aiter_events(_agen(chunks), **options)]

    return asyncio.run(main())


@given(json_texts(), st.randoms(use_true_random=False), st.booleans())
def test_iter_events_and_aiter_events_yield_exactly_the_parser_events(
    case: tuple[Any, str], rnd: random.Random, as_bytes: bool
) -> None:
    _, text = case
    data: str | bytes = text.encode() if as_bytes else text
    chunks = random_chunks(data, rnd, 5)
    expected = merge_events(run_parser(chunks).events)
    unmerged = run_parser(chunks).events
    via_iter = list(fieldstream.iter_events(chunks))
    via_async = _collect_async(chunks)
    assert via_iter == unmerged  # event for event, not only after merging
    assert via_async == unmerged
    assert merge_events(via_iter) == expected
    assert same_json(fieldstream.parse(chunks), oracle_loads(text))


def test_iter_events_accepts_a_single_str_or_bytes_and_generators() -> None:
    text = '{"a": ["x", 1]}'
    expected = list(fieldstream.iter_events([text]))
    assert list(fieldstream.iter_events(text)) == expected
    assert list(fieldstream.iter_events(text.encode())) == expected
    assert list(fieldstream.iter_events(c for c in text)) == expected


def test_iter_events_passes_parser_options_and_raises_at_the_end() -> None:
    with pytest.raises(StreamError) as info:
        list(fieldstream.iter_events("[[1]]", max_depth=1))
    assert info.value.kind is ErrorKind.DEPTH_LIMIT
    it = fieldstream.iter_events(['[1, 2', "]", " x"])
    names = [type(e).__name__ for e in [next(it), next(it), next(it)]]
    assert names == ["ValueStart", "ValueStart", "ValueDone"]
    with pytest.raises(StreamError) as info:
        list(it)
    assert info.value.kind is ErrorKind.TRAILING_DATA and info.value.pos == 7


def test_iter_events_is_lazy_pulling_chunks_only_as_needed() -> None:
    pulled: list[str] = []

    def source() -> Any:
        for c in ['["a', 'b", ', "1]"]:
            pulled.append(c)
            yield c

    it = fieldstream.iter_events(source())
    first = next(it)
    assert first == fieldstream.iter_events("[]").__next__()  # ValueStart of the root array
    assert pulled == ['["a']


def test_aiter_events_raises_stream_error_for_truncated_input() -> None:
    with pytest.raises(StreamError) as info:
        _collect_async(['{"a": ', "[1"])
    assert (info.value.kind, info.value.pos) == (ErrorKind.INCOMPLETE, 8)


def test_aiter_events_passes_options() -> None:
    with pytest.raises(StreamError) as info:
        _collect_async(['"abcdef"'], max_string_length=3)
    assert info.value.kind is ErrorKind.STRING_LIMIT


@pytest.mark.parametrize(
    "chunks",
    [
        '{"a": [1, "é😀"]}',
        '{"a": [1, "é😀"]}'.encode(),
        bytearray('{"a": [1, "é😀"]}'.encode()),
        memoryview('{"a": [1, "é😀"]}'.encode()),
        ['{"a": [1, ', '"é😀"]}'],
        [b'{"a": [1, "\xc3', b'\xa9\xf0\x9f', b'\x98\x80"]}'],
        (c for c in '{"a": [1, "é😀"]}'),
    ],
)
def test_parse_accepts_str_bytes_and_iterables_of_chunks(chunks: Any) -> None:
    assert same_json(fieldstream.parse(chunks), {"a": [1, "é😀"]})


@pytest.mark.parametrize("chunks", [["[1, ", b"2]"], [b"[1, ", "2]"]])
def test_mixing_str_and_bytes_raises_type_error(chunks: list[Any]) -> None:
    with pytest.raises(TypeError):
        fieldstream.parse(chunks)
    p = fieldstream.Parser()
    p.feed(chunks[0])
    with pytest.raises(TypeError):
        p.feed(chunks[1])


@pytest.mark.parametrize("bad", [1, None, 1.5, ["[1]", 2]])
def test_feeding_something_that_is_not_text_raises_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        if isinstance(bad, list):
            fieldstream.parse(bad)
        else:
            fieldstream.Parser().feed(bad)


def test_parse_of_empty_input_is_incomplete() -> None:
    for chunks in ("", b"", [], ["", ""]):
        with pytest.raises(StreamError) as info:
            fieldstream.parse(chunks)
        assert (info.value.kind, info.value.pos) == (ErrorKind.INCOMPLETE, 0)


def test_empty_chunks_are_harmless() -> None:
    chunks = ["", '{"a"', "", ': "x', "", '"}', ""]
    out = run_parser(chunks)
    assert out.error is None and out.value == {"a": "x"}
    assert merge_events(out.events) == merge_events(run_parser(['{"a": "x"}']).events)
    assert fieldstream.parse([b"", b"[1]", b""]) == [1]


def test_utf8_bom_is_accepted_in_bytes_like_json_loads() -> None:
    import json

    data = b'\xef\xbb\xbf{"a": 1}'
    assert json.loads(data) == fieldstream.parse(data) == fieldstream.parse([data[:1], data[1:2], data[2:]])


def test_parser_state_properties_follow_the_input() -> None:
    p = fieldstream.Parser()
    assert (p.done, p.position, p.depth, p.path) == (False, 0, 0, ())
    p.feed('{"a": [1, ')
    assert (p.done, p.position, p.depth, p.path) == (False, 10, 2, ("a", 1))
    p.feed('"x')
    assert p.path == ("a", 1)
    p.feed('"]}')
    assert (p.done, p.depth, p.path) == (True, 0, ())
    p.close()
    assert p.value == {"a": [1, "x"]}


def test_public_api_exports_what_is_documented() -> None:
    documented = {
        "Parser", "parse", "iter_events", "aiter_events", "ValueStart", "StringDelta", "ValueDone",
        "ValueKind",
        "Event", "StreamError", "ErrorKind", "ParserClosedError", "PathPattern", "to_dotted", "to_jsonpath",
        "to_pointer", "parse_path", "Path",
    }
    assert documented <= set(fieldstream.__all__)
    for name in fieldstream.__all__:
        assert hasattr(fieldstream, name), name
    assert issubclass(fieldstream.StreamError, ValueError)
    assert issubclass(fieldstream.ParserClosedError, fieldstream.StreamError)
    assert {k.value for k in ErrorKind} == {
        "expected_value", "expected_key", "expected_colon", "expected_comma_or_close", "trailing_comma",
        "invalid_literal", "invalid_number", "invalid_escape", "control_character",
        "invalid_utf8", "trailing_data", "incomplete", "depth_limit", "string_limit", "number_limit",
        "size_limit", "closed"}


# --------------------------------------------------------------------------- the front-end matrix
# ``frontend`` (tests/core/conftest.py) runs each of these once per front end.

def _as_input(text: str, as_bytes: bool) -> str | bytes:
    return text.encode() if as_bytes else text


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
@pytest.mark.parametrize("text", VALID_DOCUMENTS)
def test_every_front_end_returns_the_json_loads_value_for_every_chunking(
    frontend: FrontEnd, text: str, as_bytes: bool
) -> None:
    expected = oracle_loads(text)
    for name, chunks in chunkings(_as_input(text, as_bytes), random.Random(text)).items():
        out = frontend.run(chunks)
        assert out.error is None, (frontend.name, name, out.error)
        assert same_json(out.value, expected), (frontend.name, name)
        if frontend.events:
            assert merge_events(out.events) == expected_events(expected), (frontend.name, name)


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
@pytest.mark.parametrize(("text", "kind"), INVALID_DOCUMENTS)
def test_every_front_end_rejects_with_the_reference_kind_and_position_for_every_chunking(
    frontend: FrontEnd, text: str, kind: str, as_bytes: bool
) -> None:
    verdict = recognize(text)
    assert verdict.kind == kind  # the case list and the reference recognizer agree
    keys = set()
    for name, chunks in chunkings(_as_input(text, as_bytes), random.Random(text)).items():
        out = frontend.run(chunks)
        err = out.error
        assert err is not None, (frontend.name, name)
        assert (err.kind, err.pos) == (ErrorKind(kind), verdict.viable), (frontend.name, name, err)
        assert (err.line, err.col) == line_col(text, verdict.viable)
        keys.add(out.error_key())
    assert len(keys) == 1, keys  # kind, pos, line, col and path: the same for every chunking
