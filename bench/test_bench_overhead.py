"""Per-delta overhead inside one long string value (events only, and with a snapshot per delta).

Run: ``.venv/bin/python -m pytest bench/test_bench_overhead.py --benchmark-only``; µs per delta =
mean / extra_info["deltas"].
"""

from __future__ import annotations

from typing import Any

import pytest
from _bench_common import doc, docs_gen

import fieldstream

N = 20_000


@pytest.mark.parametrize("snapshot", (False, True), ids=("events-only", "with-snapshot"))
@pytest.mark.parametrize("delta", (1, 4, 64))
def test_delta_inside_long_string(benchmark: Any, delta: int, snapshot: bool) -> None:
    text = doc("longstring", 1_000_000)
    start = text.index('"content": "') + len('"content": "')
    ds = docs_gen.chunks(text[start:start + N * delta], delta)[:N]
    head = text[:start]
    benchmark.extra_info["deltas"] = len(ds)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        p = fieldstream.Parser()
        p.feed(head)
        return (p,), {}

    def run(p: fieldstream.Parser) -> None:
        feed = p.feed
        if snapshot:
            snap = p.snapshot
            for d in ds:
                feed(d)
                snap()
        else:
            for d in ds:
                feed(d)

    benchmark.pedantic(run, setup=setup, rounds=5, warmup_rounds=1)
