"""Hostile input: the parser sits in front of untrusted model output.

For each item of the list below, the parser either rejects the input with a clear
:class:`fieldstream.StreamError` (checked: kind, position) or parses it within its documented limits,
with no RecursionError, no hang and no MemoryError. Memory is asserted: the tracemalloc peak while
parsing is bounded by a (per-item) multiple of the input size, at two sizes (N and 2N) so that the
growth is linear. Times are recorded, never asserted: they are printed (``pytest -s`` or ``-rP``)
and the full-size figures are in ``fuzz/README.md``. Only the recorded runs (full sizes or a report
file, below) run each item a second time without tracemalloc to time it.

The default run uses reduced sizes (the whole module takes well under a minute); set
``FIELDSTREAM_HOSTILE_FULL=1`` for the sizes of the issue (100 000-deep nesting, a 50 MB string,
a 1 MB number, 1 000 000 keys, 10 MB of whitespace, 1-byte deltas of a 5 MB document).
``FIELDSTREAM_HOSTILE_REPORT=path`` appends every measurement to ``path`` as JSON lines.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import fieldstream
from fieldstream import ErrorKind, Parser, StreamError

FULL = os.environ.get("FIELDSTREAM_HOSTILE_FULL") == "1"
MB = 1_000_000


def size(full: int, reduced: int) -> int:
    return full if FULL else reduced


def measure(label: str, n: int, fn: Callable[[], Any]) -> tuple[Any, float, int]:
    """Run ``fn`` under tracemalloc (peak memory), then, for the recorded figures (full sizes or a
    report file), again without it (time). Prints and returns ``(result, seconds, peak_bytes)``.
    Exceptions propagate from the first run. In the default run the time is only printed, never
    asserted, so it is taken from the traced run (marked ``traced``) instead of running ``fn`` twice."""
    report = os.environ.get("FIELDSTREAM_HOSTILE_REPORT")
    gc.collect()
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    clock = "traced"
    if FULL or report:
        del result
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
        clock = "time"
    line = (f"HOSTILE {label:44} n={n:>11,}  {clock}={seconds:8.3f}s  peak={peak / MB:9.2f} MB  "
            f"peak/n={peak / max(n, 1):7.2f}")
    print(line)
    if report:
        with open(report, "a") as f:
            record = {"label": label, "n": n, "seconds": seconds, "peak": peak, "full": FULL}
            f.write(json.dumps(record) + "\n")
    return result, seconds, peak


def rejects(fn: Callable[[], Any]) -> Callable[[], StreamError]:
    """Wrap ``fn`` so that it returns the StreamError it must raise."""

    def run() -> StreamError:
        with pytest.raises(StreamError) as info:
            fn()
        return info.value

    return run


def linear(label: str, make: Callable[[int], Any], run: Callable[[Any], Any], n: int, per_char: float,
           length: Callable[[Any], int] = len) -> list[Any]:
    """Measure at sizes n and 2n; assert the peak is at most ``per_char`` bytes per input character
    (plus 1 MB) at both sizes, i.e. memory linear in the input. Returns the two results."""
    results = []
    for k in (n, 2 * n):
        data = make(k)
        m = length(data)
        result, _, peak = measure(f"{label}", m, lambda data=data: run(data))
        assert peak <= per_char * m + MB, f"{label}: peak {peak} bytes for {m} characters"
        results.append(result)
        del data
    return results


def chunked(text: str, size: int) -> Iterator[str]:
    return (text[k:k + size] for k in range(0, len(text), size))


# ----------------------------------------------------------------------------- deep nesting


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        value = value[0]
        depth += 1
    return depth + (1 if isinstance(value, list) else 0)


def test_deep_nesting_is_rejected_at_max_depth_with_a_clear_error() -> None:
    def run(text: str) -> StreamError:
        return rejects(lambda: Parser().feed(text))()

    for err in linear("nesting 100k deep, max_depth=1024", lambda n: "[" * n + "]" * n, run,
                      size(100_000, 50_000), per_char=2):
        assert err.kind is ErrorKind.DEPTH_LIMIT
        assert err.pos == fieldstream.DEFAULT_MAX_DEPTH
        assert "max_depth" in str(err)


def test_deep_nesting_without_max_depth_parses_iteratively() -> None:
    n = size(100_000, 20_000)

    def run(text: str) -> int:
        p = Parser(max_depth=None)
        events = p.feed(text) + p.close()
        assert len(events) == len(text)  # one ValueStart and one ValueDone per array
        return _depth(p.value)

    # each array costs a list, a location and two events: ~250 bytes per input character
    for k, depth in zip((n, 2 * n), linear("nesting 100k deep, max_depth=None (events)",
                                           lambda k: "[" * k + "]" * k, run, n, per_char=400), strict=True):
        assert depth == k
    value = fieldstream.parse("[" * n + "]" * n, max_depth=None)
    assert _depth(value) == n


def test_deep_object_nesting_without_max_depth_reports_paths_without_recursion() -> None:
    n = size(100_000, 10_000)
    text = '{"a":' * n + "1" + "}" * n
    events, _, peak = measure("object nesting 100k deep, events", len(text),
                              lambda: Parser(max_depth=None).feed(text))
    assert len(events) == 2 * (n + 1) and peak <= 400 * len(text)
    # Reading the path of a deep event is O(depth^2) in memory today (core bug, see
    # fuzz/corpus/found/path_memory-*.json): check paths at a depth where that is affordable.
    k = 2000
    deepest = next(e for e in Parser(max_depth=None).feed('{"a":' * k + "1" + "}" * k)
                   if isinstance(e, fieldstream.ValueDone))
    assert deepest.path == ("a",) * k and deepest.value == 1
    assert len(deepest.pointer) == 2 * k
    # A truncated deep document fails with INCOMPLETE at the end, not a RecursionError.
    with pytest.raises(StreamError) as info:
        p = Parser(max_depth=None)
        p.feed(text[:-1])
        p.close()
    assert info.value.kind is ErrorKind.INCOMPLETE and info.value.pos == len(text) - 1


# ----------------------------------------------------------------------------- big tokens


def test_huge_string_parses_within_max_string_length_in_linear_memory() -> None:
    n = size(50 * MB, 4 * MB)

    def run(text: str) -> int:
        p = Parser(events=False)
        for chunk in chunked(text, 65536):  # streamed, as it would arrive
            p.feed(chunk)
        p.close()
        return len(p.value)

    lengths = linear("50 MB string, 64 KiB deltas", lambda k: '"' + "x" * k + '"', run, n // 2, per_char=3.5)
    assert lengths == [n // 2, n]


def test_huge_string_is_rejected_beyond_max_string_length() -> None:
    n = size(50 * MB, 4 * MB)
    text = '["' + "y" * n + '"]'
    err, _, peak = measure("50 MB string, max_string_length=1 MB", len(text),
                           rejects(lambda: fieldstream.parse(chunked(text, 65536), max_string_length=MB)))
    assert err.kind is ErrorKind.STRING_LIMIT
    assert err.pos == 2 + MB  # the first character beyond the limit
    assert peak <= 4 * MB


def test_huge_number_is_rejected_at_max_number_length() -> None:
    n = size(MB, MB // 4)

    def run(text: str) -> StreamError:
        return rejects(lambda: fieldstream.parse(text))()

    for err in linear("1 MB number (integer)", lambda k: "[" + "7" * k + "]", run, n // 2, per_char=2):
        assert err.kind is ErrorKind.NUMBER_LIMIT
        assert err.pos == 1 + fieldstream.DEFAULT_MAX_NUMBER_LENGTH


def test_huge_integer_without_number_limit_is_rejected_by_the_int_conversion_limit() -> None:
    n = size(MB, MB // 4)
    text = "7" * n
    err, _, _ = measure("1 MB integer, max_number_length=None", n,
                        rejects(lambda: fieldstream.parse(chunked(text, 4096), max_number_length=None)))
    assert err.kind is ErrorKind.NUMBER_LIMIT and "digits" in str(err)


def test_huge_float_without_number_limit_parses() -> None:
    n = size(MB, MB // 4)
    text = "0." + "3" * n + "e-2"
    value, _, peak = measure("1 MB float, max_number_length=None", len(text),
                             lambda: fieldstream.parse(chunked(text, 4096), max_number_length=None))
    assert value == json.loads(text)
    assert peak <= 4 * len(text) + MB


def test_million_keys_in_one_object_parse_in_linear_memory() -> None:
    n = size(1_000_000, 30_000)

    def make(k: int) -> str:
        return "{" + ",".join(f'"k{i}":{i}' for i in range(k)) + "}"

    def run(text: str) -> int:
        return len(fieldstream.parse(chunked(text, 4096)))

    # a dict entry, a key string and an int cost ~130 bytes for ~12 input characters
    counts = linear("1M keys in one object", make, run, n // 2, per_char=24)
    assert counts == [n // 2, n]


def test_duplicate_keys_do_not_grow_memory() -> None:
    n = size(1_000_000, 30_000)
    text = "{" + ",".join('"k":1' for _ in range(n)) + "}"
    value, _, peak = measure("1M duplicate keys", len(text), lambda: fieldstream.parse(chunked(text, 4096)))
    assert value == {"k": 1}
    assert peak <= MB


# ----------------------------------------------------------------------------- whitespace, bytes


def test_long_whitespace_run_is_skipped_in_constant_memory() -> None:
    n = size(10 * MB, 2 * MB)

    def run(text: str) -> Any:
        p = Parser()
        for chunk in chunked(text, 65536):
            p.feed(chunk)
        p.close()
        return p.value

    assert linear("10 MB whitespace then 1", lambda k: " \n\t\r" * (k // 4) + "1", run, n // 2,
                  per_char=0.1) == [1, 1]
    spaces = " " * n
    err, _, _ = measure("10 MB whitespace only", n,
                        rejects(lambda: fieldstream.parse(chunked(spaces, 65536))))
    assert err.kind is ErrorKind.INCOMPLETE and err.pos == n
    assert err.line == 1 and err.col == n + 1


@pytest.mark.parametrize("code", range(0x20))
def test_control_characters_are_rejected_with_exact_positions(code: int) -> None:
    c = chr(code)
    text = '{"a": "x' + c + '"}'
    if c in "\t\n\r":
        with pytest.raises(StreamError) as info:
            fieldstream.parse(text)
        assert info.value.kind is ErrorKind.CONTROL_CHARACTER and info.value.pos == 8
        assert fieldstream.parse("[" + c + "1" + c + "]") == [1]  # but they are whitespace
        return
    for bad, pos, kind in ((text, 8, ErrorKind.CONTROL_CHARACTER),
                           ("[1," + c + "2]", 3, ErrorKind.EXPECTED_VALUE),
                           ('{"k' + c + '":1}', 3, ErrorKind.CONTROL_CHARACTER)):
        for data in (bad, bad.encode()):
            with pytest.raises(StreamError) as info:
                fieldstream.parse([data[k:k + 1] for k in range(len(data))])
            assert (info.value.kind, info.value.pos) == (kind, pos), bad
    # escaped, the same character is fine, like json.loads
    escaped = f'"\\u{code:04x}"'
    assert fieldstream.parse(escaped) == json.loads(escaped) == c


def test_nul_bytes_everywhere_are_rejected() -> None:
    n = size(10 * MB, MB)
    data = b"\x00" * n
    err, _, _ = measure("NUL bytes", n, rejects(lambda: fieldstream.parse([data])))
    assert err.kind is ErrorKind.EXPECTED_VALUE and err.pos == 0


@pytest.mark.parametrize("bad", [b"\x80", b"\xbf", b"\xc0\xaf", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80",
                                 b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff"])
def test_invalid_utf8_in_bytes_mode_is_rejected_at_the_right_character(bad: bytes) -> None:
    data = '{"é": "€'.encode() + bad + b'"}'
    for chunks in ([data], [data[k:k + 1] for k in range(len(data))]):
        with pytest.raises(StreamError) as info:
            fieldstream.parse(chunks)
        assert info.value.kind is ErrorKind.INVALID_UTF8
        assert info.value.pos == len('{"é": "€')  # characters, not bytes
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # strict UTF-8 agrees (json.loads(bytes) decodes with surrogatepass)


def test_long_invalid_utf8_stream_is_rejected_at_the_first_bad_byte() -> None:
    n = size(10 * MB, MB)
    data = b'["' + b"ok" * (n // 4) + b'\xff' + b"z" * (n // 2) + b'"]'
    err, _, peak = measure("invalid UTF-8 after n/2 bytes", len(data), rejects(
        lambda: fieldstream.parse(data[k:k + 65536] for k in range(0, len(data), 65536))))
    assert err.kind is ErrorKind.INVALID_UTF8 and err.pos == 2 + 2 * (n // 4)
    assert peak <= 3 * len(data) + MB


@pytest.mark.parametrize("text", ['"\\ud800"', '"\\udfff"', '["\\ud83d", "\\ude00"]', '"\\ud83d\\u0041"',
                                  '"\\ud83d\\ud83d\\ude00"', '"a\\udbffb"', '{"\\ud800": "\\udc00x"}'])
def test_lone_surrogate_escapes_behave_like_json_loads(text: str) -> None:
    expected = json.loads(text)
    assert fieldstream.parse(text) == expected
    assert fieldstream.parse(text[k:k + 1] for k in range(len(text))) == expected
    events = list(fieldstream.iter_events(list(text)))
    deltas = "".join(e.delta for e in events if isinstance(e, fieldstream.StringDelta))
    strings = "".join(e.value for e in events
                      if isinstance(e, fieldstream.ValueDone) and isinstance(e.value, str))
    assert deltas == strings  # a held-back high surrogate is flushed, never lost or duplicated


def test_raw_lone_surrogate_is_text_in_str_mode_and_invalid_utf8_in_bytes_mode() -> None:
    assert fieldstream.parse('"\ud800"') == json.loads('"\ud800"') == "\ud800"
    encoded = '"\ud800"'.encode("utf-8", "surrogatepass")
    with pytest.raises(StreamError) as info:
        fieldstream.parse(encoded)
    assert info.value.kind is ErrorKind.INVALID_UTF8 and info.value.pos == 1


# ----------------------------------------------------------------------------- endless input


def _endless(pattern: str) -> Iterator[str]:
    return itertools.repeat(pattern)


@pytest.mark.parametrize(("label", "head", "pattern", "limit", "per_char"), [
    ("endless array of numbers", "[", "1," * 32, size(10 * MB, 500_000), 24),
    ("endless string", '"', "abcdefgh" * 8, size(50 * MB, 4 * MB), 3),
    ("endless whitespace", "", " " * 64, size(50 * MB, 4 * MB), 0.1),
    # unbounded depth costs ~180 bytes per '[' (a list, stack entries): linear, but keep max_depth
    ("endless nesting, max_depth=None", "", "[" * 64, size(4 * MB, 50_000), 250),
])
def test_never_ending_stream_is_stopped_by_max_size(label: str, head: str, pattern: str, limit: int,
                                                     per_char: float) -> None:
    max_chunks = 2 * limit // len(pattern) + 10  # a safety net for the test itself: never hang

    def run() -> None:
        p = Parser(max_size=limit, max_depth=None, events=False)
        p.feed(head)
        for k, chunk in enumerate(_endless(pattern)):
            p.feed(chunk)
            assert k < max_chunks, "max_size did not stop the stream"

    err, _, peak = measure(f"{label}, max_size", limit, rejects(run))
    assert err.kind is ErrorKind.SIZE_LIMIT and err.pos == limit
    assert peak <= per_char * limit + MB


def test_endless_nesting_is_stopped_by_the_default_max_depth() -> None:
    def run() -> None:
        p = Parser()
        for k, chunk in enumerate(_endless("[" * 64)):
            p.feed(chunk)
            assert k < 1000

    err, _, peak = measure("endless nesting, default max_depth", 1024, rejects(run))
    assert err.kind is ErrorKind.DEPTH_LIMIT and err.pos == fieldstream.DEFAULT_MAX_DEPTH
    assert peak <= MB


def test_endless_string_is_also_stopped_by_max_string_length_without_max_size() -> None:
    p = Parser(max_string_length=MB)
    p.feed('{"a": "')
    with pytest.raises(StreamError) as info:
        for k, chunk in enumerate(_endless("z" * 1000)):
            p.feed(chunk)
            assert k < 10_000
    assert info.value.kind is ErrorKind.STRING_LIMIT and info.value.pos == 7 + MB


# ----------------------------------------------------------------------------- tiny deltas


def _document(n: int) -> str:
    item = {"name": "widget \u00e9\U0001F600", "tags": ["a", "b\\n"], "price": 12.5, "ok": True, "n": None}
    one = json.dumps(item, ensure_ascii=False)
    count = max(1, n // (len(one) + 1))
    return "[" + ",".join([one] * count) + "]"


def test_one_char_deltas_of_a_big_document_give_the_same_value() -> None:
    n = size(5 * MB, 100_000)

    def run(text: str) -> int:
        p = Parser()
        events = 0
        for c in text:
            events += len(p.feed(c))
        events += len(p.close())
        assert p.value == json.loads(text)
        return events

    linear("1-char str deltas of a 5 MB document", _document, run, n // 2, per_char=60)


def test_one_byte_deltas_of_a_big_document_give_the_same_value() -> None:
    n = size(5 * MB, 60_000)

    def run(data: bytes) -> int:
        p = Parser(events=False)
        feed = p.feed
        for k in range(len(data)):
            feed(data[k:k + 1])
        p.close()
        assert p.value == json.loads(data)
        return len(p.value)

    linear("1-byte deltas of a 5 MB document (bytes)", lambda k: _document(k).encode(), run, n // 2,
           per_char=60)
