"""fieldstream.testing.conformance: fieldstream passes every check, each deliberately broken adapter is
caught by the check meant for it, the oracle agrees with the corpus, and the command works."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

import fieldstream
from fieldstream.testing import conformance
from fieldstream.testing.conformance import CHECKS, adapters, run, strict_loads
from fieldstream.testing.conformance.__main__ import main
from fieldstream.testing.conformance._compare import flickers, grows, same
from fieldstream.testing.conformance._corpus import (
    INVALID_DOCUMENTS,
    INVALID_UTF8,
    SURROGATE_DOCUMENTS,
    UTF8_DOCUMENTS,
    build_corpus,
)

ROOT = Path(__file__).resolve().parents[2]
ALL = {c.name for c in CHECKS}


# ------------------------------------------------------------------------------------- broken adapters

class _Tracked:
    """fieldstream's parser, plus which scalar values have started but not finished (by path)."""

    accepts_bytes = False

    def __init__(self) -> None:
        self.parser = fieldstream.Parser()
        self.text = ""
        self.open: dict[Any, fieldstream.ValueKind] = {}
        self.calls = 0

    def _feed(self, delta: str) -> None:
        self.text += delta
        self.calls += 1
        for ev in self.parser.feed(delta):
            if isinstance(ev, fieldstream.ValueStart):
                self.open[ev.path] = ev.kind
            elif isinstance(ev, fieldstream.ValueDone):
                self.open.pop(ev.path, None)

    def close(self) -> Any:
        self.parser.close()
        return self.parser.value


class DropsOpenString(_Tracked):
    """Hides the string being written on every other delta (it flashes on and off)."""

    def feed(self, delta: str) -> Any:
        self._feed(delta)
        shown = self.parser.snapshot(copy=True)
        strings = [p for p, k in self.open.items() if k is fieldstream.ValueKind.STRING]
        if strings and self.calls % 2:
            path = strings[0]
            if not path:
                return None
            parent = shown
            for part in path[:-1]:
                parent = parent[part]
            del parent[path[-1]]
        return shown


class CompleteOnTruncation:
    """Reports a truncated document as complete: close() returns what it has so far."""

    def __init__(self) -> None:
        self.parser = fieldstream.Parser(events=False)

    def feed(self, delta: str) -> Any:
        self.parser.feed(delta)
        return self.parser.snapshot()

    def close(self) -> Any:
        try:
            self.parser.close()
            return self.parser.value
        except fieldstream.StreamError as exc:
            if exc.kind is not fieldstream.ErrorKind.INCOMPLETE:
                raise
            return self.parser.snapshot()


class FlickersNumbers(_Tracked):
    """Shows a number while it is being written (``12`` of ``123``), as re-parsing parsers do."""

    last: Any = None

    def feed(self, delta: str) -> Any:
        self._feed(delta)
        if fieldstream.ValueKind.NUMBER not in self.open.values():
            self.last = self.parser.snapshot()
            return self.last
        probe = fieldstream.Parser()
        try:
            probe.feed(self.text + " ")  # the space ends the pending number
            self.last = probe.snapshot()
        except fieldstream.StreamError:  # '-', '1.', '1e': keep showing what was shown
            pass
        return self.last


class DecodesEachDelta:
    """Decodes every bytes delta on its own (``errors='replace'``): U+FFFD where a character is split."""

    accepts_bytes = True

    def __init__(self) -> None:
        self.parser = fieldstream.Parser(events=False)

    def feed(self, delta: str | bytes) -> Any:
        self.parser.feed(delta.decode("utf-8", "replace") if isinstance(delta, bytes) else delta)
        return self.parser.snapshot()

    def close(self) -> Any:
        self.parser.close()
        return self.parser.value


class LagsOneDelta:
    """Shows the value as it was before the latest delta: always a prefix, but chunking-dependent."""

    def __init__(self) -> None:
        self.parser = fieldstream.Parser(events=False)
        self.before: Any = None

    def feed(self, delta: str) -> Any:
        shown = self.before
        self.parser.feed(delta)
        self.before = self.parser.snapshot(copy=True)
        return shown

    def close(self) -> Any:
        self.parser.close()
        return self.parser.value


class ClosesAndReparses:
    """Completes the prefix (closes the open string and brackets) and json.loads it, as re-parsing
    partial parsers do; a high surrogate escape at the end of the prefix is shown on its own."""

    def __init__(self) -> None:
        self.text = ""
        self.shown: Any = None

    def feed(self, delta: str) -> Any:
        self.text += delta
        stack, in_string, escaped = [], False, False
        for ch in self.text:
            if in_string:
                escaped = not escaped and ch == "\\"
                in_string = escaped or ch != '"'
            elif ch == '"':
                in_string = True
            elif ch in "[{":
                stack.append("]" if ch == "[" else "}")
            elif ch in "]}" and stack:
                stack.pop()
        tail = re.sub(r"\\(u[0-9a-fA-F]{0,3})?$", "", self.text) + '"' if in_string else self.text
        try:
            self.shown = json.loads(tail.rstrip(", \n") + "".join(reversed(stack)))
        except ValueError:
            pass
        return self.shown

    def close(self) -> Any:
        return json.loads(self.text)


# ------------------------------------------------------------------------------------------------ tests

def test_fieldstream_passes_every_check() -> None:
    report = run(adapters.fieldstream)
    assert report.name == "fieldstream" and report.version == fieldstream.__version__
    assert {r.name: r.outcome for r in report.results} == {name: "pass" for name in ALL}
    assert all(r.cases > 0 for r in report.results)
    assert report.passed


def test_an_adapter_that_drops_the_open_string_fails_snapshots_grow() -> None:
    report = run(DropsOpenString, checks=["final_value", "prefix_snapshots", "invalid_rejected"])
    prefix = report.result("prefix_snapshots")
    assert prefix.outcome == "fail" and prefix.counterexample is not None
    assert "vanished" in prefix.counterexample.detail
    assert report.result("final_value").outcome == "pass"
    assert report.result("invalid_rejected").outcome == "pass"
    assert not report.passed


def test_an_adapter_that_reports_truncated_input_complete_fails_that_check_only() -> None:
    report = run(CompleteOnTruncation, checks=["final_value", "prefix_snapshots", "truncated_incomplete"])
    trunc = report.result("truncated_incomplete")
    assert trunc.outcome == "fail" and trunc.counterexample is not None
    assert trunc.counterexample.document == "{"  # the smallest case: a one-character prefix
    assert "close() returned {}" in trunc.counterexample.detail
    assert [r.outcome for r in report.results if r.name != "truncated_incomplete"] == ["pass"] * 2


def test_an_adapter_that_flickers_numbers_is_reported_but_not_failed() -> None:
    report = run(FlickersNumbers, checks=["final_value", "prefix_snapshots", "number_flicker"])
    flicker = report.result("number_flicker")
    assert flicker.outcome == "fail" and not flicker.required
    assert flicker.counterexample is not None
    assert re.search(r"shows -?\d+ at \$.*, the final number is", flicker.counterexample.detail)
    assert report.result("prefix_snapshots").outcome == "pass"  # numbers may change, not their kind
    assert report.result("final_value").outcome == "pass"
    assert report.passed  # flicker alone does not fail the suite


def test_decoding_each_bytes_delta_alone_fails_the_utf8_check() -> None:
    report = run(DecodesEachDelta, checks=["utf8_splits", "surrogate_escapes"])
    utf8 = report.result("utf8_splits")
    assert utf8.outcome == "fail" and utf8.counterexample is not None
    assert "\ufffd" in utf8.counterexample.detail or "rejected" in utf8.counterexample.detail
    assert report.result("surrogate_escapes").outcome == "pass"  # str input is unaffected


def test_an_adapter_that_lags_one_delta_fails_chunking_invariance_only() -> None:
    report = run(LagsOneDelta, checks=["chunking_invariance", "prefix_snapshots", "final_value"])
    inv = report.result("chunking_invariance")
    assert inv.outcome == "fail" and inv.counterexample is not None
    assert "fed one character at a time it shows" in inv.counterexample.detail
    assert report.result("prefix_snapshots").outcome == "pass"
    assert report.result("final_value").outcome == "pass"


def test_a_reparser_that_shows_half_a_surrogate_pair_fails_the_surrogate_check() -> None:
    report = run(ClosesAndReparses, checks=["surrogate_escapes"])
    sur = report.result("surrogate_escapes")
    assert sur.outcome == "fail" and sur.counterexample is not None
    assert re.search(r"\\ud8[0-9a-f]{2}'? is not a prefix", sur.counterexample.detail, re.IGNORECASE)


def test_utf8_check_is_not_applicable_without_bytes() -> None:
    report = run(CompleteOnTruncation, checks=["utf8_splits"])
    assert report.result("utf8_splits").outcome == "n/a"
    assert "accepts_bytes" in report.result("utf8_splits").reason


def test_the_docstring_example_runs_and_prints_what_it_says() -> None:
    doc = conformance.__doc__
    assert doc is not None
    block = doc.split("shows nothing until the end::", 1)[1].split("\n\nThe command", 1)[0]
    code = textwrap.dedent(block)
    printed: list[str] = []
    exec(code, {"print": lambda *a: printed.append(" ".join(map(str, a)))})
    assert printed == ["pass", "n/a", "fail NaN"]


def test_docs_page_blocks_run_and_print_what_the_page_says(capsys: pytest.CaptureFixture[str]) -> None:
    from support.doc_blocks import check_output, python_blocks

    page = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    blocks = python_blocks(page)
    assert blocks
    for k, block in enumerate(blocks):
        capsys.readouterr()
        exec(block.code, {"__name__": "docs_conformance"})
        check_output(f"docs/conformance.md block {k}", block, capsys.readouterr().out)


# ----------------------------------------------------------------------------------- oracle and corpus

@pytest.mark.parametrize(("label", "text"), INVALID_DOCUMENTS)
def test_the_oracle_rejects_every_invalid_document(label: str, text: str) -> None:
    with pytest.raises(ValueError):
        strict_loads(text)


def test_the_oracle_accepts_every_valid_document() -> None:
    docs = [d.text for d in build_corpus(0)] + [t for _, t in UTF8_DOCUMENTS + SURROGATE_DOCUMENTS]
    for text in docs:
        strict_loads(text)
    for _, data in INVALID_UTF8:
        with pytest.raises(ValueError):
            data.decode("utf-8")


def test_corpus_is_deterministic_and_chunkings_concatenate() -> None:
    a, b = build_corpus(0), build_corpus(0)
    assert [(d.text, d.chunkings) for d in a] == [(d.text, d.chunkings) for d in b]
    assert [d.text for d in build_corpus(1)] != [d.text for d in a]
    for doc in a:
        assert doc.chunkings[0] == list(doc.text)  # the reference: one character at a time
        assert all("".join(c) == doc.text and all(c) for c in doc.chunkings)


def test_strict_equality_and_growth() -> None:
    assert not same(1, 1.0) and not same(1, True) and not same(0.0, -0.0)
    assert same({"a": [1, "x"], "b": None}, {"b": None, "a": [1, "x"]})
    assert grows({"a": "ab"}, {"a": "abc", "b": 1}) is None
    assert grows(12, 123) is None  # flicker, not a growth violation
    assert "vanished" in str(grows({"a": 1}, {}))
    assert "prefix" in str(grows("ab", "ax"))
    assert "became" in str(grows("", True))
    assert flickers([12], [123]) == [((0,), 12, 123)]
    assert flickers([1.0], [1]) == [((0,), 1.0, 1)]


def test_hypothesis_mode_adds_documents() -> None:
    plain_cases = sum(len(doc.chunkings) for doc in build_corpus(0))
    more = run(adapters.fieldstream, checks=["final_value"], hypothesis=3)
    assert more.result("final_value").outcome == "pass"
    assert more.result("final_value").cases >= plain_cases + 3 * 3


# ---------------------------------------------------------------------------------------- packaging/cli

def test_the_suite_works_without_hypothesis_and_imports_no_peer() -> None:
    code = textwrap.dedent("""
        import sys
        sys.modules["hypothesis"] = None  # as if it were not installed
        from fieldstream.testing.conformance import adapters, run
        assert run(adapters.fieldstream, checks=["surrogate_escapes"]).passed
        try:
            from fieldstream.testing import json_texts
        except ImportError as exc:
            print(exc)
        print(sorted(m for m in ("jiter", "ijson", "pydantic", "json_repair", "partial_json_parser")
                     if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "fieldstream.testing.json_texts needs hypothesis (pip install hypothesis)", "[]"]


def _public_names(module: Any) -> set[str]:
    """Every non-underscore attribute that is not a submodule or the ``annotations`` future feature."""
    return {name for name, value in vars(module).items()
            if not name.startswith("_") and not isinstance(value, types.ModuleType)
            and not (name == "annotations" and not callable(value))}


def test_facades_expose_exactly_their_all() -> None:
    import fieldstream.testing as testing
    from fieldstream.testing import _strategies

    assert _public_names(testing) == set(testing.__all__) == set(_strategies.__all__)
    assert all(getattr(testing, name) is getattr(_strategies, name) for name in testing.__all__)
    assert _public_names(conformance) == set(conformance.__all__)


def test_cli_on_the_fieldstream_adapter(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "fieldstream.testing.conformance",
           "--adapter", "fieldstream.testing.conformance.adapters:fieldstream", "--json", str(out),
           "--check", "final_value", "--check", "utf8_splits"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text(encoding="utf-8"))["reports"][0]
    assert report["adapter"] == "fieldstream" and report["passed"] is True
    assert {c["name"]: c["outcome"] for c in report["checks"]} == {
        "final_value": "pass", "utf8_splits": "pass"}
    assert "pass  utf8_splits" in proc.stdout


def test_cli_exits_1_when_a_required_check_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "my_adapters.py").write_text(textwrap.dedent("""
        import json

        class Loads:
            def __init__(self):
                self.text = ""
            def feed(self, delta):
                self.text += delta
            def close(self):
                return json.loads(self.text)
    """), encoding="utf-8")
    cmd = [sys.executable, "-m", "fieldstream.testing.conformance", "--adapter", "my_adapters:Loads",
           "--check", "invalid_rejected", "--markdown"]
    env_path = {"PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, **env_path})
    assert proc.returncode == 1
    assert "| Loads | ? | **FAIL** (" in proc.stdout
    assert "required checks failed for: Loads" in proc.stderr

    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["--adapter", "my_adapters:Loads", "--check", "invalid_rejected", "--exit-zero"]) == 0
    capsys.readouterr()
    for spec, why in (("nope", "expected module:function"), ("my_adapters:Nope", "AttributeError")):
        with pytest.raises(SystemExit) as exit_info:
            main(["--adapter", spec])
        assert exit_info.value.code == 2 and why in capsys.readouterr().err


def test_docs_page_describes_every_check_and_the_corpus_sizes() -> None:
    page = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    for check in CHECKS:
        assert f"| `{check.name}` | {'yes' if check.required else 'no'} |" in page, check.name
    from fieldstream.testing.conformance._corpus import VALID_DOCUMENTS

    sizes = ((len(VALID_DOCUMENTS), "hand-written documents"), (len(UTF8_DOCUMENTS), "UTF-8 documents"),
             (len(SURROGATE_DOCUMENTS), "surrogate-pair documents"),
             (len(INVALID_DOCUMENTS), "invalid\ndocuments"), (len(INVALID_UTF8), "invalid UTF-8 inputs"))
    for count, what in sizes:
        assert f"{count} {what}" in page, what
    assert "<!-- conformance-table:start -->\nRan on Python" in page  # the generated table is there


@pytest.mark.parametrize("name", sorted(adapters.PEERS))
def test_each_shipped_adapter_reads_a_document(name: str) -> None:
    factory, module = adapters.PEERS[name]
    pytest.importorskip(module)
    text = '{"a": [1, "x\\u00e9"], "b": null}'
    r = conformance.drive(factory, [text[:7], text[7:]])
    assert r.ok and same(r.final, json.loads(text)), r.error
    assert factory().version
    truncated = conformance.drive(factory, [text[:-1]])
    if name != "json-repair":  # json-repair completes whatever it gets, by design
        assert not truncated.ok
