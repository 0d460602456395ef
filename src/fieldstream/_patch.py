"""The JSON Patch encoder behind :mod:`fieldstream.patch` (see its docstring)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._events import FieldDone, StringDelta, ValueDone, ValueKind, ValueStart
from ._path import to_pointer

__all__ = ["PatchBuilder", "apply_append", "to_patches"]

_JSON_SCALARS = (str, int, float, bool, type(None))
Op = dict[str, Any]


class PatchBuilder:
    """Stateful converter: ``ops = builder.feed(events)`` for each batch of events."""

    __slots__ = ("_containers", "_default", "_open", "_strict")

    def __init__(self, *, strict: bool = False, default: Callable[[Any], Any] = str) -> None:
        self._strict = strict
        self._default = default
        self._open: dict[tuple[Any, ...], list[str]] = {}  # open strings: path -> text parts
        self._containers: set[tuple[Any, ...]] = set()  # open objects/arrays (built by their starts)

    def feed(self, events: Iterable[Any]) -> list[Op]:
        """The patch operations for ``events`` (in order)."""
        ops: list[Op] = []
        for ev in events:
            t = type(ev)
            if t is StringDelta:
                path = ev.path
                parts = self._open.get(path)
                if parts is None:  # a delta without its start (filtered stream): start it here
                    parts = self._open[path] = []
                    ops.append({"op": "add", "path": to_pointer(path), "value": ""})
                parts.append(ev.delta)
                if self._strict:
                    ops.append({"op": "replace", "path": to_pointer(path), "value": "".join(parts)})
                else:
                    ops.append({"op": "append", "path": to_pointer(path), "value": ev.delta})
            elif t is ValueStart:
                kind = ev.kind
                if kind is ValueKind.OBJECT:
                    self._containers.add(ev.path)
                    ops.append({"op": "add", "path": to_pointer(ev.path), "value": {}})
                elif kind is ValueKind.ARRAY:
                    self._containers.add(ev.path)
                    ops.append({"op": "add", "path": to_pointer(ev.path), "value": []})
                elif kind is ValueKind.STRING:
                    self._open[ev.path] = []
                    ops.append({"op": "add", "path": to_pointer(ev.path), "value": ""})
            elif t is ValueDone or t is FieldDone:
                path = ev.path
                if path in self._containers:
                    self._containers.discard(path)
                    continue
                value = ev.value
                parts = self._open.pop(path, None)
                if parts is not None:
                    text = "".join(parts)
                    if value != text:
                        ops.append({"op": "replace", "path": to_pointer(path), "value": self._json(value)})
                elif not isinstance(value, (dict, list)) and _is_scalar_json(value):
                    ops.append({"op": "add", "path": to_pointer(path), "value": value})
                elif t is not ValueDone and not isinstance(value, (dict, list)):
                    ops.append({"op": "add", "path": to_pointer(path), "value": self._json(value)})
        return ops

    def _json(self, value: Any) -> Any:
        if isinstance(value, _JSON_SCALARS):
            return value
        return self._default(value)


def _is_scalar_json(value: Any) -> bool:
    return isinstance(value, _JSON_SCALARS)


def to_patches(events: Iterable[Any], *, strict: bool = False) -> list[Op]:
    """All patch operations for a complete event sequence."""
    return PatchBuilder(strict=strict).feed(events)


def apply_append(doc: Any, op: Op) -> Any:
    """Apply one ``append`` extension operation to ``doc`` in place; return the (new) document.

    Reference implementation for clients; RFC 6902 operations go to a JSON Patch library.
    """
    path = op["path"]
    if path == "":
        return doc + op["value"]
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    target = doc
    for p in parts[:-1]:
        target = target[int(p)] if isinstance(target, list) else target[p]
    last: Any = int(parts[-1]) if isinstance(target, list) else parts[-1]
    target[last] = target[last] + op["value"]
    return doc
