"""Agent and SSE contracts that a planted bug could break without any other test noticing.

Checked against scratch copies with the bug planted (each test failed) and against main (passes):

* with batching, a ``field`` event never precedes the pending text of its own field, and the
  chunks of a string field concatenate to exactly its value;
* the raw answer text (``llm_response`` ``text``, the assistant message of the history) keeps every
  delta, the last one included;
* SSE frames: ids strictly increasing (1, 2, 3, ...) including the final ``error`` frame, only the
  documented frame types with exactly the documented data keys, ``result`` once and last;
* providers on recorded or scripted streams (``support.recorded``: httpx.MockTransport, no
  network): a 5xx before any text is retried, Anthropic usage is one request with the recorded
  token counts, ``strict`` is off unless asked for, a ``content_filter`` finish is a truncation;
* ``execution_history`` keeps each iteration's ``tool_results`` (JSON loop and native tools); a run
  cancelled while it waits for a batched delta ends cancelled and closes the model's stream;
* the offline model: numbers within (exclusive) bounds, readable sentences, the user's prompt.

Agent runs use the scripted offline model or a replayed provider (no network, no timing assumptions).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import Field as PField

from fieldstream import TruncatedOutputError
from fieldstream.agents import (
    Agent,
    AgentContext,
    AgentError,
    AnthropicModel,
    Field,
    ModelError,
    OfflineModel,
    OpenAIChatModel,
    OpenAIResponsesModel,
    OutputValidationError,
    RunError,
    Usage,
    hook,
    tool,
)
from fieldstream.agents.models import Finish
from fieldstream.agents.sse import encode_event, event_stream
from support.provider_server import no_sleep
from support.recorded import STREAMS, Canned, Replay, sidecar
from support.web import decode_sse


class Story(BaseModel):
    title: str
    content: str
    tags: list[str]
    year: int


THINK = '{"reasoning": "plan the story", "tool_calls": [], "is_complete": true, "final_result": null}'
GOOD = ('{"title": "The Fox and the Grapes", "content": "A fox saw grapes high on a vine, jumped, '
        'missed, and walked away.", "tags": ["fable", "fox"], "year": 1912}')
BAD = '{"title": "T", "content": "c", "tags": [], "year": "soon", "never": "sent"}'


def collect(agent: Agent, input: Any = "x") -> list[Any]:
    async def main() -> list[Any]:
        return [ev async for ev in agent.stream(input)]

    return asyncio.run(main())


def check_field_after_its_text(events: list[Any]) -> None:
    """Every string ``field`` has all its text streamed before it, and none after it."""
    text: dict[tuple[str, str], str] = {}
    closed: set[tuple[str, str]] = set()
    for ev in events:
        if ev.type == "stream_start":
            text.clear()
            closed.clear()
        elif ev.type == "chunk":
            key = (ev.to_json()["call_type"], ev.to_json()["json_path"])
            assert key not in closed, f"text of {key} after its field event"
            text[key] = text.get(key, "") + ev.to_json()["delta"]
        elif ev.type == "field":
            key = (ev.to_json()["call_type"], ev.to_json()["json_path"])
            closed.add(key)
            if ev.to_json()["valid"] and isinstance(ev.to_json()["value"], str):
                assert text.get(key, "") == ev.to_json()["value"], key


@pytest.mark.parametrize("batch", [{}, {"stream_batch_chars": 10_000}, {"stream_batch_chars": 5},
                                   {"stream_batch_ms": 60_000}, {"stream_batch_ms": 60_000,
                                                                 "stream_batch_chars": 3}])
def test_with_batching_a_field_event_never_precedes_its_own_pending_text(batch: dict[str, Any]) -> None:
    agent = Agent(name="B", output_schema=Story, model=OfflineModel(pace=0, script=[THINK, GOOD]), **batch)
    events = collect(agent)
    check_field_after_its_text(events)
    fields = [(e.to_json()["call_type"], e.to_json()["json_path"]) for e in events if e.type == "field"]
    assert ("final_result", "title") in fields and ("final_result", "tags[1]") in fields
    assert events[-1].type == "result" and events[-1].result == Story.model_validate_json(GOOD)


def test_with_batching_an_invalid_field_still_follows_its_text() -> None:
    agent = Agent(name="B", output_schema=Story, stream_batch_chars=10_000,
                  model=OfflineModel(pace=0, script=[THINK, BAD, GOOD]))
    events = collect(agent)
    check_field_after_its_text(events)
    invalid = [e for e in events if e.type == "field" and not e.to_json()["valid"]]
    assert [e.to_json()["json_path"] for e in invalid] == ["year"]


@pytest.mark.parametrize("batch", [{}, {"stream_batch_chars": 10_000}])
def test_raw_answer_text_keeps_every_delta(batch: dict[str, Any]) -> None:
    responses: list[tuple[str, str]] = []

    @hook("llm_response")
    def on_response(context: AgentContext, call_type: str, text: str, **kw: Any) -> None:
        responses.append((call_type, text))

    model = OfflineModel(pace=0, script=[THINK, BAD, GOOD])
    agent = Agent(name="R", output_schema=Story, model=model, hooks=[on_response], **batch)
    assert asyncio.run(agent.process("x")) == Story.model_validate_json(GOOD)
    assert responses == [("think", THINK), ("final_result", GOOD)]
    # the history sent with later calls holds the think answer verbatim, up to its last character
    calls = list(model.calls)
    assert {"role": "assistant", "content": THINK} in calls[1][0]
    assert {"role": "assistant", "content": THINK} in calls[2][0]


def frames_of(agent: Agent) -> list[tuple[int, str, dict[str, Any]]]:
    async def main() -> list[str]:
        return [f async for f in event_stream(agent, "x")]

    frames = asyncio.run(main())
    for frame in frames:  # one event per frame, on exactly three lines
        assert frame.endswith("\n\n") and frame.count("\n") == 4
    return decode_sse("".join(frames))


DOCUMENTED = {
    "stream_start": {"call_type"},
    "chunk": {"call_type", "path", "json_path", "delta"},
    "field": {"call_type", "path", "json_path", "value", "valid", "errors"},
    "stream_end": {"call_type"},
    "result": {"result"},
    "error": {"message", "type"},
}


def check_frames(frames: list[tuple[int, str, dict[str, Any]]]) -> None:
    assert [n for n, _, _ in frames] == list(range(1, len(frames) + 1))  # strictly increasing ids
    for _, type_, data in frames:
        assert type_ in DOCUMENTED, type_
        assert set(data) == DOCUMENTED[type_], (type_, data)
    types = [t for _, t, _ in frames]
    assert types.count("result") + types.count("error") == 1
    assert types[-1] in ("result", "error")


def test_sse_frames_of_a_run_with_a_retry_are_documented_and_numbered() -> None:
    model = OfflineModel(pace=0, script=[THINK, BAD, GOOD])
    frames = frames_of(Agent(name="S", output_schema=Story, model=model))
    check_frames(frames)
    types = [t for _, t, _ in frames]
    assert types[-1] == "result"
    assert frames[-1][2]["result"] == Story.model_validate_json(GOOD).model_dump(mode="json")
    assert types.count("stream_start") == 3 and types.count("stream_end") == 3


@pytest.mark.parametrize("script", [
    [THINK, ('{"title": "Half a ti', ModelError("connection reset"))],
    [THINK, BAD, BAD, BAD],
    [ModelError("down")],
])
def test_sse_error_frame_gets_the_next_id_and_no_undocumented_frame_leaks(script: list[Any]) -> None:
    frames = frames_of(Agent(name="S", output_schema=Story, model=OfflineModel(pace=0, script=script),
                             max_output_retries=2))
    check_frames(frames)
    n, type_, data = frames[-1]
    assert type_ == "error"
    assert n == (frames[-2][0] + 1 if len(frames) > 1 else 1)
    assert data["type"] in ("ModelError", "OutputValidationError")


# ------------------------------------------------------------------ the error frame's public message
@pytest.mark.parametrize(("exc", "expected"), [
    (OutputValidationError("x", call_type="think", errors=[], text="secret"),
     {"type": "OutputValidationError",
      "message": "the think output did not match the schema, even after retries"}),
    (OutputValidationError("x", call_type="final_result", errors=[], text="secret"),
     {"type": "OutputValidationError",
      "message": "the final_result output did not match the schema, even after retries"}),
    (OutputValidationError("x", call_type="http://user:pw@host", errors=[], text="secret"),
     {"type": "OutputValidationError",
      "message": "the model output did not match the schema, even after retries"}),
    (ModelError("http://user:pw@host/v1 said no", status=599),
     {"type": "ModelError", "message": "the model provider failed (HTTP 599)"}),
    (ModelError("x", status=100), {"type": "ModelError", "message": "the model provider failed (HTTP 100)"}),
    (ModelError("x", status=600), {"type": "ModelError", "message": "the model provider failed"}),
    (ModelError("x", status=99), {"type": "ModelError", "message": "the model provider failed"}),
    (AgentError("http://user:pw@host"), {"type": "AgentError", "message": "the agent run failed"}),
])
def test_error_frames_carry_only_the_fixed_public_message(exc: BaseException,
                                                          expected: dict[str, str]) -> None:
    frame = encode_event(7, RunError(exc, "think"))
    assert decode_sse(frame) == [(7, "error", expected)]


# ------------------------------------------------------------------ non-finite floats in frame data
def test_a_non_finite_float_becomes_null_and_everything_else_is_kept() -> None:
    value = {"a": [1.5, float("inf"), "caf\u00e9", None, True, 3], "b": (float("nan"), {"c": "\U0001f600"}),
             "d": -float("inf")}
    frame = encode_event(1, Field("final_result", ("x",), value))
    assert frame.isascii()  # the fallback path escapes non-ASCII text like the normal one
    [(n, type_, data)] = decode_sse(frame)
    assert (n, type_) == (1, "field")
    assert data["value"] == {"a": [1.5, None, "caf\u00e9", None, True, 3], "b": [None, {"c": "\U0001f600"}],
                             "d": None}


# ------------------------------------------------------------------ client disconnect
def test_event_stream_stops_when_the_client_has_disconnected() -> None:
    class Request:  # a Starlette Request stand-in: disconnects after two frames
        def __init__(self) -> None:
            self.polls = 0

        async def is_disconnected(self) -> bool:
            self.polls += 1
            return self.polls > 2

    async def main() -> list[str]:
        agent = Agent(name="S", output_schema=Story, model=OfflineModel(pace=0, script=[THINK, GOOD]))
        return [f async for f in event_stream(agent, "x", request=Request())]

    frames = decode_sse("".join(asyncio.run(main())))
    assert [(n, t) for n, t, _ in frames] == [(1, "stream_start"), (2, "chunk")]


def test_a_hook_shows_its_event_and_function_name() -> None:
    def on_chunk(ctx: Any, chunk: Any) -> None:
        """Print chunks."""

    h = hook("stream_chunk")(on_chunk)
    assert repr(h) == "Hook('stream_chunk', on_chunk)"
    assert (h.__name__, h.__doc__) == ("on_chunk", "Print chunks.")


# ------------------------------------------------------------------ providers (recorded streams)


MESSAGES = [{"role": "user", "content": "hi"}]


async def _items(model: Any, **kw: Any) -> list[Any]:
    async with model:
        return [item async for item in model.stream_items(MESSAGES, {"type": "object"}, **kw)]


def _chat(replay: Replay, **kw: Any) -> OpenAIChatModel:
    return no_sleep(OpenAIChatModel("gpt-test", base_url="http://fake/v1", api_key="k",  # type: ignore[no-any-return]
                                     http_client=replay.async_client(), **kw))


def _responses(replay: Replay, **kw: Any) -> OpenAIResponsesModel:
    return no_sleep(OpenAIResponsesModel("gpt-test", api_key="k",  # type: ignore[no-any-return]
                                          http_client=replay.async_client(), **kw))


def _anthropic(replay: Replay, **kw: Any) -> AnthropicModel:
    return no_sleep(AnthropicModel("claude-test", api_key="k",  # type: ignore[no-any-return]
                                    http_client=replay.async_client(), **kw))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_an_http_5xx_before_any_text_is_retried(status: int) -> None:
    # docs/agents.md: the providers retry 408/409/429/5xx before any text streamed
    ok = STREAMS / "anthropic" / "text_end_turn.sse"
    failed = Canned(b'{"type": "error", "error": {"type": "internal", "message": "boom"}}', status,
                    {"content-type": "application/json"})
    replay = Replay(failed, Canned.recording(ok))
    model = _anthropic(replay)
    items = asyncio.run(_items(model))
    assert "".join(i for i in items if isinstance(i, str)) == sidecar(ok)["expect"]["text"]
    assert len(replay.requests) == 2 and model.slept == [0.5]


def _recorded_usage(path: Path) -> tuple[int, int]:
    """Input and output tokens of an Anthropic recording, read from its events with json only."""
    inp = out = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("data:"):
            continue
        ev = json.loads(line[5:])
        if ev.get("type") == "message_start":
            inp = ev["message"]["usage"]["input_tokens"]
            out = ev["message"]["usage"].get("output_tokens", 0)
        elif ev.get("type") == "message_delta" and (ev.get("usage") or {}).get("output_tokens") is not None:
            out = ev["usage"]["output_tokens"]
    return inp, out


@pytest.mark.parametrize("name", ["text_end_turn", "tool_use_stop"])
def test_anthropic_usage_is_one_request_with_the_recorded_token_counts(name: str) -> None:
    path = STREAMS / "anthropic" / f"{name}.sse"
    items = asyncio.run(_items(_anthropic(Replay(Canned.recording(path)))))
    usage = [i for i in items if isinstance(i, Usage)]
    assert len(usage) == 1  # docs/agents.md: `Usage` once
    assert (usage[0].requests, usage[0].input_tokens, usage[0].output_tokens) == (1, *_recorded_usage(path))


def test_an_agent_on_anthropic_counts_one_request_per_model_call() -> None:
    think = {"reasoning": "r", "tool_calls": [], "is_complete": True, "final_result": "done"}

    def answer(text: str) -> bytes:
        return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in [
            {"type": "message_start",
             "message": {"id": "m", "usage": {"input_tokens": 7, "output_tokens": 1}}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
            {"type": "message_stop"}])

    seen: list[Usage] = []

    @hook("agent_end")
    def on_end(context: AgentContext, **kw: Any) -> None:
        seen.append(context.usage)

    agent = Agent(name="U", model=_anthropic(Replay(Canned(answer(json.dumps(think))))), hooks=[on_end])
    assert asyncio.run(agent.process("x")) == "done"
    assert (seen[0].requests, seen[0].input_tokens, seen[0].output_tokens) == (1, 7, 4)


def _request_json(replay: Replay) -> dict[str, Any]:
    return json.loads(replay.requests[0].content)  # type: ignore[no-any-return]


@pytest.mark.parametrize("strict", [None, True, False])
def test_strict_mode_is_off_unless_asked_for(strict: bool | None) -> None:
    # docs/agents.md: strict=False by default (OpenAI's strict mode needs a restricted schema)
    kw = {} if strict is None else {"strict": strict}
    chat = Replay(Canned.recording(STREAMS / "openai" / "chat_text_short.sse"))
    asyncio.run(_items(_chat(chat, **kw)))
    assert _request_json(chat)["response_format"]["json_schema"]["strict"] is bool(strict)
    responses = Replay(Canned.recording(STREAMS / "openai-responses" / "text.sse"))
    asyncio.run(_items(_responses(responses, **kw)))
    assert _request_json(responses)["text"]["format"]["strict"] is bool(strict)


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _chat_sse(*events: dict[str, Any]) -> Canned:
    return Canned("".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + b"data: [DONE]\n\n")


def test_a_content_filter_finish_is_a_truncation() -> None:
    # the OpenAI finish reason `content_filter`: stream_items() ends with Finish(kind="content_filter"),
    # stream() raises TruncatedOutputError with the text so far and its partial value; never re-asked
    body = _chat_sse(_chunk({"role": "assistant", "content": ""}), _chunk({"content": '{"title": "Du'}),
                     _chunk({"content": 'ne", "bo'}), _chunk({}, "content_filter"))
    items = asyncio.run(_items(_chat(Replay(body))))
    assert items[-1] == Finish("content_filter", "content_filter")

    async def text_only(replay: Replay) -> None:
        async with _chat(replay) as model:
            async for _ in model.stream(MESSAGES, {"type": "object"}):
                pass

    replay = Replay(body)
    with pytest.raises(TruncatedOutputError) as info:
        asyncio.run(text_only(replay))
    assert info.value.reason == "content_filter" and info.value.text == '{"title": "Dune", "bo'
    assert info.value.partial == {"title": "Dune"} and len(replay.requests) == 1


# ------------------------------------------------------------------ the run's history


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


class Total(BaseModel):
    total: int


def _history_of(agent: Agent) -> tuple[Any, list[dict[str, Any]]]:
    history: list[list[dict[str, Any]]] = []

    @hook("agent_end")
    def on_end(context: AgentContext, **kw: Any) -> None:
        history.append(context.execution_history)

    agent.add_hook(on_end)
    result = asyncio.run(agent.process("add 1 and 2"))
    return result, history[0]


def test_the_history_records_each_iterations_tool_results_json_loop() -> None:
    # AgentContext.execution_history: one dict per iteration with its thought and its tool_results
    think1 = json.dumps({"reasoning": "add", "tool_calls": [{"name": "add", "parameters": {"a": 1, "b": 2}}],
                         "is_complete": False, "final_result": None})
    think2 = json.dumps({"reasoning": "done", "tool_calls": [], "is_complete": True,
                         "final_result": {"total": 3}})
    agent = Agent(name="H", tools=[add], output_schema=Total,
                  model=OfflineModel(pace=0, script=[think1, think2]))
    result, history = _history_of(agent)
    assert result == Total(total=3)
    assert [h["iteration"] for h in history] == [1, 2]
    assert history[0]["tool_results"] == [{"tool": "add", "parameters": {"a": 1, "b": 2}, "result": 3}]
    assert history[1]["tool_results"] == []


def test_the_history_records_each_iterations_tool_results_native_tools() -> None:
    call = {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                            "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}]}
    replay = Replay(_chat_sse(_chunk({"role": "assistant", "content": None}), _chunk(call),
                              _chunk({}, "tool_calls")),
                    _chat_sse(_chunk({"content": '{"total": 3}'}), _chunk({}, "stop")))
    agent = Agent(name="H", tools=[add], output_schema=Total, model=_chat(replay))
    result, history = _history_of(agent)
    assert result == Total(total=3) and len(replay.requests) == 2
    assert [h["iteration"] for h in history] == [1, 2]
    assert history[0]["tool_results"] == [{"tool": "add", "parameters": {"a": 1, "b": 2}, "result": 3}]
    assert history[1]["tool_results"] == []


# ------------------------------------------------------------------ cancelling a batched stream


class StalledModel:
    """Streams the start of an answer, then waits forever for its next delta; records its closing."""

    name = "stalled"

    def __init__(self) -> None:
        self.waiting = asyncio.Event()
        self.closed = False

    async def stream(self, messages: Any, schema: Any, *, name: str = "") -> Any:
        try:
            yield '{"reasoning": "thinking about'
            self.waiting.set()
            await asyncio.Event().wait()
            yield "never"
        finally:
            self.closed = True


def test_cancelling_a_run_that_waits_for_the_next_batched_delta_closes_the_model_stream() -> None:
    # with stream_batch_ms, the run waits for the model's next delta and the batch deadline at once;
    # cancelling it there must end the run with CancelledError and close the model's stream
    async def main() -> tuple[BaseException | None, bool]:
        model = StalledModel()
        agent = Agent(name="C", model=model, stream_batch_ms=60_000)

        async def consume() -> None:
            async for _ in agent.stream("x"):
                pass

        task = asyncio.ensure_future(consume())
        await asyncio.wait_for(model.waiting.wait(), 10)
        for _ in range(5):  # let the run take the delta and start waiting for the next one
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
        assert done, "the cancelled run did not end"
        err = None if task.cancelled() else task.exception()
        return err, model.closed

    err, closed = asyncio.run(main())
    assert err is None  # cancelled: no other error replaced the cancellation
    assert closed


# ------------------------------------------------------------------ the offline model


def offline_text(model: OfflineModel, messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
    async def main() -> str:
        return "".join([d async for d in model.stream(messages, schema) if isinstance(d, str)])

    return asyncio.run(main())


class Bounded(BaseModel):
    below_3: int = PField(lt=3)
    from_1_below_4: int = PField(gt=0, lt=4)
    up_to_5: int = PField(ge=2, le=5)
    ratio: float = PField(ge=0, lt=1)


def test_offline_numbers_stay_within_the_schema_bounds() -> None:
    # docs/agents.md: schema-valid JSON, numbers within bounds (exclusive ones too); Pydantic is the oracle
    schema = Bounded.model_json_schema()
    seen: dict[str, set[Any]] = {k: set() for k in Bounded.model_fields}
    for seed in range(40):
        value = Bounded.model_validate_json(offline_text(OfflineModel(seed=seed, pace=0), MESSAGES, schema))
        for k in seen:
            seen[k].add(getattr(value, k))
    assert seen["below_3"] == {0, 1, 2} and seen["from_1_below_4"] == {1, 2, 3}
    assert seen["up_to_5"] == {2, 3, 4, 5}


class Fable(BaseModel):
    title: str
    content: str
    city: str


SENTENCE = r"The [a-z]+ [a-z]+ [a-z]+ [a-z]+ the [a-z ]+\."


def test_offline_prose_is_made_of_readable_sentences() -> None:
    # "readable JSON": every sentence of a text field reads "The <adjective> <animal> <verb> the <place>."
    schema = Fable.model_json_schema()
    for seed in range(10):
        fable = Fable.model_validate_json(offline_text(OfflineModel(seed=seed, pace=0), MESSAGES, schema))
        assert re.fullmatch(f"{SENTENCE}( {SENTENCE})*", fable.content), fable.content
        assert "None" not in fable.title


def test_offline_answers_follow_the_users_prompt_not_the_system_prompt() -> None:
    # the animal and the city the user asks about show in every answer (titles, city fields)
    messages = [{"role": "system", "content": "You write fables. The crow in Lima is your narrator."},
                {"role": "user", "content": "A fable about an owl in Oslo, please."}]
    schema = Fable.model_json_schema()
    for seed in range(10):
        fable = Fable.model_validate_json(offline_text(OfflineModel(seed=seed, pace=0), messages, schema))
        assert "Owl" in fable.title and fable.city == "Oslo", fable
