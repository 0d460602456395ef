"""The adapter protocol: how the suite talks to the parser under test.

A parser is plugged in through a *factory*: a callable with no arguments (a function or a class)
that returns a fresh :class:`Adapter` for one document. The suite calls it once per document and
chunking, feeds the deltas with :meth:`Adapter.feed`, then calls :meth:`Adapter.close`.

Optional attributes, read from the adapter instance (or, failing that, from the factory):

* ``name`` (str): shown in reports; default: the factory's qualified name.
* ``version`` (str): the version of the library under test; default ``""``.
* ``accepts_bytes`` (bool): ``feed`` also takes UTF-8 ``bytes`` deltas (split anywhere, even inside
  a character); enables the UTF-8 check. Default ``False``.
* ``note`` (str): one line on how the adapter uses the library (shown in the Markdown report).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

__all__ = ["Adapter", "AdapterFactory", "adapter_info"]


@runtime_checkable
class Adapter(Protocol):
    """One document's worth of a streaming/partial JSON parser."""

    def feed(self, delta: str | bytes) -> Any:
        """Consume the next delta; return the partial value the parser would show now, or ``None``
        if it shows nothing yet. May raise as soon as the input is known to be invalid.

        The value may be a live structure that changes later: the suite copies it at once."""

    def close(self) -> Any:
        """End of input: return the final value, or raise (any exception) if the input was invalid
        or truncated."""


AdapterFactory = Callable[[], Adapter]


def adapter_info(factory: Callable[[], Any]) -> dict[str, Any]:
    """``name``, ``version``, ``accepts_bytes`` and ``note`` of an adapter (see the module docstring),
    from one instance made by ``factory``."""
    inst = factory()
    if not callable(getattr(inst, "feed", None)) or not callable(getattr(inst, "close", None)):
        raise TypeError(f"{factory!r}() returned {type(inst).__name__}, which has no feed()/close()")

    def attr(name: str, default: Any) -> Any:
        return getattr(inst, name, getattr(factory, name, default))

    qualname = getattr(factory, "__qualname__", type(inst).__name__)
    return {
        "name": str(attr("name", qualname)),
        "version": str(attr("version", "")),
        "accepts_bytes": bool(attr("accepts_bytes", False)),
        "note": str(attr("note", "")),
    }
