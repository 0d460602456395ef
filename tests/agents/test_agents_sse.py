"""SSE adapter end to end through uvicorn on 127.0.0.1 (the web server example: test_agents_examples)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel

from fieldstream.agents import Agent, ModelError, OfflineModel, Usage
from fieldstream.agents.sse import event_stream, sse_response


class Story(BaseModel):
    title: str
    content: str
    moral: str
    tags: list[str]
    year: int


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a background thread; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def parse_frames(text: str) -> list[tuple[int, str, dict[str, Any]]]:
    out = []
    for block in text.split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return out


async def collect(agent: Agent, query: str) -> list[tuple[int, str, dict[str, Any]]]:
    return parse_frames("".join([f async for f in event_stream(agent, query)]))


def check_run(frames: list[tuple[int, str, dict[str, Any]]]) -> dict[str, Any]:
    """Frames of one successful run are consistent; return the result."""
    assert [i for i, _, _ in frames] == list(range(1, len(frames) + 1))
    types = [t for _, t, _ in frames]
    assert types[-1] == "result" and types.count("result") == 1
    starts = [d["call_type"] for _, t, d in frames if t == "stream_start"]
    assert starts == [d["call_type"] for _, t, d in frames if t == "stream_end"] == ["think", "final_result"]
    result: dict[str, Any] = frames[-1][2]["result"]
    for key in ("title", "content", "moral"):
        text = "".join(d["delta"] for _, t, d in frames if t == "chunk" and d["json_path"] == key
                       and d["call_type"] == "final_result")
        assert text == result[key]
    fields = {d["json_path"]: d for _, t, d in frames if t == "field" and d["call_type"] == "final_result"}
    assert fields["year"] == {"call_type": "final_result", "json_path": "year", "value": result["year"],
                              "valid": True, "errors": None}
    assert [fields[f"tags[{i}]"]["value"] for i in range(len(result["tags"]))] == result["tags"]
    return result


def test_event_stream_frames_follow_the_contract() -> None:
    agent = Agent(name="S", output_schema=Story, model=OfflineModel(pace=0, seed=2))
    frames = asyncio.run(collect(agent, "fable"))
    result = check_run(frames)
    assert Story(**result) == asyncio.run(agent.process("fable"))
    assert {tuple(sorted(d)) for _, t, d in frames if t == "chunk"} == {("call_type", "delta", "json_path")}
    think = "".join(d["delta"] for _, t, d in frames if t == "chunk" and d["call_type"] == "think")
    assert think and all(d["json_path"] == "reasoning" for _, t, d in frames
                         if t == "chunk" and d["call_type"] == "think")


def test_event_stream_reports_invalid_fields_and_ends_with_an_error_frame() -> None:
    think = '{"reasoning": "r", "tool_calls": [], "is_complete": true, "final_result": null}'
    bad = '{"title": "t", "content": "c", "moral": "m", "tags": [], "year": "soon"}'
    model = OfflineModel(pace=0, script=[think, bad, ('{"title": "x', ModelError("upstream died"))])
    frames = asyncio.run(collect(Agent(name="E", output_schema=Story, model=model), "q"))
    invalid = [d for _, t, d in frames if t == "field" and not d["valid"]]
    assert [d["json_path"] for d in invalid] == ["year"] and invalid[0]["errors"][0]["type"] == "int_parsing"
    assert invalid[0]["value"] is None
    assert frames[-1][1:] == ("error", {"message": "upstream died", "type": "ModelError"})
    assert [t for _, t, _ in frames].count("stream_start") == 3  # think, final_result, its retry
    assert "result" not in [t for _, t, _ in frames]


def make_app(agent: Agent) -> FastAPI:
    app = FastAPI()

    @app.get("/story")
    async def story(q: str, request: Request) -> Any:
        return sse_response(agent, q, request=request)

    return app


def test_fifty_concurrent_sse_clients_get_their_own_unmixed_streams() -> None:
    agent = Agent(name="S", output_schema=Story, enable_streaming=True, model=OfflineModel(pace=0))

    Frames = list[tuple[int, str, dict[str, Any]]]

    async def client_run(client: httpx.AsyncClient, url: str, i: int) -> Frames:
        async with client.stream("GET", f"{url}/story", params={"q": f"query {i}"}) as resp:
            assert resp.status_code == 200
            return parse_frames("".join([t async for t in resp.aiter_text()]))

    async def main(url: str) -> list[Frames]:
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(*(client_run(client, url, i) for i in range(50)))

    with serve(make_app(agent)) as url:
        runs = asyncio.run(main(url))
    results = [check_run(frames) for frames in runs]
    assert len({r["content"] for r in results}) > 40
    for i in (0, 17, 49):  # each stream is the run of its own query
        assert Story(**results[i]) == asyncio.run(agent.process(f"query {i}"))


class EndlessModel:
    """Streams spaces forever; records when its stream is closed."""

    name = "endless"

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.started = threading.Event()

    async def stream(self, messages: Any, schema: Any, *, name: str = "") -> AsyncIterator[str | Usage]:
        try:
            yield '{"reasoning": "'
            self.started.set()
            while True:
                await asyncio.sleep(0.005)
                yield "la "
        finally:
            self.closed.set()


def test_client_disconnect_cancels_the_agent_and_closes_the_model_stream() -> None:
    model = EndlessModel()
    agent = Agent(name="D", model=model)
    with serve(make_app(agent)) as url, httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{url}/story", params={"q": "x"}) as resp:
            seen = ""
            for text in resp.iter_text():
                seen += text
                if seen.count("event: chunk") >= 3:
                    break
        assert model.closed.wait(10)
    assert "event: stream_start" in seen


def test_event_stream_closed_early_cancels_the_run() -> None:
    model = EndlessModel()

    async def main() -> set[asyncio.Task[Any]]:
        gen = event_stream(Agent(name="D", model=model), "x")
        async for frame in gen:
            if "event: chunk" in frame:
                break
        await gen.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0)
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    assert asyncio.run(main()) == set()
    assert model.closed.is_set()
