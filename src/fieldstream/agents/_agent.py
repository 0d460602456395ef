"""``Agent``: the think -> tools -> result loop, streamed field by field through fieldstream's schema layer.

Each model call streams raw JSON text; a :class:`fieldstream.schema.SchemaStream` turns it into
string deltas with their paths (``chunk``), completed and validated values (``field``), and fails fast
on the first invalid field, which is reported through ``stream_error`` at that moment and retried with
the errors shown to the model (``max_output_retries``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from pydantic import BaseModel, Field, create_model
from pydantic_core import to_jsonable_python

from .._errors import ModelError, OutputValidationError, StreamError
from .._events import StringDelta
from .._path import Path, to_dotted
from ..schema import FieldDone, FieldInvalid, SchemaError, SchemaStream
from ._hooks import Hook, HookManager
from ._models import Message, Model, resolve_model
from ._tools import Tool
from .base.context import AgentContext, Usage

__all__ = ["Agent", "AgentEvent"]

log = logging.getLogger("fieldstream.agents")


@dataclass(frozen=True)
class AgentEvent:
    """One event of :meth:`Agent.stream` (the same types and data as the SSE frames).

    ``type``: ``stream_start``, ``chunk``, ``field``, ``stream_end``, ``stream_error`` or ``result``;
    ``data``: JSON-ready dict; ``result``: the typed result (``result`` events only).
    """

    type: str
    data: dict[str, Any]
    result: Any = None


_THINK_PROMPT = ("Think about the next step: reason, list the tool calls you need now, and set "
                 "is_complete when you can answer.")


class _Text(BaseModel):
    content: str = Field(description="The answer")


class _ToolCall(BaseModel):
    name: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class _BadOutput(Exception):
    def __init__(self, error: SchemaError | StreamError, text: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.text = text


def jsonable(value: Any) -> Any:
    """JSON-ready form of a result or field value (models dumped in JSON mode)."""
    return to_jsonable_python(value, fallback=repr)


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


Sink = Callable[[AgentEvent], Awaitable[None]]


@dataclass
class _Run:
    ctx: AgentContext
    sink: Sink | None
    messages: list[Message] = field(default_factory=list)


class Agent:
    """An agent that thinks, calls tools and returns a typed result, streaming every field as it comes.

    Args (beyond the agents SDK's): ``model`` (a :class:`Model`, or ``"offline"``, ``"openai:NAME"``,
    ``"ollama:NAME"``; default ``FIELDSTREAM_MODEL``, else offline), ``max_output_retries`` (re-asks
    after invalid output), ``stream_batch_ms`` / ``stream_batch_chars`` (coalesce fast deltas of one
    path before hooks and SSE see them; order and text are preserved).
    """

    def __init__(self, name: str, description: str | None = None, instructions: str | None = None,
                 tools: list[Tool | Callable[..., Any]] | None = None,
                 input_schema: type[BaseModel] | None = None, output_schema: type[BaseModel] | None = None,
                 hooks: list[Hook] | None = None, max_iterations: int = 25,
                 model: Model | str | None = None, enable_streaming: bool = False, *,
                 max_output_retries: int = 2, stream_batch_ms: float | None = None,
                 stream_batch_chars: int | None = None) -> None:
        self.name = name
        self.description = description
        self.instructions = instructions
        self.tools: dict[str, Tool] = {}
        for t in tools or []:
            tt = t if isinstance(t, Tool) else Tool(t)
            self.tools[tt.name] = tt
        self.input_schema = input_schema
        self.output_schema = output_schema
        self.hooks = HookManager(hooks)
        self.max_iterations = max_iterations
        self._model_spec = model
        self._model: Model | None = None
        self.enable_streaming = enable_streaming
        self.max_output_retries = max_output_retries
        self.stream_batch_ms = stream_batch_ms
        self.stream_batch_chars = stream_batch_chars
        out: Any = output_schema if output_schema is not None else str
        self._think_type: type[BaseModel] = create_model(
            "AgentThought",
            reasoning=(str, Field(description="Your reasoning about the next step")),
            tool_calls=(list[_ToolCall], Field(default_factory=list, description="Tools to call now")),
            is_complete=(bool, Field(default=False, description="True when no more tools are needed")),
            final_result=(Optional[out], Field(default=None, description="The answer, if complete")),  # noqa: UP045
        )
        self._result_type: type[BaseModel] = output_schema if output_schema is not None else _Text

    # ------------------------------------------------------------------ public API

    @property
    def model(self) -> Model:
        """The resolved model (resolved on first use)."""
        if self._model is None:
            self._model = resolve_model(self._model_spec)
        return self._model

    def add_hook(self, h: Hook | Callable[..., Any], event: str | None = None) -> None:
        """Register a hook after construction (``@hook``-decorated, or a function plus its event)."""
        self.hooks.add(h, event)

    def add_tool(self, t: Tool | Callable[..., Any]) -> None:
        """Register a tool after construction."""
        tt = t if isinstance(t, Tool) else Tool(t)
        self.tools[tt.name] = tt

    async def process(self, input: Any) -> Any:
        """Run the agent on ``input``; return the ``output_schema`` instance (or a string)."""
        return await self._run(input, None)

    async def stream(self, input: Any) -> AsyncIterator[AgentEvent]:
        """Run the agent and yield its stream events, then one ``result`` event.

        Exceptions of the run are raised after the events that preceded them. Closing the iterator
        early (``break``, ``aclose()``, cancellation) cancels the run and waits for its cleanup.
        """
        queue: asyncio.Queue[AgentEvent | None] = asyncio.Queue()

        async def sink(ev: AgentEvent) -> None:
            queue.put_nowait(ev)

        task = asyncio.create_task(self._run(input, sink))
        task.add_done_callback(lambda _t: queue.put_nowait(None))
        try:
            while True:
                ev = await queue.get()
                if ev is None:
                    break
                yield ev
            result = await task
            yield AgentEvent("result", {"result": jsonable(result)}, result)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def think_schema(self) -> dict[str, Any]:
        """The JSON schema of the think call: tool calls are a union of one variant per tool."""
        schema = self._think_type.model_json_schema()
        defs = schema.setdefault("$defs", {})
        variants = []
        for t in self.tools.values():
            params = t.json_schema()
            defs.update(params.pop("$defs", {}))
            variants.append({"type": "object", "title": f"call_{t.name}",
                             "properties": {"name": {"const": t.name}, "parameters": params},
                             "required": ["name", "parameters"], "additionalProperties": False})
        props: dict[str, Any] = schema["properties"]
        props["tool_calls"]["items"] = (
            {"anyOf": variants} if variants else {"not": {}})  # type: ignore[dict-item]
        if not variants:
            schema["properties"]["tool_calls"]["maxItems"] = 0
        defs.pop("_ToolCall", None)
        if not defs:
            schema.pop("$defs")
        schema["required"] = list(schema["properties"])
        return schema

    def result_schema(self) -> dict[str, Any]:
        """The JSON schema of the final_result call (the output schema itself)."""
        return self._result_type.model_json_schema()

    # ------------------------------------------------------------------ the loop

    async def _run(self, input: Any, sink: Sink | None) -> Any:
        if self.input_schema is not None and not isinstance(input, self.input_schema):
            input = self.input_schema.model_validate(input)
        ctx = AgentContext(agent_name=self.name, input=input)
        run = _Run(ctx, sink)
        await self.hooks.fire("agent_start", ctx, input=input)
        try:
            result = await self._loop(run)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self.hooks.fire("agent_error", ctx, error=exc)
            raise
        await self.hooks.fire("agent_end", ctx, result=result)
        return result

    def _system_prompt(self) -> str:
        parts = [f"You are {self.name}." + (f" {self.description}" if self.description else "")]
        if self.instructions:
            parts.append(self.instructions)
        if self.tools:
            parts.append("Tools you can call (put them in tool_calls with their parameters):")
            parts.extend(f"- {t.name}: {t.description}" for t in self.tools.values())
        parts.append("Always answer with one JSON object that matches the given JSON schema.")
        return "\n".join(parts)

    async def _loop(self, run: _Run) -> Any:
        ctx = run.ctx
        inp = ctx.input
        text = inp.model_dump_json() if isinstance(inp, BaseModel) else (
            inp if isinstance(inp, str) else json.dumps(jsonable(inp)))
        messages: list[Message] = [{"role": "system", "content": self._system_prompt()},
                                   {"role": "user", "content": text}]
        run.messages = messages
        think_schema = self.think_schema()
        for i in range(1, self.max_iterations + 1):
            ctx.iteration = i
            await self.hooks.fire("loop_start", ctx, iteration=i)
            step = [*messages, {"role": "user", "content": _THINK_PROMPT}]
            thought: Any
            thought, raw = await self._call(run, "think", step, self._think_type, think_schema)
            await self.hooks.fire("think_end", ctx, thought=thought)
            record: dict[str, Any] = {"iteration": i, "thought": jsonable(thought), "tool_results": []}
            ctx.execution_history.append(record)
            messages.append({"role": "assistant", "content": raw})
            calls: list[_ToolCall] = thought.tool_calls
            if calls:
                results = await asyncio.gather(*(self._run_tool(run, c, n) for n, c in enumerate(calls)))
                record["tool_results"] = list(results)
                messages.append({"role": "user", "content": "Tool results:\n" + json.dumps(results)})
            await self.hooks.fire("loop_end", ctx, iteration=i, thought=thought)
            if not calls or thought.is_complete:
                final = thought.final_result
                if final is not None and not calls:
                    return final
                break
        else:
            log.warning("agent %r reached max_iterations=%d; asking for the result", self.name,
                        self.max_iterations)
        step = [*messages, {"role": "user", "content": "Now write the final result."}]
        value, _ = await self._call(run, "final_result", step, self._result_type, self.result_schema())
        return value.content if self._result_type is _Text else value

    async def _run_tool(self, run: _Run, call: _ToolCall, index: int) -> dict[str, Any]:
        ctx = run.ctx
        kw = {"tool_name": call.name, "parameters": call.parameters, "call_index": index}
        await self.hooks.fire("tool_call", ctx, **kw)
        t = self.tools.get(call.name)
        try:
            if t is None:
                raise LookupError(f"unknown tool {call.name!r}; available: {', '.join(self.tools) or 'none'}")
            result = await t.run(call.parameters)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self.hooks.fire("tool_error", ctx, error=exc, **kw)
            return {"tool": call.name, "parameters": call.parameters, "error": f"{type(exc).__name__}: {exc}"}
        await self.hooks.fire("tool_result", ctx, result=result, **kw)
        return {"tool": call.name, "parameters": call.parameters, "result": jsonable(result)}

    async def _call(self, run: _Run, call_type: str, messages: list[Message], tp: type[BaseModel],
                    schema: dict[str, Any]) -> tuple[Any, str]:
        """One model call with bounded retries on invalid output; returns (validated value, raw text)."""
        msgs = list(messages)
        for attempt in range(self.max_output_retries + 1):
            try:
                return await self._stream_once(run, call_type, msgs, tp, schema, attempt)
            except _BadOutput as bad:
                err = bad.error
                if isinstance(err, SchemaError):
                    errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in err.errors]
                    detail = json.dumps(jsonable(errors))
                else:
                    errors = [{"loc": list(err.path), "msg": err.msg, "type": err.kind.value}]
                    detail = str(err)
                if attempt >= self.max_output_retries:
                    raise OutputValidationError(
                        f"{call_type} output still invalid after {attempt + 1} attempt(s): {err}",
                        call_type=call_type, errors=errors, text=bad.text) from err
                log.info("retrying %s call after invalid output: %s", call_type, err)
                msgs = [*msgs, {"role": "assistant", "content": bad.text},
                        {"role": "user", "content": "Your answer was invalid and was rejected: "
                         f"{detail}. Answer again with one complete JSON object that matches the schema."}]
        raise AssertionError("unreachable")

    async def _emit(self, run: _Run, type_: str, data: dict[str, Any]) -> None:
        if run.sink is not None:
            await run.sink(AgentEvent(type_, data))

    async def _stream_once(self, run: _Run, call_type: str, messages: list[Message], tp: type[BaseModel],
                           schema: dict[str, Any], attempt: int) -> tuple[Any, str]:
        ctx = run.ctx
        hooks_on = self.enable_streaming  # streaming hooks; agent.stream() sees the events regardless
        streaming = hooks_on or run.sink is not None
        hooks = self.hooks
        await hooks.fire("llm_call", ctx, call_type=call_type, messages=messages, attempt=attempt)
        if streaming:
            if hooks_on:
                await hooks.fire("stream_start", ctx, call_type=call_type)
            await self._emit(run, "stream_start", {"call_type": call_type})
        ss = SchemaStream(tp)
        text: list[str] = []
        batcher = _Batcher(self.stream_batch_ms, self.stream_batch_chars)

        async def chunks(pairs: list[tuple[Path, str]]) -> None:
            for path, delta in pairs:
                dotted = to_dotted(path)
                chunk_data = {"delta": delta, "json_path": dotted, "call_type": call_type, "path": path,
                              "iteration": ctx.iteration, "attempt": attempt}
                if hooks_on:
                    await hooks.fire("stream_chunk", ctx, chunk_data=chunk_data, call_type=call_type)
                await self._emit(run, "chunk", {"call_type": call_type, "delta": delta, "json_path": dotted})

        async def fieldev(path: Path, value: Any, errors: list[dict[str, Any]] | None) -> None:
            await chunks(batcher.flush())
            if not path:
                return
            data = {"call_type": call_type, "json_path": to_dotted(path),
                    "value": jsonable(value), "valid": errors is None,
                    "errors": None if errors is None else jsonable(errors)}
            if hooks_on:
                await hooks.fire("stream_field", ctx, field_data=data, call_type=call_type)
            await self._emit(run, "field", data)

        async def handle(evs: list[Any]) -> None:
            if not streaming:
                return
            for ev in evs:
                if type(ev) is StringDelta:
                    pairs = batcher.add(ev.path, ev.delta)
                    if pairs:
                        await chunks(pairs)
                elif type(ev) is FieldDone:
                    await fieldev(ev.path, ev.value, None)
                elif type(ev) is FieldInvalid:
                    await fieldev(ev.path, None, ev.errors)

        gen = self.model.stream(messages, schema, name=call_type)
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
                    await handle(ss.feed(item))
                ss.close()  # the root is an object: its events all came from feed()
                value = ss.value
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
                reported = any(type(e) is FieldInvalid and e.path == exc.path for e in exc.events)
                if exc.path and not reported:
                    await fieldev(exc.path, None, exc.errors)
            await chunks(batcher.flush())
            await self._stream_error(run, call_type, exc, ss)
            raise _BadOutput(exc, "".join(text)) from exc
        except ModelError as exc:
            await chunks(batcher.flush())
            await self._stream_error(run, call_type, exc, ss)
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._stream_error(run, call_type, exc, ss)
            raise
        await chunks(batcher.flush())
        raw = "".join(text)
        if streaming:
            if hooks_on:
                await hooks.fire("stream_end", ctx, call_type=call_type)
            await self._emit(run, "stream_end", {"call_type": call_type})
        await hooks.fire("llm_response", ctx, call_type=call_type, response=value, text=raw, usage=usage)
        return value, raw

    async def _stream_error(self, run: _Run, call_type: str, exc: BaseException,
                            ss: SchemaStream[Any]) -> None:
        """Report a failed call: ``stream_error`` with the partial value, then ``stream_end``."""
        try:
            partial = jsonable(ss.partial_dict)
        except Exception:
            partial = None
        await self.hooks.fire("stream_error", run.ctx, error=exc, call_type=call_type, partial=partial)
        await self._emit(run, "stream_error", {"call_type": call_type, "message": str(exc),
                                               "type": type(exc).__name__, "partial": partial})
        if self.enable_streaming:
            await self.hooks.fire("stream_end", run.ctx, call_type=call_type)
        await self._emit(run, "stream_end", {"call_type": call_type})
