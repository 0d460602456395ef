"""The event contract of :class:`fieldstream.schema.SchemaStream`, checked on any run (like
:func:`support.core.expected_events` for the core).

:func:`run_checked` feeds ``chunks`` to a ``SchemaStream`` (recording which ``feed()``/``close()``
call returned each event), feeds the same chunks to a bare :class:`fieldstream.Parser` (an
independent record of *when* each value completes), validates the whole document with Pydantic
(the oracle), and asserts:

1. each path gets at most one terminal event (``FieldDone`` or ``FieldInvalid``); on success,
   every path with a ``ValueStart`` gets exactly one ``FieldDone`` (unless ``opaque(path)``);
2. a terminal event comes in the call in which its value completed or later, never before, and
   never after the call in which its parent completed; it follows every event of the paths inside
   it (a container's ``FieldDone`` is not sent at its start);
3. ``ValueStart`` of a path precedes its ``StringDelta``s, which concatenate to the string as the
   document wrote it, and stop before the path's terminal event;
4. nothing but ``Skipped`` follows the root's terminal event;
5. ``FieldDone.value`` equals the value Pydantic's own validation of the whole document gives at
   that place (reached through ``field_path``); no ``FieldDone`` has an invalid value inside it;
6. the error locations of all ``FieldInvalid`` events are Pydantic's (equal with
   ``fail_fast=False``, a subset with ``fail_fast=True``), and the run fails iff Pydantic does.

:func:`merge_schema_events` makes runs comparable across chunkings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

import fieldstream
from fieldstream import StringDelta, ValueDone, ValueStart
from fieldstream.schema import FieldDone, FieldInvalid, SchemaError, SchemaStream, Skipped

Path = tuple[str | int, ...]


def merge_schema_events(events: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Events as comparable tuples, consecutive ``StringDelta``s of one path merged, ``Skipped`` texts
    merged (their split depends on the chunking)."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        if type(e) is StringDelta:
            if out and out[-1][0] == "delta" and out[-1][1] == e.path:
                out[-1] = ("delta", e.path, out[-1][2] + e.delta)
            else:
                out.append(("delta", e.path, e.delta))
        elif type(e) is Skipped:
            if out and out[-1][0] == "skipped":
                out[-1] = ("skipped", out[-1][1] + e.text)
            else:
                out.append(("skipped", e.text))
        elif type(e) is ValueStart:
            out.append(("start", e.path, str(e.kind)))
        elif type(e) is FieldDone:
            out.append(("done", e.path, e.value))
        else:
            assert type(e) is FieldInvalid, e
            out.append(("invalid", e.path, [(tuple(x["loc"]), x["type"]) for x in e.errors]))
    return out


def _at(value: Any, path: Path) -> Any:
    for k in path:
        value = value[k]
    return value


def _field(value: Any, name: str | int) -> Any:
    if isinstance(value, BaseModel):
        if hasattr(value, "root") and type(value).model_fields.keys() == {"root"}:
            value = value.root
            return value[name]
        if isinstance(name, str) and name in type(value).model_fields:
            return getattr(value, name)
        return (value.__pydantic_extra__ or {})[name]
    return value[name]


def _inside(path: Path, prefix: Path) -> bool:
    return len(path) > len(prefix) and path[:len(prefix)] == prefix


def run_checked(tp: Any, chunks: Sequence[str], *, fail_fast: bool = True,
                opaque: Callable[[Path], bool] | None = None,
                streamed: Callable[[Path], bool] | None = None) -> tuple[list[Any], Any]:
    """Run and check (see the module docstring); return ``(events, value or SchemaError)``.

    ``opaque(path)``: the value has no ``FieldDone`` of its own (inside a value validated as a whole).
    ``streamed(path)``: a string there streams (its deltas must add up even when none arrived)."""
    # The independent record of when each value completes: the bare parser, same chunks.
    parser = fieldstream.Parser()
    completed: dict[Path, int] = {}
    for i, c in enumerate(chunks):
        for e in parser.feed(c):
            if type(e) is ValueDone:
                completed[e.path] = i
    for e in parser.close():
        if type(e) is ValueDone:
            completed[e.path] = len(chunks)
    doc_text = "".join(chunks)
    raw = json.loads(doc_text)

    s = SchemaStream(tp, fail_fast=fail_fast)
    events: list[Any] = []
    call: list[int] = []  # the index of the call that returned each event (len(chunks): close)
    outcome: Any = None
    i = 0
    try:
        for i, c in enumerate(chunks):
            got = s.feed(c)
            events += got
            call += [i] * len(got)
        i = len(chunks)
        got = s.close()
        events += got
        call += [i] * len(got)
        outcome = s.value
    except SchemaError as exc:
        events += exc.events
        call += [i] * len(exc.events)
        outcome = exc

    # Pydantic, the oracle.
    try:
        expected: Any = TypeAdapter(tp).validate_json(doc_text)
        ref_locs: set[Path] | None = None
    except ValidationError as exc:
        expected = None
        ref_locs = {tuple(e["loc"]) for e in exc.errors()}

    terminal: dict[Path, int] = {}
    started: dict[Path, int] = {}
    deltas: dict[Path, str] = {}
    invalid: list[Path] = []
    root_end: int | None = None
    for n, e in enumerate(events):
        if type(e) is Skipped:
            continue
        assert root_end is None, f"{e!r} after the root's terminal event"
        p = e.path
        if type(e) is ValueStart:
            assert p not in started, f"two ValueStart for {p}"
            started[p] = n
            if streamed is not None and e.kind == "string" and streamed(p):
                deltas[p] = ""
        elif type(e) is StringDelta:
            assert p in started and p not in terminal, f"StringDelta of {p} outside its value"
            deltas[p] = deltas.get(p, "") + e.delta
        else:
            assert p not in terminal, f"two terminal events for {p}: {e!r}"
            terminal[p] = n
            if p in started:
                assert started[p] < n
            inner = [q for q in list(started) + list(terminal) if _inside(q, p)]
            assert all(max(started.get(q, -1), terminal.get(q, -1)) < n for q in inner)
            assert call[n] >= completed[p], f"terminal event of {p} before the value completed"
            if p:
                assert call[n] <= completed[p[:-1]], f"terminal event of {p} after its parent completed"
            if type(e) is FieldInvalid:
                invalid.append(p)
            if p == ():
                root_end = n
    for p, text in deltas.items():
        assert text == _at(raw, p), f"deltas of {p} do not add up to the string"
    for p in terminal:
        if type(events[terminal[p]]) is FieldDone:
            bad = [q for q in invalid if q == p or _inside(q, p)]
            assert not bad, f"FieldDone of {p} has an invalid value inside: {bad}"

    errors_seen = {tuple(x["loc"]) for e in events if type(e) is FieldInvalid for x in e.errors}
    if expected is not None:
        assert not isinstance(outcome, SchemaError), f"Pydantic accepts the document: {outcome}"
        assert outcome == expected
        for p in started:
            if opaque is None or not opaque(p):
                assert p in terminal and type(events[terminal[p]]) is FieldDone, f"no FieldDone for {p}"
        for p, n in terminal.items():
            e = events[n]
            value = expected
            for name in e.field_path:
                value = _field(value, name)
            assert e.value == value, f"FieldDone value at {p}: {e.value!r} != {value!r}"
    else:
        assert ref_locs is not None
        assert isinstance(outcome, SchemaError), "Pydantic rejects the document, the stream accepted it"
        all_locs = {tuple(x["loc"]) for x in outcome.errors}
        if fail_fast:
            assert errors_seen <= ref_locs and all_locs <= ref_locs
        else:
            assert all_locs == ref_locs and errors_seen <= ref_locs
    return events, outcome

