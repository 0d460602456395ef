"""The ``@hook`` decorator and hook dispatch.

A hook is a plain or async function tagged with the event it handles. Hooks of one event run in
registration order and are awaited one after the other.

Where hooks run: an ``async def`` hook runs on the event loop (it must not block). A plain (sync)
hook runs in a worker thread (``asyncio.to_thread``, which copies the context) while the run
awaits it, so a hook that blocks (``time.sleep``, a database call, ``requests``) delays only its
own run, never the other runs on the loop. The run is paused meanwhile, so the hook sees a stable
``context`` and ``partial``; but it is not on the loop's thread: to touch asyncio objects (a
queue, a future) write an ``async def`` hook. Cost: about 80 microseconds per sync hook call
(a thread hand-off, measured); make a ``stream_chunk`` hook that must be cheaper ``async def``.

A hook that raises never stops the run: the exception is logged and reported to the
``stream_error`` hooks (for streaming events) or the ``agent_error`` hooks (for all others), with
``hook_event=`` telling which event failed.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from .._errors import HookError

__all__ = ["HOOK_EVENTS", "Hook", "HookError", "HookManager", "hook"]

log = logging.getLogger("fieldstream.agents")

HOOK_EVENTS = frozenset({
    "agent_start", "agent_end", "agent_error",
    "loop_start", "loop_end",
    "llm_call", "llm_response", "think_end",
    "tool_call", "tool_result", "tool_error",
    "stream_start", "stream_chunk", "stream_field", "stream_end", "stream_error",
})
STREAM_EVENTS = frozenset({"stream_start", "stream_chunk", "stream_field", "stream_end"})

F = TypeVar("F", bound=Callable[..., Any])


class Hook:
    """A function bound to one hook event (what ``@hook("event")`` returns; still callable)."""

    def __init__(self, event: str, func: Callable[..., Any]) -> None:
        if event not in HOOK_EVENTS:
            raise ValueError(f"unknown hook event {event!r}; known: {', '.join(sorted(HOOK_EVENTS))}")
        self.event = event
        self.func = func
        self.__name__ = getattr(func, "__name__", "hook")
        self.__doc__ = func.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Hook({self.event!r}, {self.__name__})"


def hook(event: str) -> Callable[[Callable[..., Any]], Hook]:
    """Decorator: ``@hook("stream_chunk")`` makes ``func`` a hook for that event."""
    if event not in HOOK_EVENTS:
        raise ValueError(f"unknown hook event {event!r}; known: {', '.join(sorted(HOOK_EVENTS))}")

    def wrap(func: Callable[..., Any]) -> Hook:
        return Hook(event, func)

    return wrap


def _is_async(func: Callable[..., Any]) -> bool:
    """Whether ``func`` is an ``async def`` function (also behind ``functools.partial``/``__call__``)."""
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    # an object whose class defines `async def __call__`
    call = None if inspect.isfunction(func) or inspect.ismethod(func) else vars(type(func)).get("__call__")
    return call is not None and inspect.iscoroutinefunction(call)


class HookManager:
    """Hooks by event, in registration order."""

    def __init__(self, hooks: list[Hook] | None = None) -> None:
        self._hooks: dict[str, list[Callable[..., Any]]] = {}
        for h in hooks or []:
            self.add(h)

    def add(self, h: Hook | Callable[..., Any], event: str | None = None) -> None:
        """Register ``h`` (a :class:`Hook`, or any function together with ``event``)."""
        if isinstance(h, Hook):
            if event is not None and event != h.event:
                raise ValueError(f"hook is for {h.event!r}, not {event!r}")
            self._hooks.setdefault(h.event, []).append(h.func)
            return
        if event is None:
            raise TypeError("add_hook(func) needs @hook(...) or an event name")
        self._hooks.setdefault(Hook(event, h).event, []).append(h)

    def has(self, event: str) -> bool:
        """Whether any hook handles ``event`` (lets the agent skip building payloads)."""
        return bool(self._hooks.get(event))

    async def fire(self, event: str, context: Any, **kwargs: Any) -> None:
        """Run the hooks of ``event``; report (never propagate) their exceptions."""
        for func in self._hooks.get(event, ()):
            try:
                if _is_async(func):
                    out = func(context, **kwargs)
                else:  # a sync hook may block: keep it off the event loop (module docstring)
                    out = await asyncio.to_thread(func, context, **kwargs)
                if inspect.isawaitable(out):
                    await out
            except Exception as exc:  # a broken hook must not break the run
                log.exception("hook %s for %r raised", getattr(func, "__name__", func), event)
                if event in ("stream_error", "agent_error"):
                    continue  # do not recurse
                err = HookError(f"hook {getattr(func, '__name__', func)!r} for {event!r} raised: {exc!r}",
                                event)
                err.__cause__ = exc
                target = "stream_error" if event in STREAM_EVENTS else "agent_error"
                await self.fire(target, context, error=err, hook_event=event,
                                call_type=kwargs.get("call_type"))
