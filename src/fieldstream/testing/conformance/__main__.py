"""``python -m fieldstream.testing.conformance``: run the suite on adapters, print or save reports.

Exit status: 0 if no required check failed (or ``--exit-zero``), 1 if one did, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import importlib.util
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

from ._checks import CHECKS, Report, run
from ._report import render_markdown, to_json
from .adapters import PEERS

__all__ = ["main"]

START, END = "<!-- conformance-table:start -->", "<!-- conformance-table:end -->"


def _update_doc(page: str, table: str) -> None:
    with open(page, encoding="utf-8") as fh:
        text = fh.read()
    head, sep, rest = text.partition(START)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise SystemExit(f"{page}: no {START} ... {END} section")
    with open(page, "w", encoding="utf-8") as fh:
        fh.write(f"{head}{START}\n{table}{END}{tail}")


def _resolve(parser: argparse.ArgumentParser, spec: str) -> Any:
    """``mod:fn`` through :func:`pkgutil.resolve_name`, or a shipped adapter's short name."""
    if spec in PEERS:
        return PEERS[spec][0]
    if ":" not in spec:
        parser.error(f"--adapter {spec!r}: expected module:function, or one of {', '.join(PEERS)}")
    try:
        return pkgutil.resolve_name(spec)
    except (ImportError, AttributeError, ValueError) as exc:
        parser.error(f"--adapter {spec!r}: {type(exc).__name__}: {exc}")


def _text_report(rep: Report) -> str:
    lines = [f"{rep.name} {rep.version}".rstrip() + f" ({rep.seconds:.2f} s)"]
    for r in rep.results:
        mark = {"pass": "pass", "n/a": "n/a ", "fail": "FAIL" if r.required else "warn"}[r.outcome]
        counts = f"{r.failures}/{r.cases} failing" if r.outcome == "fail" else f"{r.cases} cases"
        lines.append(f"  {mark}  {r.name:<22} {counts}{'  (' + r.reason + ')' if r.reason else ''}")
        if r.counterexample:
            ce = r.counterexample
            lines.append(f"        {ce.label}: {ce.document!r}")
            lines.append(f"        deltas: {', '.join(ce.deltas)[:300]}")
            lines.append(f"        {ce.detail}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fieldstream.testing.conformance",
        description="Conformance checks for streaming/partial JSON parsers, through an adapter.")
    parser.add_argument("--adapter", action="append", default=[], metavar="MOD:FN",
                        help="adapter factory (module:callable), or a shipped one: " + ", ".join(PEERS))
    parser.add_argument("--all-peers", action="store_true",
                        help="every shipped adapter whose library is installed")
    parser.add_argument("--check", action="append", choices=[c.name for c in CHECKS],
                        help="run only this check (repeatable)")
    parser.add_argument("--hypothesis", type=int, default=0, metavar="N",
                        help="add N documents generated with hypothesis (needs hypothesis)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random part of the corpus")
    parser.add_argument("--json", metavar="OUT", help="write the reports as JSON to OUT ('-': stdout)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table instead of text")
    parser.add_argument("--update-doc", metavar="PAGE",
                        help=f"replace the text between {START} and {END} in PAGE with the Markdown table")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even if a required check fails")
    args = parser.parse_args(argv)

    factories = [_resolve(parser, spec) for spec in args.adapter]
    if args.all_peers:
        for name, (factory, module) in PEERS.items():
            if importlib.util.find_spec(module) is None:
                print(f"skipping {name}: {module} is not installed", file=sys.stderr)
            elif factory not in factories:
                factories.append(factory)
    if not factories:
        parser.error("give --adapter MOD:FN (or --all-peers)")

    reports = [run(f, checks=args.check, seed=args.seed, hypothesis=args.hypothesis) for f in factories]
    if args.json == "-":
        print(to_json(reports))
    elif args.json:
        with open(args.json, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(to_json(reports) + "\n")
    if args.update_doc:
        _update_doc(args.update_doc, render_markdown(reports))
    if args.markdown:
        sys.stdout.write(render_markdown(reports))
    elif args.json != "-" and not args.update_doc:
        print("\n\n".join(_text_report(r) for r in reports))
    failed = [r.name for r in reports if not r.passed]
    if failed and not args.exit_zero:
        print(f"required checks failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
