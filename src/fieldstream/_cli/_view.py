"""What a viewer shows of an agent run: :class:`RunState` folds typed agent events.

The terminal demo folds the events of :meth:`fieldstream.agents.Agent.stream` directly (no SSE text
is written and re-parsed in one process, so nothing inside a value can be taken for a frame). The
web page (``web/static/index.html``) applies the same rules to SSE frames, reading their ``path``
arrays. Paths of the ``final_result`` call are the result's own; in the ``think`` call the result
may come inline under ``final_result`` (path ``("final_result", ...)``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..agents import AgentEvent, Chunk, Field, Result, RunError, StreamEnd, StreamStart

__all__ = ["FieldView", "RunState", "result_path", "top_level_fields"]


def top_level_fields(model: type[BaseModel]) -> list[tuple[str, bool]]:
    """``(json key, is_list)`` for each field of ``model`` in declaration order."""
    schema = model.model_json_schema(by_alias=True)
    return [(name, prop.get("type") == "array") for name, prop in schema.get("properties", {}).items()]


def result_path(call_type: str, path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """The path relative to the result, or ``None`` when the event is not about the result."""
    if call_type == "final_result":
        return path
    if call_type == "think" and len(path) > 1 and path[0] == "final_result":
        return path[1:]
    return None


@dataclass
class FieldView:
    """What a viewer shows for one top-level field."""

    name: str
    is_list: bool
    text: str = ""
    items: list[str] = field(default_factory=list)
    items_done: list[bool] = field(default_factory=list)
    value: Any = None
    done: bool = False
    valid: bool | None = None
    errors: list[Any] = field(default_factory=list)
    started: bool = False

    def item(self, idx: int) -> None:
        while len(self.items) <= idx:
            self.items.append("")
            self.items_done.append(False)


@dataclass
class RunState:
    """The folded state of one agent run (see the module docstring)."""

    fields: dict[str, FieldView]
    think: str = ""
    phase: str = "waiting"  # waiting, think, final_result, finishing, done, error
    result: Any = None
    error: str | None = None
    events: int = 0

    @classmethod
    def for_model(cls, model: type[BaseModel]) -> RunState:
        """An empty state with one view per field of ``model``."""
        return cls({name: FieldView(name, is_list) for name, is_list in top_level_fields(model)})

    def apply(self, ev: AgentEvent) -> None:
        """Fold one agent event into the state."""
        self.events += 1
        if isinstance(ev, StreamStart):
            self.phase = ev.call_type
        elif isinstance(ev, Chunk):
            path = result_path(ev.call_type, ev.path)
            if path is None:
                if ev.call_type == "think":
                    self.think += ev.delta
                return
            self._chunk(path, ev.delta)
        elif isinstance(ev, Field):
            path = result_path(ev.call_type, ev.path)
            if path:
                self._field(path, ev.to_json())
        elif isinstance(ev, StreamEnd):
            if ev.call_type == "final_result":
                self.phase = "finishing"
        elif isinstance(ev, Result):
            self._result(ev.to_json()["result"])
        elif isinstance(ev, RunError):
            self.phase = "error"
            self.error = f"{type(ev.error).__name__}: {ev.error}"

    def _chunk(self, path: tuple[str | int, ...], delta: str) -> None:
        view = self.fields.get(str(path[0])) if path else None
        if view is None or view.done or not delta:
            return
        view.started = True
        if view.is_list and len(path) > 1 and isinstance(path[1], int):
            view.item(path[1])
            view.items[path[1]] += delta
        elif not view.is_list and len(path) == 1:
            view.text += delta

    def _field(self, path: tuple[str | int, ...], data: dict[str, Any]) -> None:
        view = self.fields.get(str(path[0]))
        if view is None:
            return
        valid = bool(data.get("valid", True))
        if len(path) == 1:
            view.started = True
            view.done = True
            view.valid = valid
            view.errors = list(data.get("errors") or [])
            view.value = data.get("value")
            if valid:
                self._set_value(view, view.value)
        elif view.is_list and isinstance(path[1], int) and len(path) == 2:
            view.item(path[1])
            value = data.get("value")
            if valid and value is not None:
                view.items[path[1]] = value if isinstance(value, str) else json.dumps(value)
            view.items_done[path[1]] = True
            view.started = True

    def _result(self, result: Any) -> None:
        self.result = result
        self.phase = "done"
        if isinstance(result, dict):
            for name, view in self.fields.items():
                if name in result:
                    view.started = True
                    view.done = True
                    if view.valid is None:
                        view.valid = True
                    view.value = result[name]
                    self._set_value(view, result[name])

    @staticmethod
    def _set_value(view: FieldView, value: Any) -> None:
        if view.is_list and isinstance(value, list):
            view.items = [v if isinstance(v, str) else json.dumps(v) for v in value]
            view.items_done = [True] * len(value)
        elif not view.is_list:
            view.text = value if isinstance(value, str) else json.dumps(value)
