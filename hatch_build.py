"""Wheel build hook: compile fieldstream's parser core with mypyc, or fall back to pure Python.

The compiled core is the *same source*: ``src/fieldstream/_parser.py``, ``_input.py`` and ``_partial.py``
are compiled as they are (mypyc reads their type annotations); the ``.py`` files still ship beside the
extension modules and stay the reference. Python imports an extension module before a ``.py`` of the
same name, so the wheel runs compiled; ``fieldstream.COMPILED`` says which build is running.

Rules (the decision is :func:`decide`, a pure function, unit-tested in ``tests/core/test_compiled.py``):

* only a regular wheel build compiles (``pip install .``, ``python -m build``); an editable install
  (``pip install -e .``) and the sdist stay pure Python;
* ``FIELDSTREAM_PURE_PYTHON=1`` (any value but ``""``, ``0``, ``false``, ``no``, ``off``) opts out;
* a C compiler and the Python headers must be present; otherwise the build stays pure Python;
* any failure while compiling (mypyc, the compiler, a timeout) prints a warning and builds the
  pure-Python wheel: installing never fails because of the compiled core.

A compiled wheel is tagged for the platform and the interpreter (``cp311-cp311-linux_x86_64``), a pure
one is ``py3-none-any``. mypy and setuptools are build requirements only when the hook will compile
(:meth:`MypycBuildHook.dependencies`); they are never runtime dependencies.

mypyc drops docstrings (it only keeps text signatures). The build puts the source's class, method and
property docstrings back into the generated C (see ``_DOCS_PATCH``), so ``help(fieldstream.Parser)``
reads the same in both builds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # pragma: no cover - the tests import this file for decide() without hatchling
    BuildHookInterface = object  # type: ignore[assignment,misc]

OPT_OUT_VARIABLE = "FIELDSTREAM_PURE_PYTHON"
PACKAGE = "fieldstream"
# The modules compiled, relative to src/fieldstream. The rest of the package stays interpreted.
COMPILED_MODULES = ("_parser.py", "_input.py", "_partial.py")
# mypyc puts the modules' code into one shared extension module, ``fieldstream_core__mypyc``, beside the
# package (the usual mypyc layout: its modules derive ``__file__`` from that library's folder), and
# a small extension module per compiled module inside the package.
GROUP_NAME = "fieldstream_core"
BUILD_REQUIREMENTS = ("mypy>=2.4,<3", "setuptools>=61")  # the mypyc tested (C layout of the docs patch)
COMPILE_TIMEOUT = 1200  # seconds; a loaded machine needs ~1.5 min for the three modules
_FALSE = frozenset({"", "0", "false", "no", "off"})


class Decision(NamedTuple):
    """Whether to compile, and why (printed by the build). (A NamedTuple: hatchling loads this file
    without registering it as a module, which dataclasses need.)"""

    compile: bool
    reason: str


def decide(*, version: str, env: Mapping[str, str], compiler: str | None, headers: bool) -> Decision:
    """Decide whether this wheel build compiles the core with mypyc.

    ``version`` is hatchling's wheel version (``"standard"`` or ``"editable"``), ``env`` the
    environment, ``compiler`` the C compiler found (``None``: none), ``headers`` whether ``Python.h``
    exists. Pure: no I/O, so the rules can be unit-tested.
    """
    if version == "editable":
        return Decision(False, "editable install: pure Python")
    opt_out = env.get(OPT_OUT_VARIABLE)
    if opt_out is not None and opt_out.strip().lower() not in _FALSE:
        return Decision(False, f"{OPT_OUT_VARIABLE}={opt_out}: pure Python")
    if compiler is None:
        return Decision(False, "no C compiler found: pure Python")
    if not headers:
        return Decision(False, "the Python headers (Python.h) are missing: pure Python")
    return Decision(True, f"compiling the parser core with mypyc ({compiler})")


def find_compiler(env: Mapping[str, str]) -> str | None:
    """The C compiler setuptools would use: ``$CC``, else the one Python was built with, else cc/gcc/clang."""
    if sys.platform == "win32":  # MSVC cannot be found from PATH; try, and fall back if it fails
        return "msvc"
    candidates = [env.get("CC", "").split(), (sysconfig.get_config_var("CC") or "").split()]
    for words in candidates:
        if words and shutil.which(words[0], path=env.get("PATH")):
            return words[0]
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name, path=env.get("PATH")):
            return name
    return None


def has_python_headers() -> bool:
    include = sysconfig.get_paths().get("include")
    return bool(include) and Path(include, "Python.h").is_file()


def _building_editable() -> bool:
    """True while hatchling answers ``get_requires_for_build_editable`` (dependencies() is not told)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in ("get_requires_for_build_editable", "build_editable"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


# Runs in the build subprocess between mypyc's C generation and the C compiler: mypyc keeps only text
# signatures (``feed($self, chunk)\n--\n\n``); append the source's docstrings to them in the generated C
# (class, method and property docstrings). Best effort: what it does not recognise keeps mypyc's text.
_DOCS_PATCH = r"""
import ast, pathlib, re

def _docs(paths):
    docs = {}
    for path in paths:
        module = pathlib.Path(path).stem
        tree = ast.parse(pathlib.Path(path).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                docs[(module, node.name, None)] = ast.get_docstring(node)
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        docs[(module, node.name, item.name)] = ast.get_docstring(item)
    return {key: doc for key, doc in docs.items() if doc}

def _c_text(text):
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        out.append(ch if 32 <= byte < 127 and ch not in '"\\?' else "\\%03o" % byte)
    return "".join(out)

_STR = r'"((?:[^"\\]|\\.)*)"'
_TYPE = re.compile(r"(\.tp_methods = (\w+?)_methods,[^}]*?\.tp_doc = PyDoc_STR\()" + _STR + r"\)")
_METHOD = re.compile(r"(\(PyCFunction\)CPyPy_(\w+),\s*[\w |]+,\s*PyDoc_STR\()" + _STR + r"\)")
_PROPERTY = re.compile(r'\{"(\w+)",(\s*\(getter\)(\w+)_get_\1,\s*)NULL, NULL, NULL\}')

def restore_docs(build_dir, paths):
    docs = _docs(paths)
    restored = 0

    def owner(prefix):
        module, _, cls = prefix.partition("___")
        return module, cls

    def typ(m):
        nonlocal restored
        doc = docs.get((*owner(m.group(2)), None))
        if doc is None:
            return m.group(0)
        restored += 1
        return m.group(1) + '"' + m.group(3) + _c_text(doc) + '")'

    def method(m):
        nonlocal restored
        module, cls_and_name = owner(m.group(2))
        cls, _, name = cls_and_name.partition("___")
        doc = docs.get((module, cls, name))
        if doc is None:
            return m.group(0)
        restored += 1
        return m.group(1) + '"' + m.group(3) + _c_text(doc) + '")'

    def prop(m):
        nonlocal restored
        doc = docs.get((*owner(m.group(3)), m.group(1)))
        if doc is None:
            return m.group(0)
        restored += 1
        return '{"' + m.group(1) + '",' + m.group(2) + 'NULL, PyDoc_STR("' + _c_text(doc) + '"), NULL}'

    for c_file in pathlib.Path(build_dir).rglob("*.c"):
        text = c_file.read_text(encoding="utf-8")
        new = _PROPERTY.sub(prop, _METHOD.sub(method, _TYPE.sub(typ, text)))
        if new != text:
            c_file.write_text(new, encoding="utf-8")
    print(f"fieldstream build: restored {restored} docstrings")
"""

_SETUP = r"""
from setuptools import setup
from mypyc.build import mypycify
{docs_patch}
PATHS = {paths!r}
# --ignore-missing-imports: the rest of the package is type-checked for its types only, and its
# optional dependencies (pydantic, httpx) are not installed in the build environment.
extensions = mypycify(["--ignore-missing-imports", *PATHS], opt_level="3", group_name={group!r},
                      target_dir="build")
restore_docs("build", PATHS)
setup(name="fieldstream-core", ext_modules=extensions)
"""


class MypycBuildHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    """Hatchling build hook (``[tool.hatch.build.targets.wheel.hooks.custom]`` in pyproject.toml)."""

    PLUGIN_NAME = "custom"

    def _decision(self, version: str) -> Decision:
        return decide(version=version, env=os.environ, compiler=find_compiler(os.environ),
                      headers=has_python_headers())

    def dependencies(self) -> list[str]:
        version = "editable" if _building_editable() else "standard"
        return list(BUILD_REQUIREMENTS) if self._decision(version).compile else []

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        decision = self._decision(version)
        self.app.display_info(f"fieldstream build: {decision.reason}")
        if not decision.compile:
            return
        self._tmp = tempfile.mkdtemp(prefix="fieldstream-mypyc-")
        try:
            built = self._compile(Path(self._tmp))
        except Exception as exc:  # any failure: warn and build the pure-Python wheel
            detail = exc.args[0] if isinstance(exc, _CompileError) else traceback.format_exc()
            self.app.display_warning(
                f"fieldstream build: compiling the parser core failed; building pure Python instead "
                f"(set {OPT_OUT_VARIABLE}=1 to skip the attempt)\n{detail}")
            return
        for path, dest in built:
            build_data["force_include"][str(path)] = dest
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        self.app.display_info(f"fieldstream build: compiled {', '.join(dest for _, dest in built)}")

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    def _compile(self, tmp: Path) -> list[tuple[Path, str]]:
        """Compile a copy of the package's sources in ``tmp`` (the source tree is never written);
        return the extension modules built and their paths in the wheel."""
        src = Path(self.root, "src", PACKAGE)
        shutil.copytree(src, tmp / PACKAGE, ignore=_only_python)
        paths = [f"{PACKAGE}/{name}" for name in COMPILED_MODULES]
        (tmp / "setup_mypyc.py").write_text(
            _SETUP.format(docs_patch=_DOCS_PATCH, paths=paths, group=GROUP_NAME), encoding="utf-8")
        cmd = [sys.executable, "setup_mypyc.py", "build_ext", "--build-lib", "out", "--build-temp", "obj"]
        try:  # (the environment as is: pip's isolated build environment reaches mypy through it)
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True,
                                  timeout=COMPILE_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise _CompileError(f"mypyc took longer than {COMPILE_TIMEOUT} s") from None
        if proc.returncode != 0:
            raise _CompileError((proc.stdout + proc.stderr)[-4000:])
        out = tmp / "out"
        built = sorted((p, p.relative_to(out).as_posix()) for p in out.rglob("*")
                       if p.name.endswith((".so", ".pyd")))
        expected = {f"{PACKAGE}/{name[:-3]}" for name in COMPILED_MODULES}
        missing = expected - {dest.split(".")[0] for _, dest in built}
        if missing:
            raise _CompileError(f"mypyc built no extension for {sorted(missing)}")
        return built


class _CompileError(Exception):
    pass


def _only_python(directory: str, names: list[str]) -> list[str]:
    """copytree filter: keep packages and .py files (no caches, web assets or stale extensions)."""
    return [n for n in names
            if not (n.endswith(".py") or (Path(directory, n).is_dir() and n != "__pycache__"))]
