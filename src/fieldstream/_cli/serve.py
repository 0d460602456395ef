"""``fieldstream serve``: the web demo (:mod:`fieldstream.web`) under uvicorn."""

from __future__ import annotations

from typing import IO

import uvicorn

from ..web._security import serve_hosts
from ..web.app import create_app
from ._main import EXIT_OK

__all__ = ["run_serve"]


def run_serve(*, host: str, port: int, model: str | None, pace: float | None, err: IO[str],
              debug: bool = False, allow_host: list[str] | None = None,
              allow_origin: list[str] | None = None) -> int:
    """Serve until interrupted; return the exit code (``debug``: error frames carry the details).

    Only requests whose Host is a loopback name (or the bound address) with ``port``, or one of
    ``allow_host``, are answered (DNS rebinding), and POSTs only from the page's own origin or
    ``allow_origin`` (see ``docs/security.md``).
    """
    app = create_app(model=model, pace=pace, debug=debug,
                     allowed_hosts=serve_hosts(host, port, allow_host or ()), allowed_origins=allow_origin)
    err.write(f"fieldstream demo on http://{host}:{port}/  (Ctrl-C to stop)\n")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return EXIT_OK
