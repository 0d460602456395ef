"""The streaming policy reaches the agent layer: ``Stream.done`` fields send no ``Chunk`` (events,
``stream_chunk`` hooks, SSE ``chunk`` frames), only their ``Field`` once complete."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from pydantic import BaseModel

from fieldstream.agents import Agent, OfflineModel, hook
from fieldstream.agents.sse import encode_event
from fieldstream.schema import Stream

THINK = '{"reasoning": "ok", "tool_calls": [], "is_complete": true, "final_result": null}'
ANSWER = '{"title": "The Tortoise and the Hare", "story": "Once upon a time, a slow tortoise..."}'


class Story(BaseModel):
    title: Annotated[str, Stream.done]
    story: str


def test_done_field_has_no_chunks_and_one_field_event() -> None:
    hooked: list[Any] = []

    @hook("stream_chunk")
    def on_chunk(context: Any, chunk_data: dict[str, Any], **kwargs: Any) -> None:
        hooked.append(chunk_data["path"])

    agent = Agent(name="S", output_schema=Story, model=OfflineModel(pace=0, script=[THINK, ANSWER]),
                  enable_streaming=True, hooks=[on_chunk])

    async def main() -> list[Any]:
        return [ev async for ev in agent.stream("tell")]

    events = [e for e in asyncio.run(main()) if getattr(e, "call_type", None) == "final_result"]
    chunks = [e.path for e in events if e.type == "chunk"]
    assert ("title",) not in chunks and ("story",) in chunks
    assert all(p[:1] != ("title",) for p in hooked) and ("story",) in hooked
    fields = [e for e in events if e.type == "field" and e.path == ("title",)]
    assert [f.value for f in fields] == ["The Tortoise and the Hare"]
    frames = "".join(encode_event(i, e) for i, e in enumerate(events, 1) if e.type in ("chunk", "field"))
    assert '"path":["title"]' in frames and frames.count('"path":["title"]') == 1
    assert events[-1].result == Story.model_validate_json(ANSWER)
