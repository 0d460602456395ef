"""``fieldstream serve``'s app shares one provider model (one HTTP client, pooled connections).

The fake provider (``support.provider_server``) runs in its own thread and event loop; the app runs
under FastAPI's TestClient. Two runs must reuse one TCP connection of one client, and the client
must be closed when the app shuts down.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

import fieldstream.web.app as web_app
from fieldstream._demo import STORY
from support.provider_server import ProviderServer, Reply


def _story_reply() -> Reply:
    think = json.dumps({"reasoning": "ok", "tool_calls": [], "is_complete": True, "final_result": STORY})
    return Reply.sse({"choices": [{"index": 0, "delta": {"content": think}, "finish_reason": "stop"}]})


class _Background:
    """A ProviderServer on its own loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = ProviderServer(_story_reply())
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ProviderServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.__aenter__(), self.loop).result(10)
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.__aexit__(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def provider() -> Iterator[ProviderServer]:
    with _Background() as server:
        yield server


def test_the_app_shares_one_provider_model_and_closes_it(provider: ProviderServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []
    real = web_app.resolve_model

    def counting(spec: Any) -> Any:
        made.append(real(spec))
        return made[-1]

    monkeypatch.setattr(web_app, "resolve_model", counting)
    app = web_app.create_app(model=f"openai-compatible:m@{provider.url}")
    with TestClient(app, base_url="http://127.0.0.1") as client:  # a loopback Host (the allow-list)
        for _ in range(2):
            body = client.post("/api/run", json={"input": "a fable"}).text
            assert "event: result" in body or '"result"' in body
    assert len(made) == 1
    assert len(provider.requests) == 2 and provider.connections == 1
    assert made[0]._client is None  # closed by the app's shutdown


def test_offline_and_scripted_models_stay_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_app, "resolve_model", lambda spec: pytest.fail("resolved at app creation"))
    web_app.create_app(model="offline")
    web_app.create_app(model="scripted")
