"""Every ```python block in README.md runs (blocks are run in order in one namespace) and prints what the
```output block after it says (see tests/support/doc_blocks.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.doc_blocks import check_output, python_blocks

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


def test_readme_has_a_runnable_leading_example() -> None:
    assert _blocks(), "README.md lost its python examples"


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_python_block_runs_and_prints_what_the_text_says(index: int,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    block = python_blocks(README.read_text(encoding="utf-8"))[index]
    if "(not run)" in block.code.split("\n", 1)[0]:
        pytest.skip("block marked '(not run)': an API sketch")
    capsys.readouterr()
    exec(compile(block.code, f"README.md block {index}", "exec"), {"__name__": "readme"})
    check_output(f"README.md block {index}", block, capsys.readouterr().out)


def test_readme_has_checked_output() -> None:
    assert sum(b.expected is not None for b in python_blocks(README.read_text(encoding="utf-8"))) >= 2
