"""Tools, a typed result and ``agent.stream()`` (no hooks, no queue): ``python examples/tools_and_stream.py``."""

import asyncio

from pydantic import BaseModel

from fieldstream.agents import Agent, Chunk, Field, Result, tool


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"It is 18 degrees and sunny in {city}."


class Report(BaseModel):
    city: str
    summary: str
    temperature: int


agent = Agent(name="WeatherAgent", tools=[get_weather], output_schema=Report)


async def main() -> None:
    async for event in agent.stream("What's the weather like in Lisbon?"):
        if isinstance(event, Chunk):
            print(f"{event.call_type:>12} {event.json_path:<32} {event.delta!r}")
        elif isinstance(event, Field) and event.call_type == "final_result":
            print(f"{'field':>12} {event.json_path:<32} = {event.value!r}")
        elif isinstance(event, Result):
            print("result:", event.result)


if __name__ == "__main__":
    asyncio.run(main())
