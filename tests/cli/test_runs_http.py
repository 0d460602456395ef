"""Resumable runs over real HTTP: ``POST /api/runs`` and ``GET /api/runs/{id}/events``.

Servers are real uvicorn instances on 127.0.0.1 (in threads; and ``fieldstream serve --workers 2``
as a subprocess), clients are httpx with the project's SSE reader (httpx-sse). The oracle is the
scripted story (:data:`STORY`) and the one-connection encoder's frames for the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("fastapi")
import httpx

from fieldstream.agents.sse import MemoryStore, RedisStore, RunManager, fold_frames
from fieldstream.web.app import create_app
from support.redis_server import redis_server_fixture
from support.web import STORY, aiter_frames, decode_sse, scripted_agent
from support.web import serve as web_serve

__all__ = ["redis_server_fixture"]

Frame = tuple[int, str, dict[str, Any]]


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """uvicorn with the app's lifespan (so the run manager is closed) on a free port, in a thread."""
    with web_serve(app, lifespan="on") as url:
        yield url


def app_on(store: Any, pace: float = 0.001, grace: float = 30.0) -> Any:
    return create_app(agent=lambda: scripted_agent(pace=pace), manager=RunManager(store, grace=grace))


def client_state(frames: list[Frame]) -> dict[str, Any]:
    start, rest = None, []
    for frame in frames:
        if frame[1] == "snapshot":
            start = {**frame[2], "calls": {ct: {k: v for k, v in c.items() if k != "partial"}
                                           for ct, c in frame[2]["calls"].items()}}
            rest = []
        else:
            rest.append(frame)
    return fold_frames(rest, start)


def assert_exact(first: list[Frame], second: list[Frame]) -> None:
    ids = [n for n, _, _ in first + second]
    assert ids == list(range(1, len(ids) + 1)), "a frame was lost or repeated across the cut"
    state = client_state(first + second)
    assert state["result"] == STORY
    texts = state["calls"]["final_result"]["texts"]
    for key in ("title", "content", "moral"):
        assert texts[json.dumps([key])] == STORY[key]
    for i, name in enumerate(STORY["characters"]):
        assert texts[f'["characters",{i}]'] == name


async def read(client: httpx.AsyncClient, method: str, url: str, k: int | None = None,
               **kw: Any) -> tuple[httpx.Response, list[Frame]]:
    """Read ``k`` frames (all when ``None``) and drop the connection."""
    out: list[Frame] = []
    async with client.stream(method, url, **kw) as resp:
        if resp.status_code == 200 and k != 0:
            async for frame in aiter_frames(resp):
                out.append(frame)
                if k is not None and len(out) >= k:
                    break
        else:
            await resp.aread()
    return resp, out


async def every_k(start_url: str, resume_url: str) -> int:
    """POST a run on ``start_url``; one client per k follows it there, drops after k frames and
    resumes on ``resume_url`` (with the header, or the query parameter for odd k)."""
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=400)) as client:
        resp, first = await read(client, "POST", f"{start_url}/api/runs", 3, json={"input": "a fable"})
        run_id = resp.headers["fieldstream-run-id"]
        assert first[0][1:] == ("run", {"run_id": run_id})
        events = f"/api/runs/{run_id}/events"

        async def one(k: int) -> int:
            _, a = await read(client, "GET", start_url + events, k)
            if k % 2:
                resp, b = await read(client, "GET", resume_url + events, params={"last_event_id": k})
            else:
                resp, b = await read(client, "GET", resume_url + events, headers={"Last-Event-ID": str(k)})
            assert resp.status_code == 200 and resp.headers["fieldstream-run-id"] == run_id
            assert_exact(a, b)
            return len(a) + len(b)

        _, rest = await read(client, "GET", resume_url + events, headers={"Last-Event-ID": "3"})
        assert_exact(first, rest)
        total = len(first) + len(rest)
        sizes = await asyncio.gather(*(one(k) for k in range(total + 1)))
        assert set(sizes) == {total}
        return total


def test_post_streams_the_run_and_every_cut_resumes_exactly_in_memory() -> None:
    with serve(app_on(MemoryStore())) as url:
        assert asyncio.run(every_k(url, url)) > 50


def test_every_cut_resumes_exactly_on_another_instance_sharing_redis(redis_url: str) -> None:
    prefix = f"h{uuid.uuid4().hex[:8]}:"
    with serve(app_on(RedisStore(redis_url, prefix=prefix))) as a, \
            serve(app_on(RedisStore(redis_url, prefix=prefix))) as b:
        assert asyncio.run(every_k(a, b)) > 50


def test_frames_of_a_run_equal_the_one_connection_encoders() -> None:
    from fieldstream.agents.sse import event_stream

    async def encoder() -> str:
        return "".join([f async for f in event_stream(scripted_agent(), "q")])
    oracle = decode_sse(asyncio.run(encoder()))
    with serve(app_on(MemoryStore(), pace=0.0)) as url:
        resp = httpx.post(f"{url}/api/runs", json={"input": "q"}, timeout=30)
    frames = decode_sse(resp.text)
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert frames[1:] == [(n + 1, ev, d) for n, ev, d in oracle]


def test_unknown_expired_future_and_bad_ids_get_json_errors_at_once() -> None:
    now = [1000.0]  # the store's clock: the TTL passes when the test says so, not when the machine is slow
    app = create_app(agent=lambda: scripted_agent(pace=0.0),
                     manager=RunManager(MemoryStore(ttl=0.3, clock=lambda: now[0])))
    with serve(app) as url, httpx.Client(base_url=url, timeout=5) as client:
        frames = decode_sse(client.post("/api/runs", json={"input": "q"}).text)
        run_id, last = frames[0][2]["run_id"], frames[-1][0]
        events = f"/api/runs/{run_id}/events"
        started = time.monotonic()
        resp = client.get("/api/runs/no-such-run/events")
        assert (resp.status_code, resp.json()["error"]) == (404, "unknown_run")
        resp = client.get(events, headers={"Last-Event-ID": str(last + 1)})
        assert resp.status_code == 410
        assert resp.json() == {"error": "future_event_id", "run_id": run_id, "last_event_id": last,
                               "message": resp.json()["message"]}
        resp = client.get(events, headers={"Last-Event-ID": "x"})
        assert (resp.status_code, resp.json()["error"]) == (400, "bad_last_event_id")
        assert time.monotonic() - started < 4  # (a generous bound: "not a hang", not a timing test)
        assert decode_sse(client.get(events, headers={"Last-Event-ID": str(last)}).text) == []
        resp = client.post("/api/runs", json={"query": "q"})
        assert (resp.status_code, resp.json()["error"]) == (422, "bad_input")
        assert client.get("/api/runs").status_code == 405  # GET never starts a run
        now[0] += 0.4
        resp = client.get(events)
        assert (resp.status_code, resp.json()["error"]) == (410, "run_expired")


def test_a_body_over_the_default_limit_is_refused_before_any_run_starts() -> None:
    from starlette.applications import Starlette

    from fieldstream.agents.sse import mount_runs

    app = Starlette()
    manager = RunManager(MemoryStore())
    mount_runs(app, manager, scripted_agent)  # the default limit: 65 536 bytes

    async def main() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://runs") as client:
            over = await client.post("/api/runs", content=b" " * 65_537)
            at = await client.post("/api/runs", content=b" " * 65_536)
        await manager.aclose()
        return over, at

    over, at = asyncio.run(main())
    assert over.status_code == 413
    assert over.json() == {"error": "body_too_large", "message": "the body is limited to 65536 bytes"}
    assert (at.status_code, at.json()["error"]) == (422, "bad_input")  # read and parsed: not JSON
    assert manager.running() == []


def test_the_client_module_is_served() -> None:
    with serve(app_on(MemoryStore())) as url:
        js = httpx.get(f"{url}/static/fieldstream.js")
        dts = httpx.get(f"{url}/static/fieldstream.d.ts")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "export function startRun" in js.text and "export declare function startRun" in dts.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_refuses_several_workers_without_redis() -> None:
    from fieldstream._cli import main

    err = __import__("io").StringIO()
    assert main(["serve", "--workers", "2"], stderr=err) == 2
    assert "--workers 2 needs --redis" in err.getvalue()


@pytest.mark.slow
def test_serve_with_two_workers_and_redis_resumes_across_processes(redis_url: str) -> None:
    """``fieldstream serve --workers 2 --redis``: two processes; resumes land on either of them."""
    port = _free_port()
    env = {**os.environ, "FIELDSTREAM_MODEL": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fieldstream", "serve", "--workers", "2", "--redis", redis_url,
         "--port", str(port), "--model", "scripted", "--pace", "0.002"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/schema", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)

        async def main() -> None:
            async with httpx.AsyncClient(timeout=30) as client:
                for k in (1, 7, 30, 55):
                    resp, first = await read(client, "POST", f"{url}/api/runs", k, json={"input": "q"})
                    run_id = resp.headers["fieldstream-run-id"]
                    second: list[Frame] = []
                    while not second or second[-1][1] != "result":  # resume in pieces, new connections
                        after = (first + second)[-1][0]
                        _, more = await read(client, "GET", f"{url}/api/runs/{run_id}/events", 5,
                                             headers={"Last-Event-ID": str(after)})
                        second += more
                    assert_exact(first, second)
        asyncio.run(main())
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_resumable_streams_send_keep_alive_comments_while_quiet() -> None:
    from fastapi import FastAPI

    from fieldstream.agents.sse import KEEPALIVE, mount_runs

    app = FastAPI()
    manager = RunManager(MemoryStore())
    mount_runs(app, manager, lambda: scripted_agent(pace=0.015), keepalive=0.005)  # 3 per quiet gap
    with serve(app) as url:
        resp = httpx.post(f"{url}/api/runs", json={"input": "q"}, timeout=60)
    asyncio.run(manager.aclose())
    assert resp.text.count(KEEPALIVE) >= 3  # the comments fell between frames of a slow run
    frames = decode_sse(resp.text)  # ...and clients do not see them
    assert [n for n, _, _ in frames] == list(range(1, len(frames) + 1))
    assert frames[0][1] == "run" and frames[-1][1] == "result"
