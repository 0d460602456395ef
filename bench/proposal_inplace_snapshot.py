"""Proposal P2 demo: make ``snapshot()`` of an open string O(delta) amortised instead of O(open string).

Today ``snapshot()`` does ``text = "".join(self._sparts)`` and stores ``text`` both in the parent container
and as ``self._sparts = [text]``: the next snapshot must copy the whole open string again (the parent and
the parts list hold references), so a snapshot per delta is quadratic in the string length.

CPython appends to a ``str`` IN PLACE (``PyUnicode_Append`` -> realloc, no copy) when the only reference
is the local variable being ``+=``'d. So: before appending, drop the parser's own references (clear the
parts list, put a placeholder in the parent), ``text += delta`` for the new parts, then store ``text``
back. If the consumer still holds the previous string, its refcount is > 1 and CPython copies (correct:
strings stay immutable to everybody who can see them); it only mutates an object nobody else can see.

Run: ``.venv/bin/python bench/proposal_inplace_snapshot.py``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docs_gen


def current(top: dict[str, Any], key: str, parts: list[str]) -> str:
    """As ``Parser.snapshot`` does today for an open string in an object."""
    text = parts[0] if len(parts) == 1 else "".join(parts)
    parts[:] = [text]
    top[key] = text
    return text


def inplace(top: dict[str, Any], key: str, parts: list[str]) -> str:
    """Proposed: release our references, then ``+=`` so CPython can resize the string in place."""
    if len(parts) == 1:
        text = parts[0]
    else:
        rest = parts[1:]
        text = parts[0]
        parts.clear()
        top[key] = None  # the parent's reference
        for d in rest:
            text += d  # in place when ``text`` has no other reference
        parts.append(text)
    top[key] = text
    return text


def run(fn: Any, deltas: list[str]) -> tuple[float, str]:
    top: dict[str, Any] = {"title": "t"}
    parts: list[str] = []
    t = time.perf_counter()
    for d in deltas:
        parts.append(d)  # what feed() does with a string delta
        fn(top, "content", parts)
    return time.perf_counter() - t, top["content"]


def main() -> int:
    for size in (10_000, 100_000, 1_000_000):
        content = json.loads(docs_gen.make_doc("longstring", size))["content"]
        ds = docs_gen.chunks(content, 4)
        t_cur, a = run(current, ds)
        t_new, b = run(inplace, ds)
        assert a == b == content
        print(f"{docs_gen.size_label(size):>6} ({len(ds):,} deltas, 4-char): current {t_cur:8.3f} s   "
              f"in place {t_new:7.3f} s   gain {t_cur / t_new:6.1f}x")
    # a consumer that keeps every old snapshot string still sees unchanged strings
    top: dict[str, Any] = {}
    parts: list[str] = []
    kept = []
    for d in ("ab", "cd", "ef"):
        parts.append(d)
        kept.append(inplace(top, "k", parts))
    assert kept == ["ab", "abcd", "abcdef"], kept
    print("old snapshot strings held by the consumer are unchanged:", kept)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
