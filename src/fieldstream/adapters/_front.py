"""The adapters' front ends: SDK stream objects -> stream items -> :class:`Router` -> events.

See the package docstring (:mod:`fieldstream.adapters`) for what they accept and yield.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any, Literal

from ..agents.models._items import ReasoningDelta
from ._route import Router
from ._sdk import AnthropicItems, ChatItems, ResponsesItems

__all__ = [
    "aanthropic_events",
    "anthropic_events",
    "aopenai_chat_events",
    "aopenai_responses_events",
    "openai_chat_events",
    "openai_responses_events",
]

Content = Literal["json", "text"]


def _events(reader: Any, stream: Iterable[Any], router: Router, reasoning: bool) -> Iterator[Any]:
    try:
        for obj in stream:
            for item in reader.feed(obj):
                if reasoning and isinstance(item, ReasoningDelta):
                    yield item
                yield from router.feed(item)
        for item in reader.end():
            yield from router.feed(item)
        yield from router.close()
    finally:
        close = getattr(stream, "close", None)
        if callable(close):
            close()


async def _aevents(reader: Any, stream: AsyncIterable[Any], router: Router,
                   reasoning: bool) -> AsyncIterator[Any]:
    try:
        async for obj in stream:
            for item in reader.feed(obj):
                if reasoning and isinstance(item, ReasoningDelta):
                    yield item
                for ev in router.feed(item):
                    yield ev
        for item in reader.end():
            for ev in router.feed(item):
                yield ev
        for ev in router.close():
            yield ev
    finally:
        close = getattr(stream, "close", None)
        if callable(close):
            await close()


def openai_chat_events(stream: Iterable[Any], *, schema: Any = None, tools: dict[str, Any] | None = None,
                       lenient: bool = False, content: Content = "json",
                       reasoning: bool = False) -> Iterator[Any]:
    """Events of an ``openai`` chat-completions stream (``Stream[ChatCompletionChunk]``)."""
    return _events(ChatItems(), stream, Router(schema, tools=tools, lenient=lenient, content=content),
                   reasoning)


def aopenai_chat_events(stream: AsyncIterable[Any], *, schema: Any = None,
                        tools: dict[str, Any] | None = None, lenient: bool = False,
                        content: Content = "json", reasoning: bool = False) -> AsyncIterator[Any]:
    """Events of an ``openai`` async chat-completions stream (``AsyncStream[ChatCompletionChunk]``)."""
    return _aevents(ChatItems(), stream, Router(schema, tools=tools, lenient=lenient, content=content),
                    reasoning)


def openai_responses_events(stream: Iterable[Any], *, schema: Any = None,
                            tools: dict[str, Any] | None = None, lenient: bool = False,
                            content: Content = "json", reasoning: bool = False) -> Iterator[Any]:
    """Events of an ``openai`` Responses stream (``client.responses.create(..., stream=True)``)."""
    return _events(ResponsesItems(), stream, Router(schema, tools=tools, lenient=lenient, content=content),
                   reasoning)


def aopenai_responses_events(stream: AsyncIterable[Any], *, schema: Any = None,
                             tools: dict[str, Any] | None = None, lenient: bool = False,
                             content: Content = "json", reasoning: bool = False) -> AsyncIterator[Any]:
    """Events of an ``openai`` async Responses stream."""
    return _aevents(ResponsesItems(), stream, Router(schema, tools=tools, lenient=lenient, content=content),
                    reasoning)


def anthropic_events(stream: Iterable[Any], *, schema: Any = None, tools: dict[str, Any] | None = None,
                     lenient: bool = False, content: Content = "json",
                     reasoning: bool = False) -> Iterator[Any]:
    """Events of an ``anthropic`` message stream (``client.messages.create(..., stream=True)``)."""
    return _events(AnthropicItems(), stream, Router(schema, tools=tools, lenient=lenient, content=content),
                   reasoning)


def aanthropic_events(stream: AsyncIterable[Any], *, schema: Any = None, tools: dict[str, Any] | None = None,
                      lenient: bool = False, content: Content = "json",
                      reasoning: bool = False) -> AsyncIterator[Any]:
    """Events of an ``anthropic`` async message stream."""
    return _aevents(AnthropicItems(), stream, Router(schema, tools=tools, lenient=lenient, content=content),
                    reasoning)
