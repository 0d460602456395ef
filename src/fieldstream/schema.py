"""Stream a JSON document against a Pydantic model, field by field.

    >>> from pydantic import BaseModel
    >>> from fieldstream.schema import SchemaStream, FieldDone
    >>> class Story(BaseModel):
    ...     title: str
    ...     year: int
    >>> s = SchemaStream(Story)
    >>> [e for e in s.feed('{"title": "Du') if not isinstance(e, FieldDone)]  # doctest: +NORMALIZE_WHITESPACE
    [ValueStart(path=(), kind='object'), ValueStart(path=('title',), kind='string'),
     StringDelta(path=('title',), delta='Du')]
    >>> s.partial_dict
    {'title': 'Du'}
    >>> s.feed('ne", "year": 1965}')[-2:]
    [FieldDone(path=('year',), value=1965), FieldDone(path=(), value=Story(title='Dune', year=1965))]
    >>> s.close()
    Story(title='Dune', year=1965)

Every value that has a place in the schema is validated by Pydantic (its own core validator for
that sub-schema, with the enclosing model's config) the moment it completes; see ``docs/schema.md``.

Paths: ``.path`` is the JSON path (aliases, i.e. the JSON keys), like the core events and like
Pydantic's error ``loc``; ``.field_path`` renders the same position with Python field names.

Costs: a :class:`~fieldstream.StringDelta` costs one identity check (and a pattern lookup cached per
value when ``paths`` is given); validation happens once per completed value (containers are
validated as a whole when they close, so a value nested ``d`` models deep is checked ``d`` times);
``partial_dict`` is O(depth + open string) and returns a live, shared structure; ``partial`` is
O(depth + open string + the fields of the open models) and builds new instances for the open models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from ._errors import SchemaError, SchemaErrorKind, StreamError
from ._events import Event, FieldDone, FieldInvalid, SchemaEvent, Skipped, StringDelta, ValueKind, ValueStart
from ._lenient import LenientFilter
from ._parser import Parser
from ._path import Path, PathPattern, compile_patterns, to_dotted
from ._schema_tree import _RAW as RAW_NODE
from ._schema_tree import DICT, IGNORED, LIST, MODEL, TAGGED, TUPLE, Node, errors_of, relocate, tree_for

__all__ = ["FieldDone", "FieldInvalid", "SchemaError", "SchemaEvent", "SchemaStream", "Skipped"]


_OBJECT = ValueKind.OBJECT
_ARRAY = ValueKind.ARRAY
_STRING = ValueKind.STRING
_MISSING = object()


def _construct(cls: Any, fields: dict[str, Any], extra: dict[str, Any] | None) -> Any:
    """A model instance with exactly ``fields`` set: no validation, no defaults (absent = missing)."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", dict(fields))
    object.__setattr__(obj, "__pydantic_fields_set__", set(fields))
    object.__setattr__(obj, "__pydantic_extra__", dict(extra) if extra is not None else None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class _Frame:
    """An open container: its schema node and its partial views."""

    __slots__ = (
        "extra",
        "failed",
        "key",
        "locprefix",
        "mview",
        "names",
        "node",
        "open_key",
        "path",
        "plain",
        "reserved",
        "vnode",
    )

    def __init__(self, path: Path, node: Node, plain: Any, locprefix: Path, names: Path) -> None:
        self.path = path
        self.node = node  # the node whose children we follow (a resolved branch for tagged unions)
        self.vnode = node  # validates the whole container
        self.plain = plain
        kind = node.kind
        self.mview: Any = {} if kind in (MODEL, DICT) else [] if kind in (LIST, TUPLE) else plain
        self.extra: dict[str, Any] | None = {} if node.kind == MODEL and node.extra == "allow" else None
        self.locprefix = locprefix
        self.names = names
        self.failed = False
        self.open_key: Any = _MISSING
        self.reserved = False

    def name_of(self, key: str | int) -> str | int:
        node = self.node
        if node.kind == MODEL and isinstance(key, str):
            return node.names.get(key, key)
        return key

    def build(self) -> Any:
        node = self.node
        if node.kind == MODEL:
            if node.root_model:
                return node.cls.model_construct(root=self.mview)
            return _construct(node.cls, self.mview, self.extra)
        if node.root_model:
            return node.cls.model_construct(root=self.mview)
        return self.mview


class SchemaStream:
    """Feed JSON deltas, get schema-validated events; see the module docstring.

    Args:
        tp: a Pydantic model class or any type a :class:`pydantic.TypeAdapter` accepts.
        lenient: skip prose/code fences around the JSON (see :class:`fieldstream._lenient.LenientFilter`).
        fail_fast: raise :class:`SchemaError` as soon as a value is invalid (default); ``False``
            keeps going, reports every :class:`FieldInvalid`, and raises at :meth:`close`.
        paths: only emit ``ValueStart``/``StringDelta``/``FieldDone`` for these path patterns
            (``FieldInvalid`` and ``Skipped`` are always emitted).
        parser_options: passed to :class:`fieldstream.Parser`.
    """

    def __init__(self, tp: Any, *, lenient: bool = False, fail_fast: bool = True,
                 paths: Iterable[str | PathPattern] | None = None, **parser_options: Any) -> None:
        self._root, self._adapter = tree_for(tp)
        self._type = tp
        self._parser = Parser(**parser_options)
        self._lenient = LenientFilter() if lenient else None
        self._fail_fast = fail_fast
        self._patterns = compile_patterns(paths) if paths is not None else None
        self._frames: list[_Frame] = []
        self._snode: Node = RAW_NODE  # node of the open scalar
        self._sloc: Any = None  # identity of the open scalar's location (core events' ``_loc``)
        self._spath: Path = ()
        self._sstream = False
        self._ssel = True
        self._selcache: dict[int, bool] = {}
        self._failed: set[Path] = set()
        self._errors: list[dict[str, Any]] = []
        self._invalid_paths: list[Path] = []
        self._result: Any = _MISSING
        self._plain_root: Any = None
        self._mview_root: Any = _MISSING
        self._error: SchemaError | None = None
        self._closed = False
        self._out: list[Any] = []
        self._close_out: list[Any] = []

    # ------------------------------------------------------------------ public API

    @property
    def parser(self) -> Parser:
        """The underlying core parser."""
        return self._parser

    def feed(self, delta: str | bytes) -> list[Any]:
        """Consume the next delta; return the schema events it completed."""
        self._check_open()
        out: list[Any] = []
        self._out = out
        lf = self._lenient
        if lf is not None:
            text, skipped = lf.feed(delta)
            out.extend(Skipped(t, pos) for t, pos in skipped)
            if text:
                self._process(self._parser.feed(text))
        else:
            self._process(self._parser.feed(delta))
        return out

    @property
    def close_events(self) -> list[Any]:
        """The events that :meth:`close` completed (e.g. the last number's ``FieldDone`` and the
        root's): ``close()`` returns the value, so they are kept here. Empty before ``close()``."""
        return list(self._close_out)

    def close(self) -> Any:
        """End of input: return the validated value, or raise :class:`SchemaError`.

        The events completed by the end of input are in :attr:`close_events`."""
        self._check_open()
        out: list[Any] = []
        self._out = out
        self._close_out = out
        lf = self._lenient
        if lf is not None:
            text, skipped = lf.close()
            out.extend(Skipped(t, pos) for t, pos in skipped)
            if text:
                self._process(self._parser.feed(text))
        try:
            self._process(self._parser.close())
        except StreamError as exc:
            if exc.kind.value != "incomplete":
                raise
            missing = self._missing_now()
            err = SchemaError(f"the document ended before it was complete ({len(missing)} required field(s) "
                              f"missing: {', '.join(to_dotted(m) or '$' for m in missing)})",
                              errors=[{"type": "missing", "loc": m, "msg": "Field required", "input": None}
                                      for m in missing],
                              missing=missing, pos=self._abs(exc.pos), kind=SchemaErrorKind.INCOMPLETE,
                              events=out)
            self._error = err
            raise err from exc
        self._closed = True
        if self._errors:
            raise self._make_error(self._invalid_paths[0] if self._invalid_paths else (), self._errors, out)
        assert self._result is not _MISSING
        return self._result

    @property
    def partial_dict(self) -> Any:
        """Plain view of the document so far (live and shared; see the module docstring)."""
        self._fill_open_string(plain=True)
        return self._plain_root

    @property
    def partial(self) -> Any:
        """Model view of the document so far: open models built without validation, or ``None``."""
        if self._result is not _MISSING:
            return self._result
        frames = self._frames
        if not frames:
            text = self._open_text()
            return text
        obj: Any = _MISSING
        text = self._open_text()
        if text is not None and self._sstream_open():
            obj = text
        for fr in reversed(frames):
            if obj is not _MISSING and fr.node.kind != IGNORED:
                self._put_mview(fr, fr.open_key, obj, reserve=True)
            obj = fr.build()
        return obj

    @property
    def done(self) -> bool:
        """True once the root value completed and validated."""
        return self._result is not _MISSING

    # ------------------------------------------------------------------ internals

    def _check_open(self) -> None:
        if self._error is not None:
            raise SchemaError(f"the stream already failed: {self._error}", path=self._error.path,
                              errors=self._error.errors, missing=self._error.missing, pos=self._error.pos,
                              kind=SchemaErrorKind.CLOSED)
        if self._closed:
            raise SchemaError("the stream is closed", kind=SchemaErrorKind.CLOSED,
                              pos=self._abs(self._parser.position))

    def _abs(self, pos: int) -> int:
        lf = self._lenient
        return pos + lf.offset if lf is not None else pos

    def _selected(self, path: Path) -> bool:
        pats = self._patterns
        if pats is None:
            return True
        return any(p.matches(path) for p in pats)

    def _open_text(self) -> str | None:
        """The open string value's text so far (O(depth + open string)), or None."""
        if self._sloc is None:
            return None
        raw: Any = self._parser.snapshot()
        if not self._frames:
            return raw if isinstance(raw, str) else None
        for fr in self._frames[1:]:
            key: Any = fr.path[-1]
            raw = raw[key] if isinstance(raw, dict) or (isinstance(raw, list) and isinstance(key, int)
                                                        and key < len(raw)) else None
            if raw is None:
                return None
        key = self._spath[-1] if self._spath else None
        if isinstance(raw, dict):
            v = raw.get(key)
        elif isinstance(raw, list) and isinstance(key, int) and key < len(raw):
            v = raw[key]
        else:
            v = None
        return v if isinstance(v, str) else None

    def _sstream_open(self) -> bool:
        return self._snode.stream and self._snode.kind != IGNORED

    def _fill_open_string(self, plain: bool) -> None:
        text = self._open_text()
        if text is None or not self._frames or not self._sstream_open():
            if text is not None and not self._frames and self._sstream_open():
                self._plain_root = text
            return
        fr = self._frames[-1]
        if fr.node.kind == IGNORED:
            return
        self._put_plain(fr, fr.open_key, text, reserve=True)

    def _put_plain(self, fr: _Frame, key: Any, value: Any, reserve: bool = False) -> None:
        c = fr.plain
        if type(c) is dict or (isinstance(key, int) and key < len(c)):
            c[key] = value
        else:
            c.append(value)

    def _put_mview(self, fr: _Frame, key: Any, value: Any, reserve: bool = False) -> None:
        c = fr.mview
        if c is fr.plain:
            self._put_plain(fr, key, value)
            return
        if type(c) is dict:
            node = fr.node
            if node.kind == MODEL:
                name = node.names.get(key)
                if name is None:
                    if fr.extra is not None:
                        fr.extra[key] = value
                    return
                c[name] = value
            else:
                c[key] = value
        elif isinstance(key, int) and key < len(c):
            c[key] = value
        else:
            c.append(value)

    def _missing_now(self) -> list[Path]:
        missing: list[Path] = []
        for fr in self._frames:
            node = fr.node
            if node.kind != MODEL or not isinstance(fr.plain, dict):
                continue
            prefix = fr.path
            for key in node.required:
                alts = [k for k, n in node.names.items() if n == node.names[key]]
                if not any(k in fr.plain for k in alts) and fr.open_key not in alts:
                    missing.append((*prefix, key))
        if not self._frames and self._result is _MISSING and self._root.kind == MODEL:
            missing.extend((k,) for k in self._root.required)
        return missing

    def _make_error(self, path: Path, errors: list[dict[str, Any]], events: list[Any]) -> SchemaError:
        missing = [tuple(e["loc"]) for e in errors if e["type"] == "missing"]
        kinds = {e["type"] for e in errors}
        kind = (SchemaErrorKind.MISSING if kinds == {"missing"}
                else SchemaErrorKind.EXTRA_FORBIDDEN if kinds == {"extra_forbidden"}
                else SchemaErrorKind.INVALID)
        lines = [f"  {to_dotted(tuple(e['loc'])) or '$'}: {e['msg']} [type={e['type']}]"
                 for e in errors[:20]]
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        head = f"{len(errors)} validation error(s) at {to_dotted(path) or '$'}\n"
        return SchemaError(head + "\n".join(lines) + more, path=path, errors=errors, missing=missing,
                           pos=self._abs(self._parser.position), kind=kind, events=events)

    def _invalid(self, path: Path, prefix: Path, errors: list[dict[str, Any]],
                 names: tuple[Path, str | int | None]) -> None:
        """Report an invalid value: event, bookkeeping, and the early failure."""
        self._out.append(FieldInvalid(path, errors, names))
        self._failed.add(prefix)
        self._errors.extend(errors)
        self._invalid_paths.append(path)
        if self._fail_fast:
            err = self._make_error(path, errors, self._out)
            self._error = err
            raise err

    def _new_errors(self, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop errors inside values that were already reported invalid."""
        failed = self._failed
        if not failed:
            return errors
        out = []
        for e in errors:
            loc = e["loc"]
            if not any(tuple(loc[:i]) in failed for i in range(len(loc) + 1)):
                out.append(e)
        return out

    def _validate(self, node: Node, value: Any, path: Path, prefix: Path,
                  names: tuple[Path, str | int | None], sel: bool) -> Any:
        """Validate a completed value; emit FieldDone/FieldInvalid; return the value or _MISSING."""
        try:
            v = node.validate(value)
        except ValidationError as exc:
            errors = self._new_errors(relocate(errors_of(exc), prefix))
            if errors:
                self._invalid(path, prefix, errors, names)
            return _MISSING
        if sel:
            self._out.append(FieldDone(path, v, names))
        return v

    def _process(self, events: list[Event]) -> None:
        out = self._out
        frames = self._frames
        for ev in events:
            t = type(ev)
            if t is StringDelta:
                if ev._loc is self._sloc and self._sstream:
                    out.append(ev)
                continue
            path = ev.path
            key: Any = path[-1] if path else None
            if t is ValueStart:
                kind = ev.kind  # type: ignore[union-attr]
                if frames:
                    parent = frames[-1]
                    pnode = parent.node
                    node = pnode.child(key)
                    if node.kind == IGNORED and pnode.kind == MODEL and pnode.extra == "forbid" \
                            and pnode is not node:
                        prefix = (*parent.locprefix, key)
                        self._invalid(path, prefix, [{"type": "extra_forbidden", "loc": prefix,
                                                      "msg": "Extra inputs are not permitted",
                                                      "input": None}], (parent.names, key))
                    parent.open_key = key
                else:
                    parent = None
                    node = self._root
                sel = node.kind != IGNORED and (self._patterns is None or self._selected(path))
                if kind is _OBJECT or kind is _ARRAY:
                    plain: Any = {} if kind is _OBJECT else []
                    if parent is None:
                        fr = _Frame(path, node, plain, (), ())
                        self._plain_root = plain
                    else:
                        fr = _Frame(path, node, plain, (*parent.locprefix, key),
                                    (*parent.names, parent.name_of(key)))
                        if node.kind != IGNORED:
                            self._put_plain(parent, key, plain)
                            self._put_mview(parent, key, fr.mview)
                    frames.append(fr)
                    if node.kind != IGNORED and parent is not None and (
                            parent.node.kind == TAGGED and node is RAW_NODE):
                        fr.node = fr.vnode = RAW_NODE
                else:
                    self._sloc = ev._loc
                    self._spath = path
                    self._snode = node
                    self._sstream = sel and node.stream and kind is _STRING
                    self._ssel = sel
                if sel:
                    out.append(ev)
                continue
            # ValueDone
            value = ev.value  # type: ignore[union-attr]
            if type(value) is dict or type(value) is list:
                fr = frames.pop()
                node = fr.vnode
                parent = frames[-1] if frames else None
                if node.kind == IGNORED:
                    continue
                sel = self._patterns is None or self._selected(path)
                names = (fr.names, None)
                if node is RAW_NODE:
                    v: Any = fr.plain
                elif node.fastc and not fr.failed:
                    v = fr.mview
                    if sel:
                        out.append(FieldDone(path, v, names))
                else:
                    v = self._validate(node, value, path, fr.locprefix, names, sel)
                if parent is None:
                    if v is not _MISSING:
                        self._result = v
                    continue
                parent.open_key = _MISSING
                if v is _MISSING:
                    parent.failed = True
                    self._drop(parent, key, value)
                else:
                    self._put_mview(parent, key, v)
                continue
            # a scalar
            node = self._snode
            self._sloc = None
            if node.kind == IGNORED:
                continue
            parent = frames[-1] if frames else None
            if parent is None:
                v = self._validate(node, value, path, (), ((), None), self._ssel)
                if v is not _MISSING:
                    self._result = v
                    self._plain_root = v
                continue
            parent.open_key = _MISSING
            if node is RAW_NODE:
                v = value
            else:
                fast = node.fast
                if fast is not None and type(value) in fast:
                    v = value
                    if self._ssel:
                        out.append(FieldDone(path, v, (parent.names, parent.name_of(key))))
                else:
                    v = self._validate(node, value, path, (*parent.locprefix, key),
                                       (parent.names, parent.name_of(key)), self._ssel)
            if v is _MISSING:
                parent.failed = True
                self._drop(parent, key, value)
                continue
            self._put_plain(parent, key, v)
            self._put_mview(parent, key, v)
            if parent.node.kind == TAGGED and key == parent.node.discriminator:
                self._resolve(parent, value)

    def _drop(self, fr: _Frame, key: Any, raw: Any) -> None:
        """An invalid child: lists keep the raw value (indices stay aligned), objects omit it."""
        if type(fr.plain) is list:
            self._put_plain(fr, key, raw)
            if fr.mview is not fr.plain:
                self._put_mview(fr, key, raw)
        else:
            fr.plain.pop(key, None)
            if fr.mview is not fr.plain and type(fr.mview) is dict:
                fr.mview.pop(fr.name_of(key), None)

    def _resolve(self, fr: _Frame, tag: Any) -> None:
        """The discriminator of a tagged union is known: follow the branch from now on."""
        node = fr.node
        branch = node.choices.get(tag)
        if branch is None:
            fr.node = RAW_NODE  # validated (and rejected) as a whole when it closes
            fr.mview = fr.plain
            return
        fr.node = branch
        fr.vnode = branch
        fr.locprefix = (*fr.locprefix, str(tag))
        fr.mview = {} if branch.kind == MODEL else fr.plain
        if branch.kind == MODEL and branch.extra == "allow":
            fr.extra = {}
        # Validate the members that completed before the discriminator.
        done = list(fr.plain.items())
        for key, raw in done:
            child = branch.child(key)
            if child.kind == IGNORED:
                fr.plain.pop(key, None)
                if branch.extra == "forbid":
                    prefix = (*fr.locprefix, key)
                    self._invalid((*fr.path, key), prefix, [{"type": "extra_forbidden", "loc": prefix,
                                                               "msg": "Extra inputs are not permitted",
                                                               "input": raw}], (fr.names, key))
                continue
            cpath = (*fr.path, key)
            sel = self._patterns is None or self._selected(cpath)
            v = self._validate(child, raw, cpath, (*fr.locprefix, key), (fr.names, fr.name_of(key)), sel)
            if v is _MISSING:
                fr.failed = True
                self._drop(fr, key, raw)
            else:
                self._put_plain(fr, key, v)
                self._put_mview(fr, key, v)


def validate_stream(tp: Any, chunks: Iterable[str | bytes], **options: Any) -> Any:
    """Feed all ``chunks`` to a :class:`SchemaStream` and return the validated value."""
    s = SchemaStream(tp, **options)
    for c in chunks:
        s.feed(c)
    return s.close()


