"""Which tests can kill a mutant: the per-test coverage map of a scope and the selection rules.

The map comes from one covered clean run of the scope's tests (``mutation/_covplugin.py``). For a
mutant spanning lines L of file F, :meth:`CoverageMap.select` returns, in this order of rules:

1. **all** (the scope's whole selection) if a line of L is not inside a function body (module
   level, class bodies, decorators, default values, signatures: it runs at import, before any
   test) or if coverage saw a line of L run at import (``<import>``: a function called while a
   module is imported). Conservative: an import-time mutant can change what every test sees.
2. Otherwise the tests that executed a line of L (setup, call or teardown). A line seen in a
   test's setup or teardown is widened to every test that shares one of that test's fixtures of a
   wider scope (module, package, session): such a fixture runs once, in the first test that needs
   it, and the others use what it built.
3. Plus the tests that started a Python subprocess which reported no coverage (the plugin measures
   children through ``mutation/_covchild.py``; their lines count for the test that started them
   like its own): what such a child ran is unknown, so these tests are selected for every mutant.
4. **none** if no test remains: no test executes the line, so no test can fail (``survived``).

The blind spot (documented in ``docs/testing.md``): state one test leaves behind for a later test
that never executes the mutated line itself (a memo cache filled by the first caller, say).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

IMPORT = "<import>"
ALL, TESTS, NONE = "all", "tests", "none"


def runtime_lines(text: str) -> set[int]:
    """Lines inside a function (or lambda) body: they run when the function is called, not at import."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0].lineno
        elif isinstance(node, ast.Lambda):
            first = node.body.lineno
        else:
            continue
        lines.update(range(first, (node.end_lineno or first) + 1))
    return lines


def mutant_lines(text: str, start: int, end: int) -> range:
    """The 1-based lines the character span ``text[start:end]`` touches."""
    first = text.count("\n", 0, start) + 1
    return range(first, first + text.count("\n", start, max(start, end - 1)) + 1)


@dataclass(frozen=True)
class Selection:
    kind: str  # ALL, TESTS or NONE
    tests: tuple[str, ...] = ()  # for TESTS: node ids in run order
    reason: str = ""


@dataclass
class CoverageMap:
    tests: list[str]  # node ids in run order (the scope's file order)
    durations: dict[str, float]  # node id -> seconds (setup + call + teardown) in the covered run
    shared: dict[str, list[str]]  # node id -> its fixtures of a scope wider than function
    subprocess: list[str]  # node ids that started a Python subprocess that reported no coverage
    lines: dict[str, dict[int, list[str]]]  # file -> line -> contexts (<import> or phase|node id)
    seconds: float = 0.0  # the covered run, as measured by the plugin
    _runtime: dict[str, set[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path) -> CoverageMap:
        raw = json.loads(path.read_text(encoding="utf-8"))
        names = raw["contexts"]  # the strings are shared, each line holds references only
        lines = {f: {int(n): [names[i] for i in idx] for n, idx in per.items()}
                 for f, per in raw["lines"].items()}
        return cls(raw["tests"], raw["durations"], raw["shared"], raw["subprocess"], lines, raw["seconds"])

    def select(self, file: str, text: str, lines: range) -> Selection:
        if file not in self._runtime:
            self._runtime[file] = runtime_lines(text)
        runtime = self._runtime[file]
        if any(n not in runtime for n in lines):
            return Selection(ALL, reason="import-time line")
        per_line = self.lines.get(file, {})
        contexts = {c for n in lines for c in per_line.get(n, ())}
        if IMPORT in contexts:
            return Selection(ALL, reason="runs at import")
        chosen: set[str] = set()
        for ctx in contexts:
            phase, _, nodeid = ctx.partition("|")
            chosen.add(nodeid)
            if phase != "call":
                wide = set(self.shared.get(nodeid, ()))
                chosen.update(t for t in self.tests if wide.intersection(self.shared.get(t, ())))
        covered = bool(chosen)
        chosen.update(self.subprocess)
        if not chosen:
            return Selection(NONE, reason="no test executes this line")
        ordered = tuple(t for t in self.tests if t in chosen)
        return Selection(TESTS, ordered, "covering tests" if covered else "subprocess tests only")

    def seconds_of(self, tests: tuple[str, ...]) -> float:
        return sum(self.durations.get(t, 0.0) for t in tests)
