"""Adapters for every benchmark contestant, each behind one small uniform interface.

LLM-stream contestants (``STREAM_PEERS``): ``make(shape)`` returns an object with
``feed(delta) -> partial value`` (the consumer's view after that delta) and ``finish() -> final value``.
Re-parsing peers keep the accumulated prefix and parse all of it on every delta (that is how they are
used for this job). Whole-document contestants (``WHOLE_PEERS``): ``fn(text) -> value`` or ``None`` when the
contestant only iterates events. A peer whose package is missing is left out of ``available_*()``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import json.decoder
import json.scanner
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fieldstream

try:
    from pydantic import BaseModel
except ImportError:  # pragma: no cover - pydantic is a dev dependency
    BaseModel = object  # type: ignore[assignment,misc]


def has(module: str) -> bool:
    """True if ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def has_schema_stream() -> bool:
    """True if the schema layer (``fieldstream.schema.SchemaStream``) is importable."""
    try:
        from fieldstream.schema import SchemaStream  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------- typed models for the shapes

if BaseModel is not object:
    class Meta(BaseModel):
        author: str
        rating: int
        verified: bool
        reviewed_at: str | None

    class Item(BaseModel):
        id: int
        name: str
        description: str
        score: float
        ratio: float
        count: int
        active: bool
        note: str | None
        tags: list[str]
        meta: Meta

    class Summary(BaseModel):
        count: int
        complete: bool
        warnings: list[str] | None

    class RecordsDoc(BaseModel):
        title: str
        items: list[Item]
        summary: Summary

    class LongDoc(BaseModel):
        title: str
        content: str

    MODELS: dict[str, Any] = {"records": RecordsDoc, "longstring": LongDoc}
else:  # pragma: no cover
    MODELS = {}


def plain(value: Any) -> Any:
    """A contestant's final value as plain JSON data (models are dumped) for the json.loads check."""
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return value


# ---------------------------------------------------------------------------- LLM-stream contestants

class FsSnapshot:
    """fieldstream.Parser(events=False) + ``snapshot()`` after every delta (live, shared view)."""

    def __init__(self, shape: str) -> None:
        self.p = fieldstream.Parser(events=False)

    def feed(self, delta: str) -> Any:
        p = self.p
        p.feed(delta)
        return p.snapshot()

    def finish(self) -> Any:
        self.p.close()
        return self.p.value


class FsEventsSnapshot(FsSnapshot):
    """fieldstream.Parser with events + ``snapshot()`` after every delta."""

    def __init__(self, shape: str) -> None:
        self.p = fieldstream.Parser()


class FsEvents:
    """fieldstream.Parser events only (a StringDelta consumer); no partial value is built per delta."""

    def __init__(self, shape: str) -> None:
        self.p = fieldstream.Parser()

    def feed(self, delta: str) -> Any:
        return self.p.feed(delta)

    def finish(self) -> Any:
        self.p.close()
        return self.p.value


class FsSchema:
    """fieldstream.schema.SchemaStream(Model).feed(delta) + ``.partial`` (typed partial model)."""

    def __init__(self, shape: str) -> None:
        from fieldstream.schema import SchemaStream
        self.s = SchemaStream(MODELS[shape])

    def feed(self, delta: str) -> Any:
        s = self.s
        s.feed(delta)
        return s.partial

    def finish(self) -> Any:
        self.s.close()
        return self.s.value


class _Reparse:
    """Keeps the prefix and re-parses all of it on every delta."""

    def __init__(self, shape: str) -> None:
        self.buf = ""
        self.last: Any = None

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def feed(self, delta: str) -> Any:
        self.buf += delta
        try:
            self.last = self.parse(self.buf)
        except ValueError:  # e.g. nothing parseable yet (whitespace-only or a bare '-')
            pass
        return self.last

    def finish(self) -> Any:
        return self.parse(self.buf)


class PartialJsonParser(_Reparse):
    """partial-json-parser ``loads(prefix)`` per delta."""

    def __init__(self, shape: str) -> None:
        super().__init__(shape)
        from partial_json_parser import loads
        self._loads = loads

    def parse(self, text: str) -> Any:
        return self._loads(text)

    def finish(self) -> Any:
        return json.loads(self.buf) if self.last is None else self._loads(self.buf)


class Jiter(_Reparse):
    """jiter ``from_json(prefix, partial_mode="trailing-strings")`` per delta (prefix kept as bytes)."""

    def __init__(self, shape: str) -> None:
        super().__init__(shape)
        import jiter
        self._from_json = jiter.from_json
        self.bbuf = bytearray()

    def feed(self, delta: str) -> Any:
        self.bbuf += delta.encode()
        try:
            self.last = self._from_json(bytes(self.bbuf), partial_mode="trailing-strings")
        except ValueError:
            pass
        return self.last

    def finish(self) -> Any:
        return self._from_json(bytes(self.bbuf))


class PydanticPartial(_Reparse):
    """pydantic ``TypeAdapter(Model).validate_json(prefix, experimental_allow_partial="trailing-strings")``.

    ``experimental_allow_partial=True`` drops an unfinished string and then fails on the model's missing
    required field, so it could not show the string being written; "trailing-strings" can.
    """

    def __init__(self, shape: str) -> None:
        super().__init__(shape)
        from pydantic import TypeAdapter
        self._ta = TypeAdapter(MODELS[shape])

    def parse(self, text: str) -> Any:
        return self._ta.validate_json(text, experimental_allow_partial="trailing-strings")

    def finish(self) -> Any:
        return self._ta.validate_json(self.buf)


class JsonRepair(_Reparse):
    """json-repair ``repair_json(prefix, return_objects=True)`` per delta (a popular LLM-output fixer)."""

    def __init__(self, shape: str) -> None:
        super().__init__(shape)
        from json_repair import repair_json
        self._repair = repair_json

    def parse(self, text: str) -> Any:
        return self._repair(text, return_objects=True)


class _IjsonBuilder:
    """ijson ``basic_parse_coro`` feeding an ``ObjectBuilder``; its ``.value`` is the partial value.

    It cannot show a string (or number) until the token is complete: open strings are absent.
    """

    backend = "python"

    def __init__(self, shape: str) -> None:
        import ijson
        from ijson.common import ObjectBuilder
        self.builder = b = ObjectBuilder()
        event = b.event

        def sink() -> Iterator[None]:
            while True:
                ev, val = yield
                event(ev, val)

        target = sink()
        next(target)
        self.coro = ijson.get_backend(self.backend).basic_parse_coro(target, use_float=True)

    def feed(self, delta: str) -> Any:
        self.coro.send(delta.encode())
        return getattr(self.builder, "value", None)

    def finish(self) -> Any:
        self.coro.close()
        return self.builder.value


class IjsonPython(_IjsonBuilder):
    backend = "python"


class IjsonYajl(_IjsonBuilder):
    backend = "yajl2_c"


@dataclass(frozen=True)
class StreamPeer:
    """One LLM-stream contestant."""

    name: str
    make: Callable[[str], Any]
    open_strings: bool  # does the partial value include the string being written?
    reparse: bool  # does it re-parse the prefix on every delta (quadratic)?
    note: str = ""
    requires: str = ""


def _ijson_backend_ok(name: str) -> bool:
    if not has("ijson"):
        return False
    import ijson
    try:
        ijson.get_backend(name)
    except ImportError:
        return False
    return True


STREAM_PEERS: tuple[StreamPeer, ...] = (
    StreamPeer("fieldstream snapshot", FsSnapshot, True, False, "Parser(events=False).snapshot()"),
    StreamPeer("fieldstream events+snapshot", FsEventsSnapshot, True, False, "Parser() events + snapshot()"),
    StreamPeer("fieldstream events only", FsEvents, True, False,
               "Parser() events (StringDelta), no partial value"),
    StreamPeer("fieldstream schema partial", FsSchema, True, False, "SchemaStream(Model).partial",
               "fieldstream.schema"),
    StreamPeer("jiter trailing-strings", Jiter, True, True, "re-parse", "jiter"),
    StreamPeer("pydantic allow_partial", PydanticPartial, True, True,
               "re-parse, typed model, experimental_allow_partial=\"trailing-strings\"", "pydantic"),
    StreamPeer("partial-json-parser", PartialJsonParser, True, True, "re-parse", "partial_json_parser"),
    StreamPeer("json-repair", JsonRepair, True, True, "re-parse", "json_repair"),
    StreamPeer("ijson yajl2_c + builder", IjsonYajl, False, False, "no open strings", "ijson:yajl2_c"),
    StreamPeer("ijson python + builder", IjsonPython, False, False, "no open strings", "ijson:python"),
)


def stream_peer_available(peer: StreamPeer) -> bool:
    """True if the peer's package (or ijson backend, or the schema layer) is importable."""
    req = peer.requires
    if not req:
        return True
    if req == "fieldstream.schema":
        return has("pydantic") and has_schema_stream()
    if req.startswith("ijson:"):
        return _ijson_backend_ok(req.split(":", 1)[1])
    return has(req)


def available_stream_peers() -> list[StreamPeer]:
    return [p for p in STREAM_PEERS if stream_peer_available(p)]


# ---------------------------------------------------------------------------- whole-document contestants

@contextlib.contextmanager
def _pure_python_scanstring() -> Iterator[None]:
    """Make json's object-key decoding use ``py_scanstring`` too (JSONObject reads the module global)."""
    saved = json.decoder.scanstring  # type: ignore[attr-defined]
    json.decoder.scanstring = json.decoder.py_scanstring  # type: ignore[attr-defined]
    try:
        yield
    finally:
        json.decoder.scanstring = saved  # type: ignore[attr-defined]


def _pure_python_decoder() -> Callable[[str], Any]:
    dec = json.JSONDecoder()
    dec.parse_string = json.decoder.py_scanstring  # type: ignore[attr-defined]
    dec.scan_once = json.scanner.py_make_scanner(dec)  # type: ignore[attr-defined]

    def loads(text: str) -> Any:
        with _pure_python_scanstring():
            return dec.decode(text)
    return loads


def _fs_parse_deltas(deltas: list[str]) -> Any:
    return fieldstream.parse(deltas)


def _fs_events(text: str) -> Any:
    p = fieldstream.Parser()
    p.feed(text)
    p.close()
    return p.value


def _ijson_events(backend: str) -> Callable[[bytes], Any]:
    import ijson
    be = ijson.get_backend(backend)

    def run(data: bytes) -> Any:
        for _ in be.basic_parse(io.BytesIO(data), use_float=True):
            pass
        return None
    return run


@dataclass(frozen=True)
class WholePeer:
    """One whole-document contestant; ``input`` is "text", "bytes" or "deltas4"."""

    name: str
    make: Callable[[], Callable[[Any], Any]]
    input: str = "text"
    requires: str = ""


WHOLE_PEERS: tuple[WholePeer, ...] = (
    WholePeer("json.loads (C)", lambda: json.loads),
    WholePeer("json pure-Python", _pure_python_decoder),
    WholePeer("fieldstream.parse", lambda: fieldstream.parse),
    WholePeer("fieldstream.parse 4-char deltas", lambda: _fs_parse_deltas, "deltas4"),
    WholePeer("fieldstream Parser events", lambda: _fs_events),
    WholePeer("ijson yajl2_c events", lambda: _ijson_events("yajl2_c"), "bytes", "ijson:yajl2_c"),
    WholePeer("ijson python events", lambda: _ijson_events("python"), "bytes", "ijson:python"),
)


def available_whole_peers() -> list[WholePeer]:
    out = []
    for p in WHOLE_PEERS:
        if p.requires.startswith("ijson:") and not _ijson_backend_ok(p.requires.split(":", 1)[1]):
            continue
        out.append(p)
    return out
