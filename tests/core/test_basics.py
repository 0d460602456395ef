"""Hand-written examples of the core contract; the property-based suites live beside this file."""

from __future__ import annotations

import json

import pytest

import fieldstream
from fieldstream import ErrorKind, Parser, StreamError, StringDelta, ValueDone, ValueStart

DOC = '{"a": [1, 2.5, -0, 1e5, "x\\ny\\u00e9\\ud83d\\ude00", true, false, null, {}, []], "b": {"c": "d"}}'


def _merged(events: list[fieldstream.Event]) -> list[tuple[str, object, object]]:
    out: list[tuple[str, object, object]] = []
    for e in events:
        if isinstance(e, StringDelta):
            if out and out[-1][0] == "delta" and out[-1][1] == e.path:
                out[-1] = ("delta", e.path, str(out[-1][2]) + e.delta)
            else:
                out.append(("delta", e.path, e.delta))
        elif isinstance(e, ValueStart):
            out.append(("start", e.path, e.kind.value))
        else:
            assert isinstance(e, ValueDone)
            out.append(("done", e.path, json.dumps(e.value)))
    return out


def _run(text: str, size: int) -> tuple[object, list[tuple[str, object, object]]]:
    p = Parser()
    events: list[fieldstream.Event] = []
    for i in range(0, len(text), size):
        events += p.feed(text[i : i + size])
    events += p.close()
    return p.value, _merged(events)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_events_and_value_identical_for_every_chunk_size(size: int) -> None:
    whole_value, whole_events = _run(DOC, len(DOC))
    value, events = _run(DOC, size)
    assert value == json.loads(DOC) == whole_value
    assert events == whole_events


def test_string_delta_text_concatenates_to_final_string() -> None:
    p = Parser()
    deltas: list[str] = []
    for ch in '{"t": "h\\u00e9llo \\ud83d\\ude00!"}':
        deltas += [e.delta for e in p.feed(ch) if isinstance(e, StringDelta)]
    p.close()
    assert "".join(deltas) == "héllo 😀!"
    assert all("\ud83d" not in d for d in deltas), "half a surrogate pair was emitted"


def test_number_is_reported_only_when_complete() -> None:
    p = Parser()
    assert [e for e in p.feed("[12") if isinstance(e, ValueDone)] == []
    done = [e for e in p.feed("3]") if isinstance(e, ValueDone)]
    assert [d.value for d in done] == [123, [123]]


def test_snapshot_shows_open_string_and_hides_partial_number() -> None:
    p = Parser()
    p.feed('{"title": "Hel')
    assert p.snapshot() == {"title": "Hel"}
    p.feed('lo", "n": 4')
    assert p.snapshot() == {"title": "Hello"}
    p.feed("2}")
    assert p.snapshot() == {"title": "Hello", "n": 42}


def test_truncated_document_is_never_complete() -> None:
    p = Parser()
    p.feed('{"a": [1, 2')
    with pytest.raises(StreamError) as info:
        p.close()
    assert info.value.kind is ErrorKind.INCOMPLETE
    assert info.value.pos == len('{"a": [1, 2')


def test_error_carries_kind_position_line_column_and_path() -> None:
    text = '{\n  "a": [1, tru]\n}'
    with pytest.raises(StreamError) as info:
        fieldstream.parse(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.kind is ErrorKind.INVALID_LITERAL
    assert err.pos == text.index("]")
    assert (err.line, err.col) == (2, text.index("]") - text.index("\n"))
    assert err.path == ("a", 1)


def test_parse_accepts_chunk_iterables_and_bytes_split_inside_multibyte() -> None:
    raw = json.dumps({"k": "é😀"}, ensure_ascii=False).encode()
    assert fieldstream.parse([raw[i : i + 1] for i in range(len(raw))]) == {"k": "é😀"}
