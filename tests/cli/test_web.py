"""The web demo: the app's routes, and the page in a real headless Chromium (playwright).

The browser test starts uvicorn on 127.0.0.1 (a free port) itself and drives Debian's
``/usr/bin/chromium`` (installed by ``.ci/system-deps``); it skips with a message when that
browser or playwright is missing. Progress is observed through a hook the page calls after
applying each SSE frame (it records the field boxes), so the "fields fill progressively"
assertion does not depend on timing.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402

from fieldstream._cli_story import RunState, StoryOutput, parse_sse  # noqa: E402
from fieldstream.web import STATIC_DIR  # noqa: E402
from fieldstream.web.app import create_app  # noqa: E402
from support.web import STORY, agents_available, fake_frames  # noqa: E402

NO_AGENTS = "the agents layer (fieldstream.agents.sse) is not installed"

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("FIELDSTREAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SEED = 11


def _frames_of(body: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for raw in body.replace("\r\n", "\n").split("\n\n"):
        parsed = parse_sse(raw)
        if parsed is not None:
            out.append(parsed)
    return out


# ---------------------------------------------------------------------------------------------- routes


def test_page_is_self_contained_html_without_external_resources() -> None:
    client = TestClient(create_app(frames=lambda q: fake_frames()))
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert html == (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    # offline: no script, style, font or image is fetched from anywhere but this app
    for needle in ("http://", "https://", "//cdn", "<script src", "<link"):
        assert needle not in html, needle


def test_schema_endpoint_returns_the_output_models_json_schema() -> None:
    client = TestClient(create_app(frames=lambda q: fake_frames()))
    assert client.get("/api/schema").json() == StoryOutput.model_json_schema(by_alias=True)


def test_run_endpoint_streams_the_sources_frames_as_event_stream() -> None:
    seen: list[str] = []

    def source(query: str) -> AsyncIterator[str]:
        seen.append(query)
        return fake_frames()

    client = TestClient(create_app(frames=source))
    with client.stream("GET", "/api/run", params={"query": "a fable, please"}) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        body = "".join(resp.iter_text())
    assert seen == ["a fable, please"]

    async def collect() -> str:
        return "".join([f async for f in fake_frames()])

    assert body == asyncio.run(collect())
    frames = _frames_of(body)
    assert frames[-1] == ("result", {"result": STORY})
    state = RunState.for_model(StoryOutput)
    for ev, data in frames:
        state.apply(ev, data)
    assert {name: v.value for name, v in state.fields.items()} == STORY


@pytest.mark.skipif(not agents_available(), reason=NO_AGENTS)
def test_run_endpoint_with_the_offline_agent_ends_with_a_result_that_validates() -> None:
    client = TestClient(create_app(model="offline", seed=SEED, pace=0.0))
    with client.stream("GET", "/api/run", params={"query": "Write a fable"}) as resp:
        assert resp.status_code == 200
        body = "".join(resp.iter_text())
    frames = _frames_of(body)
    kinds = [ev for ev, _ in frames]
    assert "chunk" in kinds and kinds[-1] == "result", kinds[-5:]
    result = frames[-1][1]["result"]
    StoryOutput.model_validate(result)
    # the streamed deltas of each string field concatenate to its final value
    streamed: dict[str, str] = {}
    for ev, data in frames:
        if ev == "chunk" and data.get("call_type") == "final_result":
            path = str(data["json_path"]).removeprefix("final_result.").removeprefix("$.")
            streamed[path] = streamed.get(path, "") + data["delta"]
    for key in ("title", "content", "moral"):
        assert streamed.get(key) == result[key]


# ---------------------------------------------------------------------------------------------- browser


def _browser_or_skip() -> Any:
    # In CI (FIELDSTREAM_REQUIRE_BROWSER=1) a missing browser is a failure, never a silent skip.
    skip = pytest.fail if os.environ.get("FIELDSTREAM_REQUIRE_BROWSER") == "1" else pytest.skip
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip("playwright is not installed (pip install playwright); browser test skipped")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        skip(f"Chromium not found at {CHROMIUM}: run .ci/system-deps (apt-get install chromium) "
                    "to enable the browser test")
    return sync_playwright


class _Server:
    """uvicorn serving ``app`` in a thread on a socket bound to a free 127.0.0.1 port."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                break
            self.thread.join(0.01)
        assert self.server.started, "uvicorn did not start"
        return f"http://127.0.0.1:{self.port}/"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


# Records the boxes after every frame the page applies (the page calls window.onFieldstreamFrame),
# before the result frame arrives: progress is observed per frame, without polling or timing.
_RECORDER = """
() => {
  window.__snaps = [];
  window.onFieldstreamFrame = () => {
    if (document.body.dataset.result) return;
    const s = {};
    for (const box of document.querySelectorAll('.field')) {
      const v = box.querySelector('.value');
      s[box.dataset.field] = {
        state: box.dataset.state,
        text: v.tagName === 'UL' ? null : v.textContent,
        items: v.tagName === 'UL' ? Array.from(v.querySelectorAll('.item-text')).map(e => e.textContent)
                                  : null,
      };
    }
    s.__think = document.getElementById('think').textContent;
    window.__snaps.push(s);
  };
}
"""

_READ_FIELDS = """
() => {
  const out = {};
  for (const box of document.querySelectorAll('.field')) {
    const v = box.querySelector('.value');
    out[box.dataset.field] = {
      state: box.dataset.state,
      value: v.tagName === 'UL' ? Array.from(v.querySelectorAll('.item-text')).map(e => e.textContent)
                                : v.textContent,
    };
  }
  return out;
}
"""


def _run_in_browser(app: Any, tmp_path: Path, screenshot: Path, query: str = "Write a short fable"
                    ) -> tuple[list[dict[str, Any]], dict[str, Any],
                                                                          Any, str]:
    sync_playwright = _browser_or_skip()
    with _Server(app) as url, sync_playwright() as pw:
        exe = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=exe, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 900, "height": 1000})
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.goto(url)
            page.wait_for_selector(".field[data-field='content']")
            page.evaluate(_RECORDER)
            page.fill("#query", query)
            page.click("#run")
            page.wait_for_selector("body[data-finished='1']", timeout=60_000)
            snaps: list[dict[str, Any]] = page.evaluate("() => window.__snaps")
            final: dict[str, Any] = page.evaluate(_READ_FIELDS)
            raw = page.evaluate("() => document.body.dataset.result || null")
            think = page.inner_text("#think")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            ctx.close()
    return snaps, final, json.loads(raw) if raw else None, think


def _assert_progressive(snaps: list[dict[str, Any]], result: dict[str, Any]) -> None:
    """Some string field was partly filled, and the list had fewer items, before the result arrived."""
    partial_strings = [
        (name, s[name]["text"]) for s in snaps for name in ("title", "content", "moral")
        if s[name]["text"] and s[name]["text"] != result[name]
    ]
    assert partial_strings, "no string field was ever shown partially filled"
    for name, text in partial_strings:
        assert result[name].startswith(text), (name, text)  # a growing prefix, never garbage
    final_items = result["characters"]

    def growing(items: list[str]) -> bool:  # some items shown, fewer or shorter than at the end
        return (bool(items) and items != final_items and len(items) <= len(final_items)
                and all(f.startswith(i) for i, f in zip(items, final_items[: len(items)], strict=True)))

    assert any(growing(s["characters"]["items"]) for s in snaps), "the list never filled progressively"
    if len(final_items) > 1:
        assert any(0 < len(s["characters"]["items"]) < len(final_items) for s in snaps)
    # the first field finished (marked done) while a later one was still empty or streaming
    assert any(s["title"]["state"] == "done" and s["moral"]["state"] in ("empty", "streaming") for s in snaps)


def _screenshot_path(tmp_path: Path) -> Path:
    if os.environ.get("FIELDSTREAM_UPDATE_SCREENSHOT"):
        return ROOT / "docs" / "screenshot.png"
    return tmp_path / "screenshot.png"


@pytest.mark.browser
def test_page_fills_fields_progressively_and_ends_with_the_streamed_result(tmp_path: Path) -> None:
    app = create_app(frames=lambda q: fake_frames(delay=0.005))
    shot = tmp_path / "screenshot.png" if agents_available() else _screenshot_path(tmp_path)
    snaps, final, result, think = _run_in_browser(app, tmp_path, shot)
    assert result == STORY
    _assert_progressive(snaps, STORY)
    assert {k: v["value"] for k, v in final.items()} == STORY
    assert all(v["state"] == "done" for v in final.values())
    assert think == "I should write a fable. "
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.browser
def test_page_marks_an_invalid_field_and_shows_the_error(tmp_path: Path) -> None:
    app = create_app(frames=lambda q: fake_frames(invalid="moral"))
    _, final, result, _ = _run_in_browser(app, tmp_path, tmp_path / "shot.png")
    assert result is None
    assert final["moral"]["state"] == "invalid"
    assert final["title"]["state"] == "done"


@pytest.mark.browser
@pytest.mark.skipif(not agents_available(), reason=NO_AGENTS)
def test_page_with_the_offline_agent_shows_the_typed_result(tmp_path: Path) -> None:
    from fieldstream._cli_story import make_agent

    app = create_app(model="offline", seed=SEED, pace=0.002)
    query = "Write a short fable about a patient tortoise"
    snaps, final, result, _ = _run_in_browser(app, tmp_path, _screenshot_path(tmp_path), query)
    # oracle: the same agent (same seed, same query) run in-process returns the typed result
    typed = asyncio.run(make_agent("offline", seed=SEED, pace=0.0).process(query))
    assert isinstance(typed, StoryOutput)
    assert result == typed.model_dump(mode="json")
    assert {k: v["value"] for k, v in final.items()} == typed.model_dump(mode="json")
    _assert_progressive(snaps, typed.model_dump(mode="json"))
