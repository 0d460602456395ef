"""``python -m mutation``: mutate the source, one small bug at a time, and check that a test fails.

    python -m mutation --scope core --budget-minutes 15                  # ~15 min on 2 cores
    python -m mutation --scope schema --budget-minutes 10 --max-mutants 200 --report docs/mutation-report.md
    python -m mutation --scope core --module src/fieldstream/_path.py --budget-minutes 3

How it works (see ``docs/testing.md``):

1. The scope (``mutation/config.py``) names source globs and the test files that must kill their
   mutants. Every mutation point of every source file is listed (``mutation/operators.py``).
2. The list is shuffled with a fixed seed (``--seed``) and cut at ``--max-mutants``; mutants then run
   in that order until the time budget is used up, so a bigger budget runs a superset.
3. Each job owns a private copy of the repository in a temporary directory (the working tree is
   never written). Before any mutant the scope's tests run twice on the unmutated copies, at once:
   under coverage (``mutation/_covplugin.py``: which test executes which line) and plain (each
   test's own time). A mutant is written into a copy, the tests that execute its lines run there
   (``pytest -x -q -p no:cacheprovider``, ``PYTHONPATH`` = the copy's ``src``; the rules are in
   ``mutation/covmap.py``; ``--no-coverage``: the scope's whole selection), and the file is
   restored. A failing test kills the mutant; a run over the per-mutant timeout (3x the selected
   tests' time in the plain run, at least 10 s) is killed and the mutant counts as killed by
   timeout. A mutant on a line no test executes survives without a run.
4. Survivors listed in ``mutation/equivalent.txt`` (file:line operator reason) count as equivalent.

The exit status is 0 when the run completed (survivors are findings, not errors), 2 on a usage or
setup error (for example, the scope's tests already fail on the unmutated code).
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import importlib.util
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mutation import config
from mutation.covmap import ALL, NONE, CoverageMap, Selection, mutant_lines
from mutation.operators import OPERATORS, Mutant, find_mutants, iter_valid

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.txt"
PLUGIN = Path(__file__).resolve().parent / "_covplugin.py"
CHILD = Path(__file__).resolve().parent / "_covchild.py"
PLUGIN_NAME = "_fieldstream_mutation"  # the plugin's module name in a worker (see _make_copy)

KILLED, TIMEOUT, SURVIVED, EQUIV, NOT_RUN = "killed", "timeout", "survived", "equivalent", "not-run"


class SetupError(Exception):
    """The run cannot start (bad scope, no tests, the clean run already fails)."""


# ----------------------------------------------------------------------------------------- scopes
def _glob(root: Path, patterns: list[str]) -> list[str]:
    """Files matching ``patterns``, in pattern order (sorted within one pattern), each once.

    The order matters for test selections: ``pytest -x`` stops at the first failure, so fast,
    sharp tests listed first kill most mutants in a fraction of the full run.
    """
    found: dict[str, None] = {}
    for pattern in patterns:
        for p in sorted(root.glob(pattern)):
            if p.is_file() and "__pycache__" not in p.parts:
                found.setdefault(p.relative_to(root).as_posix(), None)
    return list(found)


def resolve_scope(root: Path, scope: str, module: str | None = None) -> tuple[list[str], list[str]]:
    """(source files, test files) of ``scope``, relative to ``root``; ``module`` narrows the sources."""
    if scope not in config.SCOPES:
        raise SetupError(f"unknown scope {scope!r} (known: {', '.join(config.SCOPES)}, all)")
    spec = config.SCOPES[scope]
    excluded = set(_glob(root, spec.get("exclude", [])))
    sources = sorted(s for s in _glob(root, spec["sources"]) if s not in excluded)
    if module is not None:
        wanted = Path(module).as_posix()
        sources = [s for s in sources if fnmatch.fnmatch(s, wanted) or s == wanted]
        if not sources:
            raise SetupError(f"--module {module!r} matches no source file of scope {scope!r}")
    tests = _glob(root, spec["tests"])
    if not sources:
        raise SetupError(f"scope {scope!r}: no source file matches {spec['sources']}")
    if not tests:
        raise SetupError(f"scope {scope!r}: no test file matches {spec['tests']}")
    return sources, tests


# ------------------------------------------------------------------------------------ equivalents
_ID_LEN = 12


def _is_id(op: str) -> bool:
    return len(op) == _ID_LEN and all(c in "0123456789abcdef" for c in op)


@dataclass(frozen=True)
class Equivalent:
    file: str
    line: int | None  # None: any line ("file:*")
    operator: str  # an operator name, a mutant id, or "*"
    reason: str

    def matches(self, m: Mutant) -> bool:
        """A mutant id matches on any line: the id hashes the file, the operator and the original and
        mutated line *text*, so an entry written with an id survives edits that move the line. An
        operator name (or ``*``) matches only on the given line."""
        if self.file != m.file:
            return False
        if _is_id(self.operator):
            return self.operator == m.id
        return (self.line is None or self.line == m.line) and self.operator in (m.operator, "*")


def load_equivalents(path: Path = EQUIVALENT) -> list[Equivalent]:
    """``file:line operator reason`` lines; ``#`` starts a comment line; ``line`` may be ``*``."""
    out: list[Equivalent] = []
    if not path.exists():
        return out
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or ":" not in parts[0]:
            raise SetupError(f"{path}:{n}: expected 'file:line operator reason', got {raw!r}")
        file, _, lineno = parts[0].rpartition(":")
        if lineno != "*" and not lineno.isdigit():
            raise SetupError(f"{path}:{n}: line must be a number or '*', got {lineno!r}")
        out.append(Equivalent(file, None if lineno == "*" else int(lineno), parts[1], parts[2]))
    return out


def equivalent_reason(m: Mutant, equivalents: list[Equivalent]) -> str | None:
    for e in equivalents:
        if e.matches(m):
            return e.reason
    return None


def stale_equivalents(root: Path, equivalents: list[Equivalent]) -> list[Equivalent]:
    """Entries that match no mutant of the current tree (the file is gone, or the line was edited)."""
    texts: dict[str, list[Mutant] | None] = {}
    stale = []
    for e in equivalents:
        if e.file not in texts:
            path = root / e.file
            texts[e.file] = (list(iter_valid(find_mutants(path.read_text(encoding="utf-8"), e.file),
                                             path.read_text(encoding="utf-8")))
                             if path.is_file() else None)
        mutants = texts[e.file]
        if mutants is None or not any(e.matches(m) for m in mutants):
            stale.append(e)
    return stale


# ---------------------------------------------------------------------------------------- running
@dataclass
class Outcome:
    mutant: Mutant
    status: str
    seconds: float = 0.0
    detail: str = ""
    tests: int | None = None  # how many tests were selected (None: the whole selection, --no-coverage)


@dataclass
class ScopeResult:
    scope: str
    sources: list[str]
    tests: list[str]
    baseline_seconds: float
    timeout: float
    total_mutants: int
    outcomes: list[Outcome] = field(default_factory=list)
    coverage: bool = False  # per-mutant selection from the covered clean run
    covered_seconds: float = 0.0  # the covered clean run (baseline_seconds: the plain one)
    test_count: int = 0  # tests in the scope's whole selection (coverage runs only)


def _make_copy(root: Path, dest: Path) -> Path:
    """``dest/repo``: the files of ``config.COPY``; ``dest/plugin``: our pytest plugin, on ``PYTHONPATH``."""
    repo = dest / "repo"
    repo.mkdir(parents=True)
    (dest / "plugin" / "child").mkdir(parents=True)
    shutil.copy2(PLUGIN, dest / "plugin" / f"{PLUGIN_NAME}.py")
    shutil.copy2(CHILD, dest / "plugin" / "child" / "sitecustomize.py")  # only on a child's path
    ignore = shutil.ignore_patterns(*config.COPY_IGNORE)
    for name in config.COPY:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=ignore, symlinks=True)
        elif src.is_file():
            shutil.copy2(src, repo / name)
    return repo


def _env(repo: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(repo / "src"), str(repo), str(repo.parent / "plugin")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a stale .pyc of a same-size mutant must never be reused
    env["HYPOTHESIS_PROFILE"] = config.HYPOTHESIS_PROFILE
    env.pop("PYTEST_ADDOPTS", None)
    for name in [n for n in env if n.startswith("FIELDSTREAM_MUTATION_")]:  # only what ``extra`` asks
        del env[name]
    env.update(extra or {})
    return env


_ACTIVE: set[subprocess.Popen[str]] = set()  # running test processes (killed when the run is interrupted)
_STOP = threading.Event()


def _kill_all() -> None:
    _STOP.set()
    for proc in list(_ACTIVE):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _pytest(repo: Path, tests: list[str], timeout: float | None, args: list[str] | None = None,
            env: dict[str, str] | None = None) -> tuple[int | None, float, str]:
    """Run the tests in ``repo``; (exit code or None on timeout, seconds, output tail).

    ``--rootdir`` is fixed so node ids do not depend on which test files are passed; our plugin is
    loaded (it does nothing unless ``env`` asks it to record coverage or to select tests)."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", PLUGIN_NAME,
           f"--rootdir={repo}", *(args or []), *tests]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=repo, env=_env(repo, env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    _ACTIVE.add(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole session: pytest and anything it started
        out, _ = proc.communicate()
        code = None
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): leave no test run behind
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        _ACTIVE.discard(proc)
    shutil.rmtree(repo / ".hypothesis", ignore_errors=True)  # no failure replay from one mutant to the next
    return code, time.monotonic() - start, out[-2000:]


def _check_import(repo: Path) -> None:
    """The copy's ``src`` must win over an editable install of the working tree (``PYTHONPATH`` does)."""
    if not (repo / "src" / "fieldstream").is_dir():
        return
    probe = "import fieldstream, sys; sys.stdout.write(fieldstream.__file__)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=repo, env=_env(repo), capture_output=True,
                         text=True)
    if out.returncode == 0 and not Path(out.stdout).resolve().is_relative_to(repo.resolve()):
        raise SetupError(f"the copy imports fieldstream from {out.stdout}, not from {repo}/src")


def select(mutants: list[Mutant], seed: int, max_mutants: int | None) -> list[Mutant]:
    """A seeded shuffle, cut at ``max_mutants``: the same inputs give the same order on every machine."""
    ordered = sorted(mutants, key=lambda m: (m.file, m.start, m.operator, m.replacement))
    random.Random(seed).shuffle(ordered)
    return ordered[:max_mutants] if max_mutants is not None else ordered


def _clean_runs(repo: Path, other: Path, sources: list[str], tests: list[str], pytest_args: list[str] | None,
                ) -> tuple[int | None, float, str, CoverageMap | None, float]:
    """The two clean runs of the whole selection, at once when ``other`` is another copy: one under
    coverage (the map) and one plain (each test's own time, for the timeouts: tracing slows the
    parser's hot loop several times more than a test that waits). (exit code, plain seconds, output,
    map with the plain run's durations, covered seconds)."""
    map_file, times_file = repo.parent / "coverage-map.json", other.parent / "durations.json"
    cov_env = {"FIELDSTREAM_MUTATION_COVERAGE": str(map_file),
               "FIELDSTREAM_MUTATION_CHILD_DIR": str(repo.parent / "plugin" / "child"),
               "FIELDSTREAM_MUTATION_SOURCES": os.pathsep.join(str((repo / s).resolve()) for s in sources)}
    with ThreadPoolExecutor(max_workers=2 if other != repo else 1) as pool:
        covered = pool.submit(_pytest, repo, tests, None, pytest_args, cov_env)
        plain = pool.submit(_pytest, other, tests, None, pytest_args,
                            {"FIELDSTREAM_MUTATION_DURATIONS": str(times_file)})
        try:
            (code, covered_seconds, out), (plain_code, seconds, plain_out) = covered.result(), plain.result()
        except BaseException:  # interrupted: leave no test run behind
            _kill_all()
            raise
    if plain_code != 0:
        return plain_code, seconds, plain_out, None, covered_seconds
    if code != 0 or not map_file.is_file():
        return code if code != 0 else 3, seconds, out, None, covered_seconds
    covmap = CoverageMap.load(map_file)
    covmap.durations = json.loads(times_file.read_text(encoding="utf-8"))["durations"]
    return 0, seconds, out, covmap, covered_seconds


def run_scope(root: Path, scope: str, sources: list[str], tests: list[str], *, jobs: int = 2,
              budget_seconds: float = 900.0, max_mutants: int | None = None, seed: int = 0,
              operators: tuple[str, ...] = OPERATORS, equivalents: list[Equivalent] | None = None,
              timeout: float | None = None, pytest_args: list[str] | None = None,
              only: set[str] | None = None, log: Any = None, coverage: bool = True) -> ScopeResult:
    """Run the mutants of ``sources`` against ``tests`` (both relative to ``root``).

    With ``coverage`` (the default) the clean run records which tests execute which lines, and each
    mutant runs only the tests that execute one of its lines (``mutation/covmap.py``); without it,
    every mutant runs the whole selection."""
    equivalents = load_equivalents() if equivalents is None else equivalents
    started = time.monotonic()
    texts = {f: (root / f).read_text(encoding="utf-8") for f in sources}
    mutants = [m for f in sources for m in iter_valid(find_mutants(texts[f], f), texts[f])
               if m.operator in operators]
    chosen = select(mutants, seed, max_mutants)
    if only:  # re-check given mutants (ids from a report), e.g. the survivors of the last run
        chosen = [m for m in chosen if m.id in only]
    with tempfile.TemporaryDirectory(prefix="fieldstream-mutation-") as tmp:
        repos: queue.Queue[Path] = queue.Queue()
        for j in range(max(1, jobs)):
            repos.put(_make_copy(root, Path(tmp) / f"job{j}"))
        probe = repos.get()
        _check_import(probe)
        covmap: CoverageMap | None = None
        covered_seconds = 0.0
        if coverage:
            if importlib.util.find_spec("coverage") is None:
                raise SetupError("the coverage package is missing (pip install -e '.[dev]'), "
                                 "or run with --no-coverage")
            other = repos.get() if jobs > 1 else probe
            code, baseline, out, covmap, covered_seconds = _clean_runs(probe, other, sources, tests,
                                                                       pytest_args)
            if other is not probe:
                repos.put(other)
        else:
            code, baseline, out = _pytest(probe, tests, None, pytest_args)
        repos.put(probe)
        if code != 0:
            raise SetupError(f"scope {scope!r}: the tests fail on the unmutated code:\n{out}")
        # pytest's start-up and collection: what the plain clean run took beyond its tests' own time
        overhead = max(0.0, baseline - covmap.seconds_of(tuple(covmap.tests))) if covmap else baseline

        def limit(expected: float) -> float:  # per-mutant timeout: a factor of the expected time, a floor
            if timeout is not None:
                return timeout
            return max(config.TIMEOUT_FLOOR, config.TIMEOUT_FACTOR * expected)

        whole = limit(baseline)
        deadline = started + budget_seconds
        result = ScopeResult(scope, sources, tests, round(baseline, 2), round(whole, 1), len(mutants),
                             coverage=covmap is not None, test_count=len(covmap.tests) if covmap else 0,
                             covered_seconds=round(covered_seconds, 2))
        lock = threading.Lock()
        done = [0]

        def plan(m: Mutant) -> tuple[Selection | None, list[str], float, float]:
            """(selection or None for the whole one, test files to pass, expected seconds, timeout)."""
            if covmap is None:
                return None, tests, baseline, whole
            sel = covmap.select(m.file, texts[m.file], mutant_lines(texts[m.file], m.start, m.end))
            if sel.kind == ALL:
                return sel, tests, baseline, whole
            if sel.kind == NONE:
                return sel, [], 0.0, 0.0
            files = {t.split("::", 1)[0] for t in sel.tests}
            expected = overhead + covmap.seconds_of(sel.tests)
            return sel, [t for t in tests if t in files], expected, limit(expected)

        def one(m: Mutant) -> Outcome:
            reason = equivalent_reason(m, equivalents)
            if reason is not None:
                return Outcome(m, EQUIV, detail=reason)
            sel, files, expected, per_mutant = plan(m)
            # the budget cuts the seeded order for every mutant alike: a mutant no test executes is decided
            # without a run, but past the deadline it is "not run" like the others (else the sample would
            # hold every uncovered mutant of the scope and only a prefix of the rest)
            if _STOP.is_set() or time.monotonic() + min(per_mutant, expected * 1.5) > deadline:
                return Outcome(m, NOT_RUN)
            if sel is not None and sel.kind == NONE:
                outcome = Outcome(m, SURVIVED, 0.0, sel.reason, tests=0)
            else:
                outcome = _run_mutant(m, sel, files, per_mutant)
            with lock:
                done[0] += 1
                if log is not None:
                    picked = "" if outcome.tests is None else f" [{outcome.tests} tests]"
                    print(f"[{scope} {done[0]}/{len(chosen)}] {outcome.status:8} {m.file}:{m.line} "
                          f"{m.operator}: {m.mutated_line.strip()[:80]}{picked}", file=log, flush=True)
            return outcome

        def _run_mutant(m: Mutant, sel: Selection | None, files: list[str], per_mutant: float) -> Outcome:
            repo = repos.get()
            target = repo / m.file
            env: dict[str, str] = {}
            count = None if sel is None else result.test_count if sel.kind == ALL else len(sel.tests)
            try:
                if sel is not None and sel.kind != ALL:
                    select_file = repo.parent / "selected-tests.txt"
                    select_file.write_text("".join(t + "\n" for t in sel.tests), encoding="utf-8")
                    env["FIELDSTREAM_MUTATION_SELECT"] = str(select_file)
                target.write_text(m.apply(texts[m.file]), encoding="utf-8")
                code, seconds, out = _pytest(repo, files, per_mutant, pytest_args, env)
            finally:
                target.write_text(texts[m.file], encoding="utf-8")
                repos.put(repo)
            if code is None:
                return Outcome(m, TIMEOUT, seconds, f"no result after {per_mutant:.0f} s", count)
            if code == 0:
                return Outcome(m, SURVIVED, seconds, tests=count)
            if code in (1, 2, 3):  # tests failed / interrupted (e.g. an import error) / internal error
                lines = [ln for ln in out.splitlines() if ln.startswith(("FAILED", "ERROR"))]
                return Outcome(m, KILLED, seconds, lines[0] if lines else f"pytest exit {code}", count)
            # 4: usage error, 5: no tests collected: the mutant broke collection itself
            return Outcome(m, KILLED, seconds, f"pytest exit {code}", count)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            try:
                result.outcomes = list(pool.map(one, chosen))
            except BaseException:
                _kill_all()  # the workers' test runs end now; queued mutants return at once
                raise
    return result


# ---------------------------------------------------------------------------------------- reports
def _counts(outcomes: list[Outcome]) -> dict[str, Any]:
    c = {s: sum(o.status == s for o in outcomes) for s in (KILLED, TIMEOUT, SURVIVED, EQUIV, NOT_RUN)}
    run = c[KILLED] + c[TIMEOUT] + c[SURVIVED]
    c["run"] = run
    c["score"] = round(100.0 * (c[KILLED] + c[TIMEOUT]) / run, 1) if run else None
    return c


def _per_mutant(r: ScopeResult) -> dict[str, Any]:
    """Mean tests and seconds per mutant that ran (or was decided without a run: no covering test)."""
    ran = [o for o in r.outcomes if o.status in (KILLED, TIMEOUT, SURVIVED)]
    counts = [o.tests if o.tests is not None else r.test_count for o in ran]
    return {"mutants": len(ran), "without_run": sum(o.tests == 0 for o in ran),
            "mean_tests": round(sum(counts) / len(ran), 1) if ran and r.coverage else None,
            "mean_seconds": round(sum(o.seconds for o in ran) / len(ran), 2) if ran else None}


def to_json(results: list[ScopeResult], args: dict[str, Any]) -> dict[str, Any]:
    scopes = []
    for r in results:
        modules = {f: _counts([o for o in r.outcomes if o.mutant.file == f]) for f in r.sources}
        scopes.append({
            "scope": r.scope, "sources": r.sources, "tests": r.tests, "baseline_seconds": r.baseline_seconds,
            "coverage": r.coverage, "covered_seconds": r.covered_seconds, "test_count": r.test_count,
            "per_mutant": _per_mutant(r),
            "timeout_seconds": r.timeout, "mutants_total": r.total_mutants, "sampled": len(r.outcomes),
            "summary": _counts(r.outcomes), "modules": modules,
            "mutants": [{"id": o.mutant.id, "file": o.mutant.file, "line": o.mutant.line,
                         "operator": o.mutant.operator, "original": o.mutant.original_line.strip(),
                         "mutated": o.mutant.mutated_line.strip(), "status": o.status,
                         "seconds": round(o.seconds, 2), "tests": o.tests, "detail": o.detail}
                        for o in r.outcomes],
        })
    return {"args": args, "scopes": scopes}


def to_markdown(data: dict[str, Any]) -> str:
    a = data["args"]
    out = ["# Mutation report", "",
           f"`python -m mutation --scope {a['scope']} --budget-minutes {a['budget_minutes']} "
           f"--jobs {a['jobs']} "
           f"--seed {a['seed']}" + (f" --max-mutants {a['max_mutants']}" if a["max_mutants"] else "")
           + (f" --module {a['module']}" if a.get("module") else "")
           + (" --no-coverage" if a.get("no_coverage") else "") + "`", "",
           "Score = (killed + timeout) / (killed + timeout + survived); equivalent mutants "
           "(`mutation/equivalent.txt`) and mutants the budget did not reach are left out.", "",
           "| scope | module | run | killed | timeout | survived | equivalent | not run | score |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in data["scopes"]:
        rows = [*s["modules"].items(), ("**all**", s["summary"])]
        for mod, c in rows:
            score = "-" if c["score"] is None else f"{c['score']}%"
            out.append(f"| {s['scope']} | {mod} | {c['run']} | {c['killed']} | {c['timeout']} "
                       f"| {c['survived']} | {c['equivalent']} | {c['not-run']} | {score} |")
    for s in data["scopes"]:
        pm = s.get("per_mutant") or {}
        if s.get("coverage"):
            how = (f"clean run of the {s['test_count']} tests {s['baseline_seconds']} s, under coverage "
                   f"{s['covered_seconds']} s (both at once with --jobs 2); per mutant "
                   f"the tests that execute its lines: mean {pm.get('mean_tests')} tests, "
                   f"{pm.get('mean_seconds')} s ({pm.get('without_run', 0)} mutants on lines no test "
                   f"executes); timeout of the whole selection {s['timeout_seconds']} s.")
        else:
            how = (f"clean run of the tests {s['baseline_seconds']} s, every mutant runs all of them "
                   f"(--no-coverage): mean {pm.get('mean_seconds')} s; per-mutant timeout "
                   f"{s['timeout_seconds']} s.")
        out += ["", f"## {s['scope']}: survivors", "",
                f"{s['mutants_total']} mutants in scope, {s['sampled']} sampled; {how}", "",
                "Tests: " + ", ".join(f"`{t}`" for t in s["tests"]), ""]
        survivors = [m for m in s["mutants"] if m["status"] == SURVIVED]
        if not survivors:
            out.append("None.")
        for m in sorted(survivors, key=lambda m: (m["file"], m["line"])):
            untested = " (no test executes this line)" if m.get("tests") == 0 else ""
            out += [f"- `{m['file']}:{m['line']}` {m['operator']} (`{m['id']}`){untested}", "  ```diff",
                    f"  - {m['original']}", f"  + {m['mutated']}", "  ```"]
        timeouts = [m for m in s["mutants"] if m["status"] == TIMEOUT]
        if timeouts:
            out += ["", "Killed by timeout:", ""]
            out += [f"- `{m['file']}:{m['line']}` {m['operator']}: `{m['mutated']}`" for m in timeouts]
    return "\n".join(out) + "\n"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scope", choices=[*config.SCOPES, "all"])
    ap.add_argument("--budget-minutes", type=float, default=15.0,
                    help="wall-clock budget (for --scope all: split evenly between scopes)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--module", help="only mutate this source file (a path or glob inside the scope)")
    ap.add_argument("--max-mutants", type=int, help="cap the seeded sample")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", action="append", metavar="ID",
                    help="only this mutant (an id from a report; repeatable): re-check survivors")
    ap.add_argument("--operator", action="append", choices=OPERATORS,
                    help="only these operators (repeatable)")
    ap.add_argument("--timeout", type=float,
                    help="per-mutant timeout in seconds (default: from the clean run)")
    ap.add_argument("--no-coverage", action="store_true",
                    help="run every mutant against the scope's whole selection (no per-test coverage map)")
    ap.add_argument("--report", default="docs/mutation-report.md",
                    help="Markdown survivors report; the JSON goes next to it (.json)")
    ap.add_argument("--check-equivalents", action="store_true",
                    help="list the entries of mutation/equivalent.txt that match no mutant, then exit")
    ap.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.check_equivalents:
        try:
            stale = stale_equivalents(args.root, load_equivalents())
        except SetupError as exc:
            print(f"mutation: {exc}", file=sys.stderr)
            return 2
        for e in stale:
            print(f"stale: {e.file}:{'*' if e.line is None else e.line} {e.operator} {e.reason[:60]}")
        print(f"{len(stale)} stale entries")
        return 1 if stale else 0
    if args.scope is None:
        ap.error("--scope is required")
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM cleans up like Ctrl-C (temporary copies, test runs)
    scopes = list(config.SCOPES) if args.scope == "all" else [args.scope]
    budget = args.budget_minutes * 60 / len(scopes)
    results = []
    try:
        for scope in scopes:
            sources, tests = resolve_scope(args.root, scope, args.module if args.scope != "all" else None)
            results.append(run_scope(args.root, scope, sources, tests, jobs=args.jobs, budget_seconds=budget,
                                     max_mutants=args.max_mutants, seed=args.seed,
                                     operators=tuple(args.operator or OPERATORS),
                                     timeout=args.timeout, log=sys.stderr,
                                     pytest_args=config.SCOPES[scope].get("pytest_args"),
                                     only=set(args.only) if args.only else None,
                                     coverage=not args.no_coverage))
    except SetupError as exc:
        print(f"mutation: {exc}", file=sys.stderr)
        return 2
    data = to_json(results, {"scope": args.scope, "budget_minutes": args.budget_minutes, "jobs": args.jobs,
                             "seed": args.seed, "max_mutants": args.max_mutants, "module": args.module,
                             "no_coverage": args.no_coverage})
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(to_markdown(data), encoding="utf-8")
    report.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for s in data["scopes"]:
        c = s["summary"]
        pm = s["per_mutant"]
        print(f"{s['scope']}: {c['run']} run, {c['killed']} killed, {c['timeout']} timeout, {c['survived']} "
              f"survived, {c['equivalent']} equivalent, {c['not-run']} not run: score {c['score']}%; "
              f"clean run {s['baseline_seconds']} s"
              + (f" (covered {s['covered_seconds']} s)" if s["coverage"] else "")
              + f", per mutant {pm['mean_tests'] if s['coverage'] else 'all'} tests, {pm['mean_seconds']} s")
    print(f"report: {report} and {report.with_suffix('.json')}")
    return 0
