"""Limits (depth, string length, number length, total size): a clear StreamError of the right kind at a
chunking-independent position; unbounded depth parses 100 000 nested arrays iteratively."""

from __future__ import annotations

import random
import re
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fieldstream
from fieldstream import ErrorKind, ParserClosedError, StreamError
from support.core import chunkings, json_texts, oracle_loads, run_parse, run_parser, same_json


def _error_everywhere(text: str, kind: ErrorKind, pos: int, **options: Any) -> StreamError:
    """Every chunking (str and bytes), Parser and parse(): the same error, of ``kind`` at ``pos``."""
    keys = set()
    err: StreamError | None = None
    rnd = random.Random(text)
    for data in (text, text.encode()):
        for name, chunks in chunkings(data, rnd).items():
            if len(chunks) > 20_000 and name != "whole":
                continue
            for out in (run_parser(chunks, **options), run_parse(chunks, **options)):
                assert out.error is not None, (name, options)
                assert (out.error.kind, out.error.pos) == (kind, pos), (name, out.error)
                keys.add(out.error_key())
                err = out.error
    assert len(keys) == 1, keys
    assert err is not None
    return err


def _ok_everywhere(text: str, expected: Any, **options: Any) -> None:
    rnd = random.Random(text)
    for data in (text, text.encode()):
        for name, chunks in chunkings(data, rnd).items():
            if len(chunks) > 20_000 and name != "whole":
                continue
            for out in (run_parser(chunks, **options), run_parse(chunks, **options)):
                assert out.error is None, (name, out.error)
                assert same_json(out.value, expected)


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _depth_of(value: Any) -> int:
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth


def test_default_max_depth_is_1024_and_documented() -> None:
    assert fieldstream.DEFAULT_MAX_DEPTH == 1024
    assert "max_depth" in (fieldstream.Parser.__doc__ or "")


def test_nesting_up_to_max_depth_parses_and_one_more_is_a_depth_limit_error() -> None:
    n = fieldstream.DEFAULT_MAX_DEPTH
    ok = "[" * n + "]" * n
    assert _depth_of(fieldstream.parse(ok)) == n
    _error_everywhere("[" * (n + 1) + "]" * (n + 1), ErrorKind.DEPTH_LIMIT, n)
    _error_everywhere('{"a":' * 4 + "1" + "}" * 4, ErrorKind.DEPTH_LIMIT, 15, max_depth=3)
    _ok_everywhere('{"a":' * 3 + "1" + "}" * 3, {"a": {"a": {"a": 1}}}, max_depth=3)
    _error_everywhere('[[1], [[2]]]', ErrorKind.DEPTH_LIMIT, 7, max_depth=2)


def test_100000_nested_arrays_parse_without_recursion_error_when_depth_is_unbounded() -> None:
    n = 100_000
    text = "[" * n + "]" * n
    assert n > sys.getrecursionlimit()
    assert _depth_of(fieldstream.parse(text, max_depth=None)) == n
    assert _depth_of(fieldstream.parse(text.encode(), max_depth=None)) == n
    p = fieldstream.Parser(max_depth=None)
    events = p.feed(text[: n + 7])
    events += p.feed(text[n + 7:])
    events += p.close()
    assert len(events) == 2 * n
    assert events[-1].path == () and events[-1].value is p.value
    assert events[1].path == (0,) and events[-2].path == (0,)
    assert _depth_of(p.value) == n
    repr(events[0]), repr(events[-1])  # bounded reprs: no RecursionError


def test_path_of_a_deep_event_costs_linear_memory() -> None:
    import tracemalloc

    n = 4000
    p = fieldstream.Parser(max_depth=None)
    events = p.feed("[" * n + "]" * n) + p.close()
    tracemalloc.start()
    try:
        path = events[n - 1].path
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert path == (0,) * (n - 1)
    assert peak < 4_000_000, f"{peak} bytes to build one path of depth {n}: quadratic"


def test_100000_nested_arrays_are_rejected_with_depth_limit_by_default() -> None:
    n = 100_000
    with pytest.raises(StreamError) as info:
        fieldstream.parse("[" * n + "]" * n)
    assert (info.value.kind, info.value.pos) == (ErrorKind.DEPTH_LIMIT, fieldstream.DEFAULT_MAX_DEPTH)
    assert info.value.path == (0,) * fieldstream.DEFAULT_MAX_DEPTH  # the array that did not fit


@pytest.mark.parametrize(
    ("text", "limit", "pos"),
    [
        ('"abcdef"', 5, 6),
        ('["abc", "abcdef"]', 5, 14),
        ('{"abcdef": 1}', 5, 7),  # keys count too
        ('{"k": "abcdefgh"}', 5, 12),
        ('"\\n\\n\\n"', 4, 5),  # raw characters, escapes included
        ('"ab\\u00e9cd"', 6, 7),
    ],
)
def test_string_longer_than_max_string_length_is_a_string_limit_error(
    text: str, limit: int, pos: int
) -> None:
    err = _error_everywhere(text, ErrorKind.STRING_LIMIT, pos, max_string_length=limit)
    assert str(limit) in str(err)


@pytest.mark.parametrize(("text", "limit"), [('"abcde"', 5), ('{"abcde": "vwxyz"}', 5), ('"\\n\\n"', 4)])
def test_string_of_exactly_max_string_length_is_accepted(text: str, limit: int) -> None:
    import json

    _ok_everywhere(text, json.loads(text), max_string_length=limit)


@pytest.mark.parametrize(
    ("text", "limit", "pos"),
    [("1234", 3, 3), ("[1, 1234]", 3, 7), ("-1.5e10", 4, 4), ('{"a": 123456789}', 5, 11)],
)
def test_number_longer_than_max_number_length_is_a_number_limit_error(
    text: str, limit: int, pos: int
) -> None:
    _error_everywhere(text, ErrorKind.NUMBER_LIMIT, pos, max_number_length=limit)


def test_number_of_exactly_max_number_length_is_accepted() -> None:
    _ok_everywhere("[123, -1.5]", [123, -1.5], max_number_length=4)
    _ok_everywhere("1234", 1234, max_number_length=4)


def test_integer_beyond_pythons_conversion_limit_is_a_stream_error_not_a_bare_value_error() -> None:
    digits = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if not digits:
        pytest.skip("no int conversion limit on this Python")
    for text in ("[" + "1" * (digits + 1) + "]", "1" * (digits + 1)):
        for chunks in ([text], [text[:10], text[10:]], list(text)):
            with pytest.raises(StreamError) as info:
                fieldstream.parse(chunks, max_number_length=None)
            assert info.value.kind is ErrorKind.NUMBER_LIMIT and isinstance(info.value, ValueError)


def test_integer_beyond_pythons_conversion_limit_is_reported_at_the_number_start_for_every_chunking() -> None:
    digits = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if not digits:
        pytest.skip("no int conversion limit on this Python")
    text = "[" + "1" * (digits + 1) + "]"
    err = _error_everywhere(text, ErrorKind.NUMBER_LIMIT, 1, max_number_length=None)
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(("text", "limit"), [("[1, 2, 3]", 9), ('{"a": "é😀"}', 11)])
def test_document_of_exactly_max_size_is_accepted(text: str, limit: int) -> None:
    assert len(text) == limit
    _ok_everywhere(text, fieldstream.parse(text), max_size=limit)


@pytest.mark.parametrize(("text", "limit"), [("[1, 2, 3]", 8), ('{"a": "é😀"}', 7), ("[1, 2, 3]   ", 10)])
def test_document_longer_than_max_size_is_a_size_limit_error(text: str, limit: int) -> None:
    _error_everywhere(text, ErrorKind.SIZE_LIMIT, limit, max_size=limit)


@pytest.mark.parametrize(
    "options",
    [{"max_depth": 0}, {"max_string_length": -1}, {"max_number_length": 0}, {"max_size": 0},
     {"max_depth": 1.5}, {"max_size": "10"}],
)
def test_invalid_limit_options_raise_value_error(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        fieldstream.Parser(**options)


@pytest.mark.parametrize(
    ("text", "options"),
    [("[[[1]]]", {"max_depth": 2}), ('"abcdef"', {"max_string_length": 2}),
     ("12345", {"max_number_length": 2}),
     ("[1, 2, 3]", {"max_size": 4})],
)
def test_after_a_limit_error_the_parser_refuses_input(text: str, options: dict[str, Any]) -> None:
    p = fieldstream.Parser(**options)
    with pytest.raises(StreamError) as first:
        p.feed(text)
        p.close()
    assert first.value.kind in (ErrorKind.DEPTH_LIMIT, ErrorKind.STRING_LIMIT, ErrorKind.NUMBER_LIMIT,
                                ErrorKind.SIZE_LIMIT)
    with pytest.raises(ParserClosedError):
        p.feed("]")
    with pytest.raises(ParserClosedError):
        p.close()


# --------------------------------------------------------------------------- generated documents

_STRING_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"')
_NUMBER_TOKEN = re.compile(r"-?[0-9][0-9.eE+-]*")


def _first_limit_violation(text: str, option: str, limit: int) -> int | None:
    """Where a valid document first breaks a limit, computed from its tokens (None: it fits)."""
    if option == "max_size":
        return limit if len(text) > limit else None
    strings = list(_STRING_TOKEN.finditer(text))
    if option == "max_string_length":
        for m in strings:
            if m.end() - m.start() - 2 > limit:
                return m.start() + 1 + limit
        return None
    blanked = text
    for m in strings:  # blank out strings so that digits inside them are not taken for numbers
        blanked = blanked[: m.start()] + '"' + "a" * (m.end() - m.start() - 2) + '"' + blanked[m.end():]
    for m in _NUMBER_TOKEN.finditer(blanked):
        if m.end() - m.start() > limit:
            return m.start() + limit
    return None


@given(json_texts(), st.sampled_from(["max_string_length", "max_number_length", "max_size"]),
       st.integers(min_value=1, max_value=12), st.randoms(use_true_random=False))
def test_limits_on_generated_documents_fail_exactly_at_the_first_violation(
    case: tuple[Any, str], option: str, limit: int, rnd: random.Random
) -> None:
    _, text = case
    if option == "max_size":
        limit = rnd.randint(1, len(text) + 2)
    where = _first_limit_violation(text, option, limit)
    kind = {"max_string_length": ErrorKind.STRING_LIMIT, "max_number_length": ErrorKind.NUMBER_LIMIT,
            "max_size": ErrorKind.SIZE_LIMIT}[option]
    keys = set()
    for data in (text, text.encode()):
        for name, chunks in chunkings(data, rnd).items():
            for out in (run_parser(chunks, **{option: limit}), run_parse(chunks, **{option: limit})):
                if where is None:
                    assert out.error is None, (name, out.error)
                    assert same_json(out.value, oracle_loads(text))
                else:
                    assert out.error is not None, name
                    assert (out.error.kind, out.error.pos) == (kind, where), (name, out.error)
                    keys.add(out.error_key())
    assert len(keys) <= 1, keys
