"""Differential tests: fieldstream against ``json.loads`` (strict) and ijson (python backend).

The h11 fuzz rule: for any input, either our value equals the oracle's, or we raise our own
documented :class:`~fieldstream.StreamError` exactly when the oracle rejects the input. Any other
exception, or a disagreement, is a bug.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import ijson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fieldstream
from fieldstream import ErrorKind, Event, StringDelta, ValueDone, ValueStart
from support.core import (
    BENCH,
    JSON_VALUES,
    OracleError,
    json_texts,
    mutate,
    oracle_loads,
    random_chunks,
    run_parse,
    run_parser,
    same_json,
)


def _check_against_oracle(text: str, rnd: random.Random) -> None:
    try:
        expected = oracle_loads(text)
        ok = True
    except OracleError:
        ok = False
    raw = text.encode("utf-8", "surrogatepass")
    try:
        text.encode("utf-8")
        bytes_ok = ok
    except UnicodeEncodeError:  # a raw lone surrogate: fine in a str, invalid as UTF-8 bytes
        # json.loads(bytes) decodes with "surrogatepass" and would accept the encoded surrogate;
        # strict UTF-8 (RFC 3629) forbids it, so fieldstream rejects it: a documented difference.
        bytes_ok = False
    splits = {"whole": [text], "random": random_chunks(text, rnd, 5), "bytes": random_chunks(raw, rnd, 5)}
    for name, chunks in splits.items():
        for out in (run_parser(chunks), run_parse(chunks)):
            if ok if name != "bytes" else bytes_ok:
                assert out.error is None, (name, text, out.error)
                assert same_json(out.value, expected), (name, text)
            else:
                assert out.error is not None, (name, text, out.value)


def _oracle_accepts(doc: str | bytes) -> bool:
    try:
        oracle_loads(doc)
    except (OracleError, UnicodeDecodeError):
        return False
    return True


@given(json_texts())
def test_generated_documents_parse_to_the_json_loads_value(case: tuple[Any, str]) -> None:
    _, text = case
    expected = oracle_loads(text)
    assert same_json(fieldstream.parse(text), expected)
    assert same_json(fieldstream.parse(text.encode()), expected)


@given(json_texts(), st.randoms(use_true_random=False))
def test_mutated_documents_are_accepted_exactly_when_json_loads_accepts_them(
    case: tuple[Any, str], rnd: random.Random
) -> None:
    _, text = case
    for _ in range(4):
        _check_against_oracle(mutate(text, rnd), rnd)


@given(st.text(alphabet=st.sampled_from(list('{}[]:,"\\ 0123456789-+.eEtrufalsnu/x\n')), max_size=14),
       st.randoms(use_true_random=False))
def test_random_token_soup_is_accepted_exactly_when_json_loads_accepts_it(
    text: str, rnd: random.Random
) -> None:
    _check_against_oracle(text, rnd)


@given(JSON_VALUES, st.randoms(use_true_random=False))
def test_truncated_documents_are_always_rejected_unless_json_loads_accepts_the_prefix(
    value: Any, rnd: random.Random
) -> None:
    text = json.dumps(value, ensure_ascii=rnd.random() < 0.5)
    cut = text[: rnd.randint(0, len(text))]
    _check_against_oracle(cut, rnd)


@pytest.mark.parametrize(
    "text",
    ["NaN", "[NaN]", "Infinity", "-Infinity", '{"a": -Infinity}', "[1, nan]", "inf"],
)
def test_nan_and_infinity_are_rejected_although_json_loads_accepts_them(text: str) -> None:
    with pytest.raises(fieldstream.StreamError):
        fieldstream.parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1, "a": 2}', {"a": 2}),
        ('{"a": 1, "b": 0, "a": {"c": []}}', {"a": {"c": []}, "b": 0}),
        ('"\\ud800"', "\ud800"),
        ('"\\udc00\\ud800"', "\udc00\ud800"),
        ('"\\ud800x"', "\ud800x"),
        ('"\ud800"', "\ud800"),  # a raw lone surrogate in a str: json.loads accepts it
        ("1E400", float("inf")),
        ("-1e-400", -0.0),
        ("[1.0, 1, -0, -0.0, 1e2]", [1.0, 1, 0, -0.0, 100.0]),
        ("123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_json_loads_quirks_are_matched_value_for_value(text: str, expected: Any) -> None:
    assert same_json(json.loads(text), expected)
    for chunks in ([text], list(text)):
        assert same_json(fieldstream.parse(chunks), expected)
        out = run_parser(chunks)
        assert out.error is None and same_json(out.value, expected)


def test_duplicate_keys_keep_first_position_and_last_value_like_json_loads() -> None:
    text = '{"a": 1, "b": 2, "a": 3}'
    assert list(fieldstream.parse(text).items()) == list(json.loads(text).items())


# --------------------------------------------------------------------------- ijson (second oracle)

def _ijson_stream(events: list[Event]) -> list[tuple[str, str, Any]]:
    """Our events rendered as ijson.parse's (prefix, event, value) stream."""
    out: list[tuple[str, str, Any]] = []

    def prefix(path: tuple[str | int, ...]) -> str:
        return ".".join("item" if isinstance(s, int) else s for s in path)

    for e in events:
        if type(e) is StringDelta:
            continue
        path = e.path
        if type(e) is ValueStart:
            if path and isinstance(path[-1], str):
                out.append((prefix(path[:-1]), "map_key", path[-1]))
            kind = e.kind.value
            if kind in ("object", "array"):
                out.append((prefix(path), "start_map" if kind == "object" else "start_array", None))
            continue
        assert type(e) is ValueDone
        v = e.value
        if isinstance(v, dict):
            out.append((prefix(path), "end_map", None))
        elif isinstance(v, list):
            out.append((prefix(path), "end_array", None))
        elif isinstance(v, bool):
            out.append((prefix(path), "boolean", v))
        elif v is None:
            out.append((prefix(path), "null", None))
        elif isinstance(v, str):
            out.append((prefix(path), "string", v))
        else:
            out.append((prefix(path), "number", v))
    return out


def _normalise_ijson(events: Any) -> list[tuple[str, str, Any]]:
    out = []
    for prefix, event, value in events:
        if isinstance(value, Decimal):
            value = float(value)
        out.append((prefix, event, value))
    return out


@pytest.mark.parametrize("name", ["twitter.json", "citm_catalog.json", "canada.json"])
def test_event_stream_matches_ijson_python_backend_on_bench_corpus(name: str) -> None:
    raw = (BENCH / name).read_bytes()
    if name == "canada.json":
        raw = raw[:300_000]  # the python backend is slow: a prefix, compared event for event
    backend = ijson.get_backend("python")
    theirs = []
    try:
        for item in backend.parse(raw, use_float=True):
            theirs.append(item)
    except ijson.IncompleteJSONError:
        assert name == "canada.json"
    p = fieldstream.Parser()
    ours_events: list[Event] = []
    try:
        for chunk in random_chunks(raw, random.Random(name), 500):
            ours_events += p.feed(chunk)
        ours_events += p.close()
    except fieldstream.StreamError as exc:
        assert name == "canada.json" and exc.kind is ErrorKind.INCOMPLETE
    ours = _ijson_stream(ours_events)
    theirs_n = _normalise_ijson(theirs)
    if name == "canada.json":
        # ijson reports a number only once it sees the character after it; so do we.
        n = min(len(ours), len(theirs_n))
        assert n > 10_000
        assert ours[:n] == theirs_n[:n]
        assert abs(len(ours) - len(theirs_n)) <= 2
    else:
        assert ours == theirs_n
        assert len(ours) > 10_000


def test_ijson_items_of_the_bench_corpus_equal_our_value_done_events() -> None:
    raw = (BENCH / "citm_catalog.json").read_bytes()
    backend = ijson.get_backend("python")
    performances = list(backend.items(raw, "performances.item", use_float=True))
    ours = [e.value for e in fieldstream.iter_events(raw)
            if type(e) is ValueDone and len(e.path) == 2 and e.path[0] == "performances"]
    assert len(ours) == len(performances) > 100
    assert all(same_json(a, b) for a, b in zip(ours, performances, strict=True))
