"""The scripts in ``examples/`` run offline and print what they promise."""

from __future__ import annotations

import asyncio
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.doc_blocks import check_output
from support.doc_blocks import python_blocks as doc_blocks

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run_example(name: str) -> str:
    env = {**os.environ, "FIELDSTREAM_MODEL": "offline:pace=0"}
    out = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, env=env,
                         timeout=60, check=True)
    return out.stdout


def test_streaming_hooks_example_prints_both_streams_and_the_result() -> None:
    out = run_example("streaming_hooks.py")
    result = out.rsplit("Result: ", 1)[1].rstrip("\n")
    assert out.startswith("Starting think stream...\n")
    assert f"Starting final_result stream...\n{result}\nfinal_result stream complete\n" in out


def test_structured_output_example_prints_content_title_and_moral() -> None:
    lines = run_example("structured_output.py").splitlines()
    assert len(lines) == 3 and lines[1].startswith("Title: The ") and lines[2].startswith("Moral: ")
    assert lines[0].endswith(".")


def test_call_types_example_shows_thinking_then_generating() -> None:
    out = run_example("call_types.py")
    assert out.index("Agent is thinking...") < out.index("[think] reasoning:") < out.index(
        "Generating response...") < out.index("[final_result] content:")


def test_tools_example_streams_tool_parameters_and_prints_a_typed_result() -> None:
    out = run_example("tools_and_stream.py")
    assert "tool_calls[0].parameters.city" in out and "field temperature" in out
    assert out.splitlines()[-1].startswith("result: city=")


def test_web_server_example_serves_both_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    from support.web import decode_sse, serve

    monkeypatch.setenv("FIELDSTREAM_MODEL", "offline:pace=0")
    ns: dict[str, Any] = runpy.run_path(str(EXAMPLES / "web_server.py"), run_name="example")
    with serve(ns["app"]) as url, httpx.Client(timeout=30) as client:
        plain = client.get(f"{url}/stream", params={"query": "hi"}).text
        frames = decode_sse(client.get(f"{url}/sse", params={"query": "hi"}).text)
    assert plain.startswith("data: ")
    assert frames[0][1] == "stream_start" and frames[-1][1] == "result"
    think = "".join(d["delta"] for _, t, d in frames if t == "chunk" and d["call_type"] == "think")
    assert think  # the SSE endpoint streams the whole run, think text included

    async def expected() -> str:  # what the page's endpoint promises: the think call's text
        from fieldstream.agents import Agent, Chunk

        agent = Agent(name="StreamAgent", enable_streaming=True)
        return "".join([e.delta async for e in agent.stream("hi")
                        if isinstance(e, Chunk) and e.call_type == "think"])

    assert plain == "".join(f"data: {c}\n\n" for c in _split_like(plain)) and \
        "".join(_split_like(plain)) == asyncio.run(expected())


def _split_like(plain: str) -> list[str]:
    # the page's hand-written endpoint writes one `data:` line per delta: read it with the SSE decoder
    import httpx
    from httpx_sse import EventSource

    resp = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=plain.encode())
    return [sse.data for sse in EventSource(resp).iter_sse()]


def python_blocks(text: str) -> list[str]:
    return [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]


@pytest.mark.parametrize("index", range(len(python_blocks((ROOT / "docs" / "agents.md").read_text()))))
def test_docs_agents_python_blocks_run(index: int, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FIELDSTREAM_MODEL", "offline:pace=0")
    block = python_blocks((ROOT / "docs" / "agents.md").read_text())[index]
    ns: dict[str, Any] = {"__name__": "docs"}
    capsys.readouterr()
    exec(compile(block, f"docs/agents.md#{index}", "exec"), ns)
    out = capsys.readouterr().out
    page = (ROOT / "docs" / "agents.md").read_text()
    check_output(f"docs/agents.md block {index}", doc_blocks(page)[index], out)
    if "Scorer" in block:
        assert out == "rejected: ('score',) partial: {}\nscore=7\n"
    if "StoryAgent" in block and "print(f" in block:
        assert "Title: The " in out
