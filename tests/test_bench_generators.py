"""The benchmark code cannot rot: deterministic valid generators, every adapter agrees with json.loads.

Fast (small documents only); no timing assertions. Peers whose package is missing are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docs_gen  # bench/ is on the pytest pythonpath
import peers
import pytest


@pytest.mark.parametrize("shape", docs_gen.SHAPES)
@pytest.mark.parametrize("size", [1_000, 10_000, 50_000])
def test_generator_is_deterministic_valid_json_of_about_the_requested_size(shape: str, size: int) -> None:
    a = docs_gen.make_doc(shape, size)
    assert a == docs_gen.make_doc(shape, size)
    assert a != docs_gen.make_doc(shape, size, seed=7)
    json.loads(a)
    assert 0.9 * size <= len(a) <= 1.4 * size


def test_records_shape_has_records_with_every_json_kind_unicode_and_escapes() -> None:
    text = docs_gen.make_doc("records", 20_000)
    doc = json.loads(text)
    assert set(doc) == {"title", "items", "summary"}
    items = doc["items"]
    assert len(items) >= 5 and doc["summary"]["count"] == len(items)
    kinds = {type(v) for it in items for v in it.values()}
    assert {int, float, str, bool, type(None), list, dict} <= kinds
    lengths = [len(it["description"]) for it in items]
    assert min(lengths) >= 20 and max(lengths) <= 2000 + 200
    assert '\\"' in text and "\\n" in text and "\\u" in text
    assert any(ord(ch) > 0xFFFF for ch in text)  # raw astral characters (emoji)


def test_longstring_shape_is_one_long_markdown_string() -> None:
    doc = json.loads(docs_gen.make_doc("longstring", 30_000))
    assert set(doc) == {"title", "content"}
    assert len(doc["content"]) > 25_000
    assert "\n## " in doc["content"] and "```" in doc["content"]


def test_chunks_reassemble_to_the_text() -> None:
    text = docs_gen.make_doc("records", 3_000)
    for n in (1, 4, 64):
        parts = docs_gen.chunks(text, n)
        assert "".join(parts) == text
        assert all(len(p) == n for p in parts[:-1])


def test_size_labels() -> None:
    assert docs_gen.size_label(1_000) == "1 KB"
    assert docs_gen.size_label(1_000_000) == "1 MB"


def _skip_unless(peer_available: bool, name: str) -> None:
    if not peer_available:
        pytest.skip(f"{name}: package not importable")


@pytest.mark.parametrize("peer", peers.STREAM_PEERS, ids=lambda p: p.name)
@pytest.mark.parametrize("shape", docs_gen.SHAPES)
def test_stream_peer_final_value_equals_json_loads(peer: peers.StreamPeer, shape: str) -> None:
    _skip_unless(peers.stream_peer_available(peer), peer.name)
    text = docs_gen.make_doc(shape, 1_500)
    c = peer.make(shape)
    for d in docs_gen.chunks(text, 7):
        c.feed(d)
    assert peers.plain(c.finish()) == json.loads(text)


@pytest.mark.parametrize("peer", [p for p in peers.STREAM_PEERS if p.open_strings and
                                  not p.name.endswith("events only")], ids=lambda p: p.name)
def test_open_string_peers_show_the_string_being_written(peer: peers.StreamPeer) -> None:
    _skip_unless(peers.stream_peer_available(peer), peer.name)
    text = docs_gen.make_doc("longstring", 2_000)
    c = peer.make("longstring")
    cut = text.index('"content": "') + len('"content": "') + 100
    value = None
    for d in docs_gen.chunks(text[:cut], 5):
        value = peers.plain(c.feed(d))
    assert value is not None
    content = value.get("content") if isinstance(value, dict) else None
    assert isinstance(content, str) and json.loads(text)["content"].startswith(content) and len(content) >= 90


@pytest.mark.parametrize("peer", peers.WHOLE_PEERS, ids=lambda p: p.name)
def test_whole_document_peer_agrees_with_json_loads(peer: peers.WholePeer) -> None:
    _skip_unless(peer in peers.available_whole_peers(), peer.name)
    text = docs_gen.make_doc("records", 5_000)
    fn = peer.make()
    arg = {"text": text, "bytes": text.encode(), "deltas4": docs_gen.chunks(text, 4)}[peer.input]
    value = fn(arg)
    if value is None:  # event-iteration contestants (ijson basic_parse) build nothing
        assert peer.requires.startswith("ijson")
    else:
        assert value == json.loads(text)


def test_pure_python_decoder_restores_the_c_scanstring() -> None:
    import json.decoder as jd
    before = jd.scanstring  # type: ignore[attr-defined]
    loads = dict((p.name, p) for p in peers.WHOLE_PEERS)["json pure-Python"].make()
    assert loads('{"a": ["b"]}') == {"a": ["b"]}
    assert jd.scanstring is before  # type: ignore[attr-defined]


def test_report_budget_stops_a_slow_cell_early_with_a_lower_bound() -> None:
    import time

    import report

    class Slow:
        def __init__(self, shape: str) -> None:
            pass

        def feed(self, d: str) -> None:
            time.sleep(0.002)

        def finish(self) -> Any:
            return None

    peer = peers.StreamPeer("slow", Slow, True, True)
    cell = report.run_stream_cell(peer, "records", ["x"] * 100_000, None, budget=0.3)
    assert cell.seconds is None and cell.lower_bound > 0.3
    assert cell.fmt().startswith("> budget")


def test_report_renders_markdown_and_targets_from_a_tiny_run(tmp_path: Path) -> None:
    import report
    rc = report.main(["--sizes", "1k", "--deltas", "16", "--budget", "2", "--skip", "whole,overhead,memory",
                      "--out", str(tmp_path)])
    assert rc == 0
    md = (tmp_path / "benchmarks.md").read_text(encoding="utf-8")
    assert "### records, 16-char deltas" in md and "fieldstream snapshot" in md
    assert "(WRONG)" not in md
    assert (tmp_path / "benchmarks.png").stat().st_size > 1000


def test_report_keeps_the_sections_it_does_not_write() -> None:
    from report import KEEP_FROM, keep_others

    new = "# Benchmarks\n\n## 1. New figures\n\nfresh\n"
    old = ("# Benchmarks\n\n## 1. Old figures\n\nstale\n\n<!-- e2e:begin (generated by bench/e2e.py) -->\n\n"
           "## 6. End to end\n\n| a | b |\n\n<!-- e2e:end -->\n\n\n## 7. Compiled core\n\ntext\n")
    out = keep_others(new, old)
    assert out.startswith(new) and "stale" not in out
    assert out.endswith(old[old.index(KEEP_FROM):])  # verbatim, sections 6 and 7 and what follows
    assert keep_others(new, None) == new == keep_others(new, "# Benchmarks\n\nno marker\n")
    # the committed file: its own first part as the new text gives the file back
    docs = Path(__file__).resolve().parent.parent / "docs"
    committed = (docs / "benchmarks.md").read_text(encoding="utf-8")
    assert KEEP_FROM in committed
    head = committed[:committed.index(KEEP_FROM)]
    assert keep_others(head, committed) == head.rstrip("\n") + "\n\n" + committed[len(head):]
    assert "## 7." in keep_others("# Benchmarks\n", committed)
