"""fieldstream: stream structured JSON out of a language model.

A resumable, O(n), strict RFC 8259 JSON parser that you feed with deltas of any size and that
tells you, field by field, what arrived: string text as it is written (:class:`StringDelta`),
every value's start (:class:`ValueStart`) and completion with its final value (:class:`ValueDone`),
and a partial snapshot of the whole document whenever you ask.

    >>> import fieldstream
    >>> p = fieldstream.Parser()
    >>> [e for e in p.feed('{"title": "Hel') if isinstance(e, fieldstream.StringDelta)]
    [StringDelta(path=('title',), delta='Hel')]
    >>> p.snapshot()
    {'title': 'Hel'}

The core imports only the standard library. The Pydantic schema layer lives in
:mod:`fieldstream.schema`, agents in :mod:`fieldstream.agents`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import ErrorKind, ParserClosedError, StreamError
from ._events import Event, StringDelta, ValueDone, ValueKind, ValueStart
from ._frontends import aiter_events, iter_events, parse
from ._path import Path, PathPattern, parse_path, to_dotted, to_jsonpath, to_pointer
from ._tokenizer import DEFAULT_MAX_DEPTH, DEFAULT_MAX_NUMBER_LENGTH, DEFAULT_MAX_STRING_LENGTH, Parser

if TYPE_CHECKING:  # pragma: no cover - the schema layer needs pydantic; imported lazily below
    from .schema import FieldDone, FieldInvalid, SchemaError, SchemaStream, Skipped

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_NUMBER_LENGTH",
    "DEFAULT_MAX_STRING_LENGTH",
    "ErrorKind",
    "Event",
    "FieldDone",
    "FieldInvalid",
    "Parser",
    "ParserClosedError",
    "Path",
    "PathPattern",
    "SchemaError",
    "SchemaStream",
    "Skipped",
    "StreamError",
    "StringDelta",
    "ValueDone",
    "ValueKind",
    "ValueStart",
    "__version__",
    "aiter_events",
    "iter_events",
    "parse",
    "parse_path",
    "to_dotted",
    "to_jsonpath",
    "to_pointer",
]

_LAZY: dict[str, str] = {
    "SchemaStream": "schema",
    "SchemaError": "schema",
    "FieldDone": "schema",
    "FieldInvalid": "schema",
    "Skipped": "schema",
}


def __getattr__(name: str) -> Any:
    # The schema layer needs pydantic: import it only when someone asks for it.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fieldstream' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
