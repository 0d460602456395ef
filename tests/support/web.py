"""Helpers shared by the CLI/web tests (no tests here).

``fake_frames`` produces SSE frames in the documented format of
``fieldstream.agents.sse.event_stream`` from a fixed result, by streaming its JSON through the core
parser in small deltas. It lets the renderers be tested independently of the agents layer (whose
real offline model is used too, when it is installed: see ``agents_available``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import AsyncIterator
from typing import Any

import fieldstream

STORY = {
    "title": "The Tortoise and the Lantern",
    "characters": ["Tortoise", "Hare", "Owl"],
    "content": "Every night the tortoise carried a lantern up the hill, slowly, so the owl could read.",
    "moral": "Steady kindness lights more than a quick flame.",
}


def agents_available() -> bool:
    """True when the agents layer with its SSE adapter and offline model can be imported."""
    try:
        return (importlib.util.find_spec("fieldstream.agents") is not None
                and importlib.util.find_spec("fieldstream.agents.sse") is not None)
    except (ImportError, ValueError):
        return False


def frame(n: int, event: str, data: dict[str, Any]) -> str:
    return f"id: {n}\nevent: {event}\ndata: {json.dumps(data)}\n\n"


async def fake_frames(result: dict[str, Any] = STORY, *, think: str = "I should write a fable. ",
                      chunk: int = 4, delay: float = 0.0, invalid: str | None = None,
                      fail: bool = False) -> AsyncIterator[str]:
    """Frames of a run that thinks ``think`` then streams ``result`` in ``chunk``-character deltas."""
    n = 0

    def nxt(event: str, data: dict[str, Any]) -> str:
        nonlocal n
        n += 1
        return frame(n, event, data)

    yield nxt("stream_start", {"call_type": "think"})
    for i in range(0, len(think), chunk):
        yield nxt("chunk", {"call_type": "think", "delta": think[i:i + chunk], "json_path": ""})
        await asyncio.sleep(delay)
    yield nxt("stream_end", {"call_type": "think"})
    yield nxt("stream_start", {"call_type": "final_result"})
    if fail:
        yield nxt("error", {"message": "the model went away", "type": "ConnectionError"})
        return
    text = json.dumps(result)
    parser = fieldstream.Parser()
    for i in range(0, len(text), chunk):
        for ev in parser.feed(text[i:i + chunk]):
            if isinstance(ev, fieldstream.StringDelta):
                yield nxt("chunk", {"call_type": "final_result", "delta": ev.delta,
                                    "json_path": "final_result." + ev.dotted})
            elif isinstance(ev, fieldstream.ValueDone) and 1 <= len(ev.path) <= 2:
                bad = invalid is not None and ev.path == (invalid,)
                errors = [{"msg": "not good enough", "type": "value_error"}] if bad else []
                yield nxt("field", {"call_type": "final_result", "json_path": "final_result." + ev.dotted,
                                    "value": ev.value, "valid": not bad, "errors": errors})
        await asyncio.sleep(delay)
    parser.close()
    yield nxt("stream_end", {"call_type": "final_result"})
    if invalid is not None:
        yield nxt("error", {"message": f"validation failed at {invalid}", "type": "SchemaError"})
        return
    yield nxt("result", {"result": result})
