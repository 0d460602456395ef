"""Which build of the parser core is running: compiled by mypyc (``pip install .`` with a C
compiler, see ``hatch_build.py``) or the pure-Python source (editable installs, no compiler,
``FIELDSTREAM_PURE_PYTHON=1``). Both run the same source and behave the same; the compiled one is
faster."""

from __future__ import annotations

from importlib.machinery import ExtensionFileLoader
from types import ModuleType

from . import _input, _parser, _partial

__all__ = ["COMPILED", "CORE_MODULES"]

# The modules the wheel build compiles (hatch_build.COMPILED_MODULES).
CORE_MODULES: tuple[ModuleType, ...] = (_parser, _input, _partial)


def _is_extension(module: ModuleType) -> bool:
    return isinstance(getattr(module, "__loader__", None), ExtensionFileLoader)


COMPILED: bool = all(_is_extension(m) for m in CORE_MODULES)
