"""The SSE side of hardening: keep-alive comments while a run is quiet, a send timeout for a client
that never reads (the run ends, the model stream is closed), container ``field`` frames that do not
repeat a huge value, and one depth limit in the agent path.

Frames are decoded with httpx-sse (the project's one decoder); the oracle for values is
``json.loads`` of the model's text.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from fieldstream.agents import Agent, OutputValidationError
from fieldstream.agents.sse import KEEPALIVE, encode_event, event_stream
from support.web import decode_sse

THINK_DONE = '{"reasoning": "ok", "tool_calls": [], "is_complete": true, "final_result": null}'


class Pieces:
    """A model whose final_result call streams ``pieces`` with ``delay`` seconds before each."""

    def __init__(self, pieces: Any, delay: float = 0.0) -> None:
        self.pieces = pieces
        self.delay = delay
        self.pulled = 0
        self.closed = 0

    async def stream(self, messages: Any, schema: Any, *, name: str = "call") -> AsyncIterator[str]:
        if name == "think":
            yield THINK_DONE
            return
        try:
            for piece in self.pieces:
                if self.delay:
                    await asyncio.sleep(self.delay)
                self.pulled += 1
                yield piece
        finally:
            self.closed += 1


class Items(BaseModel):
    items: list[str]


class Any_(BaseModel):
    data: Any


class C(BaseModel):
    c: list[str]


class B(BaseModel):
    b: C


class A(BaseModel):
    a: B


class Nested(BaseModel):
    data: A


async def body(agent: Agent, **kw: Any) -> str:
    return "".join([f async for f in event_stream(agent, "q", **kw)])


# ----------------------------------------------------------------------------------------- keep-alive


def test_a_quiet_run_sends_keep_alive_comments_that_clients_ignore() -> None:
    pieces = ['{"items": ["a", ', '"b"', "]}"]
    quiet = asyncio.run(body(Agent(name="K", output_schema=Items, model=Pieces(pieces, delay=0.08)),
                             keepalive=0.02))
    plain = asyncio.run(body(Agent(name="K", output_schema=Items, model=Pieces(pieces))))
    assert quiet.count(KEEPALIVE) >= 3 and KEEPALIVE not in plain
    assert KEEPALIVE == ": keep-alive\n"
    assert decode_sse(quiet) == decode_sse(plain)  # same frames, same ids: comments are invisible


def test_keep_alive_does_not_leak_a_pending_step_when_the_client_leaves() -> None:
    model = Pieces(['{"items": [', *(['"x", '] * 1000), '"y"]}'], delay=0.01)

    async def main() -> int:
        gen = event_stream(Agent(name="K", output_schema=Items, model=model), "q", keepalive=0.005)
        async for frame in gen:
            if frame == KEEPALIVE:
                break
        await gen.aclose()
        await asyncio.sleep(0)
        return len([t for t in asyncio.all_tasks() if t is not asyncio.current_task()])

    assert asyncio.run(main()) == 0
    assert model.closed == 1


# ------------------------------------------------------------------------------ container field frames


def test_a_huge_container_field_frame_omits_its_value_and_leaves_keep_theirs() -> None:
    # {"data": {"a": {"b": {"c": [6 000 strings]}}}}: without the cap each of the four container levels
    # repeats the whole list (4x the answer); with it, the list is sent once in chunks and once in result
    leaves = [f"item {i:05d}" for i in range(6_000)]
    text = json.dumps({"data": {"a": {"b": {"c": leaves}}}})
    model = Pieces([text[i:i + 4096] for i in range(0, len(text), 4096)])
    frames = decode_sse(asyncio.run(body(Agent(name="C", output_schema=Nested, model=model))))
    fields = {tuple(d["path"]): d for _, ev, d in frames
              if ev == "field" and d["call_type"] == "final_result"}
    for path in [("data",), ("data", "a"), ("data", "a", "b"), ("data", "a", "b", "c")]:
        assert fields[path]["value"] is None and fields[path]["omitted"] is True and fields[path]["valid"]
    assert [fields[("data", "a", "b", "c", i)]["value"] for i in range(len(leaves))] == leaves
    assert frames[-1][2] == {"result": json.loads(text)}
    # only the result frame carries the whole value; without the cap, every container level does
    big = [ev for _, ev, d in frames if len(json.dumps(d)) > 65_536]
    assert big == ["result"]
    model = Pieces([text])
    uncapped = decode_sse(asyncio.run(body(Agent(name="C", output_schema=Nested, model=model),
                                           max_value_chars=None)))
    assert [ev for _, ev, d in uncapped if len(json.dumps(d)) > 65_536] == ["field"] * 4 + ["result"]


def test_small_container_field_frames_still_carry_their_value() -> None:
    from fieldstream.agents import Field

    small = Field("final_result", ("items",), ["a", "b"])
    assert json.loads(encode_event(1, small).split("data: ")[1])["value"] == ["a", "b"]
    big = Field("final_result", ("items",), ["x" * 100] * 1000)
    assert json.loads(encode_event(1, big).split("data: ")[1])["omitted"] is True
    assert json.loads(encode_event(1, big, max_value_chars=None).split("data: ")[1])["value"] == big.value
    huge_leaf = Field("final_result", ("s",), "x" * 200_000)  # a leaf is never omitted (sent once)
    assert json.loads(encode_event(1, huge_leaf).split("data: ")[1])["value"] == huge_leaf.value


# ------------------------------------------------------------------------------------------ depth limit


@pytest.mark.parametrize("depth", [128, 129, 199, 200, 500, 999, 1000, 1100, 20_000])
def test_json_nested_too_deep_fails_the_call_with_the_parsers_depth_limit_error(depth: int) -> None:
    # one error, the parser's depth_limit, at every depth past the agent path's limit (128)
    text = '{"data": ' + "[" * depth + "1" + "]" * depth + "}"
    agent = Agent(name="D", output_schema=Any_, model=Pieces([text]), max_output_retries=0)
    with pytest.raises(OutputValidationError) as info:
        asyncio.run(agent.process("q"))
    assert [e["type"] for e in info.value.errors] == ["depth_limit"]


def test_json_nested_to_the_limit_streams_to_a_result_frame() -> None:
    text = '{"data": ' + "[" * 127 + "1" + "]" * 127 + "}"
    frames = decode_sse(asyncio.run(body(Agent(name="D", output_schema=Any_, model=Pieces([text])))))
    assert frames[-1][1:] == ("result", {"result": json.loads(text)})


# ----------------------------------------------------------------------------------------- send timeout


def test_a_client_that_never_reads_ends_the_run_by_the_send_timeout() -> None:
    pytest.importorskip("fastapi")
    from fastapi import FastAPI

    from fieldstream.agents.sse import sse_response
    from support.web import serve

    def endless() -> Any:
        yield '{"items": ['
        while True:
            yield '"' + "x" * 4000 + '", '

    model = Pieces(endless())
    app = FastAPI()

    @app.post("/run")
    async def run() -> Any:
        agent = Agent(name="S", output_schema=Items, model=model, max_output_chars=None, run_timeout=None)
        return sse_response(agent, "q", send_timeout=0.2)

    with serve(app) as url:
        host, port = url.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        sock.sendall(b"POST /run HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n" % url[7:].encode())
        try:
            for _ in range(600):  # wait (up to 30 s) for the run to end; the client never reads
                if model.closed:
                    break
                time.sleep(0.05)
        finally:
            sock.close()
    assert model.closed == 1
    # the socket buffers filled (about 350 pieces, 1.4 MB, were read here), then the run stopped
    # reading the model, and the send timeout ended it; an unbounded buffer would read on for ever
    assert 0 < model.pulled < 2_500


def test_sse_response_sends_keep_alive_lines_from_a_timer_over_http() -> None:
    pytest.importorskip("fastapi")
    import httpx
    from fastapi import FastAPI

    from fieldstream.agents.sse import sse_response
    from support.web import serve

    pieces = ['{"items": ["a", ', '"b"', "]}"]
    app = FastAPI()

    @app.post("/run/{keepalive}")
    async def run(keepalive: float) -> Any:
        model = Pieces(pieces, delay=0.1)
        return sse_response(Agent(name="K", output_schema=Items, model=model), "q",
                            keepalive=keepalive or None)

    with serve(app) as url, httpx.Client(timeout=30) as client:
        quiet = client.post(url + "/run/0.02").text
        plain = client.post(url + "/run/0").text
    assert quiet.count(KEEPALIVE) >= 6 and KEEPALIVE not in plain
    assert decode_sse(quiet) == decode_sse(plain) and decode_sse(plain)[-1][1] == "result"
    assert quiet.replace(KEEPALIVE, "") == plain  # only between frames, never inside one
