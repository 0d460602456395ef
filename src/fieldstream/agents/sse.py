"""Server-sent events for an agent run: ``event_stream`` (frames) and ``sse_response`` (FastAPI/Starlette).

Frames are ``id: <n>\\nevent: <type>\\ndata: <json>\\n\\n`` with these types and data:

- ``stream_start`` ``{"call_type"}``
- ``chunk`` ``{"call_type", "delta", "json_path"}``: decoded string text as it arrives
- ``field`` ``{"call_type", "json_path", "value", "valid", "errors"}``: a value completed (numbers,
  booleans, objects, list items like ``tags[0]``, and strings too), validated against the schema
- ``stream_end`` ``{"call_type"}``
- ``result`` ``{"result"}``: the output (``model_dump(mode="json")``) or string, once, at the very end
- ``error`` ``{"message", "type"}``: the run failed; the stream ends after it

A call that fails validation shows up as a ``field`` frame with ``valid: false`` followed by its
``stream_end`` and, when the agent retries, a new ``stream_start`` of the same call type (a client
should then reset that call's view). The stream ends when the agent ends (not at the first
``stream_end``). When the client disconnects the agent run is cancelled (its model stream closed).
FastAPI/uvicorn are imported only here, lazily.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from ._agent import Agent

__all__ = ["event_stream", "format_frame", "sse_response"]

_TYPES = frozenset({"stream_start", "chunk", "field", "stream_end", "result"})


def format_frame(n: int, type_: str, data: Any) -> str:
    """One SSE frame (``data`` is compact JSON on one line)."""
    return f"id: {n}\nevent: {type_}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


async def event_stream(agent: Agent, input: Any, *, request: Any = None) -> AsyncIterator[str]:
    """Run ``agent`` on ``input`` and yield its SSE frames (see the module docstring).

    ``request`` (a Starlette ``Request``) is polled for disconnection between frames; Starlette also
    cancels this generator when the client goes away, which cancels the run.
    """
    n = 0
    events = agent.stream(input)
    try:
        try:
            async for ev in events:
                if ev.type not in _TYPES:
                    continue
                if request is not None and await request.is_disconnected():
                    return
                n += 1
                yield format_frame(n, ev.type, ev.data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            n += 1
            yield format_frame(n, "error", {"message": str(exc), "type": type(exc).__name__})
    finally:
        await events.aclose()  # type: ignore[attr-defined]


def sse_response(agent: Agent, input: Any, *, request: Any = None) -> Any:
    """A Starlette ``StreamingResponse`` (``text/event-stream``, no caching) of :func:`event_stream`."""
    from starlette.responses import StreamingResponse

    return StreamingResponse(event_stream(agent, input, request=request), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
