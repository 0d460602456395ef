"""Sync hooks run off the event loop (``asyncio.to_thread``): a hook that blocks delays its own run
only. Async hooks stay on the loop. Order of hooks and events is unchanged."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from fieldstream.agents import Agent, OfflineModel, hook


def test_a_blocking_sync_hook_does_not_stall_another_concurrent_run() -> None:
    other_done = threading.Event()
    waited: list[bool] = []

    @hook("stream_chunk")
    def blocking(context: Any, **kwargs: Any) -> None:
        if not waited:  # block (like time.sleep or a slow database call) until the other run ended
            waited.append(other_done.wait(timeout=20))

    slow = Agent(name="Slow", enable_streaming=True, hooks=[blocking], model=OfflineModel(pace=0))
    fast = Agent(name="Fast", model=OfflineModel(pace=0))

    async def main() -> None:
        async def run_fast() -> None:
            await fast.process("hello")
            other_done.set()

        await asyncio.gather(slow.process("hello"), run_fast())

    asyncio.run(main())
    assert waited == [True]  # on the loop, the hook would have blocked the other run for 20 s


def test_sync_hooks_run_in_a_worker_thread_and_async_hooks_on_the_loop_in_order() -> None:
    seen: list[tuple[str, bool]] = []
    loop_thread: list[int] = []

    @hook("stream_start")
    def sync_start(context: Any, call_type: str, **kwargs: Any) -> None:
        seen.append(("sync", threading.get_ident() == loop_thread[0]))

    @hook("stream_start")
    async def async_start(context: Any, call_type: str, **kwargs: Any) -> None:
        seen.append(("async", threading.get_ident() == loop_thread[0]))

    agent = Agent(name="O", enable_streaming=True, hooks=[sync_start, async_start],
                  model=OfflineModel(pace=0))

    async def main() -> None:
        loop_thread.append(threading.get_ident())
        await agent.process("hi")

    asyncio.run(main())
    assert seen and seen[:2] == [("sync", False), ("async", True)]
    assert seen == [("sync", False), ("async", True)] * (len(seen) // 2)


def test_a_sync_hook_that_raises_in_its_thread_is_reported_like_before() -> None:
    errors: list[Any] = []

    @hook("stream_start")
    def broken(context: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    @hook("stream_error")
    def report(context: Any, error: BaseException, **kwargs: Any) -> None:
        errors.append((type(error).__name__, kwargs.get("hook_event")))

    agent = Agent(name="E", enable_streaming=True, hooks=[broken, report], model=OfflineModel(pace=0))
    asyncio.run(agent.process("hi"))
    assert errors and set(errors) == {("HookError", "stream_start")}
