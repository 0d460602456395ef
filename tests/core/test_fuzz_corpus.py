"""Replay the fuzz corpus as regression tests.

* ``fuzz/corpus/edge/*.json``: hand-made edge cases (``python -m fuzz.make_edge_corpus``);
* ``fuzz/corpus/found/*.json``: failing cases found and shrunk by fuzz campaigns. A case of a bug
  that is not fixed yet carries ``"xfail": "<reason>"`` and is replayed as ``xfail(strict=True)``,
  so the test starts failing (XPASS) the day the bug is fixed and the mark must be removed;
* the JSONTestSuite parsing corpus, vendored in ``tests/data/JSONTestSuite``.

Each case is checked by the same functions the campaigns use (``fuzz/checks.py``): chunking
invariance, differential vs ``json.loads``, vs ijson, error positions vs the reference recognizer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fuzz.checks import CHECKS, make_case
from fuzz.reference import recognize

import fieldstream

ROOT = Path(__file__).resolve().parents[2]
from fuzz.targets import TARGETS, corpus_checks  # noqa: E402

CORPUS = ROOT / "fuzz" / "corpus"
SUITE = ROOT / "tests" / "data" / "JSONTestSuite" / "test_parsing"


def _corpus_params() -> list[Any]:
    params = []
    for path in sorted(CORPUS.glob("*/*.json")):
        case = json.loads(path.read_text())
        for target in corpus_checks(case):
            marks = []
            if case.get("xfail"):
                marks.append(pytest.mark.xfail(reason=case["xfail"], strict=True))
            params.append(pytest.param(case, target, id=f"{path.parent.name}/{path.stem}[{target}]",
                                       marks=marks))
    return params


@pytest.mark.parametrize(("case", "target"), _corpus_params())
def test_corpus_case_passes_its_target(case: dict[str, Any], target: str) -> None:
    if target in TARGETS:
        reason = TARGETS[target].unavailable()
        if reason is not None:
            pytest.skip(reason)
        TARGETS[target].check(case)
    else:
        CHECKS[target](case)  # a corpus-only check (e.g. path_memory)


def test_corpus_has_hand_made_edge_cases() -> None:
    assert len(list((CORPUS / "edge").glob("*.json"))) >= 50


def _suite_files() -> list[Path]:
    return sorted(SUITE.glob("*.json")) if SUITE.is_dir() else []


@pytest.mark.parametrize("path", _suite_files(), ids=lambda p: p.name)
def test_jsontestsuite_file_agrees_with_oracles(path: Path) -> None:
    raw = path.read_bytes()
    small = len(raw) <= 4096
    # bytes, whole and (for small files) one byte at a time; str when it is UTF-8
    cases = [make_case(raw, [raw])]
    if small:
        cases.append(make_case(raw, [raw[k:k + 1] for k in range(len(raw))]))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        cases.append(make_case(text, [text[k:k + 3] for k in range(0, len(text), 3)]))
    for case in cases:
        CHECKS["json_loads"](case)
        CHECKS["error_positions"](case)
        if small:
            CHECKS["chunking"](case)
    if path.name.startswith("y_"):
        assert text is not None and recognize(text).complete
        fieldstream.parse(raw)
    elif path.name.startswith("n_"):
        assert text is None or not recognize(text).complete
        with pytest.raises(fieldstream.StreamError):
            fieldstream.parse(raw)


def test_reference_recognizer_viable_prefix_examples() -> None:
    # The reference itself, pinned on examples worked out by hand.
    assert recognize("01").viable == 1
    assert recognize("[1x").viable == 2
    assert recognize('{"a" 1}').viable == 5
    assert recognize('"\\u12G"').viable == 5
    assert recognize("[1,").viable == 3 and not recognize("[1,").complete
    assert recognize("1 ").complete and not recognize("-").complete
