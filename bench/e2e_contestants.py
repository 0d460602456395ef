"""The contestants of the end-to-end comparison (``bench/e2e.py``), each behind one small interface.

The job: a typed model (``Article``: strings, a list of records, a long markdown field) arrives as JSON in
fixed-size deltas; after every delta the consumer wants what the library gives it (the typed partial, and
for fieldstream also each text delta with its path). Every contestant is driven through its public API
with no network: HTTP clients get a local ``httpx`` transport that replays a recorded-style SSE body, agent
frameworks get a scripted model that yields the same deltas.

A runner is ``run(deltas, on_view) -> final``: it feeds all deltas and calls ``on_view(k, view)`` with
each view the consumer receives, where ``k`` is the number of deltas delivered so far (1-based). When
``on_view`` returns True the runner stops early and returns :data:`STOPPED` (used for time budgets).
Sources also call ``on_view(k, NO_VIEW)`` before each delta (a budget check, nothing shown), so a
contestant that shows nothing for a long time can still be stopped: the source then ends the stream.
Async runners yield to the event loop once per delta (``asyncio.sleep(0)``), as a socket read would.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

OnView = Callable[[int, Any], bool]
Runner = Callable[[list[str], OnView], Any]
STOPPED = object()  # returned by a runner that ``on_view`` stopped early
NO_VIEW = object()  # passed to ``on_view`` by a source: a budget check, not something shown


class _Gate:
    """Counts the deltas a source delivered; asks ``on_view`` before each one whether to go on."""

    def __init__(self, on_view: OnView) -> None:
        self.k = 0
        self.on_view = on_view
        self.stopped = False

    def next(self) -> bool:
        """True: deliver the next delta. False: stop (the source ends the stream early)."""
        if self.on_view(self.k, NO_VIEW):
            self.stopped = True
            return False
        self.k += 1
        return True


class Record(BaseModel):
    id: int
    name: str
    score: float
    tags: list[str]
    note: str | None


class Article(BaseModel):
    title: str
    summary: str
    items: list[Record]
    body: str  # long markdown


def has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# ---------------------------------------------------------------------------- fieldstream

def run_fieldstream(deltas: list[str], on_view: OnView) -> Any:
    """``SchemaStream(Article)``: per delta, each ``StringDelta``'s (path, text) and ``.partial``."""
    from fieldstream import StringDelta
    from fieldstream.schema import SchemaStream

    s = SchemaStream(Article)
    feed = s.feed
    text_out: list[tuple[Any, str]] = []  # what a UI would append to, per path
    put = text_out.append
    for k, d in enumerate(deltas, 1):
        for ev in feed(d):
            if type(ev) is StringDelta:
                put((ev.path, ev.delta))
        if on_view(k, s.partial):
            return STOPPED
    s.close()
    return s.value


def run_fieldstream_asyncio(deltas: list[str], on_view: OnView) -> Any:
    """:func:`run_fieldstream` inside ``asyncio.run``, fed by an async generator that yields to the
    event loop once per delta as the Agent row's scripted model does: what the event loop alone adds
    (the floor of any async path)."""
    from fieldstream import StringDelta
    from fieldstream.schema import SchemaStream

    gate = _Gate(on_view)

    async def source() -> AsyncIterator[str]:
        for d in deltas:
            await asyncio.sleep(0)
            if not gate.next():
                return
            yield d

    async def go() -> Any:
        s = SchemaStream(Article)
        feed = s.feed
        text_out: list[tuple[Any, str]] = []
        put = text_out.append
        async for d in source():
            for ev in feed(d):
                if type(ev) is StringDelta:
                    put((ev.path, ev.delta))
            if on_view(gate.k, s.partial):
                return STOPPED
        s.close()
        return s.value

    return _stopped_or(gate, lambda: asyncio.run(go()))


class _ScriptedModel:
    """A :class:`fieldstream.agents.Model` that answers the think call with "complete, no tools" and
    streams the given deltas as the final_result call."""

    name = "scripted"

    def __init__(self, deltas: list[str], gate: _Gate) -> None:
        self.deltas = deltas
        self.gate = gate
        self.calls = 0

    async def stream(self, messages: Any, schema: dict[str, Any], *, name: str = "response"
                     ) -> AsyncIterator[Any]:
        self.calls += 1
        if name == "think":
            yield json.dumps({"reasoning": "Write it.", "tool_calls": [], "is_complete": True,
                              "final_result": None})
            return
        gate = self.gate
        for d in self.deltas:
            await asyncio.sleep(0)
            if not gate.next():
                return
            yield d


class FlatView(dict[str, Any]):
    """An Agent consumer's view when the events carry no typed partial (older fieldstream):
    ``{dotted path: finished value, or a StringIO of the text so far}`` (a StringIO, because
    ``text + delta`` on a dict value copies: quadratic on a long body)."""


def run_fieldstream_agent(deltas: list[str], on_view: OnView) -> Any:
    """``fieldstream.agents.Agent(output_schema=Article).stream(...)`` with a scripted model: each
    ``chunk`` event's (path, text), and once per model delta the typed partial ``event.partial()``.
    With an older fieldstream whose events have no ``partial()`` (an ``AgentEvent`` with a ``data``
    dict), the view is a :class:`FlatView` built from the ``chunk`` and ``field`` events."""
    from fieldstream.agents import Agent

    gate = _Gate(on_view)
    model = _ScriptedModel(deltas, gate)
    agent = Agent(name="writer", output_schema=Article, model=model)

    async def go() -> Any:
        flat = FlatView()
        text_out: list[tuple[Any, str]] = []  # what a UI would append to, per path
        last_k = -1
        stream = agent.stream("Write the article.")
        try:
            async for ev in stream:
                t = ev.type
                if t == "result":
                    return ev.result
                if t != "chunk" and t != "field":
                    continue
                data = getattr(ev, "data", None)
                if data is None:  # typed events (Chunk, Field) with a lazily computed typed partial
                    if ev.call_type != "final_result":
                        continue
                    if t == "chunk":
                        text_out.append((ev.path, ev.delta))
                    if gate.k == last_k:
                        continue
                    last_k = gate.k
                    view = ev.partial()
                else:
                    if data.get("call_type") != "final_result":
                        continue
                    if t == "chunk":
                        p = data["json_path"]
                        buf = flat.get(p)
                        if not isinstance(buf, io.StringIO):
                            buf = flat[p] = io.StringIO()
                        buf.write(data["delta"])
                    else:
                        flat[data["json_path"]] = data["value"]
                    view = flat
                if on_view(gate.k, view):
                    return STOPPED
        except Exception:
            if gate.stopped:
                return STOPPED
            raise
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        raise RuntimeError("no result event")

    return _stopped_or(gate, lambda: asyncio.run(go()))


# ---------------------------------------------------------------------------- pydantic-ai

def run_pydantic_ai(deltas: list[str], on_view: OnView) -> Any:
    """pydantic-ai ``Agent(FunctionModel(stream_function=...), output_type=Article)``,
    ``run_stream(...)`` + ``stream_output(debounce_by=None)``; the model streams the deltas as the
    arguments of the output tool call (pydantic-ai's default output mode)."""
    from pydantic_ai import Agent
    from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

    gate = _Gate(on_view)

    async def stream_fn(messages: Any, info: AgentInfo) -> AsyncIterator[Any]:
        name = info.output_tools[0].name
        first = True
        for d in deltas:
            await asyncio.sleep(0)
            if not gate.next():
                return
            yield {0: DeltaToolCall(name=name if first else None, json_args=d,
                                    tool_call_id="call_1" if first else None)}
            first = False

    agent = Agent(FunctionModel(stream_function=stream_fn), output_type=Article)

    async def go() -> Any:
        async with agent.run_stream("Write the article.") as result:
            last = None
            async for out in result.stream_output(debounce_by=None):
                last = out
                if on_view(gate.k, out):
                    return STOPPED
            return last

    return _stopped_or(gate, lambda: asyncio.run(go()))


# ---------------------------------------------------------------------------- OpenAI-compatible replay

def sse_body(deltas: list[str]) -> list[bytes]:
    """Chat-completion chunks as SSE frames, one per delta (role first; ``stop`` and ``[DONE]`` last)."""
    def frame(delta: dict[str, Any], finish: str | None) -> bytes:
        chunk = {"id": "chatcmpl-replay", "object": "chat.completion.chunk", "created": 0,
                 "model": "replay", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    frames = [frame({"role": "assistant", "content": ""}, None)]
    frames.extend(frame({"content": d}, None) for d in deltas)
    frames.append(frame({}, "stop"))
    frames.append(b"data: [DONE]\n\n")
    return frames


class _Replay:
    """Sync and async byte streams over pre-encoded SSE frames; ``gate.k`` = content deltas sent."""

    def __init__(self, frames: list[bytes], gate: _Gate) -> None:
        self.frames = frames
        self.gate = gate

    def sync_stream(self) -> Iterator[bytes]:
        last = len(self.frames) - 2
        for i, f in enumerate(self.frames):
            if 0 < i < last and not self.gate.next():
                return
            yield f

    async def async_stream(self) -> AsyncIterator[bytes]:
        last = len(self.frames) - 2
        for i, f in enumerate(self.frames):
            await asyncio.sleep(0)
            if 0 < i < last and not self.gate.next():
                return
            yield f


def _sse_response(stream: Any) -> Any:
    import httpx

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)


def run_openai(deltas: list[str], on_view: OnView) -> Any:
    """openai-python ``client.beta.chat.completions.stream(response_format=Article)``: the ``.parsed``
    snapshot of every ``content.delta`` event (sync client, local ``httpx.MockTransport``)."""
    import httpx
    import openai

    gate = _Gate(on_view)
    replay = _Replay(sse_body(deltas), gate)

    class _Stream(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            return replay.sync_stream()

    transport = httpx.MockTransport(lambda request: _sse_response(_Stream()))
    client = openai.OpenAI(api_key="replay", base_url="http://replay.invalid/v1",
                           http_client=httpx.Client(transport=transport), max_retries=0)

    def go() -> Any:
        with client.beta.chat.completions.stream(
                model="replay", messages=[{"role": "user", "content": "Write the article."}],
                response_format=Article) as stream:
            for ev in stream:
                if ev.type == "content.delta" and on_view(gate.k, ev.parsed):
                    return STOPPED
            final = stream.get_final_completion()
        client.close()
        return final.choices[0].message.parsed

    return _stopped_or(gate, go)


def run_instructor(deltas: list[str], on_view: OnView) -> Any:
    """instructor ``create_partial(response_model=Article)`` over ``AsyncOpenAI`` (JSON mode, so the
    model's content is the JSON text), local ``httpx.MockTransport`` replaying the SSE body."""
    import httpx
    import instructor
    import openai

    gate = _Gate(on_view)
    replay = _Replay(sse_body(deltas), gate)

    class _Stream(httpx.AsyncByteStream):
        def __aiter__(self) -> AsyncIterator[bytes]:
            return replay.async_stream()

    async def go() -> Any:
        transport = httpx.MockTransport(lambda request: _sse_response(_Stream()))
        raw = openai.AsyncOpenAI(api_key="replay", base_url="http://replay.invalid/v1",
                                 http_client=httpx.AsyncClient(transport=transport), max_retries=0)
        client = instructor.from_openai(raw, mode=instructor.Mode.JSON)
        last = None
        async for p in client.chat.completions.create_partial(
                model="replay", messages=[{"role": "user", "content": "Write the article."}],
                response_model=Article, max_retries=0):
            last = p
            if on_view(gate.k, p):
                return STOPPED
        await raw.close()
        return last

    return _stopped_or(gate, lambda: asyncio.run(go()))


# ---------------------------------------------------------------------------- langchain-core

def _gated(deltas: list[str], gate: _Gate) -> Iterator[str]:
    for d in deltas:
        if not gate.next():
            return
        yield d


def _stopped_or(gate: _Gate, run: Callable[[], Any]) -> Any:
    """``run()``, or :data:`STOPPED` if the source was stopped (the contestant may then fail on the
    incomplete document, or return a partial value: either way it is not a result)."""
    try:
        value = run()
    except Exception:
        if gate.stopped:
            return STOPPED
        raise
    return STOPPED if gate.stopped else value


def run_langchain_pydantic(deltas: list[str], on_view: OnView) -> Any:
    """langchain-core ``PydanticOutputParser(pydantic_object=Article).transform(deltas)``."""
    from langchain_core.output_parsers import PydanticOutputParser

    gate = _Gate(on_view)

    def go() -> Any:
        last = None
        for out in PydanticOutputParser(pydantic_object=Article).transform(_gated(deltas, gate)):
            last = out
            if on_view(gate.k, out):
                return STOPPED
        return last

    return _stopped_or(gate, go)


def run_langchain_json(deltas: list[str], on_view: OnView) -> Any:
    """langchain-core ``JsonOutputParser(pydantic_object=Article).transform(deltas)`` (plain dicts)."""
    from langchain_core.output_parsers import JsonOutputParser

    gate = _Gate(on_view)

    def go() -> Any:
        last = None
        for out in JsonOutputParser(pydantic_object=Article).transform(_gated(deltas, gate)):
            last = out
            if on_view(gate.k, out):
                return STOPPED
        return last

    return _stopped_or(gate, go)


# ---------------------------------------------------------------------------- re-parsers

def run_pydantic_partial(deltas: list[str], on_view: OnView) -> Any:
    """pydantic ``TypeAdapter(Article).validate_json(prefix, experimental_allow_partial=
    'trailing-strings')`` on the whole prefix after every delta (a failed validation shows nothing)."""
    from pydantic import TypeAdapter, ValidationError

    ta = TypeAdapter(Article)
    validate = ta.validate_json
    buf = ""
    for k, d in enumerate(deltas, 1):
        buf += d
        try:
            view = validate(buf, experimental_allow_partial="trailing-strings")
        except ValidationError:
            view = None
        if on_view(k, view):
            return STOPPED
    return ta.validate_json(buf)


def run_jiter(deltas: list[str], on_view: OnView) -> Any:
    """jiter ``from_json(prefix, partial_mode='trailing-strings')`` on the whole prefix after every delta."""
    from jiter import from_json

    buf = bytearray()
    for k, d in enumerate(deltas, 1):
        buf += d.encode()
        view = from_json(bytes(buf), partial_mode="trailing-strings")
        if on_view(k, view):
            return STOPPED
    return from_json(bytes(buf))


@dataclass(frozen=True)
class Contestant:
    name: str  # row label
    api: str  # what is called, for the docs
    run: Runner
    needs: tuple[str, ...]  # importable modules it needs
    package: str  # distribution whose version is reported ("" for fieldstream)


CONTESTANTS: tuple[Contestant, ...] = (
    Contestant("fieldstream SchemaStream", "`SchemaStream(Article)`: StringDelta (path, text) + `.partial`",
               run_fieldstream, ("pydantic",), "fieldstream"),
    Contestant("fieldstream SchemaStream in asyncio", "the SchemaStream row inside `asyncio.run`, fed by an"
               " async generator that yields to the event loop once per delta (as the Agent row's model"
               " does): the event loop's share of the Agent row", run_fieldstream_asyncio, ("pydantic",),
               "fieldstream"),
    Contestant("fieldstream Agent", "`agents.Agent(output_schema=Article).stream()` with a scripted model:"
               " `chunk` events (path, text) + `event.partial()` once per delta (where the installed"
               " fieldstream has it)", run_fieldstream_agent, ("pydantic",), "fieldstream"),
    Contestant("pydantic-ai", "`Agent(FunctionModel(stream_function=...)).run_stream()`,"
               " `stream_output(debounce_by=None)`", run_pydantic_ai, ("pydantic_ai",), "pydantic-ai-slim"),
    Contestant("openai-python", "`client.beta.chat.completions.stream(response_format=Article)`, `.parsed`"
               " of each `content.delta`", run_openai, ("openai", "httpx"), "openai"),
    Contestant("instructor", "`create_partial(response_model=Article)` (async, `Mode.JSON`)",
               run_instructor, ("instructor", "openai", "httpx"), "instructor"),
    Contestant("langchain PydanticOutputParser", "`PydanticOutputParser(pydantic_object=Article)"
               ".transform()`", run_langchain_pydantic, ("langchain_core",), "langchain-core"),
    Contestant("langchain JsonOutputParser", "`JsonOutputParser(pydantic_object=Article).transform()`",
               run_langchain_json, ("langchain_core",), "langchain-core"),
    Contestant("pydantic allow_partial", "`TypeAdapter(Article).validate_json(prefix,"
               " experimental_allow_partial='trailing-strings')` per delta", run_pydantic_partial,
               ("pydantic",), "pydantic"),
    Contestant("jiter trailing-strings", "`jiter.from_json(prefix, partial_mode='trailing-strings')`"
               " per delta", run_jiter, ("jiter",), "jiter"),
)


def available() -> tuple[list[Contestant], list[Contestant]]:
    """(contestants whose packages import, the others)."""
    ok = [c for c in CONTESTANTS if all(has(m) for m in c.needs)]
    return ok, [c for c in CONTESTANTS if c not in ok]
