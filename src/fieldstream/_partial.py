"""Partial documents: what :meth:`Parser.snapshot` returns while the input is still arriving.

The parser builds the document in place as it parses (a container enters its parent when it
opens, a scalar when it completes), so a snapshot is the live structure plus the text of the one
string that may be open. Rules:

* The open string's deltas are kept as a list of parts by the hot loop (appending to a list is the
  cheapest thing it can do per delta). :func:`settle_open_string` joins them only when someone asks,
  and appends the new parts to the previous text *in place*: it drops every reference the parser
  holds to that text first, so CPython can grow the string without copying it. A snapshot per delta
  therefore costs O(delta), not O(open string). If the caller still holds the previous text, CPython
  copies instead: strings stay immutable for everyone else. (This only works interpreted or under
  mypyc, not under Cython: measure a compiled build on the long-string job.)
* Partial numbers and literals never appear: a scalar enters the document when it is complete.
* ``copy=True`` is :func:`deep_copy`: iterative, so deep documents never hit the recursion limit.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Container", "deep_copy", "settle_open_string"]

Container = dict[str, Any] | list[Any]


def settle_open_string(parts: list[str], top: Any, key: str, inserted: bool) -> tuple[str, bool]:
    """Join the open string's ``parts`` into one text and store it in its parent ``top``.

    ``top`` is the innermost open container (``None``: the string is the root; typed ``Any`` because
    ``type(top) is dict`` is checked, not ``isinstance``, on this hot-ish path). ``parts`` is left
    holding exactly that text (one part). ``key`` is the pending key when ``top``
    is an object; ``inserted`` says whether the string already has its slot at the end of the array
    ``top``. Returns ``(text, inserted)``, the latter True once the text is in an array.
    """
    if len(parts) == 1:
        text = parts[0]
    elif not parts:
        text = ""
    else:
        # Drop the references the parser holds (the parts list and the slot in the parent) so that
        # ``text += piece`` can grow the string in place (see the module docstring).
        text = parts[0]
        rest = parts[1:]
        parts.clear()
        if top is not None:
            if type(top) is dict:
                top[key] = None
            elif inserted:
                top[-1] = None
        for piece in rest:
            text += piece
        parts.append(text)
    if top is None:
        return text, inserted
    if type(top) is dict:
        top[key] = text
    elif inserted:
        top[-1] = text
    else:
        top.append(text)
        inserted = True
    return text, inserted


def deep_copy(value: Any) -> Any:
    """Deep-copy a JSON value iteratively (no recursion limit for deep documents)."""
    if not isinstance(value, (dict, list)):
        return value
    out: Any = {} if isinstance(value, dict) else []
    work: list[tuple[Any, Any]] = [(value, out)]
    while work:
        src, dst = work.pop()
        if isinstance(src, dict):
            for k, v in src.items():
                if isinstance(v, (dict, list)):
                    nv: Any = {} if isinstance(v, dict) else []
                    work.append((v, nv))
                    dst[k] = nv
                else:
                    dst[k] = v
        else:
            for v in src:
                if isinstance(v, (dict, list)):
                    nv = {} if isinstance(v, dict) else []
                    work.append((v, nv))
                    dst.append(nv)
                else:
                    dst.append(v)
    return out
