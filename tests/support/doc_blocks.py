"""Python blocks of the README and docs pages, with the output the text claims for them.

Convention (docs/testing.md): a block that prints is followed by an ```output block (only blank lines
in between) holding what it prints. The test runs the block, captures its stdout and compares it with
the output block like a doctest: exact text, except that a ``...`` matches any text (for values
that vary: timings, ids, model text). A block that prints but has no output block fails the test,
so that a new example cannot make a claim nobody checks.
"""

from __future__ import annotations

import doctest
import re
from dataclasses import dataclass

_BLOCK = re.compile(r"```python\n(.*?)```(?:\s*?\n\s*```output\n(.*?)```)?", re.S)


@dataclass(frozen=True)
class Block:
    code: str
    expected: str | None  # the ```output block after it, or None


def python_blocks(text: str) -> list[Block]:
    return [Block(code, out if out else None) for code, out in _BLOCK.findall(text)]


def check_output(where: str, block: Block, got: str) -> None:
    """Fail unless ``got`` (the block's stdout) is what the page says it prints."""
    if block.expected is None:
        assert not got, (f"{where} prints but has no ```output block after it (docs/testing.md); "
                         f"it printed:\n{got}")
        return
    checker = doctest.OutputChecker()
    want = "\n".join(line.rstrip() for line in block.expected.splitlines()) + "\n"
    got_n = "\n".join(line.rstrip() for line in got.splitlines()) + "\n"
    assert checker.check_output(want, got_n, doctest.ELLIPSIS), (
        f"{where}: the output differs from the ```output block\n"
        f"--- the page says\n{want}--- it printed\n{got_n}")
