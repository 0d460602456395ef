"""``OpenAIChatModel`` against a fake OpenAI-compatible server that the tests start on 127.0.0.1.

The server is a real HTTP/1.1 server (``asyncio.start_server``, chunked SSE responses); the model
name in the request picks its behaviour: a normal stream, a stream that breaks mid-JSON, an error
event, transient 429/503 before success, a 400, or an endless slow stream (for cancellation).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pydantic import BaseModel

from fieldstream.agents import Agent, ModelError, OpenAIChatModel, Usage, hook


class Story(BaseModel):
    title: str
    content: str
    moral: str


THINK = {"reasoning": "Simple enough.", "tool_calls": [], "is_complete": True, "final_result": None}
STORY = {"title": "The Ant", "content": "The ant \"worked\" hard.\nThe end.", "moral": "Work pays."}


UNICODE_STORY = {"title": "line\u2028sep", "content": "para\u2029sep and next\u0085line \U0001f600",
                 "moral": "data: not a frame\nevent: error"}


def pieces(text: str, n: int = 5) -> list[str]:
    return [text[i:i + n] for i in range(0, len(text), n)]


class FakeServer:
    """Records requests and open connections; behaviour chosen by the request's ``model``."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.open = 0
        self.attempts: dict[str, int] = {}
        self.closed = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            lines = head.split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            body = json.loads(await reader.readexactly(int(headers["content-length"])))
            self.requests.append((headers, body))
            await self.respond(body, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open -= 1
            writer.close()
            self.closed.set()

    async def respond(self, body: dict[str, Any], w: asyncio.StreamWriter) -> None:
        model = body["model"]
        n = self.attempts[model] = self.attempts.get(model, 0) + 1
        if model == "flaky" and n <= 2:
            status = "429 Too Many Requests" if n == 1 else "503 Service Unavailable"
            w.write(f"HTTP/1.1 {status}\r\nContent-Length: 4\r\nRetry-After: 0.05\r\nConnection: close\r\n"
                    "\r\nbusy".encode())
            await w.drain()
            return
        if model == "bad-request":
            msg = b'{"error": {"message": "bad schema"}}'
            w.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                    % (len(msg), msg))
            await w.drain()
            return
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
                b"Connection: close\r\n\r\n")

        async def send(data: str) -> None:
            raw = data.encode()
            w.write(b"%x\r\n%s\r\n" % (len(raw), raw))
            await w.drain()

        def delta(text: str) -> str:
            return "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}) + "\n\n"

        name = body["response_format"]["json_schema"]["name"]
        answer = json.dumps(THINK if name == "think" else STORY)
        if model == "slow":
            while True:
                await send(delta(" "))
                await asyncio.sleep(0.01)
        if model == "break" and name == "final_result":
            for p in pieces(answer[:45]):
                await send(delta(p))
            w.transport.abort()  # mid-JSON, mid-body: no terminating chunk
            return
        if model == "raw-unicode" and name == "final_result":
            # raw (not escaped) U+2028/U+2029/U+0085 inside JSON strings, CRLF line ends, a retry field
            w_answer = json.dumps(UNICODE_STORY, ensure_ascii=False)
            await send("retry: 1000\r\n\r\n")
            for p in pieces(w_answer, 3):
                chunk = json.dumps({"choices": [{"index": 0, "delta": {"content": p}}]}, ensure_ascii=False)
                await send("data: " + chunk + "\r\n\r\n")
            await send("data: [DONE]\r\n\r\n")
            w.write(b"0\r\n\r\n")
            await w.drain()
            return
        if model == "error-event" and name == "final_result":
            await send(delta(answer[:20]))
            await send('event: error\ndata: {"error": {"message": "model overloaded"}}\n\n')
            w.write(b"0\r\n\r\n")
            return
        await send(": keep-alive comment\n\n")
        for p in pieces(answer):
            await send(delta(p))
        await send("data: " + json.dumps({"choices": [], "usage": {"prompt_tokens": 11,
                                                                  "completion_tokens": 7}}) + "\n\n")
        await send("data: [DONE]\n\n")
        w.write(b"0\r\n\r\n")
        await w.drain()


@asynccontextmanager
async def fake_server() -> AsyncIterator[tuple[FakeServer, str]]:
    fake = FakeServer()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield fake, f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()
        await server.wait_closed()


def run(fn: Callable[[FakeServer, str], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with fake_server() as (fake, url):
            return await fn(fake, url)
    return asyncio.run(main())


def test_agent_streams_fields_over_http_and_sends_the_schema_and_key() -> None:
    async def go(fake: FakeServer, url: str) -> None:
        chunks: list[tuple[str, str, str]] = []
        agent = Agent(name="H", output_schema=Story, enable_streaming=True,
                      model=OpenAIChatModel("ok", base_url=url, api_key="sk-fake"),
                      hooks=[hook("stream_chunk")(lambda c, chunk_data, **k: chunks.append(
                          (chunk_data["call_type"], chunk_data["json_path"], chunk_data["delta"])))])
        result = await agent.process("write")
        assert result == Story(**STORY)
        content = "".join(d for c, p, d in chunks if (c, p) == ("final_result", "content"))
        assert content == STORY["content"]  # decoded text: escapes and newline resolved
        assert "".join(d for c, p, d in chunks if c == "think") == THINK["reasoning"]
        headers, body = fake.requests[-1]
        assert headers["authorization"] == "Bearer sk-fake"
        assert body["stream"] is True and body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["schema"] == Story.model_json_schema()
        assert body["messages"][0]["role"] == "system"
        assert fake.open == 0

    run(go)


def test_raw_line_separators_in_provider_frames_are_not_line_ends() -> None:
    async def go(fake: FakeServer, url: str) -> None:
        items = [x async for x in OpenAIChatModel("raw-unicode", base_url=url).stream([], {},
                                                                                     name="final_result")]
        assert json.loads("".join(i for i in items if isinstance(i, str))) == UNICODE_STORY

    run(go)


def test_model_reports_usage_and_raw_deltas() -> None:
    async def go(fake: FakeServer, url: str) -> None:
        items = [x async for x in OpenAIChatModel("ok", base_url=url).stream([], {}, name="final_result")]
        assert items[-1] == Usage(requests=1, input_tokens=11, output_tokens=7)
        assert json.loads("".join(items[:-1])) == STORY
        assert "authorization" not in fake.requests[0][0]  # no key configured: no header

    run(go)


def test_stream_breaking_mid_json_fires_stream_error_with_partial_then_raises() -> None:
    async def go(fake: FakeServer, url: str) -> None:
        errors: list[tuple[str, Any]] = []
        agent = Agent(name="H", output_schema=Story, enable_streaming=True,
                      model=OpenAIChatModel("break", base_url=url, max_retries=0),
                      hooks=[hook("stream_error")(
                          lambda c, error, **k: errors.append((str(error), k["partial"])))])
        with pytest.raises(ModelError, match=r"broke off|without"):
            await agent.process("write")
        assert len(errors) == 1
        assert errors[0][1] == {"title": "The Ant", "content": 'The ant "wo'}  # the partial value so far

    run(go)


def test_error_event_raises_model_error_with_the_provider_message() -> None:
    async def go(fake: FakeServer, url: str) -> None:
        agent = Agent(name="H", output_schema=Story, model=OpenAIChatModel("error-event", base_url=url))
        with pytest.raises(ModelError, match="model overloaded"):
            await agent.process("write")

    run(go)


def test_429_and_503_are_retried_with_backoff_400_is_not() -> None:
    async def go(fake: FakeServer, url: str) -> None:
        m = OpenAIChatModel("flaky", base_url=url, backoff=0.001)
        waits: list[float] = []

        async def sleep(delay: float) -> None:
            waits.append(delay)

        m.sleep = sleep  # type: ignore[method-assign]
        items = [x async for x in m.stream([], {}, name="final_result")]
        assert waits == [0.05, 0.05]  # Retry-After beats the (tiny) exponential backoff
        assert json.loads("".join(i for i in items if isinstance(i, str))) == STORY
        assert fake.attempts["flaky"] == 3
        bad = OpenAIChatModel("bad-request", base_url=url, backoff=0.001)
        with pytest.raises(ModelError, match="HTTP 400") as info:
            [x async for x in bad.stream([], {})]
        assert info.value.status == 400 and fake.attempts["bad-request"] == 1
        m2 = OpenAIChatModel("flaky2", base_url=url, backoff=0.001, max_retries=0)
        fake.attempts["flaky"] = 0
        m2.name = "flaky"
        with pytest.raises(ModelError, match="HTTP 429"):
            [x async for x in m2.stream([], {})]

    run(go)


def test_connection_refused_is_retried_then_reported() -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        m = OpenAIChatModel("x", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, backoff=0.001)
        with pytest.raises(ModelError, match="cannot connect"):
            [x async for x in m.stream([], {})]

    asyncio.run(main())


def test_cancelling_process_closes_the_http_stream_and_leaves_no_tasks() -> None:
    async def go(fake: FakeServer, url: str) -> None:
        started = asyncio.Event()
        agent = Agent(name="H", enable_streaming=True, model=OpenAIChatModel("slow", base_url=url),
                      hooks=[hook("stream_start")(lambda c, **k: started.set())])
        task = asyncio.create_task(agent.process("write"))
        await started.wait()
        while not fake.requests:
            await asyncio.sleep(0.005)
        assert fake.open == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        fake.closed.clear()
        if fake.open:
            await asyncio.wait_for(fake.closed.wait(), 5)
        assert fake.open == 0  # the server saw the connection go away
        others = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
        assert all("handle" in repr(t.get_coro()) for t in others)  # only server-side handlers, finishing

    run(go)


def test_openai_without_an_api_key_fails_at_once_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    model = OpenAIChatModel("gpt-4o-mini")

    async def first_delta() -> object:
        async for item in model.stream([{"role": "user", "content": "hi"}], {"type": "object"}):
            return item
        return None

    with pytest.raises(ModelError, match="OPENAI_API_KEY"):
        asyncio.run(first_delta())
