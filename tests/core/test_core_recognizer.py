"""The reference recognizer (tests/support/core.py) and the expected-events helper, checked against
json.loads: the oracles the core tests rely on must themselves be right."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.core import (
    JSON_VALUES,
    SYNTAX_KINDS,
    _complete,
    _oracle_ok,
    canon,
    expected_events,
    json_texts,
    line_col,
    mutate,
    recognize,
    suite_files,
    viable,
)


@pytest.mark.parametrize("path", suite_files("y") + suite_files("n"), ids=lambda p: p.name)
def test_reference_recognizer_agrees_with_json_loads_on_json_test_suite(path: Path) -> None:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8: the recognizer works on text")
    if text.startswith("\ufeff") or "nested" in path.name or "100000" in path.name:
        pytest.skip("BOM (json.loads(str) rejects it) or too deep for json.loads")
    n, complete = viable(text)
    assert complete == _oracle_ok(text) == path.name.startswith("y_")
    if complete:
        assert n == len(text)
    elif n < 10_000:  # (json.loads would hit its recursion limit on the 50 000-deep file)
        assert _oracle_ok(_complete(text[:n]))  # the viable prefix really is viable


@given(json_texts(), st.randoms(use_true_random=False))
def test_reference_recognizer_agrees_with_json_loads_on_generated_and_mutated_texts(
    case: tuple[Any, str], rnd: random.Random
) -> None:
    _, text = case
    assert viable(text) == (len(text), True)
    bad = mutate(text, rnd)
    n, complete = viable(bad)
    assert complete == _oracle_ok(bad)
    if not complete and n < len(bad):
        # "viable" means what it says: json.loads accepts the prefix finished the shortest way
        assert not _oracle_ok(bad[: n + 1])
        assert _oracle_ok(_complete(bad[:n])), _complete(bad[:n])


@pytest.mark.parametrize(
    ("text", "kind", "pos"),
    [
        ("[1,]", "trailing_comma", 3),
        ('{"a": 1 ,\n}', "trailing_comma", 10),
        ("[1,}", "expected_value", 3),
        ('{"a":]', "expected_value", 5),
        ("", "incomplete", 0),
        ("{,", "expected_key", 1),
        ('{"a",', "expected_colon", 4),
        ('{"a": 1]', "expected_comma_or_close", 7),
        ("[1 2", "expected_comma_or_close", 3),
        ("[] []", "trailing_data", 3),
        ("nul!", "invalid_literal", 3),
        ("-x", "invalid_number", 1),
        ('"\\x"', "invalid_escape", 2),
        ('"\n"', "control_character", 1),
        ("[1", "incomplete", 2),
        ("[1]", None, 3),
    ],
)
def test_reference_recognizer_names_the_kind(text: str, kind: str | None, pos: int) -> None:
    verdict = recognize(text)
    assert (verdict.kind, verdict.viable) == (kind, pos)
    assert kind is None or kind in SYNTAX_KINDS or kind == "incomplete"


def test_reference_recognizer_examples() -> None:
    assert viable("123") == (3, True)
    assert viable("12x") == (2, False)
    assert viable("[1, 2") == (5, False)
    assert viable('{"a" 1}') == (5, False)
    assert viable("[1] x") == (4, False)
    assert viable('"\\u12g"') == (5, False)
    assert viable("-") == (1, False)
    assert viable("-a") == (1, False)
    assert viable("[01]") == (2, False)
    assert viable("tru ") == (3, False)
    assert viable("") == (0, False)
    assert line_col("ab\ncd", 4) == (2, 2)
    assert line_col("ab\ncd", 0) == (1, 1)
    assert line_col("ab\ncd", 2) == (1, 3)
    assert line_col("ab\ncd", 3) == (2, 1)


@given(JSON_VALUES)
def test_expected_events_helper_matches_a_hand_written_case(value: Any) -> None:
    events = expected_events(value)
    starts = [e for e in events if e[0] == "start"]
    dones = [e for e in events if e[0] == "done"]
    assert len(starts) == len(dones)
    assert events[-1] == ("done", (), canon(value))
