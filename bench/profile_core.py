"""cProfile the core on the jobs of issue 6 and print the top functions (tottime).

Run: ``.venv/bin/python bench/profile_core.py [--top N] [--job NAME]``. Jobs: parse-<corpus file>,
stream-records, stream-longstring (events, 4-char deltas, snapshot after every delta, 100 KB), and
string-deltas (events only, 4-char deltas inside one long string).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import docs_gen  # noqa: E402

import fieldstream  # noqa: E402

CORPUS = HERE / "data"


def jobs() -> dict[str, Callable[[], None]]:
    out: dict[str, Callable[[], None]] = {}
    for name in ("twitter.json", "citm_catalog.json", "canada.json"):
        text = (CORPUS / name).read_text(encoding="utf-8")
        out[f"parse-{name}"] = lambda text=text: (fieldstream.parse(text), None)[1]
    for shape in docs_gen.SHAPES:
        ds = docs_gen.chunks(docs_gen.make_doc(shape, 100_000), 4)

        def stream(ds: list[str] = ds) -> None:
            p = fieldstream.Parser()
            for d in ds:
                p.feed(d)
                p.snapshot()
            p.close()
        out[f"stream-{shape}"] = stream
    text = docs_gen.make_doc("longstring", 400_000)
    start = text.index('"content": "') + len('"content": "')
    sds = docs_gen.chunks(text[start:start + 200_000], 4)

    def string_deltas() -> None:
        p = fieldstream.Parser()
        p.feed(text[:start])
        for d in sds:
            p.feed(d)
    out["string-deltas"] = string_deltas
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--job", action="append")
    a = ap.parse_args()
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
