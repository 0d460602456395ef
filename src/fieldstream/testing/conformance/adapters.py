"""Adapters for fieldstream and the peers, as a user of each library would wire it.

Each public function is an adapter factory (``--adapter fieldstream.testing.conformance.adapters:jiter``,
or the short name ``--adapter jiter``). Peers are imported when an adapter is made, never at import
time, so this module needs only the standard library. The re-parse adapters keep the whole prefix
and re-parse it on every delta (that is how those libraries are used on a stream); when a prefix
does not parse (e.g. ``[1, -``), they keep showing the last value they could build, as a UI would.
At the end they use the library's strict mode where it has one.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

__all__ = ["PEERS", "fieldstream", "ijson", "jiter", "json_repair", "partial_json_parser", "pydantic"]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:  # pragma: no cover - e.g. running from a source tree
        return ""


class _Fieldstream:
    name = "fieldstream"
    accepts_bytes = True
    note = "Parser.feed(delta), Parser.snapshot(); Parser.close(), Parser.value"

    def __init__(self) -> None:
        import fieldstream as fs

        self.version = fs.__version__
        self._parser = fs.Parser(events=False)

    def feed(self, delta: str | bytes) -> Any:
        self._parser.feed(delta)
        return self._parser.snapshot()

    def close(self) -> Any:
        self._parser.close()
        return self._parser.value


class _Reparse:
    """Keeps the prefix (as ``str``, or as UTF-8 bytes) and re-parses it on every delta."""

    accepts_bytes = False

    def __init__(self) -> None:
        self._text = ""
        self._data = bytearray()
        self._shown: Any = None

    def partial(self, prefix: Any) -> Any:
        raise NotImplementedError

    def complete(self, whole: Any) -> Any:
        raise NotImplementedError

    def _prefix(self) -> Any:
        return bytes(self._data) if self.accepts_bytes else self._text

    def feed(self, delta: str | bytes) -> Any:
        if isinstance(delta, str):
            if self.accepts_bytes:
                self._data += delta.encode("utf-8", "surrogatepass")
            else:
                self._text += delta
        else:
            self._data += delta
        try:
            self._shown = self.partial(self._prefix())
        except ValueError:
            pass  # nothing (new) to show yet: keep the last value
        return self._shown

    def close(self) -> Any:
        return self.complete(self._prefix())


class _Jiter(_Reparse):
    name = "jiter"
    accepts_bytes = True
    note = "from_json(prefix, partial_mode='trailing-strings') per delta; from_json(text) at the end"

    def __init__(self) -> None:
        super().__init__()
        import jiter as _jiter

        self.version = _version("jiter")
        self._from_json = _jiter.from_json

    def partial(self, prefix: Any) -> Any:
        return self._from_json(prefix, partial_mode="trailing-strings")

    def complete(self, whole: Any) -> Any:
        return self._from_json(whole)


class _PartialJsonParser(_Reparse):
    name = "partial-json-parser"
    note = "loads(prefix) per delta; loads(text, allow_partial=0) at the end"

    def __init__(self) -> None:
        super().__init__()
        import partial_json_parser as pjp

        self.version = _version("partial-json-parser")
        self._loads = pjp.loads

    def partial(self, prefix: Any) -> Any:
        return self._loads(prefix)

    def complete(self, whole: Any) -> Any:
        return self._loads(whole, allow_partial=0)


class _Pydantic(_Reparse):
    name = "pydantic"
    accepts_bytes = True
    note = ("TypeAdapter(Any).validate_json(prefix, experimental_allow_partial='trailing-strings') per "
            "delta; validate_json(text) at the end")

    def __init__(self) -> None:
        super().__init__()
        from typing import Any as _Any

        from pydantic import TypeAdapter

        self.version = f"{_version('pydantic')} (pydantic-core {_version('pydantic-core')})"
        self._adapter: Any = TypeAdapter(_Any)

    def partial(self, prefix: Any) -> Any:
        return self._adapter.validate_json(prefix, experimental_allow_partial="trailing-strings")

    def complete(self, whole: Any) -> Any:
        return self._adapter.validate_json(whole)


class _JsonRepair(_Reparse):
    name = "json-repair"
    note = "repair_json(prefix, return_objects=True) per delta and at the end (it has no strict mode)"

    def __init__(self) -> None:
        super().__init__()
        from json_repair import repair_json

        self.version = _version("json-repair")
        self._repair = repair_json

    def partial(self, prefix: Any) -> Any:
        return self._repair(prefix, return_objects=True)

    def complete(self, whole: Any) -> Any:
        return self._repair(whole, return_objects=True)


class _Ijson:
    """ijson's push interface (``basic_parse_coro``) feeding its ``ObjectBuilder``.

    The partial value is whatever the builder has built: containers and completed scalars, no open
    string (ijson reports a string only once it is complete)."""

    name = "ijson"
    accepts_bytes = True

    def __init__(self) -> None:
        import ijson as _ijson
        from ijson.common import ObjectBuilder

        self.version = _version("ijson")
        self.note = (f"basic_parse_coro (backend {_ijson.backend}, use_float=True) into "
                     "ijson.common.ObjectBuilder; the partial value is what the builder holds")
        self._builder = builder = ObjectBuilder()
        on_event = builder.event

        def sink() -> Any:
            while True:
                event, value = yield
                on_event(event, value)

        target = sink()
        next(target)
        self._coro = _ijson.basic_parse_coro(target, use_float=True)

    def feed(self, delta: str | bytes) -> Any:
        self._coro.send(delta.encode("utf-8", "surrogatepass") if isinstance(delta, str) else delta)
        return getattr(self._builder, "value", None)

    def close(self) -> Any:
        self._coro.close()
        if not hasattr(self._builder, "value"):
            raise ValueError("no value")
        return self._builder.value


def fieldstream() -> Any:
    """fieldstream's own :class:`~fieldstream.Parser` (``snapshot()`` after every delta)."""
    return _Fieldstream()


def jiter() -> Any:
    """jiter ``from_json(prefix, partial_mode='trailing-strings')``, re-parsed per delta."""
    return _Jiter()


def partial_json_parser() -> Any:
    """partial-json-parser ``loads(prefix)``, re-parsed per delta."""
    return _PartialJsonParser()


def pydantic() -> Any:
    """pydantic ``TypeAdapter(Any).validate_json(prefix, experimental_allow_partial='trailing-strings')``."""
    return _Pydantic()


def ijson() -> Any:
    """ijson ``basic_parse_coro`` + ``ObjectBuilder`` (its own partial notion: what is built so far)."""
    return _Ijson()


def json_repair() -> Any:
    """json-repair ``repair_json(prefix, return_objects=True)``, re-parsed per delta."""
    return _JsonRepair()


# Short names for ``--adapter NAME`` and ``--all-peers``: name -> (factory, the module it imports).
PEERS: dict[str, tuple[Any, str]] = {
    "fieldstream": (fieldstream, "fieldstream"),
    "jiter": (jiter, "jiter"),
    "partial-json-parser": (partial_json_parser, "partial_json_parser"),
    "pydantic": (pydantic, "pydantic"),
    "ijson": (ijson, "ijson"),
    "json-repair": (json_repair, "json_repair"),
}
