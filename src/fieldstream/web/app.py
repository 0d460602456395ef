"""FastAPI app of the web demo: the page, the demo schema, and an SSE endpoint that runs the agent.

Routes:

* ``GET /``: ``static/index.html``, a single page with plain HTML + JS (no build step, no CDN);
* ``GET /api/schema``: the JSON schema of the demo's output model, so the page can lay out one box
  per field before anything streams;
* ``POST /api/run`` with the JSON body ``{"input": query}``: ``text/event-stream``, the frames of
  :func:`fieldstream.agents.sse.sse_response` (``stream_start``, ``chunk``, ``field``, ``stream_end``,
  ``result``, ``error``) for one run of a fresh agent. A provider model (``openai:...``) is created
  once per app and shared by the runs (one HTTP client, pooled connections), closed at shutdown;
* ``POST /api/runs`` (``{"input": query}``) and ``GET /api/runs/{id}/events``: resumable runs, wired
  by :func:`fieldstream.agents.sse.mount_runs` on a :class:`~fieldstream.agents.sse.RunManager` (the
  page uses these, through ``static/fieldstream.js``);
* ``GET /static/fieldstream.js`` and ``/static/fieldstream.d.ts``: the browser client module.

A run costs money, so it is never started by a GET (a link, an ``<img>``, a cross-site ``fetch()``).
Every response goes through :class:`fieldstream.web._security.SecurityMiddleware`: a Host
allow-list (loopback names by default), an Origin check and JSON bodies for POST, and the security
headers (a CSP with the hashes of the page's inline blocks; see ``docs/security.md``).

Depends on the agents layer and the demo's content (:mod:`fieldstream._demo`), never on the CLI.
Run it with ``fieldstream serve`` or ``uvicorn --factory fieldstream.web.app:create_app``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from .._demo import StoryOutput, make_agent
from ..agents import Agent, Model, resolve_model
from ..agents.sse import MemoryStore, RedisStore, ReplayStore, RunManager, mount_runs, sse_response
from . import STATIC_DIR
from ._security import SecurityMiddleware, loopback_hosts, page_csp

__all__ = ["create_app"]


def create_app(*, model: Model | str | None = None, seed: int = 7, pace: float | None = None,
               output_schema: type[BaseModel] = StoryOutput, agent: Callable[[], Agent] | None = None,
               debug: bool = False, manager: RunManager | None = None, redis: str | None = None,
               grace: float = 30.0, ttl: float = 600.0, allowed_hosts: list[str] | None = None,
               allowed_origins: list[str] | None = None) -> FastAPI:
    """Build the app.

    Args:
        model: model spec for the agent (``"offline"`` unless ``FIELDSTREAM_MODEL`` is set;
            ``"scripted"`` replays the demo's story).
        seed, pace: options of the offline model.
        output_schema: the Pydantic model whose fields the page shows.
        agent: a factory of the agent to run per request (default: :func:`fieldstream._demo.make_agent`
            with the options above); a fresh agent per request, so scripted models start over.
        debug: error frames carry the exception's real type and message (local development only).
        manager: the :class:`RunManager` of the resumable routes (default: one on ``redis`` or in
            memory, with ``grace`` and ``ttl``); it is closed when the app shuts down.
        redis: a ``redis://`` URL: frames go to Redis Streams, so several workers can share runs.
        grace, ttl: seconds a run without listeners keeps going; seconds a finished run is kept.
        allowed_hosts: ``Host`` values to answer (``name`` or ``name:port``; default: the loopback
            names ``127.0.0.1``, ``localhost``, ``[::1]`` on any port; ``["*"]``: any).
        allowed_origins: other origins allowed to POST (default: only the page's own).
    """
    # A provider model (one HTTP client, pooled connections) is resolved once and shared by every
    # request's agent; offline and scripted models are made per request (a script starts over).
    shared: Model | None = None
    spec = model if model is not None else (os.environ.get("FIELDSTREAM_MODEL") or "offline")
    if agent is None and isinstance(spec, str) and spec.partition(":")[0].strip().lower() not in (
            "offline", "scripted"):
        shared = resolve_model(spec)
    if manager is None:
        store: ReplayStore = RedisStore(redis, ttl=ttl) if redis else MemoryStore(ttl=ttl)
        manager = RunManager(store, grace=grace, debug=debug)
    runs = manager

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await runs.aclose()
            close = getattr(shared, "aclose", None)
            if close is not None:
                await close()

    app = FastAPI(title="fieldstream demo", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.runs = runs
    # --- security layer (fieldstream.web._security): hosts, origins, JSON bodies, headers
    app.add_middleware(SecurityMiddleware, allowed_hosts=loopback_hosts(None) if allowed_hosts is None
                       else allowed_hosts, allowed_origins=allowed_origins or (),
                       csp=page_csp((STATIC_DIR / "index.html").read_text(encoding="utf-8")))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the input back: megabytes of it, or a lone surrogate that cannot
        # be encoded (a 500); say where and what, never the value
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "type": str(e.get("type", ""))}
                  for e in exc.errors()[:10]]
        return JSONResponse({"error": {"code": "invalid_request", "message": 'send {"input": "<query of at '
                                       'most 2000 characters>"}', "errors": errors}}, status_code=422)

    def new_agent() -> Agent:
        if agent is not None:
            return agent()
        return make_agent(shared if shared is not None else model, seed=seed, pace=pace,
                          output_schema=output_schema)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-store"})

    @app.get("/static/fieldstream.js", include_in_schema=False)
    async def client_js() -> FileResponse:
        return FileResponse(STATIC_DIR / "fieldstream.js", media_type="text/javascript; charset=utf-8")

    @app.get("/static/fieldstream.d.ts", include_in_schema=False)
    async def client_dts() -> FileResponse:
        return FileResponse(STATIC_DIR / "fieldstream.d.ts", media_type="text/plain; charset=utf-8")

    @app.get("/api/schema")
    async def schema() -> JSONResponse:
        body: dict[str, Any] = output_schema.model_json_schema(by_alias=True)
        return JSONResponse(body)

    @app.post("/api/run")
    async def run(request: Request, query: str = Body(..., embed=True, alias="input", max_length=2000)
                  ) -> Any:
        # POST only (a run is billed); a fresh agent per request, cancelled when the client disconnects
        return sse_response(new_agent(), query, request=request, debug=debug)

    def query_of(body: Any) -> str:
        query = body.get("input") if isinstance(body, dict) else None
        if not isinstance(query, str) or len(query) > 2000:
            raise ValueError('the body must be {"input": "<query of at most 2000 characters>"}')
        return query

    mount_runs(app, runs, new_agent, input_of=query_of)

    return app
