"""Replay stores: a run's numbered frames, kept so that a client can resume after a disconnect.

A run is identified by a string id. Its frames are records ``Frame(id, type, data)``: ``id`` is
assigned by the store (1, 2, 3, ... per run, strictly increasing, atomically, also across processes
for Redis), ``type`` is the SSE event name, ``data`` the JSON text. The store knows nothing about what
frames mean; :class:`RunSnapshot` (below) folds them into the state a resuming client needs.

The contract (:class:`ReplayStore`, tested with one parametrised suite for both stores):

- ``append(run_id, type, data) -> id`` creates the run on its first frame; appending to a finished
  run raises :class:`RunFinishedError`.
- ``read(run_id, after, block_ms=0)`` returns the kept frames with ``id > after`` (at most
  ``batch`` of them), waiting up to ``block_ms`` for new ones when there are none yet and the run
  is still running. ``follow(run_id, after)`` yields every frame after ``after``, then live ones,
  and ends after the last frame of a finished run: no frame is skipped or repeated.
- Frames before :meth:`~ReplayStore.oldest_id` were trimmed (bounded memory): asking for them raises
  :class:`FrameGoneError` (the caller then sends a snapshot instead); ``after`` beyond the last id
  raises :class:`FutureIdError`; a run the store does not know (never seen, or expired after its
  TTL) raises :class:`UnknownRunError` (``status()`` tells the two apart while the store still
  remembers the expiry).
- ``finish(run_id)`` marks the end (followers stop after the last frame) and starts the TTL: a
  finished run is kept ``ttl`` seconds, then it is gone.
- ``save_snapshot``/``load_snapshot`` keep one checkpoint per run (``upto`` id and a JSON text), so
  that a client whose frames were trimmed can get the state up to ``upto`` and then the frames after
  it. The run's owner saves one every so often (more often than frames are trimmed).

Resuming with ``Last-Event-ID: N`` (what a server does; the test suite runs it for every N)::

    try:
        async for frame in store.follow(run_id, N): send(frame)
    except FrameGoneError:                       # frames after N were trimmed
        upto, state = await store.load_snapshot(run_id)
        send(Frame(upto, "snapshot", state))     # the state up to frame `upto` (RunSnapshot)
        async for frame in store.follow(run_id, upto): send(frame)

The owner of a run keeps a :class:`RunSnapshot`, applies each frame it appends, and saves
``to_json()`` every K frames with K below the store's frame limit, so the frames after the last
checkpoint are always still kept.

Two implementations: :class:`MemoryStore` (one process, one event loop; the embedded default) and
:class:`RedisStore` (Redis Streams; several worker processes share it, so a reconnect may land on
any worker). ``redis`` is imported only when a :class:`RedisStore` is created.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import islice
from typing import Any, ParamSpec, Protocol, TypeVar, runtime_checkable

from .._errors import AgentError, UsageError

__all__ = [
    "Frame",
    "FrameGoneError",
    "FutureIdError",
    "MemoryStore",
    "RedisStore",
    "ReplayStore",
    "RunFinishedError",
    "RunSnapshot",
    "RunStatus",
    "UnknownRunError",
    "fold_frames",
    "path_key",
]


# --------------------------------------------------------------------------------------------- errors
class UnknownRunError(AgentError, LookupError):
    """The store does not know this run: never seen, or expired (``expired`` says which, if known)."""

    def __init__(self, run_id: str, *, expired: bool = False) -> None:
        super().__init__(f"run {run_id!r} {'expired' if expired else 'is unknown'}")
        self.run_id = run_id
        self.expired = expired


class FrameGoneError(AgentError):
    """The frames after ``after`` were trimmed: the oldest kept frame is ``oldest``. Send a snapshot."""

    def __init__(self, run_id: str, after: int, oldest: int) -> None:
        super().__init__(f"run {run_id!r}: frames {after + 1}..{oldest - 1} are no longer kept")
        self.run_id = run_id
        self.after = after
        self.oldest = oldest


class FutureIdError(AgentError):
    """``after`` (a Last-Event-ID) is beyond the run's last frame ``last``: it never existed."""

    def __init__(self, run_id: str, after: int, last: int) -> None:
        super().__init__(f"run {run_id!r}: frame {after} does not exist (last is {last})")
        self.run_id = run_id
        self.after = after
        self.last = last


class RunFinishedError(AgentError):
    """A frame was appended to a run that is already finished."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id!r} is finished")
        self.run_id = run_id


# --------------------------------------------------------------------------------------------- types
@dataclass(frozen=True)
class Frame:
    """One stored frame: ``id`` (1, 2, ... per run), SSE event ``type``, ``data`` (JSON text)."""

    id: int
    type: str
    data: str


class RunStatus(str, Enum):
    """What a store knows about a run (``status()`` returns ``None`` for a run it never saw)."""

    RUNNING = "running"
    FINISHED = "finished"
    EXPIRED = "expired"

    def __str__(self) -> str:
        return self.value


@runtime_checkable
class ReplayStore(Protocol):
    """The storage a resumable run needs (see the module docstring for the contract)."""

    async def append(self, run_id: str, type: str, data: str) -> int: ...

    async def read(self, run_id: str, after: int, *, block_ms: int = 0) -> list[Frame]: ...

    def follow(self, run_id: str, after: int = 0) -> AsyncIterator[Frame]: ...

    async def finish(self, run_id: str) -> None: ...

    async def status(self, run_id: str) -> RunStatus | None: ...

    async def oldest_id(self, run_id: str) -> int: ...

    async def last_id(self, run_id: str) -> int: ...

    async def save_snapshot(self, run_id: str, upto: int, data: str) -> None: ...

    async def load_snapshot(self, run_id: str) -> tuple[int, str] | None: ...

    async def close(self) -> None: ...


class _Base:
    """``read`` and ``follow`` on top of one primitive, ``_read -> (frames, finished)``."""

    _FOLLOW_BLOCK_MS = 30_000

    async def _read(self, run_id: str, after: int, block_ms: int,
                    live: bool = False) -> tuple[list[Frame], bool]:
        """The frames after ``after`` and whether the run is finished; ``live``: the caller got
        frames up to ``after`` from this store a moment ago (a store may skip checks then)."""
        raise NotImplementedError

    async def read(self, run_id: str, after: int, *, block_ms: int = 0) -> list[Frame]:
        """The kept frames with ``id > after`` (waiting up to ``block_ms`` while there are none)."""
        if after < 0:
            raise UsageError(f"after must be >= 0, not {after}")
        return (await self._read(run_id, after, block_ms))[0]

    async def follow(self, run_id: str, after: int = 0) -> AsyncIterator[Frame]:
        """Every frame after ``after``, then live ones; ends after the last frame of a finished run.

        Raises :class:`FrameGoneError` when the follower falls so far behind that frames it has not
        seen yet were trimmed (also in the middle of following).
        """
        if after < 0:
            raise UsageError(f"after must be >= 0, not {after}")
        live = False
        while True:
            frames, finished = await self._read(run_id, after, self._FOLLOW_BLOCK_MS, live)
            live = True
            for frame in frames:
                yield frame
            if frames:
                after = frames[-1].id
            elif finished:
                return


# --------------------------------------------------------------------------------------------- memory
class _MemRun:
    __slots__ = ("finished_at", "frames", "last", "snapshot", "wake")

    def __init__(self, max_frames: int) -> None:
        self.frames: deque[Frame] = deque(maxlen=max_frames)
        self.last = 0
        self.finished_at: float | None = None
        self.wake: asyncio.Event | None = None  # created by the first waiter, set and dropped on change
        self.snapshot: tuple[int, str] | None = None

    @property
    def oldest(self) -> int:
        return self.last - len(self.frames) + 1

    def notify(self) -> None:
        if self.wake is not None:
            self.wake.set()
            self.wake = None


class MemoryStore(_Base):
    """Frames in process memory, bounded, with a TTL for finished runs.

    ``max_frames_per_run``: older frames are trimmed (a ``deque`` with ``maxlen``: O(1) per append).
    ``max_runs``: when a new run would exceed it, the run finished longest ago is evicted, or, when
    none is finished, the run started longest ago (its followers then get :class:`UnknownRunError`).
    ``ttl``: seconds a finished run is kept. Expired ids are remembered (up to ``max_runs`` of them)
    so that ``status()`` can say ``EXPIRED``. Waiting followers are woken by an :class:`asyncio.Event`
    per run, set on append and finish (no polling). Use it from one event loop (not thread safe).
    """

    def __init__(self, *, max_frames_per_run: int = 10_000, max_runs: int = 1_000, ttl: float = 600.0,
                 batch: int = 1_000, clock: Any = time.monotonic) -> None:
        if max_frames_per_run < 1 or max_runs < 1 or batch < 1:
            raise UsageError("max_frames_per_run, max_runs and batch must be >= 1")
        self.max_frames_per_run = max_frames_per_run
        self.max_runs = max_runs
        self.ttl = ttl
        self.batch = batch
        self._clock = clock
        self._runs: OrderedDict[str, _MemRun] = OrderedDict()   # in creation order
        self._finished: OrderedDict[str, float] = OrderedDict()  # run id -> finish time, in finish order
        self._expired: OrderedDict[str, None] = OrderedDict()

    def _expire(self) -> None:
        deadline = self._clock() - self.ttl
        while self._finished:
            run_id, at = next(iter(self._finished.items()))
            if at > deadline:
                break
            self._drop(run_id)

    def _drop(self, run_id: str) -> None:
        run = self._runs.pop(run_id, None)
        self._finished.pop(run_id, None)
        if run is not None:
            run.notify()
        self._expired[run_id] = None
        while len(self._expired) > self.max_runs:
            self._expired.popitem(last=False)

    def _get(self, run_id: str) -> _MemRun:
        self._expire()
        run = self._runs.get(run_id)
        if run is None:
            raise UnknownRunError(run_id, expired=run_id in self._expired)
        return run

    async def append(self, run_id: str, type: str, data: str) -> int:
        """Store one frame and return its id (the run is created by its first frame)."""
        self._expire()
        run = self._runs.get(run_id)
        if run is None:
            while len(self._runs) >= self.max_runs:
                self._drop(next(iter(self._finished)) if self._finished else next(iter(self._runs)))
            run = self._runs[run_id] = _MemRun(self.max_frames_per_run)
            self._expired.pop(run_id, None)
        elif run.finished_at is not None:
            raise RunFinishedError(run_id)
        run.last += 1
        run.frames.append(Frame(run.last, type, data))
        run.notify()
        return run.last

    async def _read(self, run_id: str, after: int, block_ms: int,
                    live: bool = False) -> tuple[list[Frame], bool]:
        deadline = None
        while True:
            run = self._get(run_id)
            if after > run.last:
                raise FutureIdError(run_id, after, run.last)
            if after < run.last:
                if after + 1 < run.oldest:
                    raise FrameGoneError(run_id, after, run.oldest)
                start = after + 1 - run.oldest
                return list(islice(run.frames, start, start + self.batch)), False
            if run.finished_at is not None or block_ms <= 0:
                return [], run.finished_at is not None
            now = time.monotonic()
            if deadline is None:
                deadline = now + block_ms / 1000
            elif now >= deadline:
                return [], False
            if run.wake is None:
                run.wake = asyncio.Event()
            try:
                await asyncio.wait_for(run.wake.wait(), deadline - now)
            except asyncio.TimeoutError:
                pass

    async def finish(self, run_id: str) -> None:
        """Mark the run finished (idempotent); it is kept ``ttl`` seconds from now."""
        run = self._get(run_id)
        if run.finished_at is None:
            run.finished_at = self._clock()
            self._finished[run_id] = run.finished_at
            run.notify()

    async def status(self, run_id: str) -> RunStatus | None:
        self._expire()
        run = self._runs.get(run_id)
        if run is not None:
            return RunStatus.RUNNING if run.finished_at is None else RunStatus.FINISHED
        return RunStatus.EXPIRED if run_id in self._expired else None

    async def oldest_id(self, run_id: str) -> int:
        """The id of the oldest kept frame (``last_id + 1`` when none is kept)."""
        return self._get(run_id).oldest

    async def last_id(self, run_id: str) -> int:
        return self._get(run_id).last

    async def save_snapshot(self, run_id: str, upto: int, data: str) -> None:
        self._get(run_id).snapshot = (upto, data)

    async def load_snapshot(self, run_id: str) -> tuple[int, str] | None:
        return self._get(run_id).snapshot

    async def close(self) -> None:
        for run_id in list(self._runs):
            self._drop(run_id)


# --------------------------------------------------------------------------------------------- redis
# Keys of a run share the hash tag {run_id}, so they live in one slot (Redis Cluster friendly):
#   <prefix>{id}:f  the stream; a frame n is the entry with id "n-0" (the Redis id IS the frame id),
#                   fields t (type) and d (data); finish() adds the end marker "<last>-1", which wakes
#                   blocked XREADs without using up a frame id.
#   <prefix>{id}:m  hash: last (the counter), status (running/finished), snap_upto, snap
#   <prefix>{id}:x  tombstone, with a TTL longer than the run's (refreshed by append() and finish()):
#                   once the run's keys expired, it tells "expired" from "unknown".
_APPEND = """
local status = redis.call('HGET', KEYS[2], 'status')
if status == 'finished' then return -1 end
local n = redis.call('HINCRBY', KEYS[2], 'last', 1)
if not status then redis.call('HSET', KEYS[2], 'status', 'running') end
if ARGV[5] == '1' then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], n .. '-0', 't', ARGV[1], 'd', ARGV[2])
else
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], n .. '-0', 't', ARGV[1], 'd', ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[6])
return n
"""

_SAVE_SNAPSHOT = """
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'snap_upto', ARGV[1], 'snap', ARGV[2])
return 1
"""

_FINISH = """
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return -1 end
if status == 'finished' then return 0 end
local last = redis.call('HGET', KEYS[2], 'last')
redis.call('HSET', KEYS[2], 'status', 'finished')
redis.call('XADD', KEYS[1], last .. '-1', 't', '', 'd', '')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _frames(entries: Sequence[Any]) -> list[Frame]:
    out = []
    for entry_id, fields in entries:
        ms, _, seq = _text(entry_id).partition("-")
        if seq != "0":
            continue  # the end marker
        values = {_text(k): _text(v) for k, v in fields.items()}
        out.append(Frame(int(ms), values["t"], values["d"]))
    return out


_P = ParamSpec("_P")
_T = TypeVar("_T")


def _shielded(method: Callable[_P, Coroutine[Any, Any, _T]]) -> Callable[_P, Coroutine[Any, Any, _T]]:
    """Run a Redis command to its end even when the caller is cancelled (a client hung up).

    redis-py has a long history of bugs when a task is cancelled between sending a command and
    reading its reply (a connection left out of step, a lost wake-up that hangs the task and keeps its
    pooled connection). Shielded, the command runs in its own task and returns its connection to the
    pool; only the caller stops waiting.
    """
    @functools.wraps(method)
    async def run(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        return await asyncio.shield(method(*args, **kwargs))
    return run


class _Watch:
    __slots__ = ("afters", "error", "event", "finished", "frames")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.afters: dict[int, int] = {}  # id waited after -> number of followers waiting after it
        self.frames: list[Frame] = []  # what the listener's XREAD returned for the stream
        self.finished = False  # ... including the end marker
        self.error: BaseException | None = None


class RedisStore(_Base):
    """Frames in Redis Streams, shared by every process that uses the same Redis database.

    ``RedisStore("redis://127.0.0.1:6379/0")`` or ``RedisStore(client)`` (a ``redis.asyncio.Redis``;
    it is not closed by :meth:`close`). ``append`` is one Lua script: ``HINCRBY`` on the run's counter
    and ``XADD`` with the explicit id ``n-0`` and ``MAXLEN ~ maxlen`` (``approximate=False`` trims
    exactly, which costs more), so ids are atomic across processes and the Redis id is the frame id.
    ``read`` is one ``MULTI`` (status, last id, ``XRANGE``) and, when there is nothing new and the run
    is running, a wait for the listener's ``XREAD BLOCK`` and one more ``MULTI``.

    ``ttl``: seconds a finished run is kept (``PEXPIRE``); ``idle_ttl``: a running run is dropped after
    that long without a frame (its process died); ``tombstone_ttl``: how long ``status()`` still says
    ``EXPIRED`` after that.

    A waiting follower holds no connection: one listener task per store multiplexes all of them on a
    single ``XREAD BLOCK`` connection (blocking at most 30 s, or half the connection's
    ``socket_timeout``, at a time), interrupted with ``CLIENT UNBLOCK`` when a follower needs a
    stream it does not cover yet; the frames it reads are handed to the waiting followers of that
    stream, so 500 followers of one run cost one ``XREAD`` per batch of frames, not 500 ``XRANGE``.
    A process needs one connection for the listener plus one per command in flight: from a URL the
    store makes a ``BlockingConnectionPool`` of ``max_connections`` (commands wait for a free
    connection instead of failing); give your own client such a pool too when many runs are followed.
    """

    def __init__(self, url_or_client: Any, *, maxlen: int = 10_000,
                 ttl: float = 600.0, idle_ttl: float = 3600.0, tombstone_ttl: float = 86_400.0,
                 approximate: bool = True, prefix: str = "fieldstream:run:", batch: int = 1_000,
                 max_connections: int = 50) -> None:
        import redis.asyncio as aioredis

        if maxlen < 1 or batch < 1:
            raise UsageError("maxlen and batch must be >= 1")
        if isinstance(url_or_client, str):
            pool = aioredis.BlockingConnectionPool.from_url(url_or_client, max_connections=max_connections,
                                                            timeout=None)
            self._client: Any = aioredis.Redis(connection_pool=pool)
            self._owned = True
        else:
            self._client = url_or_client
            self._owned = False
        self.maxlen = maxlen
        self.ttl = ttl
        self.idle_ttl = idle_ttl
        self.tombstone_ttl = tombstone_ttl
        self.approximate = approximate
        self.prefix = prefix
        self.batch = batch
        self._append = self._client.register_script(_APPEND)
        self._finish = self._client.register_script(_FINISH)
        self._save_snapshot = self._client.register_script(_SAVE_SNAPSHOT)
        self._watches: dict[str, _Watch] = {}
        self._listener: asyncio.Future[None] | None = None
        self._listener_id: int | None = None
        self._dirty = False
        self._kicker: asyncio.Future[None] | None = None
        self._closed = False

    @property
    def client(self) -> Any:
        """The ``redis.asyncio.Redis`` client in use."""
        return self._client

    def _keys(self, run_id: str) -> tuple[str, str, str]:
        base = f"{self.prefix}{{{run_id}}}"
        return f"{base}:f", f"{base}:m", f"{base}:x"

    @staticmethod
    def _ms(seconds: float) -> int:
        return max(1, round(seconds * 1000))

    @_shielded
    async def _unknown(self, run_id: str) -> UnknownRunError:
        return UnknownRunError(run_id, expired=bool(await self._client.exists(self._keys(run_id)[2])))

    @_shielded
    async def append(self, run_id: str, type: str, data: str) -> int:
        """Store one frame and return its id (the run is created by its first frame)."""
        idle = self._ms(self.idle_ttl)
        n = int(await self._append(keys=self._keys(run_id), args=[
            type, data, self.maxlen, idle, "1" if self.approximate else "0",
            idle + self._ms(self.tombstone_ttl)]))
        if n < 0:
            raise RunFinishedError(run_id)
        return n

    @_shielded
    async def _state(self, run_id: str, after: int) -> tuple[list[Frame], bool, int]:
        stream, meta, _ = self._keys(run_id)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hmget(meta, "status", "last")
            pipe.xrange(stream, f"{after + 1}-0", "+", count=self.batch)
            (status, last), entries = await pipe.execute()
        if status is None:
            raise await self._unknown(run_id)
        last_id = int(last)
        if after > last_id:
            raise FutureIdError(run_id, after, last_id)
        frames = _frames(entries)
        if after < last_id and (not frames or frames[0].id != after + 1):
            raise FrameGoneError(run_id, after, frames[0].id if frames else last_id + 1)
        return frames, _text(status) == "finished", last_id

    async def _read(self, run_id: str, after: int, block_ms: int,
                    live: bool = False) -> tuple[list[Frame], bool]:
        # A live follower skips the MULTI and waits at once: the listener's XREAD from `after`
        # returns at once if frames came meanwhile, and anything unusual (a gap, nothing new, the end
        # marker) falls back to the MULTI below, which checks the run, the trim and the end.
        if not live or block_ms <= 0:
            frames, finished, _ = await self._state(run_id, after)
            if frames or finished or block_ms <= 0:
                return frames, finished
        key = self._keys(run_id)[0]
        deadline = time.monotonic() + block_ms / 1000
        while True:
            watch = self._watch(key, after)
            try:
                await asyncio.wait_for(watch.event.wait(), deadline - time.monotonic())
            except asyncio.TimeoutError:  # nothing came: is the run still there (it may have expired)?
                frames, finished, _ = await self._state(run_id, after)
                return frames, finished
            finally:
                self._unwatch(key, watch, after)
            if watch.error is not None:
                raise watch.error
            frames = [frame for frame in watch.frames if frame.id > after]
            if frames and frames[0].id == after + 1:  # the listener read them for us: no round trip
                return frames, False
            if not frames and watch.finished:
                return [], True
            frames, finished, _ = await self._state(run_id, after)
            if frames or finished or time.monotonic() >= deadline:
                return frames, finished

    # One listener per store multiplexes every waiting follower of this process onto one connection:
    # a single XREAD BLOCK over the streams being waited for (from the smallest id waited after), so
    # 500 followers cost one connection, not 500. When a follower needs a stream (or an id) the
    # blocked XREAD does not cover, the listener is interrupted with CLIENT UNBLOCK and re-issues it.
    def _watch(self, key: str, after: int) -> _Watch:
        if self._closed:
            raise UsageError("the replay store is closed")
        watch = self._watches.get(key)
        kick = watch is None or after < min(watch.afters, default=after + 1)
        if watch is None:
            watch = self._watches[key] = _Watch()
        watch.afters[after] = watch.afters.get(after, 0) + 1
        if self._listener is None or self._listener.done():
            self._listener = asyncio.ensure_future(self._listen())
        elif kick:
            self._dirty = True
            if self._kicker is None or self._kicker.done():
                self._kicker = asyncio.ensure_future(self._kick())
        return watch

    def _unwatch(self, key: str, watch: _Watch, after: int) -> None:
        left = watch.afters.get(after, 0) - 1
        if left > 0:
            watch.afters[after] = left
        else:
            watch.afters.pop(after, None)
        if not watch.afters and self._watches.get(key) is watch:
            del self._watches[key]

    async def _kick(self) -> None:
        """Interrupt the listener's XREAD until it has rebuilt its stream list (``_dirty`` cleared)."""
        while self._dirty and self._listener is not None and not self._listener.done():
            if self._listener_id is not None and await asyncio.shield(
                    self._client.client_unblock(self._listener_id)):
                return
            await asyncio.sleep(0.001)  # the listener is between two XREADs: it rebuilds or blocks soon

    @staticmethod
    def _block_ms(socket_timeout: float | None) -> int:
        """How long one XREAD may block: 30 s, or half the connection's read timeout if it has one."""
        if not socket_timeout:
            return 30_000
        return max(1, min(30_000, int(socket_timeout * 500)))

    async def _listen(self) -> None:
        conn = self._client.client()  # one dedicated connection (CLIENT UNBLOCK needs its id)
        try:
            self._listener_id = int(await conn.client_id())
            # redis-py 8 gives connections a 5 s read timeout unless told otherwise: stay below it
            block = self._block_ms(getattr(conn.connection, "socket_timeout", None))
            while self._watches and not self._closed:
                self._dirty = False
                streams = {key: f"{min(w.afters)}-0" for key, w in self._watches.items()}
                reply = await conn.xread(streams, count=self.batch, block=block)
                # RESP2: [[name, entries], ...]; RESP3: {name: [entries]}
                items = ((k, v[0]) for k, v in reply.items()) if isinstance(reply, dict) else (reply or [])
                for name, entries in items:
                    watch = self._watches.pop(_text(name), None)
                    if watch is not None:  # its followers take the frames (or re-read, or watch again)
                        watch.frames = _frames(entries)
                        watch.finished = len(watch.frames) < len(entries)  # the end marker came
                        watch.event.set()
            self._retire()  # no await between the last check of _watches and this: no watch is lost
            if self._closed:
                self._fail_watches(UsageError("the replay store is closed"))
        except BaseException as exc:  # Redis failed, or close(): the waiting followers raise it
            self._retire()
            error: BaseException = exc
            if isinstance(exc, asyncio.CancelledError):
                error = UsageError("the replay store is closed")
            self._fail_watches(error)
            if not isinstance(exc, Exception):
                raise
        finally:
            await conn.aclose()

    def _fail_watches(self, error: BaseException) -> None:
        for watch in self._watches.values():
            watch.error = error
            watch.event.set()
        self._watches.clear()

    def _retire(self) -> None:
        """Forget this listener at once, so that the next ``_watch`` starts a new one."""
        if self._listener is asyncio.current_task():
            self._listener = None
            self._listener_id = None

    @_shielded
    async def finish(self, run_id: str) -> None:
        """Mark the run finished (idempotent); it is kept ``ttl`` seconds from now."""
        ttl = self._ms(self.ttl)
        done = int(await self._finish(keys=self._keys(run_id),
                                      args=[ttl, ttl + self._ms(self.tombstone_ttl)]))
        if done < 0:
            raise await self._unknown(run_id)

    @_shielded
    async def status(self, run_id: str) -> RunStatus | None:
        _, meta, tomb = self._keys(run_id)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hget(meta, "status")
            pipe.exists(tomb)
            status, expired = await pipe.execute()
        if status is not None:
            return RunStatus(_text(status))
        return RunStatus.EXPIRED if expired else None

    @_shielded
    async def oldest_id(self, run_id: str) -> int:
        """The id of the oldest kept frame (``last_id + 1`` when none is kept)."""
        stream, meta, _ = self._keys(run_id)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hget(meta, "last")
            pipe.xrange(stream, "-", "+", count=1)
            last, entries = await pipe.execute()
        if last is None:
            raise await self._unknown(run_id)
        frames = _frames(entries)
        return frames[0].id if frames else int(last) + 1

    @_shielded
    async def last_id(self, run_id: str) -> int:
        last = await self._client.hget(self._keys(run_id)[1], "last")
        if last is None:
            raise await self._unknown(run_id)
        return int(last)

    @_shielded
    async def save_snapshot(self, run_id: str, upto: int, data: str) -> None:
        if not int(await self._save_snapshot(keys=self._keys(run_id), args=[upto, data])):
            raise await self._unknown(run_id)

    @_shielded
    async def load_snapshot(self, run_id: str) -> tuple[int, str] | None:
        meta = self._keys(run_id)[1]
        status, upto, data = await self._client.hmget(meta, "status", "snap_upto", "snap")
        if status is None:
            raise await self._unknown(run_id)
        if upto is None or data is None:
            return None
        return int(upto), _text(data)

    async def close(self) -> None:
        """Stop the listener (waiting followers raise :class:`UsageError`); close an owned client.

        The listener is woken with ``CLIENT UNBLOCK`` and returns by itself (cancelling a task inside
        a Redis command is what the store avoids); it is cancelled only if it has not returned
        within 5 seconds (Redis unreachable).
        """
        self._closed = True
        listener, kicker = self._listener, self._kicker
        deadline = time.monotonic() + 5.0
        while listener is not None and not listener.done() and time.monotonic() < deadline:
            try:
                if self._listener_id is not None:
                    await asyncio.wait_for(asyncio.shield(self._client.client_unblock(self._listener_id)),
                                           max(0.01, deadline - time.monotonic()))
            except Exception:  # Redis unreachable: the listener fails by itself, or is cancelled below
                pass
            await asyncio.wait({listener}, timeout=0.01)  # between two XREADs it sees _closed itself
        for task in (kicker, listener):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        if self._owned:
            closer = getattr(self._client, "aclose", None) or self._client.close
            await closer()


# --------------------------------------------------------------------------------------------- snapshot
def path_key(path: Iterable[str | int]) -> str:
    """The key of a path in a snapshot: compact JSON of the list (``JSON.stringify(path)`` in JS)."""
    return json.dumps(list(path), ensure_ascii=False, separators=(",", ":"))


def _new_call() -> dict[str, Any]:
    return {"texts": {}, "fields": {}, "status": {}, "ended": False}


def _empty() -> dict[str, Any]:
    return {"last_id": 0, "calls": {}, "result": None, "has_result": False, "error": None}


def _key(data: dict[str, Any]) -> str:
    if "path" in data:
        return path_key(data["path"])
    return json.dumps(data.get("json_path", ""), ensure_ascii=False)


_Pieces = dict[str, dict[str, list[str]]]  # call type -> path key -> text pieces not joined yet


def _step(state: dict[str, Any], pieces: _Pieces, id: int, type: str, data: Any) -> None:
    """Apply one frame to ``state`` in place (the rules are in :class:`RunSnapshot`'s docstring).

    Chunk deltas go to ``pieces`` (joined by :func:`_join`), so that a long text costs O(total length)
    rather than a copy of the text so far per delta.
    """
    state["last_id"] = id
    if type == "result":
        state["result"] = data.get("result")
        state["has_result"] = True
        return
    if type == "error":
        state["error"] = data
        return
    call_type = data.get("call_type") if isinstance(data, dict) else None
    if not isinstance(call_type, str):
        return
    calls = state["calls"]
    if type == "stream_start" and data.get("continued") and call_type in calls:
        # a continuation retry: what was written stands; the rejected fields are written again
        call = calls[call_type]
        for key, status in list(call["status"].items()):
            if status != "invalid":
                continue
            call["fields"].pop(key, None)
            call["status"][key] = "streaming"
            if key in call["texts"]:
                call["texts"][key] = ""
                pieces.get(call_type, {}).pop(key, None)
        call["ended"] = False
        return
    if type == "stream_start":
        calls.pop(call_type, None)  # a retry starts over: drop, then re-add at the end
        calls[call_type] = _new_call()
        pieces.pop(call_type, None)
        return
    call = calls.get(call_type)
    if call is None:
        call = calls[call_type] = _new_call()
    if type == "chunk":
        key = _key(data)
        texts = call["texts"]
        buf = pieces.setdefault(call_type, {}).get(key)
        if buf is None:
            buf = pieces[call_type][key] = [texts.setdefault(key, "")]
        buf.append(data.get("delta", ""))
        if key not in call["status"]:
            call["status"][key] = "streaming"
    elif type == "field":
        key = _key(data)
        valid = bool(data.get("valid", True))
        call["fields"][key] = {"value": data.get("value"), "valid": valid, "errors": data.get("errors") or []}
        call["status"][key] = "done" if valid else "invalid"
    elif type == "stream_end":
        call["ended"] = True
        status = call["status"]
        for key, value in status.items():
            if value == "streaming":
                status[key] = "done"


def _join(state: dict[str, Any], pieces: _Pieces) -> None:
    """Write the pending text pieces into ``state["calls"][...]["texts"]`` (keeps one piece each)."""
    for call_type, bufs in pieces.items():
        texts = state["calls"][call_type]["texts"]
        for key, buf in bufs.items():
            if len(buf) > 1:
                buf[:] = ["".join(buf)]
            texts[key] = buf[0]


def _decode(frame: Frame | tuple[int, str, Any]) -> tuple[int, str, Any]:
    if isinstance(frame, Frame):
        return frame.id, frame.type, json.loads(frame.data)
    id, type, data = frame
    return id, type, json.loads(data) if isinstance(data, (str, bytes)) else data


def fold_frames(frames: Iterable[Frame | tuple[int, str, Any]],
                start: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fold ``frames`` (in id order) onto ``start`` (a snapshot state, not modified) and return the state.

    A pure function: the same frames give the same state whatever way they are split
    (``fold_frames(b, fold_frames(a)) == fold_frames(a + b)``). Frames are :class:`Frame` (``data`` is
    JSON text) or ``(id, type, data)`` tuples whose ``data`` is text or an already decoded value.
    Cost: O(total size of the frames), plus a copy of ``start``.
    """
    state = copy.deepcopy(start) if start is not None else _empty()
    pieces: _Pieces = {}
    for frame in frames:
        _step(state, pieces, *_decode(frame))
    _join(state, pieces)
    return state


class RunSnapshot:
    """The state a resuming client needs, folded from a run's frames incrementally.

    The state is plain JSON (``to_json()`` is the ``data`` of a ``snapshot`` frame; the browser
    client folds frames with the same rules, so both sides agree)::

        {"last_id": 57,                     # the id of the last frame folded in
         "calls": {"final_result": {        # per call type, in the order the calls started
             "texts":  {"[\\"title\\"]": "The Tor"},          # concatenated chunk deltas per path
             "fields": {"[\\"year\\"]": {"value": 1901, "valid": true, "errors": []}},
             "status": {"[\\"title\\"]": "streaming", "[\\"year\\"]": "done"},
             "ended": false}},
         "result": null, "has_result": false, "error": null}

    Rules: a path's key is ``path_key(data["path"])`` (compact JSON of the list; frames without
    ``path`` are keyed by the JSON string of their ``json_path``). ``chunk`` appends ``delta`` to
    ``texts[key]`` and marks the key ``streaming`` unless a ``field`` already settled it; ``field``
    stores ``value``/``valid``/``errors`` and marks the key ``done`` (valid) or ``invalid``;
    ``stream_start`` replaces the call's view with an empty one (a retry starts over); ``stream_end``
    sets ``ended`` and marks the keys still ``streaming`` (text without a ``field`` frame, such as a
    plain-text ``think`` call) ``done``; ``result`` sets ``result`` and ``has_result``; ``error``
    stores its data in ``error``; other types only advance ``last_id``.

    ``apply`` costs O(size of the frame) (texts are joined only when ``state`` or ``to_json()`` is
    read), so the run's owner can keep one per run and save it as a checkpoint every so often.
    """

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        self._state = state if state is not None else _empty()
        self._pieces: _Pieces = {}

    @classmethod
    def from_frames(cls, frames: Iterable[Frame | tuple[int, str, Any]]) -> RunSnapshot:
        return cls(fold_frames(frames))

    @classmethod
    def from_json(cls, text: str) -> RunSnapshot:
        return cls(json.loads(text))

    def apply(self, frame: Frame | tuple[int, str, Any]) -> None:
        """Fold one more frame in (frames in id order)."""
        _step(self._state, self._pieces, *_decode(frame))

    @property
    def state(self) -> dict[str, Any]:
        """The folded state (live: later ``apply`` calls change it)."""
        _join(self._state, self._pieces)
        return self._state

    @property
    def last_id(self) -> int:
        return int(self._state["last_id"])

    def to_json(self) -> str:
        return json.dumps(self.state, ensure_ascii=False, separators=(",", ":"))
