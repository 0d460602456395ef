"""The page's "Streaming with Structured Output" example: ``python examples/structured_output.py``."""

import asyncio

from pydantic import BaseModel

from fieldstream.agents import Agent, hook
from fieldstream.agents.base.context import AgentContext


class StoryOutput(BaseModel):
    title: str
    content: str
    moral: str


@hook("stream_chunk")
async def on_chunk(context: AgentContext, chunk_data: dict, **kwargs):
    # json_path shows which field is being streamed
    json_path = chunk_data.get("json_path", "")
    delta = chunk_data.get("delta", "")

    # Stream content field (may appear as "content" or "final_result.content")
    if "content" in json_path and delta:
        print(delta, end="", flush=True)


agent = Agent(
    name="StoryAgent",
    output_schema=StoryOutput,
    enable_streaming=True,
    hooks=[on_chunk]
)


async def main() -> None:
    # Returns typed StoryOutput, but streams during generation
    result = await agent.process("Write a short fable")
    print(f"\nTitle: {result.title}")
    print(f"Moral: {result.moral}")


if __name__ == "__main__":
    asyncio.run(main())
