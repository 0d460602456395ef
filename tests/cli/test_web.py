"""The web demo: the app's routes, and the page in a real headless Chromium (playwright).

The browser test starts uvicorn on 127.0.0.1 (a free port) itself and drives Debian's
``/usr/bin/chromium`` (installed by ``.ci/system-deps``; one browser per module, a fresh context
per test: the ``browser`` fixture); it skips with a message when that browser or playwright is
missing. Progress is observed through a hook the page calls after applying each SSE frame (it
records the field boxes), so the "fields fill progressively" assertion does not depend on timing.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402

from fieldstream._demo import StoryOutput, make_agent  # noqa: E402
from fieldstream.agents import ModelError  # noqa: E402
from fieldstream.web import STATIC_DIR  # noqa: E402
from fieldstream.web.app import create_app  # noqa: E402
from support.web import STORY, THINK, decode_sse, scripted_agent, story_script  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def scripted_app(**kw: Any) -> Any:
    return create_app(agent=lambda: scripted_agent(**kw))


def local_client(app: Any) -> TestClient:
    """A test client that talks to ``app`` as http://127.0.0.1 (the default Host allow-list)."""
    return TestClient(app, base_url="http://127.0.0.1")


# ---------------------------------------------------------------------------------------------- routes


def test_page_is_self_contained_html_without_external_resources() -> None:
    client = local_client(scripted_app())
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert html == (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    # offline: no script, style, font or image is fetched from anywhere but this app
    for needle in ("http://", "https://", "//cdn", "<script src", "<link"):
        assert needle not in html, needle
    # the page reads path arrays; it never parses json_path back
    assert "data.json_path" not in html and "data.path" in html


def test_schema_endpoint_returns_the_output_models_json_schema() -> None:
    client = local_client(scripted_app())
    assert client.get("/api/schema").json() == StoryOutput.model_json_schema(by_alias=True)


def test_run_endpoint_streams_the_encoders_frames_of_a_fresh_agent_per_request() -> None:
    client = local_client(scripted_app())
    bodies = []
    for query in ("a fable, please", "again"):  # a fresh scripted agent per request
        with client.stream("POST", "/api/run", json={"input": query}) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            bodies.append("".join(resp.iter_text()))
    assert bodies[0] == bodies[1] and bodies[0].isascii()
    frames = decode_sse(bodies[0])
    assert frames[-1][1:] == ("result", {"result": STORY})
    assert [n for n, _, _ in frames] == list(range(1, len(frames) + 1))
    streamed: dict[tuple[Any, ...], str] = {}
    for _, ev, data in frames:
        if ev == "chunk" and data["call_type"] == "final_result":
            streamed[tuple(data["path"])] = streamed.get(tuple(data["path"]), "") + data["delta"]
    assert streamed == {("title",): STORY["title"], ("content",): STORY["content"],
                        ("moral",): STORY["moral"],
                        **{("characters", i): c for i, c in enumerate(STORY["characters"])}}
    think = "".join(d["delta"] for _, ev, d in frames if ev == "chunk" and d["call_type"] == "think")
    assert think == THINK


def test_run_endpoint_error_frame_is_safe_unless_debug() -> None:
    secret = ModelError('HTTP 500 from http://admin:hunter2@10.0.0.7/v1: {"key": "sk-live-1234"}', status=500)
    for debug in (False, True):
        app = create_app(agent=lambda: scripted_agent(fail=secret), debug=debug)
        body = local_client(app).post("/api/run", json={"input": "q"}).text
        *_, (_, ev, data) = decode_sse(body)
        assert ev == "error"
        assert ("hunter2" in body) is debug and ("sk-live" in body) is debug
        if not debug:
            assert data == {"type": "ModelError", "message": "the model provider failed (HTTP 500)"}


def test_run_endpoint_with_the_offline_agent_ends_with_a_result_that_validates() -> None:
    client = local_client(create_app(model="offline", seed=11, pace=0.0))
    with client.stream("POST", "/api/run", json={"input": "Write a fable"}) as resp:
        assert resp.status_code == 200
        body = "".join(resp.iter_text())
    frames = decode_sse(body)
    kinds = [ev for _, ev, _ in frames]
    assert "chunk" in kinds and kinds[-1] == "result", kinds[-5:]
    result = frames[-1][2]["result"]
    StoryOutput.model_validate(result)
    streamed: dict[str, str] = {}
    for _, ev, data in frames:
        if ev == "chunk" and data.get("call_type") == "final_result" and len(data["path"]) == 1:
            streamed[data["path"][0]] = streamed.get(data["path"][0], "") + data["delta"]
    for key in ("title", "content", "moral"):
        assert streamed.get(key) == result[key]


# ---------------------------------------------------------------------------------------------- browser


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


def _run_in_browser(browser: Any, app: Any, screenshot: Path, query: str = "Write a short fable"
                    ) -> tuple[list[dict[str, Any]], dict[str, Any],
                                                                          Any, str]:
    with _Server(app) as url:
        ctx = browser.new_context(viewport={"width": 900, "height": 1000})
        try:
            page = ctx.new_page()
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
def test_page_fills_fields_progressively_and_ends_with_the_streamed_result(browser: Any,
                                                                            tmp_path: Path) -> None:
    app = scripted_app(pace=0.003)
    shot = _screenshot_path(tmp_path)
    snaps, final, result, think = _run_in_browser(browser, app, shot)
    assert result == STORY
    _assert_progressive(snaps, STORY)
    assert {k: v["value"] for k, v in final.items()} == STORY
    assert all(v["state"] == "done" for v in final.values())
    assert think == THINK
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.browser
def test_page_marks_an_invalid_field_and_shows_the_error(browser: Any, tmp_path: Path) -> None:
    from fieldstream.agents import OfflineModel

    bad = json.dumps({**STORY, "moral": 5})
    app = create_app(agent=lambda: make_agent(OfflineModel(pace=0.001, script=story_script(bad)),
                                              max_output_retries=0))
    _, final, result, _ = _run_in_browser(browser, app, tmp_path / "shot.png")
    assert result is None
    assert final["moral"]["state"] == "invalid"
    assert final["title"]["state"] == "done"


@pytest.mark.browser
def test_page_renders_hostile_text_verbatim_and_a_field_named_final_result(browser: Any,
                                                                           tmp_path: Path) -> None:
    from pydantic import BaseModel

    from fieldstream.agents import OfflineModel

    class Out(BaseModel):
        final_result: str
        content: str
        title: str
        moral: str
        characters: list[str]

    hostile = "a\u2028event: error\u2028data: {}\u2028\u2028b\u0085c\r\nevent: result\n\ndata: x\n\nd"
    answer = {"final_result": "forty-two", "content": hostile, "title": "T", "moral": "M",
              "characters": ["x"]}
    app = create_app(output_schema=Out, agent=lambda: make_agent(
        OfflineModel(pace=0.002, script=story_script(answer)), output_schema=Out))
    snaps, final, result, _ = _run_in_browser(browser, app, tmp_path / "shot.png")
    assert result == answer
    assert final["final_result"]["state"] == "done" and final["final_result"]["value"] == "forty-two"
    # rendered live (before the result frame) under its own name
    assert any(s.get("final_result", {}).get("text") for s in snaps)
    assert final["content"]["value"] == hostile.replace("\r\n", "\n").replace("\r", "\n") or \
        final["content"]["value"] == hostile


@pytest.mark.browser
def test_page_sse_parser_agrees_with_httpx_sse_for_any_line_ending_and_split(browser: Any) -> None:
    """The client module's SSEParser against the project's Python decoder (httpx-sse) as the oracle."""
    import random

    import httpx
    from httpx_sse import EventSource

    # (httpx-sse dispatches an empty event for a blank line after a lone comment once an id was seen,
    # where the spec dispatches nothing; our frames never have lone comments, so none is tested)
    body = ('id: 1\nevent: chunk\ndata: {"delta":"a\\u2028b"}\n\n: a comment\n'
            'event: field\ndata: line one\ndata: line two\n\ndata\n\nevent: result\ndata:  two spaces\n\n'
            'event: x\ndata: \u2028raw separator\u0085 stays\n\n')
    texts = [body, body.replace("\n", "\r\n"), body.replace("\n", "\r")]

    def oracle(text: str) -> list[list[str]]:
        resp = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())
        return [[sse.event or "message", sse.data] for sse in EventSource(resp).iter_sse()]

    rng = random.Random(7)
    cases = []
    for text in texts:
        for _ in range(20):
            cuts = sorted(rng.sample(range(1, len(text)), 6))
            cases.append((text, [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]))
    with _Server(scripted_app()) as url:
        ctx = browser.new_context()
        try:
            page = ctx.new_page()
            page.goto(url)  # the parser is the client module's, served at /static/fieldstream.js
            got = page.evaluate("""async (cases) => {
                const {SSEParser} = await import("/static/fieldstream.js");
                return cases.map((pieces) => {
                    const out = [];
                    const p = new SSEParser((ev) => out.push([ev.event, ev.data]));
                    for (const piece of pieces) p.push(piece);
                    return out;
                });
            }""", [pieces for _, pieces in cases])
        finally:
            ctx.close()
    for (text, _), events in zip(cases, got, strict=True):
        assert events == oracle(text), repr(text[:40])
