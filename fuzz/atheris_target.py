"""Coverage-guided fuzzing with atheris (optional): differential vs json.loads on raw bytes, fed
whole and split at a byte position chosen by the fuzzer. Run through ``python -m fuzz --target
atheris``, or directly: ``python fuzz/atheris_target.py -max_total_time=60``."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with atheris.instrument_imports():
    import fieldstream  # noqa: F401
    from fuzz import checks


def test_one_input(data: bytes) -> None:
    if not data:
        return
    split = data[0] % max(1, len(data))
    body = data[1:]
    split = min(split, len(body))
    chunks = [len(body[:split]), len(body[split:])]
    case = {"hex": body.hex(), "chunks": chunks}
    checks.check_json_loads(case)
    checks.check_error_positions(case)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return
    checks.check_json_loads({"text": text, "chunks": chunks})


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
