"""Shared pytest configuration: Hypothesis profiles for the whole test suite.

* ``default``: the everyday run (``python -m pytest``): modest ``max_examples`` so the full suite stays
  fast on a small machine, ``deadline=None`` because timing varies on shared CI runners.
* ``ci``: more examples, derandomized (reproducible on every clone), still no deadline.
* ``thorough``: for a long local fuzzing session (``HYPOTHESIS_PROFILE=thorough``).

Select one with the environment variable ``HYPOTHESIS_PROFILE`` (default: ``default``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=_SUPPRESS)
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, print_blob=True, suppress_health_check=_SUPPRESS
)
settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=_SUPPRESS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
