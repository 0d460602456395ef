"""The page's "Chunk Data" and "Call Types" examples together: ``python examples/call_types.py``."""

import asyncio

from fieldstream.agents import Agent, hook
from fieldstream.agents.base.context import AgentContext


@hook("stream_start")
async def on_start(context: AgentContext, call_type: str, **kwargs):
    if call_type == "think":
        print("Agent is thinking...")
    elif call_type == "final_result":
        print("Generating response...")


@hook("stream_chunk")
async def on_chunk(context: AgentContext, chunk_data: dict, **kwargs):
    chunk_data.get("delta")       # New text in this chunk
    chunk_data.get("json_path")   # Path for structured output (e.g., "content")
    kwargs.get("call_type")       # "think" or "final_result"
    print(f"  [{kwargs.get('call_type')}] {chunk_data.get('json_path')}: {chunk_data.get('delta')!r}")


agent = Agent(name="CallTypesAgent", enable_streaming=True, hooks=[on_start, on_chunk])

if __name__ == "__main__":
    asyncio.run(agent.process("Say hello"))
