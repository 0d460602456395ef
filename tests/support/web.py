"""Helpers shared by the agents/CLI/web tests (no tests here).

Frames always come from the real encoder (an agent with a scripted offline model behind
``fieldstream.agents.sse``), and they are always read with the project's one SSE decoder,
``httpx-sse`` (:func:`decode_sse`, :func:`aiter_frames`), never split by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from httpx_sse import EventSource

from fieldstream._demo import STORY, THINK, make_agent, scripted_model, story_script
from fieldstream.agents import Agent

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "STORY", "THINK", "Frame", "aiter_frames", "chromium", "decode_sse",
           "frames_of", "iter_frames", "scripted_agent", "serve", "story_script"]

Frame = tuple[int, str, dict[str, Any]]


def decode_sse(text: str) -> list[Frame]:
    """``(id, event, data)`` of every frame in ``text`` (httpx-sse's decoder, spec line rules)."""
    resp = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode("utf-8"))
    return [(int(sse.id), sse.event, json.loads(sse.data)) for sse in EventSource(resp).iter_sse()]


def iter_frames(resp: httpx.Response) -> Iterator[Frame]:
    """The frames of a streamed response, one by one as they arrive."""
    for sse in EventSource(resp).iter_sse():
        yield int(sse.id), sse.event, json.loads(sse.data)


def frames_of(resp: httpx.Response) -> list[Frame]:
    """All frames of a streamed response."""
    return list(iter_frames(resp))


async def aiter_frames(resp: httpx.Response) -> AsyncIterator[Frame]:
    async for sse in EventSource(resp).aiter_sse():
        yield int(sse.id), sse.event, json.loads(sse.data)


def scripted_agent(story: dict[str, Any] | str = STORY, *, pace: float = 0.0,
                   fail: BaseException | None = None, retries: int = 0, **kw: Any) -> Agent:
    """The demo agent on a scripted model that streams ``story`` (raw JSON text when a string)."""
    return make_agent(scripted_model(story, pace=pace, fail=fail, **kw), max_output_retries=retries)


@contextmanager
def serve(app: Any, *, lifespan: str = "off") -> Iterator[str]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yield its base URL (no slash).

    ``lifespan="on"`` runs the app's startup/shutdown (e.g. to close a run manager)."""
    import uvicorn

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if server.started:
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


CHROMIUM = os.environ.get("FIELDSTREAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Debian's ``/usr/bin/chromium`` driven by playwright) for the browser tests.

    Skips when playwright or the browser is missing; in CI (``FIELDSTREAM_REQUIRE_BROWSER=1``) that is
    a failure, never a silent skip. The tests share one browser per module (the ``browser`` fixture of
    tests/cli/conftest.py) and each opens its own context (``browser.new_context()``: its own cookies,
    storage and cache), which is what a fresh browser gives, without the ~1 s launch."""
    import pytest

    skip = pytest.fail if os.environ.get("FIELDSTREAM_REQUIRE_BROWSER") == "1" else pytest.skip
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip("playwright is not installed (pip install playwright); browser test skipped")
    exe = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if exe is None:
        skip(f"Chromium not found at {CHROMIUM}: run .ci/system-deps (apt-get install chromium) "
             "to enable the browser test")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
