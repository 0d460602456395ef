"""The web demo: a FastAPI app (:func:`fieldstream.web.app.create_app`) and one static offline page,
and the HTTP security layer for any app that serves agent runs (:class:`SecurityMiddleware`,
:func:`page_csp`; see ``docs/security.md``).

Needs the ``server`` (or ``cli``) extra for the app: fastapi and uvicorn. Importing this package does
not import them (the middleware is plain ASGI); :mod:`fieldstream.web.app` does.
"""

from __future__ import annotations

from pathlib import Path as _Path

from ._security import SecurityMiddleware, page_csp

__all__ = ["STATIC_DIR", "SecurityMiddleware", "page_csp"]

STATIC_DIR = _Path(__file__).resolve().parent / "static"  #: where ``index.html`` lives (package data)
