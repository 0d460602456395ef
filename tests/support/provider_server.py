"""A fake provider on 127.0.0.1 for the provider tests: replays recorded bodies over real HTTP.

:class:`ProviderServer` is a raw asyncio HTTP/1.1 server (keep-alive, chunked responses) running in
the test's own event loop. Each request takes the next :class:`Reply` (the last one repeats) and
is recorded (method, path, headers, JSON body) in ``server.requests``.

A reply's body is written in pieces, each its own chunk and its own ``write()``/``drain()``:

* ``split="hostile"`` (default): cut inside every ``data:`` line (after ``da`` and in the middle of
  the JSON), inside every multi-byte UTF-8 character and right after every CR (so a CRLF is
  split between two writes);
* ``split=N``: pieces of N bytes; ``split=None``: one write.

Replies can also inject a status and headers (``Retry-After``, ``x-should-retry``, ...) and be
scripted: ``parts`` is a list of bytes and async callables (awaited between writes: wait for an
event set by a tool, for example), for streams no recording has (interleaved tool calls).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STREAMS = Path(__file__).resolve().parents[1] / "data" / "provider_streams"

Part = bytes | Callable[[], Awaitable[None]]


def hostile_pieces(body: bytes) -> list[bytes]:
    """Cut ``body`` inside ``data:`` lines, inside UTF-8 characters and after every CR."""
    cuts: set[int] = set()
    line_start = 0
    for i, byte in enumerate(body):
        if byte == 0x0D and i + 1 < len(body):
            cuts.add(i + 1)
        if 0x80 <= byte < 0xC0 and i > 0 and not 0x80 <= body[i - 1] < 0xC0:
            cuts.add(i)  # the first continuation byte of a multi-byte character
        if byte in (0x0A, 0x0D) or i == len(body) - 1:
            line = body[line_start:i]
            if line.startswith(b"data:"):
                cuts.add(line_start + 2)
                cuts.add(line_start + max(6, len(line) // 2))
            line_start = i + 1
    points = sorted(c for c in cuts if 0 < c < len(body))
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


@dataclass
class Reply:
    """One response: status, headers, body (or scripted ``parts``) and how to split it."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/event-stream"})
    split: int | str | None = "hostile"
    parts: Sequence[Part] | None = None

    @classmethod
    def recording(cls, path: Path, **kw: Any) -> Reply:
        """A recorded ``.sse`` or ``.body`` file, with the status of its sidecar."""
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        ctype = "text/event-stream" if path.suffix == ".sse" else "application/json"
        return cls(path.read_bytes(), int(meta.get("http_status", 200)), {"content-type": ctype}, **kw)

    @classmethod
    def sse(cls, *events: Any, done: bool = True, **kw: Any) -> Reply:
        """An event stream of ``data:`` events (dicts are JSON-encoded) and optionally ``[DONE]``."""
        lines = [f"data: {ev if isinstance(ev, str) else json.dumps(ev)}\n\n" for ev in events]
        if done:
            lines.append("data: [DONE]\n\n")
        return cls("".join(lines).encode(), **kw)

    def pieces(self) -> list[Part]:
        if self.parts is not None:
            return list(self.parts)
        if self.split is None or not self.body:
            return [self.body]
        if self.split == "hostile":
            return list(hostile_pieces(self.body))
        n = int(self.split)
        return [self.body[i:i + n] for i in range(0, len(self.body), n)]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ProviderServer:
    """``async with ProviderServer(reply, ...) as server:`` then ``server.url`` (``.../v1``)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[Request] = []
        self.writes = 0  # body writes made (pieces sent)
        self.connections = 0  # TCP connections accepted
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self.url = ""

    async def __aenter__(self) -> ProviderServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._conns):
            task.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Request(method, path, headers, body))
                reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
                await self._reply(writer, reply)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            self._conns.discard(task)

    async def _reply(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        head = [f"HTTP/1.1 {reply.status} X", "transfer-encoding: chunked"]
        head += [f"{k}: {v}" for k, v in reply.headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        for part in reply.pieces():
            if callable(part):
                await part()
                continue
            if not part:
                continue
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
            self.writes += 1
            await asyncio.sleep(0)
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def no_sleep(model: Any) -> Any:
    """``model`` (an HTTP provider model) with its retry waits recorded in ``model.slept``, not slept,
    and no jitter, so backoff figures are exact."""
    model.jitter = 0.0
    model.slept = []

    async def sleep(delay: float) -> None:
        model.slept.append(delay)

    model.sleep = sleep
    return model
