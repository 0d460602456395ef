"""fieldstream.adapters on the official SDKs' streams, fed with real recorded responses.

The ``openai`` and ``anthropic`` clients get an ``http_client`` whose httpx.MockTransport serves the
recorded bytes (tests/data/provider_streams) in 7-byte writes; the oracle is each sidecar's
``expect`` (computed from the bytes by an independent reader) and ``json.loads``. No network.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import fieldstream
from fieldstream import (
    FieldDone,
    FieldInvalid,
    ProviderError,
    RefusalError,
    SchemaError,
    StringDelta,
    TruncatedOutputError,
    ValueDone,
)
from fieldstream.adapters import (
    ToolCallStart,
    aanthropic_events,
    anthropic_events,
    aopenai_chat_events,
    aopenai_responses_events,
    openai_chat_events,
    openai_responses_events,
)
from fieldstream.agents.models import ReasoningDelta
from support.recorded import STREAMS, Canned, Replay, cases, sidecar

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")

# the httpx package the anthropic SDK is built on (httpx2 since anthropic 2.x)
import anthropic._base_client as _anthropic_base  # noqa: E402

ANTHROPIC_HTTPX = getattr(_anthropic_base, "httpx2", None) or _anthropic_base.httpx

CHAT = [p for p in sorted(STREAMS.glob("*/*.sse")) if sidecar(p).get("api") == "openai-chat"]


def _openai(replay: Replay) -> Any:
    return openai.OpenAI(api_key="k", base_url="http://test/v1", http_client=replay.client(), max_retries=0)


def _chat_stream(path: Path) -> Any:
    return _openai(Replay(Canned.recording(path))).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True)


def _summary(events: list[Any]) -> dict[str, Any]:
    """What the events say: prose content, tool calls (id, name, arguments value), reasoning."""
    out: dict[str, Any] = {"text": "", "calls": {}, "reasoning": "", "root": None}
    for ev in events:
        if isinstance(ev, ToolCallStart):
            assert ev.index not in out["calls"]
            out["calls"][ev.index] = {"id": ev.id, "name": ev.name, "arguments": None}
        elif isinstance(ev, ReasoningDelta):
            out["reasoning"] += ev.text
        elif isinstance(ev, StringDelta) and ev.path == ("content",):
            out["text"] += ev.delta
        elif isinstance(ev, ValueDone) and len(ev.path) == 3 and ev.path[0] == "tool_calls":
            assert ev.path[2] == "arguments"
            out["calls"][ev.path[1]]["arguments"] = ev.value
        elif isinstance(ev, ValueDone) and ev.path == ():
            out["root"] = ev.value
    return out


def _expected_calls(calls: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(c.get("id") or None, c["name"], json.loads(c["arguments"] or "{}")) for c in calls]


@pytest.mark.parametrize("path", CHAT, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_openai_chat_recording(path: Path) -> None:
    expect = sidecar(path)["expect"]
    stream = _chat_stream(path)
    events = openai_chat_events(stream, content="text", reasoning=True)
    if expect["errors"]:
        with pytest.raises(openai.APIError) as info:  # the SDK raises the provider's error event itself
            list(events)
        assert expect["errors"][0] in str(info.value)
        return
    if expect["refusal"]:
        with pytest.raises(RefusalError) as refusal:
            list(events)
        assert refusal.value.refusal == expect["refusal"]
        return
    if expect["finish_reason"] == "length":
        with pytest.raises(TruncatedOutputError) as cut:
            list(events)
        assert cut.value.reason == "length" and cut.value.text == expect["text"]
        return
    got = _summary(list(events))
    assert got["text"] == expect["text"]
    assert got["reasoning"] == expect["reasoning"]
    assert [(c["id"], c["name"], c["arguments"]) for c in got["calls"].values()] == _expected_calls(
        expect["tool_calls"])
    assert stream.response.is_closed


def test_openai_chat_json_content_matches_json_loads() -> None:
    for path in CHAT:
        expect = sidecar(path)["expect"]
        if not expect["text"].startswith("{") or expect["finish_reason"] != "stop":
            continue
        got = _summary(list(openai_chat_events(_chat_stream(path))))
        assert got["root"] == json.loads(expect["text"]), path


class Weather(BaseModel):
    city: str
    temperature: int
    units: str


def test_openai_chat_schema_events() -> None:
    path = STREAMS / "openai" / "sdk_json_schema_content.sse"
    events = list(openai_chat_events(_chat_stream(path), schema=Weather))
    done = {ev.path: ev.value for ev in events if isinstance(ev, FieldDone)}
    assert done[()] == Weather.model_validate_json(sidecar(path)["expect"]["text"])
    assert done[("temperature",)] == 61
    deltas = "".join(ev.delta for ev in events if isinstance(ev, StringDelta) and ev.path == ("city",))
    assert deltas == "San Francisco"


class Wrong(BaseModel):
    city: int


def test_openai_chat_schema_failure_raises() -> None:
    path = STREAMS / "openai" / "sdk_json_schema_content.sse"
    with pytest.raises(SchemaError):
        list(openai_chat_events(_chat_stream(path), schema=Wrong))


def test_openai_chat_truncated_partial_value() -> None:
    path = STREAMS / "openai" / "sdk_json_schema_cut_by_length.sse"
    with pytest.raises(TruncatedOutputError) as info:
        list(openai_chat_events(_chat_stream(path), schema=Weather))
    assert info.value.text == '{"' and info.value.partial == {}


def test_openai_chat_parallel_tool_calls_paths_and_schemas() -> None:
    path = STREAMS / "openai" / "sdk_parallel_tool_calls_two_tools.sse"
    calls = sidecar(path)["expect"]["tool_calls"]
    names = sorted({c["name"] for c in calls})

    class Loose(BaseModel):
        model_config = {"extra": "allow"}

    events = list(openai_chat_events(_chat_stream(path), tools={n: Loose for n in names}))
    starts = [ev for ev in events if isinstance(ev, ToolCallStart)]
    assert [(s.index, s.id, s.name) for s in starts] == [(c["index"], c["id"], c["name"]) for c in calls]
    for c in calls:
        (root,) = [ev for ev in events if isinstance(ev, FieldDone)
                   and ev.path == ("tool_calls", c["index"], "arguments")]
        assert root.value.model_dump() == json.loads(c["arguments"])
        assert root.dotted == f"tool_calls[{c['index']}].arguments"
    assert not any(isinstance(ev, FieldInvalid) for ev in events)


def test_openai_chat_async() -> None:
    path = STREAMS / "openai" / "chat_tool_calls_parallel.sse"
    expect = sidecar(path)["expect"]

    async def main() -> list[Any]:
        client = openai.AsyncOpenAI(api_key="k", base_url="http://test/v1",
                                    http_client=Replay(Canned.recording(path)).async_client())
        stream = await client.chat.completions.create(model="m", messages=[], stream=True)
        return [ev async for ev in aopenai_chat_events(stream)]

    got = _summary(asyncio.run(main()))
    assert [(c["id"], c["name"], c["arguments"]) for c in got["calls"].values()] == _expected_calls(
        expect["tool_calls"])


def test_openai_chat_stream_closed_when_consumer_stops() -> None:
    path = STREAMS / "openai" / "chat_text_gpt41nano.sse"
    stream = _chat_stream(path)
    events = openai_chat_events(stream, content="text")
    next(events)
    events.close()  # type: ignore[attr-defined]
    assert stream.response.is_closed


# ---------------------------------------------------------------- Responses


def _responses_stream(path: Path) -> Any:
    return _openai(Replay(Canned.recording(path))).responses.create(model="m", input="hi", stream=True)


@pytest.mark.parametrize("path", cases("openai-responses"), ids=lambda p: p.stem)
def test_openai_responses_recording(path: Path) -> None:
    expect = sidecar(path)["expect"]
    events = openai_responses_events(_responses_stream(path), content="text", reasoning=True)
    if expect["errors"]:
        with pytest.raises((ProviderError, openai.APIError)) as info:
            list(events)
        assert expect["errors"][0] in str(info.value)
        return
    if expect["refusal"]:
        with pytest.raises(RefusalError) as refusal:
            list(events)
        assert refusal.value.refusal == expect["refusal"]
        return
    if expect["status"] == "incomplete":
        with pytest.raises(TruncatedOutputError) as cut:
            list(events)
        assert cut.value.reason == expect["incomplete_reason"] and cut.value.text == expect["text"]
        return
    got = _summary(list(events))
    assert got["text"] == expect["text"] and got["reasoning"] == expect["reasoning"]
    assert [(c["id"], c["name"], c["arguments"]) for c in got["calls"].values()] == [
        (f["call_id"], f["name"], json.loads(f["arguments"])) for f in expect["function_calls"]]


def test_openai_responses_async_json() -> None:
    path = STREAMS / "openai-responses" / "json_schema_text.sse"

    async def main() -> list[Any]:
        client = openai.AsyncOpenAI(api_key="k", base_url="http://test/v1",
                                    http_client=Replay(Canned.recording(path)).async_client())
        stream = await client.responses.create(model="m", input="hi", stream=True)
        return [ev async for ev in aopenai_responses_events(stream)]

    assert _summary(asyncio.run(main()))["root"] == {"output": 7}


# ---------------------------------------------------------------- Anthropic


def _anthropic_client(path: Path) -> Any:
    return anthropic.Anthropic(api_key="k", base_url="http://test",
                               http_client=Replay(Canned.recording(path)).client(ANTHROPIC_HTTPX),
                               max_retries=0)


@pytest.mark.parametrize("path", cases("anthropic"), ids=lambda p: p.stem)
@pytest.mark.parametrize("helper", [False, True], ids=["raw", "message_stream"])
def test_anthropic_recording(path: Path, helper: bool) -> None:
    expect = sidecar(path)["expect"]
    client = _anthropic_client(path)
    args: dict[str, Any] = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}

    def run(stream: Any) -> list[Any]:
        return list(anthropic_events(stream, content="text", reasoning=True))

    if expect["stop_reason"] == "max_tokens":
        with pytest.raises(TruncatedOutputError) as cut:
            run(client.messages.create(stream=True, **args))
        assert cut.value.reason == "max_tokens" and cut.value.text == expect["text"]
        return
    if helper:
        with client.messages.stream(**args) as stream:
            events = run(stream)
    else:
        events = run(client.messages.create(stream=True, **args))
    got = _summary(events)
    assert got["text"] == expect["text"] and got["reasoning"] == expect["thinking"]
    tools = [t for t in expect["tool_uses"] if t["type"] == "tool_use"]
    assert [(c["name"], c["arguments"]) for c in got["calls"].values()] == [
        (t["name"], json.loads(t["input_json"] or "{}")) for t in tools]


def test_anthropic_async_json_schema() -> None:
    path = STREAMS / "anthropic" / "json_text_structured.sse"

    class Book(BaseModel):
        title: str
        author: str
        themes: list[str]
        rating: int

    async def main() -> list[Any]:
        client = anthropic.AsyncAnthropic(api_key="k", base_url="http://test",
                                          http_client=Replay(Canned.recording(path)).async_client(ANTHROPIC_HTTPX))
        stream = await client.messages.create(model="m", max_tokens=10, messages=[], stream=True)
        return [ev async for ev in aanthropic_events(stream, schema=Book)]

    events = asyncio.run(main())
    (root,) = [ev for ev in events if isinstance(ev, FieldDone) and ev.path == ()]
    assert root.value == Book.model_validate_json(sidecar(path)["expect"]["text"])
    assert [ev.path for ev in events if isinstance(ev, FieldDone)][:2] == [("title",), ("author",)]



# ---------------------------------------------------------------- tool calls, hand-made chunk order


def _chunk(index: int, args: str, *, first: bool = False, finish: str | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if first:
        call.update(id=f"call_{index}", function={"name": "weather", "arguments": args})
    return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": finish}]}


class City(BaseModel):
    city: str
    days: int


def test_interleaved_calls_stream_independently_and_complete_early() -> None:
    chunks = [_chunk(0, '{"city": "Pa', first=True), _chunk(1, '{"city": "Ro', first=True),
              _chunk(0, 'ris", "days": 2}'), _chunk(1, 'me", "days": 3}'),
              {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}]
    events = list(openai_chat_events(chunks, tools={"weather": City}))
    done = [(ev.path, ev.value) for ev in events if isinstance(ev, FieldDone) and len(ev.path) == 3]
    assert done == [(("tool_calls", 0, "arguments"), City(city="Paris", days=2)),
                    (("tool_calls", 1, "arguments"), City(city="Rome", days=3))]
    order = [ev.path for ev in events if isinstance(ev, (FieldDone, StringDelta))]
    # call 0 is complete (a tool could start) before call 1's arguments finish
    assert order.index(("tool_calls", 0, "arguments")) < order.index(("tool_calls", 1, "arguments", "days"))
    city = {i: "".join(ev.delta for ev in events if isinstance(ev, StringDelta)
                       and ev.path == ("tool_calls", i, "arguments", "city")) for i in (0, 1)}
    assert city == {0: "Paris", 1: "Rome"}


def test_invalid_tool_argument_fails_early() -> None:
    consumed = []

    def chunks() -> Any:
        for c in [_chunk(0, '{"days": "many"', first=True), _chunk(0, ', "city": "Paris"}'),
                  {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}]:
            consumed.append(c)
            yield c

    with pytest.raises(SchemaError) as info:
        list(openai_chat_events(chunks(), tools={"weather": City}))
    assert info.value.path == ("tool_calls", 0, "arguments", "days") and len(consumed) == 1


def test_choices_other_than_zero_are_ignored() -> None:
    chunks = [{"choices": [{"index": 1, "delta": {"content": "[2]"}, "finish_reason": "stop"},
                           {"index": 0, "delta": {"content": "[1]"}, "finish_reason": "stop"}]}]
    assert _summary(list(openai_chat_events(chunks)))["root"] == [1]


def test_openai_chat_stream_helper_events() -> None:
    path = STREAMS / "openai" / "sdk_parallel_tool_calls_two_tools.sse"
    expect = sidecar(path)["expect"]
    client = _openai(Replay(Canned.recording(path)))
    with client.chat.completions.stream(model="m", messages=[{"role": "user", "content": "hi"}]) as stream:
        got = _summary(list(openai_chat_events(stream)))
    assert [(c["id"], c["name"], c["arguments"]) for c in got["calls"].values()] == _expected_calls(
        expect["tool_calls"])


@pytest.mark.parametrize("schema", [None, dict], ids=["core", "schema"])
def test_anthropic_fenced_json_with_lenient(schema: Any) -> None:
    path = STREAMS / "anthropic" / "json_in_markdown_fence.sse"
    args: dict[str, Any] = {"model": "m", "max_tokens": 10, "messages": []}
    with pytest.raises((fieldstream.StreamError, SchemaError)):
        list(anthropic_events(_anthropic_client(path).messages.create(stream=True, **args), schema=schema))
    stream = _anthropic_client(path).messages.create(stream=True, **args)
    events = list(anthropic_events(stream, schema=schema, lenient=True))
    expect = json.loads(sidecar(path)["expect"]["text"].strip("`\n").removeprefix("json"))
    roots = [ev.value for ev in events if isinstance(ev, (ValueDone, FieldDone)) and ev.path == ()]
    assert roots == [expect] == [{"value": 427}]
