"""Path renderings (dotted, RFC 9535 JSONPath, RFC 6901 JSON Pointer), parse_path and PathPattern.

Renderings are checked against small independent decoders written from the RFCs' grammars.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fieldstream
from fieldstream import PathPattern, parse_path, to_dotted, to_jsonpath, to_pointer

KEYS = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8) | st.sampled_from(
    ["a", "items", "name", "_x1", "a b", "a.b", "it's", 'q"q', "back\\slash", "~", "/", "~1", "0", "12",
     "", "$", "*", "é", "日本", "\n", "\x7f", "a[0]", "..", "-1"]
)
PATHS = st.lists(KEYS | st.integers(min_value=0, max_value=10**6), max_size=6).map(tuple)

# --------------------------------------------------------------------------- RFC 9535 decoder

_NAME_FIRST = r"A-Za-z_\u0080-\ud7ff\ue000-\U0010ffff"
_SHORT = re.compile(rf"\.([{_NAME_FIRST}][{_NAME_FIRST}0-9]*)")
_INDEX = re.compile(r"\[(0|-?[1-9][0-9]*)\]")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")


def _quoted(text: str, i: int) -> tuple[str, int]:
    """Decode an RFC 9535 string literal starting at text[i] (a quote); return (value, end)."""
    q = text[i]
    assert q in "'\""
    out = []
    i += 1
    while True:
        c = text[i]
        if c == q:
            return "".join(out), i + 1
        if c == "\\":
            e = text[i + 1]
            simple = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\", q: q}
            if e in simple:
                out.append(simple[e])
                i += 2
                continue
            assert e == "u" and _HEX4.fullmatch(text, i + 2, i + 6), text
            cp = int(text[i + 2:i + 6], 16)
            i += 6
            if 0xD800 <= cp <= 0xDBFF:
                assert text[i:i + 2] == "\\u"
                lo = int(text[i + 2:i + 6], 16)
                assert 0xDC00 <= lo <= 0xDFFF
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                i += 6
            out.append(chr(cp))
            continue
        # unescaped: %x20-26 / %x28-5B / %x5D-D7FF / %xE000-10FFFF (with the other quote allowed)
        assert c >= " " and not ("\ud800" <= c <= "\udfff"), repr(c)
        out.append(c)
        i += 1


def decode_jsonpath(text: str) -> tuple[str | int, ...]:
    """Decode a singular RFC 9535 query (``$`` then name/index segments) into a path tuple."""
    assert text.startswith("$")
    i = 1
    out: list[str | int] = []
    while i < len(text):
        m = _SHORT.match(text, i)
        if m:
            out.append(m.group(1))
            i = m.end()
            continue
        m = _INDEX.match(text, i)
        if m:
            out.append(int(m.group(1)))
            i = m.end()
            continue
        assert text[i] == "[", text
        key, i = _quoted(text, i + 1)
        assert text[i] == "]", text
        out.append(key)
        i += 1
    return tuple(out)


def decode_pointer(text: str) -> list[str]:
    """RFC 6901: '' is the root; otherwise '/'-separated reference tokens with ~1 -> / then ~0 -> ~."""
    if text == "":
        return []
    assert text.startswith("/")
    return [tok.replace("~1", "/").replace("~0", "~") for tok in text.split("/")[1:]]


@given(PATHS)
def test_jsonpath_rendering_decodes_back_to_the_path_with_an_rfc_9535_decoder(path: tuple[Any, ...]) -> None:
    assert decode_jsonpath(to_jsonpath(path)) == path


@given(PATHS)
def test_json_pointer_rendering_decodes_back_to_the_path_with_an_rfc_6901_decoder(
    path: tuple[Any, ...]
) -> None:
    assert decode_pointer(to_pointer(path)) == [str(s) for s in path]


@pytest.mark.parametrize("key", ["\x07", "\x00", "a\x1fb"])
def test_parse_path_decodes_u_escapes_of_control_characters(key: str) -> None:
    path = ("x", key)
    assert parse_path(to_jsonpath(path)) == path
    assert parse_path(to_dotted(path)) == path
    assert PathPattern(to_jsonpath(path)).matches(path)


@given(PATHS)
def test_parse_path_inverts_every_rendering(path: tuple[Any, ...]) -> None:
    assert parse_path(to_jsonpath(path)) == path
    if path:
        assert parse_path(to_dotted(path)) == path
    if not any(isinstance(s, str) and (s.isdigit() or s in ("*", "**")) for s in path):
        assert parse_path(to_pointer(path)) == path  # a pointer cannot tell key "0" from index 0


@pytest.mark.parametrize(
    ("path", "dotted", "jsonpath", "pointer"),
    [
        ((), "", "$", ""),
        (("content",), "content", "$.content", "/content"),
        (("final_result", "items", 0, "name"), "final_result.items[0].name", "$.final_result.items[0].name",
         "/final_result/items/0/name"),
        ((0, "a"), "[0].a", "$[0].a", "/0/a"),
        (("a b",), "['a b']", "$['a b']", "/a b"),
        (("a", "b.c"), "a['b.c']", "$.a['b.c']", "/a/b.c"),
        (("it's",), "['it\\'s']", "$['it\\'s']", "/it's"),
        (("back\\slash",), "['back\\\\slash']", "$['back\\\\slash']", "/back\\slash"),
        (("\n\x01",), "['\\n\\u0001']", "$['\\n\\u0001']", "/\n\x01"),
        (("1abc",), "['1abc']", "$['1abc']", "/1abc"),
        (("",), "['']", "$['']", "/"),
        (("a/b", "m~n"), "['a/b']['m~n']", "$['a/b']['m~n']", "/a~1b/m~0n"),
        (("~1",), "['~1']", "$['~1']", "/~01"),
        (("é",), "é", "$.é", "/é"),
        (("_x", 10), "_x[10]", "$._x[10]", "/_x/10"),
    ],
)
def test_path_renderings_on_examples(path: tuple[Any, ...], dotted: str, jsonpath: str, pointer: str) -> None:
    assert (to_dotted(path), to_jsonpath(path), to_pointer(path)) == (dotted, jsonpath, pointer)


def test_events_render_their_path_in_all_three_forms() -> None:
    text = '{"final_result": {"items": [{"name": "x", "a/b": 1}]}}'
    events = list(fieldstream.iter_events(text))
    for e in events:
        rendered = (to_dotted(e.path), to_jsonpath(e.path), to_pointer(e.path))
        assert (e.dotted, e.jsonpath, e.pointer) == rendered
    names = {e.dotted for e in events}
    assert "final_result.items[0].name" in names
    assert {e.pointer for e in events} >= {"/final_result/items/0/a~1b", ""}
    assert {e.jsonpath for e in events} >= {"$", "$.final_result.items[0]['a/b']"}


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("items[*].name", ("items", 3, "name"), True),
        ("items[*].name", ("items", "x", "name"), True),
        ("items[*].name", ("items", 3), False),
        ("items[*].name", ("items", 3, "name", "x"), False),
        ("items[*].name", ("other", 3, "name"), False),
        ("$.items[*].name", ("items", 0, "name"), True),
        ("$.a[*]", ("a", 0), True),
        ("$.a[*]", ("a",), False),
        ("$..content", ("content",), True),
        ("$..content", ("a", 1, "b", "content"), True),
        ("$..content", ("a", "content", "x"), False),
        ("/a/*/b", ("a", 7, "b"), True),
        ("/a/*/b", ("a", 7, "c"), False),
        ("/a~1b/0", ("a/b", 0), True),
        ("$['a b'][0]", ("a b", 0), True),
        ("$['a b'][0]", ("a b", 1), False),
        ("a[0]", ("a", "0"), False),  # an index never matches a key
        ("content", ("content",), True),
        ("$..[*]", ("a", 1), True),
        ("$..[0]", ("a", 0), True),
        ("$..[0]", ("a", 1), False),
        ("$", (), True),
        ("$", ("a",), False),
        ("$.*", ("a",), True),
        ("$.*", (0,), True),
    ],
)
def test_path_pattern_matches(pattern: str, path: tuple[Any, ...], matches: bool) -> None:
    assert PathPattern(pattern).matches(path) is matches


@pytest.mark.parametrize(
    ("pattern", "path", "could"),
    [
        ("items[*].name", (), True),
        ("items[*].name", ("items",), True),
        ("items[*].name", ("items", 2), True),
        ("items[*].name", ("other",), False),
        ("items[*].name", ("items", 2, "name", "deeper"), False),
        ("$..content", ("x", 1, 2), True),
    ],
)
def test_path_pattern_could_match_below(pattern: str, path: tuple[Any, ...], could: bool) -> None:
    assert PathPattern(pattern).could_match_below(path) is could


@given(PATHS)
def test_a_concrete_path_pattern_matches_exactly_its_own_path(path: tuple[Any, ...]) -> None:
    pat = PathPattern(to_jsonpath(path))
    assert pat.matches(path)
    assert not pat.matches((*path, "x"))
    assert pat.could_match_below(path[:-1]) if path else True
    if path:
        assert not pat.matches(path[:-1])


@pytest.mark.parametrize("bad", ["$.a[", "$['a", "a..", "$.a]b", "$[x]"])
def test_bad_patterns_raise_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        PathPattern(bad)

