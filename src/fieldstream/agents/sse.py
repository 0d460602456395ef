"""Server-sent events for an agent run: ``encode_event``, ``event_stream`` and ``sse_response``.

The frame format (types, data, ids, escaping, error frames) is documented in
:mod:`fieldstream.agents._sse`; read frames with any spec-compliant SSE client (``httpx-sse`` in
Python, ``EventSource`` in a browser).
"""

from ._sse import (
    FRAME_TYPES,
    KEEPALIVE,
    KEEPALIVE_SECONDS,
    MAX_VALUE_CHARS,
    SEND_TIMEOUT_SECONDS,
    encode_event,
    event_stream,
    sse_response,
)

__all__ = ["FRAME_TYPES", "KEEPALIVE", "KEEPALIVE_SECONDS", "MAX_VALUE_CHARS", "SEND_TIMEOUT_SECONDS",
           "encode_event", "event_stream", "sse_response"]
