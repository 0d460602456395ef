"""cProfile the core on its benchmark jobs and print the top functions (tottime); or time the core
against a baseline commit in the same process.

Run: ``.venv/bin/python bench/profile_core.py [--top N] [--job NAME]``. Jobs: parse-<corpus file>,
deltas-<corpus file> (events, 4-char deltas), stream-records, stream-longstring (events, 4-char deltas,
snapshot after every delta, 100 KB), and string-deltas (events only, 4-char deltas inside one long string).

``--baseline REV [--rounds N]``: instead of profiling, extract ``src/fieldstream`` of the git revision REV
into a temporary directory, import it as a second package, and time every job on both cores in
alternating order (best of N rounds each), printing the ratio new/old: a change to the hot loop must
stay within noise (about <= 1.03x). It times CPU time (``time.process_time``), not wall time: on a
shared machine the wall time of the same job varied by +-15% between runs, its CPU time by +-2 to 5%.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import io
import pstats
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import docs_gen  # noqa: E402

import fieldstream  # noqa: E402

CORPUS = HERE / "data"


def jobs(fs: ModuleType = fieldstream) -> dict[str, Callable[[], None]]:
    """The jobs, run on the package ``fs`` (``fieldstream``, or a baseline copy of it)."""
    out: dict[str, Callable[[], None]] = {}
    for name in ("twitter.json", "citm_catalog.json", "canada.json"):
        text = (CORPUS / name).read_text(encoding="utf-8")
        out[f"parse-{name}"] = lambda text=text: (fs.parse(text), None)[1]
        ds4 = docs_gen.chunks(text, 4)

        def deltas(ds: list[str] = ds4) -> None:
            p = fs.Parser()
            feed = p.feed
            for d in ds:
                feed(d)
            p.close()
        out[f"deltas-{name}"] = deltas
    for shape in docs_gen.SHAPES:
        ds = docs_gen.chunks(docs_gen.make_doc(shape, 100_000), 4)

        def stream(ds: list[str] = ds) -> None:
            p = fs.Parser()
            for d in ds:
                p.feed(d)
                p.snapshot()
            p.close()
        out[f"stream-{shape}"] = stream
    text = docs_gen.make_doc("longstring", 400_000)
    start = text.index('"content": "') + len('"content": "')
    sds = docs_gen.chunks(text[start:start + 200_000], 4)

    def string_deltas() -> None:
        p = fs.Parser()
        p.feed(text[:start])
        for d in sds:
            p.feed(d)
    out["string-deltas"] = string_deltas
    return out


def baseline_package(rev: str, into: Path) -> ModuleType:
    """``src/fieldstream`` at git revision ``rev``, imported as ``fieldstream_baseline``."""
    archive = subprocess.run(["git", "archive", rev, "src/fieldstream"], cwd=HERE.parent, check=True,
                             capture_output=True).stdout
    pkg = into / "fieldstream_baseline"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isfile():  # src/fieldstream/<...>: written below the new package name only
                dest = pkg.joinpath(*Path(member.name).parts[2:])
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
    sys.path.insert(0, str(into))
    return importlib.import_module("fieldstream_baseline")


def compare(rev: str, rounds: int, only: list[str] | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        old = baseline_package(rev, Path(tmp))
        pairs = [(name, fn, jobs(old)[name]) for name, fn in jobs().items() if not only or name in only]
        for name, new_fn, old_fn in pairs:
            best = {"new": float("inf"), "old": float("inf")}
            for r in range(rounds):  # alternate the order, so that drift hits both alike
                order = [("old", old_fn), ("new", new_fn)]
                for label, fn in order if r % 2 == 0 else order[::-1]:
                    gc.collect()
                    t = time.process_time()
                    fn()
                    best[label] = min(best[label], time.process_time() - t)
            print(f"{name:28} {rev[:10]} {best['old'] * 1e3:9.1f} ms   now {best['new'] * 1e3:9.1f} ms   "
                  f"ratio {best['new'] / best['old']:.3f}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--job", action="append")
    ap.add_argument("--baseline", help="git revision to time against (no profiling)")
    ap.add_argument("--rounds", type=int, default=7)
    a = ap.parse_args()
    if a.baseline:
        compare(a.baseline, a.rounds, a.job)
        return 0
    for name, fn in jobs().items():
        if a.job and name not in a.job:
            continue
        prof = cProfile.Profile()
        prof.enable()
        fn()
        prof.disable()
        buf = io.StringIO()
        st = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime")
        st.print_stats(a.top)
        print(f"===== {name}")
        lines = buf.getvalue().splitlines()
        start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
        print("\n".join(ln for ln in lines[:start + a.top + 1] if (ln.strip() and "Ordered by" not in ln
                        and "function calls" not in ln) or "function calls" in ln))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
