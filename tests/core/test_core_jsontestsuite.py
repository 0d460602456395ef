"""JSONTestSuite (``tests/data/JSONTestSuite/test_parsing``, vendored), fed as bytes in several chunkings.

* ``y_``: accepted, value equal to ``json.loads`` (type-exact);
* ``n_``: rejected with :class:`~fieldstream.StreamError`; with the reference recognizer's kind and position,
  or ``INVALID_UTF8`` when the file is not UTF-8 and its valid part is still a viable prefix;
* ``i_``: either result, never another exception.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from fieldstream import ErrorKind
from support.core import (
    SUITE,
    oracle_loads,
    random_chunks,
    recognize,
    run_parse,
    run_parser,
    same_json,
    suite_files,
)

DEEP = {"n_structure_100000_opening_arrays.json", "n_structure_open_array_object.json",
        "i_structure_500_nested_arrays.json"}


def _byte_chunkings(data: bytes, name: str) -> dict[str, list[bytes]]:
    rnd = random.Random(name)
    if len(data) > 50_000:  # the 100 000-deep files: two chunkings keep the run fast
        return {"whole": [data], "random": random_chunks(data, rnd, 2048)}
    out = {
        "whole": [data],
        "random": random_chunks(data, rnd, 7),
        "pairs": [data[i:i + 2] for i in range(0, len(data), 2)],
    }
    if len(data) < 5000:  # byte by byte, except the 100 000-deep files (covered by the others)
        out["single"] = [data[i:i + 1] for i in range(len(data))]
    return out


def _options(name: str) -> list[dict[str, Any]]:
    return [{}, {"max_depth": None}] if name in DEEP or "nested" in name else [{}]


def test_suite_is_present() -> None:
    assert SUITE.is_dir()
    assert len(suite_files("y")) > 90 and len(suite_files("n")) > 180 and len(suite_files("i")) > 30


@pytest.mark.parametrize("path", suite_files("y"), ids=lambda p: p.name)
def test_y_files_are_accepted_with_the_json_loads_value(path: Path) -> None:
    data = path.read_bytes()
    expected = oracle_loads(data.decode("utf-8"))
    for name, chunks in _byte_chunkings(data, path.name).items():
        for options in _options(path.name):
            for out in (run_parser(chunks, **options), run_parse(chunks, **options)):
                assert out.error is None, (name, options, out.error)
                assert same_json(out.value, expected), name
    text = data.decode()
    assert same_json(run_parser(list(text)).value, expected)


def _expected_error(data: bytes) -> tuple[ErrorKind, int]:
    """(kind, pos) by the reference recognizer."""
    try:
        text = data.decode("utf-8")
        bad_utf8 = False
    except UnicodeDecodeError as exc:
        text = data[: exc.start].decode("utf-8")
        bad_utf8 = True
    offset = 0
    if text.startswith("\ufeff"):  # json.loads(bytes) skips a UTF-8 BOM; so do we (it counts as 1 char)
        text = text[1:]
        offset = 1
    verdict = recognize(text)
    n = verdict.viable
    if bad_utf8 and n == len(text):
        return ErrorKind.INVALID_UTF8, n + offset
    assert not verdict.complete and verdict.kind is not None
    return ErrorKind(verdict.kind), n + offset


@pytest.mark.parametrize("path", suite_files("n"), ids=lambda p: p.name)
def test_n_files_are_rejected_at_the_reference_position_for_every_chunking(path: Path) -> None:
    data = path.read_bytes()
    kind, pos = _expected_error(data)
    keys = set()
    for name, chunks in _byte_chunkings(data, path.name).items():
        for options in _options(path.name):
            for out in (run_parser(chunks, **options), run_parse(chunks, **options)):
                err = out.error
                assert err is not None, (name, options)
                if options.get("max_depth", 1) is not None and err.kind is ErrorKind.DEPTH_LIMIT:
                    continue
                assert (err.kind, err.pos) == (kind, pos), (name, err)
                keys.add(out.error_key())
    assert len(keys) == 1, keys


@pytest.mark.parametrize("path", suite_files("i"), ids=lambda p: p.name)
def test_i_files_either_parse_like_json_loads_or_raise_stream_error(path: Path) -> None:
    data = path.read_bytes()
    results = set()
    for _, chunks in _byte_chunkings(data, path.name).items():
        for options in _options(path.name):
            out = run_parser(chunks, **options)  # run_parser lets only StreamError through
            results.add("ok" if out.error is None else out.error_key())
            if out.error is None:
                try:
                    expected = oracle_loads(data)
                except Exception:  # json.loads rejects it, we accept it: allowed for i_ files
                    continue
                assert same_json(out.value, expected)
    assert len(results) <= 2  # the same outcome for every chunking (depth option aside)
