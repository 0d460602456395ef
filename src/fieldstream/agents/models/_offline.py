"""An offline model: schema-valid, readable JSON for any JSON schema, streamed in token-like deltas.

No key, no network. The answer is a deterministic function of ``seed``, the messages and the schema,
so concurrent runs with different inputs get different (and reproducible) answers. ``script=``
replays fixed responses instead (for tests and demos): each entry is the raw text of one answer, an
exception to raise, or ``(text, exception)`` to stream ``text`` and then fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any

from ..._errors import ModelError
from ..base.context import Usage
from . import Message

__all__ = ["OfflineModel", "tokenize"]

_TOKEN = re.compile(r"\s*[A-Za-z0-9_]+|\s*\\.|\s*[^\sA-Za-z0-9_\\]|\s+")

_ADJ = ["clever", "patient", "proud", "tiny", "old", "restless", "gentle", "hungry", "brave", "quiet"]
_ANIMALS = ["fox", "tortoise", "crow", "hare", "ant", "lion", "mouse", "owl", "goat", "heron"]
_PLACES = ["river", "old oak", "meadow", "hill", "well", "orchard", "marsh", "village gate"]
_VERBS = ["wandered to", "waited by", "raced toward", "slept beneath", "searched near", "sang beside"]
_MORALS = [
    "Slow and steady wins the race.", "Pride comes before a fall.", "Kindness is never wasted.",
    "Look before you leap.", "Many hands make light work.", "Honesty is the best policy.",
]
_WORDS = ["river", "lantern", "garden", "signal", "harbor", "amber", "meadow", "compass", "orbit", "willow"]
_CITIES = ["Lisbon", "Oslo", "Kyoto", "Lima", "Nairobi", "Tallinn", "Hobart", "Quito"]
_NAMES = ["Ada", "Bruno", "Chiara", "Dmitri", "Esme", "Farid", "Greta", "Hugo"]


def tokenize(text: str) -> list[str]:
    """Split ``text`` into token-like pieces (a word with its leading space, an escape, a symbol)."""
    return _TOKEN.findall(text)


class _Gen:
    def __init__(self, rng: random.Random, root: dict[str, Any], prompt: str = "") -> None:
        self.rng = rng
        self.defs = {**root.get("definitions", {}), **root.get("$defs", {})}
        words = set(re.findall(r"[a-z]+", prompt.lower()))
        # the prompt's own animals/cities, when it names some, so answers read as on topic
        self.hero = next((a for a in _ANIMALS if a in words), None)
        self.city = next((c for c in _CITIES if c.lower() in words), None)

    def animal(self) -> str:
        if self.hero is not None and self.rng.random() < 0.5:
            return self.hero
        return self.rng.choice(_ANIMALS)

    def sentence(self) -> str:
        r = self.rng
        return (f"The {r.choice(_ADJ)} {self.animal()} {r.choice(_VERBS)} the "
                f"{r.choice(_PLACES)}.")

    def string(self, key: str, schema: dict[str, Any]) -> str:
        r = self.rng
        k = key.lower()
        fmt = schema.get("format")
        if fmt == "date":
            return f"20{r.randint(10, 29)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        if fmt == "date-time":
            return f"20{r.randint(10, 29)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T12:00:00Z"
        if fmt == "email" or "email" in k:
            text = f"{r.choice(_NAMES).lower()}@example.com"
        elif fmt in ("uri", "url") or k in ("url", "link", "website"):
            text = f"https://example.com/{r.choice(_WORDS)}"
        elif "city" in k or "location" in k:
            text = self.city or r.choice(_CITIES)
        elif k in ("name", "author", "character") or k.endswith("_name"):
            text = r.choice(_NAMES)
        elif "title" in k or "headline" in k:
            a, b = r.sample(_ANIMALS, 2)
            if self.hero is not None and b != self.hero:
                a = self.hero
            text = f"The {r.choice(_ADJ).title()} {a.title()} and the {b.title()}"
        elif "moral" in k or "lesson" in k:
            text = r.choice(_MORALS)
        elif any(w in k for w in ("content", "story", "text", "body", "description", "summary", "answer",
                                  "reasoning", "explanation")):
            text = " ".join(self.sentence() for _ in range(r.randint(3, 5)))
        elif k in ("characters", "tags", "keywords", "items") or k.endswith("s["):
            text = r.choice(_ANIMALS).title()
        else:
            text = " ".join(r.choice(_WORDS) for _ in range(r.randint(1, 3)))
        lo, hi = schema.get("minLength", 0), schema.get("maxLength")
        while len(text) < lo:
            text += (" " if "@" not in text and "/" not in text else "") + r.choice(_WORDS)
        if hi is not None:
            text = text[:hi]
        return text

    def value(self, schema: Any, key: str = "", depth: int = 0) -> Any:
        r = self.rng
        if not isinstance(schema, dict):
            return None
        if "$ref" in schema:
            return self.value(self.defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), key, depth)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return r.choice(schema["enum"])
        for union in ("anyOf", "oneOf"):
            if union in schema:
                options = [s for s in schema[union] if s.get("type") != "null"] or schema[union]
                return self.value(r.choice(options), key, depth)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for s in schema["allOf"]:
                merged.update(s)
            return self.value(merged, key, depth)
        t = schema.get("type")
        if isinstance(t, list):
            t = next((x for x in t if x != "null"), "null")
        if t is None:
            t = "object" if "properties" in schema else "string"
        if t == "object":
            props = schema.get("properties", {})
            out = {k: self.value(v, k, depth + 1) for k, v in props.items()}
            if not props and depth < 3 and isinstance(schema.get("additionalProperties"), dict):
                out = {r.choice(_WORDS): self.value(schema["additionalProperties"], key, depth + 1)}
            return out
        if t == "array":
            lo = schema.get("minItems", 1 if depth < 4 else 0)
            hi = max(lo, min(schema.get("maxItems", 3), 3 if depth < 4 else lo))
            return [self.value(schema.get("items", {}), key, depth + 1) for _ in range(r.randint(lo, hi))]
        if t == "string":
            return self.string(key, schema)
        if t in ("integer", "number"):
            lo = schema.get("minimum", schema.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in schema
                                                                            else 0))
            hi = schema.get("maximum", schema.get("exclusiveMaximum", lo + 101) - 1)
            n = r.randint(int(lo), max(int(lo), int(hi)))
            return n if t == "integer" else n + r.choice([0, 0.25, 0.5])
        if t == "boolean":
            return r.random() < 0.5
        return None


def _think_answer(gen: _Gen, messages: list[Message], schema: dict[str, Any]) -> dict[str, Any]:
    """A readable think step: call each tool once, then say it is done (the agent asks for the result)."""
    props = schema.get("properties", {})
    variants = props.get("tool_calls", {}).get("items", {}).get("anyOf", [])
    tools_ran = any(m.get("content", "").startswith("Tool results:") for m in messages)
    calls = [] if tools_ran else [gen.value(v, "tool_call", 1) for v in variants]
    if calls:
        names = ", ".join(c["name"] for c in calls)
        reasoning = f"I need more information first, so I will call {names}."
    else:
        reasoning = "I have what I need. " + gen.sentence() + " Time to write the final answer."
    return {"reasoning": reasoning, "tool_calls": calls, "is_complete": not calls, "final_result": None}


class OfflineModel:
    """Offline stand-in for an LLM; see the module docstring.

    ``pace`` is the delay in seconds between deltas (0: as fast as possible, still yielding to the
    event loop between deltas); ``seed`` makes answers reproducible.
    """

    def __init__(self, *, seed: int = 0, pace: float = 0.01,
                 script: Iterable[str | BaseException | tuple[str, BaseException]] | None = None) -> None:
        self.name = "offline"
        self.seed = seed
        self.pace = pace
        self.script = list(script) if script is not None else None
        # the last requests (messages, schema), for tests and debugging; bounded for long-lived servers
        self.calls: deque[tuple[list[Message], dict[str, Any]]] = deque(maxlen=64)

    def answer(self, messages: list[Message], schema: dict[str, Any]) -> str:
        """The full JSON text the model would stream for these messages and schema."""
        digest = hashlib.sha256(json.dumps([self.seed, messages, schema], sort_keys=True,
                                           default=str).encode()).digest()
        prompt = next((m.get("content", "") for m in messages if m.get("role") == "user"), "")
        gen = _Gen(random.Random(digest), schema, prompt)
        if schema.get("title") == "AgentThought":
            value = _think_answer(gen, messages, schema)
        else:
            value = gen.value(schema)
        return json.dumps(value, ensure_ascii=False)

    async def stream(self, messages: list[Message], schema: dict[str, Any], *,
                     name: str = "response") -> AsyncIterator[str | Usage]:
        """Stream one answer in token-like deltas, then its (estimated) usage."""
        self.calls.append((list(messages), schema))
        error: BaseException | None = None
        if self.script is not None:
            if not self.script:
                raise ModelError("the offline model's script is exhausted")
            step = self.script.pop(0)
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, tuple):
                text, error = step
            else:
                text = step
        else:
            text = self.answer(messages, schema)
        tokens = tokenize(text)
        for tok in tokens:
            await asyncio.sleep(self.pace)
            yield tok
        if error is not None:
            raise error
        prompt = sum(len(m.get("content", "")) for m in messages) // 4 + 1
        yield Usage(requests=1, input_tokens=prompt, output_tokens=len(tokens))
