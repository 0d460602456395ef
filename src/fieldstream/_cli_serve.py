"""``fieldstream serve``: the web demo under uvicorn."""

from __future__ import annotations

from typing import IO

import uvicorn

from ._cli_parse import EXIT_OK
from .web.app import create_app

__all__ = ["run_serve"]


def run_serve(*, host: str, port: int, model: str | None, pace: float | None, err: IO[str]) -> int:
    """Serve until interrupted; return the exit code."""
    app = create_app(model=model, pace=pace)
    err.write(f"fieldstream demo on http://{host}:{port}/  (Ctrl-C to stop)\n")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return EXIT_OK
