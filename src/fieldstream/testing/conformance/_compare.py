"""How values are compared: strict equality, "grows into", and number flicker.

Equality is strict about JSON kinds: ``1``, ``1.0`` and ``True`` are three different values (Python's
``==`` says they are equal), ``-0.0`` differs from ``0.0``, object key order does not matter (it does
not in JSON). Floats are compared by value, never with a tolerance: ``json.loads`` is exact, so a
parser that is not is wrong.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["copy_value", "describe", "flickers", "grows", "kind", "render_path", "same"]

Path = tuple[str | int, ...]


_KINDS: dict[type, str] = {type(None): "null", bool: "boolean", int: "integer", float: "float",
                           str: "string", list: "array", dict: "object"}


def kind(value: Any) -> str:
    """The JSON kind of a Python value (``"other:Decimal"`` for anything json.loads never returns)."""
    exact = _KINDS.get(type(value))  # the common case: one dict lookup
    if exact is not None:
        return exact
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return f"other:{type(value).__name__}"


def _is_number(k: str) -> bool:
    return k in ("integer", "float")


def render_path(path: Path) -> str:
    """``$.a[0]`` style, for messages."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if part.isidentifier() else f"[{part!r}]"
    return out


def copy_value(value: Any) -> Any:
    """A deep copy of lists and dicts (tuples become lists); everything else is shared (immutable)."""
    if isinstance(value, dict):
        return {k: copy_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [copy_value(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """Strict JSON equality (see the module docstring)."""
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return False
    if ka == "float":
        return bool(a == b and math.copysign(1.0, a) == math.copysign(1.0, b)) or (a != a and b != b)
    if ka == "array":
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if ka == "object":
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def describe(value: Any, limit: int = 120) -> str:
    """``repr`` cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def grows(a: Any, b: Any, path: Path = ()) -> str | None:
    """``None`` if partial value ``a`` can become ``b`` by appending (strings grow as prefixes,
    containers only gain members, everything else stays), else why not.

    Numbers may change value (that is *flicker*, see :func:`flickers`) but not kind."""
    ka, kb = kind(a), kind(b)
    if _is_number(ka) and _is_number(kb):
        return None
    if ka != kb:
        return f"at {render_path(path)}: {ka} {describe(a, 40)} became {kb} {describe(b, 40)}"
    if ka == "string":
        if b.startswith(a):
            return None
        return f"at {render_path(path)}: string {describe(a, 50)} is not a prefix of {describe(b, 50)}"
    if ka == "array":
        if len(a) > len(b):
            return f"at {render_path(path)}: array shrank from {len(a)} to {len(b)} items"
        for i, item in enumerate(a):
            why = grows(item, b[i], (*path, i))
            if why:
                return why
        return None
    if ka == "object":
        for key, item in a.items():
            if key not in b:
                return f"at {render_path(path)}: key {key!r} vanished"
            why = grows(item, b[key], (*path, key))
            if why:
                return why
        return None
    return None if same(a, b) else f"at {render_path(path)}: {describe(a, 40)} became {describe(b, 40)}"


def flickers(partial: Any, final: Any, path: Path = ()) -> list[tuple[Path, Any, Any]]:
    """Numbers shown in ``partial`` that are not the number at the same path of ``final``:
    ``(path, shown, final)`` for each (e.g. ``12`` shown while ``123`` was being written)."""
    kp, kf = kind(partial), kind(final)
    if _is_number(kp):
        return [] if not _is_number(kf) or same(partial, final) else [(path, partial, final)]
    out: list[tuple[Path, Any, Any]] = []
    if kp == "array" and kf == "array":
        for i, item in enumerate(partial[: len(final)]):
            out.extend(flickers(item, final[i], (*path, i)))
    elif kp == "object" and kf == "object":
        for key, item in partial.items():
            if key in final:
                out.extend(flickers(item, final[key], (*path, key)))
    return out
