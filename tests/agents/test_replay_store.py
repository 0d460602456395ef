"""Replay stores: one contract suite run against MemoryStore and RedisStore (a real redis-server), the
Redis-only cross-process and approximate-trim behaviour, the memory store's bounds, and RunSnapshot.

The Redis server is started by ``support.redis_server`` (skipped locally without ``redis-server``,
a failure in CI). Every Redis test uses its own key prefix, so tests never see each other's runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

import fieldstream
from fieldstream.agents._replay import (
    Frame,
    FrameGoneError,
    FutureIdError,
    MemoryStore,
    RedisStore,
    ReplayStore,
    RunFinishedError,
    RunSnapshot,
    RunStatus,
    UnknownRunError,
    fold_frames,
    path_key,
)
from support.redis_server import redis_server_fixture

__all__ = ["redis_server_fixture"]  # the fixture `redis_url`, imported for pytest

WAIT = 10.0  # a guard against hangs only: every wait below ends long before it


def data(i: int) -> str:
    return json.dumps({"i": i})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Env:
    """Makes stores of one kind with common options; ``advance`` lets time pass for the TTL."""

    kind: str
    make: Callable[..., ReplayStore]
    advance: Callable[[float], Awaitable[None]]
    stores: list[ReplayStore]

    async def aclose(self) -> None:
        for store in self.stores:
            await store.close()


@pytest.fixture(params=["memory", "redis"])
def env(request: pytest.FixtureRequest) -> Env:
    stores: list[ReplayStore] = []
    if request.param == "memory":
        clock = FakeClock()

        def make(max_frames: int = 10_000, ttl: float = 60.0, batch: int = 1_000) -> ReplayStore:
            store = MemoryStore(max_frames_per_run=max_frames, ttl=ttl, batch=batch, clock=clock)
            stores.append(store)
            return store

        async def advance(seconds: float) -> None:
            clock.now += seconds
    else:
        url = request.getfixturevalue("redis_url")
        prefix = f"test:{uuid.uuid4().hex}:"

        def make(max_frames: int = 10_000, ttl: float = 60.0, batch: int = 1_000) -> ReplayStore:
            store = RedisStore(url, maxlen=max_frames, ttl=ttl, approximate=False, prefix=prefix, batch=batch)
            stores.append(store)
            return store

        async def advance(seconds: float) -> None:
            await asyncio.sleep(seconds)
    return Env(request.param, make, advance, stores)


async def collect(store: ReplayStore, run_id: str, after: int) -> list[Frame]:
    async def go() -> list[Frame]:
        return [frame async for frame in store.follow(run_id, after)]

    return await asyncio.wait_for(go(), WAIT)


def asynctest(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test in a fresh event loop (with a guard timeout), closing the env's stores in it."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        async def main() -> None:
            try:
                await asyncio.wait_for(fn(*args, **kwargs), 30)
            finally:
                if isinstance(kwargs.get("env"), Env):
                    await kwargs["env"].aclose()

        asyncio.run(main())

    return wrapper


# ------------------------------------------------------------------------------------------- contract
def test_store_satisfies_protocol(env: Env) -> None:
    assert isinstance(env.make(), ReplayStore)


@asynctest
async def test_ids_are_strictly_increasing_from_one_per_run(env: Env) -> None:
    store = env.make()
    assert [await store.append("a", "chunk", data(i)) for i in range(5)] == [1, 2, 3, 4, 5]
    assert await store.append("b", "chunk", data(0)) == 1
    # concurrent appends: every id handed out once, and the stored order is the id order
    ids = await asyncio.gather(*(store.append("a", "chunk", data(i)) for i in range(5, 45)))
    assert sorted(ids) == list(range(6, 46))
    frames = await store.read("a", 0)
    assert [f.id for f in frames] == list(range(1, 46))
    assert {f.id: f.data for f in frames} == {n: data(i) for n, i in zip(ids, range(5, 45), strict=True)} | {
        n: data(n - 1) for n in range(1, 6)}
    assert await store.last_id("a") == 45
    assert await store.oldest_id("a") == 1
    assert await store.status("a") is RunStatus.RUNNING


@asynctest
async def test_follow_after_every_k_while_appending_gets_exactly_the_rest(env: Env) -> None:
    store = env.make()
    n = 30
    followers: dict[int, asyncio.Task[list[Frame]]] = {}
    await store.append("r", "stream_start", data(0))  # the run exists from its first frame on
    followers[0] = asyncio.create_task(collect(store, "r", 0))
    followers[1] = asyncio.create_task(collect(store, "r", 1))
    for i in range(2, n + 1):
        await store.append("r", "chunk", data(i - 1))
        # a follower that resumes from every id, while the appends go on; some behind, some at the end
        followers[i] = asyncio.create_task(collect(store, "r", i))
        followers[i - 2 + 100] = asyncio.create_task(collect(store, "r", i - 2))
        await asyncio.sleep(0)
    await store.finish("r")
    late = {k: await collect(store, "r", k) for k in range(n + 1)}
    for key, task in followers.items():
        k = key - 100 if key >= 100 else key
        frames = await task
        assert [f.id for f in frames] == list(range(k + 1, n + 1)), key
        assert [f.data for f in frames] == [data(i - 1) for i in range(k + 1, n + 1)]
    for k, frames in late.items():
        assert [f.id for f in frames] == list(range(k + 1, n + 1))
    assert [f.type for f in late[0][:2]] == ["stream_start", "chunk"]


@asynctest
async def test_follow_reads_in_batches_without_loss(env: Env) -> None:
    store = env.make(batch=7)
    for i in range(50):
        await store.append("r", "chunk", data(i))
    await store.finish("r")
    assert [f.id for f in await collect(store, "r", 3)] == list(range(4, 51))
    assert len(await store.read("r", 0)) == 7


@asynctest
async def test_finish_wakes_a_waiting_follower_and_ends_it(env: Env) -> None:
    store = env.make()
    await store.append("r", "chunk", data(0))
    follower = asyncio.create_task(collect(store, "r", 1))
    reader = asyncio.create_task(store.read("r", 1, block_ms=int(WAIT * 1000)))
    await asyncio.sleep(0.05)
    assert not follower.done() and not reader.done()
    await store.finish("r")
    assert await follower == []
    assert await reader == []
    assert await store.status("r") is RunStatus.FINISHED
    await store.finish("r")  # idempotent
    with pytest.raises(RunFinishedError):
        await store.append("r", "chunk", data(1))
    assert await store.last_id("r") == 1


@asynctest
async def test_read_waits_for_the_next_frame(env: Env) -> None:
    store = env.make()
    await store.append("r", "chunk", data(0))
    assert await store.read("r", 1) == []  # no wait by default
    reader = asyncio.create_task(store.read("r", 1, block_ms=int(WAIT * 1000)))
    await asyncio.sleep(0.05)
    await store.append("r", "chunk", data(1))
    assert await asyncio.wait_for(reader, WAIT) == [Frame(2, "chunk", data(1))]
    assert await store.read("r", 2, block_ms=20) == []  # times out empty: still running


@asynctest
async def test_followers_joining_and_leaving_many_runs_each_get_exactly_their_frames(env: Env) -> None:
    store = env.make()
    rng = random.Random(7)
    runs = [f"run{i}" for i in range(5)]
    last = dict.fromkeys(runs, 0)
    followers: list[tuple[str, int, asyncio.Task[list[Frame]]]] = []
    for _ in range(150):
        run_id = rng.choice(runs)
        last[run_id] = await store.append(run_id, "chunk", data(last[run_id]))
        if rng.random() < 0.3:  # a client (re)connects after a random frame it has seen
            target = rng.choice(runs)
            if last[target]:
                k = rng.randint(0, last[target])
                followers.append((target, k, asyncio.create_task(collect(store, target, k))))
        if followers and rng.random() < 0.1:  # a client goes away
            rng.choice(followers)[2].cancel()
        if rng.random() < 0.3:
            await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    for run_id in runs:
        await store.finish(run_id)
    checked = 0
    for run_id, k, task in followers:
        try:
            frames = await task
        except asyncio.CancelledError:
            continue
        assert [(f.id, f.data) for f in frames] == [(n, data(n - 1)) for n in range(k + 1, last[run_id] + 1)]
        checked += 1
    assert checked > 20


@asynctest
async def test_trimmed_frames_raise_frame_gone(env: Env) -> None:
    store = env.make(max_frames=5)
    for i in range(20):
        await store.append("r", "chunk", data(i))
    assert await store.oldest_id("r") == 16
    with pytest.raises(FrameGoneError) as info:
        await store.read("r", 14)
    assert (info.value.after, info.value.oldest) == (14, 16)
    assert isinstance(info.value, fieldstream.AgentError)
    assert [f.id for f in await store.read("r", 15)] == [16, 17, 18, 19, 20]
    with pytest.raises(FrameGoneError):
        await collect(store, "r", 3)
    await store.finish("r")
    assert await store.read("r", 20) == []  # at the end: nothing is missing
    assert await store.oldest_id("r") == 16


@asynctest
async def test_a_follower_that_falls_behind_the_trim_gets_frame_gone(env: Env) -> None:
    store = env.make(max_frames=3, batch=2)
    for i in range(4):
        await store.append("r", "chunk", data(i))
    follow = store.follow("r", 1)
    assert (await follow.__anext__()).id == 2
    for i in range(4, 10):  # frames 3 and 4 (not read yet) are trimmed
        await store.append("r", "chunk", data(i))
    with pytest.raises(FrameGoneError):
        async for _ in follow:
            pass


@asynctest
async def test_future_id_raises(env: Env) -> None:
    store = env.make()
    for i in range(3):
        await store.append("r", "chunk", data(i))
    assert await store.read("r", 3) == []
    with pytest.raises(FutureIdError) as info:
        await store.read("r", 4)
    assert (info.value.after, info.value.last) == (4, 3)
    with pytest.raises(FutureIdError):
        await collect(store, "r", 99)
    await store.finish("r")
    with pytest.raises(FutureIdError):
        await store.read("r", 4)


@asynctest
async def test_unknown_run_raises(env: Env) -> None:
    store = env.make()
    assert await store.status("nope") is None
    for call in (store.read("nope", 0), collect(store, "nope", 0), store.finish("nope"),
                 store.oldest_id("nope"), store.last_id("nope"), store.load_snapshot("nope"),
                 store.save_snapshot("nope", 1, "{}")):
        with pytest.raises(UnknownRunError) as info:
            await call
        assert not info.value.expired
        assert isinstance(info.value, fieldstream.AgentError)
    with pytest.raises(fieldstream.UsageError):
        await store.read("nope", -1)


@asynctest
async def test_finished_runs_expire_after_the_ttl(env: Env) -> None:
    store = env.make(ttl=0.6)
    await store.append("done", "chunk", data(0))
    await store.append("live", "chunk", data(0))
    await store.finish("done")
    assert await store.status("done") is RunStatus.FINISHED
    assert [str(await store.status(r)) for r in ("done", "live")] == ["finished", "running"]
    assert [f.id for f in await collect(store, "done", 0)] == [1]
    await env.advance(0.8)
    expired = await store.status("done")
    assert expired is RunStatus.EXPIRED
    # a str enum: what a server puts in JSON or a log line
    assert (expired, str(expired), json.dumps(expired)) == ("expired", "expired", '"expired"')
    assert await store.status("live") is RunStatus.RUNNING  # running runs are not subject to the ttl
    with pytest.raises(UnknownRunError) as info:
        await store.read("done", 0)
    assert info.value.expired
    # the id can be used again: a new run
    assert await store.append("done", "chunk", data(0)) == 1
    assert await store.status("done") is RunStatus.RUNNING


@asynctest
async def test_snapshots_are_kept_per_run(env: Env) -> None:
    store = env.make()
    await store.append("r", "chunk", data(0))
    assert await store.load_snapshot("r") is None
    await store.save_snapshot("r", 1, '{"last_id":1}')
    await store.save_snapshot("r", 1, '{"last_id":1,"x":"é"}')
    assert await store.load_snapshot("r") == (1, '{"last_id":1,"x":"é"}')


@asynctest
async def test_frame_data_round_trips_unicode(env: Env) -> None:
    store = env.make()
    text = json.dumps({"delta": "é\u2028\U0001f600\n\"x\""}, ensure_ascii=False)
    await store.append("r", "chunk", text)
    assert await store.read("r", 0) == [Frame(1, "chunk", text)]


# ------------------------------------------------------------------------------------------- memory
@asynctest
async def test_memory_store_evicts_finished_runs_first_then_the_oldest() -> None:
    store = MemoryStore(max_runs=3)
    for run_id in "abc":
        await store.append(run_id, "chunk", data(0))
    await store.finish("b")
    await store.append("d", "chunk", data(0))  # evicts b (finished), not a (older, running)
    assert [await store.status(r) for r in "abcd"] == [
        RunStatus.RUNNING, RunStatus.EXPIRED, RunStatus.RUNNING, RunStatus.RUNNING]
    follower = asyncio.create_task(collect(store, "a", 1))
    await asyncio.sleep(0)
    await store.append("e", "chunk", data(0))  # nothing finished: evicts the oldest run, a
    assert await store.status("a") is RunStatus.EXPIRED
    with pytest.raises(UnknownRunError):
        await follower
    assert len(store._runs) == 3


@asynctest
async def test_memory_store_keeps_at_most_max_frames() -> None:
    store = MemoryStore(max_frames_per_run=10)
    for i in range(1000):
        await store.append("r", "chunk", data(i))
    assert len(store._runs["r"].frames) == 10
    assert await store.oldest_id("r") == 991
    assert [f.data for f in await store.read("r", 990)] == [data(i) for i in range(990, 1000)]


@asynctest
async def test_memory_a_poll_returns_what_is_stored_without_waiting() -> None:
    # read() with block_ms=0 (the default) is a poll: it does not give the event loop a turn, so an
    # append scheduled before it has not run yet and is left for the next read
    store = MemoryStore()
    await store.append("r", "chunk", data(0))
    late = asyncio.ensure_future(store.append("r", "chunk", data(1)))
    assert await store.read("r", 1) == []
    assert not late.done()
    assert await late == 2
    assert await store.read("r", 1) == [Frame(2, "chunk", data(1))]


def test_memory_store_rejects_bad_bounds() -> None:
    with pytest.raises(fieldstream.UsageError):
        MemoryStore(max_frames_per_run=0)


# ------------------------------------------------------------------------------------------- redis
APPENDER = """
import asyncio, json, sys, types
import fieldstream
# load the store without the agents package's __init__ (pydantic, httpx): it needs neither
agents = types.ModuleType("fieldstream.agents")
agents.__path__ = [fieldstream.__path__[0] + "/agents"]
sys.modules["fieldstream.agents"] = agents
from fieldstream.agents._replay import RedisStore
assert "pydantic" not in sys.modules and "httpx" not in sys.modules

async def main(url, prefix, run_id, n, tag, finish_at):
    store = RedisStore(url, prefix=prefix)
    ids = []
    for i in range(n):
        ids.append(await store.append(run_id, "chunk", json.dumps({"tag": tag, "i": i})))
        await asyncio.sleep(0.002)
    if finish_at:
        while await store.last_id(run_id) < finish_at:
            await asyncio.sleep(0.01)
        await store.finish(run_id)
    await store.close()
    print(json.dumps(ids))

asyncio.run(main(*sys.argv[1:4], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])))
"""


@asynctest
async def test_redis_follower_sees_frames_appended_and_finished_by_other_processes(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    store = RedisStore(redis_url, prefix=prefix)
    await store.append("r", "stream_start", "{}")  # the run exists before the followers start
    followers = [asyncio.create_task(collect(store, "r", k)) for k in (0, 1)]

    async def spawn(tag: str, finish_at: int) -> list[int]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", APPENDER, redis_url, prefix, "r", "40", tag, str(finish_at),
            stdout=subprocess.PIPE)
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        return list(json.loads(out))

    other = asyncio.ensure_future(spawn("other", 81))  # finishes the run once all 81 frames are in
    while await store.last_id("r") < 5:  # let the other process start appending, then interleave
        await asyncio.sleep(0.01)
    local = []
    for i in range(40):
        local.append(await store.append("r", "chunk", json.dumps({"tag": "local", "i": i})))
        await asyncio.sleep(0.002)
    ids = await other + local
    assert sorted(ids) == list(range(2, 82))  # atomic across processes: no id twice
    for k, follower in enumerate(followers):
        frames = await follower
        assert [f.id for f in frames] == list(range(k + 1, 82))
    by_tag: dict[str, list[int]] = {}
    for f in frames:
        d = json.loads(f.data)
        by_tag.setdefault(d["tag"], []).append(d["i"])
    assert by_tag == {tag: list(range(40)) for tag in ("other", "local")}  # each writer's order kept
    assert await store.status("r") is RunStatus.FINISHED
    await store.close()


def counting_redis(url: str) -> Any:
    """A ``redis.asyncio.Redis`` that counts the store's ``MULTI`` pipelines and dedicated connections
    (``client()``: only the XREAD listener takes one)."""
    import redis.asyncio as aioredis

    class CountingRedis(aioredis.Redis):  # type: ignore[misc]
        pipelines = 0
        dedicated = 0

        def pipeline(self, *args: Any, **kwargs: Any) -> Any:
            self.pipelines += 1
            return super().pipeline(*args, **kwargs)

        def client(self) -> Any:
            self.dedicated += 1
            return super().client()

    return CountingRedis.from_url(url)


@asynctest
async def test_redis_a_poll_is_one_multi_and_starts_no_listener(redis_url: str) -> None:
    # the documented cost of read(): one MULTI; only a read that waits (block_ms > 0) uses the listener
    client = counting_redis(redis_url)
    store = RedisStore(client, prefix=f"test:{uuid.uuid4().hex}:")
    await store.append("r", "chunk", data(0))
    assert await store.read("r", 1) == []  # nothing new, still running: returns at once
    assert await store.read("r", 1, block_ms=0) == []
    assert await store.read("r", 0, block_ms=0) == [Frame(1, "chunk", data(0))]
    assert (client.pipelines, client.dedicated) == (3, 0)
    await store.close()
    await client.aclose()


@asynctest
async def test_redis_a_closed_store_refuses_new_waits_without_a_listener(redis_url: str) -> None:
    # close() stops the listener for good: a follower that starts waiting afterwards raises at once,
    # and no new listener (a dedicated connection) is opened for it
    client = counting_redis(redis_url)  # the caller's client: it stays usable after close()
    store = RedisStore(client, prefix=f"test:{uuid.uuid4().hex}:")
    await store.append("r", "chunk", data(0))
    await store.close()
    assert await store.read("r", 0) == [Frame(1, "chunk", data(0))]  # a poll needs no listener
    with pytest.raises(fieldstream.UsageError, match="the replay store is closed"):
        await store.read("r", 1, block_ms=100)  # (at once: the 100 ms never run)
    with pytest.raises(fieldstream.UsageError, match="the replay store is closed"):
        await collect(store, "r", 1)
    assert client.dedicated == 0
    await client.aclose()


@asynctest
async def test_redis_keys_live_under_the_default_prefix(redis_url: str) -> None:
    # the key names operators rely on (a SCAN pattern, an ACL rule such as ~fieldstream:run:*):
    # <prefix>{run id}:f (the stream), :m (the counter and status), :x (the tombstone)
    store = RedisStore(redis_url)
    run_id = uuid.uuid4().hex
    await store.append(run_id, "chunk", data(0))
    keys = sorted([_key.decode() async for _key in store.client.scan_iter(match=f"*{run_id}*")])
    assert keys == [f"fieldstream:run:{{{run_id}}}:{k}" for k in "fmx"]
    await store.client.delete(*keys)
    await store.close()


@asynctest
async def test_redis_approximate_trim_keeps_a_contiguous_tail(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix=f"test:{uuid.uuid4().hex}:", maxlen=20)
    for i in range(0, 300, 50):
        await asyncio.gather(*(store.append("r", "chunk", data(i + j)) for j in range(50)))
    oldest = await store.oldest_id("r")
    assert 1 < oldest <= 281  # trimmed by whole nodes (100 entries by default), never below maxlen
    frames = await store.read("r", oldest - 1)
    assert [f.id for f in frames] == list(range(oldest, 301))
    with pytest.raises(FrameGoneError):
        await store.read("r", oldest - 2)
    await store.close()


@pytest.mark.parametrize(("protocol", "decode"), [(2, False), (2, True), (3, False), (3, True)])
@asynctest
async def test_redis_store_accepts_any_client_and_leaves_it_open(redis_url: str, protocol: int,
                                                                  decode: bool) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url, protocol=protocol, decode_responses=decode)
    store = RedisStore(client, prefix=f"test:{uuid.uuid4().hex}:")
    assert await store.append("r", "chunk", "{}") == 1
    assert await store.read("r", 0) == [Frame(1, "chunk", "{}")]
    reader = asyncio.create_task(store.read("r", 1, block_ms=int(WAIT * 1000)))  # via the listener
    await asyncio.sleep(0.05)
    await store.append("r", "chunk", "[]")
    assert await reader == [Frame(2, "chunk", "[]")]
    follower = asyncio.create_task(collect(store, "r", 2))
    await asyncio.sleep(0.05)
    await store.finish("r")
    assert await follower == []
    assert (await store.status("r"), await store.oldest_id("r")) == (RunStatus.FINISHED, 1)
    await store.close()
    assert await client.ping()
    await client.aclose()


@asynctest
async def test_redis_followers_of_many_runs_share_one_listener_connection(redis_url: str) -> None:
    import redis.asyncio as aioredis

    # no socket timeout: the listener's XREAD blocks 30 s, so only CLIENT UNBLOCK can add new streams
    pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=3, timeout=WAIT,
                                                    socket_timeout=None)
    client = aioredis.Redis(connection_pool=pool)
    store = RedisStore(client, prefix=f"test:{uuid.uuid4().hex}:")
    runs = [f"r{i}" for i in range(20)]
    for run_id in runs[:10]:
        await store.append(run_id, "chunk", data(0))
    followers = [asyncio.create_task(collect(store, r, 1)) for r in runs[:10] for _ in range(5)]
    await asyncio.sleep(0.1)  # the listener blocks on the first ten runs
    for run_id in runs[10:]:  # new streams while it blocks: CLIENT UNBLOCK, then one XREAD for all
        await store.append(run_id, "chunk", data(0))
        followers += [asyncio.create_task(collect(store, run_id, 1)) for _ in range(5)]
    await asyncio.sleep(0.1)
    # the new runs first (the old ones get nothing meanwhile, so nothing else wakes the listener)
    for group, tasks in ((runs[10:], followers[50:]), (runs[:10], followers[:50])):
        for i in range(1, 4):
            for run_id in group:
                await store.append(run_id, "chunk", data(i))
        for run_id in group:
            await store.finish(run_id)
        for task in tasks:
            assert [f.data for f in await task] == [data(1), data(2), data(3)]
    assert all(task.done() for task in followers)  # 100 followers on a pool of 3 connections
    await store.close()
    await client.aclose()


@asynctest
async def test_redis_callers_cancelled_mid_command_leave_the_store_in_step(redis_url: str) -> None:
    # A client that hangs up cancels the task that was inside a store command. Cancelled between
    # sending a command and reading its reply, redis-py has left a connection out of step (the next
    # command read the previous reply) or hung the task with its pooled connection. With a pool of
    # two connections, a leak blocks every later command, and a reply out of step breaks the counts.
    import redis.asyncio as aioredis

    pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=2, timeout=WAIT)
    client = aioredis.Redis(connection_pool=pool)
    store = RedisStore(client, prefix=f"test:{uuid.uuid4().hex}:")
    await store.append("r", "chunk", data(0))
    sent = [data(0)]
    for rounds in range(1, 61):
        if rounds % 2:
            sent.append(data(rounds))
        task = asyncio.create_task(store.append("r", "chunk", data(rounds)) if rounds % 2
                                   else store.last_id("r") if rounds % 4 else store.status("r"))
        for _ in range(rounds % 6):  # cancel at different points: before sending, after, mid-reply
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # the cancelled append happened or not (cancelled before it started), but nothing is
        # half done and every later reply belongs to its own command
        last = await asyncio.wait_for(store.last_id("r"), WAIT)
        frames = await asyncio.wait_for(store.read("r", 0), WAIT)
        assert [f.id for f in frames] == list(range(1, last + 1))
        got = [f.data for f in frames]
        assert got == [d for d in sent if d in got] and got[-1] in sent[-2:]
        assert await asyncio.wait_for(store.status("r"), WAIT) is RunStatus.RUNNING
    assert len(frames) > 10  # most cancelled appends had started: they ran to their end
    await store.close()
    await client.aclose()


@asynctest
async def test_redis_close_wakes_a_blocked_listener_and_fails_its_followers(redis_url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url, socket_timeout=None)  # the listener blocks 30 s
    store = RedisStore(client, prefix=f"test:{uuid.uuid4().hex}:")
    await store.append("r", "chunk", data(0))
    follower = asyncio.create_task(collect(store, "r", 1))
    await asyncio.sleep(0.1)  # the follower waits on the listener's XREAD BLOCK
    await asyncio.wait_for(store.close(), WAIT)  # well before the XREAD's 30 s
    with pytest.raises(fieldstream.UsageError, match="closed"):
        await asyncio.wait_for(follower, WAIT)
    # its connection went back to the pool, not killed mid-command: the client still works
    assert await client.ping()
    await client.aclose()


@asynctest
async def test_redis_idle_running_run_expires_and_its_follower_stops(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix=f"test:{uuid.uuid4().hex}:", idle_ttl=0.5)
    store._FOLLOW_BLOCK_MS = 200  # followers re-check the run this often when nothing comes
    await store.append("r", "chunk", "{}")  # and then its process dies: no more frames, no finish
    with pytest.raises(UnknownRunError) as info:
        await collect(store, "r", 0)
    assert info.value.expired
    assert await store.status("r") is RunStatus.EXPIRED
    await store.close()


@asynctest
async def test_redis_follow_blocks_less_than_the_client_socket_timeout(redis_url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url, socket_timeout=1.0)
    store = RedisStore(client, prefix=f"test:{uuid.uuid4().hex}:")
    assert [store._block_ms(t) for t in (None, 0, 1.0, 5, 600)] == [30_000, 30_000, 500, 2500, 30_000]
    await store.append("r", "chunk", "{}")
    follower = asyncio.create_task(collect(store, "r", 0))
    await asyncio.sleep(1.2)  # XREAD BLOCKs of 0.5 s returned empty, none hit the 1 s timeout
    assert not follower.done()
    await store.append("r", "chunk", "[]")
    await store.finish("r")
    assert [f.data for f in await follower] == ["{}", "[]"]
    await client.aclose()


@asynctest
async def test_redis_a_follower_arriving_while_the_listener_closes_is_woken(redis_url: str) -> None:
    import redis.asyncio as aioredis

    class GatedRedis(aioredis.Redis):  # type: ignore[misc]
        """Its dedicated connections (``client()``, the listener's) close only once ``gate`` is set."""

        gate = asyncio.Event()
        closing = asyncio.Event()

        def client(self) -> Any:
            conn = super().client()
            close = conn.aclose

            async def aclose(*args: Any, **kwargs: Any) -> None:
                GatedRedis.closing.set()
                await GatedRedis.gate.wait()
                await close(*args, **kwargs)

            conn.aclose = aclose
            return conn

    client = GatedRedis.from_url(redis_url)
    store = RedisStore(client, prefix=f"test:{uuid.uuid4().hex}:")
    await store.append("r", "chunk", data(1))
    first = asyncio.create_task(store.read("r", 1, block_ms=60_000))
    while not store._watches:  # the follower waits: the listener starts
        await asyncio.sleep(0.001)
    await store.append("r", "chunk", data(2))
    assert [f.data for f in await asyncio.wait_for(first, WAIT)] == [data(2)]
    # nobody waits any more: the listener leaves its loop and closes its connection (held open here)
    await asyncio.wait_for(GatedRedis.closing.wait(), WAIT)
    second = asyncio.create_task(store.read("r", 2, block_ms=60_000))
    while not store._watches:  # the second follower waits (for the listener it started, or the old one)
        await asyncio.sleep(0.001)
    GatedRedis.gate.set()  # the old listener ends
    await store.append("r", "chunk", data(3))
    # woken by the frame (a listener covers its wait), not by its 60 s block running out
    assert [f.data for f in await asyncio.wait_for(second, WAIT)] == [data(3)]
    await store.close()
    await client.aclose()


# ------------------------------------------------------------------------------------------- snapshot
RESULT = {"title": "The Tortoise", "tags": ["slow", "kind"], "year": 1901, "meta": {"by": "Æsop\n"}}


def run_frames(result: dict[str, Any] = RESULT, chunk: int = 3, retry: bool = True) -> list[Frame]:
    """Frames of a run in the SSE adapter's format: think, a failed final_result, a good one, the result."""
    out: list[Frame] = []

    def add(type_: str, payload: dict[str, Any]) -> None:
        out.append(Frame(len(out) + 1, type_, json.dumps(payload)))

    add("stream_start", {"call_type": "think"})
    for piece in ("I will ", "write it."):
        add("chunk", {"call_type": "think", "delta": piece, "json_path": "", "path": []})
    add("stream_end", {"call_type": "think"})
    attempts = [{**result, "year": "long ago"}, result] if retry else [result]
    for attempt in attempts:
        add("stream_start", {"call_type": "final_result"})
        text = json.dumps(attempt)
        parser = fieldstream.Parser()
        for i in range(0, len(text), chunk):
            for ev in parser.feed(text[i:i + chunk]):
                if isinstance(ev, fieldstream.StringDelta):
                    add("chunk", {"call_type": "final_result", "delta": ev.delta, "json_path": ev.dotted,
                                  "path": list(ev.path)})
                elif isinstance(ev, fieldstream.ValueDone) and ev.path:
                    valid = not (ev.path == ("year",) and not isinstance(ev.value, int))
                    add("field", {"call_type": "final_result", "json_path": ev.dotted, "path": list(ev.path),
                                  "value": ev.value, "valid": valid, "errors": [] if valid else [{"m": 1}]})
        parser.close()
        add("stream_end", {"call_type": "final_result"})
    add("result", {"result": result})
    return out


def leaves(value: Any, path: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """Every value below the root, keyed like a snapshot (the oracle)."""
    out: dict[str, Any] = {}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        out[path_key((*path, k))] = v
        out.update(leaves(v, (*path, k)))
    return out


def test_snapshot_of_a_whole_run_matches_the_result() -> None:
    frames = run_frames()
    state = fold_frames(frames)
    assert state["last_id"] == len(frames)
    assert state["has_result"] and state["result"] == RESULT and state["error"] is None
    assert list(state["calls"]) == ["think", "final_result"]
    assert state["calls"]["think"] == {"texts": {"[]": "I will write it."}, "fields": {},
                                       "status": {"[]": "done"},
                                       "ended": True}
    call = state["calls"]["final_result"]
    expected = leaves(RESULT)
    assert {k: f["value"] for k, f in call["fields"].items()} == expected  # the retry's view was reset
    assert all(f["valid"] for f in call["fields"].values())
    assert call["texts"] == {k: v for k, v in expected.items() if isinstance(v, str)}
    assert set(call["status"].values()) == {"done"} and call["ended"]
    assert json.loads(RunSnapshot(state).to_json()) == state


def test_an_empty_snapshot_is_before_frame_one() -> None:
    # last_id is the Last-Event-ID to resume after: 0 (nothing folded yet) means from the first frame
    empty = {"last_id": 0, "calls": {}, "result": None, "has_result": False, "error": None}
    assert fold_frames([]) == empty
    assert RunSnapshot().state == empty and RunSnapshot().last_id == 0
    assert json.loads(RunSnapshot().to_json()) == empty


@pytest.mark.parametrize("chunk", [1, 4])
def test_snapshot_folding_does_not_depend_on_where_frames_are_split(chunk: int) -> None:
    frames = run_frames(chunk=chunk)
    whole = fold_frames(frames)
    incremental = RunSnapshot()
    for k, frame in enumerate(frames):
        start = fold_frames(frames[:k])
        before = json.dumps(start)
        assert fold_frames(frames[k:], start) == whole
        assert json.dumps(start) == before  # pure: the start state is not modified
        incremental.apply(frame)
        if k % 3 == 0:  # reading the state in between (texts joined) does not change what follows
            assert incremental.state == fold_frames(frames[:k + 1])
    assert incremental.state == whole
    assert RunSnapshot.from_json(incremental.to_json()).last_id == len(frames)


def test_snapshot_of_a_prefix_shows_streaming_and_invalid_fields() -> None:
    frames = run_frames(chunk=2)
    # the first final_result attempt: up to its invalid year field
    cut = next(f.id for f in frames if f.type == "field" and '"valid": false' in f.data)
    call = fold_frames(frames[:cut])["calls"]["final_result"]
    assert call["status"][path_key(["year"])] == "invalid"
    assert call["fields"][path_key(["year"])] == {"value": "long ago", "valid": False, "errors": [{"m": 1}]}
    assert call["status"][path_key(["title"])] == "done"
    # in the middle of the second attempt's title: only a partial text, status streaming
    second = [f.id for f in frames if f.type == "stream_start"][-1]
    first_chunk = next(f.id for f in frames[second:] if f.type == "chunk")
    state = fold_frames(frames[:first_chunk])
    call = state["calls"]["final_result"]
    key = path_key(["title"])
    assert call["status"] == {key: "streaming"} and call["fields"] == {}
    assert str(RESULT["title"]).startswith(call["texts"][key]) and call["texts"][key]
    assert not state["has_result"]


def test_snapshot_records_errors_and_accepts_decoded_tuples() -> None:
    state = fold_frames([(1, "stream_start", {"call_type": "final_result"}),
                         (2, "chunk", {"call_type": "final_result", "delta": "a", "json_path": "x"}),
                         (3, "ping", "{}"),
                         (4, "error", '{"message": "boom", "type": "ModelError"}')])
    assert state["error"] == {"message": "boom", "type": "ModelError"}
    assert state["last_id"] == 4
    assert state["calls"]["final_result"]["texts"] == {'"x"': "a"}  # no path: keyed by json_path


@asynctest
async def test_resume_from_any_k_with_a_snapshot_when_frames_were_trimmed(env: Env) -> None:
    """The resume protocol end to end on the store: frames after k, or the snapshot and then frames."""
    frames = run_frames()
    store = env.make(max_frames=10)
    owner = RunSnapshot()
    for frame in frames:
        n = await store.append("r", frame.type, frame.data)
        owner.apply(Frame(n, frame.type, frame.data))
        if n % 5 == 0:  # checkpoints more often than frames are trimmed
            await store.save_snapshot("r", n, owner.to_json())
    await store.finish("r")
    whole = fold_frames(frames)
    for k in range(len(frames) + 1):
        try:
            state = fold_frames(await collect(store, "r", k), fold_frames(frames[:k]))
        except FrameGoneError:
            snap = await store.load_snapshot("r")
            assert snap is not None and snap[0] > k
            state = fold_frames(await collect(store, "r", snap[0]), json.loads(snap[1]))
        assert state == whole, k


def test_fold_of_a_continuation_keeps_the_valid_prefix_and_rewrites_the_rejected_field() -> None:
    from fieldstream.agents._replay import fold_frames, path_key

    ct = "final_result"
    frames = [
        (1, "stream_start", {"call_type": ct}),
        (2, "chunk", {"call_type": ct, "path": ["title"], "json_path": "title", "delta": "Owl"}),
        (3, "field", {"call_type": ct, "path": ["title"], "json_path": "title", "value": "Owl", "valid": True,
                      "errors": None}),
        (4, "chunk", {"call_type": ct, "path": ["mood"], "json_path": "mood", "delta": "gr"}),
        (5, "field", {"call_type": ct, "path": ["mood"], "json_path": "mood", "value": None, "valid": False,
                      "errors": [{"type": "literal_error"}]}),
        (6, "stream_end", {"call_type": ct}),
        (7, "stream_start", {"call_type": ct, "continued": True}),
        (8, "chunk", {"call_type": ct, "path": ["mood"], "json_path": "mood", "delta": "calm"}),
    ]
    for cut in range(len(frames) + 1):  # the fold is pure: any split gives the same state
        state = fold_frames(frames[cut:], fold_frames(frames[:cut]))
        call = state["calls"][ct]
        assert call["texts"][path_key(["title"])] == "Owl"
        assert call["status"][path_key(["title"])] == "done"
        assert call["texts"][path_key(["mood"])] == "calm"
        assert call["status"][path_key(["mood"])] == "streaming"
        assert path_key(["mood"]) not in call["fields"] and not call["ended"]
    plain_retry = [*frames[:6], (7, "stream_start", {"call_type": ct})]
    assert fold_frames(plain_retry)["calls"][ct]["texts"] == {}  # a full retry starts over
