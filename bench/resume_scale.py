"""Scale-out figures of resumable runs: N concurrent streams over 2 workers sharing one Redis.

    python bench/resume_scale.py                 # 500 streams, 20% cut and resumed on the other worker
    python bench/resume_scale.py --streams 100 --pace 0.01

Starts a ``redis-server`` on 127.0.0.1 (a free port, no persistence) and two ``fieldstream serve
--redis`` worker processes (one port each, so a client can resume on *the other* worker), then
runs the clients in this process (httpx + httpx-sse). Every client POSTs a run of the scripted
story to worker ``i % 2``; the clients with ``i % 5 == 0`` drop their connection after a random
number of frames and resume on the other worker with ``Last-Event-ID``. Checked for every client:
the frame ids are 1, 2, 3, ... with none repeated across the cut, the text joined from the deltas
equals each field of the typed result, and the result equals the story. Reported: p50/p99 time to
the first event (from sending the POST), total wall time, and memory per stream (the growth of
the workers' RSS and of Redis' ``used_memory`` at the peak, divided by the number of streams).
Prints a Markdown table (the one in docs/agents.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import EventSource

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fieldstream._demo import STORY  # noqa: E402
from fieldstream.agents.sse import fold_frames  # noqa: E402
from support import redis_server  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_worker(redis_url: str, pace: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fieldstream", "serve", "--redis", redis_url, "--port", str(port),
         "--model", "scripted", "--pace", str(pace), "--grace", "60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "FIELDSTREAM_MODEL": ""})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/schema", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("worker did not start")
        time.sleep(0.1)


Frame = tuple[int, str, dict[str, Any]]


async def frames_of(client: httpx.AsyncClient, method: str, url: str, limit: int | None,
                    first_at: list[float], **kw: Any) -> list[Frame]:
    out: list[Frame] = []
    async with client.stream(method, url, **kw) as resp:
        resp.raise_for_status()
        async for sse in EventSource(resp).aiter_sse():
            if not first_at:
                first_at.append(time.perf_counter())
            out.append((int(sse.id), sse.event, json.loads(sse.data)))
            if limit is not None and len(out) >= limit:
                break
    return out


def check(frames: list[Frame]) -> str | None:
    """None when the client's frames are exact, else what is wrong."""
    ids = [n for n, _, _ in frames]
    if ids != list(range(1, len(ids) + 1)):
        return "ids not 1..n (a frame lost or repeated)"
    state = fold_frames(frames)
    if state["result"] != STORY:
        return "result differs"
    texts = state["calls"]["final_result"]["texts"]
    want = {json.dumps([k]): v for k, v in STORY.items() if isinstance(v, str)}
    want.update({f'["characters",{i}]': c for i, c in enumerate(STORY["characters"])})
    if {k.replace(" ", ""): v for k, v in want.items()} != texts:
        return "joined deltas differ from the result"
    return None


async def client(i: int, workers: list[str], http: httpx.AsyncClient, cut_every: int,
                 rng: random.Random) -> dict[str, Any]:
    home, other = workers[i % 2], workers[(i + 1) % 2]
    cut = i % cut_every == 0
    first_at: list[float] = []
    started = time.perf_counter()
    limit = rng.randint(3, 45) if cut else None
    frames = await frames_of(http, "POST", f"{home}/api/runs", limit, first_at, json={"input": f"fable {i}"})
    if cut:
        run_id = frames[0][2]["run_id"]
        frames += await frames_of(http, "GET", f"{other}/api/runs/{run_id}/events", None, [],
                                  headers={"Last-Event-ID": str(frames[-1][0])})
    return {"ttfe": first_at[0] - started, "cut": cut, "error": check(frames), "frames": len(frames)}


async def run_clients(n: int, workers: list[str], cut_every: int,
                      sample: Any) -> tuple[list[dict[str, Any]], float]:
    rng = random.Random(1)
    limits = httpx.Limits(max_connections=n * 2, max_keepalive_connections=n * 2)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        started = time.perf_counter()
        sampler = asyncio.create_task(sample())
        results = await asyncio.gather(*(client(i, workers, http, cut_every, rng) for i in range(n)))
        wall = time.perf_counter() - started
        sampler.cancel()
    return list(results), wall


def redis_used(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).info("memory")["used_memory"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=500)
    ap.add_argument("--pace", type=float, default=0.02, help="seconds between model deltas (default: 0.02)")
    ap.add_argument("--cut-every", type=int, default=5, help="cut every k-th client (default: 5, i.e. 20%%)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        rproc, rurl = redis_server.start(Path(tmp))
        procs: list[subprocess.Popen[bytes]] = []
        try:
            workers = []
            for _ in range(2):
                proc, url = start_worker(rurl, args.pace)
                procs.append(proc)
                workers.append(url)
            # warm up (imports, first run) before measuring the baseline
            for url in workers:
                httpx.post(f"{url}/api/runs", json={"input": "warm"}, timeout=60).read()
            base_rss = sum(rss_kib(p.pid) for p in procs)
            base_redis = redis_used(rurl)
            peak = {"rss": base_rss, "redis": base_redis}

            async def sample() -> None:
                while True:
                    await asyncio.sleep(0.25)
                    peak["rss"] = max(peak["rss"], sum(rss_kib(p.pid) for p in procs))
                    peak["redis"] = max(peak["redis"], await asyncio.to_thread(redis_used, rurl))

            results, wall = asyncio.run(run_clients(args.streams, workers, args.cut_every, sample))
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            redis_server.stop(rproc)

    errors = [r["error"] for r in results if r["error"]]
    ttfe = sorted(r["ttfe"] * 1000 for r in results)
    cut = sum(r["cut"] for r in results)
    p99 = ttfe[min(len(ttfe) - 1, int(len(ttfe) * 0.99))]
    rss_per = (peak["rss"] - base_rss) / args.streams
    redis_per = (peak["redis"] - base_redis) / 1024 / args.streams
    print("| streams | cut and resumed on the other worker | exact results | duplicated deltas "
          "| time to first event p50 / p99 | wall | memory per stream (workers RSS + Redis) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.streams} over 2 workers | {cut} ({cut / args.streams:.0%}) | "
          f"{args.streams - len(errors)} / {args.streams} | {sum('repeated' in e for e in errors)} | "
          f"{statistics.median(ttfe):.0f} ms / {p99:.0f} ms | {wall:.1f} s | "
          f"{rss_per:.0f} KiB + {redis_per:.0f} KiB |")
    print(f"\n(frames per stream: {results[0]['frames']}; pace {args.pace} s per model delta; "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    for e in sorted(set(errors)):
        print("error:", e, errors.count(e))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
