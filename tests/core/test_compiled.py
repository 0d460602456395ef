"""The compiled core (mypyc, built by ``hatch_build.py`` for ``pip install .``) and the pure-Python core
are the same source and behave the same. These tests run in both builds: CI runs tests/core against
the installed compiled wheel as well (``fieldstream.COMPILED`` is True there)."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import pickle
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import fieldstream
from fieldstream import _compiled

ROOT = Path(__file__).resolve().parents[2]


def _load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fieldstream_hatch_build", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    if not (ROOT / "hatch_build.py").is_file():  # tests copied away from the repository
        pytest.skip("hatch_build.py is not beside these tests")
    return _load_hook()


def test_compiled_is_an_exported_bool() -> None:
    assert type(fieldstream.COMPILED) is bool
    assert "COMPILED" in fieldstream.__all__
    assert fieldstream.COMPILED is _compiled.COMPILED


def test_compiled_matches_the_kind_of_module_files() -> None:
    for module in _compiled.CORE_MODULES:
        is_ext = module.__file__ is not None and module.__file__.endswith(tuple(EXTENSION_SUFFIXES))
        assert is_ext is fieldstream.COMPILED, module.__file__
        assert module.__file__ is not None and Path(module.__file__).is_file(), module.__file__


@pytest.mark.skipif(not fieldstream.COMPILED, reason="pure-Python build")
def test_compiled_build_ships_the_reference_sources_beside_the_extensions() -> None:
    for module in _compiled.CORE_MODULES:
        assert module.__file__ is not None
        path = Path(module.__file__)
        assert path.is_file(), path
        assert (path.parent / (module.__name__.rsplit(".", 1)[1] + ".py")).is_file(), path


def _source_docs(module: ModuleType) -> dict[str, str]:
    """Docstrings of the classes and methods in the module's .py source (the oracle)."""
    assert module.__file__ is not None
    path = Path(module.__file__).parent / (module.__name__.rsplit(".", 1)[1] + ".py")
    docs = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            docs[node.name] = ast.get_docstring(node) or ""
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not any(
                        isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list):
                    doc = ast.get_docstring(item)
                    if doc:
                        docs[f"{node.name}.{item.name}"] = doc
    return docs


def test_parser_docstrings_survive_the_build() -> None:
    from fieldstream import _parser

    docs = _source_docs(_parser)
    assert "max_depth" in docs["Parser"]
    assert inspect.getdoc(fieldstream.Parser) == docs["Parser"]
    for name in ("feed", "close", "snapshot"):
        assert inspect.getdoc(getattr(fieldstream.Parser, name)) == docs[f"Parser.{name}"], name
    params = inspect.signature(fieldstream.Parser.snapshot).parameters
    assert [(p.name, p.kind, p.default) for p in params.values()][1:] == [  # self: positional-only compiled
        ("copy", inspect.Parameter.KEYWORD_ONLY, False)]


@pytest.mark.parametrize("options", [{"max_depth": 1.5}, {"max_size": "10"}, {"max_string_length": 0},
                                     {"max_number_length": None, "max_depth": -3}])
def test_bad_limits_raise_value_error_in_both_builds(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be a positive int or None"):
        fieldstream.Parser(**options)


def test_limits_accept_index_objects() -> None:
    class Three:
        def __index__(self) -> int:
            return 3

    p = fieldstream.Parser(max_depth=Three())
    p.feed("[[[")
    with pytest.raises(fieldstream.StreamError) as info:
        p.feed("[")
    assert info.value.kind is fieldstream.ErrorKind.DEPTH_LIMIT


def test_wrong_types_raise_type_error_in_both_builds() -> None:
    with pytest.raises(TypeError):
        fieldstream.Parser(events=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fieldstream.Parser().snapshot(copy=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fieldstream.Parser().feed(3)  # type: ignore[arg-type]


def test_errors_raised_by_the_core_pickle() -> None:
    with pytest.raises(fieldstream.StreamError) as info:
        fieldstream.parse('{"a": [1, tru]}')
    back = pickle.loads(pickle.dumps(info.value))
    assert (type(back), back.kind, back.pos, back.path) == (
        fieldstream.StreamError, info.value.kind, info.value.pos, info.value.path)


def test_snapshot_copy_flag() -> None:
    p = fieldstream.Parser()
    p.feed('{"a": [1, "x')
    live = p.snapshot()
    copied = p.snapshot(copy=True)
    assert live == copied == {"a": [1, "x"]}
    assert live is p.snapshot(copy=False) and copied is not live


# ---------------------------------------------------------------- the hook's decision


def test_hook_compiles_a_regular_wheel_with_a_compiler(hook: ModuleType) -> None:
    d = hook.decide(version="standard", env={}, compiler="cc", headers=True)
    assert d.compile is True


def test_hook_keeps_editable_installs_pure(hook: ModuleType) -> None:
    d = hook.decide(version="editable", env={}, compiler="cc", headers=True)
    assert d.compile is False and "editable" in d.reason


@pytest.mark.parametrize(("value", "compiles"), [("1", False), ("yes", False), ("true", False),
                                                 ("0", True), ("", True), ("false", True), ("off", True)])
def test_hook_environment_opt_out(hook: ModuleType, value: str, compiles: bool) -> None:
    d = hook.decide(version="standard", env={hook.OPT_OUT_VARIABLE: value}, compiler="cc", headers=True)
    assert d.compile is compiles
    assert hook.OPT_OUT_VARIABLE == "FIELDSTREAM_PURE_PYTHON"


def test_hook_without_a_compiler_or_headers_stays_pure(hook: ModuleType) -> None:
    assert hook.decide(version="standard", env={}, compiler=None, headers=True).compile is False
    assert hook.decide(version="standard", env={}, compiler="cc", headers=False).compile is False


def test_hook_finds_no_compiler_on_an_empty_path(hook: ModuleType) -> None:
    if sys.platform == "win32":
        pytest.skip("MSVC is not looked up on PATH")
    assert hook.find_compiler({"PATH": "", "CC": "no-such-compiler-xyz"}) in (None, *_absolute_cc())


def _absolute_cc() -> tuple[str, ...]:
    # sysconfig's CC may be an absolute path, which needs no PATH.
    import sysconfig

    words = (sysconfig.get_config_var("CC") or "").split()
    return (words[0],) if words and Path(words[0]).is_absolute() else ()


def test_hook_compiles_only_the_core_modules(hook: ModuleType) -> None:
    core = {f"{m.__name__.rsplit('.', 1)[1]}.py" for m in _compiled.CORE_MODULES}
    assert set(hook.COMPILED_MODULES) == core
    for name in hook.COMPILED_MODULES:
        assert (ROOT / "src" / "fieldstream" / name).is_file()


_GENERATED_C = '''
static PyGetSetDef _mod___Thing_getseters[] = {
    {"size",
     (getter)_mod___Thing_get_size,
    NULL, NULL, NULL},
    {NULL}  /* Sentinel */
};
static PyMethodDef _mod___Thing_methods[] = {
    {"feed",
     (PyCFunction)CPyPy__mod___Thing___feed,
     METH_FASTCALL | METH_KEYWORDS, PyDoc_STR("feed($self, chunk)\\n--\\n\\n")},
    {NULL}  /* Sentinel */
};
static PyTypeObject CPyType__mod___Thing_template_ = {
    .tp_methods = _mod___Thing_methods,
    .tp_doc = PyDoc_STR("Thing()\\n--\\n\\n"),
};
'''

_MODULE = '''
class Thing:
    """A thing: "quoted", \\\\ and é?"""

    def feed(self, chunk):
        """Eat a chunk."""

    @property
    def size(self):
        """How big."""
'''


def test_hook_restores_docstrings_into_mypyc_generated_c(hook: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "_mod.py").write_text(_MODULE, encoding="utf-8")
    c_file = tmp_path / "build" / "__native.c"
    c_file.parent.mkdir()
    c_file.write_text(_GENERATED_C, encoding="utf-8")
    namespace: dict[str, Any] = {}
    exec(hook._DOCS_PATCH, namespace)
    namespace["restore_docs"](str(tmp_path / "build"), [str(tmp_path / "_mod.py")])
    out = c_file.read_text(encoding="utf-8")
    assert 'PyDoc_STR("feed($self, chunk)\\n--\\n\\nEat a chunk.")' in out
    assert 'NULL, PyDoc_STR("How big."), NULL}' in out
    # C escapes: quotes, backslashes, '?' (trigraphs) and UTF-8 as octal; decoding them gives the text.
    literal = out.split('.tp_doc = PyDoc_STR("Thing()\\n--\\n\\n', 1)[1].split('"),', 1)[0]
    decoded = bytes(int(literal[i + 1:i + 4], 8) if literal[i] == "\\" else ord(literal[i])
                    for i in _c_units(literal)).decode("utf-8")
    assert decoded == 'A thing: "quoted", \\ and é?'


def _c_units(literal: str) -> list[int]:
    """Start indexes of the units of a C literal made of plain ASCII and 3-digit octal escapes."""
    units, i = [], 0
    while i < len(literal):
        units.append(i)
        i += 4 if literal[i] == "\\" else 1
    return units
