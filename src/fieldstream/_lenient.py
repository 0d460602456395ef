"""Lenient front filter for LLM output: find the JSON inside prose and code fences.

Language models often wrap the JSON they were asked for::

    Sure! Here is the story:
    ```json
    {"title": "Dune"}
    ```
    Let me know if you want changes.

:class:`LenientFilter` sits in front of a core :class:`~fieldstream.Parser` (stdlib only, usable on
its own). It skips everything before the first ``{`` or ``[`` (an opening ```` ``` ```` fence and its
info string such as ``json`` are skipped with it), forwards the JSON text unchanged, and once the
top-level object/array is closed skips the rest (a closing fence, trailing prose). Skipped text is
reported as ``(text, pos)`` pairs with absolute offsets in the raw stream; JSON positions reported by
the parser are relative to :attr:`LenientFilter.offset`.

The end of the document is found with a light scanner that tracks strings, escapes and bracket depth;
it never validates (the parser does that), so malformed JSON is still reported by the parser.
"""

from __future__ import annotations

import codecs
import re

from ._errors import ErrorKind, StreamError

__all__ = ["LenientFilter"]

_START = re.compile(r"[{\[]")
_OUTSIDE = re.compile(r'[{}\[\]"]')
_INSIDE = re.compile(r'["\\]')

# Filter states.
_PROSE = 0  # before the JSON
_JSON = 1  # inside the JSON document
_AFTER = 2  # after the JSON document


class LenientFilter:
    """Split a raw model output stream into JSON text and skipped text.

        >>> f = LenientFilter()
        >>> f.feed('Here you go:\\n```json\\n{"a": [1')
        ('{"a": [1', [('Here you go:\\n```json\\n', 0)])
        >>> f.feed(']}\\n```\\nBye')
        (']}', [('\\n```\\nBye', 31)])
        >>> f.offset
        21
    """

    __slots__ = ("_bad", "_decoder", "_depth", "_esc", "_instr", "_line", "_linestart", "_pos", "_state",
                 "offset")

    def __init__(self) -> None:
        self._state = _PROSE
        self._pos = 0  # raw characters seen
        self._depth = 0
        self._instr = False
        self._esc = False
        self._decoder: codecs.IncrementalDecoder | None = None
        # invalid UTF-8 right after the text returned last (reason, cut at the end): raised next
        self._bad: tuple[str, bool] | None = None
        self._line = 1  # line and start of the current line (raw characters), for error positions
        self._linestart = 0
        self.offset = 0  #: absolute position of the first JSON character

    @property
    def done(self) -> bool:
        """True once the top-level JSON value was closed."""
        return self._state == _AFTER

    def feed(self, chunk: str | bytes) -> tuple[str, list[tuple[str, int]]]:
        """Return ``(json_text, skipped)`` for the next raw delta; ``skipped`` is ``[(text, pos)]``."""
        self.check()
        if isinstance(chunk, (bytes, bytearray, memoryview)):
            if self._decoder is None:
                self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
            try:
                chunk = self._decoder.decode(bytes(chunk), False)
            except UnicodeDecodeError as exc:
                chunk = self._invalid(exc, final=False)
        base = self._pos
        self._pos += len(chunk)
        nl = chunk.rfind("\n")
        if nl >= 0:
            self._line += chunk.count("\n")
            self._linestart = base + nl + 1
        skipped: list[tuple[str, int]] = []
        i = 0
        if self._state == _PROSE:
            m = _START.search(chunk)
            if m is None:
                if chunk:
                    skipped.append((chunk, base))
                return "", skipped
            i = m.start()
            if i:
                skipped.append((chunk[:i], base))
            self.offset = base + i
            self._state = _JSON
        if self._state == _AFTER:
            if chunk:
                skipped.append((chunk, base))
            return "", skipped
        end = self._scan(chunk, i)
        if end < 0:
            return chunk[i:], skipped
        if end < len(chunk):
            skipped.append((chunk[end:], base + end))
        return chunk[i:end], skipped

    def close(self) -> tuple[str, list[tuple[str, int]]]:
        """End of input: flush a pending partial UTF-8 sequence (rarely anything).

        Bytes that are not UTF-8 raise :class:`~fieldstream.StreamError` like the strict parser's
        (``invalid_utf8``; ``incomplete`` for bytes cut inside a character of an unfinished string),
        at the raw position after the valid text, which the filter returns first: call
        :meth:`check` after feeding that text to the parser, so a JSON error inside it wins.
        """
        self.check()
        if self._decoder is not None:
            try:
                rest = self._decoder.decode(b"", True)
            except UnicodeDecodeError as exc:
                rest = self._invalid(exc, final=True)
            pending, self._bad = self._bad, None
            out = self.feed(rest) if rest else ("", [])
            self._bad = pending
            return out
        return "", []

    def check(self) -> None:
        """Raise the invalid-UTF-8 error found after the text returned last, if any."""
        bad = self._bad
        if bad is None:
            return
        self._bad = None
        reason, truncated = bad
        # the valid text before the bad bytes was scanned last: the error is at the position after it
        pos, line, col = self._pos, self._line, self._pos - self._linestart + 1
        if truncated and self._state == _JSON and self._instr:  # cut inside a character of an open string
            raise StreamError(ErrorKind.INCOMPLETE, "Unexpected end of input inside a UTF-8 sequence",
                              pos=pos, line=line, col=col)
        raise StreamError(ErrorKind.INVALID_UTF8, f"Invalid UTF-8 ({reason})", pos=pos, line=line, col=col)

    def _invalid(self, exc: UnicodeDecodeError, *, final: bool) -> str:
        """Keep the error for :meth:`check`; return the valid text before the bad bytes."""
        self._decoder = None  # nothing after the bad bytes is read
        self._bad = (exc.reason, final and exc.end == len(exc.object))
        return exc.object[:exc.start].decode("utf-8")

    def _scan(self, s: str, i: int) -> int:
        """Track depth from ``s[i]``; return the index just after the closing bracket, or -1."""
        depth = self._depth
        instr = self._instr
        n = len(s)
        if self._esc and i < n:
            self._esc = False
            i += 1
        while i < n:
            if instr:
                m = _INSIDE.search(s, i)
                if m is None:
                    break
                i = m.end()
                if m.group() == "\\":
                    if i >= n:
                        self._esc = True
                        break
                    i += 1
                else:
                    instr = False
                continue
            m = _OUTSIDE.search(s, i)
            if m is None:
                break
            c = m.group()
            i = m.end()
            if c == '"':
                instr = True
            elif c in "{[":
                depth += 1
            else:
                depth -= 1
                if depth <= 0:
                    self._depth = 0
                    self._instr = False
                    self._state = _AFTER
                    return i
        self._depth = depth
        self._instr = instr
        return -1
