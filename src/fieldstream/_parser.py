"""The resumable JSON parser: a sans-IO state machine fed with text deltas of any size.

This module is the hot loop (:class:`Parser`, its states and its token sub-machines). What is not
the hot loop lives beside it: UTF-8 decoding and the byte order mark in :mod:`._input`, snapshot
building (the open string, ``copy=True``) in :mod:`._partial`, the event types in :mod:`._events`,
the exception tree in :mod:`._errors`, the pull front ends in :mod:`._frontends`.

Design notes
------------
* One pass, never re-reads consumed input. Inside strings and whitespace the next special
  character is found with compiled regexes and the run is sliced once; complete simple tokens
  (strings without escapes, numbers, literals, ``"key":``) are matched whole when they lie inside
  the current chunk. Anything cut by a chunk boundary is finished by small explicit sub-state
  machines (string with pending escape / high surrogate, number grammar, literal prefix), so the
  result is identical for every chunking.
* Iterative: containers live on an explicit stack, so nesting depth is bounded only by
  ``max_depth`` (``None`` = unbounded), never by Python's recursion limit.
* The document is built in place as it is parsed: a container is inserted into its parent when it
  starts, a scalar when it completes. ``snapshot()`` therefore costs O(depth + open string).
* Errors: the kind depends only on the parser state and the offending character, both of which are
  the same for every chunking (see :class:`~fieldstream.ErrorKind`).
* Several documents (``multiple=True``) cost the single-document hot loop nothing: a document ends
  in :meth:`Parser._end_document` (once per document, where the state would become ``_END``), and the
  next one starts on the error path of ``_END`` (a non-whitespace character that a single-document
  parser would reject as trailing data).
"""

from __future__ import annotations

import json.decoder
import operator
import re
from collections.abc import Callable
from itertools import pairwise
from typing import Any, Final, NoReturn, SupportsIndex

from ._errors import ErrorKind, ParserClosedError, StreamError
from ._events import ROOT, DocumentDone, Event, ValueKind, _Loc, make_delta, make_done, make_start
from ._input import BOM, InvalidUtf8, Utf8Input
from ._partial import Container, deep_copy, settle_open_string
from ._path import Path

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_NUMBER_LENGTH", "DEFAULT_MAX_STRING_LENGTH", "Parser"]

DEFAULT_MAX_DEPTH: Final = 1024
DEFAULT_MAX_STRING_LENGTH: Final = 64 * 1024 * 1024
DEFAULT_MAX_NUMBER_LENGTH: Final = 4096

# Parser states (small ints: compared in the hot loop).
_VALUE: Final = 0  # a value is expected (document start, after ':' or after ',' in an array)
_VALUE_OR_CLOSE: Final = 1  # just after '['
_KEY_OR_CLOSE: Final = 2  # just after '{'
_KEY: Final = 3  # after ',' in an object
_COLON: Final = 4  # after a key
_AFTER: Final = 5  # after a value inside a container: ',' or the closing bracket
_END: Final = 6  # the document is complete: only whitespace may follow
_STRING: Final = 7  # inside a string value
_KEYSTRING: Final = 8  # inside an object key
_NUMBER: Final = 9  # inside a number
_LITERAL: Final = 10  # inside true / false / null
_DEAD: Final = 11  # failed: refuses all input

# Number sub-states.
_N_SIGN: Final = 0  # after '-'
_N_ZERO: Final = 1  # leading '0'            (final)
_N_INT: Final = 2  # integer digits          (final)
_N_DOT: Final = 3  # after '.'
_N_FRAC: Final = 4  # fraction digits         (final)
_N_E: Final = 5  # after 'e' / 'E'
_N_ESIGN: Final = 6  # after the exponent sign
_N_EXP: Final = 7  # exponent digits         (final)

_WS = re.compile(r"[ \t\n\r]*")
_RUN = re.compile(r'[^"\\\x00-\x1f]*')
_RUN_FULL = _RUN.fullmatch
# Complete string units: plain runs, whole simple escapes, whole \\u escapes that are not high
# surrogates, and whole surrogate pairs. A high surrogate not (yet) followed by its low half stops it.
_ESC_UNIT = (r'\\(?:["\\/bfnrt]|u(?![dD][89abAB])[0-9a-fA-F]{4}'
             r"|u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})")
# "Unrolled loop" form (runs separated by escapes): unambiguous, so backtracking stays linear.
_SEG = re.compile(rf'[^"\\\x00-\x1f]*(?:{_ESC_UNIT}[^"\\\x00-\x1f]*)*')
_seg_match = _SEG.match
_seg_full = _SEG.fullmatch
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_BIG: Final = 1 << 62
_DIGITS = re.compile(r"[0-9]*")
_NUM = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_KEY_COLON = re.compile(r'[ \t\n\r]*"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')
_COMMA_KEY_COLON = re.compile(r',[ \t\n\r]*"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')
_WS_CHARS: Final = frozenset(" \t\n\r")
_ws_match = _WS.match
_run_match = _RUN.match
_num_match = _NUM.match
_keycolon_match = _KEY_COLON.match
_commakey_match = _COMMA_KEY_COLON.match
_NUM_START: Final = frozenset("-0123456789")
_ESCAPES: Final = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_LITERALS: Final[dict[str, tuple[str, Any, ValueKind]]] = {
    "t": ("true", True, ValueKind.TRUE),
    "f": ("false", False, ValueKind.FALSE),
    "n": ("null", None, ValueKind.NULL),
}
_CONTEXT: Final = 32


def _limit(name: str, value: SupportsIndex | None) -> int | None:
    """A limit option: ``None`` or a positive int (else the documented ``ValueError``)."""
    if value is None:
        return None
    try:
        n = operator.index(value)
    except TypeError:
        n = 0
    if n < 1:
        raise ValueError(f"{name} must be a positive int or None, not {value!r}")
    return n


class Parser:
    """Incremental parser for one JSON document (RFC 8259, value-for-value like ``json.loads``).

    Feed it text (``str``) or UTF-8 ``bytes`` deltas split anywhere; each :meth:`feed` returns the
    events that the new input completed. :meth:`close` ends the input and raises
    :class:`~fieldstream.StreamError` (kind ``incomplete``) if the document is truncated.

    Args:
        max_depth: maximum nesting of arrays/objects (``None``: unbounded; the parser is iterative).
        max_string_length: maximum raw length of one string or key, in characters (``None``: no limit).
        max_number_length: maximum length of one number token (``None``: no limit; note that
            Python refuses to convert integers longer than ``sys.get_int_max_str_digits()``).
        max_size: maximum total characters of input (``None``: no limit). Protects against a
            stream that never ends.
        events: produce events (default). ``False`` only builds the value (what :func:`parse` uses).
        multiple: accept a stream of several documents (concatenated JSON, JSON Lines, or any
            whitespace between them), like ``json.JSONDecoder.raw_decode`` called in a loop. Each
            document's events are those of a single document (its root is ``()``), followed by a
            :class:`~fieldstream.DocumentDone` with the document's index. Two numbers need whitespace
            between them (``1 2`` is two documents, ``12`` one); other values may touch (``{}[]``).
            An empty stream is zero documents. Errors carry the index in ``StreamError.document``;
            positions, lines and columns count from the start of the stream.
    """

    __slots__ = (
        "_closed",
        "_decoder",
        "_doc",
        "_docs",
        "_error",
        "_ev",
        "_has_root",
        "_inserted",
        "_key",
        "_lines",
        "_lit",
        "_litn",
        "_locs",
        "_lstart",
        "_max_depth",
        "_max_number",
        "_max_size",
        "_max_string",
        "_mode",
        "_multiple",
        "_nparts",
        "_nst",
        "_nstart",
        "_pos",
        "_root",
        "_sesc",
        "_sfast",
        "_shi",
        "_slimit",
        "_sloc",
        "_sparts",
        "_sstrlim",
        "_st",
        "_stack",
        "_tail",
        "_vloc",
    )

    def __init__(
        self,
        *,
        max_depth: SupportsIndex | None = DEFAULT_MAX_DEPTH,
        max_string_length: SupportsIndex | None = DEFAULT_MAX_STRING_LENGTH,
        max_number_length: SupportsIndex | None = DEFAULT_MAX_NUMBER_LENGTH,
        max_size: SupportsIndex | None = None,
        events: bool = True,
        multiple: bool = False,
    ) -> None:
        # The limits are typed SupportsIndex (a protocol, unchecked at a compiled call boundary) so
        # that a bad value reaches the documented ValueError in the compiled build too.
        max_depth = _limit("max_depth", max_depth)
        max_string_length = _limit("max_string_length", max_string_length)
        max_number_length = _limit("max_number_length", max_number_length)
        max_size = _limit("max_size", max_size)
        if type(events) is not bool:
            raise TypeError(f"events must be a bool, not {events!r}")
        self._max_depth = max_depth
        # The string and number limits are plain ints (_BIG when unbounded): compared in the hot loop.
        self._max_string: int = max_string_length if max_string_length is not None else _BIG
        self._max_number: int = max_number_length if max_number_length is not None else _BIG
        self._max_size = max_size
        self._ev: list[Event] | None = [] if events else None
        self._st = _VALUE
        self._stack: list[Container] = []
        self._locs: list[_Loc] = []  # event mode: location of each stacked container
        self._key: str = ""  # the pending key of the innermost object
        self._root: Any = None
        self._has_root = False
        self._pos = 0  # characters consumed before the current chunk
        self._lines = 0  # newlines before the current chunk
        self._lstart = 0  # absolute position where the current line starts
        self._tail = ""  # the last characters before the current chunk (error context)
        self._error: StreamError | None = None
        self._closed = False
        self._decoder: Utf8Input | None = None  # bytes mode only
        self._mode: type | None = None  # str or bytes, fixed by the first feed
        # open string
        self._sparts: list[str] = []
        self._sesc = ""
        self._shi = ""
        self._slimit = 0  # absolute position the open string may not pass (string limit and max_size)
        self._sstrlim = 0  # absolute position the open string may not pass (string limit)
        self._sfast = False  # in a string value with nothing pending: feed() may take its fast path
        self._sloc: _Loc = ROOT
        self._inserted = False
        # open number / literal
        self._nparts: list[str] = []
        self._nst = _N_SIGN
        self._nstart = 0
        self._lit = ""
        self._litn = 0
        self._vloc: _Loc = ROOT
        # several documents
        self._multiple = multiple
        self._doc = 0  # index of the current (or just completed) document
        self._docs: list[Any] | None = None  # parse(multiple=True): the completed documents

    # ------------------------------------------------------------------ public API

    def feed(self, chunk: str | bytes | bytearray | memoryview) -> list[Event]:
        """Consume the next delta; return the events it completed (``[]`` with ``events=False``)."""
        if self._sfast and type(chunk) is str:
            # Fast path for the LLM case: a delta that is nothing but more text of the open string.
            raw = chunk
            n = len(chunk)
            end = self._pos + n
            if n and end <= self._slimit and _seg_full(chunk) is not None:
                if "\\" in chunk:
                    chunk = _scanstring(chunk + '"', 0)[0]
                self._sparts.append(chunk)
                self._pos = end
                tail = self._tail + raw
                self._tail = tail if len(tail) <= 2 * _CONTEXT else tail[-_CONTEXT:]
                if self._ev is None:
                    return []
                return [make_delta(self._sloc, chunk)]
        if self._closed or self._error is not None:
            self._refuse()
        self._consume(chunk if type(chunk) is str and self._mode is str else self._to_text(chunk))
        ev = self._ev
        if ev:
            self._ev = []
            return ev
        return []

    def _to_text(self, chunk: str | bytes | bytearray | memoryview) -> str:
        if isinstance(chunk, str):
            if self._mode is bytes:
                raise TypeError("this parser was fed bytes; feed bytes only (or use a new Parser)")
            self._mode = str
            return chunk
        if isinstance(chunk, (bytes, bytearray, memoryview)):
            if self._mode is str:
                raise TypeError("this parser was fed str; feed str only (or use a new Parser)")
            if self._mode is None:
                self._mode = bytes
                self._decoder = Utf8Input()
            return self._decode(bytes(chunk), final=False)
        raise TypeError(f"feed() takes str or bytes, not {type(chunk).__name__}")

    def close(self) -> list[Event]:
        """End of input: return the remaining events, or raise if the document is incomplete."""
        if self._closed or self._error is not None:
            self._refuse()
        if self._decoder is not None:
            rest = self._decode(b"", final=True)
            if rest:
                self._consume(rest)
        if self._st == _NUMBER and self._nst in (_N_ZERO, _N_INT, _N_FRAC, _N_EXP):
            self._finish_number("")
        if self._st != _END and not (self._multiple and self._st == _VALUE and not self._has_root):
            what = "document" if not self._has_root and not self._stack else "JSON value"
            self._fail(ErrorKind.INCOMPLETE, f"Unexpected end of input: incomplete {what}", "", 0)
        self._closed = True
        return self._take_events()

    def snapshot(self, *, copy: bool = False) -> Any:
        """The document so far: completed members, the open string's text, no partial numbers.

        By default the parser's live structure is returned (O(depth + open string)): later
        input keeps updating it in place. ``copy=True`` returns an independent deep copy (O(size)).
        Returns ``None`` before any value has started (and for an unfinished root scalar).
        """
        if copy is not False and copy is not True:  # (what a compiled build's call checks too)
            raise TypeError(f"copy must be a bool, not {copy!r}")
        if self._st == _STRING:
            stack = self._stack
            text, self._inserted = settle_open_string(self._sparts, stack[-1] if stack else None,
                                                      self._key, self._inserted)
            if not stack:
                return text
        if not self._has_root:
            return None
        return deep_copy(self._root) if copy else self._root

    @property
    def done(self) -> bool:
        """True once the top-level value is complete (trailing whitespace may still follow).

        With ``multiple=True``: the current document is complete and the next has not started.
        """
        return self._st == _END

    @property
    def document(self) -> int:
        """``multiple=True``: 0-based index of the document being parsed (or just completed)."""
        return self._doc

    @property
    def value(self) -> Any:
        """The complete document. Raises :class:`StreamError` (incomplete) before it is done."""
        if self._st != _END:
            raise StreamError(ErrorKind.INCOMPLETE, "the document is not complete yet",
                              pos=self._pos, line=self._lines + 1, col=self._pos - self._lstart + 1)
        return self._root

    @property
    def position(self) -> int:
        """Number of characters consumed so far."""
        return self._pos

    @property
    def depth(self) -> int:
        """Current nesting depth (open arrays/objects)."""
        return len(self._stack)

    @property
    def path(self) -> Path:
        """Path of the value currently being parsed (or expected next)."""
        return self._current_path()

    # ------------------------------------------------------------------ internals

    def _take_events(self) -> list[Event]:
        ev = self._ev
        if ev is None:
            return []
        if not ev:
            return []
        self._ev = []
        return ev

    def _refuse(self) -> NoReturn:
        err = self._error
        if err is not None:
            raise ParserClosedError(
                ErrorKind.CLOSED, f"parser already failed ({err.kind.value} at char {err.pos}); "
                "create a new Parser", pos=err.pos, line=err.line, col=err.col, path=err.path,
                document=err.document,
            ) from err
        raise ParserClosedError(ErrorKind.CLOSED, "parser is closed; create a new Parser",
                                pos=self._pos, line=self._lines + 1, col=self._pos - self._lstart + 1)

    def _decode(self, data: bytes, *, final: bool) -> str:
        """Decode bytes (see :mod:`._input`); a dropped BOM counts as one character of input."""
        dec = self._decoder
        assert dec is not None
        try:
            text, bom = dec.decode(data, final=final)
        except InvalidUtf8 as exc:
            # Everything before the bad byte is valid: run it (a JSON error there wins), then
            # report the invalid UTF-8 at the character position right after it.
            self._decoder = None
            if exc.bom:
                self._advance(BOM)
            self._consume(exc.good)
            if exc.truncated and self._st in (_STRING, _KEYSTRING):
                # The bytes stop inside a character of a string that is itself unfinished.
                self._fail(ErrorKind.INCOMPLETE, "Unexpected end of input inside a UTF-8 sequence", "", 0)
            self._fail(ErrorKind.INVALID_UTF8, f"Invalid UTF-8 ({exc.reason})", "", 0)
        if bom:
            self._advance(BOM)
        return text

    def _consume(self, text: str) -> None:
        maxsize = self._max_size
        if maxsize is not None and self._pos + len(text) > maxsize:
            allowed = maxsize - self._pos
            self._run(text[:allowed])
            self._advance(text[:allowed])
            self._fail(ErrorKind.SIZE_LIMIT, f"Document exceeds max_size={maxsize} characters", "", 0)
        self._run(text)
        self._advance(text)

    def _advance(self, s: str) -> None:
        n = len(s)
        last_nl = s.rfind("\n")
        if last_nl >= 0:
            self._lines += s.count("\n")
            self._lstart = self._pos + last_nl + 1
        self._pos += n
        tail = self._tail + s
        self._tail = tail if len(tail) <= 2 * _CONTEXT else tail[-_CONTEXT:]

    def _current_path(self) -> Path:
        # Derived from the stack on demand (errors only): an open child container is the last
        # element of a parent array, and the entry of a parent object that *is* it.
        st = self._st
        stack = self._stack
        path: list[str | int] = []
        for parent, child in pairwise(stack):
            if isinstance(parent, list):
                path.append(len(parent) - 1)
            else:
                path.append(next(k for k, v in reversed(parent.items()) if v is child))
        if stack:
            top = stack[-1]
            if type(top) is dict:
                if st in (_VALUE, _STRING, _NUMBER, _LITERAL):
                    path.append(self._key)
            elif st in (_VALUE, _VALUE_OR_CLOSE, _STRING, _NUMBER, _LITERAL):
                n = len(top)
                path.append(n - 1 if st == _STRING and self._inserted else n)
        return tuple(path)

    def _fail(self, kind: ErrorKind, msg: str, s: str, i: int) -> NoReturn:
        """Raise a StreamError for the character at index ``i`` of the chunk ``s`` being run."""
        pos = self._pos + i
        nl = s.count("\n", 0, i) if i > 0 else 0
        if nl:
            line = self._lines + nl + 1
            col = i - s.rfind("\n", 0, i)
        else:  # (a negative i points back into a number token: no newline in between)
            line = self._lines + 1
            col = max(pos - self._lstart, 0) + 1
        src = self._tail + s[: i + _CONTEXT] if i > 0 else self._tail + s[:_CONTEXT]
        at = max(len(self._tail) + i, 0)
        before = src[max(0, at - _CONTEXT):at]
        context = before + src[at:at + _CONTEXT]
        err = StreamError(kind, msg, pos=pos, line=line, col=col, path=self._current_path(),
                          context=context, context_offset=len(before),
                          document=self._doc if self._multiple else None)
        self._error = err
        self._st = _DEAD
        self._sfast = False
        raise err

    def _fail_syntax(self, st: int, top: Any, s: str, i: int) -> NoReturn:
        """Raise for the character ``s[i]`` that state ``st`` cannot take (``top``: the innermost
        open container). The kind depends only on the state and that character, both the same for
        every chunking, so the kind is chunk-independent like the position."""
        self._st = st
        c = s[i]
        if st == _AFTER:
            closer, what = ("]", "an array item") if type(top) is list else ("}", "an object member")
            self._fail(ErrorKind.EXPECTED_COMMA_OR_CLOSE, f"Expecting ',' or '{closer}' after {what}", s, i)
        if st == _VALUE and type(top) is list and c == "]":  # _VALUE in an array: right after a ','
            self._fail(ErrorKind.TRAILING_COMMA, "Trailing comma before ']'", s, i)
        if st == _KEY and c == "}":  # _KEY: right after a ',' in an object
            self._fail(ErrorKind.TRAILING_COMMA, "Trailing comma before '}'", s, i)
        if st in (_VALUE, _VALUE_OR_CLOSE):
            self._fail(ErrorKind.EXPECTED_VALUE, "Expecting value", s, i)
        if st in (_KEY, _KEY_OR_CLOSE):
            self._fail(ErrorKind.EXPECTED_KEY, "Expecting property name enclosed in double quotes", s, i)
        if st == _COLON:
            self._fail(ErrorKind.EXPECTED_COLON, "Expecting ':' delimiter after the key", s, i)
        self._fail(ErrorKind.TRAILING_DATA, "Extra data after the JSON document", s, i)

    def _push(self, container: Container, kind: ValueKind, s: str, i: int) -> None:
        stack = self._stack
        if self._max_depth is not None and len(stack) >= self._max_depth:
            self._fail(ErrorKind.DEPTH_LIMIT, f"Nesting deeper than max_depth={self._max_depth}", s, i)
        ev = self._ev
        if not stack:
            self._root = container
            self._has_root = True
            if ev is not None:
                self._locs.append(ROOT)
                ev.append(make_start(ROOT, kind))
            stack.append(container)
            return
        top = stack[-1]
        key: str | int
        if type(top) is dict:
            key = self._key
            top[key] = container
        else:
            key = len(top)
            top.append(container)  # type: ignore[union-attr]
        if ev is not None:
            loc = [self._locs[-1], key, None]
            self._locs.append(loc)
            ev.append(make_start(loc, kind))
        stack.append(container)

    def _close_container(self, top: Container) -> int:
        """Pop the finished container ``top``; return the next state."""
        stack = self._stack
        stack.pop()
        if self._ev is not None:
            self._ev.append(make_done(self._locs.pop(), top))
        return _AFTER if stack else self._end_document()

    def _end_document(self) -> int:
        """The root value is complete (``_root`` is set): return ``_END``. Once per document."""
        if self._multiple:
            if self._ev is not None:
                self._ev.append(DocumentDone(self._doc, self._root))
            if self._docs is not None:
                self._docs.append(self._root)
        return _END

    def _next_document(self, s: str, i: int) -> int:
        """``multiple=True``: the non-whitespace character ``s[i]`` after a complete document starts
        the next one. A number right after a number would read as one (``12``): that needs whitespace."""
        root = self._root
        if s[i] in _NUM_START and type(root) in (int, float) and \
                (s[i - 1] if i > 0 else self._tail[-1:]) not in _WS_CHARS:
            self._fail(ErrorKind.INVALID_NUMBER, "Expecting whitespace between two numbers", s, i)
        self._doc += 1
        self._root = None
        self._has_root = False
        self._key = ""
        self._inserted = False
        return _VALUE

    def _new_loc(self) -> _Loc:
        """Location of a scalar about to start (event mode only)."""
        stack = self._stack
        if not stack:
            return ROOT
        top = stack[-1]
        return [self._locs[-1], self._key if type(top) is dict else len(top), None]

    def _put(self, value: Any) -> int:
        """Store a completed scalar in its parent; return the next state."""
        stack = self._stack
        if not stack:
            self._root = value
            self._has_root = True
            return self._end_document()
        top = stack[-1]
        if type(top) is dict:
            top[self._key] = value
        elif self._inserted:
            top[-1] = value  # type: ignore[index]
        else:
            top.append(value)  # type: ignore[union-attr]
        return _AFTER

    # ------------------------------------------------------------------ the main loop

    def _run(self, s: str) -> None:
        n = len(s)
        i = 0
        st = self._st
        stack = self._stack
        ev = self._ev
        maxstr = self._max_string
        maxnum = self._max_number
        top: Any = stack[-1] if stack else None
        while i < n:
            if st >= _STRING:
                self._st = st
                if st in (_STRING, _KEYSTRING):
                    i = self._string(s, i)
                elif st == _NUMBER:
                    i = self._number(s, i)
                else:
                    i = self._literal(s, i)
                st = self._st
                top = stack[-1] if stack else None
                continue
            c = s[i]
            if c in _WS_CHARS:
                i += 1
                if i >= n:
                    break
                c = s[i]
                if c in _WS_CHARS:
                    i = _ws_match(s, i).end()  # type: ignore[union-attr]
                    if i >= n:
                        break
                    c = s[i]
            if st == _AFTER:
                if c == ",":
                    if type(top) is list:
                        st = _VALUE
                        i += 1
                        continue
                    m = _commakey_match(s, i)
                    if m is not None and len(m.group(1)) <= maxstr:
                        self._key = m.group(1)
                        st = _VALUE
                        i = m.end()
                    else:
                        st = _KEY
                        i += 1
                    continue
                if c == ("]" if type(top) is list else "}"):
                    st = self._close_container(top)
                    top = stack[-1] if stack else None
                    i += 1
                    continue
                self._fail_syntax(st, top, s, i)
            if st <= _VALUE_OR_CLOSE:
                if c == '"':
                    j = _run_match(s, i + 1).end()  # type: ignore[union-attr]
                    if j < n and s[j] == '"' and j - i - 1 <= maxstr:
                        value: Any = s[i + 1:j]
                        i = j + 1
                        if ev is not None:
                            loc = self._new_loc()
                            ev.append(make_start(loc, ValueKind.STRING))
                            if value:
                                ev.append(make_delta(loc, value))
                            ev.append(make_done(loc, value))
                    else:
                        self._st = _STRING
                        self._begin_string(i)
                        i += 1
                        st = _STRING
                        continue
                elif c in _NUM_START:
                    m = _num_match(s, i)
                    j = m.end() if m is not None else i
                    if j < n and j > i and s[j] not in ".eE" and j - i <= maxnum:
                        self._st = st
                        text = m.group()  # type: ignore[union-attr]
                        value = float(text) if m.lastindex != 1 else self._convert_int(text, s, i)  # type: ignore[union-attr]
                        if ev is not None:
                            loc = self._new_loc()
                            ev.append(make_start(loc, ValueKind.NUMBER))
                            ev.append(make_done(loc, value))
                        i = j
                    else:
                        self._st = st
                        self._begin_number(s, i)
                        st = _NUMBER
                        continue
                elif c == "{":
                    self._st = st
                    self._push({}, ValueKind.OBJECT, s, i)
                    top = stack[-1]
                    i += 1
                    m = _keycolon_match(s, i)
                    if m is not None:
                        k = m.group(1)
                        if len(k) <= maxstr:
                            self._key = k
                            st = _VALUE
                            i = m.end()
                            continue
                    st = _KEY_OR_CLOSE
                    continue
                elif c == "[":
                    self._st = st
                    self._push([], ValueKind.ARRAY, s, i)
                    top = stack[-1]
                    st = _VALUE_OR_CLOSE
                    i += 1
                    continue
                elif c == "]" and st == _VALUE_OR_CLOSE:
                    st = self._close_container(top)
                    top = stack[-1] if stack else None
                    i += 1
                    continue
                else:
                    lit = _LITERALS.get(c)
                    if lit is None:
                        self._fail_syntax(st, top, s, i)
                    word, value, kind = lit
                    if not s.startswith(word, i):
                        self._st = st
                        self._begin_literal(word, kind, i)
                        st = _LITERAL
                        continue
                    i += len(word)
                    if ev is not None:
                        loc = self._new_loc()
                        ev.append(make_start(loc, kind))
                        ev.append(make_done(loc, value))
                # a complete scalar: store it in its parent
                if top is None:
                    self._root = value
                    self._has_root = True
                    st = self._end_document()
                elif type(top) is dict:
                    top[self._key] = value
                    st = _AFTER
                    if i < n and s[i] == ",":  # fused: the next ',"key":' right away
                        m = _commakey_match(s, i)
                        if m is not None:
                            k = m.group(1)
                            if len(k) <= maxstr:
                                self._key = k
                                st = _VALUE
                                i = m.end()
                else:
                    top.append(value)
                    if i < n and s[i] == ",":
                        st = _VALUE
                        i += 1
                    else:
                        st = _AFTER
                continue
            if st in (_KEY, _KEY_OR_CLOSE):
                if c == '"':
                    m = _keycolon_match(s, i)
                    if m is not None and len(m.group(1)) <= maxstr:
                        self._key = m.group(1)
                        st = _VALUE
                        i = m.end()
                        continue
                    self._st = _KEYSTRING
                    self._begin_string(i)
                    st = _KEYSTRING
                    i += 1
                    continue
                if c == "}" and st == _KEY_OR_CLOSE:
                    st = self._close_container(top)
                    top = stack[-1] if stack else None
                    i += 1
                    continue
                self._fail_syntax(st, top, s, i)
            if st == _COLON and c == ":":
                st = _VALUE
                i += 1
                continue
            if st == _END and self._multiple:
                st = self._next_document(s, i)
                continue
            self._fail_syntax(st, top, s, i)  # _COLON without ':', or _END
        self._st = st

    # ------------------------------------------------------------------ strings

    def _begin_string(self, i: int) -> None:
        self._sparts = []
        self._sesc = ""
        self._shi = ""
        self._inserted = False
        strlim = self._pos + i + 1 + self._max_string
        self._sstrlim = strlim
        self._slimit = strlim if self._max_size is None else min(strlim, self._max_size)
        if self._st == _STRING and self._ev is not None:
            loc = self._new_loc()
            self._sloc = loc
            self._ev.append(make_start(loc, ValueKind.STRING))

    def _string(self, s: str, i: int) -> int:
        """Continue the open string (value or key) from ``s[i]``; return the next index."""
        if self._sesc or self._shi:
            return self._string_general(s, i, [])
        # Common case: complete units (plain runs, whole escapes, whole surrogate pairs) up to the
        # end of the chunk or the closing quote, decoded by the C ``scanstring`` of the json module.
        j = _seg_match(s, i).end()  # type: ignore[union-attr]
        n = len(s)
        piece = ""
        if j > i:
            if self._pos + j > self._sstrlim:
                self._fail_string_limit(s)
            piece = s[i:j]
            if "\\" in piece:
                piece = _scanstring(piece + '"', 0)[0]
        if j < n and s[j] != '"':  # an escape cut by the chunk end, a lone high surrogate, an error
            return self._string_general(s, j, [piece] if piece else [])
        parts = self._sparts
        is_value = self._st == _STRING
        if piece:
            parts.append(piece)
            if is_value and self._ev is not None:
                self._ev.append(make_delta(self._sloc, piece))
        if j >= n:
            self._sfast = is_value and self._mode is str
            return j
        self._sfast = False
        self._close_string(is_value)
        return j + 1

    def _close_string(self, is_value: bool) -> None:
        """The closing quote arrived: store the value (or the key) and move on."""
        parts = self._sparts
        text = parts[0] if len(parts) == 1 else "".join(parts)
        self._sparts = []
        if is_value:
            if self._ev is not None:
                self._ev.append(make_done(self._sloc, text))
            self._st = self._put(text)
            self._inserted = False
        else:
            self._key = text
            self._st = _COLON

    def _string_general(self, s: str, i: int, new: list[str]) -> int:
        """:meth:`_string` character by character: escapes cut by a chunk boundary, a held-back
        high surrogate, and errors (exact positions). ``new`` is text already decoded this call."""
        n = len(s)
        esc = self._sesc
        hi = self._shi
        limit_at = self._sstrlim
        base = self._pos
        closed = False
        try:
            while i < n:
                if esc:
                    c = s[i]
                    if esc == "\\":
                        if c == "u":
                            esc = "\\u"
                        else:
                            dec = _ESCAPES.get(c)
                            if dec is None:
                                self._fail(ErrorKind.INVALID_ESCAPE, f"Invalid escape \\{c}", s, i)
                            if hi:
                                new.append(hi)
                                hi = ""
                            new.append(dec)
                            esc = ""
                    else:
                        if c not in _HEX:
                            self._fail(ErrorKind.INVALID_ESCAPE, "Invalid \\uXXXX escape", s, i)
                        esc += c
                        if len(esc) == 6:
                            code = int(esc[2:], 16)
                            esc = ""
                            if hi:
                                if 0xDC00 <= code <= 0xDFFF:
                                    new.append(chr(0x10000 + ((ord(hi) - 0xD800) << 10) + (code - 0xDC00)))
                                    hi = ""
                                    code = -1
                                else:
                                    new.append(hi)
                                    hi = ""
                            if code >= 0:
                                if 0xD800 <= code <= 0xDBFF:
                                    hi = chr(code)
                                else:
                                    new.append(chr(code))
                    i += 1
                    if limit_at < base + i:
                        self._fail_string_limit(s)
                    continue
                j = _RUN.match(s, i).end()  # type: ignore[union-attr]
                if j > i:
                    if limit_at < base + j:
                        self._fail_string_limit(s)
                    if hi:
                        new.append(hi)
                        hi = ""
                    new.append(s[i:j])
                    i = j
                    if i >= n:
                        break
                c = s[i]
                if c == '"':
                    if hi:
                        new.append(hi)
                        hi = ""
                    closed = True
                    i += 1
                    break
                if c == "\\":
                    esc = "\\"
                    i += 1
                    if limit_at < base + i:
                        self._fail_string_limit(s)
                    continue
                self._fail(ErrorKind.CONTROL_CHARACTER,
                           f"Invalid control character {c!r} in string", s, i)
        finally:
            self._sesc = esc
            self._shi = hi
        parts = self._sparts
        is_value = self._st == _STRING
        self._sfast = is_value and not closed and not esc and not hi and self._mode is str
        if new:
            delta = new[0] if len(new) == 1 else "".join(new)
            parts.append(delta)
            if is_value and self._ev is not None:
                self._ev.append(make_delta(self._sloc, delta))
        if closed:
            self._close_string(is_value)
        return i

    def _fail_string_limit(self, s: str) -> NoReturn:
        at = self._sstrlim - self._pos
        self._fail(ErrorKind.STRING_LIMIT,
                   f"String longer than max_string_length={self._max_string}", s, max(at, 0))

    # ------------------------------------------------------------------ numbers

    def _begin_number(self, s: str, i: int) -> None:
        self._nparts = []
        self._nst = -1
        self._nstart = self._pos + i
        if self._ev is not None:
            loc = self._new_loc()
            self._vloc = loc
            self._ev.append(make_start(loc, ValueKind.NUMBER))
        self._st = _NUMBER

    def _number(self, s: str, i: int) -> int:
        """Continue the number grammar from ``s[i]``; return the next index."""
        n = len(s)
        nst = self._nst
        start = i
        done = False
        while i < n:
            c = s[i]
            if nst == -1:  # first character
                if c == "-":
                    nst = _N_SIGN
                elif c == "0":
                    nst = _N_ZERO
                else:
                    nst = _N_INT
                i += 1
            elif nst == _N_SIGN:
                if c == "0":
                    nst = _N_ZERO
                elif "1" <= c <= "9":
                    nst = _N_INT
                else:
                    self._nst = nst
                    self._fail(ErrorKind.INVALID_NUMBER, "Expecting a digit after '-'", s, i)
                i += 1
            elif nst in (_N_INT, _N_FRAC, _N_EXP):
                j = _DIGITS.match(s, i).end()  # type: ignore[union-attr]
                if j > i:
                    i = j
                    continue
                if nst != _N_EXP and c == "." and nst == _N_INT:
                    nst = _N_DOT
                    i += 1
                elif nst != _N_EXP and c in "eE":
                    nst = _N_E
                    i += 1
                else:
                    done = True
                    break
            elif nst == _N_ZERO:
                if c == ".":
                    nst = _N_DOT
                    i += 1
                elif c in "eE":
                    nst = _N_E
                    i += 1
                else:
                    done = True
                    break
            elif nst == _N_DOT:
                if "0" <= c <= "9":
                    nst = _N_FRAC
                    i += 1
                else:
                    self._nst = nst
                    self._fail(ErrorKind.INVALID_NUMBER, "Expecting a digit after '.'", s, i)
            elif nst == _N_E:
                if c in "+-":
                    nst = _N_ESIGN
                elif "0" <= c <= "9":
                    nst = _N_EXP
                else:
                    self._nst = nst
                    self._fail(ErrorKind.INVALID_NUMBER, "Expecting a digit or sign in the exponent", s, i)
                i += 1
            else:  # _N_ESIGN
                if "0" <= c <= "9":
                    nst = _N_EXP
                    i += 1
                else:
                    self._nst = nst
                    self._fail(ErrorKind.INVALID_NUMBER, "Expecting a digit in the exponent", s, i)
            if self._pos + i - self._nstart > self._max_number:
                self._nst = nst
                self._fail(ErrorKind.NUMBER_LIMIT,
                           f"Number longer than max_number_length={self._max_number}",
                           s, self._nstart + self._max_number - self._pos)
        if self._pos + i - self._nstart > self._max_number:
            self._nst = nst
            self._fail(ErrorKind.NUMBER_LIMIT, f"Number longer than max_number_length={self._max_number}",
                       s, self._nstart + self._max_number - self._pos)
        self._nst = nst
        if i > start:
            self._nparts.append(s[start:i])
        if done:
            self._finish_number(s, i)
        return i

    def _finish_number(self, s: str, i: int = 0) -> None:
        text = "".join(self._nparts)
        self._nparts = []
        value = self._convert_number(text, self._nst in (_N_FRAC, _N_EXP), s, i)
        if self._ev is not None:
            self._ev.append(make_done(self._vloc, value))
        self._inserted = False
        self._st = self._put(value)

    def _convert_number(self, text: str, is_float: bool, s: str, i: int) -> Any:
        return float(text) if is_float else self._convert_int(text, s, i)

    def _convert_int(self, text: str, s: str, i: int) -> int:
        try:
            return int(text)
        except ValueError:  # longer than sys.get_int_max_str_digits()
            at = self._nstart - self._pos if self._st == _NUMBER else i  # the number's start
            self._fail(ErrorKind.NUMBER_LIMIT,
                       "Integer has more digits than Python converts (sys.get_int_max_str_digits())",
                       s, at)

    # ------------------------------------------------------------------ literals

    def _begin_literal(self, word: str, kind: ValueKind, i: int) -> None:
        self._lit = word
        self._litn = 0
        if self._ev is not None:
            loc = self._new_loc()
            self._vloc = loc
            self._ev.append(make_start(loc, kind))
        self._st = _LITERAL

    def _literal(self, s: str, i: int) -> int:
        word = self._lit
        k = self._litn
        n = len(s)
        while i < n and k < len(word):
            if s[i] != word[k]:
                self._fail(ErrorKind.INVALID_LITERAL, f"Invalid literal, expecting {word!r}", s, i)
            i += 1
            k += 1
        self._litn = k
        if k == len(word):
            value = {"true": True, "false": False, "null": None}[word]
            if self._ev is not None:
                self._ev.append(make_done(self._vloc, value))
            self._inserted = False
            self._st = self._put(value)
        return i

