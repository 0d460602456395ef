"""Stream items in, fieldstream events out: one parser for the content, one per tool call.

:class:`Router` is sans-IO (``feed(item) -> list[event]``, ``close() -> list[event]``); the SDK
front ends in ``_sdk.py`` only turn SDK objects into stream items
(:mod:`fieldstream.agents.models._items`) and drive it.

* Content text goes to a :class:`fieldstream.Parser` (core events) or, with ``schema=``, a
  :class:`fieldstream.schema.SchemaStream` (schema events); its paths are the document's own. With
  ``content="text"`` (prose next to tool calls) it is not parsed: each piece is a
  :class:`~fieldstream.StringDelta` at ``("content",)`` and ``close()`` gives its
  :class:`~fieldstream.ValueDone`. ``lenient=True`` skips prose and code fences around the JSON
  content (``Skipped`` events with a schema; silently with the core parser).
* Tool call ``i``'s arguments go to their own parser (a schema stream when ``tools=`` maps the tool's
  name to a model); every event's path is prefixed with ``("tool_calls", i, "arguments")``. A
  :class:`ToolCallStart` announces each call (its id and name) before its first event. A call whose
  arguments are empty (Anthropic sends none for a tool without parameters) is parsed as ``{}``.
* ``close()`` closes every parser (an incomplete document raises as usual) after checking the finish:
  a refusal raises :class:`~fieldstream.RefusalError`, a cut answer
  :class:`~fieldstream.TruncatedOutputError` (with the content's partial snapshot).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .. import Parser
from .._errors import SchemaError, StreamError, TruncatedOutputError, UsageError
from .._events import FieldDone, FieldInvalid, StringDelta, ValueDone, ValueStart, event_at
from .._lenient import LenientFilter
from .._path import Path, to_dotted
from ..agents.base.context import Usage
from ..agents.models._items import (
    Finish,
    ReasoningDelta,
    RefusalDelta,
    StreamItem,
    ToolCallDelta,
    finish_error,
    normalise_finish,
)

__all__ = ["Router", "ToolCallStart"]


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """Tool call ``index`` begins: the provider's call ``id`` and the tool ``name``.

    Its ``path`` is ``("tool_calls", index)``; the arguments' events follow under
    ``("tool_calls", index, "arguments", ...)``.
    """

    index: int
    id: str | None
    name: str | None

    @property
    def path(self) -> Path:
        return ("tool_calls", self.index)

    @property
    def dotted(self) -> str:
        return to_dotted(self.path)


def _prefixed(ev: Any, prefix: Path) -> Any:
    if isinstance(ev, ValueStart):
        return event_at(ValueStart, (*prefix, *ev.path), ev.kind)
    if isinstance(ev, StringDelta):
        return event_at(StringDelta, (*prefix, *ev.path), ev.delta)
    if isinstance(ev, ValueDone):
        return event_at(ValueDone, (*prefix, *ev.path), ev.value)
    if isinstance(ev, (FieldDone, FieldInvalid)):
        names_prefix, name = ev._names
        return dataclasses.replace(ev, path=(*prefix, *ev.path), _names=((*prefix, *names_prefix), name))
    return ev  # Skipped: outside the document


@contextlib.contextmanager
def _located(prefix: Path) -> Iterator[None]:
    """Give a tool call's parse or schema error the absolute path (``tool_calls[i].arguments...``)."""
    try:
        yield
    except (SchemaError, StreamError) as exc:
        exc.path = (*prefix, *exc.path)
        if isinstance(exc, SchemaError):
            exc.missing = [(*prefix, *m) for m in exc.missing]
        raise


class _Doc:
    """One JSON document: a core parser or a schema stream."""

    def __init__(self, schema: Any, lenient: bool) -> None:
        self.fed = False
        self.filter: LenientFilter | None = None
        if schema is None:
            self.schema = None
            self.parser = Parser()
            if lenient:
                self.filter = LenientFilter()
        else:
            from ..schema import SchemaStream

            self.schema = SchemaStream(schema, lenient=lenient)

    def feed(self, text: str) -> list[Any]:
        self.fed = True
        if self.schema is not None:
            return list(self.schema.feed(text))
        if self.filter is not None:
            text, _ = self.filter.feed(text)
            if not text:
                return []
        return list(self.parser.feed(text))

    def close(self) -> tuple[Any, list[Any]]:
        if self.schema is not None:
            events = self.schema.close()
            return self.schema.value, list(events)
        closed: list[Any] = list(self.parser.close())
        return self.parser.snapshot(), closed

    def snapshot(self) -> Any:
        try:
            if self.schema is not None:
                return self.schema.partial_dict
            return self.parser.snapshot()
        except Exception:
            return None


class Router:
    """Route stream items to parsers; see the module docstring.

    After ``close()``: ``value`` (the content's value, ``None`` if there was no content),
    ``tool_calls`` (``[(id, name, arguments value)]`` in call order), ``finish``, ``usage``,
    ``reasoning`` (the reasoning text), ``text`` (the raw content).
    """

    def __init__(self, schema: Any = None, *, tools: dict[str, Any] | None = None,
                 lenient: bool = False, content: Literal["json", "text"] = "json") -> None:
        if content not in ("json", "text"):
            raise UsageError(f"content must be 'json' or 'text', not {content!r}")
        if content == "text" and schema is not None:
            raise UsageError("schema= describes JSON content: it cannot be combined with content='text'")
        self._as_text = content == "text"
        self._schema = schema
        self._tools = tools or {}
        self._lenient = lenient
        self._content: _Doc | None = None
        self._calls: dict[int, tuple[str | None, str | None, _Doc]] = {}
        self._text: list[str] = []
        self._refusal: list[str] = []
        self._reasoning: list[str] = []
        self.finish: Finish | None = None
        self.usage: Usage | None = None
        self.value: Any = None
        self.tool_calls: list[tuple[str | None, str | None, Any]] = []

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def feed(self, item: StreamItem) -> list[Any]:
        if isinstance(item, str):
            self._text.append(item)
            if self._as_text:
                return [event_at(StringDelta, ("content",), item)]
            if self._content is None:
                self._content = _Doc(self._schema, self._lenient)
            return self._content.feed(item)
        if isinstance(item, ToolCallDelta):
            out: list[Any] = []
            call = self._calls.get(item.index)
            if call is None:
                schema = self._tools.get(item.name) if item.name is not None else None
                call = (item.id, item.name, _Doc(schema, False))
                self._calls[item.index] = call
                out.append(ToolCallStart(item.index, item.id, item.name))
            if item.arguments_delta:
                prefix = ("tool_calls", item.index, "arguments")
                with _located(prefix):
                    out.extend(_prefixed(ev, prefix) for ev in call[2].feed(item.arguments_delta))
            return out
        if isinstance(item, RefusalDelta):
            self._refusal.append(item.text)
        elif isinstance(item, ReasoningDelta):
            self._reasoning.append(item.text)
        elif isinstance(item, Finish):
            self.finish = item
        elif isinstance(item, Usage):
            self.usage = item
        return []

    def close(self) -> list[Any]:
        finish = self.finish or normalise_finish(None)
        err = finish_error(finish, text=self.text, refusal="".join(self._refusal))
        if err is not None:
            if isinstance(err, TruncatedOutputError) and self._content is not None:
                err.partial = self._content.snapshot()
            raise err
        out: list[Any] = []
        if self._as_text:
            self.value = self.text
            out.append(event_at(ValueDone, ("content",), self.value))
        elif self._content is not None or not self._calls:
            if self._content is None:
                self._content = _Doc(self._schema, self._lenient)
            self.value, events = self._content.close()
            out.extend(events)
        for index in sorted(self._calls):
            call_id, name, doc = self._calls[index]
            prefix = ("tool_calls", index, "arguments")
            with _located(prefix):
                if not doc.fed:
                    out.extend(_prefixed(ev, prefix) for ev in doc.feed("{}"))
                value, events = doc.close()
            out.extend(_prefixed(ev, prefix) for ev in events)
            self.tool_calls.append((call_id, name, value))
        return out
