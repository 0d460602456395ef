"""Rendering reports: a Markdown table (one row per adapter) with the counterexamples, and JSON."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Sequence
from typing import Any

from ._checks import CHECKS, CheckResult, Report

__all__ = ["render_markdown", "to_json"]


def _cell(r: CheckResult) -> str:
    if r.outcome == "n/a":
        return "n/a"
    if r.name == "number_flicker":
        return "none" if r.outcome == "pass" else f"flickers ({r.failures}/{r.cases})"
    return "pass" if r.outcome == "pass" else f"**FAIL** ({r.failures}/{r.cases})"


def _code(text: str, limit: int = 160) -> str:
    if not text:
        return "(empty)"
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    for raw, shown in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("|", "\\|")):
        text = text.replace(raw, shown)
    return "`` " + text + " ``"


def render_markdown(reports: Sequence[Report], *, counterexamples: bool = True) -> str:
    """A Markdown table of ``reports`` (one row per adapter, one column per check), the Python version
    it ran on, then the smallest counterexample of every failing check."""
    names = [c.name for c in CHECKS if any(r.name == c.name for rep in reports for r in rep.results)]
    titles = {c.name: c.title for c in CHECKS}
    lines = [
        f"Ran on Python {platform.python_version()} ({sys.platform}).",
        "",
        "| adapter | version | " + " | ".join(titles[n] for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for rep in reports:
        cells = [_cell(rep.result(n)) for n in names]
        lines.append(f"| {rep.name} | {rep.version or '?'} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("How each adapter uses its library:")
    lines.append("")
    for rep in reports:
        lines.append(f"* **{rep.name}**: {rep.note or '(no note)'}")
    if counterexamples:
        for rep in reports:
            failing = [r for r in rep.results if r.outcome == "fail" and r.counterexample]
            if not failing:
                continue
            lines += ["", f"### {rep.name}: smallest counterexamples", ""]
            for r in failing:
                ce = r.counterexample
                assert ce is not None
                deltas = ", ".join(ce.deltas)
                lines.append(f"* **{r.title}** ({ce.label}): document {_code(ce.document)}, "
                             f"deltas {_code(deltas)}: {_code(ce.detail, 300)}")
    return "\n".join(lines) + "\n"


def to_json(reports: Sequence[Report]) -> str:
    """The reports as JSON: ``{"python": ..., "reports": [Report.to_dict(), ...]}``."""
    doc: dict[str, Any] = {"python": platform.python_version(), "reports": [r.to_dict() for r in reports]}
    return json.dumps(doc, indent=2, ensure_ascii=False)
