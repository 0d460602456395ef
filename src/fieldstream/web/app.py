"""FastAPI app of the web demo: the page, the demo schema, and an SSE endpoint that runs the agent.

Routes:

* ``GET /``: ``static/index.html``, a single page with plain HTML + JS (no build step, no CDN);
* ``GET /api/schema``: the JSON schema of the demo's output model, so the page can lay out one box
  per field before anything streams;
* ``POST /api/run`` with the JSON body ``{"input": query}``: ``text/event-stream``, the frames of
  :func:`fieldstream.agents.sse.sse_response` (``stream_start``, ``chunk``, ``field``, ``stream_end``,
  ``result``, ``error``) for one run of a fresh agent. A run costs money, so it is never started
  by a GET (a link, an ``<img>``, a cross-site ``fetch()``).

Every response goes through :class:`fieldstream.web._security.SecurityMiddleware`: a Host
allow-list (loopback names by default), an Origin check and JSON bodies for POST, and the security
headers (a CSP with the hashes of the page's inline blocks; see ``docs/security.md``).

Depends on the agents layer and the demo's content (:mod:`fieldstream._demo`), never on the CLI.
Run it with ``fieldstream serve`` or ``uvicorn --factory fieldstream.web.app:create_app``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from .._demo import StoryOutput, make_agent
from ..agents import Agent, Model
from ..agents.sse import sse_response
from . import STATIC_DIR
from ._security import SecurityMiddleware, loopback_hosts, page_csp

__all__ = ["create_app"]


def create_app(*, model: Model | str | None = None, seed: int = 7, pace: float | None = None,
               output_schema: type[BaseModel] = StoryOutput, agent: Callable[[], Agent] | None = None,
               debug: bool = False, allowed_hosts: list[str] | None = None,
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
        allowed_hosts: ``Host`` values to answer (``name`` or ``name:port``; default: the loopback
            names ``127.0.0.1``, ``localhost``, ``[::1]`` on any port; ``["*"]``: any).
        allowed_origins: other origins allowed to POST (default: only the page's own).
    """
    app = FastAPI(title="fieldstream demo", docs_url=None, redoc_url=None)
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
        return make_agent(model, seed=seed, pace=pace, output_schema=output_schema)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-store"})

    @app.get("/api/schema")
    async def schema() -> JSONResponse:
        body: dict[str, Any] = output_schema.model_json_schema(by_alias=True)
        return JSONResponse(body)

    @app.post("/api/run")
    async def run(request: Request, query: str = Body(..., embed=True, alias="input", max_length=2000)
                  ) -> Any:
        # POST only (a run is billed); a fresh agent per request, cancelled when the client disconnects
        return sse_response(new_agent(), query, request=request, debug=debug)

    return app
