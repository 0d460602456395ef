"""Core behaviours that a planted bug could break without any other test noticing.

Each test here was checked against a scratch copy of the parser with the bug planted (it failed)
and against the real parser (it passes):

* a closing bracket of the wrong kind right after a value (``[1}``, ``{"a":1]``) is an error at the
  position the independent reference recognizer gives, for every chunking;
* bytes that stop inside a UTF-8 character of an open *key* are ``incomplete`` (as in a value);
* a number over ``max_number_length`` that is also invalid later (``[1.5ex]``) fails the same way
  for every chunking (the limit is checked per character, not per chunk);
* ``snapshot(copy=True)`` copies every level of a deep document.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from fuzz.reference import recognize  # the independent recognizer: the oracle for ``pos``

from fieldstream import ErrorKind, Parser, ParserClosedError, StreamError


def chunkings(data: Any) -> Iterator[list[Any]]:
    """Whole, one unit at a time, and every split into two and into three pieces."""
    n = len(data)
    yield [data]
    yield [data[i:i + 1] for i in range(n)]
    for i in range(1, n):
        yield [data[:i], data[i:]]
        for j in range(i + 1, n):
            yield [data[:i], data[i:j], data[j:]]


def outcome(chunks: list[Any], **limits: Any) -> tuple[Any, ...]:
    """("ok", value) or ("error", kind, pos) of feeding ``chunks`` and closing."""
    p = Parser(**limits)
    try:
        for c in chunks:
            p.feed(c)
        p.close()
    except StreamError as exc:
        return ("error", exc.kind, exc.pos)
    return ("ok", p.value)


VALUES = ["1", "-0.5e3", "0", '"x"', '""', "true", "null", "[]", "{}", "[1]", '{"b":2}', '[{"c":[]}]']
WRONG_CLOSERS = sorted({t for v in VALUES for t in (
    f"[{v}}}", f'{{"a":{v}]', f"[[{v}}}]", f'{{"a":[{v}}}}}', f'[{{"a":{v}]]', f'{{"a":{{"b":{v}]}}}}',
    f"[1,{v}}}", f'{{"z":0,"a":{v}]', f"[ {v} }}", f'{{"a": {v} ]',
)})


@pytest.mark.parametrize("text", WRONG_CLOSERS)
def test_wrong_closing_bracket_after_a_value_is_an_error_at_the_reference_position(text: str) -> None:
    verdict = recognize(text)
    assert not verdict.complete and text[verdict.viable] in "]}"  # the oracle blames the closer
    expected = ("error", ErrorKind.EXPECTED_COMMA_OR_CLOSE, verdict.viable)
    assert verdict.kind == "expected_comma_or_close"  # the reference names the same kind
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    for chunks in chunkings(text):
        assert outcome(chunks) == expected, chunks
    raw = text.encode()
    assert outcome([raw[i:i + 1] for i in range(len(raw))]) == expected


@pytest.mark.parametrize("text", ["[1]", '{"a":1}', '[[1]]', '{"a":[1]}', '[{"a":1}]', '{"a":{"b":[]}}'])
def test_the_right_closing_bracket_is_still_accepted(text: str) -> None:
    for chunks in chunkings(text):
        assert outcome(chunks) == ("ok", json.loads(text))


KEY_PREFIXES = ['{"', '{"ab', '{"a":1,"', '[{"k', '{"a":{"', '{"x\\n']


@pytest.mark.parametrize("prefix", KEY_PREFIXES)
@pytest.mark.parametrize("char", ["é", "€", "😀"])
def test_bytes_cut_inside_a_utf8_character_of_an_open_key_are_incomplete(prefix: str, char: str) -> None:
    encoded = char.encode()
    for cut in range(1, len(encoded)):
        data = prefix.encode() + encoded[:cut]
        for chunks in chunkings(data):
            result = outcome(chunks)
            assert result[:2] == ("error", ErrorKind.INCOMPLETE), (data, chunks, result)
            assert result[2] == len(prefix)  # the whole decoded text is a viable prefix


@pytest.mark.parametrize("prefix", ['"', '["ab', '{"k":"'])
def test_bytes_cut_inside_a_utf8_character_of_an_open_value_are_incomplete(prefix: str) -> None:
    data = prefix.encode() + "€".encode()[:2]
    for chunks in chunkings(data):
        assert outcome(chunks)[:2] == ("error", ErrorKind.INCOMPLETE)


def test_an_invalid_byte_inside_a_key_is_still_invalid_utf8() -> None:
    data = b'{"a\xc3(":1}'
    for chunks in chunkings(data):
        assert outcome(chunks)[:2] == ("error", ErrorKind.INVALID_UTF8)


LIMIT_CASES = [
    ("[1.5ex]", 3), ("[1.5e+x]", 4), ("[12345x]", 3), ("[-1.2e+x]", 5), ("[1.5e5, 1.2345]", 3),
    ("[0.5e-]", 4), ('{"a":12.34e}', 3), ("123456", 3), ("[1.25]", 3),
]


@pytest.mark.parametrize(("text", "limit"), LIMIT_CASES)
def test_number_limit_on_invalid_input_is_identical_for_every_chunking(text: str, limit: int) -> None:
    whole = outcome([text], max_number_length=limit)
    assert whole[:2] == ("error", ErrorKind.NUMBER_LIMIT), whole
    # the limit is hit at the first number character beyond it, before any later grammar error
    first = next(i for i, c in enumerate(text) if c in "-0123456789")
    assert whole[2] == first + limit
    for chunks in chunkings(text):
        assert outcome(chunks, max_number_length=limit) == whole, chunks


def _iter_pairs(a: Any, b: Any) -> Iterator[tuple[Any, Any, int]]:
    """Walk two nested list/dict structures side by side, iteratively (no recursion limit)."""
    work = [(a, b, 0)]
    while work:
        x, y, depth = work.pop()
        yield x, y, depth
        if isinstance(x, list) and isinstance(y, list):
            assert len(x) == len(y), depth
            work.extend((u, v, depth + 1) for u, v in zip(x, y, strict=True))
        elif isinstance(x, dict) and isinstance(y, dict):
            assert list(x) == list(y), depth
            work.extend((x[k], y[k], depth + 1) for k in x)
        else:
            assert type(x) is type(y) and x == y, (depth, x, y)


def _deep(depth: int) -> str:
    inner = '{"leaf": [1, "two", null]}'
    return '[{"k": ' * (depth // 2) + inner + "}]" * (depth // 2)


@pytest.mark.parametrize("depth", [3, 2100, 5000])
def test_snapshot_copy_is_a_deep_copy_at_every_depth(depth: int) -> None:
    text = _deep(depth)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 4 * depth + 1000))  # only for json.loads, the oracle
    try:
        expected = json.loads(text)
    finally:
        sys.setrecursionlimit(old)
    p = Parser(max_depth=None)
    p.feed(text)
    p.close()
    live = p.snapshot()
    snap = p.snapshot(copy=True)
    levels = 0
    for (x, _y, _), (_, z, _) in zip(_iter_pairs(snap, expected), _iter_pairs(snap, live), strict=True):
        if isinstance(x, (list, dict)):
            assert x is not z  # a fresh container at every level, none shared with the parser
            levels += 1
    assert levels == 2 * (depth // 2) + 2
    # independence: change the deepest container of the copy, the parser's document is untouched
    deepest = snap
    while isinstance(deepest, list) or "leaf" not in deepest:
        deepest = deepest[0] if isinstance(deepest, list) else deepest["k"]
    deepest["leaf"].append("mine")
    assert deepest["leaf"] == [1, "two", None, "mine"]
    for _ in _iter_pairs(p.value, expected):  # asserts equality level by level
        pass


def test_snapshot_copy_of_an_open_deep_document_does_not_follow_later_input() -> None:
    depth = 5000
    p = Parser(max_depth=None)
    p.feed("[" * depth + '1, "ab')
    snap = p.snapshot(copy=True)
    p.feed('cd", 2' + "]" * depth)
    p.close()
    node, level = snap, 1
    while len(node) == 1:
        node, level = node[0], level + 1
    assert level == depth and node == [1, "ab"]
    node = p.value
    while len(node) == 1:
        node = node[0]
    assert node == [1, "abcd", 2]


def test_events_compare_unequal_to_other_types_and_equal_to_their_twins() -> None:
    first = Parser().feed('["ab", 1]')
    again = Parser().feed('["ab", 1]')
    assert first == again and [hash(e) for e in first] == [hash(e) for e in again]
    kinds = {type(e).__name__ for e in first}
    assert kinds == {"ValueStart", "StringDelta", "ValueDone"}
    for ev in first:
        for other in (object(), ev.path, None, "ab"):
            assert (ev == other) is False and (ev != other) is True  # NotImplemented, then identity
        assert all((ev == x) is (type(x) is type(ev) and x == ev) for x in first)


@pytest.mark.parametrize(("text", "what"), [("", "document"), ("  ", "document"), ("[", "JSON value"),
                                            ('{"a": "b', "JSON value"), ("-", "document")])
def test_incomplete_input_message_names_what_is_missing(text: str, what: str) -> None:
    p = Parser()
    p.feed(text)
    with pytest.raises(StreamError) as info:
        p.close()
    assert info.value.kind is ErrorKind.INCOMPLETE
    assert str(info.value).startswith(f"Unexpected end of input: incomplete {what} ")


@pytest.mark.parametrize(("text", "line", "col"),
                         [("[1]", 1, 4), ('{"a":\n [1,\n  2]}', 3, 6), ("\n\n0 ", 3, 3)])
def test_feeding_a_closed_parser_reports_where_the_input_ended(text: str, line: int, col: int) -> None:
    p = Parser()
    p.feed(text)
    p.close()
    with pytest.raises(ParserClosedError) as info:
        p.feed("1")
    assert info.value.kind is ErrorKind.CLOSED
    assert (info.value.pos, info.value.line, info.value.col) == (len(text), line, col)


@pytest.mark.parametrize(("a", "b"), [("1", "1.0"), ("1", "true"), ("0", "false"), ("1.0", "true"),
                                      ("[1, 1.0]", "[1.0, true]")])
def test_value_done_events_of_different_json_kinds_are_not_equal(a: str, b: str) -> None:
    pa, pb = Parser(), Parser()
    done_a = [e for e in pa.feed(a) + pa.close() if type(e).__name__ == "ValueDone"]
    done_b = [e for e in pb.feed(b) + pb.close() if type(e).__name__ == "ValueDone"]
    # equal in Python, but not the same JSON (compared for scalars only: containers compare with ==)
    pairs = [(x, y) for x, y in zip(done_a, done_b, strict=True) if not isinstance(x.value, list)]
    assert pairs and all(x.value == y.value and x != y for x, y in pairs)
    assert done_a == [e for e in Parser().feed(a + " ") if type(e).__name__ == "ValueDone"]


def test_value_of_an_unfinished_document_reports_where_the_input_stops() -> None:
    p = Parser()
    p.feed('[\n 1,\n  "a')
    with pytest.raises(StreamError) as info:
        _ = p.value
    assert info.value.kind is ErrorKind.INCOMPLETE
    assert (info.value.pos, info.value.line, info.value.col) == (10, 3, 5)


@pytest.mark.parametrize("text", ["12", "-0.5", '"s"', "[1, 2]", "true"])
def test_aiter_events_yields_the_events_of_close_too(text: str) -> None:
    import asyncio

    from fieldstream import aiter_events, iter_events

    async def chunks() -> Any:
        for c in text:
            yield c

    async def collect() -> list[Any]:
        return [e async for e in aiter_events(chunks())]

    got = asyncio.run(collect())
    assert got == list(iter_events(list(text)))
    assert got[-1].value == json.loads(text)


def test_skipped_prose_of_a_lenient_stream_is_outside_the_document() -> None:
    from fieldstream import Skipped
    from fieldstream.schema import SchemaStream

    s = SchemaStream(dict, lenient=True)
    events = [*s.feed('Sure! ```json\n{"a": 1}\n``` done'), *s.close()]
    skipped = [e for e in events if isinstance(e, Skipped)]
    assert skipped and "".join(e.text for e in skipped).startswith("Sure! ```json")
    assert {(e.path, e.dotted) for e in skipped} == {((), "")}
    assert s.value == {"a": 1}


# --------------------------------------------------------------------------- error rendering and fields


def test_error_text_shows_the_context_with_visible_whitespace_and_a_caret_under_the_culprit() -> None:
    with pytest.raises(StreamError) as info:
        Parser().feed("[1,\t\n\r@]")
    err = info.value
    assert (err.context, err.context_offset, err.pos) == ("[1,\t\n\r@]", 6, 6)
    head, shown, caret = str(err).split("\n")
    assert head == "Expecting value (expected_value) at line 2 column 2 (char 6), path $[1]"
    # tab, newline and carriage return are drawn as one visible character each: the caret stays aligned
    assert shown == "    [1,\u2409\u21b5\u240d@]"
    assert caret == " " * 4 + " " * 6 + "^" and shown[caret.index("^")] == "@"


def test_schema_error_fields_default_to_empty_lists_and_the_invalid_kind() -> None:
    from fieldstream import SchemaError, SchemaErrorKind

    err = SchemaError("bad value")
    assert (err.events, err.errors, err.missing, err.path, err.pos) == ([], [], [], (), 0)
    assert err.kind is SchemaErrorKind.INVALID and str(err.kind) == "invalid"
    assert SchemaErrorKind("invalid") is SchemaErrorKind.INVALID  # the documented wire value
    events = Parser().feed("[1]")
    assert SchemaError("bad", events=events, kind="missing").events == events


def test_schema_error_of_a_failing_feed_carries_that_feeds_events() -> None:
    from pydantic import BaseModel

    from fieldstream import SchemaError, SchemaErrorKind
    from fieldstream.schema import SchemaStream

    class Order(BaseModel):
        qty: int
        note: str

    with pytest.raises(SchemaError) as info:
        SchemaStream(Order).feed('{"qty": "many", "note": "x')
    err = info.value
    assert err.kind is SchemaErrorKind.INVALID and err.kind == "invalid"
    assert err.events and err.events[-1].path == ("qty",)


def test_truncated_output_and_hook_errors_keep_their_documented_fields() -> None:
    from fieldstream import TruncatedOutputError
    from fieldstream.agents import HookError

    err = TruncatedOutputError("length", text='{"city": "Par', partial={"city": "Par"})
    assert (err.reason, err.text, err.partial) == ("length", '{"city": "Par', {"city": "Par"})
    assert str(err) == "the answer was cut off by the provider (reason: length) after 13 characters"
    assert TruncatedOutputError("max_tokens").text == ""
    hook = HookError("hook 'h' for 'run_start' raised: ValueError()", "run_start")
    assert hook.hook_event == "run_start"
    assert str(hook) == "hook 'h' for 'run_start' raised: ValueError()" and hook.args == (str(hook),)


# --------------------------------------------------------------------------- events, input modes, limits


def test_document_done_events_differ_by_index_and_by_value() -> None:
    p = Parser(multiple=True)
    docs = [e for e in p.feed("7 7 8 ") + p.close() if type(e).__name__ == "DocumentDone"]
    assert [(d.index, d.value) for d in docs] == [(0, 7), (1, 7), (2, 8)]
    assert docs[0] != docs[1] and docs[1] != docs[2]  # same value, other index; other value
    q = Parser(multiple=True)
    again = [e for e in q.feed("7 8 8 ") + q.close() if type(e).__name__ == "DocumentDone"]
    assert docs[0] == again[0] and docs[1] != again[1] and docs[2] == again[2]


@pytest.mark.parametrize("other", [b"2]", bytearray(b"2]"), memoryview(b"2]")])
def test_a_parser_fed_str_refuses_bytes(other: Any) -> None:
    p = Parser()
    p.feed("[1,")
    with pytest.raises(TypeError, match="fed str; feed str only"):
        p.feed(other)
    p.feed("2]")
    p.close()
    assert p.value == [1, 2]


def test_a_parser_fed_bytes_refuses_str() -> None:
    p = Parser()
    p.feed(b"[1,")
    with pytest.raises(TypeError, match="fed bytes; feed bytes only"):
        p.feed("2]")


def test_default_string_limit_is_exactly_64_mib() -> None:
    from fieldstream import DEFAULT_MAX_STRING_LENGTH

    assert DEFAULT_MAX_STRING_LENGTH == 64 * 2**20  # the README's number
    mib = "x" * 2**20
    p = Parser(events=False)
    p.feed('["')
    for _ in range(64):  # the same 1 MiB object 64 times: cheap to hold
        p.feed(mib)
    with pytest.raises(StreamError) as info:  # 64 MiB exactly were taken: one more character is not
        p.feed("yz")
    assert info.value.kind is ErrorKind.STRING_LIMIT and info.value.pos == 2 + 64 * 2**20


# --------------------------------------------------------------------------- surrogates


SURROGATES = ['["\\ud800\\udbff"]', '"\\udbff\\udbff\\udc00"', '["\\ud83d\\udbfe\\udfff", "\\udbff"]',
              '{"\\ud800\\udbff": "\\udbff\\ud800\\udc00"}']


@pytest.mark.parametrize("text", SURROGATES)
def test_a_high_surrogate_after_a_high_surrogate_is_not_a_pair(text: str) -> None:
    want = json.loads(text)
    for chunks in chunkings(text):
        got = outcome(chunks)
        assert got[0] == "ok" and got[1] == want and type(got[1]) is type(want), chunks


# --------------------------------------------------------------------------- the lenient front end


LENIENT = [('Sure: {"a": "\\"", "b": [1]} bye', '{"a": "\\"", "b": [1]}'),
           ('```json\n{"k": "x\\\\"}\n```', '{"k": "x\\\\"}'),
           ('[["\\\\", "\\"]"], "\\\\]"] done ]', '[["\\\\", "\\"]"], "\\\\]"]')]


@pytest.mark.parametrize(("raw", "doc"), LENIENT)
def test_lenient_filter_finds_the_document_end_after_escapes_for_every_chunking(raw: str, doc: str) -> None:
    from fieldstream._lenient import LenientFilter  # documented in docs/schema.md

    assert json.loads(doc) is not None
    start = raw.index(doc)
    for chunks in chunkings(raw):
        f = LenientFilter()
        out, skipped = [], []
        for c in chunks:
            text, skip = f.feed(c)
            out.append(text)
            skipped += skip
        assert "".join(out) == doc and f.done and f.offset == start, chunks
        assert "".join(t for t, _ in skipped) == raw[:start] + raw[start + len(doc):]
        assert all(raw[pos:pos + len(t)] == t for t, pos in skipped)
