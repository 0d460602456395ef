"""The front-end matrix: ``frontend`` runs a test once per way of driving the one core.

``Parser.feed``/``close``, ``iter_events``, ``aiter_events``, ``parse`` and ``SchemaStream`` with a schema
that accepts any JSON all sit on the same parser, so the same cases must give the same values and the
same errors (kind and position) through each of them. The runners live in ``support.core``.
"""

from __future__ import annotations

import importlib.util

import pytest

from support.core import FRONT_ENDS, FrontEnd


@pytest.fixture(params=FRONT_ENDS, ids=lambda f: f.name)
def frontend(request: pytest.FixtureRequest) -> FrontEnd:
    fe: FrontEnd = request.param
    if fe.needs is not None and importlib.util.find_spec(fe.needs) is None:
        pytest.skip(f"{fe.name} needs {fe.needs}")
    return fe
