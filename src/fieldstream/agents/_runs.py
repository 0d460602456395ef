"""Resumable runs: a run outlives the connection that started it, and any client can resume it.

Everything about the lifetime of a run lives here (the HTTP routes are at the end, the frame
encoding in :mod:`._sse`, the storage in :mod:`._replay`):

- :meth:`RunManager.start` gives the run an id and runs the agent in a task of **this** process. Each
  event becomes a frame appended to the :class:`~._replay.ReplayStore` (ids 1, 2, ... assigned by the
  store); frame 1 is ``run`` ``{"run_id"}``. Every ``snapshot_every`` frames the owner saves a
  :class:`~._replay.RunSnapshot` checkpoint, so a client whose frames were trimmed gets one
  ``snapshot`` frame instead.
- :meth:`RunManager.frames` follows the store: the frames after ``Last-Event-ID``, then live ones,
  as SSE text. With a shared store (:class:`~._replay.RedisStore`) any process can serve it.
- Listeners: while a :meth:`frames` iterator is open the run has a listener (with Redis it also
  refreshes a presence key, so the owner sees listeners on other processes). A run without any
  listener for ``grace`` seconds is cancelled (its model stream closed) and ends with an ``error``
  frame ``{"type": "RunCancelled"}``. A finished run is kept by the store for ``ttl`` seconds.
- HTTP (:func:`mount_runs`): ``POST {prefix}`` starts a run and streams it (header
  ``Fieldstream-Run-Id``); ``GET {prefix}/{run_id}/events`` resumes after ``Last-Event-ID`` (the header,
  or ``?last_event_id=`` for ``EventSource``). Errors are JSON ``{"error", "message"}``: 404
  ``unknown_run``, 410 ``run_expired`` (the TTL passed), 410 ``future_event_id`` (an id beyond the
  run's last frame: the client holds state from somewhere else and must start over), 400/422 for a
  bad request. They are decided before the stream starts, so a resume never hangs on a bad id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from .._errors import UsageError
from ._events import RunError, StreamStart
from ._replay import (
    Frame,
    FrameGoneError,
    FutureIdError,
    MemoryStore,
    RedisStore,
    ReplayStore,
    RunSnapshot,
    RunStatus,
    UnknownRunError,
)
from ._sse import _FRAMED, KEEPALIVE_SECONDS, SEND_TIMEOUT_SECONDS, _dumps

if TYPE_CHECKING:  # pragma: no cover
    from ._agent import Agent

__all__ = ["RUN_ID_HEADER", "RunManager", "encode_frame", "mount_runs", "partial_of"]

log = logging.getLogger("fieldstream.agents")

RUN_ID_HEADER = "Fieldstream-Run-Id"  #: the response header that carries the run id


def encode_frame(frame: Frame) -> str:
    """The SSE text of a stored frame (``id``, ``event``, ``data``; data is one line of JSON)."""
    return f"id: {frame.id}\nevent: {frame.type}\ndata: {frame.data}\n\n"


def _set(root: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    """Put ``value`` at ``path`` in ``root`` (dicts for str keys, lists padded with None for ints)."""
    if not path:
        return value if isinstance(value, dict) else root
    node: Any = root
    for key, nxt in zip(path, [*path[1:], None], strict=True):
        leaf = nxt is None
        if isinstance(key, int) and isinstance(node, list):
            while len(node) <= key:
                node.append(None)
            if leaf:
                node[key] = value
            elif not isinstance(node[key], (dict, list)):
                node[key] = [] if isinstance(nxt, int) else {}
            node = node[key]
        elif isinstance(key, str) and isinstance(node, dict):
            if leaf:
                node[key] = value
            elif not isinstance(node.get(key), (dict, list)):
                node[key] = [] if isinstance(nxt, int) else {}
            if not leaf:
                node = node[key]
        else:  # the path does not fit what is there (a retry changed shape): skip it
            break
    return root


def partial_of(call: dict[str, Any]) -> dict[str, Any]:
    """The partial output of one call of a :class:`RunSnapshot` state: texts so far, completed fields
    over them (shallow paths first, so an item completed after its list was set stays set)."""
    out: dict[str, Any] = {}
    items: list[tuple[list[Any], Any]] = []
    for key, text in call.get("texts", {}).items():
        path = json.loads(key)
        if isinstance(path, list):
            items.append((path, text))
    for key, field in call.get("fields", {}).items():
        path = json.loads(key)
        if isinstance(path, list) and field.get("valid", True):
            items.append((path, field.get("value")))
    fields_start = len(call.get("texts", {}))
    order = sorted(range(len(items)), key=lambda i: (i >= fields_start, len(items[i][0])))
    for i in order:
        out = _set(out, items[i][0], items[i][1])
    return out


def _snapshot_data(state_json: str) -> str:
    """The ``snapshot`` frame's data: the fold's state plus each call's ``partial`` (ASCII JSON)."""
    state = json.loads(state_json)
    for call in state.get("calls", {}).values():
        call["partial"] = partial_of(call)
    return _dumps(state)


class _Run:
    """A run this process executes.

    The run's task is only ever cancelled while it waits for the agent's next event (``waiting``):
    a task cancelled inside a store command (a Redis round trip) can lose its wake-up in the
    client library and hang for good, holding a pooled connection. So the watchdog and
    :meth:`RunManager.aclose` set ``stop`` and cancel the task only when it is ``waiting``; a task
    busy in the store sees ``stop`` as soon as the command returns.
    """

    __slots__ = ("listeners", "seen", "stop", "stopped", "task", "waiting")

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.listeners = 0
        self.seen = time.monotonic()
        self.waiting = False  # awaiting the agent's next event: the one point where it may be cancelled
        self.stop: str | None = None  # "expired" (no listener for the grace period), "closing", "ending"
        self.stopped = asyncio.Event()  # set with stop: wakes the watchdog

    def halt(self, why: str) -> None:
        """Stop the run: at once if it waits for the agent, else when its store command returns.

        Only the first call cancels: a second one (the process closing while the watchdog's stop is
        under way) would cut short the agent's cleanup, which the task awaits while still ``waiting``.
        """
        first = self.stop is None
        if first:
            self.stop = why
        self.stopped.set()
        if first and self.waiting and self.task is not None:
            self.task.cancel()


class RunManager:
    """Start runs that outlive their connections, and serve their frames to any client.

    Args:
        store: where frames go (default: a :class:`MemoryStore`). Share one :class:`RedisStore` between
            worker processes so that any of them can serve a resume.
        grace: seconds a run keeps going with no listener anywhere, then it is cancelled.
        ttl: seconds a finished run is kept (sets the store's ``ttl``; ``None``: the store's own).
        snapshot_every: frames between two checkpoints (keep it well below the store's frame limit).
        debug: error frames carry the real exception type and message (local development only).
        tick: seconds between two checks of the listeners (and presence refreshes, with Redis).

    Use it from one event loop. :meth:`aclose` cancels this process's runs and closes the store.
    """

    def __init__(self, store: ReplayStore | None = None, *, grace: float = 30.0, ttl: float | None = None,
                 snapshot_every: int = 100, debug: bool = False, tick: float | None = None) -> None:
        if grace < 0 or snapshot_every < 1:
            raise UsageError("grace must be >= 0 and snapshot_every >= 1")
        self.store: ReplayStore = store if store is not None else MemoryStore()
        if ttl is not None:
            self.store.ttl = ttl  # type: ignore[attr-defined]
        self.grace = grace
        self.snapshot_every = snapshot_every
        self.debug = debug
        self.tick = tick if tick is not None else max(0.01, min(1.0, grace / 4))
        self._runs: dict[str, _Run] = {}
        self._remote: dict[str, int] = {}  # runs owned elsewhere that this process serves -> listeners
        self._presence_task: asyncio.Task[None] | None = None
        self._watchdogs: set[asyncio.Task[None]] = set()  # never cancelled: they return once their run stops
        self._closing = asyncio.Event()

    # ------------------------------------------------------------------------------------ presence
    def _presence_key(self, run_id: str) -> str | None:
        if isinstance(self.store, RedisStore):
            return f"{self.store.prefix}{{{run_id}}}:l"
        return None

    async def _touch(self, run_id: str) -> None:
        key = self._presence_key(run_id)
        if key is not None and isinstance(self.store, RedisStore):
            ms = max(1, round(max(self.grace, 2 * self.tick) * 1000))
            await asyncio.shield(self.store.client.set(key, "1", px=ms))  # never cut mid-command

    async def _present_elsewhere(self, run_id: str) -> bool:
        key = self._presence_key(run_id)
        if key is None or not isinstance(self.store, RedisStore):
            return False
        return bool(await asyncio.shield(self.store.client.exists(key)))

    async def _refresh_presence(self) -> None:
        """While this process serves listeners of runs owned elsewhere, keep their presence keys."""
        try:
            while self._remote and not self._closing.is_set():
                for run_id in list(self._remote):
                    try:
                        await self._touch(run_id)
                    except Exception:  # a Redis hiccup: the next tick retries
                        log.debug("presence refresh failed for run %s", run_id, exc_info=True)
                await self._nap(self._closing)
        finally:
            self._presence_task = None

    # ------------------------------------------------------------------------------------ runs
    async def start(self, agent: Agent, input: Any) -> str:
        """Start ``agent`` on ``input`` in this process and return the run id (frame 1 is stored first).

        The run has no listener yet: open :meth:`frames` within ``grace`` seconds.
        """
        run_id = secrets.token_urlsafe(12)
        await self.store.append(run_id, "run", _dumps({"run_id": run_id}))
        run = self._runs[run_id] = _Run()
        run.task = asyncio.create_task(self._drive(run_id, run, agent, input),
                                       name=f"fieldstream-run-{run_id}")
        return run_id

    async def _drive(self, run_id: str, run: _Run, agent: Agent, input: Any) -> None:
        snap = RunSnapshot()
        snap.apply((1, "run", {"run_id": run_id}))
        since = 0
        call_type: str | None = None

        async def put(type: str, data: Any) -> None:
            nonlocal since
            text = _dumps(data)
            n = await self.store.append(run_id, type, text)
            snap.apply((n, type, data))
            since += 1
            if since >= self.snapshot_every:
                since = 0
                await self.store.save_snapshot(run_id, n, snap.to_json())

        watchdog = asyncio.create_task(self._watch(run_id, run))
        self._watchdogs.add(watchdog)
        watchdog.add_done_callback(self._watchdogs.discard)
        events = agent.stream(input)
        final: dict[str, Any] | None = None
        ended = False  # the agent's stream ended by itself
        try:
            try:
                while run.stop is None:
                    run.waiting = True
                    try:
                        ev = await events.__anext__()
                    except StopAsyncIteration:
                        ended = True
                        break
                    finally:
                        run.waiting = False
                    if isinstance(ev, StreamStart):
                        call_type = ev.call_type
                    if ev.type in _FRAMED:
                        await put(ev.type, ev.to_json(debug=self.debug) if isinstance(ev, RunError)
                                  else ev.to_json())
            except asyncio.CancelledError:
                if run.stop is None:  # cancelled from outside: leave as is
                    raise
                current = asyncio.current_task()
                if current is not None and sys.version_info >= (3, 11):
                    current.uncancel()  # our own cancellation, handled here
            except Exception as exc:  # the run failed: one error frame, logged
                log.error("agent %r: run %s failed (during %s): %s: %s", getattr(agent, "name", "?"), run_id,
                          call_type or "setup", type(exc).__name__, exc, exc_info=exc)
                final = RunError(exc, call_type).to_json(debug=self.debug)
            await events.aclose()  # type: ignore[attr-defined]  # the model's stream closes here
            if run.stop == "closing":  # the process is going away: no error frame, no finish
                return
            if run.stop == "expired" and not ended and final is None:
                final = {"type": "RunCancelled", "message": f"no listener for {self.grace:g} s"}
            run.halt("ending")  # from here on the run ends whoever listens (waiting is False here)
            if final is not None:
                await put("error", final)
            await self.store.save_snapshot(run_id, snap.last_id, snap.to_json())
            await self.store.finish(run_id)
        except Exception as exc:  # the store failed (Redis down): followers see the run's keys expire
            log.error("run %s: the replay store failed: %s: %s", run_id, type(exc).__name__, exc,
                      exc_info=exc)
        finally:
            run.halt("ending")  # the watchdog returns now
            await events.aclose()  # type: ignore[attr-defined]
            self._runs.pop(run_id, None)

    async def _nap(self, wake: asyncio.Event) -> None:
        """Sleep one tick, or less if ``wake`` is set."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(wake.wait(), self.tick)

    async def _watch(self, run_id: str, run: _Run) -> None:
        """Stop ``run`` once it had no listener (here or elsewhere) for ``grace`` seconds.

        Never cancelled itself (it may be inside a Redis command): it returns at the first tick after
        the run stopped.
        """
        while True:
            await self._nap(run.stopped)
            if run.stop is not None:
                return
            now = time.monotonic()
            try:
                present = run.listeners > 0 or await self._present_elsewhere(run_id)
            except Exception:  # the store is unreachable: do not cancel a run for that
                log.debug("presence check failed for run %s", run_id, exc_info=True)
                present = True
            if present:
                run.seen = now
            elif now - run.seen >= self.grace and run.stop is None:
                run.halt("expired")
                return

    async def check(self, run_id: str, last_event_id: int = 0) -> None:
        """Raise :class:`UnknownRunError` (``expired`` tells 404 from 410) or :class:`FutureIdError`
        when :meth:`frames` could not serve ``run_id`` after ``last_event_id``."""
        if last_event_id < 0:
            raise UsageError(f"Last-Event-ID must be >= 0, not {last_event_id}")
        status = await self.store.status(run_id)
        if status is None or status is RunStatus.EXPIRED:
            raise UnknownRunError(run_id, expired=status is RunStatus.EXPIRED)
        last = await self.store.last_id(run_id)
        if last_event_id > last:
            raise FutureIdError(run_id, last_event_id, last)

    async def frames(self, run_id: str, last_event_id: int = 0) -> AsyncGenerator[str, None]:
        """The SSE text of every frame after ``last_event_id``, then live ones, until the run ends.

        When the frames right after ``last_event_id`` are no longer kept, the first frame is one
        ``snapshot`` (id: the last frame it includes; data: the :class:`RunSnapshot` state with each
        call's ``partial``), followed by the frames after it. Raises like :meth:`check`.
        """
        run = self._runs.get(run_id)
        if run is not None:
            run.listeners += 1
            run.seen = time.monotonic()
        else:
            self._remote[run_id] = self._remote.get(run_id, 0) + 1
            await self._touch(run_id)
            if self._presence_task is None:
                self._presence_task = asyncio.create_task(self._refresh_presence())
        try:
            after = last_event_id
            while True:
                try:
                    async for frame in self.store.follow(run_id, after):
                        yield encode_frame(frame)
                        after = frame.id
                    return
                except FrameGoneError:
                    saved = await self.store.load_snapshot(run_id)
                    if saved is None or saved[0] < after:
                        raise
                    after, state = saved
                    yield f"id: {after}\nevent: snapshot\ndata: {_snapshot_data(state)}\n\n"
        finally:
            if run is not None:
                run.listeners -= 1
                run.seen = time.monotonic()
            else:
                left = self._remote.get(run_id, 1) - 1
                if left > 0:
                    self._remote[run_id] = left
                else:
                    self._remote.pop(run_id, None)

    def running(self) -> list[str]:
        """The ids of the runs this process is executing."""
        return list(self._runs)

    async def aclose(self) -> None:
        """Cancel this process's runs (no error frame: the process is going away) and close the store."""
        self._closing.set()
        tasks = [run.task for run in self._runs.values() if run.task is not None]
        for run in list(self._runs.values()):
            run.halt("closing")
        await asyncio.gather(*tasks, return_exceptions=True)
        # the watchdogs and the presence refresher return now, or when their Redis command returns
        await asyncio.gather(*self._watchdogs, *([self._presence_task] if self._presence_task else []),
                             return_exceptions=True)
        await self.store.close()


# ------------------------------------------------------------------------------------------------ HTTP
def _error(status: int, code: str, message: str, **extra: Any) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def _lookup_error(exc: Exception) -> Any:
    if isinstance(exc, UnknownRunError):
        if exc.expired:
            return _error(410, "run_expired", str(exc), run_id=exc.run_id)
        return _error(404, "unknown_run", str(exc), run_id=exc.run_id)
    if isinstance(exc, FutureIdError):
        return _error(410, "future_event_id", str(exc), run_id=exc.run_id, last_event_id=exc.last)
    raise exc


_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _stream(frames: AsyncIterator[str], headers: dict[str, str], keepalive: float | None,
            send_timeout: float | None) -> Any:
    from ._sse import _response_class

    resp = _response_class()(frames, media_type="text/event-stream", headers={**_SSE_HEADERS, **headers})
    # the same guarantees as sse_response: ': keep-alive' comments while quiet, and a client that
    # stops reading is dropped after send_timeout (only the connection: the run keeps going for its
    # grace period, and the client can resume)
    resp.keepalive = keepalive
    resp.send_timeout = send_timeout
    return resp


def mount_runs(app: Any, manager: RunManager, agent_factory: Callable[[], Agent], *,
               prefix: str = "/api/runs", input_of: Callable[[Any], Any] | None = None,
               max_body: int = 65_536, keepalive: float | None = KEEPALIVE_SECONDS,
               send_timeout: float | None = SEND_TIMEOUT_SECONDS) -> None:
    """Add the run routes to a Starlette or FastAPI ``app``.

    ``POST {prefix}`` with a JSON body starts ``agent_factory()`` on ``input_of(body)`` (default:
    ``body["input"]``) and streams the run (``text/event-stream``, header ``Fieldstream-Run-Id``,
    first frame ``run``). ``GET {prefix}/{run_id}/events`` resumes after ``Last-Event-ID`` (header)
    or ``?last_event_id=``. Close ``manager`` when the app shuts down (``await manager.aclose()``).
    ``keepalive`` and ``send_timeout`` (seconds; ``None``: off) work as in :func:`sse_response`.
    """
    from starlette.requests import Request

    def default_input(body: Any) -> Any:
        if not isinstance(body, dict) or "input" not in body:
            raise ValueError('the body must be a JSON object with an "input"')
        return body["input"]

    pick = input_of or default_input

    async def start(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > max_body:
            return _error(413, "body_too_large", f"the body is limited to {max_body} bytes")
        try:
            input = pick(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            return _error(422, "bad_input", str(exc))
        run_id = await manager.start(agent_factory(), input)

        async def frames() -> AsyncIterator[str]:
            # frame 1 is known: send it at once (no store round trip before the first byte), then follow
            yield encode_frame(Frame(1, "run", _dumps({"run_id": run_id})))
            async with aclosing(manager.frames(run_id, 1)) as rest:  # closed with this one
                async for text in rest:
                    yield text
        return _stream(frames(), {RUN_ID_HEADER: run_id}, keepalive, send_timeout)

    async def events(request: Request) -> Any:
        run_id = request.path_params["run_id"]
        raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or "0"
        try:
            after = int(raw.strip())
            if after < 0:
                raise ValueError
        except ValueError:
            return _error(400, "bad_last_event_id", f"Last-Event-ID must be a frame id (>= 0), not {raw!r}")
        try:
            await manager.check(run_id, after)
        except (UnknownRunError, FutureIdError) as exc:
            return _lookup_error(exc)
        return _stream(manager.frames(run_id, after), {RUN_ID_HEADER: run_id}, keepalive, send_timeout)

    app.add_route(prefix, start, methods=["POST"])
    app.add_route(prefix + "/{run_id}/events", events, methods=["GET"])
