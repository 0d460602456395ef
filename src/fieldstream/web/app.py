"""FastAPI app of the web demo: the page, the demo schema, and an SSE endpoint that runs the agent.

Routes:

* ``GET /``: ``static/index.html``, a single page with plain HTML + JS (no build step, no CDN);
* ``GET /api/schema``: the JSON schema of the demo's output model, so the page can lay out one box
  per field before anything streams;
* ``GET /api/run?query=...``: ``text/event-stream`` with the frames of
  :func:`fieldstream.agents.sse.event_stream` (``stream_start``, ``chunk``, ``field``, ``stream_end``,
  ``result``, ``error``) for one run of the agent.

Run it with ``fieldstream serve`` or ``uvicorn --factory fieldstream.web.app:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel

from .._cli_story import StoryOutput, agent_frames, make_agent
from . import STATIC_DIR

__all__ = ["create_app"]

FrameSource = Callable[[str], AsyncIterator[str]]


def create_app(*, model: str | None = None, seed: int = 7, pace: float | None = None,
               output_schema: type[BaseModel] = StoryOutput, frames: FrameSource | None = None) -> FastAPI:
    """Build the app.

    Args:
        model: model for the agent (``"offline"`` unless ``FIELDSTREAM_MODEL`` is set).
        seed, pace: options of the offline model.
        output_schema: the Pydantic model whose fields the page shows.
        frames: override the SSE source (``query -> async iterator of SSE frame strings``); by
            default each request builds a fresh agent and streams ``event_stream(agent, query)``.
    """
    app = FastAPI(title="fieldstream demo", docs_url=None, redoc_url=None)

    def default_frames(query: str, request: Request | None = None) -> AsyncIterator[str]:
        agent = make_agent(model, seed=seed, pace=pace, output_schema=output_schema)
        return agent_frames(agent, query, request)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-store"})

    @app.get("/api/schema")
    async def schema() -> JSONResponse:
        body: dict[str, Any] = output_schema.model_json_schema(by_alias=True)
        return JSONResponse(body)

    @app.get("/api/run")
    async def run(request: Request, query: str = Query("Write a short fable", max_length=2000)
                  ) -> StreamingResponse:
        # a fresh agent per request; the run is cancelled when the client disconnects
        stream = frames(query) if frames is not None else default_frames(query, request)
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app
