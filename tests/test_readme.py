"""Every ```python block in README.md runs (blocks are run in order in one namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


def test_readme_has_a_runnable_leading_example() -> None:
    assert _blocks(), "README.md lost its python examples"


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_python_block_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = _blocks()[index]
    if "(not run)" in code.split("\n", 1)[0]:
        pytest.skip("block marked '(not run)': an API sketch")
    exec(compile(code, f"README.md block {index}", "exec"), {"__name__": "readme"})
