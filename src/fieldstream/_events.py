"""Parser events: small, frozen, slotted dataclasses with readable reprs.

Paths are materialised lazily: each value owns one :class:`_Loc` (its parent's ``_Loc`` plus its key
or index) and an event's ``.path`` tuple is built from it on first use and cached on the ``_Loc``. A
document nested 100 000 deep therefore costs O(1) per event unless someone asks for the path.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ._path import Path, to_dotted, to_jsonpath, to_pointer

__all__ = [
    "DocumentDone",
    "Event",
    "FieldDone",
    "FieldInvalid",
    "SchemaEvent",
    "Skipped",
    "StringDelta",
    "ValueDone",
    "ValueKind",
    "ValueStart",
]


class ValueKind(str, Enum):
    """The kind of a JSON value, known from its first character."""

    OBJECT = "object"
    ARRAY = "array"
    STRING = "string"
    NUMBER = "number"
    TRUE = "true"
    FALSE = "false"
    NULL = "null"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return repr(self.value)


# Where a value lives: ``[parent_loc, key_or_index, cached_path_or_None]``. A plain list, because
# the parser makes one per value and a list is ~10x cheaper to build than an object.
_Loc = list[Any]


def loc_path(loc: _Loc) -> Path:
    """The path tuple of a location: O(depth) once, then cached in the location.

    Only the requested location caches its tuple (caching every ancestor would cost O(depth^2)
    memory for one path of a deeply nested value).
    """
    p: Path | None = loc[2]
    if p is not None:
        return p
    keys: list[str | int] = []
    cur = loc
    while cur[2] is None:
        keys.append(cur[1])
        cur = cur[0]
    keys.reverse()
    base: Path = cur[2]
    path = (*base, *keys) if base else tuple(keys)
    loc[2] = path
    return path


ROOT: _Loc = [None, None, ()]


class _EventBase:
    __slots__ = ()
    _loc: _Loc

    @property
    def path(self) -> Path:
        """The JSON path of the value, a tuple of ``str | int``; ``()`` is the root."""
        return loc_path(self._loc)

    @property
    def dotted(self) -> str:
        """The path in the agent frameworks' dotted form: ``final_result.items[0].name``."""
        return to_dotted(loc_path(self._loc))

    @property
    def jsonpath(self) -> str:
        """The path as RFC 9535 JSONPath: ``$.items[0].name``."""
        return to_jsonpath(loc_path(self._loc))

    @property
    def pointer(self) -> str:
        """The path as an RFC 6901 JSON Pointer: ``/items/0/name``."""
        return to_pointer(loc_path(self._loc))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ValueStart(_EventBase):
    """A value begins at ``path``; ``kind`` is known from its first character."""

    _loc: _Loc = field(repr=False)
    kind: ValueKind

    def __repr__(self) -> str:
        return f"ValueStart(path={self.path!r}, kind={self.kind.value!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not ValueStart:
            return NotImplemented
        return self.kind is other.kind and self.path == other.path

    def __hash__(self) -> int:
        return hash((ValueStart, self.path, self.kind))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class StringDelta(_EventBase):
    """More text of the string value at ``path`` (escapes resolved; never empty)."""

    _loc: _Loc = field(repr=False)
    delta: str

    def __repr__(self) -> str:
        return f"StringDelta(path={self.path!r}, delta={self.delta!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not StringDelta:
            return NotImplemented
        return self.delta == other.delta and self.path == other.path

    def __hash__(self) -> int:
        return hash((StringDelta, self.path, self.delta))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ValueDone(_EventBase):
    """The value at ``path`` is complete; ``value`` equals ``json.loads`` of that subtree.

    For objects and arrays ``value`` is the parser's own live container (not a copy): it is
    complete and the parser will not change it again.
    """

    _loc: _Loc = field(repr=False)
    value: Any

    def __repr__(self) -> str:
        return f"ValueDone(path={self.path!r}, value={_short_repr(self.value)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not ValueDone:
            return NotImplemented
        return self.path == other.path and _same_json(self.value, other.value)

    def __hash__(self) -> int:
        return hash((ValueDone, self.path))


_repr = reprlib.Repr()
_repr.maxlevel = 4
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = _repr.maxdict = 8


def _short_repr(value: Any) -> str:
    """A bounded repr: safe for huge and 100 000-deep values (no RecursionError)."""
    return _repr.repr(value)


def _same_json(a: Any, b: Any) -> bool:
    # ``1 == 1.0 == True`` in Python; JSON values of different kinds must not compare equal.
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and a != a:
        return bool(b != b)
    return bool(a == b)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DocumentDone(_EventBase):
    """``Parser(multiple=True)`` only: document number ``index`` (0-based) of the stream is complete.

    It follows the document's own root :class:`ValueDone` (path ``()``) and carries the same
    ``value``, so that a consumer of several documents can tell them apart by ``index`` alone. A
    single-document parser never emits it. Its ``path`` is ``()``, like every root.
    """

    index: int
    value: Any
    _loc: _Loc = field(default_factory=lambda: ROOT, repr=False)

    def __repr__(self) -> str:
        return f"DocumentDone(index={self.index!r}, value={_short_repr(self.value)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not DocumentDone:
            return NotImplemented
        return self.index == other.index and _same_json(self.value, other.value)

    def __hash__(self) -> int:
        return hash((DocumentDone, self.index))


Event = ValueStart | StringDelta | ValueDone | DocumentDone

# Fast constructors for the parser's hot path (bypass the frozen dataclass __init__).
_new = object.__new__
_set_start_loc = vars(ValueStart)["_loc"].__set__
_set_start_kind = vars(ValueStart)["kind"].__set__
_set_delta_loc = vars(StringDelta)["_loc"].__set__
_set_delta_text = vars(StringDelta)["delta"].__set__
_set_done_loc = vars(ValueDone)["_loc"].__set__
_set_done_value = vars(ValueDone)["value"].__set__


def make_start(loc: _Loc, kind: ValueKind) -> ValueStart:
    ev: ValueStart = _new(ValueStart)
    _set_start_loc(ev, loc)
    _set_start_kind(ev, kind)
    return ev


def make_delta(loc: _Loc, text: str) -> StringDelta:
    ev: StringDelta = _new(StringDelta)
    _set_delta_loc(ev, loc)
    _set_delta_text(ev, text)
    return ev


def make_done(loc: _Loc, value: Any) -> ValueDone:
    ev: ValueDone = _new(ValueDone)
    _set_done_loc(ev, loc)
    _set_done_value(ev, value)
    return ev


def event_at(cls: type[Any], path: Path, payload: Any) -> Any:
    """Build an event for an explicit path (tests, adapters). ``payload`` is kind/delta/value."""
    loc = ROOT
    for seg in path:
        loc = [loc, seg, None]
    return cls(loc, payload)


# ---- events of the schema layer (fieldstream.schema): defined here, standard library only, so that
# core-only consumers (patch, the CLI, your code) can dispatch on them with isinstance.


class _PathEvent:
    __slots__ = ()
    path: Path
    _names: tuple[Path, str | int | None]

    @property
    def dotted(self) -> str:
        """The JSON path in dotted form: ``items[0].name``."""
        return to_dotted(self.path)

    @property
    def jsonpath(self) -> str:
        """The JSON path as RFC 9535 JSONPath."""
        return to_jsonpath(self.path)

    @property
    def pointer(self) -> str:
        """The JSON path as an RFC 6901 JSON Pointer."""
        return to_pointer(self.path)

    @property
    def field_path(self) -> Path:
        """The path with Python field names instead of JSON keys (aliases)."""
        prefix, name = self._names
        return prefix if name is None else (*prefix, name)

    @property
    def field_dotted(self) -> str:
        """:attr:`field_path` in dotted form."""
        return to_dotted(self.field_path)


@dataclass(frozen=True, slots=True)
class FieldDone(_PathEvent):
    """The value at ``path`` completed and validated; ``value`` is Pydantic's (coerced) result."""

    path: Path
    value: Any
    _names: tuple[Path, str | int | None] = field(repr=False, compare=False, default=((), None))

    def __repr__(self) -> str:
        v = repr(self.value)
        if len(v) > 80:
            v = v[:77] + "..."
        return f"FieldDone(path={self.path!r}, value={v})"


@dataclass(frozen=True, slots=True)
class FieldInvalid(_PathEvent):
    """The value at ``path`` completed but failed validation; ``errors`` are Pydantic error dicts."""

    path: Path
    errors: list[dict[str, Any]] = field(hash=False)
    _names: tuple[Path, str | int | None] = field(repr=False, compare=False, default=((), None))

    def __repr__(self) -> str:
        return f"FieldInvalid(path={self.path!r}, errors={[(e['loc'], e['type']) for e in self.errors]!r})"


@dataclass(frozen=True, slots=True)
class Skipped:
    """Lenient mode: ``text`` of the raw stream at absolute offset ``pos`` was not JSON and was skipped."""

    text: str
    pos: int

    @property
    def path(self) -> Path:
        """Always ``()``: skipped text is outside the document."""
        return ()

    @property
    def dotted(self) -> str:
        """Always ``""``."""
        return ""


SchemaEvent = ValueStart | StringDelta | FieldDone | FieldInvalid | Skipped | DocumentDone
