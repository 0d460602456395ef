"""Resumable runs (``fieldstream.agents.sse.RunManager``): cut after every k frames, resume, compare.

The oracle is the run's typed result (:data:`STORY`, what the scripted model streams): the text a
client joins from the frames of its first connection and of its resume (or from the ``snapshot``
frame and what follows) must equal each field's final value, with frame ids strictly increasing
across the cut (nothing duplicated). Each case runs on a :class:`MemoryStore`, on a MemoryStore
that trims (so resumes get snapshots), and on a real ``redis-server`` (see ``support.redis_server``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from fieldstream.agents import Agent, ModelError
from fieldstream.agents.sse import (
    FutureIdError,
    MemoryStore,
    RedisStore,
    ReplayStore,
    RunManager,
    RunStatus,
    UnknownRunError,
    event_stream,
    fold_frames,
    partial_of,
)
from support.redis_server import redis_server_fixture
from support.web import STORY, THINK, decode_sse, scripted_agent

__all__ = ["redis_server_fixture"]  # the fixture `redis_url`, imported for pytest

Frame = tuple[int, str, dict[str, Any]]

WAIT = 10.0  # a guard against hangs only: every wait below ends long before it


def _story_sse() -> str:
    async def main() -> str:
        return "".join([f async for f in event_stream(scripted_agent(), "q")])
    return asyncio.run(main())


_STORY_SSE = _story_sse()


def expected_texts() -> dict[str, str]:
    out = {json.dumps([k]): v for k, v in STORY.items() if isinstance(v, str)}
    out.update({json.dumps(["characters", i]).replace(" ", ""): c for i, c in enumerate(STORY["characters"])})
    return {k.replace(" ", ""): v for k, v in out.items()}


def client_state(frames: list[Frame]) -> dict[str, Any]:
    """Fold what a client received, as a client does: a ``snapshot`` frame replaces everything before it."""
    start: dict[str, Any] | None = None
    rest: list[Frame] = []
    for frame in frames:
        if frame[1] == "snapshot":
            start = {k: v for k, v in frame[2].items()}
            start["calls"] = {ct: {k: v for k, v in call.items() if k != "partial"}
                              for ct, call in frame[2]["calls"].items()}
            rest = []
        else:
            rest.append(frame)
    return fold_frames(rest, start)


def assert_exact(first: list[Frame], second: list[Frame]) -> None:
    ids = [n for n, _, _ in first + second]
    assert ids == sorted(set(ids)), "a frame id repeated or went backwards"
    snapshots = [f for f in second if f[1] == "snapshot"]
    if not snapshots:  # no trim: the ids are contiguous across the cut
        assert ids == list(range(1, len(ids) + 1))
    state = client_state(first + second)
    assert state["has_result"] and state["result"] == STORY
    assert state["calls"]["final_result"]["texts"] == expected_texts()
    assert state["calls"]["think"]["texts"] == {'["reasoning"]': THINK}
    assert all(s == "done" for s in state["calls"]["final_result"]["status"].values())


async def take(it: AsyncIterator[str], k: int | None) -> list[Frame]:
    """Read ``k`` frames (all when ``None``) from ``it`` and close it, as a dropped connection does."""
    out: list[Frame] = []
    try:
        async for text in it if k != 0 else _nothing():
            out.extend(decode_sse(text))
            if k is not None and len(out) >= k:
                break
    finally:
        await it.aclose()  # type: ignore[attr-defined]
    return out


async def _nothing() -> AsyncIterator[str]:
    return
    yield


StoreFactory = Callable[[], Awaitable[ReplayStore]]


@pytest.fixture(params=["memory", "memory-trimmed", "redis"])
def make_store(request: pytest.FixtureRequest) -> StoreFactory:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        prefix = f"t{uuid.uuid4().hex[:8]}:"

        async def redis() -> ReplayStore:
            return RedisStore(url, prefix=prefix)
        return redis

    async def memory() -> ReplayStore:
        if request.param == "memory-trimmed":
            return MemoryStore(max_frames_per_run=12)
        return MemoryStore()
    return memory


def manager_for(store: ReplayStore, **kw: Any) -> RunManager:
    every = 5 if isinstance(store, MemoryStore) and store.max_frames_per_run < 100 else 100
    return RunManager(store, snapshot_every=every, **kw)


def test_cut_after_every_k_frames_and_resume_gives_the_exact_text(make_store: StoreFactory) -> None:
    """One live run, one client per k (all at once, so cuts land while the run streams): each reads
    k frames, drops the connection, and resumes after frame k."""
    async def client(manager: RunManager, run_id: str, k: int, ended: asyncio.Event) -> None:
        first = await take(manager.frames(run_id), k)
        assert len(first) == k and (k == 0 or first[0][1:] == ("run", {"run_id": run_id}))
        if k % 2:  # odd k: come back after the run ended (the trimmed store then has to send a snapshot)
            await ended.wait()
        second = await take(manager.frames(run_id, k), None)
        assert_exact(first, second)
        trimmed = isinstance(manager.store, MemoryStore) and manager.store.max_frames_per_run < 100
        if trimmed and k % 2 and k < total - 12:
            assert second[0][1] == "snapshot", k  # trimmed: the resume starts with a snapshot

    async def main() -> int:
        store = await make_store()
        manager = manager_for(store, grace=30)
        try:
            run_id = await manager.start(scripted_agent(), "q")
            whole = await take(manager.frames(run_id), None)
            # the oracle: the one-connection encoder's frames, after the `run` frame (ids shifted by 1)
            assert whole[1:] == [(n + 1, ev, d) for n, ev, d in decode_sse(_STORY_SSE)]
            n = len(whole)
            run_id = await manager.start(scripted_agent(pace=0.001), "q")
            ended = asyncio.Event()

            async def watch_end() -> None:
                await take(manager.frames(run_id), None)
                ended.set()
            await asyncio.gather(watch_end(), *(client(manager, run_id, k, ended) for k in range(n + 1)))
            return n
        finally:
            await manager.aclose()

    total = len(decode_sse(_STORY_SSE))
    assert asyncio.run(main()) == total + 1


def test_a_second_manager_on_the_same_redis_serves_the_resume(redis_url: str) -> None:
    """Two "workers" (managers with their own RedisStore): the run lives on A, B serves every resume."""
    async def main() -> None:
        prefix = f"t{uuid.uuid4().hex[:8]}:"
        a = RunManager(RedisStore(redis_url, prefix=prefix), grace=30)
        b = RunManager(RedisStore(redis_url, prefix=prefix), grace=30)
        try:
            for k in (0, 2, 30):
                run_id = await a.start(scripted_agent(pace=0.0005), "q")
                first = await take(a.frames(run_id), k)
                second = await take(b.frames(run_id, len(first)), None)
                assert_exact(first, second)
        finally:
            await a.aclose()
            await b.aclose()

    asyncio.run(main())


def test_snapshot_frame_carries_the_typed_partial_and_field_status() -> None:
    async def main() -> list[Frame]:
        manager = RunManager(MemoryStore(max_frames_per_run=6), snapshot_every=3)
        try:
            run_id = await manager.start(scripted_agent(), "q")
            await take(manager.frames(run_id), None)
            return await take(manager.frames(run_id, 1), None)
        finally:
            await manager.aclose()

    frames = asyncio.run(main())
    assert frames[0][1] == "snapshot" and frames[0][0] == frames[0][2]["last_id"]
    call = frames[0][2]["calls"]["final_result"]
    assert call["partial"] == partial_of(call)
    assert call["partial"] == STORY  # the run had finished: every field done and valid
    assert set(call["status"].values()) == {"done"}


def test_partial_of_rebuilds_nested_objects_from_texts_and_fields() -> None:
    call = {"texts": {'["a","b"]': "hel", '["items",1]': "x"},
            "fields": {'["n"]': {"value": 3, "valid": True}, '["bad"]': {"value": 1, "valid": False},
                       '["items",0]': {"value": {"k": 1}, "valid": True}}}
    assert partial_of(call) == {"a": {"b": "hel"}, "items": [{"k": 1}, "x"], "n": 3}


class _SlowModel:
    """A model that streams forever (until closed) and records that its stream was closed."""

    name = "slow"

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    async def stream(self, messages: Any, schema: Any, *, name: str = "response") -> AsyncIterator[Any]:
        try:
            yield '{"reasoning": "'
            while True:
                await asyncio.sleep(0.005)
                yield "a"
        finally:
            self.closed.set()
            await self.cleanup()

    async def cleanup(self) -> None:
        """What the stream does once closed (nothing here)."""


def test_a_run_without_listeners_is_cancelled_after_the_grace_period() -> None:
    async def main() -> None:
        manager = RunManager(MemoryStore(), grace=1.0, tick=0.02)
        try:
            model = _SlowModel()
            run_id = await manager.start(Agent(name="slow", enable_streaming=True, model=model), "q")
            await take(manager.frames(run_id), 3)          # a listener came and went
            assert manager.running() == [run_id]           # within the grace period: still running
            resumed = await take(manager.frames(run_id, 3), 2)  # a resume (and the clock restarts)
            assert [n for n, _, _ in resumed] == [4, 5]
            await asyncio.wait_for(model.closed.wait(), 30)  # then nobody: cancelled, upstream closed
            rest = await take(manager.frames(run_id, 5), None)
            assert rest[-1][1:] == ("error", {"type": "RunCancelled", "message": "no listener for 1 s"})
            assert await manager.store.status(run_id) is RunStatus.FINISHED
            assert manager.running() == []
        finally:
            await manager.aclose()

    asyncio.run(main())


def test_a_listener_on_another_worker_keeps_the_run_alive(redis_url: str) -> None:
    async def main() -> None:
        prefix = f"t{uuid.uuid4().hex[:8]}:"
        a = RunManager(RedisStore(redis_url, prefix=prefix), grace=0.5, tick=0.05)
        b = RunManager(RedisStore(redis_url, prefix=prefix), grace=0.5, tick=0.05)
        try:
            model = _SlowModel()
            run_id = await a.start(Agent(name="slow", enable_streaming=True, model=model), "q")
            started = time.monotonic()
            got = await take(b.frames(run_id), 200)     # frames for longer than the grace, all through B
            assert time.monotonic() - started > 0.5     # (5 ms per delta: always true; the premise)
            assert len(got) == 200 and not model.closed.is_set()
            await asyncio.wait_for(model.closed.wait(), 30)   # B's listener gone: A cancels the run
            assert (await asyncio.wait_for(take(b.frames(run_id, 200), None), 30))[-1][1] == "error"
        finally:
            await a.aclose()
            await b.aclose()

    asyncio.run(main())


class _SlowStore(MemoryStore):
    """A store whose appends take a while (a remote round trip) and record a cancellation inside one."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled_inside: list[str] = []
        self.types: list[str] = []

    async def append(self, run_id: str, type: str, data: str) -> int:
        self.types.append(type)
        try:
            await asyncio.sleep(0.02)
        except asyncio.CancelledError:
            self.cancelled_inside.append(type)
            raise
        return await super().append(run_id, type, data)


@pytest.mark.parametrize("how", ["grace", "aclose"])
def test_a_run_is_never_cancelled_inside_a_store_command(how: str) -> None:
    # A Redis client cancelled in the middle of a command can lose its wake-up and hang for good
    # (seen with redis-py 8 under load: the grace period then never ended the run). The run's task
    # may only be cancelled while it waits for the agent; a stop that comes during an append takes
    # effect when the append returns.
    async def main() -> None:
        store = _SlowStore()
        manager = RunManager(store, grace=0.1, tick=0.01)
        model = _SlowModel()
        run_id = await manager.start(Agent(name="slow", enable_streaming=True, model=model), "q")
        try:
            if how == "grace":
                await asyncio.wait_for(model.closed.wait(), 30)  # nobody listens: stopped after 0.1 s
                frames = await asyncio.wait_for(take(manager.frames(run_id, 1), None), 30)
                cancelled = {"type": "RunCancelled", "message": "no listener for 0.1 s"}
                assert frames[-1][1:] == ("error", cancelled)
                assert [n for n, _, _ in frames] == list(range(2, len(frames) + 2))
            else:
                await take(manager.frames(run_id), 5)
                await asyncio.wait_for(manager.aclose(), 30)
                assert model.closed.is_set() and manager.running() == []
                assert "error" not in store.types  # the process is going away: no error frame
        finally:
            await manager.aclose()
        assert store.cancelled_inside == []

    asyncio.run(main())


@pytest.mark.parametrize("debug", [False, True])
def test_a_failed_run_ends_with_the_encoders_error_frame(debug: bool) -> None:
    # the model fails halfway: the run's frames are the one-connection encoder's, its error frame
    # included (the public view, or the real type and message with debug=True), and the run finishes
    def failing() -> Agent:
        return scripted_agent(fail=ModelError("upstream refused: key sk-secret"))

    async def main() -> tuple[list[Frame], list[Frame]]:
        oracle = decode_sse("".join([f async for f in event_stream(failing(), "q", debug=debug)]))
        manager = RunManager(MemoryStore(), debug=debug)
        try:
            run_id = await manager.start(failing(), "q")
            frames = await asyncio.wait_for(take(manager.frames(run_id), None), 30)
            assert await manager.store.status(run_id) is RunStatus.FINISHED
        finally:
            await manager.aclose()
        return oracle, frames

    oracle, frames = asyncio.run(main())
    assert frames[1:] == [(n + 1, ev, d) for n, ev, d in oracle]
    assert frames[-1][1] == "error"
    assert frames[-1][2]["type"] == "ModelError"
    assert ("sk-secret" in frames[-1][2]["message"]) is debug


def test_a_run_with_a_listener_is_never_cancelled_however_short_the_grace() -> None:
    # grace=0: the run would be cancelled at the watchdog's first tick (10 ms) if nobody listened;
    # the model takes longer than that (a delta every 2 ms), and a client reads every frame
    async def main() -> list[Frame]:
        manager = RunManager(MemoryStore(), grace=0)
        try:
            run_id = await manager.start(scripted_agent(pace=0.002), "q")
            return await asyncio.wait_for(take(manager.frames(run_id), None), 30)
        finally:
            await manager.aclose()

    frames = asyncio.run(main())
    assert frames[-1][1] == "result" and frames[-1][2]["result"] == STORY
    assert len(frames) > 20  # (the premise: the run lasted many 2 ms deltas, longer than a tick)


def test_a_worker_keeps_the_presence_while_any_of_its_listeners_stays(redis_url: str) -> None:
    # two clients follow the run through worker B; when one leaves, B goes on refreshing the
    # presence key for the other, so that the owner A does not cancel the run
    import redis.asyncio as aioredis

    class PresenceRedis(aioredis.Redis):  # type: ignore[misc]
        touched = asyncio.Event()

        def set(self, name: Any, *args: Any, **kwargs: Any) -> Any:
            if str(name).endswith(":l"):  # a presence key (set when called: no reply awaited)
                PresenceRedis.touched.set()
            return super().set(name, *args, **kwargs)

    async def main() -> None:
        prefix = f"t{uuid.uuid4().hex[:8]}:"
        client = PresenceRedis.from_url(redis_url)
        a = RunManager(RedisStore(redis_url, prefix=prefix), grace=30)
        b = RunManager(RedisStore(client, prefix=prefix), grace=30, tick=0.01)
        try:
            run_id = await a.start(Agent(name="slow", enable_streaming=True, model=_SlowModel()), "q")
            one, two = b.frames(run_id), b.frames(run_id)
            assert [(await one.__anext__())[:5], (await two.__anext__())[:5]] == ["id: 1"] * 2
            await one.aclose()
            PresenceRedis.touched.clear()
            await asyncio.wait_for(PresenceRedis.touched.wait(), 5)  # the next refresh (every 10 ms)
            await two.aclose()
        finally:
            await a.aclose()
            await b.aclose()
            await client.aclose()

    asyncio.run(main())


class _RecordingStore(MemoryStore):
    """Records the cancellation requests pending on the task that runs each command (appends do not
    suspend, so the run's task is always waiting for the agent when the watchdog stops it)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[tuple[str, int]] = []
        self.finished = asyncio.Event()

    def _record(self, what: str) -> None:
        task = asyncio.current_task()
        self.pending.append((what, task.cancelling() if task is not None else -1))

    async def append(self, run_id: str, type: str, data: str) -> int:
        self._record(type)
        return await super().append(run_id, type, data)

    async def finish(self, run_id: str) -> None:
        self._record("finish")
        await super().finish(run_id)
        self.finished.set()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.cancelling() is new in Python 3.11")
def test_a_stopped_run_writes_its_last_frames_with_no_cancellation_pending() -> None:
    # The watchdog cancels the run's task (no listener); the run handles that cancellation and then
    # writes its error frame and finishes through the store, in the same task. A request left
    # pending there is what asyncio.timeout (on older 3.11 releases: an expired timeout becomes a
    # CancelledError), TaskGroup and cancel scopes read: a custom store's own timeouts would break.
    async def main() -> list[tuple[str, int]]:
        store = _RecordingStore()
        manager = RunManager(store, grace=0.05, tick=0.01)
        await manager.start(Agent(name="slow", enable_streaming=True, model=_SlowModel()), "q")
        await asyncio.wait_for(store.finished.wait(), WAIT)  # nobody listens: stopped, then ended
        await manager.aclose()
        return store.pending

    pending = asyncio.run(main())
    assert pending[-2:] == [("error", 0), ("finish", 0)]
    assert {n for _, n in pending} == {0}


class _CleanModel(_SlowModel):
    """A slow model whose stream, once closed, needs a few loop turns to close its connection."""

    def __init__(self) -> None:
        super().__init__()
        self.cleaned = False

    async def cleanup(self) -> None:
        for _ in range(3):  # e.g. an HTTP client closing its response
            await asyncio.sleep(0)
        self.cleaned = True


def test_a_second_stop_does_not_cut_the_agents_cleanup_short() -> None:
    # the watchdog stops the run (no listener) and, while the agent cleans up, the process shuts
    # down (aclose): one cancellation only, so the model's stream still closes its connection
    async def main() -> _CleanModel:
        model = _CleanModel()
        manager = RunManager(MemoryStore(), grace=0.05, tick=0.01)
        await manager.start(Agent(name="slow", enable_streaming=True, model=model), "q")
        await asyncio.wait_for(model.closed.wait(), WAIT)  # stopped: the agent is cleaning up
        await manager.aclose()
        return model

    assert asyncio.run(main()).cleaned


def test_finished_runs_expire_after_the_ttl_and_bad_ids_fail_at_once() -> None:
    async def main() -> None:
        now = [1000.0]  # the store's clock (the TTL is the store's): no race with a slow machine
        manager = RunManager(MemoryStore(clock=lambda: now[0]), ttl=0.2)
        try:
            run_id = await manager.start(scripted_agent(), "q")
            frames = await take(manager.frames(run_id), None)
            last = frames[-1][0]
            await manager.check(run_id, last)
            with pytest.raises(FutureIdError):
                await manager.check(run_id, last + 1)
            with pytest.raises(UnknownRunError) as unknown:
                await manager.check("nope", 0)
            assert not unknown.value.expired
            now[0] += 0.3
            with pytest.raises(UnknownRunError) as gone:
                await manager.check(run_id, 0)
            assert gone.value.expired
        finally:
            await manager.aclose()

    asyncio.run(main())
