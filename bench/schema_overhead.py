"""Per-delta overhead of the schema layer (SchemaStream) over the bare core parser.

Run: ``.venv/bin/python bench/schema_overhead.py [--delta N] [--repeat R]``. For each document it
feeds the same deltas to a bare ``fieldstream.Parser`` and to a ``SchemaStream`` (typed models
below), in the same process, and prints microseconds per delta and the ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import time
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
    args = ap.parse_args()
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
            result = s.close()
            assert result == model.model_validate_json(text)

        schema(deltas)  # warm the schema tree cache and validators
        tb = best(bare, args.repeat)
        ts = best(schema, args.repeat)
        n = len(deltas)
        print(f"{name:20} {len(text):>9} {size:>5} {n:>8} {tb / n * 1e6:>11.2f} {ts / n * 1e6:>11.2f} "
              f"{(ts - tb) / n * 1e6:>13.2f} {ts / tb:>6.2f}")


if __name__ == "__main__":
    main()
