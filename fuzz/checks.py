"""The properties checked by the fuzz targets, as plain functions of one case.

A *case* is a small JSON-serialisable dict, so that a failing case can be written to
``fuzz/corpus/`` and replayed later by ``tests/test_fuzz_corpus.py``::

    {"text": "...", "chunks": [3, 1, 7]}            # str input, split into deltas of these lengths
    {"hex": "7b2261...", "chunks": [2, 5]}          # bytes input (fed as UTF-8 bytes)
    {"model": "Order", "text": ..., "chunks": ...}  # the schema target also names a model

Every check raises :class:`Mismatch` (an ``AssertionError``) when fieldstream disagrees with its
oracle, and lets any other unexpected exception propagate: both are bugs (h11's fuzz rule: for any
input, either the result equals the oracle or our own documented exception is raised).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import fieldstream
from fieldstream import ErrorKind, StreamError, StringDelta, ValueDone, ValueKind, ValueStart

from .reference import recognize

__all__ = [
    "Mismatch", "case_chunks", "case_input", "check_chunking", "check_error_positions", "check_ijson",
    "check_json_loads", "check_schema", "make_case",
]

LIMIT_KINDS = frozenset({ErrorKind.DEPTH_LIMIT, ErrorKind.STRING_LIMIT, ErrorKind.NUMBER_LIMIT,
                         ErrorKind.SIZE_LIMIT})
SNAPSHOT_POINTS = 40  # snapshot comparisons per case (chunk boundaries sampled evenly)


class Mismatch(AssertionError):
    """fieldstream disagrees with an oracle. ``label`` is a short stable description used to
    de-duplicate findings during a campaign."""

    def __init__(self, label: str, detail: str = "") -> None:
        self.label = label
        super().__init__(f"{label}: {detail}" if detail else label)


# ---------------------------------------------------------------------------- cases


def make_case(data: str | bytes, chunks: list[str] | list[bytes], **extra: Any) -> dict[str, Any]:
    """Build a serialisable case from an input and its chunking."""
    case: dict[str, Any] = {"text": data} if isinstance(data, str) else {"hex": data.hex()}
    case["chunks"] = [len(c) for c in chunks]
    case.update(extra)
    return case


def case_input(case: dict[str, Any]) -> str | bytes:
    if "hex" in case:
        return bytes.fromhex(case["hex"])
    text: str = case["text"]
    return text


def case_chunks(case: dict[str, Any]) -> list[Any]:
    data = case_input(case)
    sizes = case.get("chunks") or [len(data)]
    out: list[Any] = []
    at = 0
    for n in sizes:
        out.append(data[at:at + n])
        at += n
    if at < len(data):
        out.append(data[at:])
    return [c for c in out if len(c)] or [data]


# ---------------------------------------------------------------------------- helpers


def _raise_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def canon(value: Any) -> str:
    """A canonical, type-exact rendering of a JSON value (``1``, ``1.0`` and ``true`` differ)."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True)


def _error_tuple(exc: StreamError) -> tuple[Any, ...]:
    return (exc.kind, exc.pos, exc.line, exc.col, exc.path)


def _oracle_text(data: str | bytes) -> tuple[str | None, int]:
    """The text that json.loads would see, and the offset of the first character fieldstream
    reports positions from. ``None`` when bytes are not valid UTF-8."""
    if isinstance(data, str):
        return data, 0
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, 0
    if text.startswith("\ufeff"):  # json.loads(bytes) and fieldstream both skip one UTF-8 BOM
        return text[1:], 1
    return text, 0


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def run_events(chunks: list[Any], **options: Any) -> tuple[list[Any], Any, StreamError | None]:
    """Feed ``chunks``; return (events, final value, error)."""
    p = fieldstream.Parser(**options)
    events: list[Any] = []
    try:
        for c in chunks:
            events.extend(p.feed(c))
        events.extend(p.close())
    except StreamError as exc:
        return events, None, exc
    return events, p.value, None


def normalise(events: list[Any]) -> list[tuple[Any, ...]]:
    """Events with consecutive deltas of one string merged (how a string is cut into deltas is the
    one thing allowed to depend on the chunking)."""
    out: list[tuple[Any, ...]] = []
    for ev in events:
        if isinstance(ev, StringDelta):
            if not ev.delta:
                raise Mismatch("empty StringDelta", repr(ev))
            if out and out[-1][0] == "delta" and out[-1][1] == ev.path:
                out[-1] = ("delta", ev.path, out[-1][2] + ev.delta)
            else:
                out.append(("delta", ev.path, ev.delta))
        elif isinstance(ev, ValueStart):
            out.append(("start", ev.path, ev.kind))
        elif isinstance(ev, ValueDone):
            out.append(("done", ev.path, canon(ev.value)))
        else:  # pragma: no cover
            raise Mismatch("unknown event type", repr(ev))
    return out


def check_event_structure(events: list[Any]) -> None:
    """Every value has one ValueStart and one ValueDone, properly nested; a string's deltas
    concatenate to its final value; deltas only inside strings."""
    open_stack: list[tuple[Any, Any, list[str]]] = []
    for ev in events:
        if isinstance(ev, ValueStart):
            open_stack.append((ev.path, ev.kind, []))
        elif isinstance(ev, StringDelta):
            if not open_stack or open_stack[-1][0] != ev.path or open_stack[-1][1] is not ValueKind.STRING:
                raise Mismatch("delta outside its string", repr(ev))
            open_stack[-1][2].append(ev.delta)
        elif isinstance(ev, ValueDone):
            if not open_stack or open_stack[-1][0] != ev.path:
                raise Mismatch("ValueDone without matching ValueStart", repr(ev))
            _, kind, parts = open_stack.pop()
            if kind is ValueKind.STRING and "".join(parts) != ev.value:
                raise Mismatch("deltas do not add up to the string", f"{parts!r} vs {ev.value!r}")
    if open_stack:
        raise Mismatch("values left open at the end", repr(open_stack[-1][:2]))


# ---------------------------------------------------------------------------- targets


def check_chunking(case: dict[str, Any]) -> None:
    """Events (deltas merged), final value, errors and snapshots do not depend on the chunking."""
    data = case_input(case)
    chunks = case_chunks(case)
    whole_ev, whole_val, whole_err = run_events([data])
    ev, val, err = run_events(chunks)
    if (whole_err is None) != (err is None):
        raise Mismatch("accept/reject depends on chunking", f"whole={whole_err!r} chunked={err!r}")
    if whole_err is not None and err is not None:
        if _error_tuple(whole_err) != _error_tuple(err):
            raise Mismatch("error depends on chunking", f"{_error_tuple(whole_err)} vs {_error_tuple(err)}")
    else:
        check_event_structure(ev)
        if normalise(ev) != normalise(whole_ev):
            raise Mismatch("events depend on chunking")
        if canon(val) != canon(whole_val):
            raise Mismatch("value depends on chunking")
        if isinstance(data, bytes):  # bytes and str input give the same events
            text_ev, _, _ = run_events([data.decode("utf-8")[1:] if data.startswith(b"\xef\xbb\xbf")
                                        else data.decode("utf-8")])
            if normalise(text_ev) != normalise(ev):
                raise Mismatch("bytes and str input give different events")
    # Snapshots: after each delta, the live snapshot equals that of a fresh parser fed the same
    # prefix in one piece, and the copy equals the live one.
    p = fieldstream.Parser()
    step = max(1, len(chunks) // SNAPSHOT_POINTS)
    fed = 0
    try:
        for k, c in enumerate(chunks):
            p.feed(c)
            fed += len(c)
            if k % step and k != len(chunks) - 1:
                continue
            ref = fieldstream.Parser()
            ref.feed(data[:fed])
            a, b = canon(p.snapshot(copy=True)), canon(ref.snapshot(copy=True))
            if a != b:
                raise Mismatch("snapshot depends on chunking", f"after {fed}: {a} vs {b}")
            if canon(p.snapshot()) != a:
                raise Mismatch("snapshot(copy=True) differs from snapshot()")
    except StreamError:
        pass  # the error itself was compared above


def check_json_loads(case: dict[str, Any]) -> None:
    """Differential against ``json.loads``: same value, or both reject (fieldstream with a
    StreamError). NaN/Infinity are rejected by design; documented limits may reject more."""
    data = case_input(case)
    chunks = case_chunks(case)
    text, _ = _oracle_text(data)
    oracle_err: BaseException | None = None
    expected: Any = None
    if text is None:
        oracle_err = UnicodeDecodeError("utf-8", b"", 0, 1, "invalid UTF-8")
    else:
        try:
            expected = json.loads(text, parse_constant=_raise_constant)
        except (ValueError, RecursionError) as exc:
            oracle_err = exc
    try:
        got = fieldstream.parse(chunks)
    except StreamError as exc:
        if oracle_err is not None:
            truncated_char = exc.kind is ErrorKind.INCOMPLETE and _truncated_utf8_at_end(data)
            if text is None and exc.kind is not ErrorKind.INVALID_UTF8 and not truncated_char:
                # a JSON error before the bad byte wins; otherwise it must say invalid UTF-8
                good = data[:_first_bad_utf8(data)]
                verdict = recognize(good.decode("utf-8").removeprefix("\ufeff"))
                if verdict.viable == len(good.decode("utf-8").removeprefix("\ufeff")):
                    raise Mismatch("invalid UTF-8 reported as another error", repr(exc)) from None
            return
        if exc.kind in LIMIT_KINDS and text is not None:
            verdict = recognize(text)
            if (exc.kind is ErrorKind.DEPTH_LIMIT and verdict.max_depth > fieldstream.DEFAULT_MAX_DEPTH) or (
                    exc.kind is ErrorKind.NUMBER_LIMIT and verdict.longest_number > 4000):
                return  # a documented limit, genuinely exceeded
        raise Mismatch("fieldstream rejects what json.loads accepts", f"{exc}") from None
    if oracle_err is not None:
        raise Mismatch("fieldstream accepts what json.loads rejects", f"{oracle_err!r} -> {got!r}")
    if canon(got) != canon(expected):
        raise Mismatch("value differs from json.loads", f"{canon(got)[:200]} vs {canon(expected)[:200]}")


def _truncated_utf8_at_end(data: bytes | str) -> bool:
    """The only UTF-8 problem is a character cut off by the end of the input (inside a string,
    the parser calls that an incomplete document, like any other truncation)."""
    if isinstance(data, str):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.end == len(data)
    return False


def _first_bad_utf8(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return len(data)


def _ijson_events(raw: bytes, backend: str) -> list[tuple[Any, ...]]:
    import ijson

    parse = ijson.get_backend(backend).basic_parse
    out: list[tuple[Any, ...]] = []
    path: list[Any] = []
    # per open container: its kind, and for arrays the next index
    stack: list[list[Any]] = []

    def value_path() -> tuple[Any, ...]:
        return tuple(path)

    def before_value() -> None:
        if stack and stack[-1][0] == "array":
            path.append(stack[-1][1])
            stack[-1][1] += 1

    def after_value() -> None:
        if stack:
            path.pop()

    for event, value in parse(io.BytesIO(raw), use_float=True):
        if event == "map_key":
            path.append(value)
        elif event in ("start_map", "start_array"):
            before_value()
            out.append(("start", value_path(), ValueKind.OBJECT if event == "start_map" else ValueKind.ARRAY))
            stack.append(["object" if event == "start_map" else "array", 0])
        elif event in ("end_map", "end_array"):
            stack.pop()
            out.append(("end", value_path()))
            after_value()
        else:
            before_value()
            out.append(("scalar", value_path(), canon(value)))
            after_value()
    return out


def _fieldstream_as_ijson(events: list[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for ev in events:
        if isinstance(ev, ValueStart) and ev.kind in (ValueKind.OBJECT, ValueKind.ARRAY):
            out.append(("start", ev.path, ev.kind))
        elif isinstance(ev, ValueDone):
            if isinstance(ev.value, (dict, list)):
                out.append(("end", ev.path))
            else:
                out.append(("scalar", ev.path, canon(ev.value)))
    return out


def check_ijson(case: dict[str, Any]) -> None:
    """On valid documents, fieldstream's events match ijson's (pure-Python backend, and the yajl2_c
    backend when it can represent every number)."""
    data = case_input(case)
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # ijson does not skip a BOM (json.loads and we do)
    events, _, err = run_events(case_chunks(case))
    if err is not None:
        raise Mismatch("valid document rejected", repr(err))
    mine = _fieldstream_as_ijson(events)
    for backend in ("python", "yajl2_c"):
        try:
            theirs = _ijson_events(raw, backend)
        except Exception as exc:
            if backend == "yajl2_c" and "integer overflow" in str(exc):
                continue
            if backend == "yajl2_c" and "ImportError" in type(exc).__name__:
                continue
            raise Mismatch(f"ijson[{backend}] rejects a valid document", repr(exc)) from None
        if theirs != mine:
            first = next((k for k, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
                         min(len(mine), len(theirs)))
            raise Mismatch(f"events differ from ijson[{backend}]",
                           f"at event {first}: {mine[first:first + 2]} vs {theirs[first:first + 2]}")


def check_error_positions(case: dict[str, Any]) -> None:
    """Accept/reject and the error position agree with the reference viable-prefix recognizer, and
    the error (kind, pos, line, col, path) is the same for the whole input, the case's chunking and
    1-character deltas."""
    data = case_input(case)
    options: dict[str, Any] = {"max_depth": None, "max_number_length": None}
    results = []
    for chunks in ([data], case_chunks(case), [data[k:k + 1] for k in range(len(data))] or [data]):
        _, _, err = run_events(chunks, **options)
        results.append(None if err is None else _error_tuple(err))
    if len(set(results)) != 1:
        raise Mismatch("error depends on chunking", repr(results))
    got = results[0]
    if isinstance(data, bytes):
        bad = _first_bad_utf8(data)
        good = data[:bad].decode("utf-8")
        bom = 1 if good.startswith("\ufeff") else 0
        text = good[bom:]
    else:
        bad, bom, text, good = len(data), 0, data, data
    verdict = recognize(text)
    if isinstance(data, bytes) and bad < len(data) and verdict.viable == len(text):
        # valid JSON so far, then a bad byte: invalid UTF-8 right after the good characters --
        # unless the bytes merely stop inside a character of an open string: that is truncation.
        in_string = recognize(text + "\u00e9").viable == len(text) + 1
        kind = ErrorKind.INCOMPLETE if in_string and _truncated_utf8_at_end(data) else ErrorKind.INVALID_UTF8
        expected: tuple[Any, ...] | None = (kind, len(good))
    elif verdict.complete:
        expected = None
    elif verdict.viable == len(text):
        expected = (ErrorKind.INCOMPLETE, len(good))
    else:
        expected = (ErrorKind(verdict.kind), verdict.viable + bom)
    if expected is None:
        if got is not None and got[0] is not ErrorKind.NUMBER_LIMIT:
            raise Mismatch("valid text rejected", repr(got))
        return
    if got is None:
        raise Mismatch("invalid text accepted", f"reference says {expected}")
    kind, pos = got[0], got[1]
    if kind is ErrorKind.NUMBER_LIMIT:  # Python cannot convert the integer: documented limit
        return
    if kind is not expected[0]:
        raise Mismatch("wrong error kind", f"{got} vs reference {expected}")
    if pos != expected[1]:
        raise Mismatch("error position differs from the viable-prefix length", f"{got} vs {expected}")
    line, col = _line_col(good, pos)
    if (got[2], got[3]) != (line, col):
        raise Mismatch("line/col inconsistent with pos", f"{got} vs line {line} col {col}")


def schema_available() -> str | None:
    """``None`` if ``fieldstream.schema.SchemaStream`` can be used, else why not."""
    try:
        from fieldstream.schema import SchemaError, SchemaStream  # noqa: F401
    except Exception as exc:
        return f"fieldstream.schema.SchemaStream is not importable yet ({type(exc).__name__}: {exc})"
    return None


def check_schema(case: dict[str, Any]) -> None:
    """Differential against Pydantic: ``SchemaStream(Model)`` fed the chunks returns a model equal
    to ``Model.model_validate_json(text)``, or both reject (ours with a ``ValueError`` subclass)."""
    import pydantic

    from fieldstream.schema import SchemaStream

    from .models import MODELS

    model = MODELS[case["model"]]
    data = case_input(case)
    try:
        expected: Any = model.model_validate_json(data)
        oracle_err: Exception | None = None
    except (pydantic.ValidationError, ValueError) as exc:
        oracle_err = exc
    try:
        stream = SchemaStream(model)
        for c in case_chunks(case):
            stream.feed(c)
        stream.close()
        got = stream.value
    except ValueError as exc:  # SchemaError and StreamError are ValueErrors
        if oracle_err is None:
            raise Mismatch("SchemaStream rejects what model_validate_json accepts",
                           f"{type(exc).__name__}: {str(exc)[:300]}") from None
        return
    if oracle_err is not None:
        raise Mismatch("SchemaStream accepts what model_validate_json rejects",
                       f"{str(oracle_err)[:300]} -> {got!r}"[:600])
    if got != expected:
        raise Mismatch("SchemaStream result differs from model_validate_json", f"{got!r} vs {expected!r}")


def check_path_memory(case: dict[str, Any]) -> None:
    """Reading ``.path`` of the deepest event costs memory linear in the depth (at most 64 bytes per
    input character + 256 KiB), not quadratic."""
    import tracemalloc

    data = case_input(case)
    events = fieldstream.Parser(max_depth=None).feed(data)
    deepest = next(e for e in events if isinstance(e, ValueDone))
    tracemalloc.start()
    try:
        path = deepest.path
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if peak > 64 * len(data) + 256 * 1024:
        raise Mismatch("path of a deep event costs superlinear memory",
                       f"depth {len(path)}: {peak} bytes for {len(data)} characters")


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "path_memory": check_path_memory,
    "chunking": check_chunking,
    "json_loads": check_json_loads,
    "ijson": check_ijson,
    "error_positions": check_error_positions,
    "schema": check_schema,
}
