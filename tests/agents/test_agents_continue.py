"""Continuation retries (``Agent(retry_mode="continue")``) on scripted models.

The oracle for the final value is Pydantic on the whole text (valid prefix + continuation); the
events of the prefix must not be sent twice; the prompt must carry the prefix; a continuation that
breaks the JSON falls back to a full retry.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel, Field

from fieldstream.agents import Agent, OfflineModel
from fieldstream.agents._continue import valid_prefix

THINK = '{"reasoning": "ok", "tool_calls": [], "is_complete": true, "final_result": null}'


class Report(BaseModel):
    title: str
    summary: str
    score: int = Field(ge=0, le=10)
    tags: list[str]


SUMMARY = "Sales grew in every region. " * 10
BAD = '{"title": "Quarterly report", "summary": "' + SUMMARY + '", "score": 99, "tags": ["sales"]}'
PREFIX = '{"title": "Quarterly report", "summary": "' + SUMMARY + '"'
REST = ', "score": 7, "tags": ["sales"]}'
FULL = '{"title": "Quarterly report", "summary": "' + SUMMARY + '", "score": 7, "tags": ["sales"]}'


def run(script: list[str], mode: str) -> tuple[Any, list[Any], OfflineModel]:
    model = OfflineModel(pace=0, script=[THINK, *script])
    agent = Agent(name="R", output_schema=Report, model=model, retry_mode=mode)

    async def main() -> list[Any]:
        return [ev async for ev in agent.stream("write the report")]

    events = asyncio.run(main())
    return events[-1].result, events, model


def final_events(events: list[Any]) -> list[Any]:
    return [e for e in events if getattr(e, "call_type", None) == "final_result" and e.type != "result"]


def test_continuation_keeps_the_prefix_and_sends_its_events_once() -> None:
    result, events, model = run([BAD, REST], "continue")
    assert result == Report.model_validate_json(PREFIX + REST) == Report.model_validate_json(FULL)
    evs = final_events(events)
    starts = [e for e in evs if e.type == "stream_start"]
    assert [s.continued for s in starts] == [False, True]
    second = evs[evs.index(starts[1]):]
    fields = [(e.path, e.valid) for e in evs if e.type == "field"]
    assert fields == [(("title",), True), (("summary",), True), (("score",), False),
                      (("score",), True), (("tags", 0), True), (("tags",), True)]
    assert not any(e.type == "chunk" and e.path in (("title",), ("summary",)) for e in second)
    prompt = model.calls[-1][0][-1]["content"]
    assert PREFIX in prompt and "score" in prompt


class Counting:
    """A model wrapper that counts the characters the model streams (what a provider bills)."""

    def __init__(self, inner: OfflineModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.chars = 0

    async def stream(self, messages: Any, schema: Any, *, name: str = "response") -> Any:
        async for item in self.inner.stream(messages, schema, name=name):
            if isinstance(item, str):
                self.chars += len(item)
            yield item


def test_characters_saved_against_a_full_retry() -> None:
    counted = {}
    results = {}
    for mode, retry in (("continue", REST), ("full", FULL)):
        model = Counting(OfflineModel(pace=0, script=[THINK, BAD, retry]))
        agent = Agent(name="R", output_schema=Report, model=model, retry_mode=mode)
        results[mode] = asyncio.run(agent.process("x"))
        counted[mode] = model.chars
    assert results["continue"] == results["full"]
    # The rejected attempt costs the same in both modes; the retry writes REST instead of FULL.
    assert counted["full"] - counted["continue"] == len(FULL) - len(REST) == len(PREFIX)
    assert counted == {"continue": 449, "full": 772}  # the numbers quoted in docs/agents.md


def test_a_continuation_that_breaks_the_json_falls_back_to_a_full_retry() -> None:
    result, events, model = run([BAD, '"score": 7}', FULL], "continue")  # no comma: broken at the join
    assert result == Report.model_validate_json(FULL)
    starts = [e.continued for e in final_events(events) if e.type == "stream_start"]
    assert starts == [False, True, False]
    last = model.calls[-1][0]
    assert "Answer again" in last[-1]["content"] and last[-2]["content"].startswith(PREFIX + '"')


def test_full_mode_is_the_default_and_unchanged() -> None:
    model = OfflineModel(pace=0, script=[THINK, BAD, FULL])
    agent = Agent(name="R", output_schema=Report, model=model)
    assert agent.retry_mode == "full"
    assert asyncio.run(agent.process("x")) == Report.model_validate_json(FULL)
    assert model.calls[-1][0][-2]["content"] == BAD[:BAD.index("99,") + 3]  # streamed up to the stop
    with pytest.raises(ValueError):
        Agent(name="R", retry_mode="partial")


@pytest.mark.parametrize(("text", "path", "prefix"), [
    ('{"a": 1, "b": "x", "c": 99', ("c",), '{"a": 1, "b": "x"'),
    ('{"a": 1 ,\n "b": {"x": true, "y": -5', ("b", "y"), '{"a": 1 ,\n "b": {"x": true'),
    ('{"a": 1, "b": {"y": -5', ("b", "y"), '{"a": 1, "b": {'),
    ('{"l": [1, 2, 3]', ("l", 2), '{"l": [1, 2'),
    ('{"y": -5', ("y",), None),  # the first value: nothing worth keeping
    ('{"a": 1}', (), None),  # the root: a full retry
    ('{"a": 1', ("b",), None),  # the text does not reach the path
])
def test_valid_prefix_cuts_after_the_last_completed_sibling(text: str, path: tuple[Any, ...],
                                                             prefix: str | None) -> None:
    assert valid_prefix(text, path) == prefix


def test_sse_frames_of_a_continued_call() -> None:
    from fieldstream.agents.sse import encode_event

    _, events, _ = run([BAD, REST], "continue")
    starts = [e for e in final_events(events) if e.type == "stream_start"]
    assert encode_event(7, starts[1]) == (
        'id: 7\nevent: stream_start\ndata: {"call_type":"final_result","continued":true}\n\n')
    assert encode_event(1, starts[0]).endswith('data: {"call_type":"final_result"}\n\n')
