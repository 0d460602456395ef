"""Shared helpers for the pytest-benchmark modules (``bench/test_bench_*.py``)."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import docs_gen  # noqa: E402

CORPUS = HERE / "data"


@cache
def doc(shape: str, size: int) -> str:
    return docs_gen.make_doc(shape, size)


@cache
def expected(shape: str, size: int) -> Any:
    return json.loads(doc(shape, size))


@cache
def deltas(shape: str, size: int, n: int) -> list[str]:
    return docs_gen.chunks(doc(shape, size), n)


@cache
def corpus(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")
