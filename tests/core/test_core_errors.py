"""Error model: kind, position (the longest viable prefix), line/col, path; prefixes; closed parsers.

The expected kind and position come from the reference recognizer (``fuzz/reference.py``, re-exported
by ``support.core``; written from the RFC 8259 grammar, independently of the parser), and must be the
same for every chunking.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fieldstream
from fieldstream import ErrorKind, ParserClosedError, StreamError
from support.core import (
    JSON_VALUES,
    OracleError,
    chunkings,
    json_texts,
    line_col,
    mutate,
    oracle_loads,
    random_chunks,
    recognize,
    run_parse,
    run_parser,
    same_json,
    viable,
)


def _check_error_position(text: str, rnd: random.Random) -> None:
    verdict = recognize(text)
    n, complete = verdict.viable, verdict.complete
    keys = set()
    for name, chunks in chunkings(text, rnd).items():
        for out in (run_parser(chunks, max_depth=None), run_parse(chunks, max_depth=None)):
            if complete:
                assert out.error is None, (name, text, out.error)
                continue
            err = out.error
            assert err is not None, (name, text)
            assert (err.kind, err.pos) == (verdict.kind, n), (name, text, err.kind, err.pos, verdict)
            assert (err.line, err.col) == line_col(text, n), (name, text)
            keys.add(out.error_key())
    if not complete:  # kind, pos, line, col and path identical for every chunking and both modes
        assert len(keys) == 1, (text, keys)


@given(json_texts(), st.randoms(use_true_random=False))
def test_error_position_is_the_longest_viable_prefix_for_every_chunking(
    case: tuple[Any, str], rnd: random.Random
) -> None:
    _, text = case
    _check_error_position(mutate(text, rnd), rnd)


@given(st.text(alphabet=st.sampled_from(list('{}[]:,"\\ 0123456789-+.eEtrufalsnu/x\n\t')), max_size=16),
       st.randoms(use_true_random=False))
def test_error_position_on_token_soup_is_the_longest_viable_prefix(text: str, rnd: random.Random) -> None:
    _check_error_position(text, rnd)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("[1, 2", ErrorKind.INCOMPLETE),
        ("", ErrorKind.INCOMPLETE),
        ("   \n ", ErrorKind.INCOMPLETE),
        ("[1,]", ErrorKind.TRAILING_COMMA),
        ("[1, \n ]", ErrorKind.TRAILING_COMMA),
        ('{"a": 1,}', ErrorKind.TRAILING_COMMA),
        ("[1,}", ErrorKind.EXPECTED_VALUE),  # after ',' a value must start: '}' is not this one's closer
        ("[,1]", ErrorKind.EXPECTED_VALUE),
        ("[}", ErrorKind.EXPECTED_VALUE),
        ('{"a":}', ErrorKind.EXPECTED_VALUE),
        ('{"a": 1,]', ErrorKind.EXPECTED_KEY),
        ("{]", ErrorKind.EXPECTED_KEY),
        ("{1: 2}", ErrorKind.EXPECTED_KEY),
        ("{'a': 1}", ErrorKind.EXPECTED_KEY),
        ('{"a": 1, b: 2}', ErrorKind.EXPECTED_KEY),
        ('{"a" 1}', ErrorKind.EXPECTED_COLON),
        ('{"a", "b"}', ErrorKind.EXPECTED_COLON),
        ('{"a" = 1}', ErrorKind.EXPECTED_COLON),
        ("[1}", ErrorKind.EXPECTED_COMMA_OR_CLOSE),  # a wrong closing bracket
        ('{"a": 1]', ErrorKind.EXPECTED_COMMA_OR_CLOSE),
        ("[1 2]", ErrorKind.EXPECTED_COMMA_OR_CLOSE),
        ('{"a": 1 "b": 2}', ErrorKind.EXPECTED_COMMA_OR_CLOSE),
        ("[[1]}", ErrorKind.EXPECTED_COMMA_OR_CLOSE),
        ("NaN", ErrorKind.EXPECTED_VALUE),
        ("'a'", ErrorKind.EXPECTED_VALUE),
        ("[+1]", ErrorKind.EXPECTED_VALUE),
        ("\x00", ErrorKind.EXPECTED_VALUE),
        ("[1] x", ErrorKind.TRAILING_DATA),
        ("1 2", ErrorKind.TRAILING_DATA),
        ("[tru]", ErrorKind.INVALID_LITERAL),
        ("[nul", ErrorKind.INCOMPLETE),
        ("[01]", ErrorKind.EXPECTED_COMMA_OR_CLOSE),
        ("01", ErrorKind.TRAILING_DATA),
        ("[-]", ErrorKind.INVALID_NUMBER),
        ("[1.]", ErrorKind.INVALID_NUMBER),
        ("[1e]", ErrorKind.INVALID_NUMBER),
        ("[1e+]", ErrorKind.INVALID_NUMBER),
        ('["\\x"]', ErrorKind.INVALID_ESCAPE),
        ('["\\u12G4"]', ErrorKind.INVALID_ESCAPE),
        ('["a\nb"]', ErrorKind.CONTROL_CHARACTER),
        ('{"a\x00": 1}', ErrorKind.CONTROL_CHARACTER),
        ("\ufeff[]", ErrorKind.EXPECTED_VALUE),  # a BOM in a str: json.loads rejects it too
        ('{"a": [1, {"b": nulx}]}', ErrorKind.INVALID_LITERAL),
    ],
)
def test_error_kind_and_position_on_hand_written_cases(text: str, kind: ErrorKind) -> None:
    verdict = recognize(text)
    assert not verdict.complete
    assert verdict.kind == kind  # the reference recognizer names the same kind
    for chunks in chunkings(text, random.Random(text)).values():
        for out in (run_parser(chunks), run_parse(chunks)):
            assert out.error is not None
            assert (out.error.kind, out.error.pos) == (kind, verdict.viable)
            assert (out.error.line, out.error.col) == line_col(text, verdict.viable)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1}", "Expecting ',' or ']' after an array item"),
        ('{"a": 1]', "Expecting ',' or '}' after an object member"),
        ("[1,]", "Trailing comma before ']'"),
        ('{"a": 1,}', "Trailing comma before '}'"),
        ('{"a" 1}', "Expecting ':' delimiter after the key"),
    ],
)
def test_error_messages_say_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(StreamError) as info:
        fieldstream.parse(text)
    assert info.value.msg == message
    assert str(info.value).startswith(f"{message} ({info.value.kind.value})")


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"a": [1, tru]}', ("a", 1)),
        ('{"a": {"b": "x\\q"}}', ("a", "b")),
        ("[[1], [2, -]]", (1, 1)),
        ('{"a": 1 "b"}', ()),
    ],
)
def test_error_path_is_the_value_being_parsed(text: str, path: tuple[Any, ...]) -> None:
    for chunks in ([text], list(text)):
        out = run_parser(chunks)
        assert out.error is not None and out.error.path == path, (out.error, chunks)


def test_error_line_and_col_follow_newlines_in_earlier_chunks() -> None:
    text = '{\n  "a": [\n    1,\n    x\n  ]\n}'
    for chunks in ([text], list(text), ["{\n", '  "a": [\n', "    1,\n    x"]):
        out = run_parser(chunks)
        assert out.error is not None
        assert (out.error.line, out.error.col, out.error.pos) == (4, 5, text.index("x"))
        assert "x" in str(out.error)  # the message shows the neighbourhood


def test_error_line_col_for_bytes_count_characters_not_bytes() -> None:
    text = '["é😀",\n "\x01"]'
    data = text.encode()
    out = run_parser([data[i:i + 1] for i in range(len(data))])
    assert out.error is not None and out.error.kind is ErrorKind.CONTROL_CHARACTER
    assert out.error.pos == text.index("\x01")
    assert (out.error.line, out.error.col) == line_col(text, out.error.pos)


INVALID_UTF8_SEQUENCES = [
    b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80", b"\xe2\x82", b"\xf4\x90\x80\x80"
]


@given(json_texts(), st.randoms(use_true_random=False), st.sampled_from(INVALID_UTF8_SEQUENCES))
def test_invalid_utf8_is_reported_after_the_valid_text_or_the_earlier_json_error(
    case: tuple[Any, str], rnd: random.Random, bad: bytes
) -> None:
    _, text = case
    k = rnd.randint(0, len(text))
    data = text[:k].encode() + bad + text[k:].encode()
    n, _ = viable(text[:k])
    keys = set()
    for name, chunks in chunkings(data, rnd).items():
        out = run_parser(chunks)
        assert out.error is not None, name
        if n == k:  # the valid text before the bad bytes is still viable: the UTF-8 error wins
            assert (out.error.kind, out.error.pos) == (ErrorKind.INVALID_UTF8, k), (name, out.error)
        else:
            assert out.error.pos == n and out.error.kind is not ErrorKind.INVALID_UTF8, (name, out.error)
        keys.add(out.error_key())
    assert len(keys) == 1, keys


# --------------------------------------------------------------------------- prefixes

def _check_prefixes(text: str, rnd: random.Random) -> None:
    for k in range(len(text) + 1):
        prefix = text[:k]
        p = fieldstream.Parser()
        for chunk in random_chunks(prefix, rnd, 4):
            p.feed(chunk)  # never an error
        try:
            expected = oracle_loads(prefix)
        except OracleError:
            with pytest.raises(StreamError) as info:
                p.close()
            assert info.value.kind is ErrorKind.INCOMPLETE, (prefix, info.value)
            assert info.value.pos == k, prefix
            assert (info.value.line, info.value.col) == line_col(prefix, k)
        else:
            p.close()
            assert same_json(p.value, expected), prefix


@given(json_texts(), st.randoms(use_true_random=False))
def test_every_prefix_is_accepted_by_feed_and_rejected_by_close_unless_complete(
    case: tuple[Any, str], rnd: random.Random
) -> None:
    _, text = case
    _check_prefixes(text if len(text) <= 160 else text[:120], rnd)  # every prefix: quadratic


@pytest.mark.parametrize("text", ["123", "-0.5e+10", "true", "[1, 2.5e3, null]", '"ab\\u00e9"', " 7 \n"])
def test_prefixes_that_are_complete_documents_close_with_the_json_loads_value(text: str) -> None:
    _check_prefixes(text, random.Random(0))


def test_prefix_number_is_complete_but_literal_prefix_is_not() -> None:
    p = fieldstream.Parser()
    p.feed("12")
    assert p.close() != [] and p.value == 12
    p = fieldstream.Parser()
    p.feed("tru")
    with pytest.raises(StreamError) as info:
        p.close()
    assert (info.value.kind, info.value.pos) == (ErrorKind.INCOMPLETE, 3)


@given(JSON_VALUES, st.randoms(use_true_random=False))
def test_every_byte_prefix_at_a_character_boundary_is_incomplete(value: Any, rnd: random.Random) -> None:
    text = json.dumps(value, ensure_ascii=False)[:80]
    data = text.encode()
    for k in range(len(text) + 1):
        prefix = data[: len(text[:k].encode())]
        p = fieldstream.Parser()
        for chunk in random_chunks(prefix, rnd, 3):
            p.feed(chunk)
        if viable(text[:k])[1]:
            p.close()
            continue
        with pytest.raises(StreamError) as info:
            p.close()
        assert (info.value.kind, info.value.pos) == (ErrorKind.INCOMPLETE, k)


def test_bytes_cut_inside_a_multibyte_character_are_rejected_by_close() -> None:
    text = '["é😀"]'
    data = text.encode()
    for k in range(len(data)):
        p = fieldstream.Parser()
        p.feed(data[:k])
        with pytest.raises(StreamError) as info:
            p.close()
        assert info.value.kind in (ErrorKind.INCOMPLETE, ErrorKind.INVALID_UTF8)
        assert info.value.pos == len(data[:k].decode("utf-8", "ignore"))  # complete characters


def test_bytes_cut_inside_a_multibyte_character_close_as_incomplete() -> None:
    data = '["é😀"]'.encode()
    for k in (3, 5, 6, 7):
        p = fieldstream.Parser()
        p.feed(data[:k])
        with pytest.raises(StreamError) as info:
            p.close()
        assert info.value.kind is ErrorKind.INCOMPLETE


# --------------------------------------------------------------------------- closed parsers

@pytest.mark.parametrize("bad", ["[1, x]", "[1] 2", "[", '{"a": "\\q"}'])
def test_after_an_error_feed_and_close_raise_parser_closed_error(bad: str) -> None:
    p = fieldstream.Parser()
    with pytest.raises(StreamError) as first:
        for c in bad:
            p.feed(c)
        p.close()
    assert not isinstance(first.value, ParserClosedError)
    for action in (lambda: p.feed("1"), lambda: p.feed(b"1"), p.close, lambda: p.feed("")):
        with pytest.raises(ParserClosedError) as again:
            action()
        assert again.value.kind is ErrorKind.CLOSED
        assert isinstance(again.value, StreamError)


def test_after_close_feed_raises_parser_closed_error() -> None:
    p = fieldstream.Parser()
    p.feed("[1]")
    p.close()
    with pytest.raises(ParserClosedError):
        p.feed(" ")
    with pytest.raises(ParserClosedError):
        p.close()
    assert p.value == [1]


def test_value_before_done_raises_incomplete() -> None:
    p = fieldstream.Parser()
    p.feed("[1")
    assert not p.done
    with pytest.raises(StreamError) as info:
        _ = p.value
    assert info.value.kind is ErrorKind.INCOMPLETE


def test_stream_error_is_a_value_error_with_documented_attributes() -> None:
    with pytest.raises(ValueError) as info:
        fieldstream.parse('{"a": [1, 2,, 3]}')
    err = info.value
    assert isinstance(err, StreamError)
    assert err.kind is ErrorKind.EXPECTED_VALUE
    assert err.pos == 12 and err.line == 1 and err.col == 13 and err.path == ("a", 2)
    assert err.json_path == "$.a[2]"
    assert "char 12" in str(err)


def test_stream_errors_survive_pickling_with_their_attributes() -> None:
    import pickle

    with pytest.raises(StreamError) as info:
        fieldstream.parse('{"a": [1, x]}')
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is StreamError
    assert (back.kind, back.pos, back.line, back.col, back.path) == (
        info.value.kind, info.value.pos, info.value.line, info.value.col, info.value.path)
    assert str(back) == str(info.value)


def test_stream_errors_survive_pickling_with_their_class() -> None:
    import pickle

    p = fieldstream.Parser()
    p.feed("[1]")
    p.close()
    with pytest.raises(ParserClosedError) as info:
        p.feed("1")
    assert type(pickle.loads(pickle.dumps(info.value))) is ParserClosedError
