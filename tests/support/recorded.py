"""Serve recorded provider responses (tests/data/provider_streams) through httpx.MockTransport.

The body is cut into small chunks (``chunk`` bytes: by default 7, so writes split inside ``data:``
lines, inside UTF-8 characters and between CR and LF). ``Replay`` answers a sequence of responses,
one per request, and counts the requests; nothing touches the network.
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


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The body in pieces, for sync and async clients alike."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


class Replay:
    """A MockTransport handler answering ``responses`` in order (the last one repeats)."""

    def __init__(self, *responses: Canned, chunk: int = 7) -> None:
        self.responses = list(responses)
        self.chunk = chunk
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        canned = self.responses[min(len(self.requests), len(self.responses)) - 1]
        pieces = _pieces(canned.body, self.chunk)
        return httpx.Response(canned.status, headers=canned.headers, stream=_Body(pieces))

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

