"""The streaming page's "Using Hooks" example, runnable offline: ``python examples/streaming_hooks.py``.

Without ``FIELDSTREAM_MODEL`` (e.g. ``openai:gpt-4o-mini``) the offline model answers.
"""

import asyncio

from fieldstream.agents import Agent, hook
from fieldstream.agents.base.context import AgentContext


@hook("stream_start")
async def on_start(context: AgentContext, call_type: str, **kwargs):
    print(f"Starting {call_type} stream...")


@hook("stream_chunk")
async def on_chunk(context: AgentContext, chunk_data: dict, **kwargs):
    # chunk_data contains: delta, json_path, etc.
    delta = chunk_data.get("delta", "")
    print(delta, end="", flush=True)


@hook("stream_end")
async def on_end(context: AgentContext, call_type: str, **kwargs):
    print(f"\n{call_type} stream complete")


@hook("stream_error")
async def on_error(context: AgentContext, error: Exception, **kwargs):
    print(f"Stream error: {error}")


agent = Agent(
    name="StreamingAgent",
    enable_streaming=True,
    hooks=[on_start, on_chunk, on_end, on_error]
)

if __name__ == "__main__":
    result = asyncio.run(agent.process("Tell me about the sea"))
    print(f"Result: {result}")
