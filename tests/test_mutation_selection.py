"""Coverage-guided test selection of the mutation runner (``mutation/covmap.py``, ``mutation/_covplugin.py``).

End to end on a toy scope in tmp_path: each toy test logs its name to a file when it runs, so the test
sees exactly which tests ran for which mutant. Then the selection rules on hand-made coverage maps.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from mutation import run as mrun
from mutation.covmap import ALL, IMPORT, NONE, TESTS, CoverageMap, mutant_lines, runtime_lines
from mutation.operators import Mutant, find_mutants

pytest.importorskip("coverage")

TOY = textwrap.dedent('''\
    """A toy for the coverage-guided selection."""
    FACTOR = 2


    def double(x):
        return x * FACTOR


    def triple(x):
        return x * 3


    def name():
        return "toy"


    def half(x):
        return x // 2
''')

LAZY = textwrap.dedent('''\
    def build():
        return {"k": 1}


    TABLE = build()  # build() runs while the module is imported, inside whichever test imports it first
''')

TOY_TESTS = textwrap.dedent('''\
    import os
    import subprocess
    import sys

    from toy import double, name


    def _log(test):
        with open(os.environ["TOY_LOG"], "a") as f:
            f.write(test + "\\n")


    def test_a():
        _log("a")
        assert name() == "toy"


    def test_b():
        _log("b")
        assert double(2) == 4


    def test_c():  # half() runs only in a child process
        _log("c")
        subprocess.run([sys.executable, "-c", "import toy; assert toy.half(4) == 2"], check=True)


    def test_d():  # the first to import lazy, checks nothing
        _log("d")
        import lazy  # noqa: F401


    def test_e():
        _log("e")
        import lazy
        assert lazy.TABLE == {"k": 1}
''')


def _pick(text: str, line: int, operator: str, mutated: str) -> Mutant:
    [m] = [m for m in find_mutants(text, "src/toy.py")
           if (m.line, m.operator, m.mutated_line.strip()) == (line, operator, mutated)]
    return m


def test_a_mutant_runs_only_the_tests_that_execute_its_line(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "toy.py").write_text(TOY)
    (root / "src" / "lazy.py").write_text(LAZY)
    (root / "tests" / "test_toy.py").write_text(TOY_TESTS)
    log = tmp_path / "ran.txt"
    covered_by_b = _pick(TOY, 6, "return-none", "return None")  # double(): only test_b calls it
    uncovered = _pick(TOY, 10, "return-none", "return None")  # triple(): no test calls it
    import_time = _pick(TOY, 2, "constant", "FACTOR = 3")  # module level: runs before any test
    in_child = _pick(TOY, 18, "return-none", "return None")  # half(): only test_c's subprocess calls it
    [lazy_build] = [m for m in find_mutants(LAZY, "src/lazy.py")
                    if (m.line, m.operator) == (2, "return-none")]
    order = [covered_by_b, uncovered, import_time, in_child, lazy_build]
    monkeypatch.setattr(mrun, "select", lambda mutants, seed, max_mutants: [m for m in order if m in mutants])
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("TOY_LOG", str(log))

    sources = ["src/toy.py", "src/lazy.py"]
    result = mrun.run_scope(root, "toy", sources, ["tests/test_toy.py"], jobs=1, budget_seconds=300,
                            equivalents=[], timeout=30.0)
    assert result.coverage and result.test_count == 5
    got = {o.mutant: o for o in result.outcomes}
    assert (got[covered_by_b].status, got[covered_by_b].tests) == ("killed", 1)
    assert "test_b" in got[covered_by_b].detail
    assert (got[uncovered].status, got[uncovered].tests, got[uncovered].detail) == (
        "survived", 0, "no test executes this line")
    assert (got[import_time].status, got[import_time].tests) == ("killed", 5)
    assert "test_b" in got[import_time].detail
    assert (got[in_child].status, got[in_child].tests) == ("killed", 1)  # the child's coverage counts
    assert "test_c" in got[in_child].detail
    # the plugin imports every source file before the first test: build() counts as import-time, not
    # as test_d's (which would select d alone, and d checks nothing)
    assert (got[lazy_build].status, got[lazy_build].tests) == ("killed", 5)
    assert "test_e" in got[lazy_build].detail
    # the clean runs, covered and plain (one after the other with jobs=1), then the mutant of double()
    # (b only), then nothing for triple(), then the import-time mutant against the whole selection
    # (a passes, b fails, -x stops), then c alone, then build() against the whole selection
    assert log.read_text().split() == [*"abcde", *"abcde", "b", "a", "b", "c", *"abcde"]

    # --no-coverage: the old behaviour, every mutant against the whole selection (triple() is run too)
    log.unlink()
    old = mrun.run_scope(root, "toy", sources, ["tests/test_toy.py"], jobs=1, budget_seconds=300,
                         equivalents=[], timeout=30.0, coverage=False)
    assert not old.coverage
    assert [o.status for o in old.outcomes] == ["killed", "survived", "killed", "killed", "killed"]
    assert all(o.tests is None for o in old.outcomes)
    assert log.read_text().split() == [*"abcde", *"ab", *"abcde", *"ab", *"abc", *"abcde"]
    assert (root / "src" / "toy.py").read_text() == TOY

    # a spent budget cuts the seeded order for every mutant alike: the uncovered one is "not run" too,
    # not a survivor (else a short run would hold every uncovered mutant and only a prefix of the rest)
    late = mrun.run_scope(root, "toy", sources, ["tests/test_toy.py"], jobs=1, budget_seconds=0.0,
                          equivalents=[], timeout=30.0)
    assert [o.status for o in late.outcomes] == ["not-run"] * 5


def _map(lines: dict[int, list[str]], *, shared: dict[str, list[str]] | None = None,
         subprocess: list[str] | None = None) -> CoverageMap:
    tests = ["t.py::a", "t.py::b", "t.py::c", "u.py::d"]
    return CoverageMap(tests, dict.fromkeys(tests, 1.0), shared or {}, subprocess or [], {"m.py": lines})


MODULE = textwrap.dedent('''\
    import functools
    LIMIT = 3


    @functools.cache
    def f(x, y=LIMIT):
        if x:
            return (x +
                    y)
        return 0


    class K:
        size = 2

        def g(self):
            return self.size
''')


def test_runtime_lines_are_function_bodies_only() -> None:
    assert runtime_lines(MODULE) == {7, 8, 9, 10, 17}
    # a mutant's lines: the span of the replaced text
    start = MODULE.index("(x +")
    assert list(mutant_lines(MODULE, start, start + len("(x +\n                y)"))) == [8, 9]
    assert list(mutant_lines(MODULE, start, start + 2)) == [8]


def test_selection_rules_on_a_hand_made_map() -> None:
    cmap = _map({8: ["call|t.py::c"], 9: ["call|t.py::a"], 10: [IMPORT], 17: ["call|u.py::d"]})
    # test order is the run order of the clean run, not the order the contexts were found in
    assert cmap.select("m.py", MODULE, range(8, 10)).tests == ("t.py::a", "t.py::c")  # multi-line: union
    assert cmap.select("m.py", MODULE, range(8, 9)).tests == ("t.py::c",)
    assert cmap.select("m.py", MODULE, range(10, 11)).kind == ALL  # seen at import
    assert cmap.select("m.py", MODULE, range(2, 3)).kind == ALL  # module level, whatever coverage says
    assert cmap.select("m.py", MODULE, range(6, 7)).kind == ALL  # a default value in the signature
    assert cmap.select("m.py", MODULE, range(14, 15)).kind == ALL  # a class body
    assert cmap.select("m.py", MODULE, range(7, 8)).kind == NONE
    assert cmap.select("other.py", MODULE, range(7, 8)).kind == NONE  # a file no test imported


def test_a_line_seen_in_a_fixture_setup_widens_to_the_tests_sharing_its_wide_fixtures() -> None:
    shared = {"t.py::a": ["t.py::server"], "t.py::b": ["t.py::server"], "u.py::d": ["u.py::other"]}
    cmap = _map({7: ["setup|t.py::a"], 8: ["call|t.py::a"]}, shared=shared)
    assert cmap.select("m.py", MODULE, range(7, 8)).tests == ("t.py::a", "t.py::b")
    assert cmap.select("m.py", MODULE, range(8, 9)).tests == ("t.py::a",)  # the test body itself: no widening


def test_tests_that_start_a_python_subprocess_run_for_every_mutant() -> None:
    cmap = _map({8: ["call|t.py::a"]}, subprocess=["u.py::d"])
    assert cmap.select("m.py", MODULE, range(8, 9)).tests == ("t.py::a", "u.py::d")
    lone = cmap.select("m.py", MODULE, range(7, 8))  # no in-process test: the subprocess tests may still
    assert (lone.kind, lone.tests) == (TESTS, ("u.py::d",))
