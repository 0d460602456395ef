"""Several documents on one stream: ``Parser(multiple=True)``, ``parse(..., multiple=True)``, ``iter_events``.

Oracles: ``json.JSONDecoder.raw_decode`` called in a loop over the whole text (skipping JSON
whitespace between documents), and, for JSON Lines, ``json.loads`` of each line. The event oracle is
:func:`support.core.expected_events` of each value followed by its ``DocumentDone``. Every property is
checked for every chunking of :func:`support.core.chunkings`, as ``str`` and as UTF-8 ``bytes``.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fieldstream
from fieldstream import DocumentDone, ErrorKind, Parser, StreamError
from support.core import JSON_VALUES, canon, chunkings, expected_events, merge_events, same_json, serialize

WS = " \t\n\r"


def raw_decode_all(text: str) -> list[Any]:
    """The oracle: ``raw_decode`` in a loop; a number right after a number must be separated."""
    decoder = json.JSONDecoder(parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    out: list[Any] = []
    i = 0
    prev_number_end = -1
    while True:
        while i < len(text) and text[i] in WS:
            i += 1
        if i == len(text):
            return out
        if i == prev_number_end and text[i] in "-0123456789":
            raise ValueError("two numbers without whitespace between them")
        value, i = decoder.raw_decode(text, i)
        out.append(value)
        prev_number_end = i if type(value) in (int, float) else -1


def run(chunks: list[Any]) -> tuple[list[tuple[Any, ...]], StreamError | None]:
    """Merged events (DocumentDone as ("document", index, value)) and the error, if any."""
    p = Parser(multiple=True)
    events: list[Any] = []
    try:
        for c in chunks:
            events += p.feed(c)
        events += p.close()
        err = None
    except StreamError as exc:
        err = exc
    out: list[tuple[Any, ...]] = []
    plain: list[Any] = []
    for e in events:
        if type(e) is DocumentDone:
            out += merge_events(plain)
            plain = []
            out.append(("document", e.index, canon(e.value)))
        else:
            plain.append(e)
    out += merge_events(plain)
    return out, err


def expected(values: list[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for i, v in enumerate(values):
        out += expected_events(v)
        out.append(("document", i, canon(v)))
    return out


def join(values: list[Any], rnd: random.Random, *, tight: bool) -> str:
    """Serialise the values one after another; ``tight``: no whitespace where none is needed."""
    parts: list[str] = []
    prev_number = False
    for v in values:
        text = serialize(v, rnd, ws=0.0 if tight else 0.3)
        is_number = type(v) in (int, float)
        if parts and (not tight or (prev_number and is_number)):
            parts.append(rnd.choice([" ", "\n", "\r\n", "\t", "\n\n  "]))
        parts.append(text)
        prev_number = is_number
    return "".join(parts)


@settings(max_examples=40, deadline=None)
@given(st.lists(JSON_VALUES, max_size=5), st.randoms(use_true_random=False), st.booleans())
def test_documents_have_their_own_events_for_every_chunking(values: list[Any], rnd: random.Random,
                                                            tight: bool) -> None:
    text = join(values, rnd, tight=tight)
    values = raw_decode_all(text)  # (serialize() may write an int as 1.0: the text is the truth)
    want = expected(values)
    for data in (text, text.encode()):
        for name, chunks in chunkings(data, rnd).items():
            got, err = run(chunks)
            assert err is None, (name, err)
            assert got == want, name
        assert same_json(fieldstream.parse(data, multiple=True), values)


@settings(max_examples=40, deadline=None)
@given(st.lists(JSON_VALUES, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_json_lines_match_json_loads_of_each_line(values: list[Any], rnd: random.Random) -> None:
    text = "".join(json.dumps(v, ensure_ascii=rnd.random() < 0.5) + "\n" for v in values)
    by_lines = [json.loads(line) for line in text.split("\n") if line.strip()]  # not splitlines: U+0085
    for chunks in chunkings(text, rnd).values():
        assert same_json(fieldstream.parse(chunks, multiple=True), by_lines)
        docs = [e for e in fieldstream.iter_events(chunks, multiple=True) if type(e) is DocumentDone]
        assert [d.index for d in docs] == list(range(len(values)))
        assert same_json([d.value for d in docs], by_lines)


# A few single documents that a single-document parser rejects, with the (kind, pos) it reports.
BAD = ['{"a": }', "[1, 2,]", '{"a" 1}', '"abc', "[1, 2", "nul", "-", '{"k": "\\x"}', "[1] x"]


@settings(max_examples=40, deadline=None)
@given(st.lists(JSON_VALUES, max_size=4), st.sampled_from(BAD), st.randoms(use_true_random=False))
def test_an_error_names_its_document_and_its_position_in_the_stream(values: list[Any], bad: str,
                                                                    rnd: random.Random) -> None:
    with pytest.raises(StreamError) as single:
        fieldstream.parse(bad)
    prefix = join(values, rnd, tight=False)
    values = raw_decode_all(prefix)
    prefix += "\n" if prefix else ""
    text = prefix + bad
    # "[1] x": the document [1] is fine; the error is in the next one, at 'x'.
    index = len(values) + (1 if bad == "[1] x" else 0)
    kind = ErrorKind.EXPECTED_VALUE if bad == "[1] x" else single.value.kind
    for name, chunks in chunkings(text, rnd).items():
        got, err = run(chunks)
        assert err is not None, name
        assert (err.kind, err.pos, err.document) == (kind, len(prefix) + single.value.pos, index), name
        good = expected(values)  # the good documents' events came first, all of them when fed
        # a failing feed() returns no events, so what came before it is a prefix of the good events;
        # its last one may be the first part of a string delta whose rest was in the failing chunk
        n = min(len(got), len(good))
        if n:
            assert got[:n - 1] == good[:n - 1], name
            g, e = got[n - 1], good[n - 1]
            assert g == e or (g[0] == e[0] == "delta" and g[1] == e[1] and e[2].startswith(g[2])), name
        assert name != "single" or len(got) >= len(good)
        assert f"document {index}" in str(err)


@pytest.mark.parametrize(("text", "values"), [
    ("", []), (" \n\t\r ", []), ("1 2", [1, 2]), ("12", [12]), ("1\n2\n", [1, 2]),
    ('{}[]"a"true null', [{}, [], "a", True, None]), ("truefalse", [True, False]),
    ('1"a"', [1, "a"]), ('"a"1', ["a", 1]), ("[1]2", [[1], 2]), ("0.5\r\n-3e2", [0.5, -300.0]),
    ('{"a": 1}\n{"a": 2}\n', [{"a": 1}, {"a": 2}]),
])
def test_documents_and_separators(text: str, values: list[Any]) -> None:
    assert same_json(raw_decode_all(text), values)
    for chunks in chunkings(text, random.Random(text)).values():
        assert same_json(fieldstream.parse(chunks, multiple=True), values)


@pytest.mark.parametrize(("text", "kind", "pos", "document"), [
    ("01", ErrorKind.INVALID_NUMBER, 1, 0),  # a number right after a number: whitespace needed
    ("1-2", ErrorKind.INVALID_NUMBER, 1, 0),
    ("1.5.3", ErrorKind.EXPECTED_VALUE, 3, 1),
    ("1 2 [", ErrorKind.INCOMPLETE, 5, 2),
    ('{"a": 1}\n{"a": ', ErrorKind.INCOMPLETE, 15, 1),
    ("[1]\n]", ErrorKind.EXPECTED_VALUE, 4, 1),
    ("1 NaN", ErrorKind.EXPECTED_VALUE, 2, 1),
])
def test_invalid_streams(text: str, kind: ErrorKind, pos: int, document: int) -> None:
    with pytest.raises(ValueError):
        raw_decode_all(text)
    for name, chunks in chunkings(text, random.Random(text)).items():
        with pytest.raises(StreamError) as info:
            fieldstream.parse(chunks, multiple=True)
        assert (info.value.kind, info.value.pos, info.value.document) == (kind, pos, document), name


def test_single_document_parser_is_unchanged() -> None:
    p = Parser()
    p.feed("1")
    with pytest.raises(StreamError) as info:
        p.feed(" 2")
    assert (info.value.kind, info.value.pos, info.value.document) == (ErrorKind.TRAILING_DATA, 2, None)
    assert "document" not in str(info.value).split("\n")[0].replace("JSON document", "")
    assert not any(type(e) is DocumentDone for e in fieldstream.iter_events('{"a": [1, "x"]}'))


def test_parser_state_between_documents() -> None:
    p = Parser(multiple=True)
    assert p.feed('{"a": [1') == [e for e in fieldstream.iter_events('{"a": [1]}')][:3]
    assert p.snapshot() == {"a": []} and p.document == 0 and not p.done
    events = p.feed("]}\n")
    assert events[-1] == DocumentDone(0, {"a": [1]})
    assert p.done and p.value == {"a": [1]} and p.document == 0
    p.feed('{"b": "x')
    assert p.document == 1 and not p.done and p.snapshot() == {"b": "x"}
    assert p.feed('"}')[-1] == DocumentDone(1, {"b": "x"})
    assert p.close() == []
    assert p.position == len('{"a": [1]}\n{"b": "x"}')


def test_a_number_document_completes_at_close() -> None:
    p = Parser(multiple=True)
    assert [e for e in p.feed("7 8") if type(e) is DocumentDone] == [DocumentDone(0, 7)]
    assert p.close()[-1] == DocumentDone(1, 8)


def test_aiter_events_passes_multiple_on() -> None:
    import asyncio

    async def chunks() -> Any:
        for c in ['{"a": 1}\n{"a"', ": 2}\n3"]:
            yield c

    async def main() -> list[Any]:
        return [e async for e in fieldstream.aiter_events(chunks(), multiple=True) if type(e) is DocumentDone]

    assert asyncio.run(main()) == [DocumentDone(0, {"a": 1}), DocumentDone(1, {"a": 2}), DocumentDone(2, 3)]
