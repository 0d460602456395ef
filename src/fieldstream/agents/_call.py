"""One model call, streamed: raw JSON text in, typed agent events and hook calls out.

Everything that happens between ``llm_call`` and ``llm_response`` lives here: the model stream,
the schema layer (through :class:`_Output`, the only place in the agent layer that touches
:class:`fieldstream.schema.SchemaStream`), the optional batching of fast deltas, the
``stream_*`` hooks and the events handed to :meth:`Agent.stream`.

Models with typed stream items (``stream_items``, see :mod:`.models._items`) give more than text:

* reasoning (``ReasoningDelta``, and a ``<think>...</think>`` block at the start of the content) is
  reported as chunks of ``call_type="think"`` at the path ``reasoning`` and is not parsed;
* tool-call argument deltas (native tool calling) are parsed per call index by their own schema
  stream against the tool's parameter model (content that is prose, not JSON, is accepted next
  to tool calls and kept for the conversation): chunks and fields under
  ``tool_calls[i].arguments...``, one field at ``tool_calls[i].arguments`` when the arguments are
  complete and valid (that is when the call is handed to ``on_tool``, before the message ends), and
  the first invalid argument fails the call at once (:class:`BadOutput`, re-asked by the agent);
* a refusal or a cut answer (``finish_reason`` ``length``/``content_filter``) raises
  :class:`~fieldstream.RefusalError` / :class:`~fieldstream.TruncatedOutputError`: never re-asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .. import FieldDone, FieldInvalid, SchemaError, StreamError, StringDelta
from .._errors import ModelError, TruncatedOutputError
from .._events import event_at
from .._path import Path, to_dotted
from ._events import AgentEvent, Field, PartialRef, StreamEnd, StreamStart, jsonable, make_chunk
from ._events import StreamError as StreamErrorEvent
from ._limits import Limits
from .base.context import AgentContext, Usage
from .models import Message
from .models._items import Finish, ReasoningDelta, RefusalDelta, ToolCallDelta, ToolSpec, finish_error

if TYPE_CHECKING:  # pragma: no cover
    from ._agent import Agent

__all__ = ["BadOutput", "CallOutcome", "NativeCall", "Run", "Sink", "stream_call"]

REASONING: Path = ("reasoning",)

Sink = Callable[[AgentEvent], Awaitable[None]]


@dataclass
class Run:
    """Per-run state shared by the calls of one run."""

    ctx: AgentContext
    sink: Sink | None
    messages: list[Message] = field(default_factory=list)
    call_type: str | None = None  # the call in progress (for error reports)
    # called before new model output is fed to the schema layer; an awaitable it returns is awaited
    # (Agent.stream: until the consumer is done with the events handed to it, so that their live
    # partial does not change under it)
    settle: Callable[[], Awaitable[None] | None] | None = None
    limits: Limits = field(default_factory=Limits)  # time and size limits (see _limits)


class BadOutput(Exception):
    """The model's output was invalid JSON or failed the schema (the agent may retry)."""

    def __init__(self, error: SchemaError | StreamError, text: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.text = text


class _Output:
    """Adapter over :class:`fieldstream.schema.SchemaStream` (its one use in the agent layer).

    ``close()`` returns ``(value, events completed by the end of input)`` whatever the schema layer's
    own split of the two is, so a change of that API is absorbed here.
    """

    def __init__(self, tp: Any, lenient: bool = False, max_depth: int | None = None) -> None:
        from ..schema import SchemaStream

        self._ss = (SchemaStream(tp, lenient=lenient) if max_depth is None
                    else SchemaStream(tp, lenient=lenient, max_depth=max_depth))
        self.fed = False

    def feed(self, text: str) -> list[Any]:
        self.fed = True
        return list(self._ss.feed(text))

    def close(self) -> tuple[Any, list[Any]]:
        events = self._ss.close()
        return self._ss.value, list(events)

    def partial(self) -> Any:
        """Typed view so far: models built without validation (``SchemaStream.partial``)."""
        return self._ss.partial

    def partial_json(self) -> Any:
        """JSON-ready copy of the plain view so far, or ``None`` when it cannot be built."""
        try:
            return jsonable(self._ss.partial_dict)
        except Exception:
            return None


class _Batcher:
    """Coalesce consecutive deltas of one path for up to ``ms`` milliseconds / ``chars`` characters."""

    def __init__(self, ms: float | None, chars: int | None) -> None:
        self.ms = ms
        self.chars = chars
        self.path: Path | None = None
        self.parts: list[str] = []
        self.size = 0
        self.started = 0.0

    @property
    def active(self) -> bool:
        return self.ms is not None or self.chars is not None

    def remaining(self) -> float:
        assert self.ms is not None
        return max(0.0, self.started + self.ms / 1000 - time.monotonic())

    def add(self, path: Path, delta: str) -> list[tuple[Path, str]]:
        if not self.active:
            return [(path, delta)]
        out = self.flush() if self.path != path else []
        if not self.parts:
            self.path = path
            self.started = time.monotonic()
        self.parts.append(delta)
        self.size += len(delta)
        if (self.chars is not None and self.size >= self.chars) or (
                self.ms is not None and time.monotonic() - self.started >= self.ms / 1000):
            out.extend(self.flush())
        return out

    def flush(self) -> list[tuple[Path, str]]:
        if not self.parts:
            return []
        assert self.path is not None
        out = [(self.path, "".join(self.parts))]
        self.parts = []
        self.size = 0
        self.path = None
        return out


@dataclass
class NativeCall:
    """One native tool call of a model message: streamed arguments, parsed by their own schema stream."""

    index: int
    id: str | None
    name: str | None
    out: _Output
    arguments: list[str] = field(default_factory=list)
    value: Any = None  # the validated arguments (the tool's parameter model), once complete
    complete: bool = False

    @property
    def prefix(self) -> Path:
        return ("tool_calls", self.index, "arguments")

    @property
    def arguments_text(self) -> str:
        return "".join(self.arguments) or "{}"


@dataclass
class CallOutcome:
    """What one model call produced: the content's value and raw text, native tool calls, reasoning."""

    value: Any
    text: str
    tool_calls: list[NativeCall] = field(default_factory=list)
    reasoning: str = ""


class _ThinkSplit:
    """Route a ``<think>...</think>`` block at the start of the content to the reasoning."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self.state = 0  # 0: start of content, 1: inside the block, 2: after (plain content)
        self.buf = ""

    def feed(self, text: str) -> list[tuple[bool, str]]:
        if self.state == 2:
            return [(False, text)]
        self.buf += text
        out: list[tuple[bool, str]] = []
        if self.state == 0:
            head = self.buf.lstrip()
            if not head or (len(head) < len(self.OPEN) and self.OPEN.startswith(head)):
                return []  # whitespace, or maybe the opening tag: wait for more
            if head.startswith(self.OPEN):
                self.state, self.buf = 1, head[len(self.OPEN):]
            else:
                self.state, rest, self.buf = 2, self.buf, ""
                return [(False, rest)]
        end = self.buf.find(self.CLOSE)
        if end >= 0:
            out.append((True, self.buf[:end]))
            rest = self.buf[end + len(self.CLOSE):].lstrip()
            self.state, self.buf = 2, ""
            out.append((False, rest))
        else:
            keep = next((k for k in range(min(len(self.CLOSE) - 1, len(self.buf)), 0, -1)
                         if self.CLOSE.startswith(self.buf[-k:])), 0)
            out.append((True, self.buf[:len(self.buf) - keep]))
            self.buf = self.buf[len(self.buf) - keep:]
        return [(r, t) for r, t in out if t]

    def flush(self) -> list[tuple[bool, str]]:
        rest, self.buf = self.buf, ""
        return [(self.state == 1, rest)] if rest else []


def _prefixed(ev: Any, prefix: Path) -> Any:
    """A schema event of a tool call's arguments, moved under ``tool_calls[i].arguments``."""
    if isinstance(ev, StringDelta):
        return event_at(StringDelta, (*prefix, *ev.path), ev.delta)
    if isinstance(ev, (FieldDone, FieldInvalid)):
        names_prefix, name = ev._names
        return dataclasses.replace(ev, path=(*prefix, *ev.path), _names=((*prefix, *names_prefix), name))
    return ev


def _locate(exc: SchemaError | StreamError, prefix: Path) -> None:
    """Give a tool call's parse or schema error its absolute path (and its events)."""
    exc.path = (*prefix, *exc.path)
    if isinstance(exc, SchemaError):
        exc.missing = [(*prefix, *m) for m in exc.missing]
        exc.events = [_prefixed(ev, prefix) for ev in exc.events]


async def stream_call(agent: Agent, run: Run, call_type: str, messages: list[Message], tp: type[BaseModel],
                      schema: dict[str, Any], attempt: int, *, tools: dict[str, Any] | None = None,
                      on_tool: Callable[[NativeCall], None] | None = None,
                      content_prefix: Path = (), prefix: str = "") -> CallOutcome:
    """Stream one model call; return its outcome or raise :class:`BadOutput` (invalid output) or
    :class:`~fieldstream.ModelError` (the provider failed, refused or cut the answer).

    ``tools`` (name -> :class:`~fieldstream.agents.Tool`) switches on native tool calling: the tools
    are sent to the model, the content may be absent when the model calls tools, and ``on_tool``
    receives each call as soon as its arguments are complete and valid. ``content_prefix`` moves the
    content's paths (native tool calling reports the answer under ``final_result``, as the think
    JSON of the emulation carries it).

    ``prefix``: a continuation retry. The schema stream is rebuilt from the valid prefix of the
    rejected answer (its events were reported by that call and are not sent again); the model's text
    continues it. The raw text (in the outcome and in :class:`BadOutput`) is the prefix plus the new text.
    """
    ctx = run.ctx
    hooks = agent.hooks
    hooks_on = agent.enable_streaming  # streaming hooks; agent.stream() sees the events regardless
    sink = run.sink
    settle = run.settle
    streaming = hooks_on or sink is not None
    chunk_hooks = hooks_on and hooks.has("stream_chunk")
    field_hooks = hooks_on and hooks.has("stream_field")
    run.call_type = call_type
    await hooks.fire("llm_call", ctx, call_type=call_type, messages=messages, attempt=attempt)
    if streaming:
        if hooks_on:
            await hooks.fire("stream_start", ctx, call_type=call_type)
        if sink is not None:
            await sink(StreamStart(call_type, continued=bool(prefix)))
    lenient = bool(getattr(agent, "lenient", False))
    out = _Output(tp, lenient, run.limits.max_depth)
    text: list[str] = []
    if prefix:
        out.feed(prefix)  # valid (it was validated before): rebuilds the state, events already sent
        text.append(prefix)
    reasoning: list[str] = []
    refusal: list[str] = []
    finish: Finish | None = None
    calls: dict[int, NativeCall] = {}
    think = _ThinkSplit()
    batcher = _Batcher(agent.stream_batch_ms, agent.stream_batch_chars)
    ref = PartialRef(out.partial)  # the typed partial of the current model delta, computed on request

    async def chunks(pairs: list[tuple[Path, str]], ct: str = call_type) -> None:
        for path, delta in pairs:
            if chunk_hooks:
                chunk_data = {"delta": delta, "json_path": to_dotted(path), "call_type": ct,
                              "path": path, "iteration": ctx.iteration, "attempt": attempt, "partial": ref}
                await hooks.fire("stream_chunk", ctx, chunk_data=chunk_data, call_type=ct)
            if sink is not None:
                await sink(make_chunk(ct, path, delta, ref))

    async def fieldev(path: Path, value: Any, errors: list[dict[str, Any]] | None) -> None:
        await chunks(batcher.flush())
        if not path:
            return
        if field_hooks:
            data = {"call_type": call_type, "json_path": to_dotted(path), "value": jsonable(value),
                    "valid": errors is None, "errors": None if errors is None else jsonable(errors),
                    "path": path, "partial": ref}
            await hooks.fire("stream_field", ctx, field_data=data, call_type=call_type)
        if sink is not None:
            await sink(Field(call_type, path, value, errors is None, errors, ref))

    direct = sink is not None and not chunk_hooks and not batcher.active  # string deltas: straight to sink

    async def handle(evs: list[Any]) -> None:
        if not streaming:
            return
        for ev in evs:
            if isinstance(ev, StringDelta):
                if direct:
                    await sink(make_chunk(call_type, ev.path, ev.delta, ref))  # type: ignore[misc]
                    continue
                pairs = batcher.add(ev.path, ev.delta)
                if pairs:
                    await chunks(pairs)
            elif isinstance(ev, FieldDone):
                await fieldev(ev.path, ev.value, None)
            elif isinstance(ev, FieldInvalid):
                await fieldev(ev.path, None, ev.errors)

    async def think_text(delta: str) -> None:
        reasoning.append(delta)
        if streaming:
            await chunks(batcher.flush())
            await chunks([(REASONING, delta)], "think")

    prose: list[StreamError] = []  # native tools: content that is not JSON at all (said next to calls)

    async def content(delta: str) -> None:
        nonlocal ref
        text.append(delta)
        if prose:
            return
        try:
            evs = out.feed(delta)
        except StreamError as exc:
            if tools is not None and not "".join(text)[:exc.pos].strip():
                prose.append(exc)  # decided at the end: fine next to tool calls, an error without
                return
            if content_prefix:
                _locate(exc, content_prefix)
            raise
        except SchemaError as exc:
            if content_prefix:
                _locate(exc, content_prefix)
            raise
        if content_prefix:
            evs = [_prefixed(ev, content_prefix) for ev in evs]
        if evs:
            ref = PartialRef(out.partial)
            await handle(evs)

    async def finished(call: NativeCall, evs: list[Any]) -> None:
        for ev in evs:
            if isinstance(ev, FieldDone) and ev.path == call.prefix and not call.complete:
                call.complete, call.value = True, ev.value
                if on_tool is not None:
                    on_tool(call)

    async def tool_delta(item: ToolCallDelta) -> None:
        call = calls.get(item.index)
        if call is None:
            tool = (tools or {}).get(item.name or "")
            schema_tp: Any = tool.parameters if tool is not None else dict[str, Any]
            call = calls[item.index] = NativeCall(item.index, item.id, item.name,
                                                   _Output(schema_tp, max_depth=run.limits.max_depth))
        if not item.arguments_delta:
            return
        call.arguments.append(item.arguments_delta)
        try:
            evs = [_prefixed(ev, call.prefix) for ev in call.out.feed(item.arguments_delta)]
        except (SchemaError, StreamError) as exc:
            _locate(exc, call.prefix)
            raise
        await handle(evs)
        await finished(call, evs)

    items = getattr(agent.model, "stream_items", None)
    if items is not None:
        specs = None if tools is None else [ToolSpec(t.name, t.description, t.json_schema())
                                            for t in tools.values()]
        gen = run.limits.guard(items(messages, schema, name=call_type, tools=specs))
    else:
        gen = run.limits.guard(agent.model.stream(messages, schema, name=call_type))
    it = gen.__aiter__()
    nxt: asyncio.Future[Any] | None = None
    usage = Usage()
    try:
        try:
            while True:
                timed = streaming and bool(batcher.parts) and batcher.ms is not None
                if nxt is not None or timed:
                    # a delta is buffered: wait for the next one at most until the batch is due
                    if nxt is None:
                        nxt = asyncio.ensure_future(it.__anext__())
                    done, _ = await asyncio.wait({nxt}, timeout=batcher.remaining() if timed else None)
                    if not done:
                        await chunks(batcher.flush())
                        continue
                    fut, nxt = nxt, None
                    try:
                        item = fut.result()
                    except StopAsyncIteration:
                        break
                else:
                    try:
                        item = await it.__anext__()
                    except StopAsyncIteration:
                        break
                if settle is not None and (waiting := settle()) is not None:
                    await waiting
                if type(item) is str and think.state == 2:  # content after the <think> check: the common case
                    await content(item)
                elif isinstance(item, str):
                    for is_reasoning, part in think.feed(item):
                        await (think_text(part) if is_reasoning else content(part))
                elif isinstance(item, Usage):
                    usage.add(item)
                elif isinstance(item, ToolCallDelta):
                    await tool_delta(item)
                elif isinstance(item, ReasoningDelta):
                    await think_text(item.text)
                elif isinstance(item, RefusalDelta):
                    refusal.append(item.text)
                elif isinstance(item, Finish):
                    finish = item
            if settle is not None and (waiting := settle()) is not None:
                await waiting
            for is_reasoning, part in think.flush():
                await (think_text(part) if is_reasoning else content(part))
            if finish is not None or refusal:
                err = finish_error(finish or Finish("refusal", "refusal"), text="".join(text),
                                   refusal="".join(refusal))
                if isinstance(err, TruncatedOutputError):
                    err.partial = out.partial_json() if text else None
                if err is not None:
                    raise err
            value: Any = None
            if prose and not calls:
                if content_prefix:
                    _locate(prose[0], content_prefix)
                raise prose[0]
            if not prose and (out.fed or not calls):
                try:
                    value, evs = out.close()
                except (SchemaError, StreamError) as exc:
                    if content_prefix:
                        _locate(exc, content_prefix)
                    raise
                ref = PartialRef(out.partial)
                await handle([_prefixed(ev, content_prefix) for ev in evs] if content_prefix else evs)
            for call in sorted(calls.values(), key=lambda c: c.index):
                if call.complete:
                    continue
                try:
                    evs = [] if call.out.fed else call.out.feed("{}")
                    call.value, closing = call.out.close()
                    evs = [_prefixed(ev, call.prefix) for ev in [*evs, *closing]]
                except (SchemaError, StreamError) as exc:
                    _locate(exc, call.prefix)
                    raise
                await handle(evs)
                if not call.complete:
                    call.complete = True
                    if on_tool is not None:
                        on_tool(call)
        finally:
            if nxt is not None:
                nxt.cancel()
                with contextlib.suppress(BaseException):
                    await nxt
            await gen.aclose()
            ctx.usage.add(usage if usage.requests else Usage(requests=1))
    except (SchemaError, StreamError) as exc:
        if isinstance(exc, SchemaError):
            await handle(exc.events)
            reported = any(isinstance(e, FieldInvalid) and e.path == exc.path for e in exc.events)
            if exc.path and not reported:
                await fieldev(exc.path, None, exc.errors)
        await chunks(batcher.flush())
        await _stream_error(agent, run, call_type, exc, out)
        raise BadOutput(exc, "".join(text)) from exc
    except ModelError as exc:
        await chunks(batcher.flush())
        await _stream_error(agent, run, call_type, exc, out)
        raise
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        await _stream_error(agent, run, call_type, exc, out)
        raise
    await chunks(batcher.flush())
    raw = "".join(text)
    if streaming:
        if hooks_on:
            await hooks.fire("stream_end", ctx, call_type=call_type)
        if sink is not None:
            await sink(StreamEnd(call_type))
    run.call_type = None
    await hooks.fire("llm_response", ctx, call_type=call_type, response=value, text=raw, usage=usage)
    return CallOutcome(value, raw, sorted(calls.values(), key=lambda c: c.index), "".join(reasoning))


async def _stream_error(agent: Agent, run: Run, call_type: str, exc: BaseException, out: _Output) -> None:
    """Report a failed call: ``stream_error`` with the partial value, then ``stream_end``."""
    partial = out.partial_json()
    await agent.hooks.fire("stream_error", run.ctx, error=exc, call_type=call_type, partial=partial)
    if run.sink is not None:
        await run.sink(StreamErrorEvent(call_type, exc, partial))
    if agent.enable_streaming:
        await agent.hooks.fire("stream_end", run.ctx, call_type=call_type)
    if run.sink is not None:
        await run.sink(StreamEnd(call_type))
