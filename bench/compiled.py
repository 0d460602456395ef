"""The compiled core against the pure-Python core and ijson, in ONE process.

Run it with the interpreter of a venv where fieldstream was installed compiled (``pip install .``)::

    python3 -m venv .venv-compiled && .venv-compiled/bin/pip install . ijson
    .venv-compiled/bin/python bench/compiled.py              # ~1 min; --quick: smaller sizes

The installed (compiled) package is imported as ``fieldstream``; the pure-Python source in ``src/`` is
loaded beside it as the package ``fieldstream_pure`` (same files, interpreted), so both run in the same
process on the same inputs. Jobs:

* records, 4-char deltas, the partial value after every delta (``Parser(events=False)`` +
  ``snapshot()``), against ijson's pure-Python backend + ``ObjectBuilder`` (the issue's target:
  compiled <= 0.75x ijson python + builder);
* longstring, 4-char and 1-char deltas, snapshot after every delta: must stay linear (exponent);
* whole documents (bench/data): ``fieldstream.parse(text)``, compiled vs pure (target >= 1.3x).

Each figure is the best of several runs (``gc`` collected before each), in CPU time of the process
(``time.process_time``): on a shared machine wall time mostly measures the neighbours.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import docs_gen  # noqa: E402
import peers  # noqa: E402

import fieldstream  # noqa: E402


def load_pure() -> ModuleType:
    """Import src/fieldstream as the package ``fieldstream_pure`` (interpreted, whatever is installed)."""
    src = ROOT / "src" / "fieldstream"
    spec = importlib.util.spec_from_file_location(
        "fieldstream_pure", src / "__init__.py", submodule_search_locations=[str(src)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fieldstream_pure"] = module
    spec.loader.exec_module(module)
    return module


def best(fn: Callable[[], Any], runs: int, budget: float) -> float:
    out = math.inf
    spent = 0.0
    for i in range(runs):
        gc.collect()
        t = time.process_time()
        fn()
        dt = time.process_time() - t
        out = min(out, dt)
        spent += dt
        if i >= 1 and spent > budget:
            break
    return out


def snapshot_job(mod: ModuleType, deltas: list[str]) -> Callable[[], Any]:
    def run() -> Any:
        p = mod.Parser(events=False)
        feed = p.feed
        snap = p.snapshot
        for d in deltas:
            feed(d)
            snap()
        p.close()
        return p.value
    return run


def ijson_job(deltas: list[str]) -> Callable[[], Any]:
    def run() -> Any:
        c = peers.IjsonPython("records")
        feed = c.feed
        for d in deltas:
            feed(d)
        return c.finish()
    return run


def whole_parse(mod: ModuleType, text: str) -> Any:
    return mod.parse(text)


def whole_events(mod: ModuleType, text: str) -> Any:
    p = mod.Parser()
    p.feed(text)
    p.close()
    return p.value


def fmt(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    pure = load_pure()
    assert fieldstream.COMPILED, "run this with a compiled install (see the module docstring)"
    assert not pure.COMPILED
    runs, budget = (3, 1.0) if args.quick else (5, 3.0)
    print(f"Python {sys.version.split()[0]}; compiled: {fieldstream._parser.__file__}")  # type: ignore[attr-defined]
    rows: list[str] = []

    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    rows.append("| job | size | compiled | pure Python | ijson python + builder | compiled / pure | "
                "compiled / ijson |")
    rows.append("|---|---|---|---|---|---|---|")
    for size in sizes:
        text = docs_gen.make_doc("records", size)
        expected = json.loads(text)
        deltas = docs_gen.chunks(text, 4)
        jobs = {"compiled": snapshot_job(fieldstream, deltas), "pure": snapshot_job(pure, deltas),
                "ijson": ijson_job(deltas)}
        for name, job in jobs.items():
            assert job() == expected, name
        t = {name: best(job, runs, budget) for name, job in jobs.items()}
        rows.append(f"| records, 4-char deltas, snapshot after each | {docs_gen.size_label(size)} | "
                    f"{fmt(t['compiled'])} | {fmt(t['pure'])} | {fmt(t['ijson'])} | "
                    f"{t['compiled'] / t['pure']:.2f}x | {t['compiled'] / t['ijson']:.2f}x |")
        print(rows[-1], flush=True)

    rows.append("")
    rows.append("| job | size | compiled | pure Python | compiled / pure |")
    rows.append("|---|---|---|---|---|")
    for dsz in (4, 1):
        points: dict[str, list[tuple[float, float]]] = {"compiled": [], "pure": []}
        for size in sizes:
            text = docs_gen.make_doc("longstring", size)
            deltas = docs_gen.chunks(text, dsz)
            jobs = {"compiled": snapshot_job(fieldstream, deltas), "pure": snapshot_job(pure, deltas)}
            t = {name: best(job, max(2, runs - 2), budget) for name, job in jobs.items()}
            for name in jobs:
                points[name].append((math.log(len(text)), math.log(t[name])))
            label = docs_gen.size_label(size)
            rows.append(f"| longstring, {dsz}-char deltas, snapshot after each | {label} | "
                        f"{fmt(t['compiled'])} | {fmt(t['pure'])} | {t['compiled'] / t['pure']:.2f}x |")
            print(rows[-1], flush=True)
        slopes = {name: (p[-1][1] - p[0][1]) / (p[-1][0] - p[0][0]) for name, p in points.items()}
        rows.append(f"| longstring, {dsz}-char deltas: exponent (log-log slope) | "
                    f"{docs_gen.size_label(sizes[0])}–{docs_gen.size_label(sizes[-1])} | "
                    f"{slopes['compiled']:.2f} | {slopes['pure']:.2f} | |")
        print(rows[-1], flush=True)

    rows.append("")
    rows.append("| whole document | MB | API | compiled | pure Python | speed-up (pure / compiled time) |")
    rows.append("|---|---|---|---|---|---|")
    for fname in ("twitter.json", "citm_catalog.json", "canada.json"):
        text = (HERE / "data" / fname).read_text(encoding="utf-8")
        mb = len(text.encode()) / 1e6
        expected = json.loads(text)
        for api, run in (("`parse(text)`", whole_parse), ("`Parser()` events", whole_events)):
            assert run(fieldstream, text) == expected and run(pure, text) == expected
            tc = best(lambda run=run, text=text: run(fieldstream, text), runs, budget)
            tp = best(lambda run=run, text=text: run(pure, text), runs, budget)
            rows.append(f"| {fname} | {mb:.2f} | {api} | {mb / tc:.1f} MB/s | {mb / tp:.1f} MB/s | "
                        f"{tp / tc:.2f}x |")
            print(rows[-1], flush=True)

    print()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
