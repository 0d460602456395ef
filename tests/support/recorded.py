"""Serve recorded provider responses (tests/data/provider_streams) through httpx.MockTransport.

The body is cut into small chunks (``chunk`` bytes: by default 7, so writes split inside ``data:``
lines, inside UTF-8 characters and between CR and LF). Clients of httpx or of an httpx fork with
the same API (the ``anthropic`` SDK 2.x is built on ``httpx2``) are supported. ``Replay`` answers a
sequence of responses, one per request, and counts the requests and the closed bodies; nothing
touches the network.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

STREAMS = Path(__file__).resolve().parents[1] / "data" / "provider_streams"


def cases(api: str) -> list[Path]:
    """The ``.sse`` recordings of one folder (``anthropic``, ``openai-responses``, ...)."""
    return sorted((STREAMS / api).glob("*.sse"))


def sidecar(path: Path) -> dict[str, Any]:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass
class Canned:
    """One response: status, headers and body bytes."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/event-stream"})

    @classmethod
    def recording(cls, path: Path) -> Canned:
        meta = sidecar(path)
        headers = {"content-type": "text/event-stream" if path.suffix == ".sse" else "application/json"}
        return cls(path.read_bytes(), int(meta.get("http_status", 200)), headers)


def _pieces(body: bytes, chunk: int) -> list[bytes]:
    return [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]


_BODIES: dict[Any, type] = {}


def _body(lib: Any, pieces: list[bytes], replay: Replay) -> Any:
    """The body in pieces, as a byte stream of ``lib`` (httpx, or httpx2 for SDKs built on it)."""
    cls = _BODIES.get(lib)
    if cls is None:
        def __iter__(self: Any) -> Iterator[bytes]:
            yield from self.pieces

        async def __aiter__(self: Any) -> AsyncIterator[bytes]:
            for piece in self.pieces:
                yield piece

        def close(self: Any) -> None:
            self.replay.closed += 1

        async def aclose(self: Any) -> None:
            self.replay.closed += 1

        cls = type("Body", (lib.SyncByteStream, lib.AsyncByteStream),
                   {"__iter__": __iter__, "__aiter__": __aiter__, "close": close, "aclose": aclose})
        _BODIES[lib] = cls
    body = cls()
    body.pieces = pieces
    body.replay = replay
    return body


class Replay:
    """A MockTransport handler answering ``responses`` in order (the last one repeats)."""

    def __init__(self, *responses: Canned, chunk: int = 7) -> None:
        self.responses = list(responses)
        self.chunk = chunk
        self.requests: list[Any] = []
        self.closed = 0  # response bodies closed (by the client, when a stream ends or is abandoned)

    def handler(self, lib: Any) -> Any:
        def handle(request: Any) -> Any:
            self.requests.append(request)
            canned = self.responses[min(len(self.requests), len(self.responses)) - 1]
            body = _body(lib, _pieces(canned.body, self.chunk), self)
            return lib.Response(canned.status, headers=canned.headers, stream=body)

        return handle

    def async_client(self, lib: Any = httpx) -> Any:
        """An ``AsyncClient`` of ``lib`` (httpx by default) answering from this replay."""
        return lib.AsyncClient(transport=lib.MockTransport(self.handler(lib)))

    def client(self, lib: Any = httpx) -> Any:
        """A ``Client`` of ``lib`` (httpx by default) answering from this replay."""
        return lib.Client(transport=lib.MockTransport(self.handler(lib)))

