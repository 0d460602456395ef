"""The whole exception tree of fieldstream, and the closed sets of error kinds.

Every exception fieldstream raises derives from :class:`FieldstreamError`, so one ``except`` catches
them all; each also derives from the builtin a caller would expect (``ValueError`` for bad input,
``RuntimeError`` for failures of a run). Everything here is standard library only, so core-only code
(the CLI, :mod:`fieldstream.patch`, your own consumer) can catch and dispatch on these types with
``isinstance`` without importing pydantic or httpx.

Hierarchy::

    FieldstreamError
     ├── StreamError (ValueError)       bad JSON input, a limit, or use after failure/close
     │    └── ParserClosedError         feed()/close() on a parser that already failed or finished
     ├── SchemaError (ValueError)       the document does not validate against the schema
     ├── UsageError (ValueError)        a bad argument or option (CLI flags, paths, hook names)
     └── AgentError (RuntimeError)      an agent run failed
          ├── OutputValidationError     the model's output stayed invalid after all retries
          ├── ModelError                the provider failed (HTTP error, error event, broken stream)
          │    ├── ProviderError        the provider answered with an error (HTTP status or error event):
          │    │                        its own message, ``status``, ``provider_type``, ``code``
          │    ├── RefusalError         the model refused; ``refusal`` is the refusal text
          │    └── TruncatedOutputError the answer was cut (``reason``: "length", "max_tokens",
          │                             "content_filter", ...); ``text`` and ``partial`` value kept
          ├── LimitExceededError        a limit of the run was hit: ``limit`` (its name), ``value``
          │    ├── RunTimeoutError      the run outlived its ``run_timeout`` (seconds)
          │    ├── ModelStalledError    the model sent nothing for ``model_idle_timeout`` seconds
          │    │                        (also a ModelError)
          │    └── OutputTooLargeError  the model's text passed ``max_output_chars``
          ├── HookError                 a hook raised (passed to stream_error/agent_error hooks)
          ├── UnknownRunError (LookupError)  resuming a run the replay store does not know (or expired)
          ├── FrameGoneError            the frames after a Last-Event-ID were trimmed (send a snapshot)
          ├── FutureIdError             a Last-Event-ID beyond the run's last frame
          └── RunFinishedError          a frame appended to a finished run

:class:`StreamError` carries ``kind`` (an :class:`ErrorKind`: a closed set, never a message string to
match on), ``pos`` (absolute character offset: the length of the longest prefix of the input that is
still a viable prefix of some valid JSON text, so it never depends on how the input was chunked),
``line``/``col`` (1-based, like :class:`json.JSONDecodeError`) and ``path`` (the JSON path, a tuple of
``str | int``, of the value being parsed when it happened) and ``document`` (``Parser(multiple=True)``
only: the 0-based index of the document it happened in; ``None`` for a single-document parser).

:class:`SchemaError` carries ``kind`` (a :class:`SchemaErrorKind`), ``path``, ``errors`` (Pydantic's
error dicts with absolute ``loc``), ``missing`` and ``events``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = [
    "AgentError",
    "ErrorKind",
    "FieldstreamError",
    "HookError",
    "LimitExceededError",
    "ModelError",
    "ModelStalledError",
    "OutputTooLargeError",
    "OutputValidationError",
    "ParserClosedError",
    "ProviderError",
    "RefusalError",
    "RunTimeoutError",
    "SchemaError",
    "SchemaErrorKind",
    "StreamError",
    "TruncatedOutputError",
    "UsageError",
]


class FieldstreamError(Exception):
    """The root of every exception fieldstream raises (see the module docstring for the tree)."""


class ErrorKind(str, Enum):
    """Why a stream was rejected. A closed set: match on these, not on messages.

    Like the position, the kind never depends on how the input was chunked: it is decided by where
    in the grammar the offending character stands, and by nothing else. The structural kinds say
    what was expected there, which is what a caller repairing a model's output acts on.
    """

    EXPECTED_VALUE = "expected_value"  # no value can start here: document start, after '[', ':', ','
    EXPECTED_KEY = "expected_key"  # an object key must be a string: after '{' or ',' in an object
    EXPECTED_COLON = "expected_colon"  # after an object key
    EXPECTED_COMMA_OR_CLOSE = "expected_comma_or_close"  # after an item or member; also a wrong bracket
    TRAILING_COMMA = "trailing_comma"  # the container's own closing bracket right after a ','
    INVALID_LITERAL = "invalid_literal"  # not a continuation of true / false / null
    INVALID_NUMBER = "invalid_number"  # a number cut short: '-', '1.', '1e', '1e+' then a non-digit
    INVALID_ESCAPE = "invalid_escape"  # a bad character after a backslash or in a \\uXXXX escape
    CONTROL_CHARACTER = "control_character"  # an unescaped U+0000..U+001F inside a string
    INVALID_UTF8 = "invalid_utf8"  # bytes input that is not UTF-8
    TRAILING_DATA = "trailing_data"  # anything but whitespace after the complete document
    INCOMPLETE = "incomplete"  # the input ended before the document was complete
    DEPTH_LIMIT = "depth_limit"
    STRING_LIMIT = "string_limit"
    NUMBER_LIMIT = "number_limit"
    SIZE_LIMIT = "size_limit"
    CLOSED = "closed"  # feed()/close() after a failure or after close()

    def __str__(self) -> str:
        return self.value


class StreamError(FieldstreamError, ValueError):
    """Raised when a JSON stream is invalid, truncated, or exceeds a configured limit."""

    kind: ErrorKind
    pos: int
    line: int
    col: int
    path: tuple[str | int, ...]
    context: str
    document: int | None

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
        document: int | None = None,
    ) -> None:
        self.kind = kind
        self.msg = message
        self.pos = pos
        self.line = line
        self.col = col
        self.path = path
        self.context = context
        self.context_offset = context_offset
        self.document = document
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
        if self.document is not None:
            text += f", document {self.document}"
        if self.context:
            shown = self.context.replace("\n", "\u21b5").replace("\r", "\u240d").replace("\t", "\u2409")
            text += f"\n    {shown}\n    {' ' * self.context_offset}^"
        return text

    def __reduce__(self) -> tuple[object, ...]:  # pragma: no cover - pickling support
        return (
            _rebuild,
            (type(self), self.kind, self.msg, self.pos, self.line, self.col, self.path, self.context,
             self.context_offset, self.document),
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
    document: int | None = None,
) -> StreamError:  # pragma: no cover - pickling support
    return cls(
        kind, msg, pos=pos, line=line, col=col, path=path, context=context, context_offset=offset,
        document=document,
    )


class SchemaErrorKind(str, Enum):
    """Why a document was rejected by the schema layer. A closed set."""

    INVALID = "invalid"                  # a value failed validation
    MISSING = "missing"                  # required fields absent when the object (or document) closed
    EXTRA_FORBIDDEN = "extra_forbidden"  # a key the model does not allow (``extra="forbid"``)
    INCOMPLETE = "incomplete"            # the document ended before it was complete
    CLOSED = "closed"                    # feed()/close() after a failure or after close()
    DEPTH_LIMIT = "depth_limit"          # nesting deeper than the schema layer's limit

    def __str__(self) -> str:
        return self.value


class SchemaError(FieldstreamError, ValueError):
    """The document does not validate against the schema (or ended before it was complete).

    Attributes: ``path`` (JSON path of the failing value, ``()`` for the root), ``errors`` (Pydantic
    error dicts with absolute ``loc``), ``missing`` (JSON paths of missing required fields), ``pos``
    (characters of the raw stream consumed when the failure was detected: the end of the
    ``feed()`` delta that completed the value; this depends on how the input was chunked),
    ``kind`` (a :class:`SchemaErrorKind`), ``events`` (events produced by the failing ``feed()`` call
    before the failure).
    """

    def __init__(self, message: str, *, path: tuple[str | int, ...] = (),
                 errors: list[dict[str, Any]] | None = None,
                 missing: list[tuple[str | int, ...]] | None = None, pos: int = 0,
                 kind: SchemaErrorKind | str = SchemaErrorKind.INVALID,
                 events: list[Any] | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.errors = errors or []
        self.missing = missing or []
        self.pos = pos
        self.kind = SchemaErrorKind(kind)
        self.events = events or []


class UsageError(FieldstreamError, ValueError):
    """A bad argument or option given by the caller (not bad input data)."""


class AgentError(FieldstreamError, RuntimeError):
    """Base class of the agent layer's failures."""


class OutputValidationError(AgentError):
    """The model's output stayed invalid (bad JSON or schema errors) after all retries.

    ``call_type`` is ``"think"`` or ``"final_result"``; ``errors`` are the last Pydantic error dicts;
    ``text`` is the last raw answer; ``__cause__`` is the last :class:`SchemaError`/:class:`StreamError`.
    """

    def __init__(self, message: str, *, call_type: str, errors: list[dict[str, Any]], text: str) -> None:
        super().__init__(message)
        self.call_type = call_type
        self.errors = errors
        self.text = text


class ModelError(AgentError):
    """The provider failed: HTTP error, error event, or a stream that broke off.

    ``status`` is the HTTP status when there was one; ``retryable`` says whether retrying may help;
    ``retry_after`` is the delay the server asked for, in seconds, if it sent one.
    """

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after: float | None = None


class ProviderError(ModelError):
    """The provider answered with an error: an HTTP error status, or an error event in the stream.

    The message is the provider's own (``error.message``). ``status`` is the HTTP status (``None``
    for an error event inside a 200 stream), ``provider_type`` the provider's error type
    (``"overloaded_error"``, ``"rate_limit_error"``, ``"insufficient_quota"``, ...), ``code`` its
    error code when it sends one besides the type, ``body`` the decoded error object (or ``None``).
    ``retryable`` is true for the errors a retry can cure (429, 408, 409, 5xx, overload); such
    errors are retried by the models before any text was streamed.
    """

    def __init__(self, message: str, *, status: int | None = None, provider_type: str | None = None,
                 code: str | None = None, retryable: bool = False, body: Any = None) -> None:
        super().__init__(message, status=status, retryable=retryable)
        self.provider_type = provider_type
        self.code = code
        self.body = body


class RefusalError(ModelError):
    """The model refused to answer (OpenAI ``refusal`` deltas, Anthropic ``stop_reason: "refusal"``).

    ``refusal`` is the refusal text the model streamed (may be empty when the provider only sends a
    stop reason). Never retried: asking the same question again gets the same refusal and costs a
    request.
    """

    def __init__(self, refusal: str, message: str | None = None) -> None:
        super().__init__(message or f"the model refused: {refusal or '(no refusal text)'}")
        self.refusal = refusal


class TruncatedOutputError(ModelError):
    """The answer was cut before it was complete: ``finish_reason``/``stop_reason`` was not a normal end.

    ``reason`` is the provider's word for it (``"length"``, ``"max_tokens"``, ``"content_filter"``,
    ``"max_output_tokens"``, ...); ``text`` is the raw text received; ``partial`` is the partial value
    parsed from it (the best snapshot, ``None`` when nothing could be parsed). Not retried by the
    models: the same request is cut at the same place; raise the token limit instead.
    """

    def __init__(self, reason: str, *, text: str = "", partial: Any = None,
                 message: str | None = None) -> None:
        super().__init__(message or f"the answer was cut off by the provider (reason: {reason}) "
                                    f"after {len(text)} characters")
        self.reason = reason
        self.text = text
        self.partial = partial


class HookError(AgentError):
    """A hook raised; ``hook_event`` names the event, ``__cause__`` is the original exception."""

    def __init__(self, message: str, hook_event: str) -> None:
        super().__init__(message)
        self.hook_event = hook_event


# --- limits of a run (fieldstream.agents._limits enforces them; docs/security.md lists the defaults)


class LimitExceededError(AgentError):
    """A limit of the run was hit: ``limit`` names the Agent argument, ``value`` is its setting.

    The run ends (no retry: the same request would hit the same limit); its model stream is closed.
    """

    def __init__(self, message: str, *, limit: str, value: float) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


class RunTimeoutError(LimitExceededError):
    """The run took longer than ``run_timeout`` seconds (model calls, tools, hooks and a slow reader)."""

    def __init__(self, value: float) -> None:
        super().__init__(f"the run took longer than run_timeout={value:g} s", limit="run_timeout",
                         value=value)


class ModelStalledError(LimitExceededError, ModelError):
    """The model's stream sent nothing for ``model_idle_timeout`` seconds; the request was closed."""

    def __init__(self, value: float) -> None:
        LimitExceededError.__init__(self, f"the model sent nothing for model_idle_timeout={value:g} s",
                                    limit="model_idle_timeout", value=value)
        self.status = None
        self.retryable = False
        self.retry_after = None


class OutputTooLargeError(LimitExceededError):
    """The model's text in this run passed ``max_output_chars`` characters; the request was closed."""

    def __init__(self, value: int) -> None:
        super().__init__(f"the model's output passed max_output_chars={value}", limit="max_output_chars",
                         value=value)
