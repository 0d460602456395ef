"""The documents the checks feed, and the ways they are split: fixed and deterministic.

Everything here is data or a pure function of a seed, so two runs of the suite (on any machine, any
Python >= 3.10) feed exactly the same deltas and report the same counterexamples. The hand-written
documents cover what streaming consumers get wrong (escapes, surrogate pairs, multibyte characters,
numbers at every position, empty containers, deep nesting, top-level scalars); a seeded generator
adds a few dozen nested documents with random whitespace and escaping. ``--hypothesis N`` adds N more
from :func:`fieldstream.testing.json_texts` (see :func:`hypothesis_documents`).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "INVALID_DOCUMENTS",
    "INVALID_UTF8",
    "SURROGATE_DOCUMENTS",
    "UTF8_DOCUMENTS",
    "VALID_DOCUMENTS",
    "Document",
    "build_corpus",
    "cut",
    "hypothesis_documents",
    "strict_loads",
]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def strict_loads(text: str | bytes) -> Any:
    """The oracle: ``json.loads`` without its ``NaN``/``Infinity`` extension (RFC 8259 has neither)."""
    return json.loads(text, parse_constant=_reject_constant)


# Valid documents, hand-written: (label, text).
VALID_DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("llm object", '{"title": "The Fox and the Grapes", "stars": 4, "tags": ["fable", "aesop"], '
                   '"summary": "A fox \\"wants\\" grapes.\\nIt fails.", "done": true}'),
    ("numbers in an array", "[1, 23, 456, -7, 0, 3.25, -0.5, 1e3, 2E-2, 12345678901234567890, -0.0]"),
    ("numbers as values", '{"a": 10, "b": -250, "c": 0.125, "d": 6.02e23, "e": 100}'),
    ("nested", '{"a": {"b": {"c": [1, {"d": "deep"}, [2, [3, [4]]]]}}, "e": []}'),
    ("empty containers", '{"o": {}, "a": [], "s": "", "n": [[], [{}], {"x": []}]}'),
    ("literals", '[true, false, null, {"t": true, "f": false, "n": null}]'),
    ("escapes", '{"esc": "quote \\" back \\\\ slash \\/ b\\b f\\f n\\n r\\r t\\t u\\u0041\\u00e9"}'),
    ("escaped keys", '{"k\\"ey": 1, "\\u00e9t\\u00e9": "summer", "a\\nb": [true]}'),
    ("non-ASCII raw", '{"fr": "déjà vu", "zh": "中文字符", "emoji": "ok 😀 👍🏽!", "mix": "é中😀"}'),
    ("surrogate pair escapes", '["\\ud83d\\ude00", "a\\ud83d\\udc4d\\ud83c\\udffdb", "\\uD834\\uDD1E"]'),
    ("whitespace everywhere", ' \n\t{ "a" :\r\n [ 1 ,\t2 ] ,  "b"\n:\n"x" } \n'),
    ("top-level string", '"just a string with \\"escapes\\" and é"'),
    ("top-level number", "-12.5e+3"),
    ("top-level true", "true"),
    ("top-level null", "null"),
    ("array of strings", '["alpha", "beta", "gamma", "", "delta epsilon"]'),
    ("array of objects", '[{"id": 1, "name": "one"}, {"id": 2, "name": "two"}, {"id": 3, "name": "three"}]'),
    ("deep array", "[" * 40 + "7" + "]" * 40),
    ("long string", '{"text": "' + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 4 + '"}'),
    ("tool call", '{"name": "get_weather", "arguments": {"city": "Zürich", "days": 3, "units": "metric", '
                  '"hours": [6, 12, 18]}}'),
    ("number then string", '{"n": 42, "s": "after", "m": [7, "x", 8.5]}'),
    ("big and small floats", "[1.7976931348623157e308, 5e-324, 0.1, 1.5, 123.456e-7, -1E+2]"),
)

# Documents for the UTF-8 check (fed as bytes, split inside every multibyte sequence).
UTF8_DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("2-byte", '{"fr": "déjà, où, ça"}'),
    ("3-byte", '["中文", "€100", "\u2028sep"]'),
    ("4-byte", '{"emoji": "😀👍🏽", "note": "𝄞"}'),
    ("in keys", '{"clé": "valeur", "键": 1, "😀": [true]}'),
    ("top-level", '"é中😀"'),
)

# Invalid UTF-8 inside JSON text (fed as bytes): (label, bytes). ``json.loads(bytes)`` decodes with
# ``surrogatepass`` and so accepts the encoded surrogate; RFC 8259 requires UTF-8 as RFC 3629
# defines it, which excludes surrogates, so a conforming parser rejects it.
INVALID_UTF8: tuple[tuple[str, bytes], ...] = (
    ("invalid byte 0xff", b'{"a": "x\xffy"}'),
    ("lone continuation byte", b'["\x80"]'),
    ("overlong encoding of '/'", b'["\xc0\xaf"]'),
    ("sequence cut by ASCII", b'["\xe4\xb8a"]'),
    ("UTF-8-encoded lone surrogate", b'["\xed\xa0\x80"]'),
    ("code point above U+10FFFF", b'["\xf4\x90\x80\x80"]'),
)

# Documents for the surrogate-pair check (str, split at every position): (label, text). Lone
# surrogate escapes (``"\\ud800"``) are left out on purpose: RFC 8259 allows them but leaves their
# meaning open, ``json.loads`` keeps them, several parsers reject them.
SURROGATE_DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("pair in a value", '{"e": "a\\ud83d\\ude00b"}'),
    ("two pairs", '["\\ud83d\\udc4d\\ud83c\\udffd"]'),
    ("pair at the end", '"x\\uD834\\uDD1E"'),
    ("pair in a key", '{"\\ud83d\\ude00": 1}'),
)

# Invalid documents (str): (label, text). Every one is rejected by :func:`strict_loads`.
INVALID_DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("wrong closing bracket ]→}", "[1, 2}"),
    ("wrong closing bracket }→]", '{"a": 1]'),
    ("wrong closing bracket, nested", '{"a": [1}'),
    ("object closed by ]", '[{]'),
    ("extra closing bracket", "[1]]"),
    ("trailing comma in array", "[1, 2,]"),
    ("trailing comma in object", '{"a": 1,}'),
    ("lone comma in array", "[,]"),
    ("leading comma in object", '{,"a": 1}'),
    ("missing comma", "[1 2]"),
    ("missing comma between members", '{"a": 1 "b": 2}'),
    ("missing colon", '{"a" 1}'),
    ("number key", "{1: 2}"),
    ("unquoted key", "{a: 1}"),
    ("single quotes", "{'a': 1}"),
    ("NaN", "NaN"),
    ("NaN in array", "[1, NaN]"),
    ("Infinity", '{"a": Infinity}'),
    ("-Infinity", "[-Infinity]"),
    ("leading zero", "[01]"),
    ("negative leading zero", "[-01]"),
    ("dot without digits", "[1.]"),
    ("leading dot", "[.5]"),
    ("plus sign", "[+1]"),
    ("lone minus", "[-]"),
    ("empty exponent", "[1e]"),
    ("exponent sign only", "[1e+]"),
    ("hex number", "[0x10]"),
    ("truncated literal", "[tru]"),
    ("capitalised literal", "[True]"),
    ("Python None", '{"a": None}'),
    ("undefined", "[undefined]"),
    ("raw NUL in string", '["a\x00b"]'),
    ("raw newline in string", '{"a": "line\nbreak"}'),
    ("raw tab in string", '["tab\there"]'),
    ("raw control character in key", '{"k\x1f": 1}'),
    ("unknown escape", '["\\x41"]'),
    ("escaped single quote", '["\\\'"]'),
    ("bad hex in \\u escape", '["\\u12G4"]'),
    ("short \\u escape", '["\\u00e"]'),
    ("surrogate pair cut short", '["\\ud83d\\ude0"]'),
    ("high surrogate then a bad escape", '["\\ud83d\\x"]'),
    ("two documents", "[1] [2]"),
    ("two scalars", "1 2"),
    ("text after the document", '{"a": 1} trailing'),
    ("prose around the JSON", 'Sure! {"a": 1}'),
    ("block comment", "[1 /* two */]"),
    ("line comment", "// list\n[1]"),
    ("empty input", ""),
    ("whitespace only", " \n\t "),
)


@dataclass
class Document:
    """One input: its text and the chunkings to feed it in (each a list of non-empty deltas)."""

    label: str
    text: str
    chunkings: list[list[str]] = field(default_factory=list)


_TRICKY = re.compile(r"\\(?:u[0-9a-fA-F]{0,4}|.)", re.DOTALL)
_TOKENS = re.compile(r"\s+|\\u[0-9a-fA-F]{4}|\\.|\w+|[^\w\s\\]+|\\", re.DOTALL)


def cut(text: str, points: list[int]) -> list[str]:
    """``text`` split at ``points`` (sorted, deduplicated, out-of-range points ignored)."""
    out: list[str] = []
    prev = 0
    for p in sorted(set(points)):
        if prev < p < len(text):
            out.append(text[prev:p])
            prev = p
    out.append(text[prev:])
    return [c for c in out if c] or [text]


def _chunkings(text: str, rng: random.Random) -> list[list[str]]:
    """Every character (first: the reference), the whole text, cuts inside every escape and between
    the escapes of a pair, token-like deltas (as a model streams them), and three random chunkings."""
    n = len(text)
    out = [cut(text, list(range(1, n))), [text] if text else []]
    tricky = sorted({p for m in _TRICKY.finditer(text) for p in range(m.start() + 1, m.end())})
    if tricky:
        out.append(cut(text, tricky))
        out.append(cut(text, [p for p in tricky if p % 2]))
    out.append([m.group() for m in _TOKENS.finditer(text)] or [text])
    for _ in range(3):
        if n > 1:
            out.append(cut(text, rng.sample(range(1, n), min(n - 1, rng.randint(1, 12)))))
    unique: list[list[str]] = []
    for c in out:
        if c and c not in unique:
            unique.append(c)
    return unique


_WS = ("", "", "", " ", "\n", "\t", "  ", "\r\n")
_CHARS = "abcxyz AZ09_-é中😀\"\\/\n\t\x01\u2028"


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 4 and roll < 0.3:
        return {"".join(rng.choice(_CHARS) for _ in range(rng.randint(0, 6))): _random_value(rng, depth + 1)
                for _ in range(rng.randint(0, 4))}
    if depth < 4 and roll < 0.5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    kind = rng.randrange(6)
    if kind == 0:
        return "".join(rng.choice(_CHARS) for _ in range(rng.randint(0, 15)))
    if kind == 1:
        return rng.randint(-(10**rng.randint(1, 20)), 10**rng.randint(1, 20))
    if kind == 2:
        return round(rng.uniform(-1e6, 1e6), rng.randint(0, 6))
    if kind == 3:
        return rng.choice([True, False])
    if kind == 4:
        return None
    return rng.choice([0, -1, 1.5, 1e-9, 2**53])


def _random_text(rng: random.Random, value: Any) -> str:
    """Serialise ``value`` with random whitespace and random string escaping (ASCII-only or raw)."""
    def ws() -> str:
        return rng.choice(_WS)

    if isinstance(value, dict):
        members = [f"{ws()}{json.dumps(k, ensure_ascii=rng.random() < 0.5)}{ws()}:{_random_text(rng, v)}"
                   for k, v in value.items()]
        return "{" + ",".join(members) + ws() + "}" if members else "{" + ws() + "}"
    if isinstance(value, list):
        items = [_random_text(rng, v) for v in value]
        return "[" + ",".join(items) + ws() + "]" if items else "[" + ws() + "]"
    return ws() + json.dumps(value, ensure_ascii=rng.random() < 0.5) + ws()


def build_corpus(seed: int = 0, random_documents: int = 30) -> list[Document]:
    """The valid documents (hand-written ones, then ``random_documents`` seeded random ones), each with
    its chunkings. Deterministic for a given ``seed``."""
    rng = random.Random(seed)
    docs = [Document(label, text) for label, text in VALID_DOCUMENTS]
    for k in range(random_documents):
        docs.append(Document(f"random #{k}", _random_text(rng, _random_value(rng, 0))))
    for doc in docs:
        doc.chunkings = _chunkings(doc.text, rng)
    return docs


def hypothesis_documents(n: int) -> list[Document]:
    """``n`` more documents drawn with :func:`fieldstream.testing.json_texts` (derandomized, so
    repeatable), each with two chunkings from :func:`fieldstream.testing.chunkings` on top of the
    suite's own. Needs ``hypothesis``."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    from fieldstream.testing import chunkings, json_texts

    found: list[Document] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        text = data.draw(json_texts())
        extra = [data.draw(chunkings(text)) for _ in range(2)]
        found.append(Document(f"hypothesis #{len(found)}", text, extra))

    collect()
    rng = random.Random(n)
    for doc in found[:n]:
        doc.chunkings = _chunkings(doc.text, rng) + [c for c in doc.chunkings if c]
    return found[:n]
