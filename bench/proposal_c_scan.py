"""Proposal P1 demo: let complete containers be decoded by the C scanner when no events are wanted.

``hybrid_parse(text)`` = ``fieldstream.parse(text)`` semantics for a whole ``str`` document, but it first
tries ``json``'s C ``scan_once`` (with NaN/Infinity rejected) and only runs the state machine when that
fails (so every error, position and limit message still comes from the core). Limits are checked on the
fast path: depth (C recursion limit < default max_depth, custom max_depth -> skip), string length
(document shorter than max_string_length -> no string can exceed it), number tokens (length-checking
parse_int/parse_float hooks).

Run: ``.venv/bin/python bench/proposal_c_scan.py`` prints MB/s of both and checks equality on the corpus.
"""

from __future__ import annotations

import json
import json.decoder
import re
import sys
import time
from pathlib import Path
from typing import Any

import fieldstream

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "bench"


def _reject(name: str) -> Any:
    raise ValueError(name)


def _float(tok: str) -> float:
    if len(tok) > 4096:  # max_number_length: let the core report NUMBER_LIMIT
        raise ValueError(tok[:20])
    return float(tok)


def _int(tok: str) -> int:
    if len(tok) > 4096:
        raise ValueError(tok[:20])
    return int(tok)


_DEC = json.JSONDecoder(parse_constant=_reject, parse_float=_float, parse_int=_int)
_scan = _DEC.scan_once
_WS_END = re.compile(r"[ \t\n\r]*")
_LEADING_WS = re.compile(r"[ \t\n\r]*")


def hybrid_parse(text: str, max_string_length: int = 64 * 2**20) -> Any:
    if len(text) <= max_string_length:
        i = _LEADING_WS.match(text).end()  # type: ignore[union-attr]
        try:
            value, end = _scan(text, i)
        except (StopIteration, ValueError, RecursionError):
            pass
        else:
            if _WS_END.match(text, end).end() == len(text):  # type: ignore[union-attr]
                return value
    return fieldstream.parse(text)  # errors (and their positions) come from the core


def main() -> int:
    for name in ("twitter.json", "citm_catalog.json", "canada.json"):
        text = (CORPUS / name).read_text(encoding="utf-8")
        mb = len(text.encode()) / 1e6
        assert hybrid_parse(text) == fieldstream.parse(text) == json.loads(text)
        out = []
        for fn in (fieldstream.parse, hybrid_parse):
            best = min(_time(fn, text) for _ in range(3))
            out.append(mb / best)
        print(f"{name:18} core parse {out[0]:7.1f} MB/s   hybrid {out[1]:7.1f} MB/s"
              f"   gain {out[1] / out[0]:5.1f}x")
    # errors still come from the core
    for bad in ('{"a": NaN}', '[1, 2', '{"a": 1} x', "[" * 2000 + "]" * 2000):
        try:
            hybrid_parse(bad)
        except fieldstream.StreamError as exc:
            print(f"{bad[:20]!r:24} -> {exc.kind.value} at {exc.pos}")
    return 0


def _time(fn: Any, text: str) -> float:
    t = time.perf_counter()
    fn(text)
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())
