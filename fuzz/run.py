"""Run fuzz campaigns: ``python -m fuzz`` (from the repo root) or ``python fuzz/run.py``.

Each target is a hypothesis property run in batches of generated cases until its share of the
time budget is used up. A failing case is shrunk by hypothesis, written to
``fuzz/corpus/found/`` (replayed by ``tests/test_fuzz_corpus.py``) and reported; the campaign goes
on (one saved case per distinct failure label and target).

    python -m fuzz --minutes 20                 # all targets, 20 minutes in total
    python -m fuzz --target chunking --minutes 2 --seed 7
    python -m fuzz --list
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python fuzz/run.py``: make ``fuzz`` importable as a package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "fuzz"

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from fuzz.checks import Mismatch
from fuzz.targets import TARGETS, Target

FUZZ_DIR = Path(__file__).resolve().parent
FOUND_DIR = FUZZ_DIR / "corpus" / "found"
BATCH = 100  # examples per hypothesis run (the time budget is checked between batches)


@dataclass
class Report:
    target: str
    seconds: float = 0.0
    cases: int = 0
    batches: int = 0
    skipped: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def dump_case(body: dict[str, Any]) -> str:
    """One key per line (diff-friendly), ASCII-only (lone surrogates survive)."""
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=True)}" for k, v in body.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def save_case(target: str, case: dict[str, Any], label: str, message: str, seed: int) -> Path:
    """Write a (shrunk) failing case to ``fuzz/corpus/found/`` and return its path."""
    FOUND_DIR.mkdir(parents=True, exist_ok=True)
    body = {"targets": [target], **case, "label": label, "message": message[:2000], "seed": seed,
            "found": time.strftime("%Y-%m-%d")}
    digest = hashlib.sha256(json.dumps(case, sort_keys=True).encode()).hexdigest()[:10]
    path = FOUND_DIR / f"{target}-{_slug(label)}-{digest}.json"
    path.write_text(dump_case(body))
    return path


def run_target(target: Target, seconds: float, seed: int, *, save: bool = True,
               max_findings: int = 5, out: Any = sys.stdout) -> Report:
    report = Report(target.name)
    reason = target.unavailable()
    if reason is not None:
        report.skipped = reason
        print(f"[{target.name}] SKIPPED: {reason}", file=out, flush=True)
        return report
    strategy = target.cases()
    seen: set[str] = set()
    start = time.monotonic()
    deadline = start + seconds
    batch_seed = seed
    while time.monotonic() < deadline and len(report.findings) < max_findings:
        last: dict[str, Any] = {}
        counter = [0]

        @settings(max_examples=BATCH, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                  phases=(Phase.generate, Phase.shrink), report_multiple_bugs=False)
        @given(strategy)
        @hypothesis_seed(batch_seed)
        def prop(case: dict[str, Any]) -> None:
            counter[0] += 1  # noqa: B023 - prop() runs within this iteration
            last["case"] = case  # noqa: B023
            target.check(case)

        try:
            prop()
        except Exception as exc:
            label = exc.label if isinstance(exc, Mismatch) else f"{type(exc).__name__}"
            case = last.get("case", {})
            if label not in seen:
                seen.add(label)
                finding: dict[str, Any] = {"label": label, "message": str(exc)[:500], "seed": batch_seed}
                detail = str(exc) if isinstance(exc, Mismatch) else traceback.format_exc(limit=-8)
                if save and case:
                    finding["file"] = str(save_case(target.name, case, label, detail, batch_seed))
                report.findings.append(finding)
                print(f"[{target.name}] FOUND {label}: {str(exc)[:300]}\n    case: "
                      f"{json.dumps(case)[:300]}", file=out, flush=True)
        report.cases += counter[0]
        report.batches += 1
        batch_seed += 1
    report.seconds = time.monotonic() - start
    print(f"[{target.name}] {report.cases} cases in {report.seconds:.1f}s ({report.batches} batches), "
          f"{len(report.findings)} distinct failures", file=out, flush=True)
    return report


def run_atheris(seconds: float, seed: int, out: Any = sys.stdout) -> Report:
    """Coverage-guided fuzzing with atheris in a subprocess (skipped if atheris is missing)."""
    report = Report("atheris")
    try:
        import atheris  # noqa: F401
    except Exception as exc:
        report.skipped = f"atheris is not installed ({type(exc).__name__})"
        print(f"[atheris] SKIPPED: {report.skipped}", file=out, flush=True)
        return report
    work = Path(tempfile.gettempdir()) / "fieldstream-atheris"  # libFuzzer's working corpus: not in the repo
    work.mkdir(exist_ok=True)
    start = time.monotonic()
    cmd = [sys.executable, str(FUZZ_DIR / "atheris_target.py"), f"-max_total_time={max(1, int(seconds))}",
           f"-seed={seed}", "-rss_limit_mb=2048", f"-artifact_prefix={work}/", str(work / "corpus")]
    (work / "corpus").mkdir(exist_ok=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    report.seconds = time.monotonic() - start
    runs = re.findall(r"#(\d+)\s", proc.stderr)
    report.cases = int(runs[-1]) if runs else 0
    report.batches = 1
    for crash in sorted(work.glob("crash-*")) + sorted(work.glob("timeout-*")):
        data = crash.read_bytes()
        case = {"hex": data.hex(), "chunks": [len(data)]}
        finding = {"label": "atheris crash", "message": proc.stderr[-1500:], "seed": seed,
                   "file": str(save_case("json_loads", case, f"atheris-{crash.name[:12]}",
                                         proc.stderr[-1500:], seed))}
        report.findings.append(finding)
        crash.unlink()
    print(f"[atheris] {report.cases} executions in {report.seconds:.1f}s, {len(report.findings)} crashes"
          + ("" if proc.returncode == 0 else f" (exit {proc.returncode})"), file=out, flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=1.0, help="total time budget, split across targets")
    ap.add_argument("--seed", type=int, default=0, help="seed of the first batch (then seed+1, ...)")
    ap.add_argument("--target", action="append", choices=[*TARGETS, "atheris"],
                    help="run only this target (repeatable); default: all")
    ap.add_argument("--no-save", action="store_true", help="do not write failing cases to fuzz/corpus/found")
    ap.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
    ap.add_argument("--list", action="store_true", help="list the targets and exit")
    args = ap.parse_args(argv)
    if args.list:
        for t in TARGETS.values():
            reason = t.unavailable()
            print(f"{t.name:16} {t.doc}" + (f"  [skipped: {reason}]" if reason else ""))
        print(f"{'atheris':16} coverage-guided differential vs json.loads (needs atheris)")
        return 0
    names = args.target or [*TARGETS, "atheris"]
    runnable = [n for n in names if n == "atheris" or TARGETS[n].unavailable() is None]
    share = args.minutes * 60 / max(1, len(runnable))
    started = time.time()
    reports: list[Report] = []
    for name in names:
        if name == "atheris":
            reports.append(run_atheris(share, args.seed))
        else:
            reports.append(run_target(TARGETS[name], share, args.seed, save=not args.no_save))
    total = time.time() - started
    print(f"\n{'target':16} {'seconds':>8} {'cases':>9} {'cases/s':>8}  findings")
    for r in reports:
        if r.skipped:
            print(f"{r.target:16} {'-':>8} {'-':>9} {'-':>8}  skipped: {r.skipped}")
            continue
        rate = r.cases / r.seconds if r.seconds else 0.0
        print(f"{r.target:16} {r.seconds:8.1f} {r.cases:9d} {rate:8.1f}  "
              f"{', '.join(f['label'] for f in r.findings) or 'none'}")
    print(f"total {total / 60:.1f} min, {sum(r.cases for r in reports)} cases")
    if args.json:
        Path(args.json).write_text(json.dumps({"seed": args.seed, "minutes": total / 60,
                                               "reports": [r.__dict__ for r in reports]}, indent=1))
    return 1 if any(r.findings for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
