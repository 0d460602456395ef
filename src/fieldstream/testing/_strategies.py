"""Hypothesis strategies for testing JSON streaming code: fieldstream itself, or your own consumer.

Streaming bugs hide in the places a hand-written test never splits the input: inside an escape,
between the halves of a surrogate pair, in the middle of a multibyte UTF-8 sequence, one character
at a time. These strategies generate documents and the ways they arrive, so that a property such as
"my renderer shows the same thing however the model's output was chunked" is checked on inputs
nobody thought of. Requires ``hypothesis`` (``pip install hypothesis``); ``model_instances`` also
needs ``pydantic``.

* :func:`json_values`: nested JSON values (unicode, astral characters, control characters, big and
  small numbers, deep-ish nesting).
* :func:`json_texts`: JSON documents serialised with random whitespace and random escaping.
* :func:`chunkings`: every way to split a ``str`` or UTF-8 ``bytes`` text into non-empty deltas
  (1 character, random sizes, whole, and splits inside escapes, surrogate-pair escapes and
  multibyte UTF-8 sequences).
* :func:`llm_deltas`: token-like deltas, as a language model streams them.
* :func:`model_instances`: valid instances of a Pydantic model, dumped to JSON text.
* :func:`mutations`: a document corrupted in one or two places (a token deleted, duplicated or
  swapped, a bracket of the other kind, a trailing comma, a truncation, character noise): mostly
  invalid JSON, for checking that errors are clean.

Example: testing your own renderer (a consumer of fieldstream events) for chunking invariance::

    import fieldstream
    from hypothesis import given, strategies as st
    from fieldstream.testing import chunkings, json_texts

    def render(deltas):                      # your code: text shown to the user per field
        shown = {}
        p = fieldstream.Parser()
        for d in deltas:
            for ev in p.feed(d):
                if isinstance(ev, fieldstream.StringDelta):
                    shown[ev.jsonpath] = shown.get(ev.jsonpath, "") + ev.delta
        p.close()
        return shown

    @given(st.data())
    def test_render_does_not_depend_on_chunking(data):
        text = data.draw(json_texts())
        deltas = data.draw(chunkings(text))
        assert render(deltas) == render([text])
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal, TypeVar, Union, get_args, get_origin

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import BaseModel

__all__ = ["chunkings", "json_texts", "json_values", "llm_deltas", "model_instances", "mutations"]

TextT = TypeVar("TextT", str, bytes)

# Characters worth having in strings: ASCII, characters JSON must escape, BMP beyond Latin-1,
# astral characters (UTF-16 surrogate pairs when escaped, 4 bytes in UTF-8), a BOM, line separators.
_SPECIAL_CHARS = '"\\/\b\f\n\r\t\x00\x1f\x7f\u00e9\u2028\u2029\ufeff\uffff\u4e2d\U0001f600\U0010ffff'
_WHITESPACE = ("", "", "", " ", "\n", "\t", "\r\n", "  ", " \n  ")


def _strings(lone_surrogates: bool) -> SearchStrategy[str]:
    alphabet = (st.characters(codec="utf-8") if not lone_surrogates
                else st.one_of(st.characters(codec="utf-8"),
                               st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)))
    return st.one_of(
        st.text(alphabet=alphabet, max_size=20),
        st.text(alphabet=st.sampled_from(_SPECIAL_CHARS), max_size=12),
        st.text(alphabet=st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, codec="utf-8"),
                max_size=6),
    )


_NUMBERS: SearchStrategy[Any] = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0, -1, 1, 2**53, 2**63, -(2**63), 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, -1e308, 0.1, 1e22, 1.5]),
)


def json_values(*, max_leaves: int = 30, lone_surrogates: bool = False) -> SearchStrategy[Any]:
    """Nested JSON values: ``None``, bools, big/small ints and finite floats, unicode strings, lists
    and objects (whose keys are unicode strings too).

    ``lone_surrogates=True`` also puts unpaired UTF-16 surrogates in strings (valid for ``json.loads``
    on ``str``, but not encodable as UTF-8). ``max_leaves`` bounds the size of a value.

    >>> from fieldstream.testing import json_values
    >>> json_values()  # doctest: +ELLIPSIS
    recursive(...)
    """
    strings = _strings(lone_surrogates)
    keys = st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,9}", fullmatch=True), strings)
    # Empty containers are leaves, one leaf in seven: a document made only of empty containers has
    # no comma, colon or scalar for a bug to hide behind. Containers themselves are never empty.
    leaves = st.one_of(st.none(), st.booleans(), _NUMBERS, strings, strings, _NUMBERS,
                       st.one_of(st.builds(list), st.builds(dict)))
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=6),
            st.dictionaries(keys, children, min_size=1, max_size=6),
        ),
        max_leaves=max_leaves,
    )


def _encode_string(s: str, mode: int) -> str:
    """Serialise a string: 0 raw UTF-8, 1 ASCII-only, 2 every character as ``\\uXXXX``, 3 mixed."""
    if mode == 0:
        return json.dumps(s, ensure_ascii=False)
    if mode == 1:
        return json.dumps(s)
    out = ['"']
    for k, ch in enumerate(s):
        code = ord(ch)
        if mode == 3 and k % 2 == 0:
            out.append(json.dumps(ch, ensure_ascii=False)[1:-1].replace("/", "\\/"))
        elif code >= 0x10000:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04X}")
        else:
            out.append(f"\\u{code:04x}")
    out.append('"')
    return "".join(out)


@st.composite
def _serialise(draw: st.DrawFn, value: Any) -> str:
    ws = st.sampled_from(_WHITESPACE)
    modes = st.integers(min_value=0, max_value=3)
    out: list[str] = [draw(ws)]
    # Iterative (explicit stack) so that deep values do not hit the recursion limit.
    work: list[Any] = [("v", value)]
    while work:
        tag, item = work.pop()
        if tag == "s":  # a literal piece of syntax
            out.append(item)
            out.append(draw(ws))
        elif isinstance(item, dict):
            out.append("{")
            out.append(draw(ws))
            todo: list[Any] = []
            for k, (key, v) in enumerate(item.items()):
                if k:
                    todo.append(("s", ","))
                todo.append(("s", _encode_string(key, draw(modes))))
                todo.append(("s", ":"))
                todo.append(("v", v))
            todo.append(("s", "}"))
            work.extend(reversed(todo))
        elif isinstance(item, list):
            out.append("[")
            out.append(draw(ws))
            todo = []
            for k, v in enumerate(item):
                if k:
                    todo.append(("s", ","))
                todo.append(("v", v))
            todo.append(("s", "]"))
            work.extend(reversed(todo))
        elif isinstance(item, str):
            out.append(_encode_string(item, draw(modes)))
            out.append(draw(ws))
        else:
            text = json.dumps(item)
            if isinstance(item, float) and draw(st.booleans()):
                text = _respell_float(item, text)
            out.append(text)
            out.append(draw(ws))
    return "".join(out)


def _respell_float(value: float, text: str) -> str:
    """Another spelling of the same float (exponent form), to vary the number grammar used."""
    alt = f"{value:.17E}"
    return alt if float(alt) == value else text


def json_texts(values: SearchStrategy[Any] | None = None) -> SearchStrategy[str]:
    """JSON documents (``str``) with random whitespace between tokens and random string escaping
    (raw UTF-8, ASCII-only, ``\\uXXXX`` for every character incl. surrogate pairs, mixed with ``\\/``).

    ``values`` is the strategy for the document's value (default :func:`json_values`). Every text
    satisfies ``json.loads(text) == value``.
    """
    return (values if values is not None else json_values()).flatmap(_serialise)


def _boundaries(text: str | bytes) -> list[int]:
    """Split points that streaming code gets wrong: inside escapes and ``\\uXXXX`` (and between the
    two escapes of a surrogate pair), inside multibyte UTF-8 sequences (bytes)."""
    points: list[int] = []
    if isinstance(text, bytes):
        points.extend(i for i, b in enumerate(text) if 0x80 <= b <= 0xBF)
        pattern = re.compile(rb"\\(?:u[0-9a-fA-F]{0,4}|.)", re.DOTALL)
        matches = [(m.start(), m.end()) for m in pattern.finditer(text)]
    else:
        pattern_s = re.compile(r"\\(?:u[0-9a-fA-F]{0,4}|.)", re.DOTALL)
        matches = [(m.start(), m.end()) for m in pattern_s.finditer(text)]
    for start, end in matches:
        points.extend(range(start + 1, end + 1))
    return sorted({p for p in points if 0 < p < len(text)})


def _cut(text: TextT, points: list[int]) -> list[TextT]:
    out: list[TextT] = []
    prev = 0
    for p in sorted(set(points)):
        if 0 < p < len(text) and p > prev:
            out.append(text[prev:p])
            prev = p
    out.append(text[prev:])
    return [c for c in out if c] or [text]


def chunkings(text: TextT) -> SearchStrategy[list[TextT]]:
    """Ways to split ``text`` (``str``, or UTF-8 ``bytes``) into non-empty deltas whose
    concatenation is ``text``: one character/byte at a time, the whole text, random sizes, and
    splits placed inside escapes, ``\\uXXXX`` escapes, surrogate-pair escapes and (for bytes)
    multibyte UTF-8 sequences, mixed with random ones.

    >>> from fieldstream.testing import chunkings
    >>> chunk = chunkings('{"a": "\\\\u00e9"}').example()
    >>> "".join(chunk)
    '{"a": "\\\\u00e9"}'
    """
    n = len(text)
    if n <= 1:
        return st.just([text])
    tricky = _boundaries(text)
    every = st.just(_cut(text, list(range(1, n))))
    whole = st.just([text])
    random_cuts = st.lists(st.integers(min_value=1, max_value=n - 1), max_size=min(n - 1, 40)).map(
        lambda pts: _cut(text, pts))
    sizes = st.integers(min_value=1, max_value=max(1, min(n, 64))).map(
        lambda k: _cut(text, list(range(k, n, k))))
    options: list[SearchStrategy[list[TextT]]] = [every, whole, random_cuts, sizes]
    if tricky:
        options.append(st.lists(st.sampled_from(tricky), min_size=1, max_size=20).map(
            lambda pts: _cut(text, pts)))
        options.append(st.tuples(st.lists(st.sampled_from(tricky), max_size=10),
                                 st.lists(st.integers(min_value=1, max_value=n - 1), max_size=10)).map(
            lambda ab: _cut(text, ab[0] + ab[1])))
    return st.one_of(options)


_TOKEN = re.compile(r"\s+|\\u[0-9a-fA-F]{4}|\\.|\w+|[^\w\s\\]+|\\", re.DOTALL)


@st.composite
def _llm_deltas(draw: st.DrawFn, text: str) -> list[str]:
    tokens: list[str] = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        # Long words/runs become several sub-word tokens of 1-8 characters, as BPE tokenizers do.
        while len(tok) > 8:
            k = draw(st.integers(min_value=1, max_value=8))
            tokens.append(tok[:k])
            tok = tok[k:]
        tokens.append(tok)
    deltas: list[str] = []
    k = 0
    while k < len(tokens):
        # Providers send one token per delta, sometimes a few at once.
        take = draw(st.sampled_from((1, 1, 1, 2, 3)))
        piece = "".join(tokens[k:k + take])
        k += take
        if piece:
            deltas.append(piece)
    return deltas or [text]


def llm_deltas(text: str) -> SearchStrategy[list[str]]:
    """Token-like deltas of ``text``, the way a language model streams it: words, whitespace runs,
    punctuation clusters such as ``": "`` and ``"},``, escapes, long words cut into 1-8 character
    sub-words, sometimes several tokens per delta. ``"".join(deltas) == text``.
    """
    return _llm_deltas(text)


def _annotation_strategy(tp: Any, depth: int) -> SearchStrategy[Any]:
    """A strategy for Python data (before validation) of a type annotation used in a model."""
    from enum import Enum

    from pydantic import BaseModel

    origin = get_origin(tp)
    args = get_args(tp)
    if tp is Any:
        return json_values(max_leaves=5)
    if tp is type(None) or tp is None:
        return st.none()
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        model = tp  # deferred: recursive models are built lazily, and cut off below depth 4
        return st.deferred(lambda: _model_data(model, depth + 1))
    if isinstance(tp, type) and issubclass(tp, Enum):
        return st.sampled_from([m.value for m in tp])
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=-(10**12), max_value=10**12)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is str:
        return _strings(False)
    if origin is Literal:
        return st.sampled_from(args)
    if origin is Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType") or \
            type(tp).__name__ == "UnionType":
        return st.one_of([_annotation_strategy(a, depth) for a in args])
    if origin in (list, tuple, set, frozenset) and args:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return st.tuples(*[_annotation_strategy(a, depth) for a in args]).map(list)
        if depth > 3:
            return st.just([])
        return st.lists(_annotation_strategy(args[0], depth + 1), max_size=4)
    if origin is dict and len(args) == 2:
        if depth > 3:
            return st.just({})
        return st.dictionaries(_strings(False), _annotation_strategy(args[1], depth + 1), max_size=4)
    if origin is not None and hasattr(origin, "__metadata__"):  # pragma: no cover
        return _annotation_strategy(args[0], depth)
    if getattr(tp, "__metadata__", None) is not None:  # Annotated[T, ...]
        return _annotation_strategy(get_args(tp)[0], depth)
    return st.from_type(tp)


def _model_data(model: type[BaseModel], depth: int) -> SearchStrategy[dict[str, Any]]:
    required: dict[str, SearchStrategy[Any]] = {}
    optional: dict[str, SearchStrategy[Any]] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        strategy = _annotation_strategy(info.annotation, depth)
        (required if info.is_required() else optional)[key] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def model_instances(model: type[BaseModel]) -> SearchStrategy[str]:
    """Valid instances of a Pydantic model, dumped to JSON text with ``model_dump_json()``.

    Fields typed ``str``/``int``/``float``/``bool``/``None``, ``Literal``, enums, nested models,
    ``list``/``tuple``/``dict`` and unions of those are generated directly; other annotations go
    through :func:`hypothesis.strategies.from_type`. Candidates that the model rejects (for example
    because of field constraints) are filtered out. Imports pydantic lazily.
    """
    import pydantic

    def build(data: dict[str, Any]) -> str | None:
        try:
            return model.model_validate(data).model_dump_json(by_alias=True)
        except (pydantic.ValidationError, ValueError, TypeError):
            return None

    return _model_data(model, 0).map(build).filter(lambda text: text is not None)  # type: ignore[return-value]


_NOISE = '{}[]:,"\\ \n\t0123456789-+.eEtrufalsn\x00\x1f\u00e9\U0001f600\ud800'
# One JSON token (a string with its escapes, a number, a literal, one punctuation character, a run
# of whitespace), or any other single character: the pieces a corruption works on.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|-?[0-9][0-9.eE+-]*|[a-z]+|[ \t\n\r]+|.', re.DOTALL)
_OTHER_BRACKET = {"[": "{", "{": "[", "]": "}", "}": "]"}
_CORRUPTIONS = ("delete", "duplicate", "swap", "bracket", "trailing_comma", "truncate", "noise")


def _noise(draw: st.DrawFn, out: str) -> str:
    op = draw(st.sampled_from(("insert", "delete", "replace", "swap")))
    n = len(out)
    if op == "insert" or n == 0:
        at = draw(st.integers(min_value=0, max_value=n))
        noise = draw(st.text(alphabet=st.sampled_from(_NOISE), min_size=1, max_size=3))
        return out[:at] + noise + out[at:]
    at = draw(st.integers(min_value=0, max_value=n - 1))
    if op == "delete":
        length = draw(st.integers(min_value=1, max_value=min(4, n - at)))
        return out[:at] + out[at + length:]
    if op == "replace":
        return out[:at] + draw(st.sampled_from(_NOISE)) + out[at + 1:]
    at = min(at, max(0, n - 2))  # swap two neighbours
    return out[:at] + out[at + 1:at + 2] + out[at:at + 1] + out[at + 2:]


def _corrupt(draw: st.DrawFn, out: str) -> str:
    op = draw(st.sampled_from(_CORRUPTIONS))
    toks = _TOKENS.findall(out)
    solid = [k for k, t in enumerate(toks) if not t.isspace()]
    if not solid or op == "noise":
        return _noise(draw, out)
    if op == "truncate":
        return out[:draw(st.integers(min_value=0, max_value=len(out) - 1))]
    if op in ("bracket", "trailing_comma"):
        wanted = "[]{}" if op == "bracket" else "]}"
        targets = [k for k in solid if toks[k] in wanted]
        if targets:
            k = draw(st.sampled_from(targets))
            toks[k] = _OTHER_BRACKET[toks[k]] if op == "bracket" else "," + toks[k]
            return "".join(toks)
        op = "delete"  # no bracket in the text: a token edit instead
    at = draw(st.integers(min_value=0, max_value=len(solid) - 1))
    k = solid[at]
    if op == "delete":
        toks[k] = ""
    elif op == "duplicate":
        toks[k] = toks[k] * 2
    else:  # swap with the next non-blank token (the previous one for the last)
        j = solid[at + 1] if at + 1 < len(solid) else solid[at - 1] if at else k
        toks[k], toks[j] = toks[j], toks[k]
    return "".join(toks)


@st.composite
def _mutate(draw: st.DrawFn, text: str) -> str:
    out = text
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        out = _corrupt(draw, out)
    return out


def mutations(text: str) -> SearchStrategy[str]:
    """``text`` after one or two corruptions that keep everything around the broken spot intact:
    delete, duplicate or swap one JSON token; swap the kind of one bracket (``[1}``); insert a
    trailing comma before a closer (``[1,]``, ``{"a":1,}``); truncate anywhere; or a character-level
    edit with JSON-ish noise (brackets, quotes, backslashes, digits, literal letters, NUL, control
    characters, astral characters, a lone surrogate). Start from a valid document (for example one
    of :func:`json_texts`) to get texts that are invalid in one place, the way model output usually
    is. Sometimes the result is still valid: compare against an oracle such as ``json.loads`` rather
    than assuming either.
    """
    return _mutate(text)
