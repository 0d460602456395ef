"""Every Python example in docs/schema.md runs and prints what the ```output block after it says."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from support.doc_blocks import check_output, python_blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_docs_have_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_docs_example_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    # A real module, so that Pydantic resolves the example's forward references.
    name = f"docs_schema_example_{index}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    block = python_blocks(DOC.read_text(encoding="utf-8"))[index]
    assert block.code == BLOCKS[index]
    capsys.readouterr()
    try:
        exec(compile(block.code, f"{DOC}#example{index}", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    check_output(f"docs/schema.md example {index}", block, capsys.readouterr().out)


def test_docstring_examples_run() -> None:
    import doctest

    from fieldstream.schema import _stream

    result = doctest.testmod(_stream)
    assert result.attempted >= 5 and result.failed == 0
