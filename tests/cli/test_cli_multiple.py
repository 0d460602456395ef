"""``fieldstream parse --multiple``: JSON Lines and concatenated JSON, one DocumentDone per document."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from fieldstream import _cli as cli


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def records(n: int, seed: int = 3) -> list[object]:
    rnd = random.Random(seed)
    return [{"id": i, "name": "n\u00e9" * rnd.randint(0, 5), "tags": [rnd.random() for _ in range(i % 3)],
             "ok": i % 2 == 0, "note": None} if i % 4 else rnd.randint(-99, 99) for i in range(n)]


@pytest.mark.parametrize("chunk", [1, 3, 64, 65536])
def test_jsonl_documents_match_json_loads_of_each_line(tmp_path: Path, chunk: int) -> None:
    values = records(12)
    f = tmp_path / "items.jsonl"
    f.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    code, out, err = run(["parse", "--multiple", "-f", "jsonl", "-c", str(chunk), str(f)])
    assert (code, err) == (0, "")
    done = [json.loads(line) for line in out.splitlines() if '"document_done"' in line]
    oracle = [json.loads(line) for line in f.read_text(encoding="utf-8").split("\n") if line]
    assert [d["index"] for d in done] == list(range(len(values)))
    assert [d["value"] for d in done] == oracle


def test_readable_lines_and_concatenated_documents(tmp_path: Path) -> None:
    f = tmp_path / "docs.json"
    f.write_text('{"a": 1}[2] 3 4"x"', encoding="utf-8")
    code, out, _ = run(["parse", "-m", str(f)])
    assert code == 0
    assert [ln.split(None, 1)[1] for ln in out.splitlines() if ln.startswith("DocumentDone")] == [
        '#0 = {"a": 1}', "#1 = [2]", "#2 = 3", "#3 = 4", '#4 = "x"']


def test_an_error_names_its_document_and_earlier_documents_are_printed(tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text('{"a": 1}\n{"a": 2}\n{"a": }\n', encoding="utf-8")
    code, out, err = run(["parse", "-m", "-c", "1", "-f", "jsonl", str(f)])
    assert code == 1
    assert sum('"document_done"' in line for line in out.splitlines()) == 2
    assert ":3:7: error:" in err and "path $.a, document 2" in err and "[expected_value]" in err


def test_without_multiple_a_second_document_is_trailing_data(tmp_path: Path) -> None:
    f = tmp_path / "two.jsonl"
    f.write_text("1\n2\n", encoding="utf-8")
    code, _, err = run(["parse", str(f)])
    assert code == 1 and "[trailing_data]" in err and "document" not in err.split("\n")[1]


def test_empty_input_is_zero_documents(tmp_path: Path) -> None:
    f = tmp_path / "empty.jsonl"
    f.write_text("\n\n", encoding="utf-8")
    assert run(["parse", "-m", "-f", "snapshot", str(f)]) == (0, "", "")


@pytest.mark.parametrize("extra", [["--lenient"], ["-f", "patch"]])
def test_multiple_refuses_options_that_assume_one_document(tmp_path: Path, extra: list[str]) -> None:
    f = tmp_path / "one.json"
    f.write_text("1", encoding="utf-8")
    code, _, err = run(["parse", "-m", *extra, str(f)])
    assert code == cli.EXIT_USAGE and "--multiple" in err


ROWS = '''
from pydantic import BaseModel, Field


class Row(BaseModel):
    id: int
    qty: int = Field(ge=0)
'''


def test_schema_validates_each_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cli_rows.py").write_text(ROWS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    f = tmp_path / "rows.jsonl"
    f.write_text('{"id": 1, "qty": 2}\n{"id": 2, "qty": -1}\n{"id": 3, "qty": 0}\n', encoding="utf-8")
    code, out, err = run(["parse", "-m", "-s", "cli_rows:Row", "-f", "jsonl", "-c", "4", str(f)])
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(d["index"], d["value"]) for d in lines if d["event"] == "document_done"] == [
        (0, {"id": 1, "qty": 2}), (2, {"id": 3, "qty": 0})]  # the invalid document has none
    assert [d["path"] for d in lines if d["event"] == "field_invalid"] == ["$.qty"]
    assert code == 1 and "greater_than_equal" in err
