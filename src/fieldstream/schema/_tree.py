"""The schema tree: a Pydantic core schema walked once into nodes that the stream follows.

Each :class:`Node` describes one position of the document (a model field, a list item, a dict value,
a tagged-union branch...). It knows how its children are reached (``fields``/``item``/``value``/
``choices``), whether string text may be streamed, and how to validate a completed value with
Pydantic's own machinery (a :class:`pydantic_core.SchemaValidator` built lazily from the node's
sub-schema, the model's definitions and the enclosing model's config). Trees are cached per type.

Anything whose input the schema transforms before validation (``mode="before"``/``"wrap"``/
``"plain"`` validators, plain unions, callable discriminators, ``AliasPath``) is *opaque*: it is
validated as a whole when it completes and its inside gets no per-field validation.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import SchemaError as SchemaBuildError
from pydantic_core import SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from ._policy import NOT_NULL, flags_of

__all__ = ["Node", "errors_of", "relocate", "tree_for"]

# Node kinds.
LEAF = 0  # scalar position (or a container validated only as a whole)
MODEL = 1
LIST = 2
DICT = 3
TUPLE = 4
TAGGED = 5
OPAQUE = 6  # validated as a whole; children are raw
RAW = 7  # inside an opaque value or an ``Any``: no validation, events pass through
IGNORED = 8  # an unknown key that the model ignores: no events

_WRAPPERS = ("default", "nullable", "function-after")
_OPAQUE_FUNCS = ("function-before", "function-wrap", "function-plain")
_STR_CONFIG = ("str_strip_whitespace", "str_to_lower", "str_to_upper", "str_max_length", "str_min_length")
_PLAIN_KEYS = frozenset({"type", "ref", "metadata", "strict", "serialization"})
_FAST_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (float,), "bool": (bool,)}
_LIST_KEYS = frozenset({"type", "items_schema", "ref", "metadata"})
_DICT_KEYS = frozenset({"type", "keys_schema", "values_schema", "ref", "metadata"})
# A root model's own node attributes (the rest are its root type's).
_OWN = ("_validator", "schema", "defs", "config")  # every node's own (its validator)
_ROOT_OWN = frozenset((*_OWN, "cls", "root_model", "kind", "fast", "fastc", "stream"))


def _fast_capable(node: Node) -> bool:
    """True if a value at ``node`` is validated on its own when it completes, by its own
    sub-schema (with the same config as inside its container): then a plain list/dict of such
    values is the list/dict of their validated values, with no second pass through Pydantic."""
    return node.kind in (LEAF, MODEL, LIST, DICT, TUPLE, TAGGED, OPAQUE) or (
        node.kind == RAW and node is not _RAW)


class Node:
    """One schema position; see the module docstring."""

    __slots__ = (
        "_validator", "cap", "choices", "cls", "config", "defs", "discriminator", "extra", "extra_node",
        "fast", "fastc",
        "fields", "gate", "item", "items", "kind", "names", "policy", "required", "root_model", "schema",
        "stream", "value",
    )

    def __init__(self, kind: int, schema: cs.CoreSchema | None, defs: list[cs.CoreSchema],
                 config: cs.CoreConfig | None) -> None:
        self.kind = kind
        self.schema = schema
        self.defs = defs
        self.config = config
        self._validator: SchemaValidator | None = None
        self.fast: tuple[type, ...] | None = None  # identity-valid Python types (None: always validate)
        self.stream = False  # string text streams as StringDelta
        # A plain list/dict of items validated on their own: its validated value is the list/dict
        # of its validated items, so it needs no second pass through Pydantic.
        self.fastc = False
        self.fields: dict[str, Node] = {}  # MODEL: JSON key -> node
        self.names: dict[str, str] = {}  # MODEL: JSON key -> field name
        self.required: list[str] = []  # MODEL: JSON keys of required fields
        self.extra = "ignore"
        self.extra_node: Node | None = None
        self.cls: Any = None
        self.root_model = False
        self.item: Node | None = None  # LIST items, TUPLE variadic tail
        self.items: tuple[Node, ...] = ()  # TUPLE positional items
        # LIST/TUPLE: with more items than this, Pydantic reports only ``too_long`` for the container
        # and none of its items' errors (a fixed-length tuple, a list with ``max_length``).
        self.cap: int | None = None
        self.value: Node | None = None  # DICT values
        self.choices: dict[Any, Node] = {}  # TAGGED
        self.discriminator = ""
        self.policy: dict[str, int] | None = None  # MODEL: JSON key -> streaming policy bits (._policy)
        self.gate: frozenset[str] = frozenset()  # MODEL: keys marked Stream.not_null

    def __repr__(self) -> str:
        names = ["leaf", "model", "list", "dict", "tuple", "tagged", "opaque", "raw", "ignored"]
        return f"<Node {names[self.kind]} {self.schema and self.schema.get('type')}>"

    def child(self, key: str | int) -> Node:
        """The node for the child ``key`` of a container value at this node."""
        kind = self.kind
        if kind == MODEL:
            node = self.fields.get(key)  # type: ignore[arg-type]
            if node is not None:
                return node
            return self.extra_node if self.extra_node is not None else _IGNORED
        if kind == LIST:
            assert self.item is not None
            return self.item
        if kind == DICT:
            assert self.value is not None
            return self.value
        if kind == TUPLE:
            if isinstance(key, int) and key < len(self.items):
                return self.items[key]
            return self.item if self.item is not None else _RAW
        if kind == IGNORED:
            return self
        return _RAW

    def fits(self, is_object: bool) -> bool:
        """False if a JSON object (``is_object``) or array here is the wrong kind of container: an
        array where a model/dict belongs, an object where a list/tuple belongs. Pydantic then
        rejects the container as a whole (``dict_type``, ``list_type``...) and never looks inside,
        so its members must not be followed with this node's children."""
        kind = self.kind
        if kind in (MODEL, DICT, TAGGED):
            return is_object
        if kind in (LIST, TUPLE):
            return not is_object
        return True

    @property
    def validator(self) -> SchemaValidator:
        """The Pydantic validator for a completed value here (built on first use, then cached)."""
        v = self._validator
        if v is None:
            assert self.schema is not None
            v = self._validator = _make_validator(self.schema, self.defs, self.config)
        return v

    def validate(self, value: Any) -> Any:
        """Validate a completed JSON value (as JSON: strict/lax rules are those of ``validate_json``)."""
        fast = self.fast
        if fast is not None and type(value) in fast:
            return value
        if self.schema is None:
            return value
        # allow_nan: a number that overflowed to inf (1e400) is re-sent as ``Infinity``, which
        # pydantic's JSON parser reads as the same inf that model_validate_json("1e400") gives.
        return self.validator.validate_json(json.dumps(value, ensure_ascii=False, allow_nan=True))


def _make_validator(schema: cs.CoreSchema, defs: list[cs.CoreSchema],
                    config: cs.CoreConfig | None) -> SchemaValidator:
    """A validator for a sub-schema: with the model's definitions when it needs them."""
    if not defs:
        return SchemaValidator(schema, config)
    ref = schema.get("ref")
    top = cs.definition_reference_schema(ref) if ref and any(d.get("ref") == ref for d in defs) else schema
    try:
        return SchemaValidator(cs.definitions_schema(top, defs), config)
    except SchemaBuildError:  # a definition is also inlined in ``schema``
        return SchemaValidator(schema, config)


_RAW = Node(RAW, None, [], None)
_RAW.stream = True
_RAW.fast = (str, int, float, bool, type(None), dict, list)
_IGNORED = Node(IGNORED, None, [], None)
_ANY = Node(RAW, None, [], None)  # an allowed extra member: reported (FieldDone), never rejected
_ANY.stream = True
_ANY.fast = _RAW.fast


def _share(pure: Node, node: Node) -> None:
    """Give ``node`` the structure of the model node ``pure`` (not its validator)."""
    for name in Node.__slots__:
        if name not in ("_validator", "schema", "defs", "config", "fast", "stream"):
            setattr(node, name, getattr(pure, name))


class _Builder:
    def __init__(self, defs: dict[str, cs.CoreSchema], deflist: list[cs.CoreSchema]) -> None:
        self.defs = defs
        self.deflist = deflist
        self.by_ref: dict[str, Node] = {}
        self.building: dict[Any, list[Node]] = {}  # refs of the models being built -> their copies

    def resolve(self, schema: cs.CoreSchema) -> cs.CoreSchema:
        while schema["type"] == "definition-ref":
            schema = self.defs[schema["schema_ref"]]
        if schema["type"] == "definitions":
            for d in schema["definitions"]:
                self.defs.setdefault(d["ref"], d)
            return self.resolve(schema["schema"])
        return schema

    def build(self, schema: cs.CoreSchema, config: cs.CoreConfig | None) -> Node:
        """Node for ``schema`` (validated with ``config``)."""
        outer = schema
        inner = self.resolve(schema)
        # Peel wrappers that keep the input shape: the whole is validated by ``outer``.
        nullable = False
        after = False
        while inner["type"] in _WRAPPERS:
            if inner["type"] == "nullable":
                nullable = True
            elif inner["type"] == "function-after":
                after = True
            inner = self.resolve(inner["schema"])
        t = inner["type"]
        if t == "model":
            ref = inner.get("ref")
            pure = self.by_ref.get(ref) if ref else None
            if pure is None:
                copies: list[Node] = []  # made while it is built (references inside a recursive model)
                if ref:
                    self.building[ref] = copies
                pure = self._model(inner, inner, config)
                self.building.pop(ref, None)
                for copy in copies:  # share what was set after they were made (policy, gate, kind...)
                    _share(pure, copy)
            if outer is inner:
                return pure
            # Same structure (shared, possibly still being built for recursive models), own validator.
            node = Node(pure.kind, outer, self.deflist, config)
            _share(pure, node)
            if ref in self.building:
                self.building[ref].append(node)
            return node
        node = Node(LEAF, outer, self.deflist, config)
        if t in _OPAQUE_FUNCS or t == "union":
            node.kind = OPAQUE
            return node
        if t == "any":
            node.kind = RAW
            node.stream = True
            node.fast = _RAW.fast
            node.schema = outer if outer is not inner else None
            if node.schema is not None:
                node.fast = None
            return node
        if t == "tagged-union":
            disc = inner.get("discriminator")
            if not isinstance(disc, str):
                node.kind = OPAQUE
                return node
            node.kind = TAGGED
            node.discriminator = disc
            node.choices = {tag: self.build(ch, config) for tag, ch in inner["choices"].items()}
            return node
        if t == "list" or t in ("set", "frozenset"):
            node.kind = LIST
            node.item = self.build(inner.get("items_schema", cs.any_schema()), config)
            node.fastc = (t == "list" and outer is inner and set(inner) <= _LIST_KEYS
                          and _fast_capable(node.item))
            if t == "list":
                node.cap = inner.get("max_length")
            return node
        if t == "dict":
            node.kind = DICT
            node.value = self.build(inner.get("values_schema", cs.any_schema()), config)
            keys = inner.get("keys_schema")
            node.fastc = (outer is inner and set(inner) <= _DICT_KEYS and _fast_capable(node.value)
                          and (keys is None or keys == {"type": "str"}))
            return node
        if t == "tuple":
            node.kind = TUPLE
            items = inner.get("items_schema", [])
            vi = inner.get("variadic_item_index")
            if vi is None:
                node.items = tuple(self.build(s, config) for s in items)
                node.cap = len(node.items)
            elif vi < len(items) - 1:
                # Items after the variadic part (``tuple[int, *tuple[int, ...], str]``): which schema an
                # item gets depends on the tuple's final length, unknown while it streams.
                node.kind = OPAQUE  # validated as a whole
            else:
                node.items = tuple(self.build(s, config) for s in items[:vi])
                node.item = self.build(items[vi], config)
            return node
        # A scalar position.
        plain = set(inner) <= _PLAIN_KEYS and not inner.get("strict")
        if t == "str":
            str_cfg = config is not None and any(config.get(k) for k in _STR_CONFIG)
            if plain and not str_cfg:
                node.stream = True
                if not after:
                    node.fast = (str,)
        elif t in _FAST_TYPES and plain and not after and not (
                t == "float" and config is not None and config.get("allow_inf_nan") is False):
            node.fast = _FAST_TYPES[t]  # (an overflowed 1e400 is inf: not finite for allow_inf_nan=False)
        if nullable and node.fast is not None:
            node.fast = (*node.fast, type(None))
        return node

    def _model(self, outer: cs.CoreSchema, model: cs.CoreSchema, config: cs.CoreConfig | None) -> Node:
        mconfig: cs.CoreConfig | None = model.get("config") or config
        node = Node(MODEL, outer, self.deflist, config)
        node.cls = model["cls"]
        if model.get("ref"):
            self.by_ref[model["ref"]] = node
        inner = self.resolve(model["schema"])
        if model.get("root_model"):
            root = self.build(model["schema"], mconfig)
            # The root's children are validated by the root type's own nodes.
            node.kind = root.kind if root.kind not in (LEAF, RAW) else OPAQUE
            node.root_model = True
            for name in Node.__slots__:
                if name in _ROOT_OWN:
                    continue
                setattr(node, name, getattr(root, name))
            return node
        if inner["type"] != "model-fields" or model.get("custom_init"):
            node.kind = OPAQUE
            return node
        populate = bool(mconfig and (mconfig.get("validate_by_name") or mconfig.get("populate_by_name")))
        required: list[str] = []
        node.required = required
        node.extra = inner.get("extra_behavior") or (mconfig or {}).get("extra_fields_behavior") or "ignore"
        if node.extra == "allow":
            extras = inner.get("extras_schema")
            node.extra_node = self.build(extras, mconfig) if extras is not None else _ANY
        elif node.extra == "forbid":
            node.extra_node = _IGNORED
        for name, field in inner["fields"].items():
            alias = field.get("validation_alias")
            keys: list[str]
            if alias is None:
                keys = [name]
            elif isinstance(alias, str):
                keys = [alias]
            elif all(len(a) == 1 and isinstance(a[0], str) for a in alias):
                keys = [a[0] for a in alias]
            else:  # AliasPath: the field's input is not one member
                node.kind = OPAQUE
                return node
            if populate and name not in keys:
                keys.append(name)
            info = getattr(node.cls, "model_fields", {}).get(name)
            flags = flags_of(info.metadata) if info is not None else 0
            if flags:
                if node.policy is None:
                    node.policy = {}
                for k in keys:
                    node.policy[k] = flags
                if flags & NOT_NULL:
                    node.gate = node.gate | frozenset(keys)
            child = self.build(field["schema"], mconfig)
            for k in keys:
                node.fields[k] = child
                node.names[k] = name
            if self.resolve(field["schema"])["type"] != "default":
                required.append(keys[0])
        return node


_CACHE: dict[Any, Node] = {}


def tree_for(tp: Any) -> Node:
    """The (cached) root node for ``tp``."""
    try:
        hit = _CACHE.get(tp)
    except TypeError:  # unhashable annotation
        hit = None
    if hit is not None:
        return hit
    schema = TypeAdapter(tp).core_schema  # only for its core schema: not kept
    defs: dict[str, cs.CoreSchema] = {}
    if schema["type"] == "definitions":
        for d in schema["definitions"]:
            defs[d["ref"]] = d
    node = _Builder(defs, list(defs.values())).build(schema, None)
    try:
        _CACHE[tp] = node
    except TypeError:
        pass
    return node


def relocate(errors: list[Any], prefix: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Pydantic error dicts with ``loc`` made absolute (``prefix`` + the error's own loc)."""
    out: list[dict[str, Any]] = []
    for e in errors:
        d = dict(e)
        d["loc"] = (*prefix, *e["loc"])
        d.pop("url", None)
        out.append(d)
    return out


def errors_of(exc: ValidationError) -> list[Any]:
    """Error dicts of a ValidationError (without the docs URL)."""
    return list(exc.errors(include_url=False))
