"""Proposal P3 demo: the per-delta fast path of ``Parser.feed`` inside an open string, with and without
the per-delta error-context upkeep (``self._tail = (self._tail + raw)[-32:]``) and event construction.

Copies of the fast path as free functions over a tiny state object, so they can be compared on the same
deltas. Run: ``.venv/bin/python bench/proposal_fast_delta.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docs_gen

from fieldstream import _tokenizer as T
from fieldstream._events import make_delta

_CONTEXT = 32


class State:
    __slots__ = ("_pos", "_recent", "_sloc", "_sparts", "_tail")

    def __init__(self) -> None:
        self._pos = 0
        self._tail = ""
        self._sparts: list[str] = []
        self._sloc: Any = T.ROOT
        self._recent: list[str] = []


def current(self: State, chunk: str) -> list[Any]:
    """As in the core today."""
    raw = chunk
    n = len(chunk)
    end = self._pos + n
    if n and end <= T._BIG and T._seg_full(chunk) is not None:
        if "\\" in chunk:
            chunk = T._scanstring(chunk + '"', 0)[0]
        self._sparts.append(chunk)
        self._pos = end
        tail = self._tail + raw
        self._tail = tail if len(tail) <= 2 * _CONTEXT else tail[-_CONTEXT:]
        return [make_delta(self._sloc, chunk)]
    raise AssertionError


def lazy_tail(self: State, chunk: str) -> list[Any]:
    """Proposed: no per-delta tail string; remember the raw deltas (bounded list), build context on error."""
    n = len(chunk)
    end = self._pos + n
    if n and end <= T._BIG and T._seg_full(chunk) is not None:
        raw = chunk
        if "\\" in chunk:
            chunk = T._scanstring(chunk + '"', 0)[0]
        self._sparts.append(chunk)
        self._pos = end
        recent = self._recent
        recent.append(raw)
        if len(recent) > 64:  # amortised trim; context = "".join(recent)[-32:] when an error is raised
            del recent[:-32]
        return [make_delta(self._sloc, chunk)]
    raise AssertionError


def lazy_tail_no_backslash_scan(self: State, chunk: str) -> list[Any]:
    """Proposed too: a cheaper plain-run check first (no escapes in most deltas): ``_RUN_FULL``."""
    n = len(chunk)
    end = self._pos + n
    if n and end <= T._BIG:
        raw = chunk
        if T._RUN_FULL(chunk) is None:
            if T._seg_full(chunk) is None:
                raise AssertionError
            chunk = T._scanstring(chunk + '"', 0)[0]
        self._sparts.append(chunk)
        self._pos = end
        recent = self._recent
        recent.append(raw)
        if len(recent) > 64:
            del recent[:-32]
        return [make_delta(self._sloc, chunk)]
    raise AssertionError


def main() -> int:
    text = docs_gen.make_doc("longstring", 1_000_000)
    start = text.index('"content": "') + len('"content": "')
    body = text[start:start + 400_000]
    for dsz in (1, 4, 64):
        ds = [d for d in docs_gen.chunks(body, dsz) if T._seg_full(d) is not None][:100_000]
        res = {}
        for fn in (current, lazy_tail, lazy_tail_no_backslash_scan):
            best = float("inf")
            for _ in range(5):
                st = State()
                t = time.perf_counter()
                for d in ds:
                    fn(st, d)
                best = min(best, time.perf_counter() - t)
            res[fn.__name__] = best / len(ds) * 1e6
        base = res["current"]
        cells = "  ".join(f"{k} {v:.3f} µs ({base / v:.2f}x)" for k, v in res.items())
        print(f"{dsz:>3}-char deltas: {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
