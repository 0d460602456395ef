"""Load test: N concurrent agent runs against a local fake OpenAI-compatible server.

    python bench/provider_load.py                      # 500 streams, this checkout
    PYTHONPATH=/tmp/old/src python bench/provider_load.py --label before   # another version

The fake server runs in a child process (``--serve``): a raw asyncio HTTP/1.1 server on 127.0.0.1
(keep-alive, chunked ``text/event-stream``) that answers every chat-completions request with one
think JSON answer in ``--chunks`` deltas, ``--gap`` seconds apart. The parent process runs
``--streams`` concurrent :meth:`fieldstream.agents.Agent.stream` runs on ONE ``OpenAIChatModel``
and reports, for the runs: time to first event (first ``Chunk``) p50/p99, total wall time, failures,
and the parent's peak RSS. Only public API present in every version is used, so the same script
measures an older checkout (``PYTHONPATH``) for a before/after comparison.

Not part of the test suite (it takes tens of seconds and loads the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

# ---------------------------------------------------------------------------- the fake server


def _answer(chunks: int) -> list[bytes]:
    think = json.dumps({"reasoning": "A short fable about patience and a careful ant. " * 2,
                        "tool_calls": [], "is_complete": True,
                        "final_result": "Once upon a time an ant waited. The end."})
    size = max(1, len(think) // chunks)
    parts = [think[i:i + size] for i in range(0, len(think), size)]
    events = [{"id": "x", "object": "chat.completion.chunk",
               "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in parts]
    events.append({"id": "x", "object": "chat.completion.chunk",
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]


async def _serve(port: int, chunks: int, gap: float) -> None:
    frames = _answer(chunks)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                             b"transfer-encoding: chunked\r\n\r\n")
                for frame in frames:
                    writer.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                    await writer.drain()
                    await asyncio.sleep(gap)
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


# ---------------------------------------------------------------------------- the client side


async def _load(url: str, streams: int, max_connections: int | None = None) -> dict[str, Any]:
    from fieldstream.agents import Agent, Chunk, OpenAIChatModel

    kw: dict[str, Any] = {} if max_connections is None else {"max_connections": max_connections}
    model = OpenAIChatModel("fake", base_url=url, api_key="none", **kw)
    agent = Agent("load", model=model, max_output_retries=0)
    firsts: list[float] = []
    failures: list[str] = []

    async def one() -> None:
        start = time.perf_counter()
        first = None
        try:
            async for ev in agent.stream("a fable"):
                if first is None and isinstance(ev, Chunk):
                    first = time.perf_counter() - start
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}"[:200])
            return
        if first is not None:
            firsts.append(first)

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(streams)))
    wall = time.perf_counter() - t0
    close = getattr(model, "aclose", None)
    if close is not None:
        await close()
    firsts.sort()
    return {
        "streams": streams,
        "ok": len(firsts),
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "ttfe_p50_s": round(statistics.median(firsts), 3) if firsts else None,
        "ttfe_p99_s": round(firsts[min(len(firsts) - 1, int(len(firsts) * 0.99))], 3) if firsts else None,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_s": round(time.process_time(), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=500)
    ap.add_argument("--chunks", type=int, default=20, help="deltas per answer")
    ap.add_argument("--gap", type=float, default=0.02, help="seconds between deltas")
    ap.add_argument("--port", type=int, default=0, help="server port (0: pick a free one)")
    ap.add_argument("--label", default="this checkout")
    ap.add_argument("--max-connections", type=int, default=None,
                    help="OpenAIChatModel(max_connections=...) (versions that have it; default: theirs)")
    ap.add_argument("--serve", action="store_true", help="run only the fake server (child process)")
    args = ap.parse_args()
    if args.serve:
        asyncio.run(_serve(args.port, args.chunks, args.gap))
        return 0
    port = args.port
    if port == 0:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    child = subprocess.Popen([sys.executable, __file__, "--serve", "--port", str(port), "--chunks",
                              str(args.chunks), "--gap", str(args.gap)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": ""})
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        baseline = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        result = asyncio.run(_load(f"http://127.0.0.1:{port}/v1", args.streams, args.max_connections))
    finally:
        child.terminate()
        child.wait(10)
    import fieldstream

    result = {"label": args.label, "fieldstream": os.path.dirname(fieldstream.__file__),
              "max_connections": args.max_connections,
              "rss_before_runs_mb": baseline, **result}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
