"""``SchemaStream``: feed JSON deltas, get events validated against a Pydantic model.

The stream follows the core parser's events down the schema tree (:mod:`._tree`), validates each
value with Pydantic the moment it completes, and keeps one typed view object per open container
(:mod:`._views`). It keeps no copy of the document: :attr:`SchemaStream.partial_dict` is the
parser's own live document (:meth:`fieldstream.Parser.snapshot`), and the typed views hold only the
validated members.

Costs: a :class:`~fieldstream.StringDelta` costs one flag test; validation happens once per
completed value (containers are validated as a whole when they close, so a value nested ``d``
models deep is checked ``d`` times); ``partial`` and ``partial_dict`` cost O(1) plus the new text of
the open string since the last read (the open string grows in place in the parser's document, and
the stream drops its own reference to it before the parser appends, so CPython need not copy it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar, overload

from pydantic import ValidationError

from .. import Parser  # the public name: survives the core's module layout
from .._errors import SchemaError, SchemaErrorKind, StreamError
from .._events import (
    DocumentDone,
    Event,
    FieldDone,
    FieldInvalid,
    SchemaEvent,
    Skipped,
    StringDelta,
    ValueKind,
    ValueStart,
)
from .._lenient import LenientFilter
from .._path import Path, PathPattern, compile_patterns, to_dotted
from ._policy import DONE, WITH_STATE
from ._tree import _RAW as RAW_NODE
from ._tree import IGNORED, MODEL, TAGGED, Node, errors_of, relocate, tree_for
from ._views import MISSING, Frame

__all__ = ["MAX_DEPTH", "SchemaStream"]

T = TypeVar("T")

_OBJECT = ValueKind.OBJECT
_ARRAY = ValueKind.ARRAY
_STRING = ValueKind.STRING

#: Default nesting limit of the schema layer. Pydantic's JSON parser refuses documents nested
#: deeper than about 200 levels ("recursion limit exceeded"), and every completed container is
#: validated by it, so the schema layer stops at the same depth with a clear error instead.
MAX_DEPTH = 200


class SchemaStream(Generic[T]):
    """Feed JSON deltas, get schema-validated events; see ``docs/schema.md``.

        >>> from pydantic import BaseModel
        >>> from fieldstream.schema import SchemaStream, FieldDone
        >>> class Story(BaseModel):
        ...     title: str
        ...     year: int
        >>> s = SchemaStream(Story)
        >>> evs = s.feed('{"title": "Du')
        >>> [e for e in evs if not isinstance(e, FieldDone)]  # doctest: +NORMALIZE_WHITESPACE
        [ValueStart(path=(), kind='object'), ValueStart(path=('title',), kind='string'),
         StringDelta(path=('title',), delta='Du')]
        >>> s.partial_dict
        {'title': 'Du'}
        >>> s.feed('ne", "year": 1965}')[-2:]
        [FieldDone(path=('year',), value=1965), FieldDone(path=(), value=Story(title='Dune', year=1965))]
        >>> s.close()
        []
        >>> s.value
        Story(title='Dune', year=1965)

    Args:
        tp: a Pydantic model class or any type a :class:`pydantic.TypeAdapter` accepts;
            ``SchemaStream(Story)`` is a ``SchemaStream[Story]``.
        lenient: skip prose/code fences around the JSON (see :class:`fieldstream._lenient.LenientFilter`).
        fail_fast: raise :class:`SchemaError` as soon as a value is invalid (default); ``False``
            keeps going, reports every :class:`FieldInvalid`, and raises at :meth:`close`.
        paths: only emit ``ValueStart``/``StringDelta``/``FieldDone`` for these path patterns
            (``FieldInvalid`` and ``Skipped`` are always emitted).
        max_depth: nesting limit (objects and arrays); deeper input raises ``SchemaError`` with kind
            ``depth_limit`` at once (see :data:`MAX_DEPTH` for why the default is 200).
        parser_options: passed to :class:`fieldstream.Parser`.
    """

    @overload
    def __init__(self: SchemaStream[T], tp: type[T], *, lenient: bool = ..., fail_fast: bool = ...,
                 paths: Iterable[str | PathPattern] | None = ..., max_depth: int = ...,
                 **parser_options: Any) -> None: ...

    @overload
    def __init__(self: SchemaStream[Any], tp: Any, *, lenient: bool = ..., fail_fast: bool = ...,
                 paths: Iterable[str | PathPattern] | None = ..., max_depth: int = ...,
                 **parser_options: Any) -> None: ...

    def __init__(self, tp: Any, *, lenient: bool = False, fail_fast: bool = True,
                 paths: Iterable[str | PathPattern] | None = None, max_depth: int = MAX_DEPTH,
                 **parser_options: Any) -> None:
        self._root: Node = tree_for(tp)
        self._parser = Parser(**parser_options)
        self._multiple = bool(parser_options.get("multiple"))
        # multiple=True: the roots of the documents that complete in the events being processed.
        # One feed() can end a document and start the next, so the parser's snapshot() (its current
        # document) is not the root of an earlier document's events: take it from its DocumentDone.
        self._roots: list[Any] = []
        self._lenient = LenientFilter() if lenient else None
        self._fail_fast = fail_fast
        self._patterns = compile_patterns(paths) if paths is not None else None
        self._max_depth = max_depth
        self._frames: list[Frame] = []
        self._snode: Node = RAW_NODE  # node of the open scalar
        self._sopen = False  # a scalar value is open (started, not done)
        self._sstring = False  # ... and it is a string (numbers and literals are never shown open)
        self._spath: Path = ()
        self._sstream = False  # the open scalar is a string whose deltas are emitted
        self._ssel = True  # the open scalar's events are selected by ``paths``
        # The open string's text in a typed view: (container, key) in the view, the frame, and
        # (container, key) of the text in the parser's document.
        self._slot: tuple[Any, Any] | None = None
        self._slot_frame: Frame | None = None
        self._slot_raw: tuple[Any, Any] = (None, None)
        self._failed: set[Path] = set()
        self._errors: list[dict[str, Any]] = []
        self._invalid_paths: list[Path] = []
        self._result: Any = MISSING
        self._error: SchemaError | None = None
        self._closed = False
        self._out: list[Any] = []
        # Streaming policy (``Stream`` markers): the open ``Stream.done`` member (its path and length)
        # and the states of ``Stream.with_state`` members.
        self._hide: Path | None = None
        self._hide_len = 0
        self._states: dict[Path, str] = {}

    # ------------------------------------------------------------------ public API

    @property
    def parser(self) -> Parser:
        """The underlying core parser (its document is :attr:`partial_dict`)."""
        return self._parser

    def feed(self, delta: str | bytes) -> list[SchemaEvent]:
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
            lf.check()  # invalid UTF-8 after that text (a JSON error inside it came first)
        else:
            self._process(self._parser.feed(delta))
        if self._states:
            self._settle_states(out)
        return out

    def close(self) -> list[SchemaEvent]:
        """End of input: return the remaining events (like :meth:`fieldstream.Parser.close`), e.g. a
        top-level number's ``FieldDone`` and the root's. The validated value is then :attr:`value`.

        Raises :class:`SchemaError` if the document is invalid or ended early (kind ``incomplete``,
        with every missing required path in ``.missing``); its ``.events`` are this call's events."""
        self._check_open()
        out: list[Any] = []
        self._out = out
        lf = self._lenient
        if lf is not None:
            text, skipped = lf.close()
            out.extend(Skipped(t, pos) for t, pos in skipped)
            if text:
                self._process(self._parser.feed(text))
            lf.check()
        try:
            self._process(self._parser.close())
        except StreamError as exc:
            if exc.kind.value != "incomplete":
                raise
            missing = self._missing_now()
            names = ", ".join(to_dotted(m) or "$" for m in missing)
            err = SchemaError("the document ended before it was complete"
                              + (f" ({len(missing)} required field(s) missing: {names})" if missing else ""),
                              errors=[{"type": "missing", "loc": m, "msg": "Field required", "input": None}
                                      for m in missing],
                              missing=missing, pos=self._abs(exc.pos), kind=SchemaErrorKind.INCOMPLETE,
                              events=out)
            self._error = err
            raise err from exc
        self._closed = True
        if self._states:
            self._settle_states(out)
        if self._errors:
            err = self._make_error(self._invalid_paths[0] if self._invalid_paths else (), self._errors, out)
            self._error = err
            raise err
        return out

    @property
    def value(self) -> T:
        """The validated value, once the root value completed (at the latest after :meth:`close`).

        Raises :class:`SchemaError`: kind ``incomplete`` before that, or the stream's failure."""
        if self._error is not None:
            raise self._error
        if self._result is MISSING or self._errors:
            raise SchemaError("the value is not complete yet: feed the rest of the document and close() "
                              "the stream first", kind=SchemaErrorKind.INCOMPLETE,
                              pos=self._abs(self._parser.position))
        result: T = self._result
        return result

    @property
    def partial_dict(self) -> Any:
        """The document so far as plain JSON: the parser's live document (``Parser.snapshot()``),
        with the open string's text so far. Later input updates it in place; copy it to keep it.
        ``None`` before the first value started."""
        return self._refresh()

    @property
    def partial(self) -> T | None:
        """The typed view so far: completed values validated, open models built without validation
        (missing fields absent), the open string's text so far. Live: later reads update the same
        objects in place. After the root completed: the final value. ``None`` before anything."""
        if self._result is not MISSING:
            result: T = self._result
            return result
        frames = self._frames
        if not frames:
            text: Any = self._refresh()
            root: Any = text if type(text) is str and self._sstream_open() else None
            return root  # type: ignore[no-any-return]
        fr = frames[-1]
        if self._slot is None and self._sopen and fr.view is not None and self._sstream_open():
            self._open_slot(fr)
        else:
            self._refresh()
        if frames[0].gated:
            return None
        typed: T = frames[0].obj if frames[0].view is not None else self._raw_of(0)
        return typed

    @property
    def partial_state(self) -> dict[Path, str]:
        """``Stream.with_state`` fields by JSON path: ``"streaming"`` from their first character,
        then ``"done"`` (validated) or ``"invalid"``; absent before they start. Live: do not mutate."""
        return self._states

    def _settle_states(self, out: list[Any]) -> None:
        states = self._states
        for ev in out:
            t = type(ev)
            if t is FieldDone:
                if ev.path in states and states[ev.path] == "streaming":
                    states[ev.path] = "done"
            elif t is FieldInvalid:  # the field itself or a value inside it
                path = ev.path
                for p in states:
                    if path[:len(p)] == p:
                        states[p] = "invalid"

    @property
    def done(self) -> bool:
        """True once the root value completed and validated."""
        return self._result is not MISSING

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
        return pats is None or any(p.matches(path) for p in pats)

    def _sstream_open(self) -> bool:
        return (self._sopen and self._sstring and self._snode.stream and self._snode.kind != IGNORED
                and self._hide is None)

    def _raw_of(self, i: int) -> Any:
        """The parser's live container of open frame ``i`` (found once, then cached)."""
        frames = self._frames
        fr = frames[i]
        raw = fr.raw
        if raw is None:
            parent = self._parser.snapshot() if i == 0 else self._raw_of(i - 1)
            if i == 0:
                raw = parent
            else:
                key = fr.path[-1]
                raw = parent.get(key) if type(parent) is dict else (
                    parent[key] if isinstance(key, int) and key < len(parent) else None)
            fr.raw = raw
        return raw

    def _refresh(self) -> Any:
        """Bring the open string's text up to date in the parser's document (``snapshot()``) and in
        the typed view that shows it. O(new text): returns the parser's document."""
        slot = self._slot
        if slot is None:
            return self._parser.snapshot()
        view, vkey = slot
        view[vkey] = None  # drop our reference to the text: the parser can then append in place
        doc = self._parser.snapshot()
        raw, rkey = self._slot_raw
        view[vkey] = raw[rkey]
        return doc

    def _open_slot(self, fr: Frame) -> None:
        """Show the open string (a member of ``fr``) in ``fr``'s typed view from now on."""
        self._parser.snapshot()  # the text is now in the parser's document
        key = self._spath[-1]
        raw = self._raw_of(len(self._frames) - 1)
        if not (type(raw) is dict or (isinstance(key, int) and key < len(raw))):
            return
        fr.put(key, raw[key])
        view = fr.view
        if type(view) is list:
            vkey: Any = key
        elif fr.node.kind == MODEL:
            vkey = fr.node.names.get(key) if isinstance(key, str) else None
            if vkey is None:  # an extra member
                view = fr.obj.__pydantic_extra__
                vkey = key
                if view is None:
                    return
        else:
            vkey = key
        self._slot = (view, vkey)
        self._slot_frame = fr
        self._slot_raw = (raw, key)

    def _clear_slot(self) -> None:
        fr = self._slot_frame
        self._slot = None
        self._slot_frame = None
        self._slot_raw = (None, None)
        if fr is not None:
            fr.remove(self._spath[-1])

    def _missing_now(self) -> list[Path]:
        missing: list[Path] = []
        for fr in self._frames:
            node = fr.node
            if node.kind != MODEL:
                continue
            open_name = node.names.get(fr.open_key) if isinstance(fr.open_key, str) else None
            for key in node.required:
                name = node.names[key]
                if not fr.present(name) and name != open_name and (*fr.locprefix, key) not in self._failed:
                    missing.append((*fr.path, key))
        if not self._frames and self._result is MISSING and self._root.kind == MODEL:
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
        self._failed.add(prefix)
        self._report(FieldInvalid(path, errors, names))

    def _report(self, ev: FieldInvalid) -> None:
        for fr in reversed(self._frames):
            if fr.held is not None:  # inside a list/tuple that may turn out too long: wait for its end
                fr.held.append(ev)
                return
        self._out.append(ev)
        self._errors.extend(ev.errors)
        self._invalid_paths.append(ev.path)
        if self._fail_fast and self._error is None:
            # Raised once the invalid member is dropped (see _process), so that the views are right.
            self._error = self._make_error(ev.path, ev.errors, self._out)

    def _too_deep(self, path: Path) -> None:
        err = SchemaError(f"nesting deeper than max_depth={self._max_depth} at {to_dotted(path) or '$'} "
                          "(Pydantic's JSON validation stops at about 200 levels)",
                          path=path, pos=self._abs(self._parser.position), kind=SchemaErrorKind.DEPTH_LIMIT,
                          events=self._out)
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
        """Validate a completed value; emit FieldDone/FieldInvalid; return the value or MISSING."""
        try:
            v = node.validate(value)
        except ValidationError as exc:
            errors = self._new_errors(relocate(errors_of(exc), prefix))
            if errors:
                self._invalid(path, prefix, errors, names)
            return MISSING
        if sel:
            self._out.append(FieldDone(path, v, names))
        return v

    def _process(self, events: list[Event]) -> None:
        out = self._out
        frames = self._frames
        if self._multiple:
            self._roots = [ev.value for ev in events if type(ev) is DocumentDone]
            if frames and frames[0].raw is None and self._roots:
                frames[0].raw = self._roots[0]
        for ev in events:
            if self._error is not None:
                raise self._error
            t = type(ev)
            if t is StringDelta:
                # Deltas only come from the open string value (keys have none).
                if self._sstream:
                    out.append(ev)
                continue
            if self._slot is not None:
                self._clear_slot()
            path = ev.path
            key: Any = path[-1] if path else None
            if t is ValueStart:
                kind = ev.kind  # type: ignore[union-attr]
                if frames:
                    parent: Frame | None = frames[-1]
                    assert parent is not None
                    pnode = parent.node
                    node = pnode.child(key)
                    if node.kind == IGNORED and pnode.kind == MODEL and pnode.extra == "forbid" \
                            and pnode is not node:
                        prefix = (*parent.locprefix, key)
                        self._invalid(path, prefix, [{"type": "extra_forbidden", "loc": prefix,
                                                      "msg": "Extra inputs are not permitted",
                                                      "input": None}], (parent.names, key))
                    parent.open_key = key
                    hide = self._hide
                    if hide is not None and path[:self._hide_len] != hide:
                        self._hide = hide = None  # the Stream.done member before this one is over
                    pol = pnode.policy
                    if pol is not None and hide is None:
                        flags = pol.get(key, 0)
                        if flags & DONE:
                            self._hide = path
                            self._hide_len = len(path)
                        if flags & WITH_STATE:
                            self._states[path] = "streaming"
                else:
                    parent = None
                    node = self._root
                    self._result = MISSING  # (a new document with multiple=True)
                    self._failed = set()
                    self._hide = None
                sel = node.kind != IGNORED and (self._patterns is None or self._selected(path))
                shown = self._hide is None
                if kind is _OBJECT or kind is _ARRAY:
                    if len(frames) >= self._max_depth:
                        self._too_deep(path)
                    # The wrong kind of container (an array where a model belongs...): its members
                    # stay raw, and the node only rejects the whole when it closes, like Pydantic.
                    follow = node if node.fits(kind is _OBJECT) else RAW_NODE
                    if parent is None:
                        fr = Frame(path, follow, (), ())
                        fr.vnode = node
                        fr.gated = bool(follow.gate) and follow.kind == MODEL
                        if self._roots:
                            fr.raw = self._roots[0]
                    else:
                        fr = Frame(path, follow, (*parent.locprefix, key),
                                   (*parent.names, parent.name_of(key)))
                        fr.vnode = node
                        frames.append(fr)
                        if follow.gate and follow.kind == MODEL:
                            fr.gated = True
                        elif node.kind != IGNORED and parent.view is not None and not (
                                self._hide is not None and len(path) == self._hide_len):  # the done member
                            parent.put(key, fr.obj if fr.view is not None else self._raw_of(len(frames) - 1))
                        frames.pop()
                    frames.append(fr)
                else:
                    self._sopen = True
                    self._sstring = kind is _STRING
                    self._spath = path
                    self._snode = node
                    self._sstream = sel and node.stream and kind is _STRING and shown
                    self._ssel = sel and (shown or len(path) == self._hide_len)
                if sel and shown:
                    out.append(ev)
                continue
            if t is DocumentDone:  # multiple=True: the document's root completed (and validated?)
                self._roots.pop(0)
                if self._result is not MISSING:
                    out.append(DocumentDone(ev.index, self._result))  # type: ignore[union-attr]
                continue
            # ValueDone
            value = ev.value  # type: ignore[union-attr]
            if type(value) is dict or type(value) is list:
                fr = frames.pop()
                held = fr.held
                if held is not None:
                    cap = fr.node.cap
                    assert cap is not None
                    if len(value) <= cap:  # (too long: Pydantic reports only that, below)
                        for bad in held:
                            self._report(bad)
                node = fr.vnode
                parent = frames[-1] if frames else None
                if node.kind == IGNORED:
                    if parent is not None and parent.node.kind != IGNORED:
                        self._forget(len(frames) - 1, key, value)
                    continue
                sel = (self._patterns is None or self._selected(path)) and (
                    self._hide is None or len(path) <= self._hide_len)
                names = (fr.names, None)
                if node is RAW_NODE:
                    v: Any = value
                elif node.fastc and fr.node is node and not fr.failed:
                    v = fr.view
                    if sel:
                        out.append(FieldDone(path, v, names))
                elif fr.restores is None:
                    v = self._validate(node, value, path, fr.locprefix, names, sel)
                else:  # validate what the document said (invalid members too), then drop them again
                    restores = fr.restores
                    back = []
                    for d, k, x in restores:
                        if k not in d:  # (else a later duplicate of the key is there: the last wins)
                            d[k] = x
                            back.append((d, k))
                    v = self._validate(node, value, path, fr.locprefix, names, sel)
                    for d, k in back:
                        d.pop(k, None)
                    if parent is not None:  # the enclosing containers validate the original too
                        if parent.restores is None:
                            parent.restores = []
                        parent.restores.extend(restores)
                if parent is None:
                    if v is not MISSING:
                        self._result = v
                    continue
                parent.open_key = MISSING
                if v is MISSING:
                    self._drop(parent, key, value)
                else:
                    parent.put(key, v)
                    if parent.gated and key in parent.node.gate and v is not None:
                        self._ungate(parent)
                continue
            # a scalar
            node = self._snode
            self._sopen = False
            if node.kind == IGNORED:
                if frames and frames[-1].node.kind != IGNORED:
                    self._forget(len(frames) - 1, key, value)
                continue
            parent = frames[-1] if frames else None
            if parent is None:
                v = self._validate(node, value, path, (), ((), None), self._ssel)
                if v is not MISSING:
                    self._result = v
                continue
            parent.open_key = MISSING
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
            if v is MISSING:
                self._drop(parent, key, value)
                continue
            parent.put(key, v)
            if parent.gated and key in parent.node.gate and v is not None:
                self._ungate(parent)
            if parent.node.kind == TAGGED and key == parent.node.discriminator:
                self._resolve(parent, value)
        if self._error is not None:
            raise self._error

    def _ungate(self, fr: Frame) -> None:
        """``Stream.not_null``: the gating field of ``fr`` has a value: show ``fr`` in its parent."""
        fr.gated = False
        frames = self._frames
        i = frames.index(fr)
        if i == 0 or (self._hide is not None and fr.path == self._hide):
            return
        parent = frames[i - 1]
        if parent.view is not None and fr.node.kind != IGNORED:
            parent.put(fr.path[-1], fr.obj if fr.view is not None else self._raw_of(i))

    def _drop(self, fr: Frame, key: Any, raw: Any) -> None:
        """An invalid member: lists keep the raw value (indices stay aligned), objects omit it."""
        fr.failed = True
        self._failed.add((*fr.locprefix, key))  # its errors are reported: not again by its parent
        if type(fr.view) is list:
            fr.put(key, raw)
        else:
            fr.remove(key)
            i = self._frames.index(fr)
            dropped = self._forget(i, key, raw)
            if dropped is not MISSING:
                if fr.restores is None:
                    fr.restores = []
                fr.restores.append((self._raw_of(i), key, dropped))

    def _forget(self, i: int, key: Any, value: Any = MISSING) -> Any:
        """Remove the completed member ``key`` (invalid, or unknown to the model) from the parser's
        document, so that :attr:`partial_dict` shows only what the schema keeps; return it.
        ``value``: the member's value; if the key came again (duplicate keys: the last wins) and the
        parser's document already holds the later value, that one is left alone."""
        raw = self._raw_of(i)
        if type(raw) is dict:
            if value is not MISSING:
                now = raw.get(key, MISSING)
                if now is not value and now != value:
                    return MISSING
            return raw.pop(key, MISSING)
        return MISSING

    def _resolve(self, fr: Frame, tag: Any) -> None:
        """The discriminator of a tagged union is known: follow the branch from now on."""
        done = list(fr.view.items())  # the members so far, raw (keyed by JSON key)
        branch = fr.node.choices.get(tag)
        # An unknown tag: members stay raw; the union rejects the whole when it closes (vnode).
        fr.node = branch if branch is not None else RAW_NODE
        if branch is not None:
            fr.vnode = branch
        fr.new_view()
        if branch is not None:
            fr.locprefix = (*fr.locprefix, str(tag))
        frames = self._frames
        i = frames.index(fr)
        if i > 0 and not fr.gated and not (self._hide is not None and fr.path == self._hide):
            parent = frames[i - 1]
            if parent.view is not None:
                parent.put(fr.path[-1], fr.obj if fr.view is not None else self._raw_of(i))
        if branch is None:
            return
        # Validate the members that completed before the discriminator.
        for key, raw in done:
            child = branch.child(key)
            if child.kind == IGNORED:
                self._forget(i, key)
                if branch.extra == "forbid":
                    prefix = (*fr.locprefix, key)
                    self._invalid((*fr.path, key), prefix, [{"type": "extra_forbidden", "loc": prefix,
                                                               "msg": "Extra inputs are not permitted",
                                                               "input": raw}], (fr.names, key))
                continue
            if self._error is not None:
                return  # fail_fast: the first invalid member ends the stream
            cpath = (*fr.path, key)
            v = self._validate(child, raw, cpath, (*fr.locprefix, key), (fr.names, fr.name_of(key)),
                               self._selected(cpath))
            if v is MISSING:
                self._drop(fr, key, raw)
            else:
                fr.put(key, v)
