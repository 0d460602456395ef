"""Agent loop, hooks, tools, retries, batching, cancellation and the offline model (no network)."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import date
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel
from pydantic import Field as PField

from fieldstream.agents import (
    Agent,
    AgentContext,
    Chunk,
    Field,
    HookError,
    ModelError,
    OfflineModel,
    OpenAIChatModel,
    OutputValidationError,
    Result,
    StreamEnd,
    StreamStart,
    Usage,
    hook,
    resolve_model,
    tool,
)
from fieldstream.agents.models._offline import tokenize


class Story(BaseModel):
    title: str
    content: str
    moral: str
    tags: list[str]
    year: int = PField(ge=1900, le=2100)


def recorder(events: list[tuple[str, dict[str, Any]]], names: list[str]) -> list[Any]:
    """Hooks for ``names`` that append ``(event, kwargs)`` to ``events``."""
    out = []
    for n in names:
        def make(n: str) -> Any:
            async def h(context: AgentContext, **kw: Any) -> None:
                assert isinstance(context, AgentContext)
                events.append((n, kw))
            return hook(n)(h)
        out.append(make(n))
    return out


ALL = ["agent_start", "agent_end", "agent_error", "loop_start", "loop_end", "llm_call", "llm_response",
       "think_end", "tool_call", "tool_result", "tool_error", "stream_start", "stream_chunk", "stream_field",
       "stream_end", "stream_error"]


@tool
def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    """Current weather of a city."""
    return f"18 {unit} in {city}"


def test_hook_order_and_payloads_for_a_tool_loop() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    agent = Agent(name="W", tools=[get_weather], output_schema=Story, enable_streaming=True,
                  hooks=recorder(events, ALL), model=OfflineModel(pace=0, seed=3))
    result = asyncio.run(agent.process("weather?"))
    assert isinstance(result, Story)
    coarse = [n for n, _ in events if n not in ("stream_chunk", "stream_field")]
    assert coarse == ["agent_start",
                      "loop_start", "llm_call", "stream_start", "stream_end", "llm_response", "think_end",
                      "tool_call", "tool_result", "loop_end",
                      "loop_start", "llm_call", "stream_start", "stream_end", "llm_response", "think_end",
                      "loop_end",
                      "llm_call", "stream_start", "stream_end", "llm_response", "agent_end"]
    kw = dict(events)
    assert kw["tool_call"]["tool_name"] == "get_weather" and "city" in kw["tool_call"]["parameters"]
    assert kw["tool_result"]["result"].startswith("18 ")
    assert kw["agent_end"]["result"] is result
    chunks = [k["chunk_data"] for n, k in events if n == "stream_chunk"]
    paths = {(c["call_type"], c["json_path"]) for c in chunks}
    assert ("think", "reasoning") in paths and ("think", "tool_calls[0].parameters.city") in paths
    tag_paths = {f"tags[{i}]" for i in range(len(result.tags))}
    assert {p for c, p in paths if c == "final_result"} == {"title", "content", "moral"} | tag_paths
    for c in chunks:
        assert c["delta"] and c["call_type"] in ("think", "final_result")
    content = "".join(c["delta"] for c in chunks if c["json_path"] == "content" and c["call_type"] ==
                      "final_result")
    assert content == result.content
    fields = {k["field_data"]["json_path"]: k["field_data"] for n, k in events if n == "stream_field"
              and k["call_type"] == "final_result"}
    assert fields["year"]["value"] == result.year and fields["year"]["valid"] is True
    assert fields["tags[0]"]["value"] == result.tags[0]


def test_tool_results_and_errors_are_fed_back_and_independent_tools_run_in_parallel() -> None:
    barrier = threading.Barrier(2, timeout=5)

    @tool
    def left(x: int) -> int:
        """Needs right to run at the same time."""
        barrier.wait()
        return x + 1

    @tool
    async def right(y: str) -> str:
        """Fails."""
        await asyncio.to_thread(barrier.wait)
        raise RuntimeError("boom")

    think1 = json.dumps({"reasoning": "r", "tool_calls": [{"name": "left", "parameters": {"x": 1}},
                                                          {"name": "right", "parameters": {"y": "a"}},
                                                          {"name": "nope", "parameters": {}},
                                                          {"name": "left", "parameters": {"x": "bad"}}],
                         "is_complete": False, "final_result": None})
    think2 = json.dumps({"reasoning": "done", "tool_calls": [], "is_complete": True, "final_result": "42"})
    model = OfflineModel(pace=0, script=[think1, think2])
    errors: list[str] = []
    agent = Agent(name="T", tools=[left, right], model=model,
                  hooks=[hook("tool_error")(lambda c, error, tool_name, **k: errors.append(tool_name))])
    assert asyncio.run(agent.process("go")) == "42"
    fed = model.calls[1][0][-2]["content"]
    assert fed.startswith("Tool results:\n")
    results = json.loads(fed.split("\n", 1)[1])
    assert results[0] == {"tool": "left", "parameters": {"x": 1}, "result": 2}
    assert results[1]["error"] == "RuntimeError: boom"
    assert "unknown tool 'nope'" in results[2]["error"] and "ValidationError" in results[3]["error"]
    assert sorted(errors) == ["left", "nope", "right"]


def test_think_schema_offers_one_variant_per_tool() -> None:
    agent = Agent(name="S", tools=[get_weather])
    schema = agent.think_schema()
    variants = schema["properties"]["tool_calls"]["items"]["anyOf"]
    assert [v["properties"]["name"]["const"] for v in variants] == ["get_weather"]
    assert variants[0]["properties"]["parameters"]["required"] == ["city"]
    assert schema["required"] == ["reasoning", "tool_calls", "is_complete", "final_result"]
    no_tools = Agent(name="S").think_schema()
    assert no_tools["properties"]["tool_calls"]["maxItems"] == 0


def test_invalid_field_surfaces_at_that_moment_and_the_call_is_retried_with_the_errors() -> None:
    bad = '{"title": "T", "content": "c", "moral": "m", "tags": [], "year": 1200, "after": "never seen"}'
    good = '{"title": "T", "content": "c", "moral": "m", "tags": ["a"], "year": 2001}'
    think = '{"reasoning": "r", "tool_calls": [], "is_complete": true, "final_result": null}'
    model = OfflineModel(pace=0, script=[think, bad, good])
    log: list[Any] = []

    @hook("stream_error")
    def on_error(context: AgentContext, error: Exception, **kw: Any) -> None:
        log.append(("error", type(error).__name__, getattr(error, "path", None), kw["partial"]))

    @hook("stream_chunk")
    def on_chunk(context: AgentContext, chunk_data: dict[str, Any], **kw: Any) -> None:
        log.append(("chunk", chunk_data["json_path"], chunk_data["attempt"]))

    agent = Agent(name="R", output_schema=Story, enable_streaming=True, hooks=[on_error, on_chunk],
                  model=model)
    result = asyncio.run(agent.process("x"))
    assert result == Story.model_validate_json(good)
    err = next(e for e in log if e[0] == "error")
    assert err[1] == "SchemaError" and err[2] == ("year",)
    assert err[3] == {"title": "T", "content": "c", "moral": "m", "tags": []}  # partial so far
    # nothing after the invalid field was streamed in that attempt; the retry streamed again
    assert ("chunk", "after", 0) not in log
    assert log.index(err) < log.index(("chunk", "title", 1))
    retry_msgs = model.calls[2][0]
    assert retry_msgs[-2] == {"role": "assistant", "content": bad[:bad.index("1200") + 4] + ","} \
        or retry_msgs[-2]["content"].startswith(bad[:bad.index("1200")])
    assert "greater than or equal to 1900" in retry_msgs[-1]["content"]


def test_output_still_invalid_after_retries_raises_a_clear_error_and_fires_agent_error() -> None:
    think = '{"reasoning": "r", "tool_calls": [], "is_complete": true, "final_result": null}'
    model = OfflineModel(pace=0, script=[think, '{"title": 3', "not json", '{"title": "t"}'])
    seen: list[str] = []
    agent = Agent(name="R", output_schema=Story, model=model, max_output_retries=2,
                  hooks=[hook("agent_error")(lambda c, error, **k: seen.append(type(error).__name__))])
    with pytest.raises(OutputValidationError) as info:
        asyncio.run(agent.process("x"))
    assert info.value.call_type == "final_result" and "3 attempt(s)" in str(info.value)
    assert info.value.errors and info.value.text == '{"title": "t"}'
    assert seen == ["OutputValidationError"]


def test_provider_failure_mid_stream_reports_partial_value_then_raises() -> None:
    think = '{"reasoning": "r", "tool_calls": [], "is_complete": true, "final_result": null}'
    model = OfflineModel(pace=0, script=[think, ('{"title": "Half a ti', ModelError("connection reset"))])
    seen: list[Any] = []
    agent = Agent(name="R", output_schema=Story, enable_streaming=True, model=model,
                  hooks=[hook("stream_error")(lambda c, error, **k: seen.append((str(error), k["partial"],
                                                                                  k["call_type"]))),
                         hook("stream_end")(lambda c, call_type, **k: seen.append(call_type))])
    with pytest.raises(ModelError, match="connection reset"):
        asyncio.run(agent.process("x"))
    assert seen == ["think", ("connection reset", {"title": "Half a ti"}, "final_result"), "final_result"]


def test_hook_exceptions_are_reported_and_never_lose_the_result(caplog: pytest.LogCaptureFixture) -> None:
    reported: list[tuple[str, str]] = []

    @hook("stream_chunk")
    async def broken_chunk(context: AgentContext, chunk_data: dict[str, Any], **kw: Any) -> None:
        raise ValueError("chunk hook bug")

    @hook("agent_end")
    def broken_end(context: AgentContext, **kw: Any) -> None:
        raise KeyError("end hook bug")

    @hook("stream_error")
    def on_stream_error(context: AgentContext, error: Exception, **kw: Any) -> None:
        assert isinstance(error, HookError) and isinstance(error.__cause__, ValueError)
        reported.append(("stream_error", kw["hook_event"]))

    @hook("agent_error")
    def on_agent_error(context: AgentContext, error: Exception, **kw: Any) -> None:
        reported.append(("agent_error", kw["hook_event"]))

    agent = Agent(name="H", enable_streaming=True, model=OfflineModel(pace=0),
                  hooks=[broken_chunk, broken_end, on_stream_error, on_agent_error])
    result = asyncio.run(agent.process("x"))
    assert isinstance(result, str) and result
    assert ("stream_error", "stream_chunk") in reported and ("agent_error", "agent_end") in reported
    assert reported.count(("agent_error", "agent_end")) == 1
    assert "chunk hook bug" in caplog.text


def test_plain_functions_can_be_added_as_hooks_and_unknown_events_are_rejected() -> None:
    agent = Agent(name="P", model=OfflineModel(pace=0))
    starts: list[str] = []
    agent.add_hook(lambda ctx, input, **kw: starts.append(input), "agent_start")
    asyncio.run(agent.process("hello"))
    assert starts == ["hello"]
    with pytest.raises(ValueError, match="unknown hook event"):
        hook("stream_chunks")
    with pytest.raises(TypeError):
        agent.add_hook(lambda ctx: None)


def test_concurrent_runs_on_one_agent_have_their_own_contexts() -> None:
    contexts: dict[str, AgentContext] = {}
    agent = Agent(name="C", output_schema=Story, enable_streaming=True, model=OfflineModel(pace=0),
                  hooks=[hook("agent_end")(lambda c, **k: contexts.__setitem__(c.input, c))])
    texts: dict[str, list[str]] = {}
    agent.add_hook(lambda c, chunk_data, **k: texts.setdefault(c.input, []).append(
        chunk_data["delta"]) if chunk_data["json_path"] == "content" else None, "stream_chunk")

    async def main() -> list[Any]:
        return await asyncio.gather(*(agent.process(f"q{i}") for i in range(20)))

    results = asyncio.run(main())
    assert len({r.content for r in results}) > 10
    for i, r in enumerate(results):
        ctx = contexts[f"q{i}"]
        assert "".join(texts[f"q{i}"]) == r.content
        assert ctx.usage.requests == 2 and len(ctx.execution_history) == 1
    assert len({c.session_id for c in contexts.values()}) == 20


def test_stream_yields_events_then_the_typed_result() -> None:
    agent = Agent(name="S", output_schema=Story, model=OfflineModel(pace=0, seed=5))

    async def main() -> list[Any]:
        return [ev async for ev in agent.stream("x")]

    evs = asyncio.run(main())
    bounds = [e.type for e in evs if e.type in ("stream_start", "stream_end")]
    assert bounds == ["stream_start", "stream_end"] * 2
    assert all(isinstance(e, (StreamStart, Chunk, Field, StreamEnd)) for e in evs[:-1])
    assert isinstance(evs[-1], Result) and isinstance(evs[-1].result, Story)
    assert evs[-1].call_type == "final_result"
    assert evs[-1].to_json() == {"result": evs[-1].result.model_dump(mode="json")}
    content = "".join(e.delta for e in evs if isinstance(e, Chunk) and e.path == ("content",))
    assert content == evs[-1].result.content
    assert {e.json_path for e in evs if isinstance(e, Chunk) and e.call_type == "final_result"} == {
        "title", "content", "moral", *(f"tags[{i}]" for i in range(len(evs[-1].result.tags)))}
    solo = asyncio.run(agent.process("x"))
    assert solo == evs[-1].result  # deterministic for the same input and seed


@pytest.mark.parametrize("chars", [1, 7, 10_000])
def test_batching_by_characters_coalesces_without_losing_or_reordering_text(chars: int) -> None:
    def run(**kw: Any) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []
        agent = Agent(name="B", output_schema=Story, enable_streaming=True,
                      model=OfflineModel(pace=0, seed=9),
                      hooks=[hook("stream_chunk")(lambda c, chunk_data, **k: out.append(
                          (chunk_data["call_type"], chunk_data["json_path"], chunk_data["delta"])))], **kw)
        asyncio.run(agent.process("b"))
        return out

    plain = run()
    batched = run(stream_batch_chars=chars)

    def merged(xs: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []
        for c, p, d in xs:
            if out and out[-1][:2] == (c, p):
                out[-1] = (c, p, out[-1][2] + d)
            else:
                out.append((c, p, d))
        return out

    assert merged(batched) == merged(plain)
    if chars == 10_000:
        assert batched == merged(plain)  # one chunk per string value
    if chars == 7:
        assert len(plain) > len(batched) > len(merged(plain))


def test_batching_by_time_flushes_while_the_model_is_slow() -> None:
    out: list[str] = []
    think = '{"reasoning": "one two three", "tool_calls": [], "is_complete": true, "final_result": "x"}'
    agent = Agent(name="B", enable_streaming=True, model=OfflineModel(pace=0.002, script=[think]),
                  stream_batch_ms=1, hooks=[hook("stream_chunk")(lambda c, chunk_data, **k: out.append(
                      chunk_data["delta"]))])
    assert asyncio.run(agent.process("b")) == "x"
    assert "".join(out) == "one two threex"


def test_cancelling_process_leaves_no_pending_tasks() -> None:
    started = asyncio.Event

    async def main() -> set[asyncio.Task[Any]]:
        ev = started()
        agent = Agent(name="C", enable_streaming=True, model=OfflineModel(pace=0.01),
                      hooks=[hook("stream_chunk")(lambda c, **k: ev.set())])
        task = asyncio.create_task(agent.process("x"))
        await ev.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stream = agent.stream("y")
        async for e in stream:
            if e.type == "chunk":
                break
        await stream.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0)
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    assert asyncio.run(main()) == set()


def test_max_iterations_bounds_the_tool_loop() -> None:
    calls: list[int] = []

    @tool
    def again(n: int) -> int:
        """Loops."""
        calls.append(n)
        return n

    think = json.dumps({"reasoning": "more", "tool_calls": [{"name": "again", "parameters": {"n": 1}}],
                        "is_complete": False, "final_result": None})
    model = OfflineModel(pace=0, script=[think] * 3 + ['{"content": "final"}'])
    agent = Agent(name="M", tools=[again], max_iterations=3, model=model)
    assert asyncio.run(agent.process("x")) == "final"
    assert calls == [1, 1, 1]


def test_input_schema_validates_input() -> None:
    class Query(BaseModel):
        topic: str

    model = OfflineModel(pace=0)
    agent = Agent(name="I", input_schema=Query, model=model)
    asyncio.run(agent.process({"topic": "owls"}))
    assert model.calls[0][0][1] == {"role": "user", "content": '{"topic":"owls"}'}
    with pytest.raises(Exception, match="topic"):
        asyncio.run(agent.process({"nope": 1}))


class Nested(BaseModel):
    class Item(BaseModel):
        name: str
        price: float = PField(gt=0)
        when: date

    kind: Literal["a", "b"]
    items: list[Item] = PField(min_length=2, max_length=4)
    notes: str | None
    flags: dict[str, bool]
    count: int = PField(ge=5, le=9)


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("model_type", [Story, Nested])
def test_offline_model_output_validates_for_any_schema_and_is_deterministic(seed: int,
                                                                            model_type: Any) -> None:
    m = OfflineModel(seed=seed)
    msgs = [{"role": "user", "content": "hi"}]
    text = m.answer(msgs, model_type.model_json_schema())
    model_type.model_validate_json(text)  # the oracle: pydantic
    assert "".join(tokenize(text)) == text
    assert m.answer(msgs, model_type.model_json_schema()) == text
    assert OfflineModel(seed=seed + 100).answer(msgs, model_type.model_json_schema()) != text


def test_offline_stream_yields_token_like_deltas_and_usage() -> None:
    async def main() -> list[Any]:
        return [x async for x in OfflineModel(pace=0).stream([{"role": "user", "content": "hi"}],
                                                             Story.model_json_schema())]

    items = asyncio.run(main())
    assert isinstance(items[-1], Usage) and items[-1].output_tokens == len(items) - 1
    text = "".join(items[:-1])
    Story.model_validate_json(text)
    assert max(len(x) for x in items[:-1]) < 20 and len(items) > 20


def test_model_resolution(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import fieldstream.agents.models as models

    monkeypatch.delenv("FIELDSTREAM_MODEL", raising=False)
    monkeypatch.setattr(models, "_notice_shown", False)
    m = resolve_model(None)
    assert isinstance(m, OfflineModel)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model configured" in err
    resolve_model(None)
    assert capsys.readouterr().err == ""  # once per process
    monkeypatch.setenv("FIELDSTREAM_MODEL", "ollama:llama3.2")
    o = resolve_model(None)
    assert isinstance(o, OpenAIChatModel) and o.name == "llama3.2" and o.base_url.endswith(":11434/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    oa = resolve_model("openai:gpt-4o-mini")
    assert isinstance(oa, OpenAIChatModel) and oa.api_key == "sk-test" and oa.name == "gpt-4o-mini"
    off = resolve_model("offline:pace=0,seed=4")
    assert isinstance(off, OfflineModel) and off.pace == 0 and off.seed == 4
    assert resolve_model(off) is off
    with pytest.raises(ValueError, match="unknown model"):
        resolve_model("nope:x")


def test_public_api_exports_exactly_the_documented_names() -> None:
    import fieldstream.agents as fa

    assert sorted(fa.__all__) == sorted(
        ["HOOK_EVENTS", "Agent", "AgentContext", "AgentError", "AgentEvent", "Chunk", "Field", "Hook",
         "HookError", "Message", "Model", "ModelError", "OfflineModel", "OpenAIChatModel",
         "OutputValidationError", "Result", "RunError", "StreamEnd", "StreamError", "StreamStart", "Tool",
         "Usage", "hook", "resolve_model", "tool",
         "AnthropicModel", "OpenAIResponsesModel", "ProviderError", "RefusalError", "TruncatedOutputError",
         "LimitExceededError", "ModelStalledError", "OutputTooLargeError", "RunTimeoutError"])
    from fieldstream.agents.base.context import AgentContext as Ctx

    assert Ctx is fa.AgentContext


def test_core_still_imports_without_pydantic_or_httpx() -> None:
    import subprocess
    import sys

    code = ("import sys; sys.modules['pydantic'] = None; sys.modules['httpx'] = None; "
            "import fieldstream; print(fieldstream.parse('[1]'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[1]"


def test_streaming_hooks_need_enable_streaming_but_stream_always_yields_events() -> None:
    fired: list[str] = []
    names = ("stream_start", "stream_chunk", "stream_end")
    hooks = [hook(n)(lambda c, n=n, **k: fired.append(n)) for n in names]
    agent = Agent(name="Q", hooks=hooks, model=OfflineModel(pace=0))

    async def main() -> list[str]:
        return [e.type async for e in agent.stream("x")]

    types = asyncio.run(main())
    assert fired == [] and types.count("chunk") > 5 and types[-1] == "result"
    agent.enable_streaming = True
    asyncio.run(agent.process("x"))
    assert fired[0] == "stream_start" and fired.count("stream_end") == 2 and "stream_chunk" in fired


def _random_model(draw: Any, depth: int = 0) -> Any:
    from hypothesis import strategies as st
    from pydantic import create_model

    simple: list[Any] = [str, int, float, bool, list[str], int | None, Literal["x", "y"], dict[str, int],
                         date, Annotated[int, PField(ge=-5, le=5)], Annotated[str, PField(min_length=30)],
                         Annotated[list[int], PField(min_length=3, max_length=5)]]
    n = draw(st.integers(1, 5))
    fields: dict[str, Any] = {}
    for i in range(n):
        if depth < 2 and draw(st.booleans()) and draw(st.booleans()):
            sub = _random_model(draw, depth + 1)
            tp = draw(st.sampled_from([sub, list[sub], sub | None]))
        else:
            tp = draw(st.sampled_from(simple))
        name = draw(st.sampled_from(["title", "content", "city", "name", "email", "x", "count", "tags"]))
        fields[f"{name}_{i}"] = (tp, ...)
    return create_model(f"M{depth}", **fields)


def test_offline_model_validates_against_random_pydantic_models() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=40, deadline=None)
    @given(st.data(), st.integers(0, 2**16))
    def check(data: Any, seed: int) -> None:
        model = _random_model(data.draw)
        text = OfflineModel(seed=seed).answer([{"role": "user", "content": "q"}], model.model_json_schema())
        model.model_validate_json(text)  # oracle: pydantic
        assert json.loads(text) == json.loads("".join(tokenize(text)))

    check()


def test_typed_partial_on_events_and_chunk_data_reflects_the_state_at_that_event() -> None:
    answer = ('{"title": "The Owl", "content": "A long night. The end.", "moral": "m", "tags": ["a"], '
              '"year": 1999}')
    think = '{"reasoning": "ok", "tool_calls": [], "is_complete": true, "final_result": null}'
    seen: list[tuple[str, Any]] = []

    def on_chunk(context: AgentContext, chunk_data: dict[str, Any], **kw: Any) -> None:
        if kw["call_type"] == "final_result" and chunk_data["json_path"] == "content":
            p = chunk_data["partial"]()  # live: read it while handling the chunk
            seen.append((chunk_data["delta"], (type(p).__name__, p.title, p.content)))

    agent = Agent(name="P", output_schema=Story, enable_streaming=True,
                  hooks=[hook("stream_chunk")(on_chunk)],
                  model=OfflineModel(pace=0, script=[think, answer] * 2))

    async def main() -> list[tuple[str, Any]]:
        out = []
        async for ev in agent.stream("x"):
            if isinstance(ev, Chunk) and ev.call_type == "final_result" and ev.path == ("content",):
                await asyncio.sleep(0.001)  # the run waits for the consumer: the state cannot move on
                p = ev.partial()
                out.append((ev.delta, (type(p).__name__, p.title, p.content)))
        return out

    from_events = asyncio.run(main())
    assert [d for d, _ in seen] == [d for d, _ in from_events]
    text = ""
    for (delta, p_hook), (_, p_ev) in zip(seen, from_events, strict=True):
        text += delta
        for p in (p_hook, p_ev):
            assert p == ("Story", "The Owl", text)  # the state at that event, typed


def test_events_that_nobody_asks_compute_no_partial(monkeypatch: pytest.MonkeyPatch) -> None:
    from fieldstream.agents import _call

    calls: list[int] = []
    real = _call._Output.partial
    monkeypatch.setattr(_call._Output, "partial", lambda self: calls.append(1) or real(self))
    agent = Agent(name="N", output_schema=Story, model=OfflineModel(pace=0, seed=1))

    async def main() -> int:
        return len([e async for e in agent.stream("x")])

    assert asyncio.run(main()) > 20 and calls == []
