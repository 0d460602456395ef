"""The demo's content: the ``StoryOutput`` schema, the default prompt, a scripted story, and its agent.

Shared by ``fieldstream demo`` (:mod:`fieldstream._cli.demo`) and the web demo (:mod:`fieldstream.web`);
depends on the agents layer only. :func:`scripted_model` replays :data:`STORY` through the offline
model (token-like deltas, no randomness), for tests and recordings that must not depend on a seed.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import BaseModel, Field

from .agents import Agent, Model, OfflineModel

__all__ = ["PROMPT", "STORY", "THINK", "StoryOutput", "make_agent", "scripted_model", "story_script"]


class StoryOutput(BaseModel):
    """A short fable, written by the demo agent."""

    title: str = Field(description="The title of the story")
    characters: list[str] = Field(description="Who appears in the story")
    content: str = Field(description="The story itself, a few sentences")
    moral: str = Field(description="The lesson of the story, one sentence")


PROMPT = "Write a short fable about a patient tortoise"  #: the demo's default query

STORY: dict[str, Any] = {  #: the scripted story (what :func:`scripted_model` streams)
    "title": "The Tortoise and the Lantern",
    "characters": ["Tortoise", "Hare", "Owl"],
    "content": "Every night the tortoise carried a lantern up the hill, slowly, so the owl could read.",
    "moral": "Steady kindness lights more than a quick flame.",
}

THINK = "I should write a fable. "  #: the scripted think step's reasoning


def story_script(story: dict[str, Any] | str = STORY, *, think: str = THINK) -> list[str]:
    """The raw model answers of one scripted run: the think step, then the story (a dict or raw JSON)."""
    step = json.dumps({"reasoning": think, "tool_calls": [], "is_complete": True, "final_result": None})
    return [step, story if isinstance(story, str) else json.dumps(story)]


def scripted_model(story: dict[str, Any] | str = STORY, *, think: str = THINK, pace: float = 0.0,
                   fail: BaseException | None = None) -> OfflineModel:
    """An offline model that streams :func:`story_script` (``fail``: raise it after the story's first
    half instead of finishing)."""
    script: list[Any] = list(story_script(story, think=think))
    if fail is not None:
        script[1] = (script[1][: len(script[1]) // 2], fail)
    return OfflineModel(pace=pace, script=script)


def make_agent(model: Model | str | None = None, *, seed: int = 7, pace: float | None = None,
               output_schema: type[BaseModel] = StoryOutput, max_output_retries: int = 2) -> Agent:
    """The demo agent: ``StoryOutput`` on the offline model unless ``model``/``FIELDSTREAM_MODEL`` say so.

    ``model="scripted"`` replays :data:`STORY`; ``seed``/``pace`` configure the offline model.
    """
    resolved: Model | str = model if model is not None else (os.environ.get("FIELDSTREAM_MODEL") or "offline")
    if resolved == "offline":
        resolved = OfflineModel(seed=seed) if pace is None else OfflineModel(seed=seed, pace=pace)
    elif resolved == "scripted":
        resolved = scripted_model(pace=0.01 if pace is None else pace)
    return Agent(name="StoryAgent", output_schema=output_schema, enable_streaming=True, model=resolved,
                 max_output_retries=max_output_retries)
