"""Server-sent events for an agent run: the one SSE encoder of the project.

Frames are ``id: <n>\\nevent: <type>\\ndata: <json>\\n\\n`` with strictly increasing ids from 1 and
these types (and only these):

- ``stream_start`` ``{"call_type"}`` (plus ``"continued": true`` for a continuation retry: keep the view)
- ``chunk`` ``{"call_type", "path", "json_path", "delta"}``: decoded string text as it arrives
- ``field`` ``{"call_type", "path", "json_path", "value", "valid", "errors"}``: a value completed
  (numbers, booleans, objects, list items like ``tags[0]``, and strings too), validated
- ``stream_end`` ``{"call_type"}``
- ``result`` ``{"result"}``: the output (``model_dump(mode="json")``) or string, once, at the very end
- ``error`` ``{"type", "message"}``: the run failed (a public type name and a safe message, see
  :mod:`fieldstream.agents._safe`); the stream ends after it

``path`` is a JSON array of keys and indices relative to the call's output, so a client never parses
``json_path`` (a dotted rendering for people) back. ``data`` is one line of ASCII-only JSON
(``ensure_ascii``): lone surrogates (model text ``"A\\ud800B"``), U+2028/U+2029/U+0085 and every
other non-ASCII character travel as ``\\uXXXX`` escapes, so every frame is encodable and no
character inside a value can end a line; non-finite numbers become ``null``.

A call that fails validation shows up as a ``field`` frame with ``valid: false`` followed by its
``stream_end`` and, when the agent retries, a new ``stream_start`` of the same call type (a client
should then reset that call's view). The stream ends when the agent ends. When the client
disconnects, or sending a frame fails, the run is cancelled and its model stream closed.
FastAPI/Starlette are imported only by :func:`sse_response`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ._events import AgentEvent, RunError, StreamStart

if TYPE_CHECKING:  # pragma: no cover
    from ._agent import Agent

__all__ = ["FRAME_TYPES", "encode_event", "event_stream", "sse_response"]

log = logging.getLogger("fieldstream.agents")

FRAME_TYPES = ("stream_start", "chunk", "field", "stream_end", "result", "error")  #: all frame types sent
_FRAMED = frozenset(FRAME_TYPES)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _dumps(data: Any) -> str:
    try:
        return json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    except ValueError:  # inf/nan (e.g. a float that overflowed): JSON has no such number
        return json.dumps(_finite(data), ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def encode_event(id: int, event: AgentEvent, *, debug: bool = False) -> str:
    """The SSE frame of ``event`` with ``id`` (ASCII only; see the module docstring).

    ``debug`` applies to :class:`RunError` (real type and message instead of the public ones).
    Raises :class:`ValueError` for events that have no frame (``StreamError``).
    """
    if event.type not in _FRAMED:
        raise ValueError(f"{type(event).__name__} events are not sent as SSE frames")
    data = event.to_json(debug=debug) if isinstance(event, RunError) else event.to_json()
    return f"id: {int(id)}\nevent: {event.type}\ndata: {_dumps(data)}\n\n"


async def event_stream(agent: Agent, input: Any, *, request: Any = None, debug: bool = False
                       ) -> AsyncIterator[str]:
    """Run ``agent`` on ``input`` and yield its SSE frames (see the module docstring).

    A failed run ends with one ``error`` frame (the next id) and the full exception logged on the
    ``fieldstream.agents`` logger at error level; ``debug=True`` puts the real type and message in
    the frame (never in production: they can hold provider URLs and response bodies).
    ``request`` (a Starlette ``Request``) is polled for disconnection between frames; closing this
    generator (Starlette does when the client goes away) cancels the run.
    """
    n = 0
    call_type: str | None = None
    events = agent.stream(input)
    try:
        try:
            async for ev in events:
                if isinstance(ev, StreamStart):
                    call_type = ev.call_type
                if ev.type not in _FRAMED:
                    continue
                if request is not None and await request.is_disconnected():
                    return
                n += 1
                yield encode_event(n, ev)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("agent %r: run failed (during %s): %s: %s", getattr(agent, "name", "?"),
                      call_type or "setup", type(exc).__name__, exc, exc_info=exc)
            n += 1
            yield encode_event(n, RunError(exc, call_type), debug=debug)
    finally:
        await events.aclose()  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def _response_class() -> Any:
    from starlette.responses import StreamingResponse

    class SSEResponse(StreamingResponse):
        """A ``StreamingResponse`` that always closes its frame generator (and so the agent run),
        also when sending fails (a broken connection, a proxy that gave up)."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            try:
                await super().__call__(scope, receive, send)
            finally:
                aclose = getattr(self.body_iterator, "aclose", None)
                if aclose is not None:
                    await aclose()

    return SSEResponse


def sse_response(agent: Agent, input: Any, *, request: Any = None, debug: bool = False,
                 headers: dict[str, str] | None = None) -> Any:
    """A Starlette response (``text/event-stream``, no caching) of :func:`event_stream`.

    A failure to send a frame ends the run: the frame generator is closed, which cancels the run
    and closes the model's stream.
    """
    cls = _response_class()
    return cls(event_stream(agent, input, request=request, debug=debug), media_type="text/event-stream",
               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})})
