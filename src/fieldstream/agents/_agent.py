"""``Agent``: the think -> tools -> result loop, streamed field by field through fieldstream's schema layer.

Each model call streams raw JSON text; a :class:`fieldstream.schema.SchemaStream` turns it into
string deltas with their paths (``chunk``), completed and validated values (``field``), and fails fast
on the first invalid field, which is reported through ``stream_error`` at that moment and retried with
the errors shown to the model (``max_output_retries``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Optional

from pydantic import BaseModel, Field, create_model

from .. import SchemaError
from .._errors import OutputValidationError
from ._call import BadOutput, Run, Sink, stream_call
from ._events import AgentEvent, Result, jsonable
from ._hooks import Hook, HookManager
from ._limits import DEFAULT_MAX_OUTPUT_CHARS, DEFAULT_MODEL_IDLE_TIMEOUT, DEFAULT_RUN_TIMEOUT, Limits
from ._tools import Tool
from .base.context import AgentContext
from .models import Message, Model, resolve_model

__all__ = ["Agent"]

log = logging.getLogger("fieldstream.agents")

_THINK_PROMPT = ("Think about the next step: reason, list the tool calls you need now, and set "
                 "is_complete when you can answer.")


class _Text(BaseModel):
    content: str = Field(description="The answer")


class _ToolCall(BaseModel):
    name: str
    parameters: dict[str, Any] = Field(default_factory=dict)


@functools.lru_cache(maxsize=256)
def _think_type(output_schema: type[BaseModel] | None) -> type[BaseModel]:
    """The think call's model for ``output_schema``, one class per output schema: the schema layer
    caches its trees per type, so a new class per Agent (a server builds one per request) grew
    memory by a few kilobytes per request, without bound."""
    out: Any = output_schema if output_schema is not None else str
    return create_model(
        "AgentThought",
        reasoning=(str, Field(description="Your reasoning about the next step")),
        tool_calls=(list[_ToolCall], Field(default_factory=list, description="Tools to call now")),
        is_complete=(bool, Field(default=False, description="True when no more tools are needed")),
        final_result=(Optional[out], Field(default=None, description="The answer, if complete")),  # noqa: UP045
    )


class Agent:
    """An agent that thinks, calls tools and returns a typed result, streaming every field as it comes.

    Args (beyond the agents SDK's): ``model`` (a :class:`Model`, or ``"offline"``, ``"openai:NAME"``,
    ``"ollama:NAME"``; default ``FIELDSTREAM_MODEL``, else offline), ``max_output_retries`` (re-asks
    after invalid output), ``stream_batch_ms`` / ``stream_batch_chars`` (coalesce fast deltas of one
    path before hooks and SSE see them; order and text are preserved), and the limits of a run
    (:mod:`fieldstream.agents._limits`; ``None`` turns one off): ``run_timeout`` (seconds, default
    600), ``model_idle_timeout`` (seconds of model silence, default 90), ``max_output_chars`` (model
    text per run, default 1 000 000).
    """

    def __init__(self, name: str, description: str | None = None, instructions: str | None = None,
                 tools: list[Tool | Callable[..., Any]] | None = None,
                 input_schema: type[BaseModel] | None = None, output_schema: type[BaseModel] | None = None,
                 hooks: list[Hook] | None = None, max_iterations: int = 25,
                 model: Model | str | None = None, enable_streaming: bool = False, *,
                 max_output_retries: int = 2, stream_batch_ms: float | None = None,
                 stream_batch_chars: int | None = None,
                 max_output_chars: int | None = DEFAULT_MAX_OUTPUT_CHARS,
                 model_idle_timeout: float | None = DEFAULT_MODEL_IDLE_TIMEOUT,
                 run_timeout: float | None = DEFAULT_RUN_TIMEOUT) -> None:
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
        self.max_output_chars = max_output_chars
        self.model_idle_timeout = model_idle_timeout
        self.run_timeout = run_timeout
        Limits.of(self)  # validate them now
        self._think_type: type[BaseModel] = _think_type(output_schema)
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
        result, _ = await self._run(input, None)
        return result

    async def stream(self, input: Any) -> AsyncIterator[AgentEvent]:
        """Run the agent and yield its typed events (:mod:`fieldstream.agents` ``StreamStart``,
        ``Chunk``, ``Field``, ``StreamEnd``, ``StreamError``), then one :class:`Result`.

        Events are handed over one at a time: the run waits until the consumer asks for the next
        one, so a slow consumer holds at most one event (and ``Chunk.partial()`` called while
        handling an event sees that event's state). Exceptions of the run are raised after the
        events that preceded them. Closing the iterator early (``break``, ``aclose()``,
        cancellation) cancels the run and waits for its cleanup.
        """
        # bounded: one event (the sink waits for the consumer before it puts the next) plus the end
        # marker; a bug that put more would raise QueueFull instead of buffering the model's answer
        queue: asyncio.Queue[AgentEvent | None] = asyncio.Queue(maxsize=2)

        async def sink(ev: AgentEvent) -> None:
            queue.put_nowait(ev)
            await queue.join()  # rendezvous: resume when the consumer asks for the next event

        task = asyncio.create_task(self._run(input, sink))
        task.add_done_callback(lambda _t: queue.put_nowait(None))
        try:
            while True:
                ev = await queue.get()
                if ev is None:
                    break
                try:
                    yield ev
                finally:
                    queue.task_done()
            result, call_type = await task
            yield Result(call_type, result)
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

    async def _run(self, input: Any, sink: Sink | None) -> tuple[Any, str]:
        if self.input_schema is not None and not isinstance(input, self.input_schema):
            input = self.input_schema.model_validate(input)
        ctx = AgentContext(agent_name=self.name, input=input)
        run = Run(ctx, sink, limits=Limits.of(self))
        await self.hooks.fire("agent_start", ctx, input=input)
        try:
            result, call_type = await run.limits.deadline(self._loop(run))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self.hooks.fire("agent_error", ctx, error=exc)
            raise
        await self.hooks.fire("agent_end", ctx, result=result)
        return result, call_type

    def _system_prompt(self) -> str:
        parts = [f"You are {self.name}." + (f" {self.description}" if self.description else "")]
        if self.instructions:
            parts.append(self.instructions)
        if self.tools:
            parts.append("Tools you can call (put them in tool_calls with their parameters):")
            parts.extend(f"- {t.name}: {t.description}" for t in self.tools.values())
        parts.append("Always answer with one JSON object that matches the given JSON schema.")
        return "\n".join(parts)

    async def _loop(self, run: Run) -> tuple[Any, str]:
        """The think -> tools loop; returns the result and the call type that produced it."""
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
                    return final, "think"
                break
        else:
            log.warning("agent %r reached max_iterations=%d; asking for the result", self.name,
                        self.max_iterations)
        step = [*messages, {"role": "user", "content": "Now write the final result."}]
        value, _ = await self._call(run, "final_result", step, self._result_type, self.result_schema())
        return (value.content if self._result_type is _Text else value), "final_result"

    async def _run_tool(self, run: Run, call: _ToolCall, index: int) -> dict[str, Any]:
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

    async def _call(self, run: Run, call_type: str, messages: list[Message], tp: type[BaseModel],
                    schema: dict[str, Any]) -> tuple[Any, str]:
        """One model call with bounded retries on invalid output; returns (validated value, raw text)."""
        msgs = list(messages)
        for attempt in range(self.max_output_retries + 1):
            try:
                return await stream_call(self, run, call_type, msgs, tp, schema, attempt)
            except BadOutput as bad:
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
