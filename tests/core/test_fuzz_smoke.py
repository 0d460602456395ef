"""A short, derandomized smoke run of every fuzz target (``fuzz/targets.py``) inside pytest.

The campaigns (``python -m fuzz``) run for minutes with fresh seeds; this runs each target's own
property for a few dozen derandomized examples, so a regression that any target catches at once
fails the default test run too (and reproducibly: the same examples on every machine).
"""

from __future__ import annotations

from typing import Any

import pytest
from fuzz.targets import TARGETS
from hypothesis import HealthCheck, Phase, given, settings

EXAMPLES = {"agent_sse": 5, "schema": 10}  # the slower targets get fewer examples (default: 20)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target_smoke_run(name: str) -> None:
    target = TARGETS[name]
    reason = target.unavailable()
    if reason is not None:
        pytest.skip(reason)

    @settings(max_examples=EXAMPLES.get(name, 20), derandomize=True, database=None, deadline=None,
              phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
    @given(target.cases())
    def prop(case: dict[str, Any]) -> None:
        target.check(case)

    prop()
