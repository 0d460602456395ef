"""``Agent``: the think -> tools -> result loop, streamed field by field through fieldstream's schema layer.

Each model call streams raw JSON text; a :class:`fieldstream.schema.SchemaStream` turns it into
string deltas with their paths (``chunk``), completed and validated values (``field``), and fails fast
on the first invalid field, which is reported through ``stream_error`` at that moment and retried with
the errors shown to the model (``max_output_retries``).

Two ways to call tools:

* native (models with ``native_tools = True`` and typed stream items, e.g. ``OpenAIChatModel``):
  the tools go to the provider as its ``tools``; each call's arguments stream under
  ``tool_calls[i].arguments`` and the tool starts as soon as they are complete and valid, while the
  model is still writing; the loop ends when the model answers with content (the result, streamed
  under ``final_result`` of the ``think`` call, as in the emulation); reasoning streams at
  ``reasoning``;
* emulated (any other model, e.g. the offline one): each step is a ``think`` JSON answer whose
  ``tool_calls`` field lists the calls, then a ``final_result`` call.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Optional

from pydantic import BaseModel, Field, create_model

from .. import SchemaError
from .._errors import OutputValidationError
from ._call import BadOutput, CallOutcome, NativeCall, Run, Sink, stream_call
from ._continue import can_continue, valid_prefix
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
    path before hooks and SSE see them; order and text are preserved), ``lenient`` (accept JSON
    wrapped in prose or a ```` ```json ```` fence; a leading ``<think>`` block is always read as
    reasoning), ``native_tools`` (``None``: use the provider's tool calling when the model supports
    it; ``False``: always emulate tool calls in the think JSON), ``retry_mode``: ``"full"``
    (default: a rejected answer is regenerated from scratch) or ``"continue"`` (the model is asked for
    the rest of the answer after its valid prefix; see ``docs/agents.md``, "Continuation retries"),
    and the limits of a run (:mod:`fieldstream.agents._limits`; ``None`` turns one off):
    ``run_timeout`` (seconds, default 600), ``model_idle_timeout`` (seconds of model silence, default
    90), ``max_output_chars`` (model text per run, default 1 000 000).
    """

    def __init__(self, name: str, description: str | None = None, instructions: str | None = None,
                 tools: list[Tool | Callable[..., Any]] | None = None,
                 input_schema: type[BaseModel] | None = None, output_schema: type[BaseModel] | None = None,
                 hooks: list[Hook] | None = None, max_iterations: int = 25,
                 model: Model | str | None = None, enable_streaming: bool = False, *,
                 max_output_retries: int = 2, stream_batch_ms: float | None = None,
                 stream_batch_chars: int | None = None, lenient: bool = False,
                 native_tools: bool | None = None, retry_mode: str = "full",
                 max_output_chars: int | None = DEFAULT_MAX_OUTPUT_CHARS,
                 model_idle_timeout: float | None = DEFAULT_MODEL_IDLE_TIMEOUT,
                 run_timeout: float | None = DEFAULT_RUN_TIMEOUT) -> None:
        if retry_mode not in ("full", "continue"):
            raise ValueError(f"retry_mode must be 'full' or 'continue', not {retry_mode!r}")
        self.retry_mode = retry_mode
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
        self.lenient = lenient
        self.native_tools = native_tools
        self.max_output_chars = max_output_chars
        self.model_idle_timeout = model_idle_timeout
        self.run_timeout = run_timeout
        Limits.of(self)  # validate them now
        self._think_type: type[BaseModel] = _think_type(output_schema)
        self._result_type: type[BaseModel] = output_schema if output_schema is not None else _Text
        self._schemas: dict[str, Any] = {}
        self._result_schema: dict[str, Any] | None = None

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

        The run goes on while the consumer handles an event (it may wait for the model, fire hooks,
        run tools), but feeds no new model output to the schema layer until the consumer has asked
        for the next event: a slow consumer holds at most the events made between two model deltas,
        and ``Chunk.partial()`` called while handling an event sees that event's state (see
        :class:`_Handover`). Exceptions of the run are raised after the
        events that preceded them. Closing the iterator early (``break``, ``aclose()``,
        cancellation) cancels the run and waits for its cleanup.
        """
        hand = _Handover()
        task = asyncio.create_task(self._run(input, hand.put, hand.settle))
        task.add_done_callback(hand.finish)
        try:
            get = hand.get
            while True:
                ev = await get()
                if ev is None:
                    break
                yield ev
            result, call_type = await task
            yield Result(call_type, result)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def think_schema(self) -> dict[str, Any]:
        """The JSON schema of the think call: tool calls are a union of one variant per tool."""
        key = ("think", tuple(self.tools.items()))
        if self._schemas.get("key") != key:  # built once per tool set (pydantic's is not cheap)
            self._schemas = {"key": key, "think": self._build_think_schema()}
        return copy.deepcopy(self._schemas["think"])

    def _build_think_schema(self) -> dict[str, Any]:
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
        if self._result_schema is None:
            self._result_schema = self._result_type.model_json_schema()
        return copy.deepcopy(self._result_schema)

    # ------------------------------------------------------------------ the loop

    async def _run(self, input: Any, sink: Sink | None,
                   settle: Callable[[], Awaitable[None] | None] | None = None) -> tuple[Any, str]:
        if self.input_schema is not None and not isinstance(input, self.input_schema):
            input = self.input_schema.model_validate(input)
        ctx = AgentContext(agent_name=self.name, input=input)
        run = Run(ctx, sink, settle=settle, limits=Limits.of(self))
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

    def uses_native_tools(self) -> bool:
        """Whether tool calls go through the provider's native tool calling (see the module doc)."""
        if not self.tools or self.native_tools is False:
            return False
        model = self.model
        return bool(getattr(model, "native_tools", False)) and hasattr(model, "stream_items")

    async def _loop(self, run: Run) -> tuple[Any, str]:
        """The think -> tools loop; returns the result and the call type that produced it."""
        if self.uses_native_tools():
            return await self._native_loop(run)
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
            outcome = await self._call(run, "think", step, self._think_type, think_schema)
            thought: Any = outcome.value
            raw = outcome.text
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
        value = (await self._call(run, "final_result", step, self._result_type, self.result_schema())).value
        return (value.content if self._result_type is _Text else value), "final_result"

    async def _native_loop(self, run: Run) -> tuple[Any, str]:
        """Native tool calling: each step streams content and/or tool calls; tools start early."""
        ctx = run.ctx
        inp = ctx.input
        text = inp.model_dump_json() if isinstance(inp, BaseModel) else (
            inp if isinstance(inp, str) else json.dumps(jsonable(inp)))
        parts = [f"You are {self.name}." + (f" {self.description}" if self.description else "")]
        if self.instructions:
            parts.append(self.instructions)
        parts.append("Call the tools you need. When you can answer, answer with one JSON object that "
                     "matches the given JSON schema.")
        messages: list[Message] = [{"role": "system", "content": "\n".join(parts)},
                                   {"role": "user", "content": text}]
        run.messages = messages
        schema = self.result_schema()
        for i in range(1, self.max_iterations + 1):
            ctx.iteration = i
            await self.hooks.fire("loop_start", ctx, iteration=i)
            tasks: dict[int, asyncio.Task[dict[str, Any]]] = {}
            outcome = await self._call(run, "think", messages, self._result_type, schema, tasks=tasks)
            calls = outcome.tool_calls
            thought = self._think_type.model_construct(
                reasoning=outcome.reasoning, is_complete=not calls,
                tool_calls=[_ToolCall.model_construct(name=c.name or "", parameters=_arguments(c))
                            for c in calls],
                final_result=None if calls else outcome.value)
            await self.hooks.fire("think_end", ctx, thought=thought)
            record: dict[str, Any] = {"iteration": i, "thought": jsonable(thought), "tool_results": []}
            ctx.execution_history.append(record)
            if not calls:
                await self.hooks.fire("loop_end", ctx, iteration=i, thought=thought)
                value = outcome.value
                return (value.content if self._result_type is _Text else value), "think"
            results = await asyncio.gather(*(tasks[c.index] for c in calls))
            record["tool_results"] = list(results)
            ids = [c.id or f"call_{i}_{c.index}" for c in calls]
            messages.append({"role": "assistant", "content": outcome.text or None,
                             "tool_calls": [{"id": cid, "type": "function",
                                             "function": {"name": c.name, "arguments": c.arguments_text}}
                                            for cid, c in zip(ids, calls, strict=True)]})
            for cid, res in zip(ids, results, strict=True):
                messages.append({"role": "tool", "tool_call_id": cid, "content": json.dumps(res)})
            await self.hooks.fire("loop_end", ctx, iteration=i, thought=thought)
        log.warning("agent %r reached max_iterations=%d; asking for the result", self.name,
                    self.max_iterations)
        step = [*messages, {"role": "user", "content": "Now write the final result."}]
        value = (await self._call(run, "final_result", step, self._result_type, schema)).value
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
                    schema: dict[str, Any],
                    tasks: dict[int, asyncio.Task[dict[str, Any]]] | None = None) -> CallOutcome:
        """One model call with bounded retries on invalid output.

        With ``tasks`` (native tool calling), each tool call is started into ``tasks`` (by call index)
        as soon as its arguments are complete; a failed attempt cancels the tools it started.
        """
        msgs = list(messages)
        prefix = ""  # a continuation retry: the valid prefix the model continues from
        for attempt in range(self.max_output_retries + 1):
            on_tool = None
            if tasks is not None:
                def on_tool(call: NativeCall, tasks: dict[int, asyncio.Task[dict[str, Any]]] = tasks) -> None:
                    tc = _ToolCall.model_construct(name=call.name or "", parameters=_arguments(call))
                    tasks[call.index] = asyncio.create_task(self._run_tool(run, tc, call.index))
            try:
                return await stream_call(self, run, call_type, msgs, tp, schema, attempt,
                                         tools=self.tools if tasks is not None else None, on_tool=on_tool,
                                         content_prefix=("final_result",) if tasks is not None else (),
                                         prefix=prefix)
            except BaseException as exc:
                if tasks:
                    for task in tasks.values():
                        task.cancel()
                    await asyncio.gather(*tasks.values(), return_exceptions=True)
                    tasks.clear()
                if not isinstance(exc, BadOutput):
                    raise
                bad = exc
            err = bad.error
            if isinstance(err, SchemaError) and err.errors:
                errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in err.errors]
                detail = json.dumps(jsonable(errors))
            elif isinstance(err, SchemaError):  # a schema-layer limit (depth_limit): no Pydantic errors
                errors = [{"loc": list(err.path), "msg": str(err).splitlines()[0], "type": err.kind.value}]
                detail = str(err)
            else:
                errors = [{"loc": list(err.path), "msg": err.msg, "type": err.kind.value}]
                detail = str(err)
            if attempt >= self.max_output_retries:
                raise OutputValidationError(
                    f"{call_type} output still invalid after {attempt + 1} attempt(s): {err}",
                    call_type=call_type, errors=errors, text=bad.text) from err
            log.info("retrying %s call after invalid output: %s", call_type, err)
            # A continuation that failed before adding a valid member falls back to a full retry.
            # Native tool calls are never continued (their arguments stream apart from the content).
            keep = valid_prefix(bad.text, err.path) if (
                self.retry_mode == "continue" and tasks is None and can_continue(err)) else None
            if keep is not None and len(keep) > len(prefix):
                prefix = keep
                msgs = [*messages, {"role": "user", "content": _continue_prompt(prefix, detail)}]
                continue
            base = messages if prefix else msgs  # (after a failed continuation: start over)
            prefix = ""
            msgs = [*base, {"role": "assistant", "content": bad.text},
                    {"role": "user", "content": "Your answer was invalid and was rejected: "
                     f"{detail}. Answer again with one complete JSON object that matches the schema."}]
        raise AssertionError("unreachable")


def _continue_prompt(prefix: str, detail: str) -> str:
    """The request for the rest of a rejected answer (``retry_mode="continue"``)."""
    return ("Your answer was rejected after its valid beginning: " + detail + ". Here is that valid "
            "beginning, between the markers:\n<prefix>\n" + prefix + "\n</prefix>\nContinue the JSON "
            "exactly where the beginning stops: write only the rest (it is appended to the beginning as "
            "is, so do not repeat it), and make the whole a JSON object that matches the schema.")


def _arguments(call: NativeCall) -> dict[str, Any]:
    """A native call's validated arguments as a plain dict."""
    value = call.value
    if isinstance(value, BaseModel):
        return value.model_dump()
    return dict(value) if isinstance(value, dict) else {}


class _Handover:
    """The events of a run (its own task) on their way to the consumer of :meth:`Agent.stream`.

    ``put`` (the run's sink) queues an event and wakes the consumer without waiting. ``settle``: the
    run calls it before it feeds new model output to the schema layer and waits there until the
    consumer has taken every queued event and asked for the next one, so the live ``partial()`` of
    the event in hand does not change under the consumer. A consumer that keeps up is woken in the
    same event-loop round in which the run waits for the model: no extra round per event (a
    rendezvous per event, put and join, costs two).
    """

    __slots__ = ("busy", "done", "events", "getter", "waiter")

    def __init__(self) -> None:
        self.events: deque[AgentEvent] = deque()
        self.busy = False  # the consumer holds an event (it has not asked for the next one yet)
        self.done = False  # the run's task ended
        self.getter: asyncio.Future[None] | None = None  # the consumer waits for an event
        self.waiter: asyncio.Future[None] | None = None  # the run waits in settle()

    async def put(self, ev: AgentEvent) -> None:
        self.events.append(ev)
        self._wake_getter()

    def finish(self, _task: object) -> None:
        self.done = True
        self._wake_getter()

    def _wake_getter(self) -> None:
        g = self.getter
        if g is not None:
            self.getter = None
            if not g.done():
                g.set_result(None)

    def settle(self) -> asyncio.Future[None] | None:
        """``None`` when the consumer took every event and asked for the next one, else a future
        the run awaits (set when it has)."""
        if not (self.events or self.busy):
            return None
        w = self.waiter
        if w is None or w.done():
            self.waiter = w = asyncio.get_running_loop().create_future()
        return w

    async def get(self) -> AgentEvent | None:
        """The next event (the consumer is done with the previous one), or ``None`` at the end."""
        self.busy = False
        events = self.events
        while not events:
            w = self.waiter
            if w is not None:
                self.waiter = None
                if not w.done():
                    w.set_result(None)  # the run may feed the model's next output
            if self.done:
                return None
            self.getter = g = asyncio.get_running_loop().create_future()
            await g
        self.busy = True
        return events.popleft()
