"""Continuation retries: the valid prefix of a rejected answer, and whether continuing is safe.

When a value fails validation mid-stream, everything the model wrote before that value's member is
valid (the schema layer validates each value the moment it completes, and fails fast on the first
invalid one). ``Agent(retry_mode="continue")`` keeps that prefix, asks the model for the rest, and
feeds the rest into a schema stream rebuilt from the prefix (:func:`valid_prefix` cuts it).

The cut is found with the core parser: the text is fed one character at a time (only on this retry
path; O(n) feed calls for an answer of n characters), and the prefix ends right after the last
completed sibling before the rejected member (or right after its container's opening bracket when
it was the first member). Separators and whitespace after that point are dropped, so the model
continues with ``, "next_key": ...`` (or ``"first_key": ...``).
"""

from __future__ import annotations

from .. import Parser, SchemaError, SchemaErrorKind, StreamError, ValueDone, ValueStart
from .._path import Path

__all__ = ["CONTINUE_KINDS", "valid_prefix"]

#: Schema failures a continuation can repair: a value that failed validation, a key the model forbids.
#: Not ``missing`` (the object already closed), ``incomplete`` or broken JSON (a full retry).
CONTINUE_KINDS = frozenset({SchemaErrorKind.INVALID, SchemaErrorKind.EXTRA_FORBIDDEN})


def valid_prefix(text: str, path: Path) -> str | None:
    """The longest prefix of ``text`` that ends before the member at ``path`` (non-root), or ``None``
    when there is none worth keeping (the root is invalid, the text does not reach ``path``, or the
    rejected member is the first value of the document: nothing would be saved)."""
    if not path:
        return None
    parent = path[:-1]
    p = Parser()
    cut = -1
    completed = 0  # values completed before the cut (0: nothing worth keeping)
    done = 0
    try:
        for i, c in enumerate(text):
            for ev in p.feed(c):
                if type(ev) is ValueStart:
                    if ev.path == parent and cut < 0:
                        cut = i + 1  # right after the container's opening bracket
                        completed = done
                    elif ev.path == path:
                        return text[:cut].rstrip(" \t\n\r,") if cut >= 0 and completed else None
                elif type(ev) is ValueDone:
                    done += 1
                    if len(ev.path) == len(path) and ev.path[:-1] == parent:
                        cut = i + 1  # after a completed sibling (its terminator is stripped below)
                        completed = done
    except StreamError:
        return None
    return None


def can_continue(error: BaseException) -> bool:
    """Whether a rejected answer may be continued rather than regenerated (see the module doc)."""
    return isinstance(error, SchemaError) and error.kind in CONTINUE_KINDS and bool(error.path)
