"""Limits of a run (``fieldstream.agents._limits``): a stalled or trickling model, a run past its
deadline, an answer past ``max_output_chars``; each ends the run with its typed error and closes
the model's stream (the HTTP request of a real provider). Also: the hand-over between the run and
its consumer is bounded (a consumer that does not ask for events stops the model stream).

Timeouts here are short (tens of milliseconds) and only ever waited for, never measured.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from fieldstream.agents import (
    Agent,
    LimitExceededError,
    ModelError,
    ModelStalledError,
    OutputTooLargeError,
    RunTimeoutError,
    tool,
)
from fieldstream.agents.sse import event_stream
from support.web import decode_sse

THINK_DONE = '{"reasoning": "ok", "tool_calls": [], "is_complete": true, "final_result": null}'


class Out(BaseModel):
    items: list[str]


class Scripted:
    """A model whose final_result call streams ``pieces`` with ``delay`` seconds before each one
    (``None`` as a piece: wait forever); records how many pieces were pulled and whether the
    stream was closed (the real providers close their HTTP request there)."""

    def __init__(self, pieces: Any, delay: float = 0.0, think: str = THINK_DONE) -> None:
        self.pieces = pieces
        self.delay = delay
        self.think = think
        self.pulled = 0
        self.closed = 0

    async def stream(self, messages: Any, schema: Any, *, name: str = "call") -> AsyncIterator[str]:
        try:
            if name == "think":
                yield self.think
                return
            for piece in self.pieces:
                if self.delay:
                    await asyncio.sleep(self.delay)
                if piece is None:
                    await asyncio.sleep(3600)
                self.pulled += 1
                yield piece
        finally:
            if name != "think":
                self.closed += 1


def never_closing_list() -> Any:
    yield '{"items": ['
    while True:
        yield '"abcdefghij", '


def agent_on(model: Any, **kw: Any) -> Agent:
    return Agent(name="L", output_schema=Out, model=model, max_output_retries=0, **kw)


def test_a_model_that_goes_silent_is_stopped_with_model_stalled_error_and_closed() -> None:
    model = Scripted(['{"items": ["a"', None])
    with pytest.raises(ModelStalledError) as info:
        asyncio.run(agent_on(model, model_idle_timeout=0.05).process("q"))
    assert isinstance(info.value, ModelError) and isinstance(info.value, LimitExceededError)
    assert info.value.limit == "model_idle_timeout" and info.value.value == 0.05
    assert model.closed == 1


def test_a_model_that_trickles_slower_than_the_idle_timeout_is_stopped() -> None:
    # one byte at a time, each later than the idle timeout allows (the two-minute trickle, scaled down)
    model = Scripted(list('{"items": ["slow"]}'), delay=0.2)
    with pytest.raises(ModelStalledError):
        asyncio.run(agent_on(model, model_idle_timeout=0.05).process("q"))
    assert model.pulled == 0 and model.closed == 1


def test_a_trickle_that_beats_the_idle_timeout_is_stopped_by_the_run_deadline() -> None:
    model = Scripted(never_closing_list(), delay=0.005)
    with pytest.raises(RunTimeoutError) as info:
        asyncio.run(agent_on(model, model_idle_timeout=1.0, run_timeout=0.2,
                             max_output_chars=None).process("q"))
    assert info.value.limit == "run_timeout"
    assert model.closed == 1 and model.pulled > 1


def test_the_run_deadline_covers_tools_too() -> None:
    @tool
    async def slow() -> str:
        """A tool that never returns in time."""
        await asyncio.sleep(3600)
        return "late"

    think = '{"reasoning": "r", "tool_calls": [{"name": "slow", "parameters": {}}], "is_complete": false}'
    agent = Agent(name="T", output_schema=Out, model=Scripted([], think=think), tools=[slow],
                  run_timeout=0.1)
    with pytest.raises(RunTimeoutError):
        asyncio.run(agent.process("q"))


def test_an_answer_past_max_output_chars_ends_the_run_and_closes_the_stream() -> None:
    model = Scripted(never_closing_list())
    with pytest.raises(OutputTooLargeError) as info:
        asyncio.run(agent_on(model, max_output_chars=10_000).process("q"))
    assert info.value.value == 10_000
    piece = len('"abcdefghij", ')
    # the think call's text counts too; no more than one piece is read past the limit
    assert (model.pulled - 1) * piece <= 10_000 < (model.pulled - 1) * piece + len(THINK_DONE) + piece + 12
    assert model.closed == 1


def test_limits_end_the_sse_stream_with_a_typed_safe_error_frame() -> None:
    async def frames(agent: Agent) -> str:
        return "".join([f async for f in event_stream(agent, "q")])

    cases = [
        (Scripted(['{"items": ["a"', None]), {"model_idle_timeout": 0.05},
         {"type": "ModelStalledError", "message": "the model sent nothing for 0.05 s; the run was stopped"}),
        (Scripted(never_closing_list()), {"max_output_chars": 5000},
         {"type": "OutputTooLargeError",
          "message": "the model's output passed the limit of 5000 characters"}),
        (Scripted(never_closing_list(), delay=0.002), {"run_timeout": 0.1, "max_output_chars": None},
         {"type": "RunTimeoutError", "message": "the run took longer than its time limit (0.1 s)"}),
    ]
    for model, kw, expected in cases:
        body = asyncio.run(frames(agent_on(model, **kw)))
        *_, (_, ev, data) = decode_sse(body)
        assert (ev, data) == ("error", expected)
        assert model.closed == 1


def test_limits_are_validated_and_can_be_turned_off() -> None:
    for name, bad in (("run_timeout", 0), ("model_idle_timeout", -1.0), ("max_output_chars", 0)):
        with pytest.raises(ValueError, match=rf"^{name} must be > 0 or None, not {bad!r}$"):
            agent_on(Scripted([]), **{name: bad})
    model = Scripted(['{"items": ["a", ', '"b"]}'], delay=0.01)
    agent = agent_on(model, run_timeout=None, model_idle_timeout=None, max_output_chars=None)
    assert asyncio.run(agent.process("q")) == Out(items=["a", "b"])


def test_max_output_chars_is_the_exact_number_of_model_characters_allowed() -> None:
    # counted from zero over the whole run (the think call's text too): exactly the limit passes
    answer = ['{"items": ', '["a", "b"]}']
    total = len(THINK_DONE) + sum(map(len, answer))
    agent = agent_on(Scripted(answer), max_output_chars=total)
    assert asyncio.run(agent.process("q")) == Out(items=["a", "b"])
    with pytest.raises(OutputTooLargeError):
        asyncio.run(agent_on(Scripted(answer), max_output_chars=total - 1).process("q"))


class _Asyncio310:
    """``asyncio`` as Python 3.10 has it: no ``asyncio.timeout``."""

    def __getattr__(self, name: str) -> Any:
        if name == "timeout":
            raise AttributeError(name)
        return getattr(asyncio, name)


@pytest.mark.parametrize("python", ["running", "3.10"])
def test_the_run_deadline_is_raised_only_for_its_own_timeout(python: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # run_timeout works on every supported Python (3.10 has no asyncio.timeout: its own branch, run
    # here on the running interpreter with 3.10's asyncio), and only the deadline itself becomes a
    # RunTimeoutError: a TimeoutError raised by the work (a client's own timeout) stays what it is
    from fieldstream.agents import _limits

    if python == "3.10":
        monkeypatch.setattr(_limits, "sys", types.SimpleNamespace(version_info=(3, 10, 14)))
        monkeypatch.setattr(_limits, "asyncio", _Asyncio310())

    async def own_timeout() -> None:
        raise TimeoutError("the client's own timeout")

    async def done() -> int:
        return 7

    async def main() -> None:
        limits = _limits.Limits(run_timeout=0.05)
        assert await limits.deadline(done()) == 7
        with pytest.raises(RunTimeoutError) as info:
            await limits.deadline(asyncio.Event().wait())
        assert info.value.limit == "run_timeout" and info.value.value == 0.05
        with pytest.raises(TimeoutError, match="the client's own timeout"):
            await limits.deadline(own_timeout())

    asyncio.run(main())


def test_defaults_are_generous_but_finite() -> None:
    agent = agent_on(Scripted([]))
    assert agent.max_output_chars == 1_000_000
    assert agent.model_idle_timeout == 90.0 and agent.run_timeout == 600.0


def test_a_consumer_that_stops_asking_stops_the_model_stream() -> None:
    # backpressure: the run hands events over one at a time, so the model is read at most one
    # delta ahead of the consumer, however long the consumer waits
    model = Scripted(never_closing_list())

    async def main() -> tuple[int, int]:
        events = agent_on(model).stream("q")
        seen = 0
        async for ev in events:
            if ev.type == "chunk" and ev.call_type == "final_result":
                seen += 1
                if seen == 3:
                    break
        before = model.pulled
        await asyncio.sleep(0.05)  # the consumer is slow: the run must not read on
        after = model.pulled
        await events.aclose()  # type: ignore[attr-defined]
        return before, after

    before, after = asyncio.run(main())
    # the run never reads on while the consumer holds an event; it may have fetched (not fed) the
    # model's next item while the consumer handled the previous one: bounded, not a growing buffer
    assert after == before <= 5
    assert model.closed == 1


def test_a_fresh_agent_per_request_does_not_grow_memory() -> None:
    # found by the request fuzzer: each Agent built its own think model class, which the schema
    # layer caches per type, so a server building an agent per request grew without bound
    import gc
    import tracemalloc

    def one() -> None:
        model = Scripted(['{"items": ["a"]}'])
        asyncio.run(agent_on(model).process("q"))

    for _ in range(20):
        one()
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(20):
            one()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(100):
            one()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100_000, f"{grown} bytes for 100 agents"
