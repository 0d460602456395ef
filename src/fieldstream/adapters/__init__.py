"""Adapters for the official SDKs: an SDK stream in, fieldstream events out, in one line.

    for ev in fieldstream.adapters.openai_chat_events(stream, schema=Story):
        ...

``stream`` is what the SDK returns for a streaming request (``openai``: ``Stream[ChatCompletionChunk]``
from ``client.chat.completions.create(..., stream=True)``, the Responses events of
``client.responses.create(..., stream=True)``; ``anthropic``: the raw events of
``client.messages.create(..., stream=True)`` or ``client.messages.stream()``). The ``a``-prefixed
twins take the async clients' streams. No SDK is imported by fieldstream: install the one you use
(``pip install 'fieldstream[openai]'`` or ``'fieldstream[anthropic]'``).

Events: the content is parsed as JSON (core events: :class:`~fieldstream.ValueStart`,
:class:`~fieldstream.StringDelta`, :class:`~fieldstream.ValueDone`; or schema events
:class:`~fieldstream.FieldDone`/:class:`~fieldstream.FieldInvalid` when ``schema=`` is a Pydantic
model); ``lenient=True`` skips prose and ```` ```json ```` fences around the JSON;
``content="text"`` streams prose instead (``StringDelta`` at ``("content",)``). Each tool
call starts with a :class:`ToolCallStart` (index, id, name) and its arguments are parsed on their own,
their paths prefixed by ``("tool_calls", i, "arguments")``; ``tools={"name": Model}`` validates a
tool's arguments against its model. ``reasoning=True`` also yields the
:class:`~fieldstream.agents.models.ReasoningDelta` items of models that stream their thinking.

At the end: a refusal raises :class:`~fieldstream.RefusalError` (with the text), an answer cut by
``length``/``max_tokens``/``content_filter`` raises :class:`~fieldstream.TruncatedOutputError`
(with the partial value), incomplete JSON raises :class:`~fieldstream.StreamError` /
:class:`~fieldstream.SchemaError`; a Responses ``error``/``response.failed`` event raises
:class:`~fieldstream.ProviderError`. The SDK's own exceptions (HTTP errors, error events it
raises itself) pass through unchanged. The SDK stream is closed when you stop iterating.
"""

from ._front import (
    aanthropic_events,
    anthropic_events,
    aopenai_chat_events,
    aopenai_responses_events,
    openai_chat_events,
    openai_responses_events,
)
from ._route import ToolCallStart

__all__ = [
    "ToolCallStart",
    "aanthropic_events",
    "anthropic_events",
    "aopenai_chat_events",
    "aopenai_responses_events",
    "openai_chat_events",
    "openai_responses_events",
]
