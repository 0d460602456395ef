"""pytest plugin of the mutation runner: per-test line coverage (once per scope), and test selection.

The runner copies this file next to each worker copy of the repository and loads it with
``-p _fieldstream_mutation`` (not as ``mutation._covplugin``: a worker copy need not contain
``mutation/``). It does nothing unless one of two environment variables is set:

``FIELDSTREAM_MUTATION_COVERAGE=OUT.json`` (with ``FIELDSTREAM_MUTATION_SOURCES``, the absolute
paths of the scope's source files joined by ``os.pathsep``)
    Record which lines of those files each test executes, with ``coverage`` (threads too: a server
    started in a thread by a test runs under that test's context). Coverage starts when this module
    is imported, i.e. before any conftest or test module imports the code, so lines run at import
    (constants, defaults, decorators, class bodies) land in the ``<import>`` context. Each test's
    setup, call and teardown get their own context (``setup|ID``, ``call|ID``, ``teardown|ID``):
    a fixture of a wider scope (module, session) is set up once, in the setup of the first test
    that needs it, so the runner widens a line seen only in a setup or teardown to every test that
    shares such a fixture. A Python subprocess a test starts is measured too, when
    ``FIELDSTREAM_MUTATION_CHILD_DIR`` names a directory holding ``sitecustomize.py`` (a copy of
    ``mutation/_covchild.py``): the plugin adds it to the child's ``PYTHONPATH`` and the child's
    lines count for the test (and phase) that started it. A test whose child reported nothing is
    listed under ``subprocess``: the runner runs it for every mutant. OUT holds the map as JSON
    (see :func:`_Recorder.dump`).

``FIELDSTREAM_MUTATION_DURATIONS=OUT.json``
    Record each test's time (setup + call + teardown) without coverage: ``{"durations": {id: s},
    "seconds": s}``. The runner sets per-mutant timeouts from these (tracing makes the covered run
    several times slower, unevenly: more for the parser's hot loop than for a test that waits).

``FIELDSTREAM_MUTATION_SELECT=FILE`` (node ids, one per line)
    Deselect every collected test whose node id is not in FILE, keeping the collection order. If
    an id in FILE was not collected (a mutant changed a parametrize id, say), nothing is
    deselected: running more tests than asked is safe, running fewer is not.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

IMPORT = "<import>"
_COVERAGE_ENV = "FIELDSTREAM_MUTATION_COVERAGE"
_SOURCES_ENV = "FIELDSTREAM_MUTATION_SOURCES"
_SELECT_ENV = "FIELDSTREAM_MUTATION_SELECT"
_DURATIONS_ENV = "FIELDSTREAM_MUTATION_DURATIONS"


class _Timer:
    def __init__(self, out: str) -> None:
        self.out = out
        self.started = time.monotonic()
        self.durations: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        payload = {"durations": self.durations, "seconds": time.monotonic() - self.started}
        Path(self.out).write_text(json.dumps(payload), encoding="utf-8")


class _Recorder:
    def __init__(self, out: str, sources: list[str]) -> None:
        import coverage  # only the covered clean run needs it

        self.out = out
        self.sources = sources
        self.current = IMPORT
        self.context = IMPORT
        self.child_dir = os.environ.get("FIELDSTREAM_MUTATION_CHILD_DIR", "")
        self.children: list[tuple[str, str]] = []  # (file prefix, context of the test that started it)
        self.tests: list[str] = []
        self.durations: dict[str, float] = {}
        self.shared: dict[str, list[str]] = {}  # node id -> its fixtures of a scope wider than function
        self.spawning: set[str] = set()  # node ids that started a Python subprocess
        self.started = time.monotonic()
        self.cov = coverage.Coverage(data_file=None, include=sources, config_file=False, branch=False,
                                     concurrency=["thread"])
        self.cov.start()
        self.cov.switch_context(IMPORT)
        self._patch_popen()

    def _patch_popen(self) -> None:
        original = subprocess.Popen.__init__
        recorder = self

        def init(popen: Any, args: Any, *rest: Any, **kwargs: Any) -> None:
            first = args if isinstance(args, (str, bytes, os.PathLike)) else (args[0] if args else "")
            exe = os.fsdecode(first) if isinstance(first, (bytes, os.PathLike)) else str(first)
            if exe == sys.executable or "python" in Path(exe.split()[0] if exe.split() else exe).name:
                if recorder.child_dir and len(rest) < 9:  # env given by keyword or not at all
                    prefix = str(Path(recorder.out).parent / f"child-{len(recorder.children)}")
                    recorder.children.append((prefix, recorder.context))
                    env = dict(os.environ if kwargs.get("env") is None else kwargs["env"])
                    env["PYTHONPATH"] = os.pathsep.join(
                        p for p in (recorder.child_dir, env.get("PYTHONPATH", "")) if p)
                    env["FIELDSTREAM_MUTATION_CHILD_OUT"] = prefix
                    env["FIELDSTREAM_MUTATION_SOURCES"] = os.pathsep.join(recorder.sources)
                    kwargs["env"] = env
                else:
                    recorder.spawning.add(recorder.current)
            original(popen, args, *rest, **kwargs)

        subprocess.Popen.__init__ = init  # type: ignore[method-assign]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Import every source file of the scope now, under ``<import>``: a module a test would
        import lazily would otherwise charge what runs at its import (a table built by a function)
        to that one test, while every later test uses the result."""
        for source in self.sources:
            name = _module_name(source)
            if name is not None and name not in sys.modules:
                try:
                    importlib.import_module(name)
                except Exception:  # an optional dependency missing: the tests cannot import it either
                    pass

    def _switch(self, phase: str, nodeid: str) -> None:
        self.current = nodeid
        self.context = f"{phase}|{nodeid}"
        self.cov.switch_context(self.context)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        self.tests.append(item.nodeid)
        info = getattr(item, "_fixtureinfo", None)
        wide = []
        for name, defs in (getattr(info, "name2fixturedefs", None) or {}).items():
            for d in defs:
                if getattr(d, "scope", "function") != "function":
                    wide.append(f"{getattr(d, 'baseid', '')}::{name}")
        self.shared[item.nodeid] = sorted(set(wide))
        self._switch("setup", item.nodeid)
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        self._switch("call", item.nodeid)
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        self._switch("teardown", item.nodeid)
        yield
        self.current = self.context = IMPORT
        self.cov.switch_context(IMPORT)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.cov.stop()
        self.dump(str(session.config.rootpath))

    def dump(self, rootdir: str) -> None:
        """``{"tests": [ids in run order], "durations": {id: s}, "shared": {id: [fixture]},
        "subprocess": [ids], "seconds": s, "contexts": [context], "lines": {file: {line: [index]}}}``,
        files relative to the rootdir with forward slashes, contexts as recorded (``<import>`` or
        ``phase|id``), each line listing indexes into ``contexts``."""
        data = self.cov.get_data()
        root = Path(rootdir).resolve()
        found: dict[str, dict[int, set[str]]] = {}
        for path in data.measured_files():
            per = found.setdefault(Path(path).resolve().relative_to(root).as_posix(), {})
            for n, contexts in data.contexts_by_lineno(path).items():
                per.setdefault(n, set()).update(contexts)
        for prefix, context in self.children:
            reports = sorted(Path(prefix).parent.glob(Path(prefix).name + ".*.json"))
            if not reports:  # the child measured nothing: its test must run for every mutant
                self.spawning.add(context.partition("|")[2] or IMPORT)
            for report in reports:
                for path, numbers in json.loads(report.read_text(encoding="utf-8")).items():
                    resolved = Path(path).resolve()
                    if resolved.is_relative_to(root):
                        per = found.setdefault(resolved.relative_to(root).as_posix(), {})
                        for n in numbers:
                            per.setdefault(n, set()).add(context)
        # contexts by index: a hot parser line is executed by every one of 1 600 core tests
        names = sorted({c for per in found.values() for cs in per.values() for c in cs})
        index = {c: i for i, c in enumerate(names)}
        lines = {f: {n: sorted(index[c] for c in cs) for n, cs in per.items()} for f, per in found.items()}
        payload = {"tests": self.tests, "durations": self.durations, "shared": self.shared,
                   "subprocess": sorted(self.spawning - {IMPORT}), "seconds": time.monotonic() - self.started,
                   "contexts": names, "lines": lines}
        Path(self.out).write_text(json.dumps(payload), encoding="utf-8")


def _module_name(path: str) -> str | None:
    """The dotted name under which ``path`` is imported from ``sys.path`` (the deepest entry wins)."""
    file = Path(path).resolve()
    best: tuple[str, ...] | None = None
    for entry in sys.path:
        try:
            parts = file.with_suffix("").relative_to(Path(entry or ".").resolve()).parts
        except ValueError:
            continue
        if best is None or len(parts) < len(best):
            best = parts
    if not best:
        return None
    if best[-1] == "__init__":
        best = best[:-1]
    return ".".join(best) if best and all(p.isidentifier() for p in best) else None


class _Selector:
    def __init__(self, path: str) -> None:
        self.wanted = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln]

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        wanted = set(self.wanted)
        if not wanted <= {item.nodeid for item in items}:
            print(f"mutation: {len(wanted - {i.nodeid for i in items})} selected test(s) not collected: "
                  "running every collected test", file=sys.stderr)
            return
        keep = [i for i in items if i.nodeid in wanted]
        dropped = [i for i in items if i.nodeid not in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _start() -> None:
    out = os.environ.get(_COVERAGE_ENV)
    if out:
        sources = [s for s in os.environ.get(_SOURCES_ENV, "").split(os.pathsep) if s]
        _PLUGINS.append(_Recorder(out, sources))
    timer = os.environ.get(_DURATIONS_ENV)
    if timer:
        _PLUGINS.append(_Timer(timer))
    select = os.environ.get(_SELECT_ENV)
    if select:
        _PLUGINS.append(_Selector(select))


_PLUGINS: list[Any] = []
_start()  # at import: coverage must run before a conftest imports the code under test


def pytest_configure(config: pytest.Config) -> None:
    for n, plugin in enumerate(_PLUGINS):
        config.pluginmanager.register(plugin, f"fieldstream-mutation-{n}")
