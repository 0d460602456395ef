"""Pydantic models used by the schema fuzz target (nested models, lists, optionals, literals,
enums, unions, dicts, aliases and defaults: the shapes structured LLM output takes)."""

from __future__ import annotations

import enum
from typing import Literal

from pydantic import BaseModel, Field


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Item(BaseModel):
    name: str
    qty: int = 1
    price: float | None = None


class Order(BaseModel):
    id: int
    customer: str
    items: list[Item]
    tags: list[str] = []
    status: Literal["open", "closed"] = "open"
    meta: dict[str, int] = {}
    notes: str | None = None
    urgent: bool = False


class Step(BaseModel):
    title: str = Field(alias="stepTitle")
    done: bool
    priority: Priority = Priority.LOW
    sub: list[Step] = []


class Answer(BaseModel):
    answer: str
    confidence: float
    sources: list[str | int]
    steps: list[Step] = []
    extra: dict[str, list[float]] | None = None


MODELS: dict[str, type[BaseModel]] = {"Order": Order, "Answer": Answer, "Item": Item}
