"""Shared helpers of the core test suite (``test_core_*.py``), and the tests of those helpers.

The helpers are oracles and generators written independently of the parser:

* :class:`Recognizer`, :func:`recognize`, :func:`viable`: re-exported from ``fuzz/reference.py``, the
  project's one reference recognizer: a tiny, slow, obviously-correct character-by-character
  recognizer of RFC 8259 JSON texts, written from the grammar (not from the parser). It defines
  "longest viable prefix" and names the error kind expected there.
* :func:`oracle_loads`: ``json.loads`` made strict (``NaN``/``Infinity`` rejected).
* :func:`same_json`: type-exact equality (``1 != 1.0 != True``, ``-0.0 != 0.0``, object key order).
* :func:`expected_events`: the merged event sequence a value must produce, derived from the value.
* Hypothesis strategies for JSON values and for texts serialised with random whitespace and escapes.

The tests at the bottom check the oracles themselves against ``json.loads`` (an oracle that is wrong
would make every other test meaningless).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from fuzz.reference import SYNTAX_KINDS as SYNTAX_KINDS  # re-exported: the one reference recognizer
from fuzz.reference import Recognizer as Recognizer
from fuzz.reference import Verdict as Verdict
from fuzz.reference import recognize as recognize
from fuzz.reference import viable as viable
from hypothesis import strategies as st

import fieldstream
from fieldstream import Event, StringDelta, ValueDone, ValueStart

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "tests" / "data" / "JSONTestSuite" / "test_parsing"  # vendored, licence beside it
BENCH = ROOT / "bench" / "data"  # vendored benchmark documents, licence beside them

WS = " \t\n\r"

# --------------------------------------------------------------------------- the reference recognizer
# One recognizer for the whole project: fuzz/reference.py (fuzz imports nothing from tests).

def line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of offset ``pos`` (lines end with ``\\n``), by definition."""
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


# --------------------------------------------------------------------------- oracles

class OracleError(Exception):
    """json.loads rejected the text (or met NaN/Infinity, which RFC 8259 forbids)."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def oracle_loads(text: str | bytes) -> Any:
    """Strict ``json.loads``: raises :class:`OracleError` for anything it (or RFC 8259) rejects."""
    try:
        return json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise OracleError(str(exc)) from exc


def same_json(a: Any, b: Any) -> bool:
    """Type-exact JSON equality: int/float/bool distinct, float sign and object key order matter.

    Iterative, so 100 000-deep documents compare without RecursionError.
    """
    work = [(a, b)]
    while work:
        x, y = work.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if repr(x) != repr(y):
                return False
        elif isinstance(x, dict):
            if list(x) != list(y):
                return False
            work.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            work.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def canon(value: Any) -> Any:
    """A hashable, type-exact rendering of a JSON value (for comparing event lists)."""
    if isinstance(value, dict):
        return ("object", tuple((k, canon(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", tuple(canon(v) for v in value))
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


Merged = list[tuple[str, tuple[str | int, ...], Any]]


def merge_events(events: Iterable[Event], *, deep: bool = True) -> Merged:
    """Events as comparable tuples, consecutive StringDeltas of one path merged.

    ``deep=False`` renders a container's ValueDone by its kind only (cheap for big documents).
    """
    out: Merged = []
    for e in events:
        if type(e) is StringDelta:
            if out and out[-1][0] == "delta" and out[-1][1] == e.path:
                out[-1] = ("delta", e.path, out[-1][2] + e.delta)
            else:
                out.append(("delta", e.path, e.delta))
        elif type(e) is ValueStart:
            out.append(("start", e.path, str(e.kind)))
        else:
            assert type(e) is ValueDone, e
            v = e.value
            if not deep and isinstance(v, (dict, list)):
                out.append(("done", e.path, kind_of(v)))
            else:
                out.append(("done", e.path, canon(v)))
    return out


def expected_events(value: Any, path: tuple[str | int, ...] = ()) -> Merged:
    """The merged event sequence the parser must produce for ``value`` (no duplicate keys)."""
    out: Merged = [("start", path, kind_of(value))]
    if isinstance(value, str):
        if value:
            out.append(("delta", path, value))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += expected_events(v, (*path, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            out += expected_events(v, (*path, k))
    out.append(("done", path, canon(value)))
    return out


# --------------------------------------------------------------------------- feeding

def split_at(data: str | bytes, cuts: Iterable[int]) -> list[Any]:
    """Split ``data`` at the given offsets (sorted, deduplicated, empty pieces dropped)."""
    points = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def random_chunks(data: str | bytes, rnd: random.Random, max_size: int = 8) -> list[Any]:
    out = []
    i = 0
    while i < len(data):
        n = rnd.randint(1, max_size)
        out.append(data[i:i + n])
        i += n
    return out


def chunkings(data: str | bytes, rnd: random.Random) -> dict[str, list[Any]]:
    """Whole, 1-char (or 1-byte), 2 and 3 at a time, and two random chunkings."""
    return {
        "whole": [data] if data else [],
        "single": [data[i:i + 1] for i in range(len(data))],
        "pairs": [data[i:i + 2] for i in range(0, len(data), 2)],
        "triples": ([data[:1]] + [data[i:i + 3] for i in range(1, len(data), 3)]) if data else [],
        "random": random_chunks(data, rnd),
        "random_big": random_chunks(data, rnd, 40),
    }


class Outcome:
    """What one run of the parser produced: events and value, or the error."""

    def __init__(self, events: list[Event], value: Any = None, error: fieldstream.StreamError | None = None):
        self.events = events
        self.value = value
        self.error = error

    def error_key(self) -> tuple[Any, ...] | None:
        e = self.error
        return None if e is None else (e.kind, e.pos, e.line, e.col, e.path)


def run_parser(chunks: Sequence[str | bytes], **options: Any) -> Outcome:
    """Feed all chunks then close; collect events; never lets a non-StreamError escape unseen."""
    p = fieldstream.Parser(**options)
    events: list[Event] = []
    try:
        for c in chunks:
            events += p.feed(c)
        events += p.close()
    except fieldstream.StreamError as exc:
        assert not isinstance(exc, fieldstream.ParserClosedError), exc
        return Outcome(events, error=exc)
    assert p.done
    return Outcome(events, value=p.value)


def run_parse(chunks: Sequence[str | bytes], **options: Any) -> Outcome:
    """Same through ``fieldstream.parse`` (the ``events=False`` fast path)."""
    try:
        return Outcome([], value=fieldstream.parse(list(chunks), **options))
    except fieldstream.StreamError as exc:
        return Outcome([], error=exc)


# --------------------------------------------------------------------------- the front-end matrix
# Every way to drive the one core, behind one signature: chunks in, an Outcome out. The fixture
# ``frontend`` in tests/core/conftest.py parametrises tests over these (as ijson's suite does over its
# backends and input types).

def _root_value(events: list[Event]) -> Any:
    last = events[-1] if events else None
    assert type(last) is ValueDone and last.path == (), last
    return last.value


def run_iter_events(chunks: Sequence[str | bytes], **options: Any) -> Outcome:
    """``fieldstream.iter_events`` over a generator of the chunks (pulled lazily)."""
    events: list[Event] = []
    try:
        for e in fieldstream.iter_events((c for c in chunks), **options):
            events.append(e)
    except fieldstream.StreamError as exc:
        return Outcome(events, error=exc)
    return Outcome(events, value=_root_value(events))


def run_aiter_events(chunks: Sequence[str | bytes], **options: Any) -> Outcome:
    """``fieldstream.aiter_events`` over an async generator that yields control between chunks."""

    async def source() -> Any:
        for c in chunks:
            await asyncio.sleep(0)
            yield c

    async def main() -> Outcome:
        events: list[Event] = []
        try:
            async for e in fieldstream.aiter_events(source(), **options):
                events.append(e)
        except fieldstream.StreamError as exc:
            return Outcome(events, error=exc)
        return Outcome(events, value=_root_value(events))

    return asyncio.run(main())


def run_schema_stream(chunks: Sequence[str | bytes], **options: Any) -> Outcome:
    """``fieldstream.schema.SchemaStream`` with a schema that accepts any JSON (``typing.Any``).

    Its events are schema events, not the core's, so only the value and the error are compared. A
    truncated document is a :class:`~fieldstream.SchemaError` (kind ``incomplete``) whose cause is the
    core's ``StreamError``: that cause is the error compared.
    """
    from fieldstream.schema import SchemaStream

    s = SchemaStream(Any, **options)
    try:
        for c in chunks:
            s.feed(c)
        result = s.close()
    except fieldstream.StreamError as exc:
        return Outcome([], error=exc)
    except fieldstream.SchemaError as exc:
        cause = exc.__cause__
        assert exc.kind is fieldstream.SchemaErrorKind.INCOMPLETE
        assert isinstance(cause, fieldstream.StreamError)
        return Outcome([], error=cause)
    # (close() returns the value today; if it returns the events, the value is on ``.value``)
    return Outcome([], value=getattr(s, "value", result))


@dataclasses.dataclass(frozen=True)
class FrontEnd:
    """One way to drive the core: ``run(chunks, **parser_options)``; ``events``: whether the
    outcome carries the core's events (``parse`` builds none; ``SchemaStream`` has its own)."""

    name: str
    run: Callable[..., Outcome]
    events: bool
    needs: str | None = None  # an optional dependency the front end imports


FRONT_ENDS = [
    FrontEnd("Parser.feed", run_parser, True),
    FrontEnd("iter_events", run_iter_events, True),
    FrontEnd("aiter_events", run_aiter_events, True),
    FrontEnd("parse", run_parse, False),
    FrontEnd("SchemaStream(Any)", run_schema_stream, False, needs="pydantic"),
]

# The core cases every front end must agree on: valid documents (oracle: json.loads) and invalid
# ones with the kind the reference recognizer must also name (the position is the recognizer's). No
# duplicate keys: the expected events are derived from the value.
VALID_DOCUMENTS = [
    "0", "-0", "-0.0", "1e400", "12.5E-3", "123456789012345678901234567890", "true", "false", "null",
    '""', '"plain"', r'"esc \\ \" \/ \b\f\n\r\t"', r'"\u00e9\ud83d\ude00 é😀"', r'"\ud800 lone"',
    "[]", "{}", " [ ] ", "[[[]]]", '[1, "a", true, null, {"b": []}]',
    '{"a": {"b": {"c": [1, 2, {"d": "e"}]}}, "f": -1.5e+10}',
    '{"": ""}', '\n\t\r {"a" : 1 , "b":[ 2 ,3 ] } \n',
    '{"text": "' + "long " * 40 + '", "n": [' + ", ".join(str(i) for i in range(30)) + "]}",
]
INVALID_DOCUMENTS = [
    ("", "incomplete"), ("[1, 2", "incomplete"), ('{"a": "x', "incomplete"), ("tru", "incomplete"),
    ("[1,]", "trailing_comma"), ('{"a": 1,}', "trailing_comma"), ("[1,}", "expected_value"),
    ("[,]", "expected_value"), ('{"a": }', "expected_value"), ("NaN", "expected_value"),
    ("{1: 2}", "expected_key"), ('{"a": 1, }x', "trailing_comma"), ('{"a": 1, ]', "expected_key"),
    ('{"a" 1}', "expected_colon"), ("[1}", "expected_comma_or_close"),
    ('{"a": 1]', "expected_comma_or_close"),
    ("[1 2]", "expected_comma_or_close"), ("[01]", "expected_comma_or_close"), ("01", "trailing_data"),
    ("[] x", "trailing_data"), ("[tRue]", "invalid_literal"), ("[-]", "invalid_number"),
    ("[1.e5]", "invalid_number"), ('["\\x"]', "invalid_escape"), ('["\\u12G4"]', "invalid_escape"),
    ('["a\nb"]', "control_character"), ('{"k\x00": 1}', "control_character"),
]


# --------------------------------------------------------------------------- generators

def _text(max_size: int = 12) -> st.SearchStrategy[str]:
    # Every code point except surrogates: control characters, astral characters, quotes, backslashes.
    chars = st.characters(exclude_categories=("Cs",))
    special = st.sampled_from(
        ['"', "\\", "/", "\x00", "\x1f", "\n", "\u2028", "\x7f", "é", "😀", "\U0010ffff"]
    )
    return st.text(alphabet=chars | special, max_size=max_size)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**25), max_value=10**25)
    | st.integers(min_value=-100, max_value=100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text()
)

# Keys: mostly short identifiers (what model output looks like), sometimes any text.
_KEYS = st.from_regex(r"[a-z_][a-z0-9_]{0,9}", fullmatch=True) | _text(6)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (st.lists(children, min_size=1, max_size=6)
            | st.dictionaries(_KEYS, children, min_size=1, max_size=6))


# Empty containers are leaves, one leaf in seven: a document made only of empty containers has no
# comma, colon or scalar for a bug to hide behind, so they must not dominate.
_LEAVES = SCALARS | st.builds(list) | st.builds(dict)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(_LEAVES, _containers, max_leaves=30)
# A whole document: a non-empty array or object (what a model is asked for) two times in three.
DOCUMENTS: st.SearchStrategy[Any] = _containers(JSON_VALUES) | JSON_VALUES

_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _encode_string(s: str, rnd: random.Random, ensure_ascii: bool) -> str:
    """A JSON string literal for ``s`` with randomly chosen (valid) escapes."""
    out = ['"']
    for ch in s:
        cp = ord(ch)
        must = ch in '"\\' or cp < 0x20 or (ensure_ascii and cp > 0x7E)
        if not must and rnd.random() < 0.85:
            out.append(ch)
            continue
        r = rnd.random()
        if ch in _SHORT and r < 0.6:
            out.append(_SHORT[ch])
        elif ch == "/" and r < 0.5:
            out.append("\\/")
        elif cp > 0xFFFF:
            v = cp - 0x10000
            pair = f"\\u{0xD800 + (v >> 10):04x}\\u{0xDC00 + (v & 0x3FF):04x}"
            out.append(pair.upper().replace("\\U", "\\u") if rnd.random() < 0.5 else pair)
        else:
            esc = f"\\u{cp:04x}"
            out.append(esc.upper().replace("\\U", "\\u") if rnd.random() < 0.5 else esc)
    out.append('"')
    return "".join(out)


def _encode_number(v: int | float, rnd: random.Random) -> str:
    text = json.dumps(v)
    if isinstance(v, float) and rnd.random() < 0.3:
        text = f"{v:.{rnd.randint(1, 17)}{rnd.choice('eE')}}"
    elif isinstance(v, int) and rnd.random() < 0.1:
        text = f"{text}.{'0' * rnd.randint(1, 3)}"  # a float, for json.loads too
    return text


def serialize(value: Any, rnd: random.Random, *, ensure_ascii: bool = False, ws: float = 0.3) -> str:
    """Serialise with random JSON whitespace between all tokens and random escapes/number forms."""

    def space() -> str:
        if rnd.random() >= ws:
            return ""
        return "".join(rnd.choice(WS) for _ in range(rnd.randint(1, 3)))

    def enc(v: Any) -> str:
        if isinstance(v, bool) or v is None:
            return json.dumps(v)
        if isinstance(v, (int, float)):
            return _encode_number(v, rnd)
        if isinstance(v, str):
            return _encode_string(v, rnd, ensure_ascii)
        if isinstance(v, list):
            if not v:
                return "[" + space() + "]"
            return "[" + ",".join(space() + enc(x) + space() for x in v) + "]"
        if not v:
            return "{" + space() + "}"
        items = (space() + _encode_string(k, rnd, ensure_ascii) + space() + ":" + space() + enc(x) + space()
                 for k, x in v.items())
        return "{" + ",".join(items) + "}"

    return space() + enc(value) + space()


@st.composite
def json_texts(draw: Callable[..., Any]) -> tuple[Any, str]:
    """(value, a text of it with random whitespace/escapes); json.loads(text) is the oracle value."""
    value = draw(DOCUMENTS)
    rnd = draw(st.randoms(use_true_random=False))
    text = serialize(value, rnd, ensure_ascii=draw(st.booleans()), ws=draw(st.sampled_from([0.0, 0.3, 0.8])))
    return value, text


MUTATION_ALPHABET = [*'{}[]:,"\\ \n\t0123456789-+.eEtrufalsn/xu', "\x00", "\x1f", "é", "😀", "\ud83d"]

# One JSON token (a string with its escapes, a number, a literal, one punctuation character, a run
# of whitespace), or any other single character: the pieces a corruption works on.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|-?[0-9][0-9.eE+-]*|[a-z]+|[ \t\n\r]+|.', re.DOTALL)
_OTHER_BRACKET = {"[": "{", "{": "[", "]": "}", "}": "]"}
CORRUPTIONS = ("delete", "duplicate", "swap", "bracket", "trailing_comma", "truncate", "noise")


def _noise(text: str, rnd: random.Random) -> str:
    """One character-level edit: insert, delete or replace one character, or swap two neighbours."""
    op = rnd.choice(["insert", "delete", "replace", "swap"])
    i = rnd.randint(0, len(text))
    if op == "insert":
        return text[:i] + rnd.choice(MUTATION_ALPHABET) + text[i:]
    if op == "delete" and text:
        return text[:i] + text[i + 1:]
    if op == "replace" and i < len(text):
        return text[:i] + rnd.choice(MUTATION_ALPHABET) + text[i + 1:]
    if op == "swap" and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text


def corrupt(text: str, rnd: random.Random, op: str | None = None) -> str:
    """One corruption of a (valid) document, at the level of its tokens, so that everything around
    the broken spot stays valid: delete, duplicate or swap (with its next non-blank neighbour) one
    token; swap the kind of one bracket (``[1}``, ``{"a":1]``); insert a trailing comma before a
    closer (``[1,]``, ``{"a":1,}``); truncate anywhere (inside a token too); or, one time in seven,
    a character-level edit with JSON-ish noise. ``op`` picks one of :data:`CORRUPTIONS`.
    """
    op = op or rnd.choice(CORRUPTIONS)
    toks = _TOKENS.findall(text)
    solid = [k for k, t in enumerate(toks) if not t.isspace()]
    if not solid or op == "noise":
        return _noise(text, rnd)
    if op == "truncate":
        return text[:rnd.randint(0, len(text) - 1)]
    if op == "bracket" or op == "trailing_comma":
        closers = [k for k in solid if toks[k] in "]}"]
        brackets = [k for k in solid if toks[k] in "[]{}"]
        if op == "bracket" and brackets:
            k = rnd.choice(brackets)
            toks[k] = _OTHER_BRACKET[toks[k]]
            return "".join(toks)
        if op == "trailing_comma" and closers:
            k = rnd.choice(closers)
            toks[k] = "," + toks[k]
            return "".join(toks)
        op = "delete"  # a document without brackets: fall back to a token edit
    k = rnd.choice(solid)
    if op == "delete":
        toks[k] = ""
    elif op == "duplicate":
        toks[k] = toks[k] * 2
    else:  # swap with the next non-blank token (or the previous one for the last)
        at = solid.index(k)
        j = solid[at + 1] if at + 1 < len(solid) else solid[at - 1] if at else k
        toks[k], toks[j] = toks[j], toks[k]
    return "".join(toks)


def mutate(text: str, rnd: random.Random) -> str:
    """A corrupted copy of ``text``: one :func:`corrupt` edit, two one time in four."""
    text = corrupt(text, rnd)
    if rnd.random() < 0.25:
        text = corrupt(text, rnd)
    return text


def suite_files(prefix: str) -> list[Path]:
    return sorted(SUITE.glob(f"{prefix}_*.json"))


# --------------------------------------------------------------------------- tests of the helpers

def _complete(prefix: str) -> str:
    """Finish a viable prefix into a complete text by always taking the shortest way out."""
    r = Recognizer()
    for c in prefix:
        assert r.step(c)
    out = prefix
    while not r.complete():
        state = r.state
        if state in ("value", "value_or_close"):
            c = "0"
        elif state in ("key", "key_or_close"):
            c = '"'
        elif state == "colon":
            c = ":"
        elif state == "after":
            c = "]" if r.stack[-1] == "[" else "}"
        elif state == "literal":
            c = r.word[r.k]
        elif state == "string":
            c = '"' if not r.esc else "n" if r.esc == "\\" else "0"
        elif state == "number" and r.num not in ("zero", "int", "frac", "exp"):
            c = "0"
        else:  # a complete number inside a container
            c = "]" if r.stack[-1] == "[" else "}"
        assert r.step(c), (out, c)
        out += c
    return out


def _oracle_ok(text: str) -> bool:
    try:
        oracle_loads(text)
    except OracleError:
        return False
    return True
