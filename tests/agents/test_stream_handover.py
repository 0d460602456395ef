"""How :meth:`Agent.stream` hands events to its consumer: the run goes on (it may wait for the model)
while the consumer handles an event, but feeds no new model output before the consumer asks for the
next event. Oracle: the text the scripted model sent so far."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from fieldstream.agents import Agent, Chunk, Field, Result
from fieldstream.schema import SchemaStream

THINK = json.dumps({"reasoning": "go", "tool_calls": [], "is_complete": True, "final_result": None})


class Note(BaseModel):
    title: str
    body: str
    n: int


DOC = json.dumps({"title": "Handover", "body": "one two three four five six seven eight nine ten", "n": 42})


class Scripted:
    """Streams the think answer whole, then ``DOC`` in ``size``-character deltas; ``sent`` counts the
    deltas of the final_result call handed out so far. ``yield_loop``: await the event loop before
    each delta (a socket read), or not at all (a model whose data is already buffered)."""

    name = "scripted"

    def __init__(self, size: int, yield_loop: bool) -> None:
        self.deltas = [DOC[i:i + size] for i in range(0, len(DOC), size)]
        self.yield_loop = yield_loop
        self.sent = 0

    async def stream(self, messages: Any, schema: dict[str, Any], *, name: str = "response"
                     ) -> AsyncIterator[str]:
        if name == "think":
            yield THINK
            return
        for d in self.deltas:
            if self.yield_loop:
                await asyncio.sleep(0)
            self.sent += 1
            yield d


def _partial_after(deltas: list[str], k: int) -> dict[str, Any] | None:
    """Oracle: the typed partial of a bare schema stream after the first ``k`` deltas."""
    ss = SchemaStream(Note)
    for d in deltas[:k]:
        ss.feed(d)
    return _state(ss.partial)


def _state(p: Any) -> dict[str, Any] | None:
    return None if p is None else dict(vars(p))  # a copy: the view is live


@pytest.mark.parametrize("yield_loop", [True, False])
@pytest.mark.parametrize("consumer_sleeps", [True, False])
@pytest.mark.parametrize("size", [1, 4, 64])
def test_the_run_feeds_nothing_new_while_the_consumer_holds_an_event(
        size: int, yield_loop: bool, consumer_sleeps: bool) -> None:
    model = Scripted(size, yield_loop)
    agent = Agent(name="H", output_schema=Note, model=model)
    seen: list[tuple[int, int, Any, Any]] = []  # deltas sent at arrival / after handling, partial then

    async def main() -> Any:
        result = None
        async for ev in agent.stream("x"):
            if isinstance(ev, (Chunk, Field)) and ev.call_type == "final_result":
                before, first = model.sent, _state(ev.partial())
                if consumer_sleeps:
                    await asyncio.sleep(0.0005)  # gives the run every chance to move on
                    await asyncio.sleep(0)
                seen.append((before, model.sent, first, _state(ev.partial())))
            elif isinstance(ev, Result):
                result = ev.result
        return result

    result = asyncio.run(main())
    assert result == Note.model_validate_json(DOC)
    assert len(seen) >= len(model.deltas) // 2
    for before, after, first, last in seen:
        assert first == last  # the live partial did not change while the consumer held the event
        # the run fed k deltas and may have taken the next one from the model (not fed yet)
        fed = [k for k in (before - 1, before) if k >= 0 and _partial_after(model.deltas, k) == first]
        assert fed, (before, first)
        assert after <= max(fed) + 1


def test_a_consumer_that_stops_cancels_the_run_waiting_for_it() -> None:
    model = Scripted(1, yield_loop=False)
    agent = Agent(name="H", output_schema=Note, model=model)

    async def main() -> int:
        stream = agent.stream("x")
        n = 0
        async for ev in stream:
            if isinstance(ev, Chunk) and ev.call_type == "final_result":
                n += 1
                if n == 3:
                    break
        await stream.aclose()  # type: ignore[attr-defined]
        return n

    assert asyncio.run(main()) == 3
    assert model.sent < len(model.deltas)  # the run waited for the consumer, then was cancelled


def test_the_fast_chunk_is_the_dataclass_chunk() -> None:
    from fieldstream.agents._events import make_chunk

    def ref() -> str:
        return "partial"

    fast = make_chunk("final_result", ("items", 0, "name"), "abc", ref)
    slow = Chunk("final_result", ("items", 0, "name"), "abc", ref)
    assert type(fast) is Chunk and fast == slow and vars(fast) == vars(slow) and repr(fast) == repr(slow)
    assert fast.type == "chunk" and fast.partial() == "partial" and fast.to_json() == slow.to_json()
    with pytest.raises(AttributeError):
        fast.delta = "x"  # type: ignore[misc]  # still frozen
