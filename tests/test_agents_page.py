"""Every code example of the agents SDK streaming page, run as written with only the import renamed.

The snippets are cut out of ``../shared/reference/agents-sdk-streaming-docs.txt`` itself (between
markers), ``opper_agents`` is replaced by ``fieldstream.agents``, and the result is executed against
the offline model (``FIELDSTREAM_MODEL=offline:pace=0``): no key, no network. The web server example
is in ``test_agents_sse.py``.
"""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from fieldstream.agents import Agent, OfflineModel

PAGE = (Path(__file__).resolve().parents[1] / ".." / "shared" / "reference"
        / "agents-sdk-streaming-docs.txt").read_text(encoding="utf-8")


def snippet(start: str, end: str) -> str:
    """The page's text from ``start`` up to (not including) ``end``, import renamed."""
    i = PAGE.index(start)
    j = PAGE.index(end, i)
    return PAGE[i:j].replace("opper_agents", "fieldstream.agents")


def run_snippet(src: str, ns: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute ``src`` (top-level ``await`` allowed, as on the page) and return its namespace."""
    ns = {} if ns is None else ns
    code = compile(src, "<page>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    out = eval(code, ns)
    if asyncio.iscoroutine(out):
        asyncio.run(out)
    return ns


@pytest.fixture(autouse=True)
def offline_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDSTREAM_MODEL", "offline:pace=0")


ENABLING = snippet("from opper_agents import Agent\n\nagent = Agent(", "\nHandling Stream Events")
HOOKS = snippet("from opper_agents import Agent, hook\nfrom opper_agents.base.context import AgentContext\n\n"
                "@hook(\"stream_start\")", "\nUsing Callbacks")
CHUNK_DATA = snippet("@hook(\"stream_chunk\")\nasync def on_chunk(context: AgentContext, chunk_data: dict, "
                     "**kwargs):\n    chunk_data.get(\"delta\")", "\nStreaming with Structured Output")
STRUCTURED = snippet("from pydantic import BaseModel", "\nCall Types")
CALL_TYPES = snippet("@hook(\"stream_start\")\nasync def on_start(context: AgentContext, call_type: str, "
                     "**kwargs):\n    if call_type", "\nWeb Server Example")


def test_snippets_are_cut_from_the_page() -> None:
    assert "enable_streaming=True" in ENABLING
    assert HOOKS.count("@hook(") == 4 and "hooks=[on_start, on_chunk, on_end, on_error]" in HOOKS
    assert "kwargs.get(\"call_type\")" in CHUNK_DATA
    assert "await agent.process(\"Write a short fable\")" in STRUCTURED
    assert "Generating response..." in CALL_TYPES
    assert all("opper_agents" not in s for s in (ENABLING, HOOKS, CHUNK_DATA, STRUCTURED, CALL_TYPES))


def test_enabling_streaming_example_builds_a_streaming_agent() -> None:
    ns = run_snippet(ENABLING)
    agent = ns["agent"]
    assert isinstance(agent, Agent) and agent.enable_streaming and agent.name == "StreamingAgent"
    assert isinstance(agent.model, OfflineModel)


def test_hooks_example_prints_starts_deltas_in_order_and_ends(capsys: pytest.CaptureFixture[str]) -> None:
    ns = run_snippet(HOOKS)
    seen: list[str] = []
    ns["agent"].add_hook(lambda ctx, chunk_data, **kw: seen.append(chunk_data["delta"]), "stream_chunk")
    result = asyncio.run(ns["agent"].process("Tell me something"))
    out = capsys.readouterr().out
    assert isinstance(result, str) and result
    # the start/end lines of both calls, in order, with the deltas printed in between
    think_start = out.index("Starting think stream...\n")
    think_end = out.index("\nthink stream complete\n")
    final_start = out.index("Starting final_result stream...\n")
    final_end = out.index("\nfinal_result stream complete\n")
    assert think_start < think_end < final_start < final_end
    assert out[final_start + len("Starting final_result stream...\n"):final_end] == result
    assert "".join(seen) in out.replace("Starting think stream...\n", "").replace(
        "\nthink stream complete\n", "").replace("Starting final_result stream...\n", "").replace(
        "\nfinal_result stream complete\n", "")
    assert "Stream error" not in out


def test_hooks_example_on_error_prints_stream_error_for_broken_json(
        capsys: pytest.CaptureFixture[str]) -> None:
    ns = run_snippet(HOOKS)
    agent = ns["agent"]
    agent._model = OfflineModel(pace=0, script=['{"reasoning": "hm", "tool_', '{"reasoning": [1', "{]"])
    with pytest.raises(Exception) as info:
        asyncio.run(agent.process("x"))
    out = capsys.readouterr().out
    assert out.count("Stream error: ") == 3  # each attempt reported at the moment it failed
    assert type(info.value).__name__ == "OutputValidationError"


def test_chunk_data_example_reads_delta_json_path_and_call_type() -> None:
    ns: dict[str, Any] = {}
    run_snippet("from fieldstream.agents import Agent, hook\nfrom fieldstream.agents.base.context import "
                "AgentContext\n", ns)
    run_snippet(CHUNK_DATA, ns)
    seen: list[tuple[Any, Any, Any]] = []
    on_chunk = ns["on_chunk"]

    async def recorder(context: Any, chunk_data: dict[str, Any], **kwargs: Any) -> None:
        await on_chunk(context, chunk_data, **kwargs)  # the page's hook itself must accept the payload
        seen.append((chunk_data.get("delta"), chunk_data.get("json_path"), kwargs.get("call_type")))

    agent = Agent(name="A", enable_streaming=True, hooks=[on_chunk])
    agent.add_hook(recorder, "stream_chunk")
    result = asyncio.run(agent.process("hello"))
    assert {c for _, _, c in seen} == {"think", "final_result"}
    assert {p for _, p, c in seen if c == "final_result"} == {"content"}
    assert "".join(d for d, p, c in seen if c == "final_result") == result
    assert {p for _, p, c in seen if c == "think"} == {"reasoning"}


def test_structured_output_example_streams_content_and_returns_typed_story(
        capsys: pytest.CaptureFixture[str]) -> None:
    ns = run_snippet(STRUCTURED)
    result = ns["result"]
    assert type(result).__name__ == "StoryOutput" and isinstance(result, ns["StoryOutput"])
    out = capsys.readouterr().out
    assert out == f"{result.content}\nTitle: {result.title}\nMoral: {result.moral}\n"


def test_structured_output_example_also_streams_final_result_content_from_the_think_call(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    story = '{"title": "T", "content": "Once upon a time.", "moral": "Be kind."}'
    think = '{"reasoning": "Easy.", "tool_calls": [], "is_complete": true, "final_result": ' + story + "}"
    original = Agent.__init__

    def init(self: Agent, *a: Any, **kw: Any) -> None:
        original(self, *a, **kw, model=OfflineModel(pace=0, script=[think]))

    monkeypatch.setattr(Agent, "__init__", init)
    ns = run_snippet(STRUCTURED)
    # one scripted think call answered completely: no final_result call, the story streamed as
    # final_result.content (which the page's hook matches with "content" in json_path)
    assert capsys.readouterr().out == "Once upon a time.\nTitle: T\nMoral: Be kind.\n"
    assert ns["result"] == ns["StoryOutput"](title="T", content="Once upon a time.", moral="Be kind.")


def test_call_types_example_announces_thinking_then_generating(capsys: pytest.CaptureFixture[str]) -> None:
    ns: dict[str, Any] = {}
    run_snippet("from fieldstream.agents import Agent, hook\nfrom fieldstream.agents.base.context import "
                "AgentContext\n", ns)
    run_snippet(CALL_TYPES, ns)
    agent = Agent(name="A", enable_streaming=True, hooks=[ns["on_start"]])
    asyncio.run(agent.process("hi"))
    assert capsys.readouterr().out == "Agent is thinking...\nGenerating response...\n"


def test_page_mentions_only_call_types_we_emit() -> None:
    table = PAGE[PAGE.index("Call TypeDescription"):PAGE.index("@hook", PAGE.index("Call TypeDescription"))]
    assert re.findall(r"^(think|final_result)", table, re.M) == ["think", "final_result"]
