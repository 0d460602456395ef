"""The page resumes a dropped stream: headless Chromium (playwright) against a server that cuts it.

A middleware ends the responses of the first requests after a few frames (the POST cleanly, the
first resume abruptly), so the page's client (``static/fieldstream.js``) has to reconnect with
``Last-Event-ID``; with a store that keeps only a few frames the resume starts with a ``snapshot``.
The oracle is the scripted story: the rendered fields must equal the typed result, and every text
shown on the way must be a prefix of the final text (a duplicated delta would break that).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")

from test_web import _READ_FIELDS, _RECORDER, _Server

from fieldstream.agents.sse import MemoryStore, RunManager
from fieldstream.web.app import create_app
from support.web import STORY, THINK, scripted_agent


class _Cut:
    """ASGI middleware: the n-th request to the run routes ends after ``after[n]`` frames (clean end
    for even n, a broken connection for odd n); later requests pass through."""

    def __init__(self, app: Any, after: list[int]) -> None:
        self.app = app
        self.after = list(after)
        self.cuts: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/runs") or not self.after:
            return await self.app(scope, receive, send)
        limit = self.after.pop(0)
        abrupt = len(self.cuts) % 2 == 1
        self.cuts.append(f"{scope['method']} {scope['path']}")
        frames = 0

        async def cut_send(message: dict[str, Any]) -> None:
            nonlocal frames
            if message["type"] == "http.response.body" and message.get("more_body"):
                frames += message.get("body", b"").count(b"\n\n")
                await send(message)
                if frames >= limit:
                    if abrupt:
                        raise ConnectionAbortedError("test: connection cut")
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    raise ConnectionResetError("test: stream ended early")
                return
            await send(message)

        try:
            await self.app(scope, receive, cut_send)
        except (ConnectionAbortedError, ConnectionResetError) as exc:
            if isinstance(exc, ConnectionAbortedError):
                raise


def _run_page(browser: Any, app: Any
              ) -> tuple[list[dict[str, Any]], dict[str, Any], Any, str, dict[str, str]]:
    import json

    with _Server(app) as url:
        ctx = browser.new_context()
        try:
            page = ctx.new_page()
            page.goto(url)
            page.wait_for_selector(".field[data-field='content']")
            page.evaluate(_RECORDER)
            page.click("#run")
            page.wait_for_selector("body[data-finished='1']", timeout=60_000)
            snaps: list[dict[str, Any]] = page.evaluate("() => window.__snaps")
            final: dict[str, Any] = page.evaluate(_READ_FIELDS)
            raw = page.evaluate("() => document.body.dataset.result || null")
            think = page.inner_text("#think")
            data: dict[str, str] = page.evaluate("() => ({...document.body.dataset})")
        finally:
            ctx.close()
    return snaps, final, json.loads(raw) if raw else None, think, data


def _assert_no_duplicate_text(snaps: list[dict[str, Any]]) -> None:
    for snap in snaps:
        for name in ("title", "content", "moral"):
            assert STORY[name].startswith(snap[name]["text"] or ""), (name, snap[name]["text"])
        items = snap["characters"]["items"]
        assert len(items) <= len(STORY["characters"])
        for shown, final in zip(items, STORY["characters"], strict=False):
            assert final.startswith(shown), (shown, final)
        assert THINK.startswith(snap["__think"]), snap["__think"]


@pytest.mark.browser
@pytest.mark.parametrize("kept", [10_000, 8], ids=["replay", "snapshot"])
def test_page_resumes_a_dropped_stream_without_losing_or_repeating_text(browser: Any, kept: int) -> None:
    manager = RunManager(MemoryStore(max_frames_per_run=kept), snapshot_every=4, grace=30)
    app = _Cut(create_app(agent=lambda: scripted_agent(pace=0.004), manager=manager), after=[12, 9])
    snaps, final, result, think, data = _run_page(browser, app)
    assert app.cuts[0] == "POST /api/runs" and app.cuts[1].endswith("/events")
    assert result == STORY
    assert {k: v["value"] for k, v in final.items()} == STORY
    assert all(v["state"] == "done" for v in final.values())
    assert think == THINK
    assert int(data["reconnects"]) >= 2
    assert ("snapshots" in data) is (kept < 100)
    _assert_no_duplicate_text(snaps)
    assert len(snaps) >= 12  # frames were applied on the way (the first connection had 12)


@pytest.mark.browser
def test_page_renders_nested_objects_as_fields_not_json(browser: Any) -> None:
    import json

    from pydantic import BaseModel

    from fieldstream._demo import make_agent, story_script
    from fieldstream.agents import OfflineModel

    class Author(BaseModel):
        name: str
        born: int

    class Scene(BaseModel):
        place: str
        mood: str

    class Out(BaseModel):
        title: str
        author: Author
        scenes: list[Scene]

    answer = {"title": "T", "author": {"name": "Aesop", "born": -620},
              "scenes": [{"place": "meadow", "mood": "calm"}, {"place": "road", "mood": "tense"}]}
    app = create_app(output_schema=Out, agent=lambda: make_agent(
        OfflineModel(pace=0.002, script=story_script(answer)), output_schema=Out))
    with _Server(app) as url:
        ctx = browser.new_context()
        try:
            page = ctx.new_page()
            page.goto(url)
            page.wait_for_selector(".field[data-field='author']")
            page.click("#run")
            page.wait_for_selector("body[data-finished='1']", timeout=60_000)
            result = json.loads(page.evaluate("() => document.body.dataset.result"))
            shown = page.evaluate("""() => {
              const sub = (el) => Object.fromEntries(Array.from(el.querySelectorAll(':scope > dl.sub > dd'))
                  .map((dd) => [dd.dataset.key, dd.textContent]));
              const author = document.querySelector(".field[data-field='author'] .value");
              const scenes = document.querySelectorAll(".field[data-field='scenes'] .value > li .item-text");
              return {author: sub(author), scenes: Array.from(scenes).map(sub),
                      text: author.textContent + Array.from(scenes).map((s) => s.textContent).join("")};
            }""")
        finally:
            ctx.close()
    assert result == answer
    assert shown["author"] == {"name": "Aesop", "born": "-620"}
    assert shown["scenes"] == [{"place": "meadow", "mood": "calm"}, {"place": "road", "mood": "tense"}]
    assert "{" not in shown["text"] and '"' not in shown["text"]  # fields, not JSON text
