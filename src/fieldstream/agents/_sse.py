"""Server-sent events for an agent run: the one SSE encoder of the project.

Frames are ``id: <n>\\nevent: <type>\\ndata: <json>\\n\\n`` with strictly increasing ids from 1 and
these types (and only these):

- ``stream_start`` ``{"call_type"}`` (plus ``"continued": true`` for a continuation retry: keep the view)
- ``chunk`` ``{"call_type", "path", "json_path", "delta"}``: decoded string text as it arrives
- ``field`` ``{"call_type", "path", "json_path", "value", "valid", "errors"}``: a value completed
  (numbers, booleans, objects, list items like ``tags[0]``, and strings too), validated; an object or
  list whose frame would pass ``max_value_chars`` (64 KiB) comes with ``"value": null, "omitted":
  true`` instead (its leaves had their own frames, ``result`` has it all), so nested containers never
  repeat a huge value at every level
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
disconnects, or sending a frame fails or waits longer than ``send_timeout`` (a client that stopped
reading), the run is cancelled and its model stream closed. While a run is quiet,
:func:`sse_response` sends a ``: keep-alive`` comment line every ``keepalive`` seconds (15), which SSE
clients ignore and which keeps proxies from cutting the stream.
FastAPI/Starlette are imported only by :func:`sse_response`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .._errors import UsageError
from ._events import AgentEvent, Field, RunError, StreamStart

if TYPE_CHECKING:  # pragma: no cover
    from ._agent import Agent

__all__ = ["FRAME_TYPES", "KEEPALIVE", "KEEPALIVE_SECONDS", "MAX_VALUE_CHARS", "SEND_TIMEOUT_SECONDS",
           "SendTimeout", "encode_event", "event_stream", "sse_response"]

log = logging.getLogger("fieldstream.agents")

FRAME_TYPES = ("stream_start", "chunk", "field", "stream_end", "result", "error")  #: all frame types sent
_FRAMED = frozenset(FRAME_TYPES)
KEEPALIVE = ": keep-alive\n"  #: a comment line sent while a run is quiet (no blank line: see event_stream)
_KEEPALIVE_BYTES = KEEPALIVE.encode("ascii")
KEEPALIVE_SECONDS = 15.0  #: default seconds between keep-alive comments
SEND_TIMEOUT_SECONDS = 30.0  #: default seconds a frame may wait for a client that does not read
MAX_VALUE_CHARS = 65_536  #: default size above which a container's ``field`` frame omits its value


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


def encode_event(id: int, event: AgentEvent, *, debug: bool = False,
                 max_value_chars: int | None = MAX_VALUE_CHARS) -> str:
    """The SSE frame of ``event`` with ``id`` (ASCII only; see the module docstring).

    ``debug`` applies to :class:`RunError` (real type and message instead of the public ones).
    ``max_value_chars``: a ``field`` frame of an object or list whose data is longer than this is
    sent with ``"value": null, "omitted": true`` (its leaves had their own frames; the ``result``
    frame carries the whole value once). ``None``: never omit.
    Raises :class:`ValueError` for events that have no frame (``StreamError``).
    """
    if event.type not in _FRAMED:
        raise ValueError(f"{type(event).__name__} events are not sent as SSE frames")
    data = event.to_json(debug=debug) if isinstance(event, RunError) else event.to_json()
    out = _dumps(data)
    if (isinstance(event, Field) and max_value_chars is not None and len(out) > max_value_chars
            and isinstance(data["value"], (dict, list))):
        out = _dumps({**data, "value": None, "omitted": True})
    return f"id: {int(id)}\nevent: {event.type}\ndata: {out}\n\n"


def _check_interval(name: str, seconds: float | None) -> None:
    """A timer of 0 (or less, or NaN) would spin without yielding: refuse it at once."""
    if seconds is not None and not seconds > 0:
        raise UsageError(f"{name} must be a number of seconds > 0, or None (off); got {seconds!r}")


async def event_stream(agent: Agent, input: Any, *, request: Any = None, debug: bool = False,
                       keepalive: float | None = None, max_value_chars: int | None = MAX_VALUE_CHARS
                       ) -> AsyncIterator[str]:
    """Run ``agent`` on ``input`` and yield its SSE frames (see the module docstring).

    A failed run ends with one ``error`` frame (the next id) and the full exception logged on the
    ``fieldstream.agents`` logger at error level; ``debug=True`` puts the real type and message in
    the frame (never in production: they can hold provider URLs and response bodies).
    ``request`` (a Starlette ``Request``) is polled for disconnection between frames; closing this
    generator (Starlette does when the client goes away) cancels the run.
    ``keepalive``: yield a ``: keep-alive`` comment line after that many seconds without a frame
    (``None``: never). It costs a task per frame (about 50 microseconds); :func:`sse_response` sends
    its keep-alives from a timer instead, at no cost per frame. The line has no blank line after it:
    the SSE rules ignore a comment either way, but some decoders (httpx-sse) dispatch an empty
    ``message`` event at every blank line once an id was seen. ``max_value_chars``: see :func:`encode_event`.
    """
    _check_interval("keepalive", keepalive)
    n = 0
    call_type: str | None = None
    events = agent.stream(input)
    it = events.__aiter__()
    pending: asyncio.Future[AgentEvent] | None = None
    try:
        try:
            while True:
                if keepalive is None:
                    try:
                        ev = await it.__anext__()
                    except StopAsyncIteration:
                        break
                else:  # wait for the next event at most `keepalive` seconds, then send a comment
                    if pending is None:
                        pending = asyncio.ensure_future(it.__anext__())
                    done, _ = await asyncio.wait({pending}, timeout=keepalive)
                    if not done:
                        yield KEEPALIVE
                        continue
                    fut, pending = pending, None
                    try:
                        ev = fut.result()
                    except StopAsyncIteration:
                        break
                if isinstance(ev, StreamStart):
                    call_type = ev.call_type
                if ev.type not in _FRAMED:
                    continue
                if request is not None and await request.is_disconnected():
                    return
                n += 1
                yield encode_event(n, ev, max_value_chars=max_value_chars)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("agent %r: run failed (during %s): %s: %s", getattr(agent, "name", "?"),
                      call_type or "setup", type(exc).__name__, exc, exc_info=exc)
            n += 1
            yield encode_event(n, RunError(exc, call_type), debug=debug)
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        await events.aclose()  # type: ignore[attr-defined]


class SendTimeout(Exception):
    """A frame could not be sent within ``send_timeout`` seconds: the client stopped reading."""


@lru_cache(maxsize=1)
def _response_class() -> Any:
    import anyio
    from starlette.responses import StreamingResponse

    class SSEResponse(StreamingResponse):
        """A ``StreamingResponse`` that always closes its frame generator (and so the agent run),
        also when sending fails (a broken connection, a proxy that gave up) or times out, and that
        sends keep-alive comments from a timer while the run is quiet (no cost per frame)."""

        send_timeout: float | None = None
        keepalive: float | None = None

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            limit = self.send_timeout
            every = self.keepalive
            loop = asyncio.get_running_loop()
            lock = asyncio.Lock()
            state: dict[str, Any] = {"last": loop.time(), "started": False, "ended": False, "error": None}

            async def timed_send(message: Any) -> None:
                # the server's send waits while the client's socket is full (uvicorn's flow control)
                if limit is None:
                    await send(message)
                    return
                try:
                    with anyio.fail_after(limit):
                        await send(message)
                except TimeoutError:
                    raise SendTimeout(f"no frame could be sent for {limit:g} s") from None

            async def guarded_send(message: Any) -> None:
                async with lock:  # never interleave with a keep-alive comment
                    if state["error"] is not None:
                        raise state["error"]
                    await timed_send(message)
                    state["last"] = loop.time()
                    if message.get("type") == "http.response.start":
                        state["started"] = True
                    elif not message.get("more_body", False):
                        state["ended"] = True

            async def heartbeat(every: float) -> None:
                while True:
                    delay = state["last"] + every - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                        continue
                    async with lock:
                        if state["ended"]:
                            return
                        if state["started"] and loop.time() - state["last"] >= every:
                            try:
                                await timed_send({"type": "http.response.body", "body": _KEEPALIVE_BYTES,
                                                  "more_body": True})
                            except Exception as exc:  # the next frame's send reports it
                                state["error"] = exc
                                return
                        state["last"] = loop.time()

            beat = asyncio.ensure_future(heartbeat(every)) if every is not None else None
            try:
                await super().__call__(scope, receive, guarded_send if beat is not None else timed_send)
            except SendTimeout as exc:
                log.warning("SSE client did not read for %s; the run was ended", exc)
            finally:
                if beat is not None:
                    beat.cancel()
                    with contextlib.suppress(BaseException):
                        await beat
                aclose = getattr(self.body_iterator, "aclose", None)
                if aclose is not None:
                    await aclose()

    return SSEResponse


def sse_response(agent: Agent, input: Any, *, request: Any = None, debug: bool = False,
                 headers: dict[str, str] | None = None, keepalive: float | None = KEEPALIVE_SECONDS,
                 send_timeout: float | None = SEND_TIMEOUT_SECONDS,
                 max_value_chars: int | None = MAX_VALUE_CHARS) -> Any:
    """A Starlette response (``text/event-stream``, no caching) of :func:`event_stream`.

    A failure to send a frame ends the run: the frame generator is closed, which cancels the run
    and closes the model's stream. So does a frame that cannot be sent within ``send_timeout``
    seconds (default 30; a client that stopped reading): the server never buffers more than the
    socket's buffers and one frame per client. ``keepalive``: seconds between ``: keep-alive``
    comments while the run is quiet (default 15; proxies cut idle streams after 30-60 s).
    """
    _check_interval("keepalive", keepalive)
    _check_interval("send_timeout", send_timeout)
    cls = _response_class()
    resp = cls(event_stream(agent, input, request=request, debug=debug, max_value_chars=max_value_chars),
               media_type="text/event-stream",
               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})})
    resp.send_timeout = send_timeout
    resp.keepalive = keepalive
    return resp
