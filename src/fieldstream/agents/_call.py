"""One model call, streamed: raw JSON text in, typed agent events and hook calls out.

Everything that happens between ``llm_call`` and ``llm_response`` lives here: the model stream,
the schema layer (through :class:`_Output`, the only place in the agent layer that touches
:class:`fieldstream.schema.SchemaStream`), the optional batching of fast deltas, the
``stream_*`` hooks and the events handed to :meth:`Agent.stream`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .. import FieldDone, FieldInvalid, SchemaError, StreamError, StringDelta
from .._errors import ModelError
from .._path import Path, to_dotted
from ._events import AgentEvent, Chunk, Field, PartialRef, StreamEnd, StreamStart, jsonable
from ._events import StreamError as StreamErrorEvent
from ._limits import Limits
from .base.context import AgentContext, Usage
from .models import Message

if TYPE_CHECKING:  # pragma: no cover
    from ._agent import Agent

__all__ = ["BadOutput", "Run", "Sink", "stream_call"]

Sink = Callable[[AgentEvent], Awaitable[None]]


@dataclass
class Run:
    """Per-run state shared by the calls of one run."""

    ctx: AgentContext
    sink: Sink | None
    messages: list[Message] = field(default_factory=list)
    call_type: str | None = None  # the call in progress (for error reports)
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

    def __init__(self, tp: type[BaseModel], max_depth: int | None = None) -> None:
        from ..schema import SchemaStream

        self._ss = SchemaStream(tp) if max_depth is None else SchemaStream(tp, max_depth=max_depth)

    def feed(self, text: str) -> list[Any]:
        return list(self._ss.feed(text))

    def close(self) -> tuple[Any, list[Any]]:
        value = self._ss.close()
        return value, list(self._ss.close_events)

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


async def stream_call(agent: Agent, run: Run, call_type: str, messages: list[Message], tp: type[BaseModel],
                      schema: dict[str, Any], attempt: int) -> tuple[Any, str]:
    """Stream one model call; return ``(validated value, raw text)`` or raise :class:`BadOutput`."""
    ctx = run.ctx
    hooks = agent.hooks
    hooks_on = agent.enable_streaming  # streaming hooks; agent.stream() sees the events regardless
    sink = run.sink
    streaming = hooks_on or sink is not None
    chunk_hooks = hooks_on and hooks.has("stream_chunk")
    field_hooks = hooks_on and hooks.has("stream_field")
    run.call_type = call_type
    await hooks.fire("llm_call", ctx, call_type=call_type, messages=messages, attempt=attempt)
    if streaming:
        if hooks_on:
            await hooks.fire("stream_start", ctx, call_type=call_type)
        if sink is not None:
            await sink(StreamStart(call_type))
    out = _Output(tp, run.limits.max_depth)
    text: list[str] = []
    batcher = _Batcher(agent.stream_batch_ms, agent.stream_batch_chars)
    ref = PartialRef(out.partial)  # the typed partial of the current model delta, computed on request

    async def chunks(pairs: list[tuple[Path, str]]) -> None:
        for path, delta in pairs:
            if chunk_hooks:
                chunk_data = {"delta": delta, "json_path": to_dotted(path), "call_type": call_type,
                              "path": path, "iteration": ctx.iteration, "attempt": attempt, "partial": ref}
                await hooks.fire("stream_chunk", ctx, chunk_data=chunk_data, call_type=call_type)
            if sink is not None:
                await sink(Chunk(call_type, path, delta, ref))

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

    async def handle(evs: list[Any]) -> None:
        if not streaming:
            return
        for ev in evs:
            if isinstance(ev, StringDelta):
                pairs = batcher.add(ev.path, ev.delta)
                if pairs:
                    await chunks(pairs)
            elif isinstance(ev, FieldDone):
                await fieldev(ev.path, ev.value, None)
            elif isinstance(ev, FieldInvalid):
                await fieldev(ev.path, None, ev.errors)

    gen = run.limits.guard(agent.model.stream(messages, schema, name=call_type))
    it = gen.__aiter__()
    nxt: asyncio.Future[str | Usage] | None = None
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
                if isinstance(item, Usage):
                    usage.add(item)
                    continue
                text.append(item)
                evs = out.feed(item)
                if evs:
                    ref = PartialRef(out.partial)
                    await handle(evs)
            value, evs = out.close()
            ref = PartialRef(out.partial)
            await handle(evs)
        finally:
            if nxt is not None:
                nxt.cancel()
                with contextlib.suppress(BaseException):
                    await nxt
            await gen.aclose()  # type: ignore[attr-defined]
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
    return value, raw


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
