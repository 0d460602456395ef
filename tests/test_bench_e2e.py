"""Smoke test of the end-to-end comparison (``bench/e2e.py``): small document, no timing assertions.

fieldstream's correctness columns are asserted (same final object as pydantic, no number flicker, the
open string shown after every delta inside it); every installed peer must run through its local replay
and end with the same object. A peer whose package is not installed is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docs_gen
import e2e
import pytest
from e2e_contestants import CONTESTANTS, STOPPED, Article, Contestant, has

SIZE = 1_500
BY_NAME = {c.name: c for c in CONTESTANTS}


def _doc() -> str:
    return e2e.make_doc(SIZE)


def test_document_is_deterministic_valid_and_has_the_job_shape() -> None:
    doc = _doc()
    assert doc == e2e.make_doc(SIZE)
    assert doc != e2e.make_doc(SIZE, seed=16)
    assert 0.8 * SIZE <= len(doc) <= 1.2 * SIZE
    art = Article.model_validate_json(doc)
    assert art.items and len(art.body) > len(doc) // 3
    assert doc.index('"items"') < doc.index('"body"')  # records first, the long markdown last
    big = e2e.make_doc(100_000)
    assert any(r.score < 0 and r.score != int(r.score) for r in Article.model_validate_json(big).items)


@pytest.mark.parametrize("name", ["fieldstream SchemaStream", "fieldstream Agent"])
def test_fieldstream_shows_everything_early_without_flicker(name: str) -> None:
    r = e2e.check(BY_NAME[name], _doc())
    assert r.error == ""
    assert r.same_final
    assert r.flicker == ""
    assert r.open_strings == 1.0
    assert r.first_view is not None and r.first_view <= 4  # `{"title": "X` is shown


@pytest.mark.parametrize("c", [c for c in CONTESTANTS if not c.name.startswith("fieldstream")],
                         ids=lambda c: c.name)
def test_each_installed_peer_replays_to_the_same_final_object(c: Contestant) -> None:
    missing = [m for m in c.needs if not has(m)]
    if missing:
        pytest.skip(f"{c.name}: {', '.join(missing)} not installed (pip install -e '.[bench]')")
    r = e2e.check(c, _doc())
    assert r.error == ""
    assert r.same_final
    assert r.views > 0


def _scripted(views: list[tuple[int, Any]], final: Any) -> Contestant:
    def run(deltas: list[str], on_view: Any) -> Any:
        for k, v in views:
            on_view(k, v)
        return final

    return Contestant("fake", "", run, (), "")


def test_checker_sees_flicker_missing_open_strings_and_a_wrong_final() -> None:
    doc = _doc()
    art = Article.model_validate_json(doc)
    item = art.items[0].model_dump()
    n = len(docs_gen.chunks(doc, e2e.DELTA))
    body_k = (doc.index('"body"') + 40) // e2e.DELTA + 1
    early = int(str(item["score"])[:2]) if item["score"] >= 10 else item["score"] + 1
    views = [(5, {"title": art.title, "summary": "", "items": [{**item, "score": early}]}),
             (body_k, {"body": ""}), (n, art.model_dump())]
    r = e2e.check(_scripted(views, art.model_copy(update={"title": "other"})), doc)
    assert r.first_view == 5
    assert r.flicker.startswith("items[0].score")
    assert r.open_strings == 0.0
    assert not r.same_final

    cut = len(art.body) - 1
    body_views = [(k, {"body": art.body[: min(cut, 4 * (k - body_k) + 1)]}) for k in range(body_k, n)]
    r = e2e.check(_scripted(body_views, art.model_dump()), doc)
    assert r.flicker == "" and r.same_final and r.first_view == body_k
    assert 0.95 <= r.open_strings <= 1.0


def test_a_stopped_cell_reports_a_lower_bound_not_a_time() -> None:
    doc = _doc()
    cell = e2e.time_cell(BY_NAME["fieldstream SchemaStream"], doc, Article.model_validate_json(doc), -1.0)
    assert cell.seconds is None and cell.error == ""
    assert cell.done >= 1 and cell.lower_bound > 0
    assert cell.fmt().startswith("≥ ")
    assert BY_NAME["fieldstream SchemaStream"].run(docs_gen.chunks(doc, 4), lambda k, v: True) is STOPPED


def test_section_is_replaced_in_place_and_the_rest_of_the_file_kept(tmp_path: Path) -> None:
    md = tmp_path / "benchmarks.md"
    md.write_text("# Benchmarks\n\n## 1. Tables\n\nkeep me\n", encoding="utf-8")
    e2e.write_section(md, "## 6. E2E\n\nfirst")
    e2e.write_section(md, "## 6. E2E\n\nsecond")
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\n## 1. Tables\n\nkeep me\n")
    assert "second" in text and "first" not in text
    assert text.count(e2e.BEGIN) == 1 and text.count(e2e.END) == 1


def test_docs_rerendered_from_the_json_equal_the_docs_of_the_run() -> None:
    fs, jt, pa = (BY_NAME[n] for n in ("fieldstream SchemaStream", "jiter trailing-strings", "pydantic-ai"))
    res = e2e.Results(sizes=[10_000, 100_000], budget=1.0, correctness_size=10_000, contestants=[fs, jt, pa],
                      doc_len={10_000: 9_997, 100_000: 99_958}, versions={"pydantic": "2"}, when="now")
    res.cells = {
        fs.name: {10_000: e2e.Cell(2_500, 0.02, cpu_us_per_delta=8.0),
                  100_000: e2e.Cell(24_990, 0.2, cpu_us_per_delta=8.0)},
        jt.name: {10_000: e2e.Cell(2_500, 0.05, cpu_us_per_delta=20.0),
                  100_000: e2e.Cell(24_990, None, cpu_us_per_delta=400.0, lower_bound=10.0, done=2_000)},
        pa.name: {10_000: e2e.Cell(2_500, None, cpu_us_per_delta=300.0, lower_bound=1.5, done=1_700),
                  100_000: e2e.Cell(24_990, None, cpu_us_per_delta=300.0, lower_bound=15.0, scaled=True)},
    }
    res.correctness = {fs.name: e2e.Correctness(True, 3, 1.0, "", 10),
                       jt.name: e2e.Correctness(True, 3, 1.0, "items[0].score: 78 (final 783.67)", 10),
                       pa.name: e2e.Correctness(True, 1017, 1.0, "", 10)}
    md = e2e.markdown(res)
    assert "| jiter trailing-strings | 50.0 ms (2.5×) | ≥ 10.0 s (≥ 50.0×) | ≥ 2.30 | 20 |" in md
    assert "| pydantic-ai | ≥ 1.50 s (≥ 75.0×) | ≥ 15.0 s* (≥ 75.0×) | – | ≥ 300 |" in md
    assert "**yes** (items[0].score: 78)" in md
    data = json.loads(json.dumps(e2e.to_json(res)))
    assert e2e.markdown(e2e.from_json(data)) == md


def test_merge_replaces_only_the_remeasured_rows_and_says_so() -> None:
    names = ("fieldstream SchemaStream", "fieldstream Agent", "jiter trailing-strings")
    fs, ag, jt = (BY_NAME[n] for n in names)

    def results(rows: dict[Contestant, float], when: str) -> e2e.Results:
        res = e2e.Results(sizes=[10_000], budget=1.0, correctness_size=10_000, contestants=list(rows),
                          doc_len={10_000: 9_997}, when=when)
        res.cells = {c.name: {10_000: e2e.Cell(2_500, t, cpu_us_per_delta=t * 400)} for c, t in rows.items()}
        res.correctness = {c.name: e2e.Correctness(True, 3, 1.0, "", 10) for c in rows}
        return res

    old = results({jt: 0.05, fs: 0.02}, "then")
    new = results({ag: 0.03, fs: 0.01}, "now")
    res = e2e.merge(old, new)
    assert [c.name for c in res.contestants] == [fs.name, ag.name, jt.name]  # the contestants' order
    assert res.cells[fs.name][10_000].seconds == 0.01 and res.cells[jt.name][10_000].seconds == 0.05
    assert res.merged == {ag.name: "now", fs.name: "now"} and res.when == "then"
    md = e2e.markdown(res)
    assert "Re-measured later" in md and "| jiter trailing-strings | 50.0 ms (5.0×) |" in md
    assert e2e.from_json(json.loads(json.dumps(e2e.to_json(res)))).merged == res.merged
    with pytest.raises(SystemExit):
        e2e.merge(results({jt: 0.05}, "then"), e2e.Results(sizes=[2_000], budget=1.0, correctness_size=2_000))
