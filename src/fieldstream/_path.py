"""JSON paths: tuples of ``str | int`` (pydantic's ``loc`` shape) and their renderings.

* dotted, as agent frameworks print it: ``final_result.items[0].name`` (root: ``""``);
* RFC 9535 JSONPath: ``$.items[0].name``, ``$['a key']`` for keys that need quoting;
* RFC 6901 JSON Pointer: ``/items/0/name`` with ``~0``/``~1`` escaping (root: ``""``).

:class:`PathPattern` matches paths against patterns with wildcards: ``items[*].name``,
``$.items[*].name``, ``$..content`` (any depth), ``/items/*/name``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = [
    "Path",
    "PathPattern",
    "parse_path",
    "to_dotted",
    "to_jsonpath",
    "to_pointer",
]

Path = tuple[str | int, ...]

_SHORTHAND = re.compile(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*\Z")


def _quote(key: str) -> str:
    out = ["'"]
    for ch in key:
        if ch == "'":
            out.append("\\'")
        elif ch == "\\":
            out.append("\\\\")
        elif ch < " ":
            esc = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch)
            out.append(esc if esc else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)



@lru_cache(maxsize=4096)
def to_dotted(path: Path) -> str:
    """Render ``("final_result", "items", 0, "name")`` as ``final_result.items[0].name``.

    Keys that are not plain identifiers are bracket-quoted: ``a['b.c']``. The root is ``""``.
    """
    parts: list[str] = []
    for seg in path:
        if isinstance(seg, int):
            parts.append(f"[{seg}]")
        elif _SHORTHAND.match(seg):
            parts.append(f".{seg}" if parts else seg)
        else:
            parts.append(f"[{_quote(seg)}]")
    return "".join(parts)


@lru_cache(maxsize=4096)
def to_jsonpath(path: Path) -> str:
    """Render a path as an RFC 9535 normalized-style JSONPath: ``$.items[0].name``, ``$['a b']``."""
    parts = ["$"]
    for seg in path:
        if isinstance(seg, int):
            parts.append(f"[{seg}]")
        elif _SHORTHAND.match(seg):
            parts.append(f".{seg}")
        else:
            parts.append(f"[{_quote(seg)}]")
    return "".join(parts)


def to_pointer(path: Path) -> str:
    """Render a path as an RFC 6901 JSON Pointer: ``/items/0/name`` (root: ``""``)."""
    return "".join("/" + str(seg).replace("~", "~0").replace("/", "~1") for seg in path)


# --------------------------------------------------------------------------- patterns

_ANY = object()  # one segment, any key or index
_DEEP = object()  # zero or more segments

_Seg = str | int | object

_TOKEN = re.compile(
    r"""
    \.\.(?=\[)  # descendant, then a bracket segment
  | \.(?=\.[A-Za-z_*\u0080-\U0010ffff])  # descendant, then a .name / .* segment
  | \.(?P<name>[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)
  | \.\*
  | \[\s*(?P<idx>-?\d+)\s*\]
  | \[\s*\*\s*\]
  | \[\s*'(?P<sq>(?:[^'\\]|\\.)*)'\s*\]
  | \[\s*"(?P<dq>(?:[^"\\]|\\.)*)"\s*\]
    """,
    re.VERBOSE,
)


_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(text: str) -> str:
    """Decode the escapes of a quoted JSONPath name: ``\\n``, ``\\'``, ``\\uXXXX`` (pairs joined)."""

    def one(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] == "u" and len(esc) == 5:
            return chr(int(esc[1:], 16))
        return _SIMPLE_ESCAPES.get(esc, esc)

    out = re.sub(r"\\(u[0-9a-fA-F]{4}|.)", one, text, flags=re.S)
    # join surrogate pairs written as two \uXXXX escapes
    return out.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


def parse_path(text: str) -> tuple[_Seg, ...]:
    """Parse a path or pattern in any of the three renderings into segments.

    Accepts JSONPath (``$.a[0]``, ``$..a``, ``[*]``), dotted (``a.b[0]``, ``a[*].b``) and JSON
    Pointer (``/a/0``, ``*`` as a wildcard segment). Raises :class:`ValueError` on bad syntax.
    """
    if text == "" or text == "$":
        return ()
    if text.startswith("/"):
        segs: list[_Seg] = []
        for raw in text[1:].split("/"):
            seg = raw.replace("~1", "/").replace("~0", "~")
            if seg == "*":
                segs.append(_ANY)
            elif seg == "**":
                segs.append(_DEEP)
            elif seg.isdigit() and (seg == "0" or not seg.startswith("0")):
                segs.append(int(seg))
            else:
                segs.append(seg)
        return tuple(segs)
    if text.startswith("$"):
        rest = text[1:]
    elif text.startswith("[") or text.startswith(".."):
        rest = text
    else:
        rest = "." + text
    segs = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if m is None:
            raise ValueError(f"invalid path pattern {text!r} at offset {pos}")
        tok = m.group(0)
        if tok in ("..", "."):
            segs.append(_DEEP)
        elif tok == ".*" or tok.replace(" ", "") == "[*]":
            segs.append(_ANY)
        elif m.group("name") is not None:
            segs.append(m.group("name"))
        elif m.group("idx") is not None:
            segs.append(int(m.group("idx")))
        elif m.group("sq") is not None:
            segs.append(_unescape(m.group("sq")))
        else:
            segs.append(_unescape(m.group("dq") or ""))
        pos = m.end()
    return tuple(segs)


class PathPattern:
    """A path pattern with wildcards; ``pattern.matches(path)`` tests a concrete path.

    ``*`` / ``[*]`` matches one segment, ``..`` (or ``**`` in pointer form) any number of
    segments. ``PathPattern("items[*].name").matches(("items", 3, "name"))`` is true.
    """

    __slots__ = ("_cache", "_segs", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._segs = parse_path(text)
        self._cache: dict[Path, bool] = {}

    def __repr__(self) -> str:
        return f"PathPattern({self.text!r})"

    def matches(self, path: Path) -> bool:
        """True when ``path`` matches this pattern exactly (not a prefix)."""
        hit = self._cache.get(path)
        if hit is None:
            hit = _match(self._segs, 0, path, 0)
            if len(self._cache) < 65536:
                self._cache[path] = hit
        return hit

    def could_match_below(self, path: Path) -> bool:
        """True when some descendant of ``path`` (or ``path`` itself) could match."""
        return _prefix_ok(self._segs, 0, path, 0)


def _seg_eq(pat: _Seg, seg: str | int) -> bool:
    if pat is _ANY:
        return True
    if isinstance(pat, int) and isinstance(seg, int):
        return pat == seg if pat >= 0 else False
    return pat == seg and type(pat) is type(seg)


def _match(segs: tuple[_Seg, ...], i: int, path: Path, j: int) -> bool:
    # Iterative over the common case; recursion only at ``..`` (patterns are short).
    while i < len(segs):
        pat = segs[i]
        if pat is _DEEP:
            return any(_match(segs, i + 1, path, k) for k in range(j, len(path) + 1))
        if j >= len(path) or not _seg_eq(pat, path[j]):
            return False
        i += 1
        j += 1
    return j == len(path)


def _prefix_ok(segs: tuple[_Seg, ...], i: int, path: Path, j: int) -> bool:
    while j < len(path):
        if i >= len(segs):
            return False
        pat = segs[i]
        if pat is _DEEP:
            return True
        if not _seg_eq(pat, path[j]):
            return False
        i += 1
        j += 1
    return True


def compile_patterns(patterns: Iterable[str | PathPattern]) -> tuple[PathPattern, ...]:
    """Turn strings into :class:`PathPattern` objects (patterns pass through)."""
    return tuple(p if isinstance(p, PathPattern) else PathPattern(p) for p in patterns)
