"""Time to detect a stalled model, end to end: the client's time from the last frame before the
stall to the ``error`` frame, and the time until the model's stream was closed.

A model streams part of its answer, then sends nothing (a stalled connection, or a trickle slower
than the idle timeout). The app is ``fieldstream serve``'s (``create_app``) under uvicorn on
127.0.0.1, read with httpx + httpx-sse.

    python bench/stalled_model.py [--idle 1.0] [--runs 5]

Used for the figures in docs/security.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import EventSource
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fieldstream.agents import Agent
from fieldstream.web.app import create_app
from support.web import serve

THINK = '{"reasoning": "ok", "tool_calls": [], "is_complete": true, "final_result": null}'


class Out(BaseModel):
    content: str


class Stalling:
    def __init__(self) -> None:
        self.closed_at: float | None = None

    async def stream(self, messages: Any, schema: Any, *, name: str = "call") -> Any:
        if name == "think":
            yield THINK
            return
        try:
            yield '{"content": "the beginning of an answer'
            await asyncio.sleep(3600)  # stalled
            yield '"}'
        finally:
            self.closed_at = time.perf_counter()


def main() -> None:
    logging.disable(logging.CRITICAL)  # the server logs each failed run with its traceback
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    models: list[Stalling] = []

    def factory() -> Agent:
        models.append(Stalling())
        return Agent(name="Stall", output_schema=Out, model=models[-1], model_idle_timeout=args.idle)

    detect, close = [], []
    with serve(create_app(agent=factory)) as url, httpx.Client(timeout=60) as client:
        for _ in range(args.runs):
            last = 0.0
            with client.stream("POST", url + "/api/run", json={"input": "q"}) as resp:
                for sse in EventSource(resp).iter_sse():
                    now = time.perf_counter()
                    if sse.event == "error":
                        detect.append(now - last)
                        error = json.loads(sse.data)
                        break
                    if sse.event == "chunk":  # the last text before the stall
                        last = now
            closed_at = models[-1].closed_at
            assert closed_at is not None
            close.append(closed_at - last)
    print(json.dumps({"idle_timeout_s": args.idle, "runs": args.runs,
                      "detect_s_median": round(statistics.median(detect), 4),
                      "detect_s_max": round(max(detect), 4),
                      "model_stream_closed_after_s_median": round(statistics.median(close), 4),
                      "error_frame": error}))


if __name__ == "__main__":
    main()
