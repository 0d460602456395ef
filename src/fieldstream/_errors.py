"""Exception tree and the closed set of error kinds.

Every error raised for bad input is a :class:`StreamError`, a :class:`ValueError` subclass (like
:class:`json.JSONDecodeError`) that carries:

* ``kind``: an :class:`ErrorKind` member (a closed set, never a message string to match on);
* ``pos``: absolute character offset in the whole stream. It is the length of the longest prefix of
  the input that is still a viable prefix of some valid JSON text, so it never depends on how the
  input was chunked;
* ``line`` (1-based) and ``col`` (1-based, like :class:`json.JSONDecodeError`);
* ``path``: the JSON path (a tuple of ``str | int``) of the value being parsed when it happened.

Hierarchy::

    ValueError
     └── StreamError            bad input, a limit, or use after failure/close
          └── ParserClosedError feed()/close() called on a parser that already failed or finished
"""

from __future__ import annotations

from enum import Enum

__all__ = ["ErrorKind", "ParserClosedError", "StreamError"]


class ErrorKind(str, Enum):
    """Why a stream was rejected. A closed set: match on these, not on messages."""

    UNEXPECTED_CHARACTER = "unexpected_character"
    INVALID_LITERAL = "invalid_literal"
    INVALID_NUMBER = "invalid_number"
    INVALID_ESCAPE = "invalid_escape"
    CONTROL_CHARACTER = "control_character"
    INVALID_UTF8 = "invalid_utf8"
    TRAILING_DATA = "trailing_data"
    INCOMPLETE = "incomplete"
    DEPTH_LIMIT = "depth_limit"
    STRING_LIMIT = "string_limit"
    NUMBER_LIMIT = "number_limit"
    SIZE_LIMIT = "size_limit"
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


class StreamError(ValueError):
    """Raised when a JSON stream is invalid, truncated, or exceeds a configured limit."""

    kind: ErrorKind
    pos: int
    line: int
    col: int
    path: tuple[str | int, ...]
    context: str

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        pos: int,
        line: int,
        col: int,
        path: tuple[str | int, ...] = (),
        context: str = "",
        context_offset: int = 0,
    ) -> None:
        self.kind = kind
        self.msg = message
        self.pos = pos
        self.line = line
        self.col = col
        self.path = path
        self.context = context
        self.context_offset = context_offset
        super().__init__(self._render())

    @property
    def json_path(self) -> str:
        """The path rendered as RFC 9535 JSONPath (``$.items[0].name``)."""
        from ._path import to_jsonpath

        return to_jsonpath(self.path)

    def _render(self) -> str:
        text = f"{self.msg} ({self.kind.value}) at line {self.line} column {self.col} (char {self.pos})"
        if self.path:
            from ._path import to_jsonpath

            text += f", path {to_jsonpath(self.path)}"
        if self.context:
            shown = self.context.replace("\n", "\u21b5").replace("\r", "\u240d").replace("\t", "\u2409")
            text += f"\n    {shown}\n    {' ' * self.context_offset}^"
        return text

    def __reduce__(self) -> tuple[object, ...]:  # pragma: no cover - pickling support
        return (
            _rebuild,
            (type(self), self.kind, self.msg, self.pos, self.line, self.col, self.path, self.context,
             self.context_offset),
        )


class ParserClosedError(StreamError):
    """Input was fed to a parser that already failed or was closed."""


def _rebuild(
    cls: type[StreamError],
    kind: ErrorKind,
    msg: str,
    pos: int,
    line: int,
    col: int,
    path: tuple[str | int, ...],
    context: str,
    offset: int,
) -> StreamError:  # pragma: no cover - pickling support
    return cls(
        kind, msg, pos=pos, line=line, col=col, path=path, context=context, context_offset=offset
    )
