"""``SchemaStream`` is generic for ``mypy --strict`` users: a snippet is type-checked with mypy's API
(CI's own mypy run covers only ``src/``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

SNIPPET = '''
from typing import Any, assert_type
from pydantic import BaseModel
from fieldstream.schema import SchemaEvent, SchemaStream

class Story(BaseModel):
    title: str

s = SchemaStream(Story)
assert_type(s, SchemaStream[Story])
assert_type(s.feed('{"title": "x"}'), list[SchemaEvent])
assert_type(s.close(), list[SchemaEvent])
assert_type(s.value, Story)
assert_type(s.partial, Story | None)
n = SchemaStream(list[int])
assert_type(n.value, list[int])
assert_type(SchemaStream(int | None).value, Any)  # not a class: the value is Any
'''

WRONG = '''
from pydantic import BaseModel
from fieldstream.schema import SchemaStream

class Story(BaseModel):
    title: str

year: int = SchemaStream(Story).value
'''


@pytest.mark.slow
def test_the_value_and_partial_are_typed_as_the_model(tmp_path: Path) -> None:
    ok = tmp_path / "ok.py"
    ok.write_text(textwrap.dedent(SNIPPET), encoding="utf-8")
    bad = tmp_path / "bad.py"
    bad.write_text(textwrap.dedent(WRONG), encoding="utf-8")
    args = ["--strict", "--python-version", "3.11", "--cache-dir", str(tmp_path / "cache"),
            "--no-error-summary"]
    out, err, status = mypy_api.run([*args, str(ok)])
    assert status == 0, out + err
    out, err, status = mypy_api.run([*args, str(bad)])  # the check can fail: a Story is no int
    assert status == 1 and "Incompatible types in assignment" in out, out + err
