"""``fieldstream parse``: stream a file or stdin through the parser and print what it sees.

Kept free of rich at import time: the progress bar is imported only when it is shown (stdout is a
terminal and the input is large), so ``fieldstream parse`` works with the core alone (plus pydantic
for ``--schema``).
"""

from __future__ import annotations

import json
import os
import pkgutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from .. import (
    DocumentDone,
    FieldDone,
    FieldInvalid,
    Parser,
    PathPattern,
    SchemaError,
    Skipped,
    StreamError,
    StringDelta,
    UsageError,
    ValueDone,
    ValueStart,
    to_jsonpath,
)
from .._lenient import LenientFilter
from ._main import EXIT_DEPENDENCY, EXIT_INVALID, EXIT_OK

__all__ = ["ParseOptions", "load_model", "run_parse"]

PROGRESS_THRESHOLD = 1 << 20  #: show a progress bar for inputs at least this large (bytes)
_WINDOW = 400  # characters of raw input kept to show an error's neighbourhood


@dataclass
class ParseOptions:
    """The parsed ``fieldstream parse`` command line."""

    file: str = "-"
    format: str = "events"
    schema: str | None = None
    paths: list[str] | None = None
    chunk: int = 65536
    lenient: bool = False
    progress: bool | None = None  # None: automatic (stdout is a terminal and the input is large)
    multiple: bool = False  # a stream of documents (JSON Lines, concatenated JSON)


def load_model(spec: str) -> Any:
    """Import ``package.module:Model`` (or ``package.module.Model``) with :func:`pkgutil.resolve_name`."""
    if ":" not in spec and "." not in spec.strip("."):
        raise UsageError(f"--schema expects 'package.module:Model', got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: models in the current directory are found
    try:
        return pkgutil.resolve_name(spec)
    except ValueError as exc:
        raise UsageError(f"--schema expects 'package.module:Model', got {spec!r}") from exc
    except ImportError as exc:
        raise UsageError(f"--schema: cannot import module for {spec!r}: {exc}") from exc
    except AttributeError as exc:
        raise UsageError(f"--schema: {spec!r}: the module has no attribute ({exc})") from exc


def _open_input(name: str) -> tuple[IO[str], int | None]:
    """The text stream to read and its size in bytes when known (for the progress bar)."""
    if name == "-":
        return sys.stdin, None
    try:
        size = os.path.getsize(name)
        return open(name, encoding="utf-8", newline=""), size  # closed by the caller
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from exc


def _chunks(stream: IO[str], size: int, advance: Callable[[int], None] | None) -> Iterator[str]:
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        if advance is not None:
            advance(len(chunk.encode("utf-8", "surrogatepass")))
        yield chunk


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return str(value)


class _Printer:
    """Render events in one of the output formats."""

    def __init__(self, fmt: str, out: IO[str]) -> None:
        self.fmt = fmt
        self.out = out
        self.patch: Any = None
        self._last: str | None = None
        if fmt == "patch":
            from ..patch import PatchBuilder

            self.patch = PatchBuilder()

    def events(self, events: list[Any]) -> None:
        w = self.out.write
        if self.fmt == "patch":
            for op in self.patch.feed(events):
                w(_json(op) + "\n")
            return
        for ev in events:
            name = type(ev).__name__
            if self.fmt == "jsonl":
                w(_json(_event_dict(ev)) + "\n")
            elif self.fmt == "events":
                w(_event_line(name, ev) + "\n")

    def snapshot(self, value: Any) -> None:
        text = _json(value)
        if text != self._last:  # a chunk that changed nothing visible (whitespace) prints nothing
            self.out.write(text + "\n")
            self._last = text


def _event_dict(ev: Any) -> dict[str, Any]:
    name = type(ev).__name__
    if isinstance(ev, Skipped):
        return {"event": "skipped", "pos": ev.pos, "text": ev.text}
    d: dict[str, Any] = {"event": _snake(name), "path": to_jsonpath(ev.path)}
    if isinstance(ev, DocumentDone):
        d["index"] = ev.index
        d["value"] = ev.value
    elif isinstance(ev, ValueStart):
        d["kind"] = str(ev.kind.value)
    elif isinstance(ev, StringDelta):
        d["delta"] = ev.delta
    elif isinstance(ev, (ValueDone, FieldDone)):
        d["value"] = ev.value
    elif isinstance(ev, FieldInvalid):
        d["errors"] = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
                       for e in ev.errors]
    return d


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _short(value: Any, limit: int = 70) -> str:
    text = _json(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _event_line(name: str, ev: Any) -> str:
    if name == "Skipped":
        return f"{'Skipped':<12} @{ev.pos} {_short(ev.text)}"
    path = to_jsonpath(ev.path)
    if isinstance(ev, ValueStart):
        return f"{'ValueStart':<12} {path} {ev.kind.value}"
    if isinstance(ev, StringDelta):
        return f"{'StringDelta':<12} {path} {_short(ev.delta)}"
    if isinstance(ev, DocumentDone):
        return f"{name:<12} #{ev.index} = {_short(ev.value)}"
    if isinstance(ev, ValueDone) or name == "FieldDone":
        return f"{name:<12} {path} = {_short(ev.value)}"
    if name == "FieldInvalid":
        msgs = "; ".join(f"{e.get('msg')} ({e.get('type')})" for e in ev.errors)
        return f"{name:<12} {path} {msgs}"
    return f"{name:<12} {path}"


def neighbourhood(window: str, window_start: int, pos: int, width: int = 60) -> tuple[str, int]:
    """The line of ``window`` around absolute ``pos``, clipped to ``width``, and the caret column in it."""
    i = max(0, min(pos - window_start, len(window)))
    start = window.rfind("\n", 0, i) + 1
    end = window.find("\n", i)
    if end < 0:
        end = len(window)
    lo = max(start, i - width // 2)
    hi = min(end, lo + width)
    line = window[lo:hi]
    prefix = "..." if lo > start else ""
    suffix = "..." if hi < end else ""
    shown = line.replace("\t", " ").replace("\r", " ")
    return prefix + shown + suffix, len(prefix) + (i - lo)


def format_stream_error(exc: StreamError, window: str, window_start: int, prose: str = "",
                        name: str = "<stdin>") -> str:
    """A compiler-style report: where (file:line:col, char, JSON path), what, and the neighbourhood.

    ``prose`` is the raw text skipped before the JSON in lenient mode: the parser's positions are
    relative to the JSON's start, the report's are absolute in the input.
    """
    pos = exc.pos + len(prose)
    line, col = exc.line, exc.col
    if prose:
        line += prose.count("\n")
        if exc.line == 1:
            col += len(prose) - (prose.rfind("\n") + 1)
    text, caret = neighbourhood(window, window_start, pos)
    path = to_jsonpath(exc.path)
    document = f", document {exc.document}" if exc.document is not None else ""
    return (f"{name}:{line}:{col}: error: {exc.msg} [{exc.kind.value}]\n"
            f"  at char {pos}, line {line}, column {col}, path {path}{document}\n"
            f"  | {text}\n"
            f"  | {' ' * caret}^\n")


def run_parse(opts: ParseOptions, out: IO[str], err: IO[str]) -> int:
    """Run the ``parse`` subcommand; return the exit code."""
    if opts.chunk < 1:
        raise UsageError("--chunk must be at least 1")
    if opts.multiple and opts.lenient:
        raise UsageError("--multiple and --lenient do not go together (lenient mode finds one document)")
    if opts.multiple and opts.format == "patch":
        raise UsageError("--multiple and --format patch do not go together (a JSON Patch edits one document)")
    model = load_model(opts.schema) if opts.schema else None
    try:
        patterns = [PathPattern(p) for p in opts.paths] if opts.paths else None
    except ValueError as exc:
        raise UsageError(f"--paths: {exc}") from exc
    stream, size = _open_input(opts.file)
    name = "<stdin>" if opts.file == "-" else opts.file
    show = opts.progress
    if show is None:
        show = bool(size and size >= PROGRESS_THRESHOLD and out.isatty())
    progress: Any = None
    advance: Callable[[int], None] | None = None
    if show:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

            progress = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                                TimeRemainingColumn(), console=Console(file=err), transient=True)
            task = progress.add_task(os.path.basename(name), total=size)
            advance = lambda n: progress.advance(task, n)  # noqa: E731
            progress.start()
        except ImportError:
            progress = None
    try:
        return _run(opts, model, patterns, _chunks(stream, opts.chunk, advance), out, err, name)
    finally:
        if progress is not None:
            progress.stop()
        if stream is not sys.stdin:
            stream.close()


def _run(opts: ParseOptions, model: Any, patterns: list[PathPattern] | None, chunks: Iterator[str],
         out: IO[str], err: IO[str], name: str) -> int:
    printer = _Printer(opts.format, out)
    lenient = LenientFilter() if opts.lenient else None
    prose: list[str] = []  # lenient mode: raw text skipped before the JSON started
    json_seen = False
    sstream: Any = None
    parser: Parser | None = None
    if model is not None:
        try:
            from ..schema import SchemaStream
        except ImportError as exc:
            err.write(f"error: --schema needs pydantic (pip install 'fieldstream[schema]'): {exc}\n")
            return EXIT_DEPENDENCY
        try:
            sstream = SchemaStream(model, fail_fast=False, paths=opts.paths, multiple=opts.multiple)
        except Exception as exc:  # pydantic raises various errors for types it cannot handle
            raise UsageError(f"--schema: {opts.schema} is not a type pydantic can validate: {exc}") from exc
    else:
        parser = Parser(multiple=opts.multiple)
    window = ""
    window_start = 0
    emit_snapshot = opts.format == "snapshot"

    def select(events: list[Any]) -> list[Any]:
        if patterns is None or sstream is not None:
            return events
        return [e for e in events
                if isinstance(e, Skipped) or any(p.matches(e.path) for p in patterns)]

    def feed(text: str) -> list[Any]:
        if sstream is not None:
            return list(sstream.feed(text))
        assert parser is not None
        return parser.feed(text)

    def skipped(items: list[tuple[str, int]]) -> list[Any]:
        return [Skipped(t, p) for t, p in items]

    def snap() -> Any:
        if sstream is not None:
            return sstream.partial_dict
        assert parser is not None
        return parser.snapshot()

    try:
        for chunk in chunks:
            window += chunk
            if lenient is not None:
                text, skip = lenient.feed(chunk)
                # text skipped before the JSON comes first, text after it (the document closed) last
                json_seen = json_seen or bool(text)
                is_prose = [not json_seen or pos < lenient.offset for _, pos in skip]
                prose.extend(t for (t, _), pr in zip(skip, is_prose, strict=True) if pr)
                evs = skipped([sk for sk, pr in zip(skip, is_prose, strict=True) if pr])
                if text:
                    evs += feed(text)
                evs += skipped([sk for sk, pr in zip(skip, is_prose, strict=True) if not pr])
            else:
                evs = feed(chunk)
            if emit_snapshot:
                if evs and snap() is not None:
                    printer.snapshot(snap())
            else:
                printer.events(select(evs))
            if lenient is not None:
                lenient.check()  # bytes that are not UTF-8 after the text printed above
            # slide the window: drop what is older than _WINDOW characters before the newest chunk
            if len(window) > _WINDOW + len(chunk):
                cut = len(window) - (_WINDOW + len(chunk))
                window = window[cut:]
                window_start += cut
        if lenient is not None:
            text, skip = lenient.close()
            evs = skipped(skip)
            if text:
                evs += feed(text)
            lenient.check()
        else:
            evs = []
        if sstream is not None:
            evs += sstream.close()
            result = sstream.value if sstream.done or not opts.multiple else None
        else:
            assert parser is not None
            evs += parser.close()
            result = parser.value if parser.done else None  # (--multiple: none at all is fine)
        if emit_snapshot:
            if result is not None or not opts.multiple:
                printer.snapshot(result)
        else:
            printer.events(select(evs))
    except UnicodeDecodeError as exc:
        out.flush()
        byte = exc.object[exc.start]
        err.write(f"{name}: error: the input is not valid UTF-8 ({exc.reason}, byte 0x{byte:02x}) "
                  "[invalid_utf8]\n")
        return EXIT_INVALID
    except StreamError as exc:
        out.flush()
        err.write(format_stream_error(exc, window, window_start, "".join(prose), name))
        return EXIT_INVALID
    except SchemaError as exc:
        out.flush()
        err.write(format_schema_error(exc, name))
        return EXIT_INVALID
    return EXIT_OK


def format_schema_error(exc: SchemaError, name: str) -> str:
    """Report a :class:`fieldstream.schema.SchemaError`: the failing paths and Pydantic's messages."""
    first = str(exc).split("\n", 1)[0] if str(exc) else "validation failed"
    lines = [f"{name}: error: the document does not match the schema [{exc.kind}]: {first}",
             f"  at char {exc.pos} (end of the delta that completed the value), path {to_jsonpath(exc.path)}"]
    for e in exc.errors:
        loc = tuple(e.get("loc", ()))
        lines.append(f"  at path {to_jsonpath(loc)}: {e.get('msg')} ({e.get('type')})")
    return "\n".join(lines) + "\n"
