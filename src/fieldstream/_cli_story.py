"""The demo's schema and the client-side model of an agent's SSE stream (shared by CLI and web).

:class:`RunState` folds the frames of :func:`fieldstream.agents.sse.event_stream` (``stream_start``,
``chunk``, ``field``, ``stream_end``, ``result``, ``error``) into what a viewer shows: the think text,
and per top-level field of the result its text so far (or its list items), and whether it is done
and valid. ``web/static/index.html`` implements the same folding in JavaScript.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from ._path import parse_path

__all__ = ["FieldView", "RunState", "StoryOutput", "make_agent", "parse_sse", "top_level_fields"]


class StoryOutput(BaseModel):
    """A short fable, written by the demo agent."""

    title: str = Field(description="The title of the story")
    characters: list[str] = Field(description="Who appears in the story")
    content: str = Field(description="The story itself, a few sentences")
    moral: str = Field(description="The lesson of the story, one sentence")


def top_level_fields(model: type[BaseModel]) -> list[tuple[str, bool]]:
    """``(json key, is_list)`` for each field of ``model`` in declaration order."""
    schema = model.model_json_schema(by_alias=True)
    return [(name, prop.get("type") == "array") for name, prop in schema.get("properties", {}).items()]


def split_path(json_path: str) -> tuple[str | int, ...]:
    """Path of a chunk/field frame, relative to the result: ``final_result.items[0]`` -> ``('items', 0)``."""
    text = json_path.strip()
    if text in ("", "$", "final_result", "$.final_result"):
        return ()
    for prefix in ("$.final_result.", "final_result.", "$."):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    try:
        segs = parse_path(text)
    except ValueError:
        return (text,)
    return tuple(s for s in segs if isinstance(s, (str, int)))


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


@dataclass
class RunState:
    """The folded state of one agent run (see the module docstring)."""

    fields: dict[str, FieldView]
    think: str = ""
    phase: str = "waiting"  # waiting, think, final_result, done, error
    result: Any = None
    error: str | None = None
    frames: int = 0

    @classmethod
    def for_model(cls, model: type[BaseModel]) -> RunState:
        """An empty state with one view per field of ``model``."""
        return cls({name: FieldView(name, is_list) for name, is_list in top_level_fields(model)})

    def apply(self, event: str, data: dict[str, Any]) -> None:
        """Fold one SSE frame into the state."""
        self.frames += 1
        call_type = data.get("call_type")
        if event == "stream_start":
            self.phase = str(call_type or self.phase)
        elif event == "chunk":
            delta = data.get("delta") or ""
            if call_type == "think":
                self.think += delta
                return
            path = split_path(str(data.get("json_path") or ""))
            if not path or not delta:
                return
            view = self.fields.get(str(path[0]))
            if view is None or view.done:
                return
            view.started = True
            if view.is_list and len(path) > 1 and isinstance(path[1], int):
                idx = path[1]
                while len(view.items) <= idx:
                    view.items.append("")
                    view.items_done.append(False)
                view.items[idx] += delta
            elif not view.is_list:
                view.text += delta
        elif event == "field":
            if call_type == "think":
                return
            path = split_path(str(data.get("json_path") or ""))
            if not path:
                return
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
                idx = path[1]
                while len(view.items) <= idx:
                    view.items.append("")
                    view.items_done.append(False)
                value = data.get("value")
                if valid and value is not None:
                    view.items[idx] = value if isinstance(value, str) else json.dumps(value)
                view.items_done[idx] = True
                view.started = True
        elif event == "stream_end":
            if call_type == "final_result":
                self.phase = "finishing"
        elif event == "result":
            self.result = data.get("result")
            self.phase = "done"
            if isinstance(self.result, dict):
                for name, view in self.fields.items():
                    if name in self.result:
                        view.started = True
                        view.done = True
                        if view.valid is None:
                            view.valid = True
                        view.value = self.result[name]
                        self._set_value(view, self.result[name])
        elif event == "error":
            self.phase = "error"
            self.error = f"{data.get('type', 'Error')}: {data.get('message', '')}"

    @staticmethod
    def _set_value(view: FieldView, value: Any) -> None:
        if view.is_list and isinstance(value, list):
            view.items = [v if isinstance(v, str) else json.dumps(v) for v in value]
            view.items_done = [True] * len(value)
        elif not view.is_list:
            view.text = value if isinstance(value, str) else json.dumps(value)


def parse_sse(frame: str) -> tuple[str, dict[str, Any]] | None:
    """Parse one SSE frame (``id:``/``event:``/``data:`` lines) into ``(event, data)``."""
    event = "message"
    data_lines: list[str] = []
    for line in frame.splitlines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].lstrip(" ") if line[5:6] == " " else line[5:])
    if not data_lines:
        return None
    try:
        data = json.loads("\n".join(data_lines))
    except ValueError:
        data = {"delta": "\n".join(data_lines)}
    return event, data if isinstance(data, dict) else {"value": data}


def make_agent(model: str | None = None, *, seed: int = 7, pace: float | None = None,
               output_schema: type[BaseModel] = StoryOutput) -> Any:
    """The demo agent: ``StoryOutput`` on the offline model unless ``model``/``FIELDSTREAM_MODEL`` say so.

    Raises :class:`ImportError` when the agents layer is not available.
    """
    agents = importlib.import_module("fieldstream.agents")
    name = model or os.environ.get("FIELDSTREAM_MODEL") or "offline"
    resolved: Any = name
    if name == "offline":
        offline = agents.OfflineModel
        resolved = offline(seed=seed) if pace is None else offline(seed=seed, pace=pace)
    return agents.Agent(name="StoryAgent", output_schema=output_schema, enable_streaming=True, model=resolved)


async def agent_frames(agent: Any, query: str, request: Any = None) -> AsyncIterator[str]:
    """The SSE frames of one run (the agents layer's ``event_stream``; ``request`` for disconnects)."""
    event_stream = importlib.import_module("fieldstream.agents.sse").event_stream
    async for frame in event_stream(agent, query, request=request):
        yield str(frame)
