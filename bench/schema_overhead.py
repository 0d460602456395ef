"""Per-delta overhead of the schema layer (SchemaStream) over the bare core parser.

Run: ``.venv/bin/python bench/schema_overhead.py [--delta N] [--repeat R]``. For each document it
feeds the same deltas to a bare ``fieldstream.Parser`` and to a ``SchemaStream`` (typed models
below), in the same process, and prints microseconds per delta and the ratio.

``--typed``: the typed job users have (a model with strings, a list of records and a long markdown
field, 4-character deltas, the events and ``.partial`` after every delta; also ``partial_dict``) at
10 KB, 100 KB and 1 MB: CPU microseconds per delta and the growth exponent (1.0 = linear).
``--memory``: peak traced memory (tracemalloc) of a SchemaStream on a 2 MB document against the bare
parser on the same deltas.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import fieldstream
from fieldstream.schema import SchemaStream

DATA = Path(__file__).resolve().parent / "data"


class User(BaseModel):
    id: int
    screen_name: str
    name: str
    followers_count: int


class Status(BaseModel):
    id: int
    text: str
    user: User
    retweet_count: int
    favorited: bool


class Twitter(BaseModel):
    statuses: list[Status]
    search_metadata: dict[str, Any]


class Price(BaseModel):
    amount: int
    audienceSubCategoryId: int
    seatCategoryId: int


class Performance(BaseModel):
    id: int
    eventId: int
    prices: list[Price]
    start: int
    venueCode: str


class CitmEvent(BaseModel):
    id: int
    name: str
    subTopicIds: list[int]
    topicIds: list[int]
    description: str | None = None


class Citm(BaseModel):
    areaNames: dict[str, str]
    events: dict[str, CitmEvent]
    performances: list[Performance]


class Geometry(BaseModel):
    type: str
    coordinates: list[list[list[float]]]


class Feature(BaseModel):
    type: str
    properties: dict[str, str]
    geometry: Geometry


class Canada(BaseModel):
    type: str
    features: list[Feature]


class Section(BaseModel):
    heading: str
    body: str
    bullets: list[str]


class Report(BaseModel):
    title: str
    summary: str
    sections: list[Section]
    confidence: float
    tags: list[str]


def llm_document(size: int = 100_000) -> str:
    rng = random.Random(4)
    words = ["the", "model", "streams", "structured", "output", "as", "json", "while", "user", "watches",
             "each", "field", "arrive", "with", "quotes", '"and"', "escapes\n", "unicode", "caf\u00e9",
             "\u2014", "done"]

    def text(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    sections = []
    report = {"title": text(8), "summary": text(60), "sections": sections, "confidence": 0.87,
              "tags": [text(1) for _ in range(5)]}
    while len(json.dumps(report)) < size:
        sections.append({"heading": text(6), "body": text(150), "bullets": [text(12) for _ in range(4)]})
    return json.dumps(report, ensure_ascii=False)


class Record(BaseModel):
    name: str
    qty: int
    note: str


class Article(BaseModel):
    title: str
    tags: list[str]
    records: list[Record]
    body: str  # long markdown


def article_document(size: int) -> str:
    """An ``Article`` of about ``size`` characters: a third records, the rest one markdown body."""
    rng = random.Random(7)
    words = ["stream", "the", "**typed**", "field", "`code`", "and", "a", "list", "of", "records", "\n- item"]
    records: list[dict[str, Any]] = []
    used = 0
    while used < size // 3:
        rec = {"name": " ".join(rng.choice(words) for _ in range(3)), "qty": rng.randrange(1000),
               "note": " ".join(rng.choice(words) for _ in range(8))}
        records.append(rec)
        used += len(json.dumps(rec)) + 2
    body: list[str] = []
    used = 0
    while used < size - size // 3:
        w = rng.choice(words)
        body.append(w)
        used += len(w) + 1
    doc = {"title": "A report", "tags": ["a", "b", "c"], "records": records,
           "body": "# Title\n\n" + " ".join(body)}
    return json.dumps(doc, ensure_ascii=False)


def _value(s: Any, closed: Any) -> Any:
    """The validated value after ``close()`` (``close()`` returned it before ``.value`` existed)."""
    return s.value if hasattr(type(s), "value") else closed


def typed_job(text: str, delta: int, view: str) -> float:
    """CPU seconds of the typed job: events + ``view`` (partial / partial_dict) after every delta."""
    deltas = [text[i:i + delta] for i in range(0, len(text), delta)]
    s = SchemaStream(Article)
    t = time.process_time()
    for d in deltas:
        s.feed(d)
        getattr(s, view)
    value = _value(s, s.close())
    t = time.process_time() - t
    assert value == Article.model_validate_json(text)
    return t


def typed(repeat: int) -> None:
    sizes = [10_000, 100_000, 1_000_000]
    for view in ("partial", "partial_dict"):
        times = []
        for size in sizes:
            text = article_document(size)
            n = math.ceil(len(text) / 4)
            t = min(typed_job(text, 4, view) for _ in range(repeat if size < 1_000_000 else 1))
            times.append((len(text), t))
            print(f"typed job, {view:12} {len(text):>9} chars {n:>7} deltas {t:8.3f} s "
                  f"{t / n * 1e6:6.2f} us/delta")
        (s0, t0), (s1, t1) = times[0], times[-1]
        print(f"  exponent {view} {s0} -> {s1} chars: {math.log(t1 / t0) / math.log(s1 / s0):.3f}")


def memory(chunk: int) -> None:
    text = llm_document(2_000_000)
    deltas = [text[i:i + chunk] for i in range(0, len(text), chunk)]

    def peak(fn: Callable[[], Any]) -> int:
        tracemalloc.start()
        tracemalloc.reset_peak()
        keep = fn()
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del keep
        return size

    def bare() -> Any:
        p = fieldstream.Parser()
        for d in deltas:
            p.feed(d)
        p.close()
        return p.value

    def schema() -> Any:
        s = SchemaStream(Report)
        for d in deltas:
            s.feed(d)
        return _value(s, s.close())

    schema()  # warm the caches (schema tree, validators) outside the measurement
    pb, ps = peak(bare), peak(schema)
    print(f"peak memory, {len(text)} chars in {chunk}-char deltas: parser {pb / 1e6:.1f} MB, "
          f"SchemaStream {ps / 1e6:.1f} MB, ratio {ps / pb:.2f}")


def best(fn: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--delta", type=int, default=4)
    ap.add_argument("--corpus-delta", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--typed", action="store_true", help="the typed job at 10 KB .. 1 MB (see above)")
    ap.add_argument("--memory", action="store_true", help="peak memory on a 2 MB document")
    args = ap.parse_args()
    if args.typed or args.memory:
        if args.typed:
            typed(args.repeat)
        if args.memory:
            memory(args.corpus_delta)
        return
    bench = DATA
    docs: list[tuple[str, str, Any, int]] = [
        ("twitter.json", (bench / "twitter.json").read_text(encoding="utf-8"), Twitter, args.corpus_delta),
        ("citm_catalog.json", (bench / "citm_catalog.json").read_text(encoding="utf-8"), Citm,
         args.corpus_delta),
        ("canada.json", (bench / "canada.json").read_text(encoding="utf-8"), Canada, args.corpus_delta),
        ("llm-100KB", llm_document(), Report, args.delta),
    ]
    print(f"{'document':20} {'size':>9} {'delta':>5} {'deltas':>8} {'parser us/d':>11} {'schema us/d':>11} "
          f"{'overhead us/d':>13} {'ratio':>6}")
    for name, text, model, size in docs:
        deltas = [text[i:i + size] for i in range(0, len(text), size)]

        def bare(deltas: list[str] = deltas) -> None:
            p = fieldstream.Parser()
            for d in deltas:
                p.feed(d)
            p.close()

        def schema(deltas: list[str] = deltas, model: Any = model, text: str = text) -> None:
            s = SchemaStream(model)
            for d in deltas:
                s.feed(d)
            result = _value(s, s.close())
            assert result == model.model_validate_json(text)

        schema(deltas)  # warm the schema tree cache and validators
        tb = best(bare, args.repeat)
        ts = best(schema, args.repeat)
        n = len(deltas)
        print(f"{name:20} {len(text):>9} {size:>5} {n:>8} {tb / n * 1e6:>11.2f} {ts / n * 1e6:>11.2f} "
              f"{(ts - tb) / n * 1e6:>13.2f} {ts / tb:>6.2f}")


if __name__ == "__main__":
    main()
