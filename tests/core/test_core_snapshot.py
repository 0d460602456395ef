"""Partial snapshots and the event contract.

Snapshots: after every delta, ``snapshot(copy=True)`` is a "prefix" of the final value (completed
members equal, only the open spine may be partial, strings as prefixes, never a partial number or
literal), and each snapshot is a prefix of the next. ``snapshot()`` is the live object,
``snapshot(copy=True)`` an independent copy; taking snapshots never changes events or the value.

Events: every value gets exactly one ValueStart and one ValueDone in document order; ValueDone.value
equals json.loads of the subtree; StringDelta only for string values, never empty, never half a
surrogate pair; object keys are never streamed.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fieldstream
from fieldstream import Event, StringDelta, ValueDone, ValueStart
from support.core import (
    expected_events,
    json_texts,
    merge_events,
    oracle_loads,
    random_chunks,
    run_parser,
    same_json,
)


def is_prefix(snap: Any, final: Any) -> bool:
    """True if ``snap`` is a partial state of ``final``: only the last member may be partial."""
    if isinstance(final, str):
        return type(snap) is str and final.startswith(snap)
    if isinstance(final, dict):
        if type(snap) is not dict:
            return False
        keys = list(snap)
        if keys != list(final)[: len(keys)]:
            return False
        if not all(same_json(snap[k], final[k]) for k in keys[:-1]):
            return False
        return not keys or is_prefix(snap[keys[-1]], final[keys[-1]])
    if isinstance(final, list):
        if type(snap) is not list or len(snap) > len(final):
            return False
        if not all(same_json(a, b) for a, b in zip(snap[:-1], final[: max(len(snap) - 1, 0)], strict=True)):
            return False
        return not snap or is_prefix(snap[-1], final[len(snap) - 1])
    return same_json(snap, final)  # numbers and literals: complete or absent, never partial


def test_is_prefix_helper() -> None:
    assert is_prefix({"a": [1, "x"]}, {"a": [1, "xy"], "b": 2})
    assert is_prefix({}, {"a": 1})
    assert not is_prefix({"a": 12}, {"a": 123})
    assert not is_prefix({"a": "x", "b": 1}, {"a": "xy", "b": 1})  # only the last member may be partial
    assert not is_prefix({"b": 1}, {"a": 1, "b": 1})
    assert not is_prefix([1, 2], [1])
    assert not is_prefix([1.0], [1])
    assert not is_prefix([None], [[]])


def _snapshots_along(chunks: list[Any]) -> tuple[list[Any], Any]:
    p = fieldstream.Parser()
    snaps = []
    for c in chunks:
        p.feed(c)
        snaps.append(p.snapshot(copy=True))
    p.close()
    snaps.append(p.snapshot(copy=True))
    return snaps, p.value


@given(json_texts(), st.randoms(use_true_random=False), st.booleans())
def test_every_snapshot_is_a_prefix_of_the_final_value_and_of_the_next_snapshot(
    case: tuple[Any, str], rnd: random.Random, as_bytes: bool
) -> None:
    _, text = case
    data: str | bytes = text.encode() if as_bytes else text
    chunks = list(data) if rnd.random() < 0.5 and not as_bytes else random_chunks(data, rnd, 4)
    if as_bytes and rnd.random() < 0.5:
        chunks = [data[i:i + 1] for i in range(len(data))]
    snaps, final = _snapshots_along(chunks)
    assert same_json(final, oracle_loads(text))
    assert same_json(snaps[-1], final)
    for i, snap in enumerate(snaps):
        if snap is None:  # nothing started yet, or an unfinished root number/literal
            assert all(s is None for s in snaps[:i])
            continue
        assert is_prefix(snap, final), (i, snap, final)
        assert is_prefix(snap, snaps[i + 1] if i + 1 < len(snaps) else final), (i, snap, snaps[i + 1])


@given(json_texts(), st.randoms(use_true_random=False))
def test_taking_snapshots_does_not_change_events_or_value(case: tuple[Any, str], rnd: random.Random) -> None:
    _, text = case
    chunks = random_chunks(text, rnd, 3)
    plain = run_parser(chunks)
    p = fieldstream.Parser()
    events: list[Event] = []
    for c in chunks:
        events += p.feed(c)
        if rnd.random() < 0.5:
            p.snapshot()
        if rnd.random() < 0.2:
            p.snapshot(copy=True)
    events += p.close()
    assert merge_events(events) == merge_events(plain.events)
    assert same_json(p.value, plain.value)


def test_snapshot_is_none_before_a_value_and_hides_an_unfinished_root_scalar() -> None:
    p = fieldstream.Parser()
    assert p.snapshot() is None
    p.feed("  ")
    assert p.snapshot() is None
    p.feed("12")
    assert p.snapshot() is None
    p = fieldstream.Parser()
    p.feed("tr")
    assert p.snapshot() is None
    p = fieldstream.Parser()
    p.feed('"ab\\u00')
    assert p.snapshot() == "ab"
    p.feed('e9')
    assert p.snapshot() == "abé"


def test_snapshot_hides_partial_numbers_and_literals_inside_containers() -> None:
    p = fieldstream.Parser()
    seen: list[Any] = []
    for ch in '{"a": [123, true, -1.5e3, null, "x"], "b": false}':
        p.feed(ch)
        snap = p.snapshot(copy=True)
        if not seen or not same_json(seen[-1], snap):
            seen.append(snap)
    a: list[Any] = [123, True, -1500.0, None]
    expected = [{}, {"a": []}, {"a": a[:1]}, {"a": a[:2]}, {"a": a[:3]}, {"a": a}, {"a": [*a, ""]},
                {"a": [*a, "x"]}, {"a": [*a, "x"], "b": False}]
    assert len(seen) == len(expected), seen
    assert all(same_json(x, y) for x, y in zip(seen, expected, strict=True)), seen


def test_snapshot_default_is_the_live_object_and_copy_is_independent() -> None:
    p = fieldstream.Parser()
    p.feed('{"a": [1, "te')
    live = p.snapshot()
    assert live is p.snapshot()
    copied = p.snapshot(copy=True)
    assert copied == live == {"a": [1, "te"]} and copied is not live
    assert copied["a"] is not live["a"]
    copied["a"].append("mutated")
    copied["z"] = 0
    p.feed('xt"], "b": {"c": 2}}')
    assert live == {"a": [1, "text"], "b": {"c": 2}}  # updated in place
    assert copied == {"a": [1, "te", "mutated"], "z": 0}  # unaffected by later input
    p.close()
    assert p.snapshot() is p.value is live


def test_snapshot_copy_of_a_deep_document_has_no_recursion_limit() -> None:
    p = fieldstream.Parser(max_depth=None)
    p.feed("[" * 50_000 + "1")
    snap = p.snapshot(copy=True)
    depth = 0
    while isinstance(snap, list) and snap:
        snap = snap[0]
        depth += 1
    assert depth == 49_999 or (depth == 50_000 and snap == 1) or snap == []


# --------------------------------------------------------------------------- the event contract

def _subtree(doc: Any, path: tuple[Any, ...]) -> Any:
    for seg in path:
        doc = doc[seg]
    return doc


def check_event_contract(events: list[Event], final: Any) -> None:
    starts: list[tuple[Any, ...]] = []
    open_stack: list[tuple[Any, ...]] = []
    string_paths = set()
    prev: Event | None = None
    for e in events:
        path = e.path
        if type(e) is ValueStart:
            assert not open_stack or path[:-1] == open_stack[-1], (path, open_stack)
            starts.append(path)
            open_stack.append(path)
            if e.kind is fieldstream.ValueKind.STRING:
                string_paths.add(path)
        elif type(e) is StringDelta:
            assert e.delta != "", "empty delta"
            assert open_stack and open_stack[-1] == path, "delta outside its value"
            assert path in string_paths, "delta outside a string value"
            if type(prev) is StringDelta and prev.path == path:
                assert not ("\ud800" <= prev.delta[-1] <= "\udbff" and "\udc00" <= e.delta[0] <= "\udfff"), (
                    "half a surrogate pair", prev.delta, e.delta)
        else:
            assert type(e) is ValueDone
            assert open_stack and open_stack.pop() == path, "ValueDone without its ValueStart"
            assert same_json(e.value, _subtree(final, path)), path
        prev = e
    assert not open_stack
    assert len(starts) == len(set(starts)), "a value started twice"
    assert starts[0] == ()


@given(json_texts(), st.randoms(use_true_random=False))
def test_events_follow_the_contract_for_every_value(case: tuple[Any, str], rnd: random.Random) -> None:
    _, text = case
    expected = oracle_loads(text)
    for chunks in ([text], random_chunks(text, rnd, 3), random_chunks(text.encode(), rnd, 3)):
        out = run_parser(chunks)
        assert out.error is None
        check_event_contract(out.events, expected)
        assert merge_events(out.events) == expected_events(expected)


@pytest.mark.parametrize(
    "text",
    [
        '["\\ud83d\\ude00"]',
        '{"\\ud83d\\ude00": "\\ud83d\\ude00\\ud83d\\ude01", "k": "a\\ud83d\\ude00b"}',
        '["\\ud800", "\\ud800x", "\\udc00\\ud800\\udc00"]',
    ],
)
def test_surrogate_pair_escapes_are_never_split_across_deltas(text: str) -> None:
    expected = oracle_loads(text)
    for size in (1, 2, 3, 5, 7):
        out = run_parser([text[i:i + size] for i in range(0, len(text), size)])
        assert out.error is None and same_json(out.value, expected)
        check_event_contract(out.events, expected)
        for e in out.events:
            # a high surrogate may only end a delta if the string really holds a lone one there
            if type(e) is StringDelta and "\ud800" <= e.delta[-1] <= "\udbff":
                    assert "\ud800" in _subtree(expected, e.path)


def test_keys_are_never_streamed_and_values_done_are_live_containers() -> None:
    text = '{"long key with words": {"inner key": ["v"]}}'
    events: list[Event] = []
    p = fieldstream.Parser()
    for ch in text:
        events += p.feed(ch)
    events += p.close()
    deltas = [e for e in events if type(e) is StringDelta]
    assert "".join(e.delta for e in deltas) == "v"
    assert {e.path for e in deltas} == {("long key with words", "inner key", 0)}
    done = [e for e in events if type(e) is ValueDone]
    assert done[-1].path == () and done[-1].value is p.value
    assert done[-2].value is p.value["long key with words"]


def test_event_reprs_are_readable_and_events_are_frozen() -> None:
    events = list(fieldstream.iter_events('{"a": ["x"]}'))
    assert repr(events[0]) == "ValueStart(path=(), kind='object')"
    assert repr(events[3]) == "StringDelta(path=('a', 0), delta='x')"
    assert repr(events[-1]).startswith("ValueDone(path=(), value={")
    with pytest.raises(AttributeError):
        events[0].kind = fieldstream.ValueKind.ARRAY  # type: ignore[misc]
    assert not hasattr(events[0], "__dict__")
    assert copy.copy(events[3]) == events[3]


@given(json_texts(), st.randoms(use_true_random=False))
def test_value_only_mode_has_the_same_snapshots_and_state_as_event_mode(
    case: tuple[Any, str], rnd: random.Random
) -> None:
    """``Parser(events=False)`` (what parse() uses) builds the same partial document."""
    _, text = case
    quiet, loud = fieldstream.Parser(events=False), fieldstream.Parser()
    for c in random_chunks(text, rnd, 3):
        assert quiet.feed(c) == []
        loud.feed(c)
        assert same_json(quiet.snapshot(copy=True), loud.snapshot(copy=True))
        assert (quiet.path, quiet.depth, quiet.position, quiet.done) == (loud.path, loud.depth, loud.position,
                                                                         loud.done)
    assert quiet.close() == []
    loud.close()
    assert same_json(quiet.value, loud.value)


@given(json_texts())
def test_parser_path_is_the_path_of_the_open_scalar(case: tuple[Any, str]) -> None:
    _, text = case
    p = fieldstream.Parser()
    open_values: list[tuple[tuple[Any, ...], str]] = []
    for c in text:
        for e in p.feed(c):
            if type(e) is ValueStart:
                open_values.append((e.path, e.kind.value))
            elif type(e) is ValueDone:
                open_values.pop()
        if open_values and open_values[-1][1] not in ("object", "array"):
            assert p.path == open_values[-1][0], (text, c)
        assert p.depth == sum(1 for _, k in open_values if k in ("object", "array"))
