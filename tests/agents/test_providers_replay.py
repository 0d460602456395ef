"""AnthropicModel and OpenAIResponsesModel on real recorded streams (tests/data/provider_streams).

Each recording is served by an httpx.MockTransport in 7-byte writes (splits inside ``data:`` lines
and UTF-8 characters); the oracle is the sidecar's ``expect``, computed from the bytes by an
independent SSE reader (tests/data/provider_streams/_expect.py). No network.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from typing import Any

import pytest

from fieldstream import ModelError, ProviderError, RefusalError, TruncatedOutputError
from fieldstream.agents import AnthropicModel, OpenAIResponsesModel, resolve_model
from fieldstream.agents.models import (
    Finish,
    ReasoningDelta,
    RefusalDelta,
    ToolCallDelta,
    ToolSpec,
)
from fieldstream.agents.models._http import retry_delay
from support.recorded import STREAMS, Canned, Replay, cases, sidecar

MESSAGES = [{"role": "user", "content": "hi"}]


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _collect(model: Any, *, tools: list[ToolSpec] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"text": "", "reasoning": "", "refusal": "", "calls": {}, "finish": [], "usage": []}
    async with model:
        async for item in model.stream_items(MESSAGES, {"type": "object"}, tools=tools):
            if isinstance(item, str):
                out["text"] += item
            elif isinstance(item, ReasoningDelta):
                out["reasoning"] += item.text
            elif isinstance(item, RefusalDelta):
                out["refusal"] += item.text
            elif isinstance(item, ToolCallDelta):
                call = out["calls"].setdefault(item.index, {"id": None, "name": None, "arguments": ""})
                if item.id is not None:
                    assert call["id"] is None, "id sent twice"
                    call["id"], call["name"] = item.id, item.name
                call["arguments"] += item.arguments_delta
            elif isinstance(item, Finish):
                out["finish"].append(item)
            else:
                out["usage"].append(item)
    return out


def _anthropic(replay: Replay, **kw: Any) -> AnthropicModel:
    model = AnthropicModel("claude-test", api_key="k", http_client=replay.async_client(), **kw)
    model.sleep = _no_sleep(model)
    return model


def _responses(replay: Replay, **kw: Any) -> OpenAIResponsesModel:
    model = OpenAIResponsesModel("gpt-test", api_key="k", http_client=replay.async_client(), **kw)
    model.sleep = _no_sleep(model)
    return model


def _no_sleep(model: Any) -> Any:
    model.slept = []

    async def sleep(delay: float) -> None:
        model.slept.append(delay)

    return sleep


# ---------------------------------------------------------------- Anthropic


@pytest.mark.parametrize("path", cases("anthropic"), ids=lambda p: p.stem)
def test_anthropic_recording(path: Any) -> None:
    expect = sidecar(path)["expect"]
    replay = Replay(Canned.recording(path))
    got = _run(_collect(_anthropic(replay)))
    assert got["text"] == expect["text"]
    assert got["reasoning"] == expect["thinking"]
    client_tools = [t for t in expect["tool_uses"] if t["type"] == "tool_use"]
    assert [c["name"] for c in got["calls"].values()] == [t["name"] for t in client_tools]
    assert [c["arguments"] for c in got["calls"].values()] == [t["input_json"] for t in client_tools]
    assert all(c["id"].startswith("toolu_") for c in got["calls"].values())
    assert [f.reason for f in got["finish"]] == [expect["stop_reason"]]
    assert len(got["usage"]) == 1 and got["usage"][0].output_tokens > 0
    assert len(replay.requests) == 1
    body = json.loads(replay.requests[0].content)
    assert body["stream"] is True and body["model"] == "claude-test"
    assert replay.requests[0].headers["x-api-key"] == "k"
    assert replay.requests[0].url.path == "/v1/messages"


def test_anthropic_tools_are_sent_and_parallel_calls_numbered() -> None:
    replay = Replay(Canned.recording(STREAMS / "anthropic" / "parallel_tool_uses.sse"))
    spec = ToolSpec("secret_retrieval_tool", "get a secret",
                    {"type": "object", "properties": {"password": {"type": "string"}}})
    got = _run(_collect(_anthropic(replay), tools=[spec]))
    assert sorted(got["calls"]) == [0, 1]
    assert [json.loads(c["arguments"]) for c in got["calls"].values()] == [
        {"password": "mellon"}, {"password": "radiance"}]
    sent = json.loads(replay.requests[0].content)["tools"]
    assert sent == [{"name": "secret_retrieval_tool", "description": "get a secret",
                     "input_schema": spec.parameters}]
    assert got["finish"][0].kind == "tool_calls"


async def _text(model: Any) -> str:
    parts = []
    async with model:
        async for item in model.stream(MESSAGES, {"type": "object"}):
            if isinstance(item, str):
                parts.append(item)
    return "".join(parts)


def test_anthropic_stream_text_and_system_prompt() -> None:
    path = STREAMS / "anthropic" / "json_text_structured.sse"
    replay = Replay(Canned.recording(path))
    text = _run(_text(_anthropic(replay)))
    assert text == sidecar(path)["expect"]["text"]
    body = json.loads(replay.requests[0].content)
    assert '"type": "object"' in body["system"] and body["messages"] == MESSAGES


def test_anthropic_max_tokens_raises_truncated_with_text() -> None:
    path = STREAMS / "anthropic" / "max_tokens.sse"
    replay = Replay(Canned.recording(path))
    with pytest.raises(TruncatedOutputError) as info:
        _run(_text(_anthropic(replay)))
    assert info.value.reason == "max_tokens"
    assert info.value.text == sidecar(path)["expect"]["text"]
    assert len(replay.requests) == 1  # never re-asked


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


_START = {"type": "message_start",
          "message": {"id": "msg_x", "usage": {"input_tokens": 3, "output_tokens": 1}}}
_OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def test_anthropic_refusal_stop_reason() -> None:
    body = _sse(_START, {"type": "message_delta", "delta": {"stop_reason": "refusal"}, "usage": {}},
                {"type": "message_stop"})
    with pytest.raises(RefusalError) as info:
        _run(_text(_anthropic(Replay(Canned(body)))))
    assert info.value.refusal == ""


def test_anthropic_overloaded_error_event_is_retried() -> None:
    ok = STREAMS / "anthropic" / "text_end_turn.sse"
    replay = Replay(Canned(_sse(_START, {"type": "ping"}, _OVERLOADED)), Canned.recording(ok))
    model = _anthropic(replay)
    assert _run(_text(model)) == sidecar(ok)["expect"]["text"]
    assert len(replay.requests) == 2 and model.requests == 2
    assert model.slept == [0.5]


def test_anthropic_overloaded_gives_up_after_max_retries() -> None:
    replay = Replay(Canned(_sse(_START, _OVERLOADED)))
    model = _anthropic(replay, max_retries=2)
    with pytest.raises(ProviderError) as info:
        _run(_text(model))
    assert info.value.provider_type == "overloaded_error" and info.value.retryable
    assert "Overloaded" in str(info.value) and info.value.status is None
    assert len(replay.requests) == 3 and model.slept == [0.5, 1.0]


def test_anthropic_error_after_text_is_not_retried() -> None:
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "{\"a\""}}
    replay = Replay(Canned(_sse(_START, delta, _OVERLOADED)))
    with pytest.raises(ProviderError):
        _run(_text(_anthropic(replay)))
    assert len(replay.requests) == 1


@pytest.mark.parametrize("name", ["http_401_authentication_error", "http_404_not_found_error"])
def test_anthropic_http_errors(name: str) -> None:
    path = STREAMS / "anthropic" / f"{name}.body"
    expect = sidecar(path)["expect"]
    replay = Replay(Canned.recording(path))
    with pytest.raises(ProviderError) as info:
        _run(_text(_anthropic(replay)))
    assert info.value.status == sidecar(path)["http_status"]
    assert info.value.provider_type == expect["type"]
    assert expect["message"] in str(info.value)
    assert not info.value.retryable and len(replay.requests) == 1


def test_anthropic_stream_without_message_stop() -> None:
    replay = Replay(Canned(_sse(_START)))
    with pytest.raises(ModelError, match="message_stop"):
        _run(_text(_anthropic(replay, max_retries=0)))


def test_missing_keys_fail_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    replay = Replay(Canned(b""))
    for model, env in [(AnthropicModel("m", http_client=replay.async_client()), "ANTHROPIC_API_KEY"),
                       (OpenAIResponsesModel("m", http_client=replay.async_client()), "OPENAI_API_KEY")]:
        with pytest.raises(ModelError, match=env):
            _run(_text(model))
    assert replay.requests == []


def test_resolve_model_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDSTREAM_MODEL", "anthropic:claude-x")
    model = resolve_model(None)
    assert isinstance(model, AnthropicModel) and model.name == "claude-x"
    model = resolve_model("openai-responses:gpt-y")
    assert isinstance(model, OpenAIResponsesModel) and model.name == "gpt-y"


def test_one_client_per_model_closed_by_aclose() -> None:
    async def main() -> None:
        model = AnthropicModel("m", api_key="k")
        client = model.http_client
        assert model.http_client is client  # reused across calls
        async with model:
            pass
        assert client.is_closed
        given = Replay().async_client()
        other = AnthropicModel("m", api_key="k", http_client=given)
        await other.aclose()
        assert not given.is_closed  # the caller's client is the caller's
        await given.aclose()

    _run(main())


# ---------------------------------------------------------------- Responses


@pytest.mark.parametrize("path", cases("openai-responses"), ids=lambda p: p.stem)
def test_responses_recording(path: Any) -> None:
    expect = sidecar(path)["expect"]
    replay = Replay(Canned.recording(path))
    if expect["errors"]:
        with pytest.raises(ProviderError) as info:
            _run(_collect(_responses(replay)))
        assert str(info.value).endswith(expect["errors"][0])
        assert len(replay.requests) == 1  # insufficient quota: not retried
        return
    got = _run(_collect(_responses(replay)))
    assert got["text"] == expect["text"]
    assert got["reasoning"] == expect["reasoning"]
    assert got["refusal"] == (expect["refusal"] or "")
    calls = list(got["calls"].values())
    assert [(c["id"], c["name"], c["arguments"]) for c in calls] == [
        (f["call_id"], f["name"], f["arguments"]) for f in expect["function_calls"]]
    (finish,) = got["finish"]
    if expect["status"] == "incomplete":
        assert finish.reason == expect["incomplete_reason"]
    else:
        assert finish.kind == ("tool_calls" if expect["function_calls"] else "stop")
    assert len(replay.requests) == 1
    assert replay.requests[0].url.path == "/v1/responses"
    assert replay.requests[0].headers["authorization"] == "Bearer k"


def test_responses_refusal_raises_with_text() -> None:
    path = STREAMS / "openai-responses" / "refusal.sse"
    with pytest.raises(RefusalError) as info:
        _run(_text(_responses(Replay(Canned.recording(path)))))
    assert info.value.refusal == sidecar(path)["expect"]["refusal"]


def test_responses_incomplete_raises_truncated() -> None:
    path = STREAMS / "openai-responses" / "incomplete_max_output_tokens.sse"
    replay = Replay(Canned.recording(path))
    with pytest.raises(TruncatedOutputError) as info:
        _run(_text(_responses(replay)))
    assert info.value.reason == "max_output_tokens"
    assert info.value.text == sidecar(path)["expect"]["text"]
    assert len(replay.requests) == 1


def test_responses_json_text_and_request_format() -> None:
    path = STREAMS / "openai-responses" / "json_schema_text.sse"
    replay = Replay(Canned.recording(path))
    assert _run(_text(_responses(replay))) == '{"output":7}'
    body = json.loads(replay.requests[0].content)
    assert body["text"]["format"]["type"] == "json_schema" and body["input"] == MESSAGES


def test_responses_http_400_is_not_retried() -> None:
    path = STREAMS / "openai-responses" / "http_400_invalid_temperature.body"
    replay = Replay(Canned.recording(path))
    with pytest.raises(ProviderError) as info:
        _run(_text(_responses(replay)))
    expect = sidecar(path)["expect"]
    assert (info.value.status, info.value.code, info.value.provider_type) == (
        400, expect["code"], expect["type"])
    assert len(replay.requests) == 1


def test_retry_after_headers_are_honoured() -> None:
    ok = STREAMS / "openai-responses" / "text.sse"
    limited = Canned(b'{"error": {"message": "slow down", "type": "rate_limit_exceeded"}}', 429,
                     {"content-type": "application/json", "retry-after-ms": "1500"})
    replay = Replay(limited, Canned(b"oops", 503, {"retry-after": "7"}), Canned.recording(ok))
    model = _responses(replay)
    assert _run(_text(model)) == sidecar(ok)["expect"]["text"]
    assert model.slept == [1.5, 7.0] and len(replay.requests) == 3


def test_x_should_retry_overrides_status() -> None:
    replay = Replay(Canned(b"{}", 500, {"x-should-retry": "false"}))
    model = _responses(replay)
    with pytest.raises(ProviderError):
        _run(_text(model))
    assert len(replay.requests) == 1


def test_retry_delay_forms() -> None:
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (retry_delay({"retry-after": date}, now=now) or 0) <= 31
    assert retry_delay({"retry-after": "2"}) == 2.0
    assert retry_delay({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_delay({"retry-after": "soon"}) is None
    assert retry_delay({}) is None


# ---------------------------------------------------------------- in an Agent


def _text_events(text: str, stop: str = "end_turn") -> bytes:
    deltas = [{"type": "content_block_delta", "index": 0,
               "delta": {"type": "text_delta", "text": text[i:i + 5]}} for i in range(0, len(text), 5)]
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    return _sse(_START, block, *deltas, {"type": "content_block_stop", "index": 0},
                {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 7}},
                {"type": "message_stop"})


def test_agent_on_anthropic_model_streams_fields() -> None:
    from fieldstream.agents import Agent, Chunk

    answer = json.dumps({"reasoning": "easy", "tool_calls": [], "is_complete": True, "final_result": "hello"})
    replay = Replay(Canned(_text_events(answer)))
    agent = Agent(name="A", model=_anthropic(replay))

    async def main() -> tuple[Any, str]:
        chunks = []
        result = None
        async for ev in agent.stream("hi"):
            if isinstance(ev, Chunk):
                chunks.append((ev.path, ev.delta))
            result = getattr(ev, "result", result)
        return result, "".join(d for p, d in chunks if p == ("final_result",))

    result, streamed = _run(main())
    assert result == "hello" and streamed == "hello"
    assert len(replay.requests) == 1


@pytest.mark.parametrize(("stop", "exc"), [("refusal", RefusalError), ("max_tokens", TruncatedOutputError)])
def test_agent_is_not_re_asked_after_refusal_or_truncation(stop: str, exc: type[Exception]) -> None:
    from fieldstream.agents import Agent

    replay = Replay(Canned(_text_events('{"reasoning": "I cann', stop)))
    agent = Agent(name="A", model=_anthropic(replay))
    with pytest.raises(exc) as info:
        _run(agent.process("hi"))
    if isinstance(info.value, TruncatedOutputError):
        assert info.value.partial == {"reasoning": "I cann"}
    assert len(replay.requests) == 1  # one paid request, not three


def test_docs_provider_examples_print_what_they_say(capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "agents.md").read_text(encoding="utf-8")
    pieces = (s.split("```", 1)[0] for s in text.split("```python\n")[1:])
    blocks = [b for b in pieces if "MockTransport" in b]
    capsys.readouterr()
    outputs = []
    for block in blocks:
        exec(compile(block, "docs/agents.md", "exec"), {"__name__": "docs"})
        outputs.append(capsys.readouterr().out)
    assert outputs[:2] == ['text: {"city": "Par\nmax_tokens {\'city\': \'Par\'}\n',
                           "tool_calls {'city': 'Oslo'}\n"]
    assert outputs[2].splitlines() == ["call 0 weather", "tool_calls[0].arguments.city + Ber",
                                       "tool_calls[0].arguments.city + lin", "city='Berlin' days=3"]


def test_stopping_early_closes_the_http_stream() -> None:
    path = STREAMS / "anthropic" / "thinking_then_text.sse"
    replay = Replay(Canned.recording(path))

    async def main() -> None:
        model = _anthropic(replay)
        gen = model.stream(MESSAGES, {"type": "object"})
        async for item in gen:
            if isinstance(item, str):
                break
        await gen.aclose()  # type: ignore[attr-defined]
        assert replay.closed == 1
        await model.aclose()

    _run(main())


def test_responses_failed_event_and_flat_error_shape() -> None:
    from fieldstream.agents.models._responses import ResponsesDecoder

    failed = {"type": "response.failed",
              "response": {"status": "failed", "error": {"code": "server_error", "message": "boom"}}}
    with pytest.raises(ProviderError) as info:
        ResponsesDecoder().feed(failed)
    assert info.value.code == "server_error" and info.value.retryable and str(info.value).endswith("boom")
    flat = {"type": "error", "code": "rate_limit_exceeded", "message": "slow down", "param": None}
    with pytest.raises(ProviderError) as info:
        ResponsesDecoder().feed(flat)
    assert info.value.code == "rate_limit_exceeded" and info.value.retryable


def test_anthropic_native_json_request() -> None:
    replay = Replay(Canned.recording(STREAMS / "anthropic" / "text_end_turn.sse"))
    model = _anthropic(replay, native_json=True, thinking_budget=1024)
    _run(_text(model))
    body = json.loads(replay.requests[0].content)
    assert body["output_format"] == {"type": "json_schema", "schema": {"type": "object"}}
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert replay.requests[0].headers["anthropic-beta"].startswith("structured-outputs")


# ---------------------------------------------------------------- over a real socket on 127.0.0.1


async def _serve_once(body: bytes, chunk: int) -> tuple[Any, int]:
    """A one-shot HTTP/1.1 server: reads a request, answers ``body`` in ``chunk``-byte writes, closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
        for i in range(0, len(body), chunk):
            writer.write(body[i:i + chunk])
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize(("api", "name"), [("anthropic", "thinking_then_text"),
                                           ("openai-responses", "text_then_function_call")])
def test_models_over_a_socket_with_any_line_end(api: str, name: str, eol: str) -> None:
    path = STREAMS / api / f"{name}.sse"
    expect = sidecar(path)["expect"]
    body = path.read_bytes().decode("utf-8").replace("\n", eol).encode("utf-8")

    async def main() -> dict[str, Any]:
        server, port = await _serve_once(body, 5)  # 5-byte writes: splits after a bare CR, inside UTF-8
        try:
            if api == "anthropic":
                model: Any = AnthropicModel("m", api_key="k", base_url=f"http://127.0.0.1:{port}")
            else:
                model = OpenAIResponsesModel("m", api_key="k", base_url=f"http://127.0.0.1:{port}/v1")
            return await _collect(model)
        finally:
            server.close()
            await server.wait_closed()

    got = _run(main())
    assert got["text"] == expect["text"]
    if api == "anthropic":
        assert got["reasoning"] == expect["thinking"]
    else:
        assert [c["arguments"] for c in got["calls"].values()] == [
            f["arguments"] for f in expect["function_calls"]]


def test_connection_failure_is_retried_then_reported() -> None:
    import httpx

    ok = Replay(Canned.recording(STREAMS / "anthropic" / "text_end_turn.sse"))
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return ok.handler(httpx)(request)  # type: ignore[no-any-return]

    model = AnthropicModel("m", api_key="k",
                           http_client=httpx.AsyncClient(transport=httpx.MockTransport(flaky)))
    model.sleep = _no_sleep(model)
    assert _run(_text(model)) == "2" and len(calls) == 2

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    model = AnthropicModel("m", api_key="k", max_retries=1,
                           http_client=httpx.AsyncClient(transport=httpx.MockTransport(down)))
    model.sleep = _no_sleep(model)
    with pytest.raises(ModelError, match="cannot connect") as info:
        _run(_text(model))
    assert model.requests == 2 and isinstance(info.value.__cause__, httpx.ConnectError)
