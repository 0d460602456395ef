"""Shared pytest configuration: Hypothesis profiles for the whole test suite, and garbage-collector
hygiene between test modules (below).

* ``default``: the everyday run (``python -m pytest``): modest ``max_examples`` so the full suite stays
  fast on a small machine, ``deadline=None`` because timing varies on shared CI runners.
* ``ci``: more examples, derandomized (reproducible on every clone), still no deadline.
* ``thorough``: for a long local fuzzing session (``HYPOTHESIS_PROFILE=thorough``).

Select one with the environment variable ``HYPOTHESIS_PROFILE`` (default: ``default``).
"""

from __future__ import annotations

import gc
import os

import pytest
from hypothesis import HealthCheck, settings

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=_SUPPRESS)
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, print_blob=True, suppress_health_check=_SUPPRESS
)
settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=_SUPPRESS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# ----------------------------------------------------------------------------- garbage-collector hygiene
# A full collection walks every tracked object. After collection the session holds ~300 000 of them
# (the imported libraries, the test functions and their parameters) and every test module adds its own
# long-lived ones (lazily imported libraries, session servers). Each automatic full collection, and every
# ``gc.collect()`` of the memory tests and of the benchmark harness under test, would walk them all
# (0.2-0.5 s each, measured on a shared 2-core machine). So at each module boundary the survivors are
# collected once and frozen (``gc.freeze()``: moved to the permanent generation, which collections
# skip). A frozen object is still freed by reference counting; only a reference cycle that becomes
# garbage after its module is left to the end of the session. No object a test creates is frozen
# during that test's module.

_frozen_at: list[str] = []


def _freeze_survivors(where: str) -> None:
    if _frozen_at[-1:] != [where]:
        _frozen_at.append(where)
        gc.collect()
        gc.freeze()


def pytest_collection_finish(session: object) -> None:
    _freeze_survivors("collection")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    _freeze_survivors(item.nodeid.split("::", 1)[0])  # before the module's fixtures are set up
