"""The ``fieldstream`` command line (console script ``fieldstream = "fieldstream._cli:main"``).

``_main.py`` owns ``main``, the argument parser and the exit codes; one module per command:
``parse.py``, ``demo.py`` (rich), ``serve.py`` (uvicorn + :mod:`fieldstream.web`); ``_view.py`` folds
agent events for the terminal demo. A command's module (and its optional dependencies) is imported
only when that command runs, so ``--help`` and ``parse`` work with the core alone.
"""

from ._main import (
    EXIT_DEPENDENCY,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    build_parser,
    main,
)

__all__ = ["EXIT_DEPENDENCY", "EXIT_INTERRUPTED", "EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "build_parser",
           "main"]
