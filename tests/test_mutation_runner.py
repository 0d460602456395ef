"""The mutation runner (``python -m mutation``) on a toy project in tmp_path: killed, survived, timeout.

The toy's tests check ``add`` exactly, call ``count_to`` without checking the result, and the toy's
loop hangs when its ``+= 1`` becomes ``-= 1``: one mutant of each verdict, chosen by operator and line.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from mutation import run as mrun
from mutation.operators import Mutant, find_mutants

TOY = textwrap.dedent('''\
    """A toy module."""


    def add(a, b):
        return a + b


    def count_to(n):
        i = 0
        while i < n:
            i += 1
        return i
''')

TOY_TESTS = textwrap.dedent('''\
    from toy import add, count_to


    def test_add():
        assert add(2, 3) == 5


    def test_count_to_runs():
        count_to(3)
''')


def _toy(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "toy.py").write_text(TOY)
    (root / "tests" / "test_toy.py").write_text(TOY_TESTS)
    return root


def test_operators_find_the_documented_mutants_of_the_toy() -> None:
    found = {(m.line, m.operator, m.mutated_line.strip()) for m in find_mutants(TOY, "src/toy.py")}
    assert (5, "return-none", "return None") in found
    assert (10, "compare", "while (i <= n):") in found
    assert (11, "augassign", "i -= 1") in found
    assert (9, "constant", "i = 1") in found
    assert not any(line == 1 for line, _, _ in found)  # the docstring is never mutated


def test_runner_reports_killed_survived_and_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _toy(tmp_path)
    text = (root / "src" / "toy.py").read_text()
    wanted = {(5, "return-none"), (12, "return-none"), (11, "augassign")}
    picked = [m for m in find_mutants(text, "src/toy.py") if (m.line, m.operator) in wanted
              and m.mutated_line.strip() in ("return None", "i -= 1")]
    assert len(picked) == 3

    # run_scope enumerates every mutant; restrict it to the three picked ones through the seeded selection
    def only_picked(mutants: list[Mutant], seed: int, max_mutants: int | None) -> list[Mutant]:
        return [m for m in mutants if m in picked]

    monkeypatch.setattr(mrun, "select", only_picked)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # the toy needs no plugin: ~0.3 s per run
    result = mrun.run_scope(root, "toy", ["src/toy.py"], ["tests/test_toy.py"], jobs=2,
                            budget_seconds=300, equivalents=[], timeout=4.0)
    status = {(o.mutant.line, o.mutant.operator): o.status for o in result.outcomes}
    assert status == {(5, "return-none"): "killed", (12, "return-none"): "survived",
                      (11, "augassign"): "timeout"}
    assert (root / "src" / "toy.py").read_text() == text  # the project itself is never written

    data = mrun.to_json([result], {"scope": "toy", "budget_minutes": 5, "jobs": 2, "seed": 0,
                                   "max_mutants": None})
    assert data["scopes"][0]["summary"]["score"] == round(100 * 2 / 3, 1)
    md = mrun.to_markdown(json.loads(json.dumps(data)))
    assert "src/toy.py:12` return-none" in md and "+ return None" in md


def test_equivalent_allow_list_marks_a_survivor(tmp_path: Path) -> None:
    allow = tmp_path / "equivalent.txt"
    allow.write_text("# comment\nsrc/toy.py:12 return-none the toy's tests never look at the result\n")
    eqs = mrun.load_equivalents(allow)
    m = next(m for m in find_mutants(TOY, "src/toy.py") if m.line == 12 and m.operator == "return-none")
    assert mrun.equivalent_reason(m, eqs) == "the toy's tests never look at the result"
    other = next(m for m in find_mutants(TOY, "src/toy.py") if m.line == 5 and m.operator == "return-none")
    assert mrun.equivalent_reason(other, eqs) is None


def test_scopes_of_the_config_resolve_to_existing_sources_and_tests() -> None:
    for scope in mrun.config.SCOPES:
        sources, tests = mrun.resolve_scope(mrun.ROOT, scope)
        assert sources and tests
        assert all((mrun.ROOT / p).is_file() for p in sources + tests)


def test_an_equivalent_entry_by_id_still_matches_after_the_line_moves(tmp_path: Path) -> None:
    [m] = [m for m in find_mutants(TOY, "src/toy.py") if m.operator == "augassign" and "-=" in m.mutated_line]
    moved = "# a new first line\n" + TOY
    [m2] = [x for x in find_mutants(moved, "src/toy.py") if x.id == m.id]
    assert m2.line == m.line + 1
    eq = tmp_path / "equivalent.txt"
    eq.write_text(f"src/toy.py:{m.line} {m.id} the reason\nsrc/toy.py:{m.line} augassign by name\n"
                  "src/gone.py:3 * a file that no longer exists\n")
    entries = mrun.load_equivalents(eq)
    assert mrun.equivalent_reason(m2, entries[:1]) == "the reason"  # the id matches on the new line
    assert mrun.equivalent_reason(m2, entries[1:2]) is None  # an operator name only on its line
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "toy.py").write_text(moved)
    assert [e.file for e in mrun.stale_equivalents(root, entries)] == ["src/toy.py", "src/gone.py"]
