"""Per-field streaming policy: ``Annotated`` markers on ordinary Pydantic model fields.

``Annotated[str, Stream.done]`` and friends are plain metadata objects: Pydantic keeps them in the
field's ``FieldInfo.metadata`` and ignores them for validation (the model validates exactly as
without them). The schema tree (:mod:`._tree`) reads them once per model into a bit set per JSON key
(``Node.policy``), which :class:`~fieldstream.schema.SchemaStream` consults when a member starts.
A model without markers costs nothing (``Node.policy`` is ``None``). The exact semantics are in
``docs/schema.md`` ("Streaming policy per field").
"""

from __future__ import annotations

from typing import Final

__all__ = ["DONE", "NOT_NULL", "WITH_STATE", "Stream", "StreamPolicy", "flags_of"]

DONE: Final = 1
WITH_STATE: Final = 2
NOT_NULL: Final = 4


class StreamPolicy:
    """One marker (see :class:`Stream`); they combine: ``Annotated[str, Stream.done, Stream.with_state]``."""

    __slots__ = ("flag", "name")

    def __init__(self, name: str, flag: int) -> None:
        self.name = name
        self.flag = flag

    def __repr__(self) -> str:
        return f"Stream.{self.name}"


class Stream:
    """The markers, used as ``Annotated`` metadata on fields of a Pydantic model.

    * ``Stream.done``: the field is shown only once complete: no ``ValueStart``/``StringDelta``
      events for it or inside it, no ``FieldDone`` inside it, and it is absent from
      ``SchemaStream.partial`` until its own ``FieldDone`` (``FieldInvalid`` is always reported).
    * ``Stream.not_null``: the *object that has this field* is shown in ``partial`` only once this
      field has a valid, non-null value (or once the object is complete). Events are not held back.
    * ``Stream.with_state``: ``SchemaStream.partial_state[path]`` says ``"streaming"``, ``"done"``
      or ``"invalid"`` for the field (absent before it starts).
    """

    done: Final = StreamPolicy("done", DONE)
    with_state: Final = StreamPolicy("with_state", WITH_STATE)
    not_null: Final = StreamPolicy("not_null", NOT_NULL)


def flags_of(metadata: list[object]) -> int:
    """The policy bits of a field's ``FieldInfo.metadata``."""
    flags = 0
    for m in metadata:
        if isinstance(m, StreamPolicy):
            flags |= m.flag
    return flags
