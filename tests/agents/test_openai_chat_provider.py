"""``OpenAIChatModel`` and the Agent on it, against ``support.provider_server`` on 127.0.0.1.

* the replay suite: every recorded OpenAI-compatible chat stream (sidecar ``api: openai-chat``) and
  every recorded HTTP error body of those providers, served with hostile write splits, compared
  with the sidecar's ``expect`` (text, reasoning, refusal, tool calls, finish reason, errors);
* each failure mode of the reader, with the exception type and the number of requests asserted;
* the retry rules (``Retry-After`` seconds/date, ``retry-after-ms``, ``x-should-retry``, cap, jitter);
* one HTTP client per model; reasoning as think; lenient output; native tool calling.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import BaseModel

from fieldstream import ModelError, ProviderError, RefusalError, TruncatedOutputError
from fieldstream.agents import Agent, Chunk, Field, OpenAIChatModel, StreamEnd, StreamError, hook, tool
from fieldstream.agents.models import Finish, ReasoningDelta, RefusalDelta, ToolCallDelta
from fieldstream.agents.models._openai import ChatDecoder
from support.provider_server import STREAMS, ProviderServer, Reply, hostile_pieces

T = TypeVar("T")


@tool
def noop() -> str:
    """Do nothing (gives an agent a tool, so it calls the provider with native tool calling)."""
    return ""


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def _chat_cases() -> list[Path]:
    out = []
    for meta in sorted(STREAMS.glob("*/*.json")):
        api = json.loads(meta.read_text(encoding="utf-8")).get("api")
        if api == "openai-chat":
            out.append(meta.with_suffix(".sse"))
        elif api == "http-error" and meta.parent.name in ("openai", "deepseek", "groq", "openrouter"):
            out.append(meta.with_suffix(".body"))
    return out


CASES = _chat_cases()


def _expect(path: Path) -> dict[str, Any]:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["expect"]  # type: ignore[no-any-return]


def model_for(server: ProviderServer, *, own_client: bool = False, **kw: Any) -> OpenAIChatModel:
    """A model on ``server`` whose backoff waits are recorded, not slept.

    The client is made here without TLS set-up (building the default SSL context costs more than a
    whole replay on a loaded machine; the server is plain HTTP) and handed to the model to own;
    ``own_client=True`` lets the model create its client itself.
    """
    client = None if own_client else httpx.AsyncClient(verify=False)
    model = OpenAIChatModel("test-model", base_url=server.url, api_key="sk-test", http_client=client, **kw)
    model._own_client = True
    model.slept = []  # type: ignore[attr-defined]

    async def sleep(delay: float) -> None:
        model.slept.append(delay)  # type: ignore[attr-defined]

    model.sleep = sleep
    return model


async def collect(model: OpenAIChatModel, **kw: Any) -> tuple[dict[str, Any], BaseException | None]:
    """Drain ``stream_items``: what a correct client extracts, and the exception that ended it."""
    got: dict[str, Any] = {"text": "", "reasoning": "", "refusal": "", "tool_calls": {}, "finish": None}
    error: BaseException | None = None
    try:
        async for item in model.stream_items([{"role": "user", "content": "hi"}], kw.get("schema"),
                                             tools=kw.get("tools")):
            if isinstance(item, str):
                got["text"] += item
            elif isinstance(item, ReasoningDelta):
                got["reasoning"] += item.text
            elif isinstance(item, RefusalDelta):
                got["refusal"] += item.text
            elif isinstance(item, ToolCallDelta):
                call = got["tool_calls"].setdefault(item.index, {"id": item.id, "name": item.name,
                                                                 "arguments": ""})
                call["arguments"] += item.arguments_delta
            elif isinstance(item, Finish):
                got["finish"] = item
    except Exception as exc:
        error = exc
    return got, error


# ---------------------------------------------------------------------------- the replay suite


def test_the_replay_suite_covers_every_recorded_chat_stream() -> None:
    sse = [p for p in CASES if p.suffix == ".sse"]
    bodies = [p for p in CASES if p.suffix == ".body"]
    assert len(sse) == 40 and len(bodies) == 6  # grows with the recordings; update with them
    assert len({p.parent.name for p in sse}) == 10  # providers


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_stream_replays_to_its_expect(path: Path) -> None:
    exp = _expect(path)

    async def go() -> tuple[dict[str, Any], BaseException | None, int]:
        async with ProviderServer(Reply.recording(path)) as server:
            async with model_for(server, max_retries=0) as model:
                got, error = await collect(model)
            return got, error, len(server.requests)

    got, error, requests = run(go())
    assert requests == 1
    if path.suffix == ".body":  # an HTTP error: the provider's own message, type and code
        assert isinstance(error, ProviderError)
        assert error.status == json.loads(path.with_suffix(".json").read_text())["http_status"]
        assert exp["message"] in str(error)
        assert error.provider_type == exp["type"]
        assert error.code == (None if exp["code"] is None else str(exp["code"]))
        return
    assert got["text"] == exp["text"]
    assert got["reasoning"] == exp["reasoning"]
    assert got["refusal"] == (exp["refusal"] or "")
    calls = [{"id": c["id"], "name": c["name"], "arguments": c["arguments"], "index": i}
             for i, c in sorted(got["tool_calls"].items())]
    assert calls == [{**c, "id": c["id"] or None} for c in exp["tool_calls"]]
    if exp["errors"]:
        assert isinstance(error, ProviderError), error
        assert exp["errors"][0] in str(error)
        assert got["finish"] is None
    else:
        assert error is None, error
        assert got["finish"] == Finish(exp["finish_reason"] or "stop", got["finish"].kind)


@pytest.mark.parametrize("path", [p for p in CASES if p.suffix == ".sse"][:12],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hostile_split_reproduces_the_body(path: Path) -> None:
    body = path.read_bytes()
    pieces = hostile_pieces(body)
    assert b"".join(pieces) == body
    assert len(pieces) >= 2 * body.count(b"data:")  # every data: line is cut at least twice
    assert all(not p.startswith(b"data:") or len(p) <= 2 for p in pieces)
    if b"\r\n" in body:
        assert any(p.endswith(b"\r") for p in pieces)  # CRLF split between two writes
    multi = sum(1 for b in body.decode("utf-8") if ord(b) > 0x7F)
    assert sum(1 for p in pieces if p and 0x80 <= p[0] < 0xC0) == multi  # every character is cut


def test_recorded_n3_stream_reads_choice_zero_only() -> None:
    path = STREAMS / "openai" / "sdk_json_schema_n3_choices.sse"

    class Weather(BaseModel):
        city: str
        temperature: int
        units: str

    async def go() -> tuple[Any, int]:
        async with ProviderServer(Reply.recording(path)) as server:
            model = model_for(server, extra_body={"n": 3})
            agent = Agent("w", output_schema=Weather, tools=[noop], model=model, max_output_retries=0)
            value = await agent.process("weather?")
            await model.aclose()
            assert server.requests[0].json()["n"] == 3
            return value, len(server.requests)

    value, requests = run(go())
    assert value == Weather.model_validate_json(_expect(path)["text"])
    assert requests == 1


# ---------------------------------------------------------------------------- reader failure modes


def test_refusal_ends_the_agent_run_after_one_request() -> None:
    path = STREAMS / "openai" / "chat_refusal.sse"

    async def go() -> tuple[BaseException, int]:
        async with ProviderServer(Reply.recording(path)) as server:
            agent = Agent("r", model=model_for(server))
            with pytest.raises(RefusalError) as info:
                await agent.process("something bad")
            return info.value, len(server.requests)

    err, requests = run(go())
    assert err.refusal == _expect(path)["refusal"]  # type: ignore[attr-defined]
    assert requests == 1


@pytest.mark.parametrize("name", ["chat_finish_length", "sdk_json_schema_cut_by_length"])
def test_truncation_by_length_is_not_re_asked(name: str) -> None:
    path = STREAMS / "openai" / f"{name}.sse"

    async def go() -> tuple[TruncatedOutputError, int]:
        async with ProviderServer(Reply.recording(path)) as server:
            model = model_for(server)
            with pytest.raises(TruncatedOutputError) as info:
                async for _ in model.stream([{"role": "user", "content": "x"}], {"type": "object"}):
                    pass
            await model.aclose()
            return info.value, len(server.requests)

    err, requests = run(go())
    assert requests == 1 and err.reason == "length"
    assert err.text == _expect(path)["text"]


def test_truncated_agent_call_keeps_the_partial_value() -> None:
    class Story(BaseModel):
        title: str
        body: str

    cut = [{"choices": [{"index": 0, "delta": {"content": c}}]}
           for c in ['{"title": "Du', 'ne", "bo', 'dy": "Arr']]
    end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}

    async def go() -> tuple[TruncatedOutputError, int]:
        async with ProviderServer(Reply.sse(*cut, end)) as server:
            agent = Agent("s", output_schema=Story, tools=[noop], model=model_for(server))
            with pytest.raises(TruncatedOutputError) as info:
                await agent.process("x")
            return info.value, len(server.requests)

    err, requests = run(go())
    assert requests == 1
    assert err.partial == {"title": "Dune", "body": "Arr"}


def test_content_filter_is_a_truncation() -> None:
    ev = {"choices": [{"index": 0, "delta": {"content": '{"a": '}, "finish_reason": "content_filter"}]}

    async def go() -> tuple[TruncatedOutputError, int]:
        async with ProviderServer(Reply.sse(ev)) as server:
            model = model_for(server)
            with pytest.raises(TruncatedOutputError) as info:
                async for _ in model.stream([], {}):
                    pass
            return info.value, len(server.requests)

    err, requests = run(go())
    assert err.reason == "content_filter" and requests == 1


def _text(n: int) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": f"part{n} "}, "finish_reason": None}]}


_STOP = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "error": None}

ERROR_SHAPES: dict[str, tuple[Reply, str]] = {
    "openai_error_object": (Reply(b'data: {"error": {"message": "The server had an error", '
                                  b'"type": "server_error"}}\n\n'), "The server had an error"),
    "llamacpp_event_error": (Reply(b'event: error\ndata: {"error": {"code": 500, '
                                   b'"message": "slot unavailable", "type": "server_error"}}\n\n'),
                             "slot unavailable"),
    "llamacpp_error_field": (Reply(b'data: {"choices": [{"index": 0, "delta": {"content": "x"}}]}\n\n'
                                   b'error: {"code": 400, "message": "context size exceeded", '
                                   b'"type": "invalid_request_error"}\n\n'), "context size exceeded"),
    "vllm_flat": (Reply(b'data: {"object": "error", "message": "max_tokens must be at least 1", '
                        b'"type": "BadRequestError", "param": null, "code": 400}\n\n'),
                  "max_tokens must be at least 1"),
    "http_200_json_body": (Reply(b'{"error": {"message": "Invalid model name", '
                                 b'"type": "invalid_request_error"}}',
                                 headers={"content-type": "application/json"}), "Invalid model name"),
    "http_200_flat_json_body": (Reply(b'{"object": "error", "message": "model not loaded", "code": 404}',
                                      headers={"content-type": "application/json"}), "model not loaded"),
    "event_error_plain_text": (Reply(b"event: error\ndata: upstream timed out\n\n"), "upstream timed out"),
}


@pytest.mark.parametrize("shape", list(ERROR_SHAPES))
def test_every_provider_error_shape_is_a_provider_error_with_its_message(shape: str) -> None:
    reply, message = ERROR_SHAPES[shape]

    async def go() -> tuple[BaseException | None, int]:
        async with ProviderServer(reply) as server:
            _, error = await collect(model_for(server))
            return error, len(server.requests)

    error, requests = run(go())
    assert isinstance(error, ProviderError), repr(error)
    assert message in str(error)
    assert requests == 1  # none of these is transient


def test_error_null_in_every_chunk_is_not_an_error() -> None:
    chunks = [{**_text(n), "error": None} for n in range(3)]

    async def go() -> dict[str, Any]:
        async with ProviderServer(Reply.sse(*chunks, _STOP)) as server:
            got, error = await collect(model_for(server))
            assert error is None
            return got

    assert run(go())["text"] == "part0 part1 part2 "


def test_a_clean_end_without_done_is_accepted() -> None:
    async def go() -> tuple[dict[str, Any], BaseException | None]:
        async with ProviderServer(Reply.sse(_text(0), _STOP, done=False)) as server:
            return await collect(model_for(server))

    got, error = run(go())
    assert error is None and got["text"] == "part0 " and got["finish"] == Finish("stop", "stop")


@pytest.mark.parametrize("data,kind", [("[1, 2]", "a JSON array"), ("42", "a JSON number"),
                                       ('"text"', "a JSON string"), ("null", "JSON null")])
def test_a_data_line_that_is_not_an_object_is_a_model_error(data: str, kind: str) -> None:
    async def go() -> BaseException | None:
        async with ProviderServer(Reply.sse(_text(0), data)) as server:
            return (await collect(model_for(server)))[1]

    error = run(go())
    assert type(error) is ModelError and kind in str(error)


def test_line_separators_inside_json_and_multi_line_data() -> None:
    text = "a\u2028b\u2029c\u0085d \U0001f600 é"
    one = json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}, ensure_ascii=False)
    # the same chunk spread over two data: lines (joined with LF, which JSON allows between tokens)
    two = '{"choices": [{"index": 0,\ndata: "delta": {"content": "!"}}]}'
    body = f"data: {one}\r\n\r\ndata: {two}\r\rdata: [DONE]\r\n\r\n".encode()

    async def go() -> dict[str, Any]:
        async with ProviderServer(Reply(body)) as server:
            got, error = await collect(model_for(server))
            assert error is None, error
            assert server.writes > 10
            return got

    assert run(go())["text"] == text + "!"


# ---------------------------------------------------------------------------- retries

def _status(status: int, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps({"error": {"message": f"status {status}", "type": "t"}}).encode()
    return Reply(body, status, {"content-type": "application/json", **(headers or {})})


_OK = Reply.sse(_text(0), _STOP)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 529])
def test_transient_statuses_are_retried(status: int) -> None:
    async def go() -> tuple[dict[str, Any], int, list[float]]:
        async with ProviderServer(_status(status), _OK) as server:
            model = model_for(server)
            got, error = await collect(model)
            assert error is None, error
            return got, len(server.requests), model.slept  # type: ignore[attr-defined]

    got, requests, slept = run(go())
    assert got["text"] == "part0 " and requests == 2
    assert 0.375 <= slept[0] <= 0.5  # backoff 0.5 s, jittered down by at most 25 %


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    async def go() -> tuple[BaseException | None, int]:
        async with ProviderServer(_status(status), _OK) as server:
            return (await collect(model_for(server)))[1], len(server.requests)

    error, requests = run(go())
    assert isinstance(error, ProviderError) and error.status == status and requests == 1
    assert f"status {status}" in str(error)


def test_retry_after_seconds_date_and_ms() -> None:
    date = email.utils.formatdate(time.time() + 30, usegmt=True)

    async def go() -> tuple[list[float], int]:
        async with ProviderServer(_status(429, {"retry-after": "6"}), _status(503, {"retry-after": date}),
                                  _status(429, {"retry-after-ms": "1500", "retry-after": "9"}),
                                  _OK) as server:
            model = model_for(server)
            _, error = await collect(model)
            assert error is None, error
            return model.slept, len(server.requests)  # type: ignore[attr-defined]

    slept, requests = run(go())
    assert requests == 4
    assert slept[0] == 6.0 and 27 <= slept[1] <= 30.0 and slept[2] == 1.5


def test_the_wait_is_capped() -> None:
    async def go() -> list[float]:
        async with ProviderServer(_status(429, {"retry-after": "3600"}), _OK) as server:
            model = model_for(server, max_retry_wait=5.0)
            assert (await collect(model))[1] is None
            return model.slept  # type: ignore[attr-defined]

    assert run(go()) == [5.0]


@pytest.mark.parametrize("status,should,requests", [(500, "false", 1), (400, "true", 2), (429, "false", 1)])
def test_x_should_retry_overrides_the_status(status: int, should: str, requests: int) -> None:
    async def go() -> int:
        async with ProviderServer(_status(status, {"x-should-retry": should}), _OK) as server:
            await collect(model_for(server))
            return len(server.requests)

    assert run(go()) == requests


def test_backoff_grows_with_jitter_and_gives_up_after_max_retries() -> None:
    async def go() -> tuple[BaseException | None, list[float], int]:
        async with ProviderServer(_status(503)) as server:
            model = model_for(server, max_retries=3, backoff=1.0)
            _, error = await collect(model)
            return error, model.slept, len(server.requests)  # type: ignore[attr-defined]

    error, slept, requests = run(go())
    assert isinstance(error, ProviderError) and error.status == 503 and requests == 4
    assert [0.75 <= slept[0] <= 1, 1.5 <= slept[1] <= 2, 3 <= slept[2] <= 4] == [True] * 3


def test_no_retry_once_text_was_streamed() -> None:
    body = (b'data: {"choices": [{"index": 0, "delta": {"content": "x"}}]}\n\n'
            b'data: {"error": {"message": "overloaded", "type": "server_error", "code": 503}}\n\n')

    async def go() -> tuple[BaseException | None, int]:
        async with ProviderServer(Reply(body), _OK) as server:
            return (await collect(model_for(server)))[1], len(server.requests)

    error, requests = run(go())
    assert isinstance(error, ProviderError) and "overloaded" in str(error) and requests == 1


def test_auth_error_through_the_agent_is_one_request() -> None:
    path = STREAMS / "openai" / "http_401_invalid_api_key.body"

    async def go() -> tuple[BaseException, int]:
        async with ProviderServer(Reply.recording(path)) as server:
            with pytest.raises(ProviderError) as info:
                await Agent("a", model=model_for(server)).process("x")
            return info.value, len(server.requests)

    err, requests = run(go())
    assert requests == 1 and "Incorrect API key" in str(err)


# ---------------------------------------------------------------------------- one client per model


def test_one_client_per_model_reused_across_calls_and_closed() -> None:
    story = json.dumps({"content": "ok"})
    think = json.dumps({"reasoning": "r", "tool_calls": [], "is_complete": True, "final_result": None})
    replies = [Reply.sse({"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": "stop"}]})
               for t in (think, story)] * 3

    async def go() -> None:
        async with ProviderServer(*replies) as server:
            async with model_for(server, own_client=True) as model:
                agent = Agent("a", model=model)
                assert model._client is None  # created lazily
                for _ in range(3):
                    assert await agent.process("x") == "ok"
                client = model.http_client
                assert model.http_client is client
                assert len(server.requests) == 6
                assert server.connections == 1  # one pooled keep-alive connection
            assert model._client is None and client.is_closed

    run(go())


# ---------------------------------------------------------------------------- reasoning and lenient


class Answer(BaseModel):
    answer: str


def _chunk(**delta: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def _finish(reason: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}


def _agent_events(reply_chunks: list[dict[str, Any]],
                  **agent_kw: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """Run an agent whose only call gets ``reply_chunks``; return its events and stream_chunk hook data."""
    seen: list[dict[str, Any]] = []

    @hook("stream_chunk")
    async def on_chunk(ctx: Any, chunk_data: dict[str, Any], **_: Any) -> None:
        seen.append({k: chunk_data[k] for k in ("call_type", "json_path", "delta")})

    async def go() -> list[Any]:
        async with ProviderServer(Reply.sse(*reply_chunks)) as server:
            # native tool calling: the answer comes as the content of the first call
            agent = Agent("a", output_schema=Answer, tools=[noop], model=model_for(server), hooks=[on_chunk],
                          enable_streaming=True, **agent_kw)
            return [ev async for ev in agent.stream("q")]

    return run(go()), seen


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_deltas_are_think_chunks(field: str) -> None:
    chunks = [_chunk(**{field: "Let me "}), _chunk(**{field: "think."}), _chunk(content='{"answer": "42"}'),
              _finish("stop")]
    events, seen = _agent_events(chunks)
    think = [s for s in seen if s["json_path"] == "reasoning"]
    assert think == [{"call_type": "think", "json_path": "reasoning", "delta": "Let me "},
                     {"call_type": "think", "json_path": "reasoning", "delta": "think."}]
    assert [(e.call_type, e.path, e.delta) for e in events if isinstance(e, Chunk)][:2] == [
        ("think", ("reasoning",), "Let me "), ("think", ("reasoning",), "think.")]
    assert events[-1].result == Answer(answer="42")


def test_think_block_in_content_is_reasoning_whatever_the_split() -> None:
    text = '<think>Is {it} "42"?</think>\n{"answer": "42"}'
    chunks = [_chunk(content=text[i:i + 3]) for i in range(0, len(text), 3)] + [_finish("stop")]
    events, seen = _agent_events(chunks)
    assert "".join(s["delta"] for s in seen if s["json_path"] == "reasoning") == 'Is {it} "42"?'
    rest = [s for s in seen if s["json_path"] != "reasoning"]
    assert {(s["call_type"], s["json_path"]) for s in rest} == {("think", "final_result.answer")}
    assert "".join(s["delta"] for s in rest) == "42"
    assert events[-1].result == Answer(answer="42")


def test_lenient_accepts_a_json_fence() -> None:
    text = 'Sure:\n```json\n{"answer": "42"}\n```\nDone.'
    chunks = [_chunk(content=text[i:i + 4]) for i in range(0, len(text), 4)] + [_finish("stop")]
    events, _ = _agent_events(chunks, lenient=True)
    assert events[-1].result == Answer(answer="42")
    with pytest.raises(Exception, match="invalid"):
        _agent_events(chunks, max_output_retries=0)


# ---------------------------------------------------------------------------- native tool calling


def _call_start(index: int, name: str, args: str = "") -> dict[str, Any]:
    return _chunk(tool_calls=[{"index": index, "id": f"call_{name}_{index}", "type": "function",
                               "function": {"name": name, "arguments": args}}])


def _call_args(index: int, args: str) -> dict[str, Any]:
    return _chunk(tool_calls=[{"index": index, "function": {"arguments": args}}])


def _answer(text: str) -> Reply:
    return Reply.sse(_chunk(content=text), _finish("stop"))


def test_two_parallel_calls_interleaved_by_index_stream_independently() -> None:
    ran: list[tuple[str, int]] = []

    @tool
    def weather(city: str, days: int) -> str:
        """Weather forecast."""
        ran.append((city, days))
        return f"sunny in {city}"

    first = Reply.sse(_call_start(0, "weather"), _call_start(1, "weather"),
                      _call_args(0, '{"city": "Pa'), _call_args(1, '{"city": "Ro'),
                      _call_args(1, 'me", "days": 2'), _call_args(0, 'ris", "da'),
                      _call_args(1, "}"), _call_args(0, 'ys": 1}'), _finish("tool_calls"))

    async def go() -> tuple[Any, list[Any], list[Any]]:
        async with ProviderServer(first, _answer('{"answer": "both sunny"}')) as server:
            agent = Agent("a", output_schema=Answer, tools=[weather], model=model_for(server))
            events = [ev async for ev in agent.stream("weather?")]
            return events, server.requests, agent

    events, requests, _ = run(go())
    chunks = [(e.path, e.delta) for e in events if isinstance(e, Chunk)]
    assert chunks[-1] == (("final_result", "answer"), "both sunny")
    assert chunks[:4] == [(("tool_calls", 0, "arguments", "city"), "Pa"),
                          (("tool_calls", 1, "arguments", "city"), "Ro"),
                          (("tool_calls", 1, "arguments", "city"), "me"),
                          (("tool_calls", 0, "arguments", "city"), "ris")]
    fields = [(e.path, e.value) for e in events if isinstance(e, Field) and e.call_type == "think"]
    assert (("tool_calls", 1, "arguments", "city"), "Rome") in fields
    assert (("tool_calls", 0, "arguments", "days"), 1) in fields
    done = [p for p, _ in fields if p[-1] == "arguments"]
    assert done == [("tool_calls", 1, "arguments"), ("tool_calls", 0, "arguments")]  # 1 completes first
    assert sorted(ran) == [("Paris", 1), ("Rome", 2)]
    assert events[-1].result == Answer(answer="both sunny")
    sent = requests[0].json()
    assert [t["function"]["name"] for t in sent["tools"]] == ["weather"]
    assert sent["tools"][0]["function"]["parameters"]["required"] == ["city", "days"]
    follow = requests[1].json()["messages"]
    assert [m["role"] for m in follow[-3:]] == ["assistant", "tool", "tool"]
    assert [c["function"]["arguments"] for c in follow[-3]["tool_calls"]] == [
        '{"city": "Paris", "days": 1}', '{"city": "Rome", "days": 2}']
    assert [m["tool_call_id"] for m in follow[-2:]] == ["call_weather_0", "call_weather_1"]
    assert json.loads(follow[-2]["content"])["result"] == "sunny in Paris"


def test_a_tool_starts_before_the_message_ends() -> None:
    order: list[str] = []
    started = asyncio.Event()

    @tool
    async def lookup(key: str) -> str:
        """Look a key up."""
        order.append("tool started")
        started.set()
        return key.upper()

    async def gate() -> None:
        order.append("server waits")
        await asyncio.wait_for(started.wait(), 30)  # a hang guard, not a timing assert
        order.append("server resumes")

    body = [Reply.sse(_call_start(0, "lookup", '{"key": "ab"}'), done=False).body,
            gate, Reply.sse(_call_start(1, "lookup", '{"key": "cd"}'), _finish("tool_calls")).body]

    async def go() -> list[Any]:
        async with ProviderServer(Reply(parts=body), _answer('{"answer": "AB CD"}')) as server:
            agent = Agent("a", output_schema=Answer, tools=[lookup], model=model_for(server))

            @hook("tool_call")
            async def on_tool(ctx: Any, **_: Any) -> None:
                order.append("tool_call hook")

            agent.add_hook(on_tool)
            events = []
            async for ev in agent.stream("x"):
                if isinstance(ev, StreamEnd):
                    order.append(f"stream_end {ev.call_type}")
                events.append(ev)
            return events

    events = run(go())
    assert order.index("tool started") < order.index("server resumes") < order.index("stream_end think")
    assert events[-1].result == Answer(answer="AB CD")


def test_an_invalid_argument_fails_the_call_early_and_is_re_asked() -> None:
    ran: list[int] = []
    rest_sent: list[bool] = []

    @tool
    def forecast(city: str, days: int) -> str:
        """Forecast."""
        ran.append(days)
        return "ok"

    async def never() -> None:
        rest_sent.append(True)
        await asyncio.Event().wait()  # the rest of the message is never needed

    bad = Reply(parts=[Reply.sse(_call_start(0, "forecast", '{"days": "many", '), done=False).body, never,
                       Reply.sse(_call_args(0, '"city": "Oslo"}'), _finish("tool_calls")).body])

    async def go() -> tuple[list[Any], int]:
        async with ProviderServer(bad, _answer('{"answer": "no"}')) as server:
            agent = Agent("a", output_schema=Answer, tools=[forecast], model=model_for(server),
                          max_output_retries=1)
            events = [ev async for ev in agent.stream("x")]
            return events, len(server.requests)

    events, requests = run(go())
    errors = [e for e in events if isinstance(e, StreamError)]
    assert len(errors) == 1 and errors[0].call_type == "think"
    invalid = [e for e in events if isinstance(e, Field) and not e.valid]
    assert [e.path for e in invalid] == [("tool_calls", 0, "arguments", "days")]
    assert ran == [] and requests == 2  # failed at the field, re-asked once, the tool never ran
    assert rest_sent == [True]  # the server was still holding the rest of the message
    assert events[-1].result == Answer(answer="no")


def test_native_tools_false_keeps_the_json_emulation() -> None:
    @tool
    def ping() -> str:
        """Ping."""
        return "pong"

    think = json.dumps({"reasoning": "r", "tool_calls": [], "is_complete": True,
                        "final_result": {"answer": "x"}})

    async def go() -> dict[str, Any]:
        async with ProviderServer(_answer(think)) as server:
            model = model_for(server, native_tools=False)
            assert await Agent("a", output_schema=Answer, tools=[ping], model=model).process("q") == Answer(
                answer="x")
            return server.requests[0].json()  # type: ignore[no-any-return]

    sent = run(go())
    assert "tools" not in sent and "tool_calls" in json.dumps(sent["response_format"])


def test_chat_decoder_reads_only_choice_zero() -> None:
    dec = ChatDecoder()
    items = dec.feed({"choices": [{"index": 1, "delta": {"content": "B"}},
                                  {"index": 0, "delta": {"content": "A"}, "finish_reason": "stop"}]})
    assert items == ["A"] and dec.end() == [Finish("stop", "stop")]



def test_docs_chat_examples_print_what_they_say(capsys: pytest.CaptureFixture[str]) -> None:
    text = (STREAMS.parents[2] / "docs" / "agents.md").read_text(encoding="utf-8")
    pieces = (s.split("```", 1)[0] for s in text.split("```python\n")[1:])
    blocks = [b for b in pieces if "MockTransport" in b and "OpenAIChatModel(" in b]
    capsys.readouterr()
    outputs = []
    for block in blocks:
        exec(compile(block, "docs/agents.md", "exec"), {"__name__": "docs"})
        outputs.append(capsys.readouterr().out)
    assert outputs[0].splitlines() == [
        "chunk tool_calls[0].arguments.city 'Os'", "chunk tool_calls[1].arguments.city 'Ro'",
        "chunk tool_calls[1].arguments.city 'me'",
        "tool call ready: tool_calls[1].arguments city='Rome' days=2",
        "chunk tool_calls[0].arguments.city 'lo'",
        "tool call ready: tool_calls[0].arguments city='Oslo' days=1",
        "chunk final_result.summary 'Sunny in Oslo and Rome.'", "summary='Sunny in Oslo and Rome.'"]
    assert outputs[1] == "'6 times 7...' answer=42\n"


def test_prose_next_to_native_tool_calls_is_kept_not_parsed() -> None:
    @tool
    def lookup(key: str) -> str:
        """Look up."""
        return key.upper()

    first = Reply.sse(_chunk(content="Let me look that up."), _call_start(0, "lookup", '{"key": "ab"}'),
                      _finish("tool_calls"))

    async def go() -> tuple[Any, list[Any]]:
        async with ProviderServer(first, _answer('{"answer": "AB"}')) as server:
            agent = Agent("a", output_schema=Answer, tools=[lookup], model=model_for(server),
                          max_output_retries=0)
            return await agent.process("x"), server.requests

    value, requests = run(go())
    assert value == Answer(answer="AB") and len(requests) == 2
    assert requests[1].json()["messages"][-2]["content"] == "Let me look that up."


def test_prose_without_tool_calls_is_invalid_output() -> None:
    async def go() -> int:
        async with ProviderServer(_answer("Sorry, no JSON today.")) as server:
            agent = Agent("a", output_schema=Answer, tools=[noop], model=model_for(server),
                          max_output_retries=1)
            with pytest.raises(Exception, match="invalid"):
                await agent.process("x")
            return len(server.requests)

    assert run(go()) == 2  # asked again once, then OutputValidationError


class _Loose(BaseModel):
    model_config = {"extra": "allow"}


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@pytest.mark.parametrize("path", [p for p in CASES if p.suffix == ".sse"],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_stream_through_the_agent(path: Path) -> None:
    """Every recorded chat stream as the first answer of an Agent with native tools: the outcome
    (result, tool arguments, typed error) and the reasoning chunks follow from the sidecar."""
    exp = _expect(path)
    received: list[tuple[str, dict[str, Any]]] = []
    tools = []
    for name in dict.fromkeys(c["name"] for c in exp["tool_calls"]):
        t = tool(name=name)(lambda: "ok")
        t.parameters = _Loose  # accept whatever arguments the recording has
        tools.append(t)

    @hook("tool_call")
    async def on_tool(ctx: Any, tool_name: str, parameters: dict[str, Any], **_: Any) -> None:
        received.append((tool_name, parameters))

    async def go() -> tuple[Any, list[Any], int]:
        async with ProviderServer(Reply.recording(path), _answer('{"done": true}')) as server:
            agent = Agent("a", output_schema=_Loose, tools=tools or [noop], model=model_for(server),
                          max_output_retries=0, hooks=[on_tool])
            events: list[Any] = []
            try:
                async for ev in agent.stream("x"):
                    events.append(ev)
                outcome: Any = events[-1].result
            except Exception as exc:
                outcome = exc
            return outcome, events, len(server.requests)

    outcome, events, requests = run(go())
    reasoning = "".join(e.delta for e in events if isinstance(e, Chunk) and e.path == ("reasoning",))
    assert reasoning == exp["reasoning"]
    if exp["errors"]:
        assert isinstance(outcome, ProviderError) and exp["errors"][0] in str(outcome) and requests == 1
    elif exp["refusal"]:
        assert isinstance(outcome, RefusalError) and outcome.refusal == exp["refusal"] and requests == 1
    elif exp["finish_reason"] in ("length", "content_filter"):
        assert isinstance(outcome, TruncatedOutputError) and outcome.text == exp["text"] and requests == 1
    elif exp["tool_calls"]:
        assert sorted(received, key=str) == sorted(
            ((c["name"], json.loads(c["arguments"] or "{}")) for c in exp["tool_calls"]), key=str)
        assert outcome == _Loose(done=True) and requests == 2
    elif _json_object(exp["text"]) is not None:
        assert outcome.model_dump() == _json_object(exp["text"]) and requests == 1
    else:  # prose where the agent asked for JSON
        assert type(outcome).__name__ == "OutputValidationError" and requests == 1
