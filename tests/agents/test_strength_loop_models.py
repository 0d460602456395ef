"""The agent loop, one model call and the providers: contracts a planted bug could break unnoticed.

Each test was checked against the code with its mutant planted (it failed) and against the code
as is (it passes). Runs use the scripted offline model, ``support.provider_server`` (a local HTTP
server on 127.0.0.1, requests counted) or ``support.recorded.Replay`` (httpx.MockTransport); no
network, no timing assumptions.

* the loop: ``max_output_retries`` is 2 by default (three attempts), ``add_tool`` registers plain
  functions, every tool variant of the think schema requires all its properties, every message has
  its role, and the native loop's system prompt, ``loop_end`` hooks and ``final_result`` call after
  ``max_iterations``;
* one call: with batching, pending text is flushed before reasoning (order preserved), a batch is
  handed on when its first delta is ``stream_batch_ms`` old, the consumer of ``Agent.stream`` takes
  the events of the last delta before the call goes on, a truncated lenient answer keeps its
  partial value;
* providers: the ``ollama`` default, Anthropic's initial block text and ``message_start`` usage,
  the default schema name, a missing finish reason is a stop, OpenAI-compatible error shapes and
  usage, the retry count, the connection limit, Responses usage and the end at
  ``response.completed``;
* the offline model: emails, names, stories, tags, optional fields filled, bounded recursion, the
  last 64 requests kept.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any, Optional

import httpx
import pytest
from pydantic import BaseModel

from fieldstream import ModelError, ProviderError, TruncatedOutputError
from fieldstream.agents import (
    Agent,
    AgentContext,
    AnthropicModel,
    OfflineModel,
    OpenAIChatModel,
    OpenAIResponsesModel,
    OutputValidationError,
    Tool,
    Usage,
    _call,
    hook,
)
from fieldstream.agents.models import Finish, resolve_model
from support.provider_server import ProviderServer, Reply, no_sleep
from support.recorded import Canned, Replay


class Story(BaseModel):
    title: str
    content: str
    tags: list[str]
    year: int


THINK = '{"reasoning": "plan the story", "tool_calls": [], "is_complete": true, "final_result": null}'
GOOD = ('{"title": "The Fox and the Grapes", "content": "A fox saw grapes.", "tags": ["fable"], '
        '"year": 1912}')
BAD = '{"title": "T", "content": "c", "tags": [], "year": "soon"}'
MESSAGES = [{"role": "user", "content": "hi"}]
ROLES = {"system", "user", "assistant", "tool"}


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def chat_on(server: ProviderServer, **kw: Any) -> OpenAIChatModel:
    model = OpenAIChatModel("test-model", base_url=server.url, api_key="sk-test",
                            http_client=httpx.AsyncClient(verify=False), **kw)
    model._own_client = True
    return no_sleep(model)  # type: ignore[no-any-return]


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


async def items_of(model: Any, **kw: Any) -> list[Any]:
    async with model:
        return [i async for i in model.stream_items(MESSAGES, {"type": "object"}, **kw)]


def plus(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def times(a: int, b: int) -> int:
    """Multiply two numbers."""
    return a * b


class Total(BaseModel):
    total: int


# ------------------------------------------------------------------ the JSON loop


def test_invalid_output_is_retried_twice_by_default_then_raises() -> None:
    # docs/agents.md: `max_output_retries=2` by default: three attempts, then OutputValidationError
    model = OfflineModel(pace=0, script=[THINK, BAD, BAD, BAD, GOOD])
    agent = Agent(name="R", output_schema=Story, model=model)
    with pytest.raises(OutputValidationError) as info:
        run(agent.process("x"))
    assert "after 3 attempt(s)" in str(info.value) and info.value.call_type == "final_result"
    assert len(model.calls) == 4  # the think call and three final_result attempts


def test_add_tool_registers_plain_functions_and_tools() -> None:
    think1 = json.dumps({"reasoning": "r", "tool_calls": [{"name": "plus", "parameters": {"a": 2, "b": 3}},
                                                          {"name": "times", "parameters": {"a": 2, "b": 3}}],
                         "is_complete": False, "final_result": None})
    think2 = json.dumps({"reasoning": "r", "tool_calls": [], "is_complete": True,
                         "final_result": {"total": 11}})
    model = OfflineModel(pace=0, script=[think1, think2])
    agent = Agent(name="T", output_schema=Total, model=model)
    agent.add_tool(plus)
    agent.add_tool(Tool(times))
    assert sorted(agent.tools) == ["plus", "times"]
    assert run(agent.process("x")) == Total(total=11)
    results = json.loads(model.calls[1][0][-2]["content"].removeprefix("Tool results:\n"))
    assert [r["result"] for r in results] == [5, 6]


def test_every_tool_variant_of_the_think_schema_requires_all_its_properties() -> None:
    # the think schema sent to the model: each tool call variant names the tool and its parameters,
    # both required (a call without "name" is not a call; strict providers need every property required)
    model = OfflineModel(pace=0, script=[THINK, GOOD])
    agent = Agent(name="S", output_schema=Story, tools=[plus, times], model=model)
    run(agent.process("x"))
    schema = model.calls[0][1]
    variants = schema["properties"]["tool_calls"]["items"]["anyOf"]
    assert [v["properties"]["name"] for v in variants] == [{"const": "plus"}, {"const": "times"}]
    for v in variants:
        assert v["required"] == list(v["properties"]) == ["name", "parameters"]


def test_every_message_sent_has_a_role_and_the_final_result_is_asked_for() -> None:
    model = OfflineModel(pace=0, script=[THINK, GOOD])
    agent = Agent(name="M", output_schema=Story, model=model)
    assert run(agent.process("write")) == Story.model_validate_json(GOOD)
    for messages, _ in model.calls:
        assert all(set(m) == {"role", "content"} and m["role"] in ROLES for m in messages), messages
    assert model.calls[1][0][-1] == {"role": "user", "content": "Now write the final result."}


# ------------------------------------------------------------------ the native loop


def tool_call_chunks(a: int, b: int) -> Reply:
    call = {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                            "function": {"name": "plus", "arguments": json.dumps({"a": a, "b": b})}}]}
    return Reply.sse(chunk({"role": "assistant", "content": None}), chunk(call), chunk({}, "tool_calls"))


def test_native_loop_messages_hooks_and_the_answer() -> None:
    seen: list[tuple[str, int]] = []

    @hook("loop_start")
    def on_start(context: AgentContext, iteration: int, **kw: Any) -> None:
        seen.append(("loop_start", iteration))

    @hook("loop_end")
    def on_end(context: AgentContext, iteration: int, **kw: Any) -> None:
        seen.append(("loop_end", iteration))

    async def go() -> tuple[Any, list[Any]]:
        async with ProviderServer(tool_call_chunks(1, 2),
                                  Reply.sse(chunk({"content": '{"total": 3}'}), chunk({}, "stop"))) as server:
            agent = Agent(name="N", description="Adds.", tools=[plus], output_schema=Total,
                          model=chat_on(server), hooks=[on_start, on_end])
            result = await agent.process("add 1 and 2")
            return result, [r.json() for r in server.requests]

    result, bodies = run(go())
    assert result == Total(total=3) and len(bodies) == 2
    assert seen == [("loop_start", 1), ("loop_end", 1), ("loop_start", 2), ("loop_end", 2)]
    for body in bodies:
        system, user = body["messages"][:2]
        assert system["role"] == "system" and system["content"].startswith("You are N. Adds.")
        assert user == {"role": "user", "content": "add 1 and 2"}
        assert all(m["role"] in ROLES for m in body["messages"])
    assert [m["role"] for m in bodies[1]["messages"]] == ["system", "user", "assistant", "tool"]


def test_native_loop_after_max_iterations_asks_for_the_final_result() -> None:
    async def go() -> tuple[list[Any], list[Any]]:
        async with ProviderServer(tool_call_chunks(1, 2),
                                  Reply.sse(chunk({"content": '{"total": 3}'}), chunk({}, "stop"))) as server:
            agent = Agent(name="N", tools=[plus], output_schema=Total, model=chat_on(server),
                          max_iterations=1)
            events = [ev async for ev in agent.stream("add 1 and 2")]
            return events, [r.json() for r in server.requests]

    events, bodies = run(go())
    result = events[-1]
    assert (result.type, result.call_type, result.result) == ("result", "final_result", Total(total=3))
    assert bodies[1]["messages"][-1] == {"role": "user", "content": "Now write the final result."}
    starts = [ev.to_json()["call_type"] for ev in events if ev.type == "stream_start"]
    assert starts == ["think", "final_result"]


# ------------------------------------------------------------------ one model call


def chunk_runs(events: list[Any]) -> list[tuple[str, str, str]]:
    """The chunks of a run as (call_type, json_path, text), consecutive deltas of one path joined."""
    out: list[tuple[str, str, str]] = []
    for ev in events:
        if ev.type != "chunk":
            continue
        d = ev.to_json()
        if out and out[-1][:2] == (d["call_type"], d["json_path"]):
            out[-1] = (*out[-1][:2], out[-1][2] + d["delta"])
        else:
            out.append((d["call_type"], d["json_path"], d["delta"]))
    return out


def test_with_batching_pending_text_goes_out_before_interleaved_reasoning() -> None:
    # docs: batching coalesces the deltas of one path; order and text are preserved
    head = '{"reasoning": "r", "tool_calls": [], "is_complete": true, "final_result": "ab'
    reply = Reply.sse(chunk({"content": head}), chunk({"reasoning_content": "hmm"}),
                      chunk({"content": 'cd"}'}), chunk({}, "stop"))

    async def go(**batch: Any) -> list[Any]:
        async with ProviderServer(reply) as server:
            agent = Agent(name="B", model=chat_on(server), **batch)
            return [ev async for ev in agent.stream("x")]

    plain = run(go())
    assert chunk_runs(plain) == [("think", "reasoning", "r"), ("think", "final_result", "ab"),
                                 ("think", "reasoning", "hmm"), ("think", "final_result", "cd")]
    assert plain[-1].result == "abcd"
    for batch in ({"stream_batch_chars": 10_000}, {"stream_batch_ms": 60_000}):
        batched = run(go(**batch))
        assert chunk_runs(batched) == chunk_runs(plain), batch


def test_a_batch_is_handed_on_when_its_first_delta_is_stream_batch_ms_old(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Clock:
        now = 100.0

        @classmethod
        def monotonic(cls) -> float:
            return cls.now

    monkeypatch.setattr(_call, "time", Clock)
    batcher = _call._Batcher(1000, None)
    assert batcher.add(("a",), "x") == []
    Clock.now = 100.5
    assert batcher.add(("a",), "y") == []
    assert batcher.remaining() == 0.5
    Clock.now = 101.0  # exactly 1000 ms after the first delta
    assert batcher.add(("a",), "z") == [(("a",), "xyz")]
    assert batcher.flush() == []


class LastDeltaModel:
    """Streams an answer in three deltas and nothing after the last one (no usage item)."""

    name = "last-delta"

    async def stream(self, messages: Any, schema: Any, *, name: str = "") -> AsyncIterator[str]:
        answer = THINK if schema.get("title") == "AgentThought" else GOOD
        cut = [len(answer) // 3, 2 * len(answer) // 3]
        for a, b in zip([0, *cut], [*cut, len(answer)], strict=True):
            await asyncio.sleep(0)
            yield answer[a:b]


def test_the_consumer_takes_the_events_of_the_last_delta_before_the_call_goes_on() -> None:
    # Agent.stream: the run feeds no new model output and ends no call while the consumer still has
    # events of the previous delta to take; llm_response of a call comes after all its fields
    log: list[str] = []

    @hook("llm_response")
    def on_response(context: AgentContext, call_type: str, **kw: Any) -> None:
        log.append(f"llm_response {call_type}")

    async def go() -> None:
        agent = Agent(name="L", output_schema=Story, model=LastDeltaModel(), hooks=[on_response])
        async for ev in agent.stream("x"):
            if ev.type == "field":
                log.append(f"field {ev.to_json()['call_type']} {ev.to_json()['json_path']}")

    run(go())
    assert log.index("llm_response think") > log.index("field think final_result")
    assert log.index("llm_response final_result") > log.index("field final_result year")


def test_a_truncated_lenient_answer_keeps_its_partial_value() -> None:
    # TruncatedOutputError.partial: the value parsed so far, also when lenient mode skipped prose
    reply = Reply.sse(chunk({"content": 'Sure:\n```json\n{"reasoning": "I am thin'}), chunk({}, "length"))

    async def go() -> TruncatedOutputError:
        async with ProviderServer(reply) as server:
            agent = Agent(name="T", model=chat_on(server), lenient=True)
            with pytest.raises(TruncatedOutputError) as info:
                await agent.process("x")
            return info.value

    err = run(go())
    assert err.reason == "length" and err.text.startswith("Sure:")
    assert err.partial == {"reasoning": "I am thin"}


# ------------------------------------------------------------------ providers


def test_ollama_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # docs/agents.md: `ollama:llama3.2`, OLLAMA_BASE_URL default http://localhost:11434/v1
    monkeypatch.delenv("OLLAMA_BASE_URL", raising=False)
    model = resolve_model("ollama")
    assert isinstance(model, OpenAIChatModel)
    assert (model.name, model.base_url, model.api_key) == ("llama3.2", "http://localhost:11434/v1", "ollama")
    assert resolve_model("ollama:qwen3").name == "qwen3"


def anthropic_sse(*events: dict[str, Any]) -> Canned:
    return Canned(b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events))


def test_anthropic_text_in_content_block_start_and_message_start_usage() -> None:
    body = anthropic_sse(
        {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 9, "output_tokens": 6}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": '{"a": '}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "1}"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}},
        {"type": "message_stop"})
    model = no_sleep(AnthropicModel("claude-test", api_key="k", http_client=Replay(body).async_client()))
    items = run(items_of(model))
    assert "".join(i for i in items if isinstance(i, str)) == '{"a": 1}'
    [usage] = [i for i in items if isinstance(i, Usage)]
    assert (usage.requests, usage.input_tokens, usage.output_tokens) == (1, 9, 6)
    assert items[-1] == Finish("end_turn", "stop")


def test_the_default_schema_name_of_stream_is_response() -> None:
    chat = Replay(Canned(b'data: {"choices": [{"index": 0, "delta": {"content": "{}"}}]}\n\n'))
    responses = Replay(Canned(b'data: {"type": "response.output_text.delta", "delta": "{}"}\n\n'
                              b'data: {"type": "response.completed", "response": {}}\n\n'))
    anthropic = Replay(anthropic_sse({"type": "message_stop"}))

    async def drain(model: Any) -> None:
        async with model:
            async for _ in model.stream(MESSAGES, {"type": "object"}):
                pass

    run(drain(no_sleep(OpenAIChatModel("m", base_url="http://fake/v1", api_key="k",
                                       http_client=chat.async_client()))))
    run(drain(no_sleep(OpenAIResponsesModel("m", api_key="k", http_client=responses.async_client()))))
    run(drain(no_sleep(AnthropicModel("m", api_key="k", http_client=anthropic.async_client()))))
    assert json.loads(chat.requests[0].content)["response_format"]["json_schema"]["name"] == "response"
    assert json.loads(responses.requests[0].content)["text"]["format"]["name"] == "response"
    assert "one JSON object named 'response'" in json.loads(anthropic.requests[0].content)["system"]


def test_a_chat_stream_without_finish_reason_or_completion_tokens() -> None:
    # docs: an answer that ends cleanly without a finish reason is a normal stop; usage fields absent: 0
    usage = {"id": "c", "choices": [], "usage": {"prompt_tokens": 5}}
    reply = Reply.sse(chunk({"content": '{"a": 1}'}), usage)

    async def go() -> list[Any]:
        async with ProviderServer(reply) as server:
            return await items_of(chat_on(server))

    items = run(go())
    assert items[0] == '{"a": 1}'
    assert items[1:] == [Usage(requests=1, input_tokens=5, output_tokens=0), Finish("stop", "stop")]


@pytest.mark.parametrize(("body", "message"), [
    (b"error: the slot is busy\n\n", "error event: the slot is busy"),  # llama.cpp, not JSON
    (b'event: error\ndata: {"message": "overloaded"}\n\n', "error event: overloaded"),  # flat, with event
])
def test_chat_error_lines_and_events_raise_provider_error(body: bytes, message: str) -> None:
    async def go() -> tuple[BaseException | None, int]:
        async with ProviderServer(Reply(body)) as server:
            try:
                await items_of(chat_on(server))
            except Exception as exc:
                return exc, len(server.requests)
            return None, len(server.requests)

    err, requests = run(go())
    assert isinstance(err, ProviderError) and str(err) == message and requests == 1


def test_a_chat_answer_that_is_no_event_stream_names_the_provider() -> None:
    reply = Reply(b"<html>hello</html>", 200, {"content-type": "text/html"})

    async def go() -> BaseException:
        async with ProviderServer(reply) as server:
            with pytest.raises(ModelError) as info:
                await items_of(chat_on(server))
            return info.value

    assert str(run(go())).startswith("OpenAI-compatible answered 'text/html', not an event stream")


def test_retries_stop_after_max_retries_even_if_a_later_attempt_would_succeed() -> None:
    fail = Reply(b'{"error": {"message": "busy", "type": "t"}}', 503, {"content-type": "application/json"})
    ok = Reply.sse(chunk({"content": "{}"}), chunk({}, "stop"))

    async def go() -> tuple[BaseException | None, int, list[float]]:
        async with ProviderServer(fail, fail, fail, ok) as server:
            model = chat_on(server, max_retries=2)
            try:
                await items_of(model)
            except ProviderError as exc:
                return exc, len(server.requests), model.slept  # type: ignore[attr-defined]
            return None, len(server.requests), model.slept  # type: ignore[attr-defined]

    err, requests, slept = run(go())
    assert isinstance(err, ProviderError) and err.status == 503
    assert requests == 3 and slept == [0.5, 1.0]


def test_one_client_holds_at_most_100_connections_by_default() -> None:
    # docs/agents.md: "one client per model (`max_connections=100`, the default)"
    for model, want in ((OpenAIChatModel("m", api_key="k"), 100),
                        (OpenAIChatModel("m", api_key="k", max_connections=7), 7)):
        assert model.limits.max_connections == model.limits.max_keepalive_connections == want


def responses_sse(*events: dict[str, Any]) -> Canned:
    return Canned(b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events))


def test_responses_usage_counts_one_request_and_the_stream_ends_at_completed() -> None:
    body = responses_sse(
        {"type": "response.output_text.delta", "delta": '{"total": 3}'},
        {"type": "response.completed", "response": {"usage": {"output_tokens": 4}}},
        {"type": "response.output_text.delta", "delta": "after the end"},
        {"type": "error", "message": "after the end"})
    replay = Replay(body)
    items = run(items_of(no_sleep(OpenAIResponsesModel("m", api_key="k", http_client=replay.async_client()))))
    assert items == ['{"total": 3}', Usage(requests=1, input_tokens=0, output_tokens=4),
                     Finish("completed", "stop")]

    seen: list[Usage] = []

    @hook("agent_end")
    def on_end(context: AgentContext, **kw: Any) -> None:
        seen.append(context.usage)

    think = json.dumps({"reasoning": "r", "tool_calls": [], "is_complete": True, "final_result": "done"})
    body = responses_sse({"type": "response.output_text.delta", "delta": think},
                         {"type": "response.completed", "response": {"usage": {"input_tokens": 8,
                                                                               "output_tokens": 4}}})
    model = no_sleep(OpenAIResponsesModel("m", api_key="k", http_client=Replay(body).async_client()))
    assert run(Agent(name="U", model=model, hooks=[on_end]).process("x")) == "done"
    assert (seen[0].requests, seen[0].input_tokens, seen[0].output_tokens) == (1, 8, 4)


# ------------------------------------------------------------------ the offline model


def offline_value(schema: dict[str, Any], seed: int) -> Any:
    async def main() -> str:
        return "".join([d async for d in OfflineModel(seed=seed, pace=0).stream(MESSAGES, schema)
                        if isinstance(d, str)])

    return json.loads(run(main()))


SENTENCE = r"The [a-z]+ [a-z]+ [a-z ]+ the [a-z ]+\."


class Person(BaseModel):
    name: str
    author: str
    first_name: str
    email: str
    contact_email: str
    story: str
    tags: list[str]
    keywords: list[str]
    colour: str
    nickname: Optional[str]  # noqa: UP045
    age: Optional[int]  # noqa: UP045


def test_offline_fields_read_like_what_their_names_say() -> None:
    # docs/agents.md: readable JSON (titles, sentences, names, ...): a field's name picks its kind of text
    schema = Person.model_json_schema()
    for seed in range(12):
        p = Person.model_validate(offline_value(schema, seed))
        for name in (p.name, p.author, p.first_name):
            assert re.fullmatch(r"[A-Z][a-z]+", name), p
        for email in (p.email, p.contact_email):
            assert re.fullmatch(r"[a-z]+@example\.com", email), p
        assert re.fullmatch(f"{SENTENCE}( {SENTENCE})*", p.story), p.story
        assert p.tags and p.keywords, p
        assert all(re.fullmatch(r"[A-Z][a-z]+", t) for t in [*p.tags, *p.keywords]), p
        assert re.fullmatch(r"[a-z]+( [a-z]+)*", p.colour), p  # any other field: lower-case words
        assert p.nickname is not None and p.age is not None, p  # optional fields are filled in


class Scene(BaseModel):
    place: str
    beats: list[str]


class Chapter(BaseModel):
    scenes: list[Scene]


class Book(BaseModel):
    chapters: list[Chapter]


class Node(BaseModel):
    label: str
    children: list[Node]


def test_offline_nesting_is_filled_near_the_top_and_bounded_below() -> None:
    # a list of chapters with lists of scenes is filled in; deeper lists are cut off, so a recursive
    # schema gives a finite answer: a tree of nodes is 2 levels of children deep
    for seed in range(6):
        book = Book.model_validate(offline_value(Book.model_json_schema(), seed))
        assert book.chapters and all(c.scenes for c in book.chapters)
        assert all(s.beats == [] for c in book.chapters for s in c.scenes)

        def height(n: Node) -> int:
            return 1 + max((height(c) for c in n.children), default=0)

        tree = Node.model_validate(offline_value(Node.model_json_schema(), seed))
        assert height(tree) == 3 and all(c.children for c in tree.children)


def test_offline_dict_of_dicts_is_three_levels_deep() -> None:
    schema = {"type": "object", "additionalProperties": {"$ref": "#/$defs/Tree"},
              "$defs": {"Tree": {"type": "object", "additionalProperties": {"$ref": "#/$defs/Tree"}}}}

    def depth(v: Any) -> int:
        return 1 + max((depth(x) for x in v.values()), default=0) if isinstance(v, dict) else 0

    for seed in range(4):
        assert depth(offline_value(schema, seed)) == 4  # three non-empty levels, then {}


def test_offline_model_keeps_the_last_64_requests() -> None:
    model = OfflineModel(pace=0, script=[f'{{"n": {i}}}' for i in range(70)])

    async def main() -> None:
        for i in range(70):
            async for _ in model.stream([{"role": "user", "content": str(i)}], {"type": "object"}):
                pass

    run(main())
    assert [m[0]["content"] for m, _ in model.calls] == [str(i) for i in range(6, 70)]
