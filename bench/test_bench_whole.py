"""Whole-document throughput on the nativejson-benchmark corpus (MB/s = extra_info["MB"] / mean).

Run: ``.venv/bin/python -m pytest bench/test_bench_whole.py --benchmark-only``.
"""

from __future__ import annotations

import json
from typing import Any

import peers
import pytest
from _bench_common import corpus, docs_gen

FILES = ("twitter.json", "citm_catalog.json", "canada.json")


@pytest.mark.parametrize("fname", FILES)
@pytest.mark.parametrize("peer", peers.WHOLE_PEERS, ids=lambda p: p.name)
def test_whole_document(benchmark: Any, peer: peers.WholePeer, fname: str) -> None:
    if peer not in peers.available_whole_peers():
        pytest.skip(f"{peer.name} not importable")
    try:
        text = corpus(fname)
    except FileNotFoundError:
        pytest.skip("corpus missing")
    arg = {"text": text, "bytes": text.encode(), "deltas4": docs_gen.chunks(text, 4)}[peer.input]
    fn = peer.make()
    benchmark.extra_info["MB"] = len(text.encode()) / 1e6
    value = benchmark.pedantic(fn, args=(arg,), rounds=3, iterations=1, warmup_rounds=0)
    assert value is None or value == json.loads(text)
