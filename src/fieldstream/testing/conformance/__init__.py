'''A conformance suite for streaming and partial JSON parsers (stdlib only; hypothesis optional).

A parser that shows partial values while JSON arrives (for an LLM's output, say) can go wrong in
ways ordinary tests never see: a value that changes with the way the text was chunked, a string
that is shown and then rewritten, ``12`` shown while ``123`` is being written, a truncated
document reported complete, half a surrogate pair or half a UTF-8 character on screen. This suite
feeds a fixed, seeded corpus (plus ``--hypothesis N`` generated documents) in many chunkings to any
parser, through a small adapter, and compares everything with ``json.loads``.

The adapter: a callable with no arguments (a function or a class) returning an object with
``feed(delta) -> partial value or None`` and ``close() -> final value`` (raising for invalid or
truncated input); optional ``name``, ``version``, ``accepts_bytes``, ``note`` attributes (see
:class:`Adapter`). Example, an adapter that shows nothing until the end::

    import json
    from fieldstream.testing.conformance import run

    class LoadsAtTheEnd:
        name = "json.loads at the end"

        def __init__(self):
            self.text = ""

        def feed(self, delta):
            self.text += delta
            return None                        # nothing to show while streaming

        def close(self):
            return json.loads(self.text)       # raises for truncated and invalid input

    report = run(LoadsAtTheEnd)
    print(report.result("truncated_incomplete").outcome)    # pass
    print(report.result("prefix_snapshots").outcome)        # n/a (no partial value is ever shown)
    bad = report.result("invalid_rejected")
    print(bad.outcome, bad.counterexample.document)         # fail NaN (json.loads accepts NaN)

The command runs the same on any adapter (``mod:fn``, resolved with :func:`pkgutil.resolve_name`,
or the short name of an adapter in :mod:`.adapters`) and exits 1 if a required check fails::

    python -m fieldstream.testing.conformance --adapter mypkg.mymodule:make_adapter
    python -m fieldstream.testing.conformance --all-peers --markdown

The checks are listed in :data:`CHECKS` (each with its one-line description).
'''

from __future__ import annotations

from ._checks import CHECKS, Check, CheckResult, Counterexample, Report, Run, drive, run
from ._corpus import strict_loads
from ._protocol import Adapter, AdapterFactory
from ._report import render_markdown, to_json

__all__ = [
    "CHECKS",
    "Adapter",
    "AdapterFactory",
    "Check",
    "CheckResult",
    "Counterexample",
    "Report",
    "Run",
    "drive",
    "render_markdown",
    "run",
    "strict_loads",
    "to_json",
]
