"""The web demo: a FastAPI app (:func:`fieldstream.web.app.create_app`) and one static offline page.

Needs the ``server`` (or ``cli``) extra: fastapi and uvicorn. Importing this package does not import
them; :mod:`fieldstream.web.app` does.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().parent / "static"  #: where ``index.html`` lives (package data)
