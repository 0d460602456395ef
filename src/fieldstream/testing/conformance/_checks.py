"""The checks, and the driver that feeds an adapter.

Each check is a function of a :class:`Context` (the adapter factory, the corpus, a cache of runs)
returning a :class:`CheckResult`: ``pass``, ``fail`` (with the number of failing cases and the
smallest counterexample: the failing case with the shortest input) or ``n/a`` (with the reason). A
*required* check that fails makes the command exit non-zero; number flicker is reported, never
required. Every expected value comes from :func:`~._corpus.strict_loads` (``json.loads``, the oracle).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._compare import copy_value, describe, flickers, grows, render_path, same
from ._corpus import (
    INVALID_DOCUMENTS,
    INVALID_UTF8,
    SURROGATE_DOCUMENTS,
    UTF8_DOCUMENTS,
    Document,
    build_corpus,
    cut,
    hypothesis_documents,
    strict_loads,
)
from ._protocol import adapter_info

__all__ = ["CHECKS", "Check", "CheckResult", "Context", "Counterexample", "Report", "Run", "drive", "run"]

Outcome = Literal["pass", "fail", "n/a"]


@dataclass
class Run:
    """What an adapter did with one chunking of one document."""

    deltas: Sequence[str | bytes]
    ends: list[int]  # offset (characters, or bytes) after each delta that was fed
    partials: list[Any]  # a copy of what feed() returned after each delta
    final: Any = None
    error: str | None = None  # "feed #3 raised ValueError: ..." or "close() raised ..."
    feed_error: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def drive(factory: Callable[[], Any], deltas: Sequence[str | bytes]) -> Run:
    """Feed ``deltas`` to a fresh adapter, then close it; never raises (errors are recorded)."""
    adapter = factory()
    out = Run(deltas, [], [])
    end = 0
    for k, delta in enumerate(deltas):
        try:
            shown = adapter.feed(delta)
        except Exception as exc:
            out.error, out.feed_error = f"feed #{k} raised {type(exc).__name__}: {exc}", True
            return out
        end += len(delta)
        out.ends.append(end)
        out.partials.append(copy_value(shown))
    try:
        out.final = copy_value(adapter.close())
    except Exception as exc:
        out.error = f"close() raised {type(exc).__name__}: {exc}"
    return out


@dataclass
class Counterexample:
    """The smallest failing case of a check."""

    label: str  # which corpus document
    document: str  # its text (repr of the bytes for byte inputs)
    deltas: list[str]  # repr of each delta fed
    detail: str  # what went wrong

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "document": self.document, "deltas": self.deltas, "detail": self.detail}


@dataclass
class CheckResult:
    name: str
    title: str
    required: bool
    outcome: Outcome
    cases: int = 0
    failures: int = 0
    counterexample: Counterexample | None = None
    reason: str = ""  # why not applicable

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "required": self.required, "outcome": self.outcome,
                "cases": self.cases, "failures": self.failures, "reason": self.reason,
                "counterexample": self.counterexample.to_dict() if self.counterexample else None}


@dataclass
class Report:
    """The results of every check for one adapter."""

    name: str
    version: str
    note: str
    accepts_bytes: bool
    results: list[CheckResult]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """No required check failed."""
        return not any(r.required and r.outcome == "fail" for r in self.results)

    def result(self, name: str) -> CheckResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"adapter": self.name, "version": self.version, "note": self.note,
                "accepts_bytes": self.accepts_bytes, "passed": self.passed,
                "seconds": round(self.seconds, 3), "checks": [r.to_dict() for r in self.results]}


@dataclass
class Context:
    """What a check gets: the adapter, its declared abilities, the valid corpus, a cache of runs."""

    factory: Callable[[], Any]
    accepts_bytes: bool
    corpus: list[Document]
    _runs: dict[tuple[int, int], Run] = field(default_factory=dict)

    def run(self, doc: int, chunking: int) -> Run:
        """The run of chunking ``chunking`` of valid document ``doc`` (0 is one character per delta)."""
        key = (doc, chunking)
        if key not in self._runs:
            self._runs[key] = drive(self.factory, self.corpus[doc].chunkings[chunking])
        return self._runs[key]


class _Failures:
    """Counts failing cases, keeps the one with the shortest input (then the fewest deltas)."""

    def __init__(self) -> None:
        self.cases = 0
        self.count = 0
        self.best: Counterexample | None = None
        self._size = (0, 0)

    def add(self, label: str, text: str | bytes, deltas: Sequence[str | bytes], detail: str) -> None:
        self.count += 1
        size = (len(text), len(deltas))
        if self.best is None or size < self._size:
            shown = [repr(d) for d in deltas]
            if len(shown) > 60:
                shown = [*shown[:30], f"... {len(shown) - 60} more ...", *shown[-30:]]
            doc = text if isinstance(text, str) else repr(text)
            self.best, self._size = Counterexample(label, doc, shown, detail), size

    def result(self, check: Check) -> CheckResult:
        return CheckResult(check.name, check.title, check.required, "fail" if self.count else "pass",
                           self.cases, self.count, self.best)


def _at(run: Run, k: int, text: str | bytes) -> str:
    """Where delta ``k`` ended, for messages: ``after delta #k (...'tail')``."""
    end = run.ends[k]
    return f"after delta #{k} (input so far ends {describe(text[max(0, end - 12):end], 30)})"


def _growth_violation(run: Run, text: str | bytes, expected: Any) -> str | None:
    """Why the partial values of ``run`` are not each a prefix of the next and of ``expected``."""
    prev: Any = None
    last = 0
    for k, shown in enumerate(run.partials):
        if shown is None:
            if prev is not None:
                return f"{_at(run, k, text)}: the partial value vanished (was {describe(prev, 60)})"
            continue
        if prev is not None:
            why = grows(prev, shown)
            if why:
                return _first_off_track(run, text, expected, k) or (
                    f"{_at(run, k, text)}: does not extend the value shown after delta #{last}, {why}")
        prev, last = shown, k
    # "grows" is transitive: checking the last partial value against the final one covers them all.
    if prev is not None and grows(prev, expected):
        return _first_off_track(run, text, expected, last)
    return None


def _first_off_track(run: Run, text: str | bytes, expected: Any, upto: int) -> str | None:
    """The first partial value (up to delta ``upto``) that is not a prefix of ``expected``; only
    called once a violation is known, so the scan costs nothing on passing runs."""
    for k, shown in enumerate(run.partials[: upto + 1]):
        why = grows(shown, expected) if shown is not None else None
        if why:
            return (f"{_at(run, k, text)}: partial {describe(shown, 60)} is not a prefix of the final "
                    f"value, {why}")
    return None


# ---------------------------------------------------------------------------------------------- checks


def check_final_value(ctx: Context, check: Check) -> CheckResult:
    f = _Failures()
    for i, doc in enumerate(ctx.corpus):
        expected = strict_loads(doc.text)
        for c in range(len(doc.chunkings)):
            f.cases += 1
            r = ctx.run(i, c)
            if not r.ok:
                f.add(doc.label, doc.text, r.deltas, f"valid document rejected: {r.error}")
            elif not same(r.final, expected):
                f.add(doc.label, doc.text, r.deltas,
                      f"final value {describe(r.final)} != json.loads {describe(expected)}")
    return f.result(check)


def check_chunking_invariance(ctx: Context, check: Check) -> CheckResult:
    f = _Failures()
    for i, doc in enumerate(ctx.corpus):
        ref = ctx.run(i, 0)
        ref_at = dict(zip(ref.ends, ref.partials, strict=True))
        for c in range(1, len(doc.chunkings)):
            f.cases += 1
            r = ctx.run(i, c)
            why = None
            for k, (end, shown) in enumerate(zip(r.ends, r.partials, strict=True)):
                if end in ref_at and not same(shown, ref_at[end]):
                    why = (f"{_at(r, k, doc.text)}: shows {describe(shown, 60)}, but fed one character at a "
                           f"time it shows {describe(ref_at[end], 60)} at the same point")
                    break
            if why is None and r.ok != ref.ok:
                mine = "succeeds" if r.ok else f"fails: {r.error}"
                theirs = "succeeds" if ref.ok else f"fails: {ref.error}"
                why = f"this chunking {mine}, one character at a time {theirs}"
            if why is None and r.ok and not same(r.final, ref.final):
                why = f"final value {describe(r.final)}, one character at a time {describe(ref.final)}"
            if why:
                f.add(doc.label, doc.text, r.deltas, why)
    return f.result(check)


def check_prefix_snapshots(ctx: Context, check: Check) -> CheckResult:
    f = _Failures()
    shown_any = False
    for i, doc in enumerate(ctx.corpus):
        expected = strict_loads(doc.text)
        for c in range(len(doc.chunkings)):
            f.cases += 1
            r = ctx.run(i, c)
            shown_any = shown_any or any(p is not None for p in r.partials)
            why = _growth_violation(r, doc.text, expected)
            if why:
                f.add(doc.label, doc.text, r.deltas, why)
    if not shown_any:
        return CheckResult(check.name, check.title, check.required, "n/a", f.cases,
                           reason="the adapter never showed a partial value")
    return f.result(check)


def check_number_flicker(ctx: Context, check: Check) -> CheckResult:
    f = _Failures()
    shown_any = False
    for i, doc in enumerate(ctx.corpus):
        expected = strict_loads(doc.text)
        for c in range(len(doc.chunkings)):
            f.cases += 1
            r = ctx.run(i, c)
            for k, shown in enumerate(r.partials):
                shown_any = shown_any or shown is not None
                bad = flickers(shown, expected)
                if bad:
                    path, was, final = bad[0]
                    f.add(doc.label, doc.text, r.deltas,
                          f"{_at(r, k, doc.text)}: shows {was!r} at {render_path(path)}, "
                          f"the final number is {final!r}")
                    break
    if not shown_any:
        return CheckResult(check.name, check.title, check.required, "n/a", f.cases,
                           reason="the adapter never showed a partial value")
    return f.result(check)


def _truncation_points(text: str) -> list[int]:
    """Every cut for short documents; for long ones every cut in the first and last 60 characters
    and every 7th in between (deterministic)."""
    n = len(text)
    if n <= 160:
        return list(range(1, n))
    return sorted({*range(1, 61), *range(61, n - 60, 7), *range(max(1, n - 60), n)})


def check_truncated_incomplete(ctx: Context, check: Check) -> CheckResult:
    f = _Failures()
    for doc in ctx.corpus:
        for p in _truncation_points(doc.text):
            prefix = doc.text[:p]
            try:
                strict_loads(prefix)
                continue  # a complete document on its own (``12`` of ``123``): nobody can tell
            except ValueError:
                pass
            f.cases += 1
            r = drive(ctx.factory, [prefix])
            if r.ok:
                f.add(doc.label, prefix, r.deltas,
                      f"truncated after {p} of {len(doc.text)} characters, but close() returned "
                      f"{describe(r.final)}")
    return f.result(check)


def check_invalid_rejected(ctx: Context, check: Check) -> CheckResult:
    f = _Failures()
    for label, text in INVALID_DOCUMENTS:
        ways = [[text], cut(text, list(range(1, len(text))))] if text else [[]]
        for deltas in ways:
            f.cases += 1
            r = drive(ctx.factory, deltas)
            if r.ok:
                f.add(label, text, deltas, f"invalid ({label}), but close() returned {describe(r.final)}")
    return f.result(check)


def _split_runs(ctx: Context, label: str, data: str | bytes, expected: Any, ways: list[list[Any]],
                f: _Failures) -> None:
    for deltas in ways:
        f.cases += 1
        r = drive(ctx.factory, deltas)
        if not r.ok:
            f.add(label, data, deltas, f"valid document rejected: {r.error}")
        elif not same(r.final, expected):
            f.add(label, data, deltas, f"final value {describe(r.final)} != json.loads {describe(expected)}")
        else:
            why = _growth_violation(r, data, expected)
            if why:
                f.add(label, data, deltas, why)


def check_utf8_splits(ctx: Context, check: Check) -> CheckResult:
    if not ctx.accepts_bytes:
        return CheckResult(check.name, check.title, check.required, "n/a",
                           reason="the adapter does not take bytes (accepts_bytes is not set)")
    f = _Failures()
    for label, text in UTF8_DOCUMENTS:
        data = text.encode()
        inside = [p for p in range(1, len(data)) if 0x80 <= data[p] <= 0xBF]  # continuation bytes
        ways = [[data[k:k + 1] for k in range(len(data))], [data], *([data[:p], data[p:]] for p in inside)]
        _split_runs(ctx, label, data, strict_loads(text), ways, f)
        for p in inside:  # truncated inside a character: incomplete, never complete
            f.cases += 1
            r = drive(ctx.factory, [data[:p]])
            if r.ok:
                f.add(label, data[:p], r.deltas,
                      f"truncated inside a UTF-8 sequence, but close() returned {describe(r.final)}")
    for label, data in INVALID_UTF8:
        for deltas in ([data], [data[k:k + 1] for k in range(len(data))]):
            f.cases += 1
            r = drive(ctx.factory, deltas)
            if r.ok:
                f.add(label, data, deltas,
                      f"invalid UTF-8 ({label}), but close() returned {describe(r.final)}")
    return f.result(check)


def check_surrogate_escapes(ctx: Context, check: Check) -> CheckResult:
    f = _Failures()
    for label, text in SURROGATE_DOCUMENTS:
        ways = [cut(text, list(range(1, len(text)))), [text], *(cut(text, [p]) for p in range(1, len(text)))]
        _split_runs(ctx, label, text, strict_loads(text), ways, f)
    return f.result(check)


@dataclass(frozen=True)
class Check:
    """A named check: ``name`` (for ``--check`` and JSON), ``title`` (table column), whether a failure
    is a failure of the suite (``required``), the function, and one line on what it verifies."""

    name: str
    title: str
    required: bool
    func: Callable[[Context, Check], CheckResult]
    description: str


CHECKS: tuple[Check, ...] = (
    Check("final_value", "final value", True, check_final_value,
          "for every document and chunking, close() returns exactly json.loads(document)"),
    Check("chunking_invariance", "chunking invariance", True, check_chunking_invariance,
          "the partial value after the first k characters, and the final value, do not depend on how "
          "those characters were split into deltas"),
    Check("prefix_snapshots", "snapshots grow", True, check_prefix_snapshots,
          "each partial value is a prefix of the next and of the final value: strings only grow at the "
          "end, containers only gain members, nothing shown vanishes or changes kind"),
    Check("number_flicker", "number flicker", False, check_number_flicker,
          "no partial value shows a number other than the final one (e.g. 12 while 123 is being written); "
          "reported, not required"),
    Check("truncated_incomplete", "truncated ≠ complete", True, check_truncated_incomplete,
          "close() raises for every proper prefix of a document that is not itself a JSON document"),
    Check("invalid_rejected", "invalid rejected", True, check_invalid_rejected,
          "feed() or close() raises for each invalid document (wrong brackets, trailing commas, NaN, "
          "control characters, bad escapes, broken surrogate escapes, trailing data, ...), whole and "
          "one character at a time"),
    Check("utf8_splits", "UTF-8 splits", True, check_utf8_splits,
          "bytes deltas split inside multibyte characters give the right partial and final values; "
          "truncation inside a character and invalid UTF-8 are errors (needs accepts_bytes)"),
    Check("surrogate_escapes", "surrogate escapes", True, check_surrogate_escapes,
          "\\uD83D\\uDE00 split anywhere: no partial value shows half a pair, the final value is right"),
)


def run(factory: Callable[[], Any], *, checks: Sequence[str] | None = None, seed: int = 0,
        hypothesis: int = 0) -> Report:
    """Run the checks named in ``checks`` (default: all of :data:`CHECKS`) against the adapters that
    ``factory`` makes. ``seed`` picks the random documents and chunkings of the corpus;
    ``hypothesis`` adds that many documents drawn with hypothesis (needs ``hypothesis``)."""
    info = adapter_info(factory)
    corpus = build_corpus(seed)
    if hypothesis:
        corpus += hypothesis_documents(hypothesis)
    unknown = set(checks or ()) - {c.name for c in CHECKS}
    if unknown:
        raise ValueError(f"unknown check(s): {', '.join(sorted(unknown))}")
    ctx = Context(factory, info["accepts_bytes"], corpus)
    start = time.perf_counter()
    results = [c.func(ctx, c) for c in CHECKS if checks is None or c.name in checks]
    return Report(info["name"], info["version"], info["note"], info["accepts_bytes"], results,
                  time.perf_counter() - start)
