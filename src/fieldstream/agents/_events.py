"""The typed events of an agent run: what :meth:`Agent.stream` yields and what the SSE encoder frames.

Every event is a frozen dataclass with a ``type`` literal that is also its SSE frame type (so a
``match``/``isinstance`` on the Python side and a ``switch (frame.type)`` in a browser agree):

====================  =============  ======================================================
class                 ``type``       when
====================  =============  ======================================================
:class:`StreamStart`  stream_start   a model call starts (``call_type``: think, final_result)
:class:`Chunk`        chunk          decoded string text arrived at ``path``
:class:`Field`        field          a value at ``path`` completed and was validated
:class:`StreamEnd`    stream_end     the call ended (also after a rejected or failed call)
:class:`StreamError`  stream_error   the call failed (invalid output, provider error); never framed
:class:`Result`       result         the run's typed result, once, last
:class:`RunError`     error          the run failed (built by the encoders from the exception)
====================  =============  ======================================================

``path`` is a tuple of ``str | int`` relative to the call's output (``("items", 0, "name")``);
``json_path`` is its dotted rendering for people (``items[0].name``), never parsed back.
``to_json()`` is the frame's data, JSON-ready; the SSE encoder adds ``id``/``event`` around it.

The typed partial: :meth:`Chunk.partial` and :meth:`Field.partial` return the call's output
as far as it has streamed (a model instance built without validation, or ``None``), computed only
when asked, in O(depth + new text) (the schema layer's live typed view). The object is **live**: the
schema layer keeps updating it as the model streams, so it shows the state at the moment of the call.
:meth:`Agent.stream` feeds no new model output while the consumer holds an event (the run waits for
it to ask for the next one), and hooks run before the run goes on, so a consumer that reads it while
handling the event sees that event's state.
To keep a frozen copy, copy it (``p.model_copy(deep=True)``: O(size of the partial)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from pydantic_core import to_jsonable_python

from .._path import Path, to_dotted
from ._safe import public_error

__all__ = ["AgentEvent", "Chunk", "Field", "PartialRef", "Result", "RunError", "StreamEnd", "StreamError",
           "StreamStart", "jsonable"]


def jsonable(value: Any) -> Any:
    """JSON-ready form of a result or field value (models dumped in JSON mode)."""
    return to_jsonable_python(value, fallback=repr)


_UNSET: Any = object()


class PartialRef:
    """The lazily computed typed partial shared by the events of one model delta (see the module doc)."""

    __slots__ = ("_compute", "_value")

    def __init__(self, compute: Callable[[], Any]) -> None:
        self._compute = compute
        self._value = _UNSET

    def __call__(self) -> Any:
        if self._value is _UNSET:
            self._value = self._compute()
        return self._value


def _no_partial() -> Any:
    return None


_new = object.__new__


def make_chunk(call_type: str, path: Path, delta: str, partial: Callable[[], Any]) -> Chunk:
    """``Chunk(call_type, path, delta, partial)``, built without the frozen dataclass's ``__init__``
    (one ``object.__setattr__`` per field, ~3x the time of this; the agent makes one per model delta)."""
    c: Chunk = _new(Chunk)
    d = c.__dict__
    d["call_type"] = call_type
    d["path"] = path
    d["delta"] = delta
    d["_partial"] = partial
    return c


@dataclass(frozen=True)
class StreamStart:
    """A model call started; a new one of the same ``call_type`` means a retry (reset its view).

    ``continued``: a continuation retry (``Agent(retry_mode="continue")``): the call goes on from
    the valid prefix of the rejected one, whose events stand; keep the view, only the rejected
    field (and what follows it) is written again.
    """

    type: Literal["stream_start"] = field(default="stream_start", init=False)
    call_type: str
    continued: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.continued:
            return {"call_type": self.call_type, "continued": True}
        return {"call_type": self.call_type}


@dataclass(frozen=True)
class Chunk:
    """Decoded string text (``delta``, never empty) of the string at ``path``."""

    type: Literal["chunk"] = field(default="chunk", init=False)
    call_type: str
    path: Path
    delta: str
    _partial: Callable[[], Any] = field(default=_no_partial, repr=False, compare=False)

    @property
    def json_path(self) -> str:
        """``path`` rendered dotted, relative to the call's output (``content``, ``items[0].name``)."""
        return to_dotted(self.path)

    def partial(self) -> Any:
        """The call's typed partial output at this event (see the module docstring)."""
        return self._partial()

    def to_json(self) -> dict[str, Any]:
        return {"call_type": self.call_type, "path": list(self.path), "json_path": self.json_path,
                "delta": self.delta}


@dataclass(frozen=True)
class Field:
    """The value at ``path`` completed: ``value`` (typed, validated) or ``valid=False`` with ``errors``."""

    type: Literal["field"] = field(default="field", init=False)
    call_type: str
    path: Path
    value: Any
    valid: bool = True
    errors: list[dict[str, Any]] | None = None
    _partial: Callable[[], Any] = field(default=_no_partial, repr=False, compare=False)

    @property
    def json_path(self) -> str:
        """``path`` rendered dotted, relative to the call's output."""
        return to_dotted(self.path)

    def partial(self) -> Any:
        """The call's typed partial output at this event (see the module docstring)."""
        return self._partial()

    def to_json(self) -> dict[str, Any]:
        return {"call_type": self.call_type, "path": list(self.path), "json_path": self.json_path,
                "value": jsonable(self.value), "valid": self.valid,
                "errors": None if self.errors is None else jsonable(self.errors)}


@dataclass(frozen=True)
class StreamEnd:
    """The model call ended (successfully or not)."""

    type: Literal["stream_end"] = field(default="stream_end", init=False)
    call_type: str

    def to_json(self) -> dict[str, Any]:
        return {"call_type": self.call_type}


@dataclass(frozen=True)
class StreamError:
    """The call failed: ``error`` and the JSON-ready ``partial`` value parsed so far.

    Not sent as an SSE frame (its message may carry provider details): the wire shows a rejected
    call as its invalid ``field`` frame and ``stream_end``, and a failed run as one ``error`` frame.
    """

    type: Literal["stream_error"] = field(default="stream_error", init=False)
    call_type: str
    error: BaseException
    partial: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"call_type": self.call_type, "type": type(self.error).__name__, "message": str(self.error),
                "partial": self.partial}


@dataclass(frozen=True)
class Result:
    """The run's result (the ``output_schema`` instance, or a string), always the last event.

    ``call_type`` names the call that produced it: ``think`` (the think step carried a
    ``final_result``) or ``final_result``.
    """

    type: Literal["result"] = field(default="result", init=False)
    call_type: str
    result: Any

    def to_json(self) -> dict[str, Any]:
        return {"result": jsonable(self.result)}


@dataclass(frozen=True)
class RunError:
    """The run failed with ``error`` (during ``call_type``, or ``None`` outside a model call).

    :meth:`Agent.stream` raises the exception itself; the encoders (SSE, the terminal demo) turn it
    into this event. ``to_json()`` is the public view: ``{"type": <public class name>, "message":
    <safe message>}`` with no URL, provider body or model text; ``debug=True`` adds the details.
    """

    type: Literal["error"] = field(default="error", init=False)
    error: BaseException
    call_type: str | None = None

    def to_json(self, debug: bool = False) -> dict[str, Any]:
        return public_error(self.error, debug=debug)


AgentEvent = Union[StreamStart, Chunk, Field, StreamEnd, StreamError, Result, RunError]  # noqa: UP007
"""Any event of a run (a union: dispatch with ``isinstance`` or on ``event.type``)."""
