"""Stream a JSON document against a Pydantic model, field by field (needs pydantic).

Every value that has a place in the schema is validated by Pydantic (its own core validator for
that sub-schema, with the enclosing model's config) the moment it completes; see ``docs/schema.md``
and :class:`SchemaStream`.

Paths: ``.path`` is the JSON path (aliases, i.e. the JSON keys), like the core events and like
Pydantic's error ``loc``; ``.field_path`` renders the same position with Python field names.

Layout: ``_stream.py`` (:class:`SchemaStream`: events in, validated events out), ``_tree.py`` (the
Pydantic core schema walked once into nodes), ``_views.py`` (the typed partial views).
"""

from .._errors import SchemaError, SchemaErrorKind
from .._events import FieldDone, FieldInvalid, SchemaEvent, Skipped
from ._policy import Stream
from ._stream import MAX_DEPTH, SchemaStream

__all__ = [
    "MAX_DEPTH",
    "FieldDone",
    "FieldInvalid",
    "SchemaError",
    "SchemaErrorKind",
    "SchemaEvent",
    "SchemaStream",
    "Skipped",
    "Stream",
]
