"""Write the hand-made edge cases to ``fuzz/corpus/edge/`` (``python -m fuzz.make_edge_corpus``).

Each case is an input plus the chunking that makes it hard (split inside an escape, between the
halves of a surrogate pair, inside a UTF-8 sequence, ...). They are replayed against the core
targets by ``tests/test_fuzz_corpus.py``, along with the JSONTestSuite files (vendored in
``tests/data/JSONTestSuite``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fuzz.checks import make_case
from fuzz.run import dump_case

EDGE_DIR = Path(__file__).resolve().parent / "corpus" / "edge"
CORE = ["chunking", "json_loads", "error_positions"]
VALID = [*CORE, "ijson"]


def _splits(data: Any, *points: int) -> list[Any]:
    out, prev = [], 0
    for p in points:
        out.append(data[prev:p])
        prev = p
    out.append(data[prev:])
    return [c for c in out if len(c)]


def _ones(data: Any) -> list[Any]:
    return [data[k:k + 1] for k in range(len(data))]


def cases() -> dict[str, dict[str, Any]]:
    c: dict[str, dict[str, Any]] = {}

    def add(name: str, data: Any, chunks: list[Any] | None = None, targets: list[str] = CORE,
            note: str = "") -> None:
        c[name] = {"targets": targets, **make_case(data, chunks or _ones(data)), "note": note}

    t = '{"a":"x\\u00e9y"}'
    add("escape-split-inside-u", t, _splits(t, 8, 10, 12), VALID, "\\u00e9 cut after \\u00")
    t = '["\\ud83d\\ude00"]'
    add("surrogate-pair-split-between-halves", t, _splits(t, 8), VALID, "the two \\u escapes in 2 deltas")
    add("surrogate-pair-split-after-backslash", t, _splits(t, 9), VALID)
    add("surrogate-pair-one-char-deltas", t, None, VALID)
    add("lone-high-surrogate-then-quote", '["\\ud83d"]', note="held back, then flushed like json.loads")
    add("high-surrogate-then-bmp-escape", '"\\ud83d\\u0041"')
    add("high-surrogate-then-pair", '"\\ud83d\\ud83d\\ude00"')
    add("lone-low-surrogate", '"\\ude00"')
    add("high-surrogate-then-simple-escape", '"\\ud800\\n"')
    add("raw-lone-surrogate-in-str", '["\ud800"]', note="json.loads(str) accepts it")
    b = '{"k":"é😀中"}'.encode()
    add("bytes-multibyte-one-byte-deltas", b, None, VALID)
    add("bytes-split-inside-4-byte-sequence", b, _splits(b, 9, 10, 11), VALID)
    b = b"\xef\xbb\xbf[1]"
    add("bytes-bom-split", b, None, VALID, "json.loads(bytes) skips a UTF-8 BOM; it counts as 1 char")
    add("str-bom-rejected", "\ufeff[1]", ["\ufeff[1]"])
    add("bytes-truncated-utf8-at-end", b'"\xe4\xb8')
    add("bytes-encoded-surrogate", b'"\xed\xa0\x80"')
    add("bytes-overlong-slash", b'"\xc0\xaf"')
    add("bytes-invalid-after-complete-value", b"1\xff")
    add("bytes-json-error-before-invalid-utf8", b"[x\xff]")
    for k, num in enumerate(["-0", "-", "1.", "1e", "1E+", "01", "1.5e-0", "-0.0e00", "1e400", "-1e-400",
                             "0.1e1", "123456789012345678901234567890", "2." + "0" * 30, "-01", ".5", "+1"]):
        add(f"number-{k:02d}", num, targets=VALID if num in ("-0", "1.5e-0", "-0.0e00", "0.1e1") else CORE)
    add("number-then-space", "12 ", targets=VALID)
    add("number-inside-array-one-char-deltas", "[-12.5e+3,0,7]", targets=VALID)
    for word in ["tr", "nul", "nulx", "truex", "fals", "True", "nan", "NaN", "Infinity", "-Infinity"]:
        add(f"literal-{word}", word)
    add("nul-in-string", '"a\x00"')
    add("del-in-string", '"\x7f"', targets=VALID)
    add("raw-tab-in-string", '"\t"')
    add("raw-newline-in-key", '{"a\nb":1}')
    for k, t in enumerate(["[] x", "1 2", "{}{}", '"a""b"', "[1]]", "1,"]):
        add(f"trailing-data-{k}", t)
    add("empty-input", "", [""])
    add("whitespace-only", " \n\t\r ")
    add("deep-2000-arrays", "[" * 2000 + "]" * 2000, ["[" * 2000 + "]" * 2000],
        note="json.loads: RecursionError; fieldstream: DEPTH_LIMIT by default, fine with max_depth=None")
    add("big-int-5000-digits", "9" * 5000, ["9" * 2500, "9" * 2500], note="beyond int max str digits")
    add("key-escape-split", '{"a\\nb":1}', None, VALID)
    add("duplicate-keys-last-wins", '{"a":1,"a":2}', None, VALID)
    for k, t in enumerate(['"\\/"', '"\\x"', '"\\u12G4"', '"\\U0041"', '"\\', '"\\u00']):
        add(f"escape-{k}", t)
    add("markdown-fence", '```json\n{"a":1}\n```')
    add("nbsp-is-not-whitespace", "\u00a0[1]")
    add("form-feed-is-not-whitespace", "[1,\x0c2]")
    for k, t in enumerate(["[1,]", '{"a":1,}', "[,1]", '{"a"}', '{"a":}', '{1:2}', "[1 2]", '{"a" 1}']):
        add(f"structure-{k}", t)
    add("crlf-tab-whitespace", '{\r\n\t"a" :\r\n 1 }', targets=VALID)
    add("backslash-at-chunk-end", '"a\\\\"', ['"a\\', '\\"'], VALID, "escaped backslash cut in two")
    add("quote-escape-at-chunk-end", '"a\\""', ['"a\\', '""'], VALID)
    add("error-on-second-line", '{\n  "a": [1,\n  2,, 3]}', note="line/col of an error after newlines")
    add("astral-key-and-value", '{"😀":"😀"}', None, VALID)
    doc = json.dumps({"title": "Hello, world", "items": [{"name": "a\u00e9\U0001F600", "n": 1.5}],
                      "ok": True})
    add("llm-like-document-one-char", doc, None, VALID)
    return c


def main() -> None:
    EDGE_DIR.mkdir(parents=True, exist_ok=True)
    for old in EDGE_DIR.glob("*.json"):
        old.unlink()
    for name, case in cases().items():
        (EDGE_DIR / f"{name}.json").write_text(dump_case(case))
    print(f"wrote {len(cases())} cases to {EDGE_DIR}")


if __name__ == "__main__":
    main()
