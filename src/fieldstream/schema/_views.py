"""The typed partial view: one live object per open container, updated one member at a time.

Everything that builds or updates what :attr:`SchemaStream.partial` returns lives here. The rule:
each open container of the document has one :class:`Frame`, and the frame owns one *view* object
for the whole time the container is open (a model instance built without validation, a list, a
dict). A completed member is stored into its parent's view once (O(1)); the parent already holds
the child's view, so nothing is ever rebuilt and reading ``partial`` costs O(1) plus the open
string (see :class:`SchemaStream`). When a container completes, its validated value replaces its
view in the parent's view.

Containers without a typed position (inside ``Any``, inside a value validated only as a whole)
have no view of their own: the parent's view holds the parser's own live container there (the
parser's document is never copied).
"""

from __future__ import annotations

from typing import Any

from .._path import Path
from ._tree import DICT, LIST, MODEL, TAGGED, TUPLE, Node

MISSING: Any = object()


def construct(cls: Any, fields: dict[str, Any]) -> Any:
    """A model instance whose ``__dict__`` *is* ``fields``: no validation, no defaults (absent =
    missing), so that later members stored into ``fields`` show up in the instance."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", fields)
    object.__setattr__(obj, "__pydantic_fields_set__", set(fields))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class Frame:
    """An open container: where it is, its schema node, and its typed view."""

    __slots__ = ("failed", "gated", "held", "locprefix", "names", "node", "obj", "open_key", "path", "raw",
                 "restores", "view", "vnode")

    def __init__(self, path: Path, node: Node, locprefix: Path, names: Path) -> None:
        self.path = path
        self.node = node  # the node whose children we follow (a resolved branch for tagged unions)
        self.vnode = node  # validates the whole container when it closes
        self.locprefix = locprefix  # Pydantic ``loc`` of the container (tagged branches add the tag)
        self.names = names  # the path with Python field names
        self.failed = False  # a member failed: the container is re-validated to report it
        self.gated = False  # Stream.not_null: not in the parent's view until the field has a value
        # (dict, key, value): invalid members taken out of the parser's document, here or inside
        self.restores: list[tuple[dict[Any, Any], Any, Any]] | None = None
        self.open_key: Any = MISSING  # key of the member being parsed (for missing-field reports)
        self.raw: Any = None  # the parser's live container (looked up when first needed)
        # Node.cap: FieldInvalid events inside, reported only if the container is not too long
        self.held: list[Any] | None = [] if node.cap is not None else None
        self.view: Any = None  # the members' typed values (a model's ``__dict__``, a list, a dict)
        self.obj: Any = None  # what the parent's view holds for this container
        self.new_view()

    def new_view(self) -> None:
        """Start the typed view for the frame's (current) node."""
        node = self.node
        kind = node.kind
        if kind == MODEL:
            self.view = {}
            if node.root_model:  # a RootModel of a model: its root is the view (no validation)
                self.obj = node.cls.model_construct(root=self.view)
            else:
                self.obj = construct(node.cls, self.view)
                if node.extra == "allow":
                    object.__setattr__(self.obj, "__pydantic_extra__", {})
        elif kind in (LIST, TUPLE, DICT, TAGGED):
            self.view = {} if kind in (DICT, TAGGED) else []
            self.obj = node.cls.model_construct(root=self.view) if node.root_model else self.view
        else:
            self.view = None  # no typed position: the view is the parser's container (``raw``)
            self.obj = None

    def name_of(self, key: str | int) -> str | int:
        """The Python field name of member ``key`` (its JSON key unless the node is a model)."""
        node = self.node
        if node.kind == MODEL and isinstance(key, str):
            return node.names.get(key, key)
        return key

    def put(self, key: Any, value: Any) -> None:
        """Store a member's typed value (O(1)): by field name in a model, by key or index otherwise."""
        view = self.view
        if view is None:
            return
        if type(view) is dict:
            node = self.node
            if node.kind == MODEL:
                name = node.names.get(key)
                if name is None:
                    extra = None if node.root_model else self.obj.__pydantic_extra__
                    if extra is not None:
                        extra[key] = value
                    return
                view[name] = value
                if not node.root_model:
                    self.obj.__pydantic_fields_set__.add(name)
            else:
                view[key] = value
        elif isinstance(key, int) and key < len(view):
            view[key] = value
        else:
            view.append(value)

    def remove(self, key: Any) -> None:
        """Forget member ``key`` (an invalid object member, or the open string's slot)."""
        view = self.view
        if view is None:
            return
        if type(view) is dict:
            node = self.node
            if node.kind == MODEL:
                name = node.names.get(key)
                if name is None:
                    extra = None if node.root_model else self.obj.__pydantic_extra__
                    if extra is not None:
                        extra.pop(key, None)
                    return
                view.pop(name, None)
                if not node.root_model:
                    self.obj.__pydantic_fields_set__.discard(name)
            else:
                view.pop(key, None)
        elif isinstance(key, int) and key == len(view) - 1:
            view.pop()

    def present(self, name: str) -> bool:
        """True if the model field ``name`` has a (valid) member."""
        view = self.view
        return type(view) is dict and name in view
