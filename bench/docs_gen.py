"""Deterministic LLM-like JSON documents for the benchmarks (no randomness across runs).

Two shapes, each generated to (at least) a requested size in characters:

* ``records``: ``{"title": ..., "items": [record, ...], "summary": {...}}`` where a record has string
  fields of 20–2000 characters with unicode (accents, CJK, emoji) and escapes (quotes, backslashes,
  newlines, tabs, ``\\uXXXX`` incl. surrogate pairs), ints, floats, bools, nulls, a nested object and an
  array of strings. Every third record is serialised with ``ensure_ascii=True`` so ``\\u`` escapes occur.
* ``longstring``: ``{"title": ..., "content": <one long markdown string>}``, the "write me a long
  article" case: the whole document is one open string for almost the whole stream.

``make_doc(shape, size)`` returns the JSON text; ``chunks(text, n)`` splits it into ``n``-char deltas.
"""

from __future__ import annotations

import json
import random
from typing import Any

SHAPES = ("records", "longstring")
KB = 1000
DEFAULT_SIZES = (1 * KB, 10 * KB, 100 * KB, 1000 * KB)

_WORDS = [
    "the", "model", "streams", "a", "structured", "answer", "while", "the", "user", "watches",
    "every", "field", "appear", "parser", "delta", "token", "schema", "value", "record", "latency",
    "throughput", "quadratic", "linear", "snapshot", "café", "naïve", "résumé", "façade",
    "déjà-vu", "東京", "数据", "流式", "解析", "Ünïcödé", "ß", "Ω", "λ", "→", "✓", "🚀", "🙂", "🧪",
]
_PUNCT = (". ", ", ", "; ", ": ", "! ", "? ")


def _sentence(rng: random.Random, min_words: int = 4, max_words: int = 18) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(min_words, max_words))]
    text = " ".join(words)
    roll = rng.random()
    if roll < 0.15:
        text += ' "quoted" and a back\\slash'
    elif roll < 0.25:
        text += "\n\tindented line"
    return text[0].upper() + text[1:] + rng.choice(_PUNCT)


def _text(rng: random.Random, length: int) -> str:
    """A string of about ``length`` characters (never shorter than 20)."""
    parts: list[str] = []
    total = 0
    while total < length:
        s = _sentence(rng)
        parts.append(s)
        total += len(s)
    return "".join(parts)[: max(20, length)].rstrip("\\")


def _record(rng: random.Random, i: int, longest: int) -> dict[str, Any]:
    return {
        "id": i,
        "name": _text(rng, rng.randint(20, 60)),
        "description": _text(rng, min(longest, rng.choice((20, 80, 200, 400, 800, 2000)))),
        "score": round(rng.uniform(-1000, 1000), rng.randint(0, 6)),
        "ratio": rng.random() * 10 ** rng.randint(-8, 8),
        "count": rng.randint(-(10**12), 10**12),
        "active": rng.random() < 0.5,
        "note": None if rng.random() < 0.5 else _text(rng, rng.randint(20, 120)),
        "tags": [rng.choice(_WORDS) for _ in range(rng.randint(0, 6))],
        "meta": {"author": _text(rng, 24), "rating": rng.randint(1, 5), "verified": rng.random() < 0.3,
                 "reviewed_at": None},
    }


def _records(size: int, seed: int) -> str:
    rng = random.Random(seed)
    head = '{"title": ' + json.dumps(_text(rng, 40), ensure_ascii=False) + ', "items": ['
    parts = [head]
    total = len(head)
    i = 0
    tail = '], "summary": {"count": %d, "complete": true, "warnings": null}}'
    while total + len(tail) < size or i == 0:
        record = _record(rng, i, max(20, size // 4))
        item = json.dumps(record, ensure_ascii=(i % 3 == 2), indent=(2 if i % 5 == 4 else None))
        piece = item if i == 0 else ", " + item
        parts.append(piece)
        total += len(piece)
        i += 1
    parts.append(tail % i)
    return "".join(parts)


def _markdown(rng: random.Random, length: int) -> str:
    out: list[str] = []
    total = 0
    sec = 0
    while total < length:
        roll = rng.random()
        if roll < 0.1:
            sec += 1
            block = f"\n## {sec}. {_sentence(rng, 2, 6).strip()}\n\n"
        elif roll < 0.25:
            block = "".join(f"- {_sentence(rng, 3, 10)}\n" for _ in range(rng.randint(2, 5))) + "\n"
        elif roll < 0.33:
            block = ('```python\ndef f(x):\n    return "x\\\\n" + str(x)  # λ → ✓\n```\n\n')
        elif roll < 0.38:
            block = "| a | b |\n|---|---|\n| 1 | \"two\" |\n\n"
        else:
            block = "".join(_sentence(rng) for _ in range(rng.randint(2, 6))) + "\n\n"
        out.append(block)
        total += len(block)
    return "".join(out)


def _longstring(size: int, seed: int) -> str:
    rng = random.Random(seed)
    title = _text(rng, 40)
    head = '{"title": ' + json.dumps(title, ensure_ascii=False) + ', "content": '
    # Escapes make the JSON text longer than the string; generate a bit less and trim to size.
    content = _markdown(rng, size)
    doc = head + json.dumps(content, ensure_ascii=False) + "}"
    while len(doc) > size and len(content) > 40:
        content = content[: max(40, len(content) - (len(doc) - size) - 1)].rstrip("\\")
        doc = head + json.dumps(content, ensure_ascii=False) + "}"
    return doc


def make_doc(shape: str, size: int, seed: int = 6) -> str:
    """The JSON text of a ``shape`` document of about ``size`` characters (deterministic)."""
    if shape == "records":
        return _records(size, seed)
    if shape == "longstring":
        return _longstring(size, seed)
    raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")


def chunks(text: str, n: int) -> list[str]:
    """Split ``text`` into deltas of ``n`` characters (the last one may be shorter)."""
    return [text[i:i + n] for i in range(0, len(text), n)]


def size_label(size: int) -> str:
    """1000 -> "1 KB", 1000000 -> "1 MB"."""
    if size >= 1000 * KB and size % (1000 * KB) == 0:
        return f"{size // (1000 * KB)} MB"
    if size % KB == 0:
        return f"{size // KB} KB"
    return f"{size} B"
