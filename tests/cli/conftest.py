"""Fixtures of the CLI and web tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.web import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the browser tests of a module (see :func:`support.web.chromium`);
    every test opens and closes its own context on it."""
    with chromium() as b:
        yield b
