"""FastAPI app of the web demo: the page, the demo schema, and an SSE endpoint that runs the agent.

Routes:

* ``GET /``: ``static/index.html``, a single page with plain HTML + JS (no build step, no CDN);
* ``GET /api/schema``: the JSON schema of the demo's output model, so the page can lay out one box
  per field before anything streams;
* ``GET /api/run?query=...``: ``text/event-stream``, the frames of
  :func:`fieldstream.agents.sse.sse_response` (``stream_start``, ``chunk``, ``field``, ``stream_end``,
  ``result``, ``error``) for one run of a fresh agent.

Depends on the agents layer and the demo's content (:mod:`fieldstream._demo`), never on the CLI.
Run it with ``fieldstream serve`` or ``uvicorn --factory fieldstream.web.app:create_app``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from .._demo import StoryOutput, make_agent
from ..agents import Agent, Model
from ..agents.sse import sse_response
from . import STATIC_DIR

__all__ = ["create_app"]


def create_app(*, model: Model | str | None = None, seed: int = 7, pace: float | None = None,
               output_schema: type[BaseModel] = StoryOutput, agent: Callable[[], Agent] | None = None,
               debug: bool = False) -> FastAPI:
    """Build the app.

    Args:
        model: model spec for the agent (``"offline"`` unless ``FIELDSTREAM_MODEL`` is set;
            ``"scripted"`` replays the demo's story).
        seed, pace: options of the offline model.
        output_schema: the Pydantic model whose fields the page shows.
        agent: a factory of the agent to run per request (default: :func:`fieldstream._demo.make_agent`
            with the options above); a fresh agent per request, so scripted models start over.
        debug: error frames carry the exception's real type and message (local development only).
    """
    app = FastAPI(title="fieldstream demo", docs_url=None, redoc_url=None)

    def new_agent() -> Agent:
        if agent is not None:
            return agent()
        return make_agent(model, seed=seed, pace=pace, output_schema=output_schema)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-store"})

    @app.get("/api/schema")
    async def schema() -> JSONResponse:
        body: dict[str, Any] = output_schema.model_json_schema(by_alias=True)
        return JSONResponse(body)

    @app.get("/api/run")
    async def run(request: Request, query: str = Query("Write a short fable", max_length=2000)) -> Any:
        # a fresh agent per request; the run is cancelled when the client disconnects
        return sse_response(new_agent(), query, request=request, debug=debug)

    return app
