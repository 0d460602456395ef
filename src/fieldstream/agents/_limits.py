"""The limits of one agent run: how long it may take, how long the model may stay silent, how much
text it may send. Everything that bounds a run's time or size is enforced here.

* ``run_timeout`` (seconds, default 600): the whole think -> tools -> result loop, including tools,
  hooks and the time a slow reader makes the run wait; past it the run is cancelled and ends with
  :class:`RunTimeoutError`.
* ``model_idle_timeout`` (seconds, default 90): the longest silence of a model stream between two
  items (before the first one too). A model that trickles a byte every two minutes is stopped with
  :class:`ModelStalledError`; its request is closed at once. Long enough for a reasoning model's
  first token, short enough that a stalled connection does not hold a worker.
* ``max_output_chars`` (default 1 000 000): the model's text over all calls of the run; past it the
  call's stream is closed and the run ends with :class:`OutputTooLargeError`. It bounds what a
  never-closing list or string can make the server parse, frame and send.

* ``max_depth`` (128, not an Agent argument): the nesting depth of the model's JSON. Deeper text
  fails the call with the parser's own ``depth_limit`` error (invalid output: retried, then
  :class:`OutputValidationError`), as the parser does at its default of 1024. The agent path needs
  the lower bound: Pydantic's JSON validation stops at 200 levels and its serializer and ``json``
  at the interpreter's recursion limit, each with a different error; 128 keeps every depth that
  the parser accepts valid all the way to the SSE frame.

``None`` turns a limit off. Limits never trigger a retry (the same request would hit them again).
The cost: one timer per model item (``asyncio.timeout`` on Python 3.11+, ``wait_for`` before).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from .._errors import ModelStalledError, OutputTooLargeError, RunTimeoutError

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_OUTPUT_CHARS", "DEFAULT_MODEL_IDLE_TIMEOUT",
           "DEFAULT_RUN_TIMEOUT", "Limits"]

DEFAULT_MAX_OUTPUT_CHARS = 1_000_000  #: model characters per run
DEFAULT_MODEL_IDLE_TIMEOUT = 90.0  #: seconds a model stream may stay silent
DEFAULT_RUN_TIMEOUT = 600.0  #: seconds per run
DEFAULT_MAX_DEPTH = 128  #: nesting depth of the model's JSON in the agent path

T = TypeVar("T")


def _check(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{name} must be > 0 or None, not {value!r}")


@dataclass
class Limits:
    """The limits of one run and what it used so far (``chars``: model text received)."""

    max_output_chars: int | None = None
    model_idle_timeout: float | None = None
    run_timeout: float | None = None
    max_depth: int | None = DEFAULT_MAX_DEPTH
    chars: int = 0

    def __post_init__(self) -> None:
        _check("max_output_chars", self.max_output_chars)
        _check("model_idle_timeout", self.model_idle_timeout)
        _check("run_timeout", self.run_timeout)
        _check("max_depth", self.max_depth)

    async def guard(self, stream: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        """``stream``'s items, stopped by ``model_idle_timeout`` and ``max_output_chars``.

        On a limit, or when this generator is closed, ``stream`` is closed (so is its HTTP request).
        """
        it = stream.__aiter__()
        idle = self.model_idle_timeout
        cap = self.max_output_chars
        try:
            while True:
                try:
                    if idle is None:
                        item = await it.__anext__()
                    elif sys.version_info >= (3, 11):
                        async with asyncio.timeout(idle):
                            item = await it.__anext__()
                    else:  # pragma: no cover - Python 3.10
                        item = await asyncio.wait_for(it.__anext__(), idle)
                except StopAsyncIteration:
                    return
                except asyncio.TimeoutError:
                    raise ModelStalledError(idle or 0.0) from None
                if cap is not None:
                    # answer text, and the arguments of native tool calls (typed stream items)
                    text = item if isinstance(item, str) else getattr(item, "arguments_delta", None)
                    if isinstance(text, str):
                        self.chars += len(text)
                        if self.chars > cap:
                            raise OutputTooLargeError(cap)
                yield item
        finally:
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                await aclose()

    async def deadline(self, work: Awaitable[T]) -> T:
        """Await ``work`` (the run's loop); past ``run_timeout``, cancel it: :class:`RunTimeoutError`."""
        limit = self.run_timeout
        if limit is None:
            return await work
        if sys.version_info >= (3, 11):
            scope = asyncio.timeout(limit)
            try:
                async with scope:
                    return await work
            except TimeoutError:
                if scope.expired():  # ours; not a TimeoutError that the work itself raised
                    raise RunTimeoutError(limit) from None
                raise
        loop = asyncio.get_running_loop()  # pragma: no cover - Python 3.10
        end = loop.time() + limit
        try:
            return await asyncio.wait_for(work, limit)
        except asyncio.TimeoutError:
            if loop.time() >= end:
                raise RunTimeoutError(limit) from None
            raise

    @classmethod
    def of(cls, agent: Any) -> Limits:
        """The limits set on ``agent`` (``max_output_chars``, ``model_idle_timeout``, ``run_timeout``)."""
        return cls(max_output_chars=agent.max_output_chars, model_idle_timeout=agent.model_idle_timeout,
                   run_timeout=agent.run_timeout, max_depth=getattr(agent, "max_depth", DEFAULT_MAX_DEPTH))
