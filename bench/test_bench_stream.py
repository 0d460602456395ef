"""The LLM-stream job: partial value after every delta (see bench/report.py for the full table).

Run: ``.venv/bin/python -m pytest bench/test_bench_stream.py --benchmark-only``. Re-parsing peers are
only run up to 10 KB here (they are quadratic; report.py measures them with a time budget).
"""

from __future__ import annotations

from typing import Any

import peers
import pytest
from _bench_common import deltas, expected

SIZES = (1_000, 10_000, 100_000)


def _run(peer: peers.StreamPeer, shape: str, ds: list[str]) -> Any:
    c = peer.make(shape)
    feed = c.feed
    for d in ds:
        feed(d)
    return c.finish()


@pytest.mark.parametrize("delta", (1, 4, 64))
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("shape", ("records", "longstring"))
@pytest.mark.parametrize("peer", peers.STREAM_PEERS, ids=lambda p: p.name)
def test_llm_stream(benchmark: Any, peer: peers.StreamPeer, shape: str, size: int, delta: int) -> None:
    if not peers.stream_peer_available(peer):
        pytest.skip(f"{peer.name} not importable")
    if (peer.reparse and size * (4 / delta) > 10_000) or (peer.name == "json-repair" and size > 1_000):
        pytest.skip("quadratic re-parser: measured with a budget by bench/report.py")
    ds = deltas(shape, size, delta)
    benchmark.extra_info["deltas"] = len(ds)
    value = benchmark.pedantic(_run, args=(peer, shape, ds), rounds=3, iterations=1, warmup_rounds=0)
    assert peers.plain(value) == expected(shape, size)
