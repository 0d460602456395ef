"""``fieldstream serve``: the web demo (:mod:`fieldstream.web`) under uvicorn.

One worker keeps runs in memory (or in Redis with ``--redis``). ``--workers N`` (N > 1) starts N
uvicorn worker processes that share runs through Redis Streams, so a resume may land on any worker;
without ``--redis`` that is refused (a run would live in one worker's memory, invisible to the
others). The workers build their app with :func:`app_from_env` from the options the command puts in
the environment variable ``FIELDSTREAM_SERVE_OPTIONS`` (uvicorn starts workers from an import string).
"""

from __future__ import annotations

import json
import os
from typing import IO, Any

import uvicorn

from .._errors import UsageError
from ..web._security import serve_hosts
from ..web.app import create_app
from ._main import EXIT_OK

__all__ = ["app_from_env", "run_serve"]

_ENV = "FIELDSTREAM_SERVE_OPTIONS"


def app_from_env() -> Any:
    """The app of one worker, from the options in ``FIELDSTREAM_SERVE_OPTIONS`` (a JSON object)."""
    return create_app(**json.loads(os.environ.get(_ENV) or "{}"))


def run_serve(*, host: str, port: int, model: str | None, pace: float | None, err: IO[str],
              debug: bool = False, workers: int = 1, redis: str | None = None, grace: float = 30.0,
              ttl: float = 600.0, allow_host: list[str] | None = None,
              allow_origin: list[str] | None = None) -> int:
    """Serve until interrupted; return the exit code (``debug``: error frames carry the details).

    Only requests whose Host is a loopback name (or the bound address) with ``port``, or one of
    ``allow_host``, are answered (DNS rebinding), and POSTs only from the page's own origin or
    ``allow_origin`` (see ``docs/security.md``).
    """
    if workers < 1:
        raise UsageError("--workers must be >= 1")
    if workers > 1 and not redis:
        raise UsageError(f"--workers {workers} needs --redis URL (e.g. redis://127.0.0.1:6379/0): runs are "
                         "shared between workers through Redis; without it a resumed stream could land on a "
                         "worker that does not know the run")
    if grace < 0 or ttl <= 0:
        raise UsageError("--grace must be >= 0 and --ttl > 0")
    options: dict[str, Any] = {"model": model, "pace": pace, "debug": debug, "redis": redis, "grace": grace,
                               "ttl": ttl, "allowed_hosts": sorted(serve_hosts(host, port, allow_host or ())),
                               "allowed_origins": allow_origin}
    store = f"Redis at {redis}" if redis else "memory"
    err.write(f"fieldstream demo on http://{host}:{port}/  ({workers} worker{'s' if workers > 1 else ''}, "
              f"runs in {store}; Ctrl-C to stop)\n")
    err.flush()
    if workers == 1:
        uvicorn.run(create_app(**options), host=host, port=port, log_level="warning")
    else:
        os.environ[_ENV] = json.dumps(options)
        uvicorn.run("fieldstream._cli.serve:app_from_env", factory=True, workers=workers, host=host,
                    port=port, log_level="warning")
    return EXIT_OK
