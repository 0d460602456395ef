"""Server-sent events for agent runs: the frame encoder and resumable runs.

- ``encode_event``, ``event_stream``, ``sse_response``: one run per connection (the frame format,
  ids, escaping and error frames are documented in :mod:`fieldstream.agents._sse`);
- ``RunManager`` and ``mount_runs``: runs that outlive their connections and resume after
  ``Last-Event-ID`` (:mod:`fieldstream.agents._runs`), on a replay store: ``MemoryStore`` (one
  process) or ``RedisStore`` (several workers) (:mod:`fieldstream.agents._replay`).

Read frames with any spec-compliant SSE client (``httpx-sse`` in Python, ``EventSource`` or the
package's ``fieldstream.js`` in a browser).
"""

from ._replay import (
    Frame,
    FrameGoneError,
    FutureIdError,
    MemoryStore,
    RedisStore,
    ReplayStore,
    RunFinishedError,
    RunSnapshot,
    RunStatus,
    UnknownRunError,
    fold_frames,
)
from ._runs import RUN_ID_HEADER, RunManager, encode_frame, mount_runs, partial_of
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

__all__ = [
    "FRAME_TYPES",
    "KEEPALIVE",
    "KEEPALIVE_SECONDS",
    "MAX_VALUE_CHARS",
    "RUN_ID_HEADER",
    "SEND_TIMEOUT_SECONDS",
    "Frame",
    "FrameGoneError",
    "FutureIdError",
    "MemoryStore",
    "RedisStore",
    "ReplayStore",
    "RunFinishedError",
    "RunManager",
    "RunSnapshot",
    "RunStatus",
    "UnknownRunError",
    "encode_event",
    "encode_frame",
    "event_stream",
    "fold_frames",
    "mount_runs",
    "partial_of",
    "sse_response",
]
