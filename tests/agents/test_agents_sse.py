"""The SSE encoder end to end through uvicorn on 127.0.0.1; frames are read with httpx-sse only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from fieldstream.agents import (
    Agent,
    Chunk,
    ModelError,
    OfflineModel,
    OutputValidationError,
    Result,
    RunError,
    StreamStart,
    Usage,
)
from fieldstream.agents.sse import FRAME_TYPES, encode_event, event_stream, sse_response
from support.web import Frame, aiter_frames, decode_sse, frames_of, iter_frames, scripted_agent, serve


class Story(BaseModel):
    title: str
    content: str
    moral: str
    tags: list[str]
    year: int


THINK = '{"reasoning": "r", "tool_calls": [], "is_complete": true, "final_result": null}'


def parse_frames(text: str) -> list[Frame]:
    return decode_sse(text)


async def collect(agent: Agent, query: str, **kw: Any) -> str:
    return "".join([f async for f in event_stream(agent, query, **kw)])


def check_run(frames: list[Frame]) -> dict[str, Any]:
    """Frames of one successful run are consistent; return the result."""
    assert [i for i, _, _ in frames] == list(range(1, len(frames) + 1))
    types = [t for _, t, _ in frames]
    assert set(types) <= set(FRAME_TYPES)
    assert types[-1] == "result" and types.count("result") == 1
    starts = [d["call_type"] for _, t, d in frames if t == "stream_start"]
    assert starts == [d["call_type"] for _, t, d in frames if t == "stream_end"] == ["think", "final_result"]
    result: dict[str, Any] = frames[-1][2]["result"]
    for key in ("title", "content", "moral"):
        text = "".join(d["delta"] for _, t, d in frames if t == "chunk" and d["path"] == [key]
                       and d["call_type"] == "final_result")
        assert text == result[key]
    fields = {tuple(d["path"]): d for _, t, d in frames if t == "field" and d["call_type"] == "final_result"}
    assert fields[("year",)] == {"call_type": "final_result", "path": ["year"], "json_path": "year",
                                 "value": result["year"], "valid": True, "errors": None}
    assert [fields[("tags", i)]["value"] for i in range(len(result["tags"]))] == result["tags"]
    return result


def test_event_stream_frames_follow_the_contract() -> None:
    agent = Agent(name="S", output_schema=Story, model=OfflineModel(pace=0, seed=2))
    text = asyncio.run(collect(agent, "fable"))
    assert text.isascii()
    frames = parse_frames(text)
    result = check_run(frames)
    assert Story(**result) == asyncio.run(agent.process("fable"))
    assert {tuple(sorted(d)) for _, t, d in frames if t == "chunk"} == {
        ("call_type", "delta", "json_path", "path")}
    think = "".join(d["delta"] for _, t, d in frames if t == "chunk" and d["call_type"] == "think")
    assert think and all(d["path"] == ["reasoning"] for _, t, d in frames
                         if t == "chunk" and d["call_type"] == "think")


def test_frames_equal_the_typed_events_they_encode() -> None:
    agent = Agent(name="S", output_schema=Story, model=OfflineModel(pace=0, seed=4))

    async def events() -> list[Any]:
        return [e async for e in agent.stream("q")]

    evs = [e for e in asyncio.run(events()) if e.type in FRAME_TYPES]
    frames = parse_frames(asyncio.run(collect(agent, "q")))
    assert [(t, d) for _, t, d in frames] == [(e.type, json.loads(json.dumps(e.to_json()))) for e in evs]


def test_event_stream_reports_invalid_fields_and_ends_with_a_safe_error_frame() -> None:
    bad = '{"title": "t", "content": "c", "moral": "m", "tags": [], "year": "soon"}'
    model = OfflineModel(pace=0, script=[THINK, bad, ('{"title": "x', ModelError("upstream died"))])
    frames = parse_frames(asyncio.run(collect(Agent(name="E", output_schema=Story, model=model), "q")))
    invalid = [d for _, t, d in frames if t == "field" and not d["valid"]]
    assert [d["path"] for d in invalid] == [["year"]] and invalid[0]["errors"][0]["type"] == "int_parsing"
    assert invalid[0]["value"] is None
    assert frames[-1][1:] == ("error", {"type": "ModelError", "message": "the model provider failed"})
    assert [i for i, _, _ in frames] == list(range(1, len(frames) + 1))  # the error frame gets the next id
    assert [t for _, t, _ in frames].count("stream_start") == 3  # think, final_result, its retry
    assert "result" not in [t for _, t, _ in frames]


SECRET_URL = "http://admin:hunter2@10.1.2.3:8080/v1"
SECRET_BODY = ('{"error": {"message": "Incorrect API key provided: sk-proj-AbC1...xYz9", '
               '"host": "llm-7.internal"}}')


@pytest.mark.parametrize("exc", [
    ModelError(f"HTTP 401 from {SECRET_URL}: {SECRET_BODY}", status=401),
    ModelError(f"cannot connect to {SECRET_URL}: ConnectError('x')", retryable=True),
    RuntimeError(f"bug while calling {SECRET_URL}: {SECRET_BODY}"),
])
def test_error_frames_never_leak_urls_credentials_or_provider_bodies(
        exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    agent = Agent(name="L", output_schema=Story, model=OfflineModel(pace=0, script=[THINK, exc]))
    with caplog.at_level(logging.ERROR, logger="fieldstream.agents"):
        text = asyncio.run(collect(agent, "q"))
    *_, (_, kind, data) = parse_frames(text)
    assert kind == "error" and set(data) == {"type", "message"}
    for secret in ("hunter2", "admin", "10.1.2.3", "sk-proj", "xYz9", "internal", "http"):
        assert secret not in text
    assert data["type"] == ("ModelError" if isinstance(exc, ModelError) else "InternalError")
    if getattr(exc, "status", None) == 401:
        assert data["message"] == "the model provider failed (HTTP 401)"
    # the details go to the server log, at error level
    [record] = [r for r in caplog.records if r.name == "fieldstream.agents" and r.levelno == logging.ERROR]
    assert "hunter2" in record.getMessage() and record.exc_info is not None
    # debug=True opts in to the details
    agent = Agent(name="L", output_schema=Story, model=OfflineModel(pace=0, script=[THINK, exc]))
    debug = parse_frames(asyncio.run(collect(agent, "q", debug=True)))[-1][2]
    assert debug == {"type": type(exc).__name__, "message": str(exc)}


def test_output_validation_error_frame_names_the_call_but_not_the_model_text() -> None:
    bad = '{"title": "t", "content": "SECRET-MODEL-TEXT", "moral": "m", "tags": [], "year": "soon"}'
    agent = Agent(name="V", output_schema=Story, model=OfflineModel(pace=0, script=[THINK, bad]),
                  max_output_retries=0)
    text = asyncio.run(collect(agent, "q"))
    *_, (_, kind, data) = parse_frames(text)
    assert (kind, data["type"]) == ("error", "OutputValidationError")
    assert "final_result" in data["message"] and "soon" not in data["message"]


def test_encode_event_escapes_every_non_ascii_character_and_refuses_unframed_events() -> None:
    hostile = "A\ud800B\u2028C\u2029D\u0085E\r\nevent: result\ndata: {}\n\n\U0001f600"
    frame = encode_event(7, Chunk("final_result", ("content",), hostile))
    assert frame.isascii() and frame.count("\n") == 4 and frame.endswith("\n\n")
    [(n, kind, data)] = parse_frames(frame)
    assert (n, kind, data["delta"], data["path"]) == (7, "chunk", hostile, ["content"])
    assert decode_sse(encode_event(1, Result("final_result", {"x": float("inf")})))[0][2] == {
        "result": {"x": None}}
    err = decode_sse(encode_event(2, RunError(ModelError("x", status=503))))[0][2]
    assert err == {"type": "ModelError", "message": "the model provider failed (HTTP 503)"}
    from fieldstream.agents import StreamError

    with pytest.raises(ValueError, match="not sent"):
        encode_event(3, StreamError("think", ModelError("x")))
    assert encode_event(1, StreamStart("think")) == (
        'id: 1\nevent: stream_start\ndata: {"call_type":"think"}\n\n')


def make_app(agent: Agent | None = None, factory: Any = None) -> FastAPI:
    app = FastAPI()

    @app.get("/story")
    async def story(q: str, request: Request) -> Any:
        return sse_response(factory() if factory else agent, q, request=request)

    return app


def test_lone_surrogate_and_line_separators_in_model_text_end_in_a_normal_result_over_http() -> None:
    # "A\ud800B" is legal JSON; its lone surrogate streams in chunk frames before the schema layer
    # rejects the string (pydantic refuses lone surrogates), then the retry's answer is accepted.
    surrogate = '{"title": "A\\ud800B", "content": "c", "moral": "m", "tags": [], "year": 2000}'
    story = ('{"title": "t", "content": "one\u2028two\u2029three\u0085four\\r\\nevent: result\\n'
             'data: {}\\n\\n", "moral": "m", "tags": ["x"], "year": 2000}')
    expected = json.loads(story)  # the oracle

    def factory() -> Agent:
        return Agent(name="U", output_schema=Story, max_output_retries=1,
                     model=OfflineModel(pace=0, script=[THINK, surrogate, story]))

    with serve(make_app(factory=factory)) as url, httpx.Client(timeout=30) as client:
        raw = client.get(f"{url}/story", params={"q": "x"}).content
        with client.stream("GET", f"{url}/story", params={"q": "x"}) as resp:
            frames = frames_of(resp)
    assert raw.isascii() and b"\\ud800" in raw and b"\\u2028" in raw
    assert "A\ud800" in "".join(d["delta"] for _, t, d in frames if t == "chunk" and d["path"] == ["title"])
    assert frames[-1][1] == "result" and frames[-1][2]["result"] == expected
    assert [i for i, _, _ in frames] == list(range(1, len(frames) + 1))
    assert [t for _, t, _ in frames].count("result") == 1 and "error" not in [t for _, t, _ in frames]


def test_fifty_concurrent_sse_clients_get_their_own_unmixed_streams() -> None:
    agent = Agent(name="S", output_schema=Story, enable_streaming=True, model=OfflineModel(pace=0))

    async def client_run(client: httpx.AsyncClient, url: str, i: int) -> list[Frame]:
        async with client.stream("GET", f"{url}/story", params={"q": f"query {i}"}) as resp:
            assert resp.status_code == 200
            return [f async for f in aiter_frames(resp)]

    async def main(url: str) -> list[list[Frame]]:
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
            seen: list[str] = []
            for _, kind, _ in iter_frames(resp):
                seen.append(kind)
                if seen.count("chunk") >= 3:
                    break
        assert model.closed.wait(10)
    assert seen[0] == "stream_start"


def test_a_send_failure_ends_the_run_and_closes_the_model_stream() -> None:
    model = EndlessModel()
    sent: list[int] = []

    class FailingSend:
        """ASGI middleware whose ``send`` breaks after three body messages (a dead connection)."""

        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            async def broken(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.body":
                    sent.append(len(message.get("body", b"")))
                    if len(sent) > 3:
                        raise OSError("connection reset by peer")
                await send(message)

            await self.app(scope, receive, broken)

    app = make_app(Agent(name="F", model=model))
    app.add_middleware(FailingSend)
    with serve(app) as url, httpx.Client(timeout=30) as client:
        with pytest.raises(httpx.HTTPError), client.stream("GET", f"{url}/story", params={"q": "x"}) as resp:
            for _ in resp.iter_bytes():
                pass
        assert model.closed.wait(10), "the run went on after the send failed"
    assert len(sent) == 4


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


def test_an_output_field_named_final_result_streams_under_its_own_path() -> None:
    class Out(BaseModel):
        final_result: str
        note: str

    answer = '{"final_result": "the answer is forty-two", "note": "n"}'
    agent = Agent(name="F", output_schema=Out, model=OfflineModel(pace=0, script=[THINK, answer]))
    frames = parse_frames(asyncio.run(collect(agent, "q")))
    chunks = [d for _, t, d in frames if t == "chunk" and d["call_type"] == "final_result"]
    assert "".join(d["delta"] for d in chunks if d["path"] == ["final_result"]) == "the answer is forty-two"
    assert frames[-1][2]["result"] == json.loads(answer)


def test_errors_before_any_call_get_an_error_frame_with_id_1() -> None:
    class Query(BaseModel):
        topic: str

    agent = Agent(name="I", input_schema=Query, model=OfflineModel(pace=0))
    frames = parse_frames(asyncio.run(collect(agent, {"nope": "x"})))  # type: ignore[arg-type]
    assert frames == [(1, "error", {"type": "ValidationError",
                                    "message": "the input does not match the agent's input schema"})]
    assert issubclass(OutputValidationError, Exception)


# ------------------------------------------------------------------------------------------------------
# Mutation survivors of the sse scope (kills worktree): public error messages of every error class,
# the container-omission boundary, logging and cancellation of event_stream, and SSEResponse driven
# directly as an ASGI app (no server: a recording ``send`` and a ``receive`` that never disconnects).


def test_public_error_messages_of_every_limit_and_library_error() -> None:
    from fieldstream._errors import FieldstreamError, LimitExceededError
    from fieldstream.agents import ModelStalledError, OutputTooLargeError, RunTimeoutError
    from fieldstream.agents._safe import public_error

    cases = [
        (RunTimeoutError(2.5), "RunTimeoutError", "the run took longer than its time limit (2.5 s)"),
        (ModelStalledError(90.0), "ModelStalledError",
         "the model sent nothing for 90 s; the run was stopped"),
        (OutputTooLargeError(1000), "OutputTooLargeError",
         "the model's output passed the limit of 1000 characters"),
        (LimitExceededError("secret http://u:p@h", limit="custom", value=3), "LimitExceededError",
         "the run hit a limit"),
        (FieldstreamError("secret http://u:p@h"), "FieldstreamError", "the agent run failed"),
        (RuntimeError("secret http://u:p@h"), "InternalError",
         "the agent run failed (details are in the server log)"),
    ]
    for exc, kind, message in cases:
        # safe by default: public_error's own default, and the error frame of the encoder
        assert public_error(exc) == {"type": kind, "message": message}
        frame = {"type": kind, "message": message}
        assert decode_sse(encode_event(4, RunError(exc))) == [(4, "error", frame)]
        assert public_error(exc, debug=True) == {"type": type(exc).__name__, "message": str(exc)}


def test_only_pydantic_validation_errors_are_reported_as_input_validation_errors() -> None:
    import pydantic

    from fieldstream.agents._safe import public_error

    class ValidationError(Exception):  # a user's class of the same name: not the input schema's error
        pass

    assert public_error(ValidationError("x"))["type"] == "InternalError"
    assert public_error(pydantic.PydanticUserError("x", code=None))["type"] == "InternalError"
    try:
        Story.model_validate({})
    except pydantic.ValidationError as exc:
        assert public_error(exc) == {"type": "ValidationError",
                                     "message": "the input does not match the agent's input schema"}


def test_a_container_field_frame_keeps_its_value_up_to_exactly_max_value_chars() -> None:
    from fieldstream.agents import Field
    from fieldstream.agents.sse import MAX_VALUE_CHARS

    assert MAX_VALUE_CHARS == 65_536  # the documented 64 KiB

    def data(n: int) -> dict[str, Any]:
        [(_, _, d)] = decode_sse(encode_event(1, Field("final_result", ("items",), ["x" * n])))
        return d

    base = len(encode_event(1, Field("final_result", ("items",), [""])).split("data: ")[1]) - 2
    at_limit = MAX_VALUE_CHARS - base  # the frame's data is exactly MAX_VALUE_CHARS long
    assert data(at_limit)["value"] == ["x" * at_limit] and "omitted" not in data(at_limit)
    assert data(at_limit + 1)["value"] is None and data(at_limit + 1)["omitted"] is True


def test_the_error_log_names_the_agent_and_the_call_that_failed(caplog: pytest.LogCaptureFixture) -> None:
    class Query(BaseModel):
        topic: str

    agent = Agent(name="Logged", output_schema=Story,
                  model=OfflineModel(pace=0, script=[THINK, ('{"title": "x', ModelError("boom"))]))
    early = Agent(name="Early", input_schema=Query, model=OfflineModel(pace=0))
    with caplog.at_level(logging.ERROR, logger="fieldstream.agents"):
        asyncio.run(collect(agent, "q"))
        asyncio.run(collect(early, {"nope": "x"}))  # type: ignore[arg-type]
    records = [r for r in caplog.records if r.name == "fieldstream.agents" and r.levelno == logging.ERROR]
    assert [r.args[:3] for r in records] == [  # type: ignore[index]
        ("Logged", "final_result", "ModelError"), ("Early", "setup", "ValidationError")]
    assert records[0].getMessage() == "agent 'Logged': run failed (during final_result): ModelError: boom"


class Blocking:
    """think is done at once; final_result streams ``first`` then waits for ``go`` (never, by
    default), then streams ``rest``; records whether its stream was closed."""

    def __init__(self, first: str = '{"title": "t', rest: str = "", pause: float = 0.0,
                 patience: float | None = None) -> None:
        self.first = first
        self.rest = rest
        self.pause = pause
        self.patience = patience  # at most this long a wait for ``go`` (a hang guard)
        self.go = asyncio.Event()
        self.closed = False

    async def stream(self, messages: Any, schema: Any, *, name: str = "") -> AsyncIterator[str]:
        if name == "think":
            yield THINK
            return
        try:
            yield self.first
            await asyncio.wait_for(self.go.wait(), self.patience)
            await asyncio.sleep(self.pause)
            yield self.rest
        finally:
            self.closed = True


def test_cancelling_the_task_that_reads_event_stream_cancels_it_and_the_run() -> None:
    model = Blocking()

    async def main() -> tuple[bool, list[str]]:
        seen: list[str] = []

        async def read() -> None:
            async for frame in event_stream(Agent(name="C", output_schema=Story, model=model), "q"):
                seen.append(frame)

        task = asyncio.ensure_future(read())
        while not any('"path":["title"]' in f for f in seen):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return task.cancelled(), seen

    cancelled, seen = asyncio.run(main())
    assert cancelled  # the CancelledError reaches the reader (not swallowed into a normal end)
    assert model.closed and "event: error" not in "".join(seen)


def test_closing_event_stream_cancels_a_step_that_waits_for_ever() -> None:
    from fieldstream.agents.sse import KEEPALIVE

    model = Blocking()

    async def main() -> bool:
        gen = event_stream(Agent(name="W", output_schema=Story, model=model), "q", keepalive=0.005)
        async for frame in gen:
            if frame == KEEPALIVE:  # the next step is pending, its model waits for ever
                break
        closing = asyncio.ensure_future(gen.aclose())  # type: ignore[attr-defined]
        done, _ = await asyncio.wait({closing}, timeout=10)  # a hang guard, not a timing assert
        closing.cancel()
        model.go.set()
        return closing in done

    assert asyncio.run(main()), "closing the stream waited for the model instead of cancelling it"
    assert model.closed


class Broken(Exception):
    pass


async def drive(resp: Any, on_send: Any = None, late: float = 0.0) -> list[dict[str, Any]]:
    """Run a Starlette response as an ASGI app the way uvicorn calls it (HTTP spec 2.3); return the
    messages it sent. ``late``: seconds the first ``receive`` blocks the loop before it waits (the
    response's timers are then due before its body task starts)."""
    sent: list[dict[str, Any]] = []
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        time.sleep(late)
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if on_send is not None:
            await on_send(message)

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"", "headers": []}
    await resp(scope, receive, send)
    return sent


@pytest.mark.parametrize("keepalive", [None, 30.0])
def test_sse_response_without_send_timeout_sends_each_frame_once_safe_and_uncached(
        keepalive: float | None) -> None:
    def agent() -> Agent:
        script = [THINK, f"{SECRET_URL} said no", ModelError(SECRET_BODY)]
        return Agent(name="R", output_schema=Story, model=OfflineModel(pace=0, script=script))

    oracle = asyncio.run(collect(agent(), "q"))  # the one-connection encoder, debug off
    sent = asyncio.run(drive(sse_response(agent(), "q", send_timeout=None, keepalive=keepalive)))
    start, *bodies = sent
    assert start["type"] == "http.response.start" and start["status"] == 200
    headers = dict(start["headers"])
    assert headers[b"cache-control"] == b"no-cache" and headers[b"x-accel-buffering"] == b"no"
    assert headers[b"content-type"].startswith(b"text/event-stream")
    assert [m["more_body"] for m in bodies] == [True] * (len(bodies) - 1) + [False]
    text = b"".join(m["body"] for m in bodies).decode()
    assert text == oracle and "hunter2" not in text
    error = {"type": "ModelError", "message": "the model provider failed"}
    assert decode_sse(text)[-1][1:] == ("error", error)


def test_a_failed_keep_alive_ends_the_run_at_the_next_frame_with_its_error() -> None:
    from fieldstream.agents.sse import KEEPALIVE

    model = Blocking('{"title": "t', '", "content": "c"', pause=0.1)  # time for a (wrong) second beat
    beats: list[bytes] = []

    async def on_send(message: dict[str, Any]) -> None:
        if message.get("body") == KEEPALIVE.encode():
            beats.append(message["body"])
            model.go.set()  # the run goes on, but its next frame must not be sent
            raise Broken("socket gone")

    async def main() -> list[dict[str, Any]]:
        resp = sse_response(Agent(name="B", output_schema=Story, model=model), "q", keepalive=0.01,
                            send_timeout=None)
        return await drive(resp, on_send)

    with pytest.raises(Broken, match="socket gone"):
        asyncio.run(main())
    assert model.closed and len(beats) == 1  # the heartbeat stopped at its first failure


def test_keep_alives_never_precede_the_response_start_even_when_the_timer_is_due_first() -> None:
    from fieldstream.agents.sse import KEEPALIVE

    rest = '", "content": "c", "moral": "m", "tags": [], "year": 1}'
    model = Blocking('{"title": "t', rest, patience=5)

    async def on_send(message: dict[str, Any]) -> None:
        if message.get("body") == KEEPALIVE.encode():
            model.go.set()  # the quiet run goes on after its first keep-alive

    async def main() -> list[dict[str, Any]]:
        resp = sse_response(Agent(name="K", output_schema=Story, model=model), "q", keepalive=0.005)
        return await drive(resp, on_send, late=0.02)  # the heartbeat runs before the body task

    start, *bodies = asyncio.run(main())
    assert start["type"] == "http.response.start"
    assert all(m["type"] == "http.response.body" for m in bodies)
    assert KEEPALIVE.encode() in [m["body"] for m in bodies]
    frames = decode_sse(b"".join(m["body"] for m in bodies).decode())
    assert frames[-1][1:] == ("result", {"result": {"title": "t", "content": "c", "moral": "m", "tags": [],
                                                    "year": 1}})


class Steady:
    """think is done at once; final_result streams ``pieces``, giving the loop a turn before each."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces

    async def stream(self, messages: Any, schema: Any, *, name: str = "") -> AsyncIterator[str]:
        if name == "think":
            yield THINK
            return
        for piece in self.pieces:
            await asyncio.sleep(0)
            yield piece


def test_no_keep_alive_while_frames_flow_even_if_the_run_outlasts_the_interval() -> None:
    from fieldstream.agents.sse import KEEPALIVE

    story = '{"title": "t", "content": "c", "moral": "m", "tags": [], "year": 1}'
    slow: list[int] = []

    async def on_send(message: dict[str, Any]) -> None:
        # a slow client for the first frames: each takes 0.15 s to send, the run 0.6 s in all, so the
        # keep-alive interval (0.25 s) passes during the run, but never between two frames
        if message.get("body") and len(slow) < 4:
            slow.append(1)
            time.sleep(0.15)

    async def main() -> list[dict[str, Any]]:
        pieces = [story[i:i + 3] for i in range(0, len(story), 3)]
        agent = Agent(name="F", output_schema=Story, model=Steady(pieces))
        return await drive(sse_response(agent, "q", keepalive=0.25), on_send)

    _, *bodies = asyncio.run(main())
    text = b"".join(m["body"] for m in bodies).decode()
    assert KEEPALIVE not in text
    assert decode_sse(text)[-1][1:] == ("result", {"result": json.loads(story)})


def test_a_send_that_times_out_ends_the_run_with_a_warning_not_an_error(
        caplog: pytest.LogCaptureFixture) -> None:
    story = '{"title": "t", "content": "c", "moral": "m", "tags": [], "year": 1}'
    model = Steady([story[i:i + 3] for i in range(0, len(story), 3)])
    stuck = asyncio.Event()

    async def on_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            # a client that stopped reading: the send never completes (5 s: a hang guard if the
            # send timeout does not fire)
            await asyncio.wait_for(stuck.wait(), 5)

    async def main() -> list[dict[str, Any]]:
        resp = sse_response(Agent(name="T", output_schema=Story, model=model), "q", send_timeout=0.05,
                            keepalive=None)
        return await drive(resp, on_send)

    with caplog.at_level(logging.WARNING, logger="fieldstream.agents"):
        start, *bodies = asyncio.run(main())  # no exception: the response just ends
    assert start["type"] == "http.response.start" and len(bodies) == 1  # the one frame that never went out
    [record] = [r for r in caplog.records if r.name == "fieldstream.agents"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == ("SSE client did not read for no frame could be sent for 0.05 s; "
                                   "the run was ended")


def test_no_keep_alive_after_the_last_body_message_even_if_the_loop_stalls_right_after_it() -> None:
    story = '{"title": "t", "content": "c", "moral": "m", "tags": [], "year": 1}'

    async def on_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message["more_body"]:
            time.sleep(0.05)  # the keep-alive timer (0.02 s) is due: the heartbeat queues on the lock
            await asyncio.sleep(0)
            # another task stalls the loop right after this send, before the heartbeat wakes up
            asyncio.get_running_loop().call_soon(time.sleep, 0.05)

    async def main() -> list[dict[str, Any]]:
        agent = Agent(name="Z", output_schema=Story, model=Steady([story]))
        return await drive(sse_response(agent, "q", keepalive=0.02), on_send)

    _, *bodies = asyncio.run(main())
    assert bodies[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert decode_sse(b"".join(m["body"] for m in bodies).decode())[-1][1] == "result"


# ------------------------------------------------------------------------------ timer arguments (lead)
@pytest.mark.parametrize("value", [0, 0.0, -1.0, float("nan")])
def test_a_keepalive_or_send_timeout_that_would_spin_is_refused_at_once(value: float) -> None:
    # a 0 s timer makes the heartbeat / wait loop run without yielding: a hung event loop
    from fieldstream import UsageError
    from fieldstream.agents.sse import event_stream, sse_response

    with pytest.raises(UsageError, match="keepalive must be a number of seconds > 0"):
        sse_response(scripted_agent(), "q", keepalive=value)
    with pytest.raises(UsageError, match="send_timeout must be a number of seconds > 0"):
        sse_response(scripted_agent(), "q", send_timeout=value)

    async def first() -> str:
        return await event_stream(scripted_agent(), "q", keepalive=value).__anext__()
    with pytest.raises(UsageError, match="keepalive"):
        asyncio.run(first())
    assert sse_response(scripted_agent(), "q", keepalive=None, send_timeout=None) is not None
