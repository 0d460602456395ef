"""Turn fieldstream events into RFC 6902 JSON Patch operations (stdlib only).

A browser (or any process) that applies the operations in order to an empty document rebuilds the
JSON document as it streams, with any JSON Patch library.

Representation (``strict=False``, the default):

* a value that starts: ``{"op": "add", "path": P, "value": {} | [] | ""}`` for objects, arrays and
  strings (the root uses ``"path": ""``, which replaces the whole document); numbers, booleans and
  null are added once complete: ``{"op": "add", "path": P, "value": 42}``;
* string text as it arrives: ``{"op": "append", "path": P, "value": "more text"}``. **``append`` is
  an extension, not RFC 6902** (``add`` to ``/field/-`` only works for arrays): it means "concatenate
  ``value`` to the string at ``P``". A client applies it in one line (see ``docs/schema.md``);
* array items use their explicit index (``/items/3``), which for ``add`` appends at the end.

With ``strict=True`` only RFC 6902 operations are produced: string text becomes ``{"op": "replace",
"path": P, "value": <the whole text so far>}`` (quadratic in the string's length if it arrives in many
small deltas; coalesce deltas upstream if that matters).

It accepts core events (``ValueStart``/``StringDelta``/``ValueDone``) and schema events
(``FieldDone`` is handled like ``ValueDone``; other events are ignored). With schema events, a
completed scalar whose validated value differs from the streamed text (e.g. a stripped string) is
sent as a ``replace``; values that are not JSON types are converted with ``default`` (like
``json.dumps``'s ``default``; ``str`` unless given).
"""

from ._patch import PatchBuilder, apply_append, to_patches

__all__ = ["PatchBuilder", "apply_append", "to_patches"]
