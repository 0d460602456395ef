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

import typing

from ._about import __version__
from ._compiled import COMPILED
from ._errors import (
    AgentError,
    ErrorKind,
    FieldstreamError,
    LimitExceededError,
    ModelError,
    ModelStalledError,
    OutputTooLargeError,
    OutputValidationError,
    ParserClosedError,
    ProviderError,
    RefusalError,
    RunTimeoutError,
    SchemaError,
    SchemaErrorKind,
    StreamError,
    TruncatedOutputError,
    UsageError,
)
from ._events import (
    DocumentDone,
    Event,
    FieldDone,
    FieldInvalid,
    SchemaEvent,
    Skipped,
    StringDelta,
    ValueDone,
    ValueKind,
    ValueStart,
)
from ._frontends import aiter_events, iter_events, parse
from ._parser import DEFAULT_MAX_DEPTH, DEFAULT_MAX_NUMBER_LENGTH, DEFAULT_MAX_STRING_LENGTH, Parser
from ._path import Path, PathPattern, parse_path, to_dotted, to_jsonpath, to_pointer

if typing.TYPE_CHECKING:  # pragma: no cover - the schema layer needs pydantic; imported lazily below
    from .schema import SchemaStream as SchemaStream

__all__ = [
    "COMPILED",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_NUMBER_LENGTH",
    "DEFAULT_MAX_STRING_LENGTH",
    "AgentError",
    "DocumentDone",
    "ErrorKind",
    "Event",
    "FieldDone",
    "FieldInvalid",
    "FieldstreamError",
    "LimitExceededError",
    "ModelError",
    "ModelStalledError",
    "OutputTooLargeError",
    "OutputValidationError",
    "Parser",
    "ParserClosedError",
    "Path",
    "PathPattern",
    "ProviderError",
    "RefusalError",
    "RunTimeoutError",
    "SchemaError",
    "SchemaErrorKind",
    "SchemaEvent",
    "Skipped",
    "StreamError",
    "StringDelta",
    "TruncatedOutputError",
    "UsageError",
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

# Names importable from here but not in __all__ (so that ``from fieldstream import *`` works without
# pydantic): the schema layer, imported on first access.
_LAZY: dict[str, str] = {"SchemaStream": "schema"}


def __getattr__(name: str) -> typing.Any:
    # The schema layer needs pydantic: import it only when someone asks for it.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fieldstream' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
