"""Distribution of the test generators: how big the documents are and how much of a corrupted one is valid.

    PYTHONPATH=tests:. python -m support.generator_stats [N]

For N documents drawn (derandomized) from ``support.core.json_texts`` and ``fieldstream.testing.json_texts``,
and one corruption of each (``support.core.mutate``, ``fieldstream.testing.mutations``), prints the median
length, the share of documents made only of empty containers (``[]``, ``{"a": {}}``: no scalar anywhere),
the share of corrupted texts still valid, and the share of characters kept valid: the position of the
first error (the longest viable prefix) over the corrupted text's length, as a median, with the share of
corruptions whose very first character is already wrong. Numbers are in docs/testing.md.
"""

from __future__ import annotations

import random
import statistics
import sys
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldstream
from fieldstream import testing as fs_testing
from support import core


def _only_empty_containers(value: Any) -> bool:
    if isinstance(value, list):
        return all(_only_empty_containers(v) for v in value)
    if isinstance(value, dict):
        return all(_only_empty_containers(v) for v in value.values())
    return False


def _kept(text: str) -> float | None:
    """Share of ``text`` before the first error, or None if ``text`` is valid JSON."""
    try:
        fieldstream.parse(text)
    except fieldstream.StreamError as exc:
        return exc.pos / max(1, len(text))
    return None


def _sample(strategy: st.SearchStrategy[Any], n: int) -> list[Any]:
    out: list[Any] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(x: Any) -> None:
        out.append(x)

    collect()
    return out


def _report(name: str, docs: list[tuple[Any, str]], corrupted: list[str]) -> None:
    kept = [_kept(t) for t in corrupted]
    invalid = [k for k in kept if k is not None]
    print(f"{name}: {len(docs)} documents")
    print(f"  median length {statistics.median(len(t) for _, t in docs):.0f} characters, "
          f"only empty containers {100 * sum(_only_empty_containers(v) for v, _ in docs) / len(docs):.0f}%")
    print(f"  corrupted: still valid {100 * (len(kept) - len(invalid)) / len(kept):.0f}%, "
          f"median share of characters kept valid {100 * statistics.median(invalid):.0f}%, "
          f"error at the first character {100 * sum(k == 0 for k in invalid) / len(invalid):.0f}%")


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 500
    docs = _sample(core.json_texts(), n)
    rnd = random.Random(0)
    _report("support.core.json_texts + mutate", docs, [core.mutate(t, rnd) for _, t in docs])
    pairs = _sample(fs_testing.json_values().flatmap(
        lambda v: fs_testing.json_texts(st.just(v)).flatmap(
            lambda t: st.tuples(st.just(v), st.just(t), fs_testing.mutations(t)))), n)
    _report("fieldstream.testing json_texts + mutations", [(v, t) for v, t, _ in pairs],
            [m for _, _, m in pairs])


if __name__ == "__main__":
    main(sys.argv[1:])
