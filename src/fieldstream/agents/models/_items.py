"""Typed stream items: what a provider's stream carries besides the answer's text.

The :class:`~fieldstream.agents.models.Model` protocol's ``stream()`` yields ``str`` (answer text) and
:class:`Usage`. Providers with native tool calling, reasoning and stop reasons also implement
:class:`ItemModel`: ``stream_items(messages, schema, *, name, tools)`` yields, in stream order,

* ``str``: more text of the answer (the message content);
* :class:`ToolCallDelta`: more of the JSON arguments of tool call ``index`` (``id``/``name`` set on
  the first delta of a call, ``None`` afterwards). Calls of different indexes may interleave;
* :class:`ReasoningDelta`: more reasoning text (Anthropic ``thinking_delta``, Responses
  ``reasoning_summary_text.delta``, chat ``reasoning_content``): shown as ``call_type="think"``;
* :class:`RefusalDelta`: more of a refusal (OpenAI ``refusal`` deltas);
* :class:`Usage` at most once;
* :class:`Finish` exactly once, last: the provider's stop reason, raw and normalised.

``stream_items`` raises :class:`~fieldstream.ProviderError` for provider errors (after its own
retries) but never for a refusal or a truncation: it reports them with :class:`Finish` and lets the
consumer decide. :func:`finish_error` is the one mapping from a finish to the exception the
text-only ``stream()`` raises (:class:`~fieldstream.RefusalError`,
:class:`~fieldstream.TruncatedOutputError`), shared by the models and :mod:`fieldstream.adapters`.

Everything here is standard library only. :class:`ToolSpec` is the provider-neutral tool
definition a consumer passes as ``tools=`` (each provider renders it in its own request format).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from ..._errors import ModelError, RefusalError, TruncatedOutputError
from ..base.context import Usage

__all__ = [
    "Finish",
    "FinishKind",
    "ItemModel",
    "ReasoningDelta",
    "RefusalDelta",
    "StreamItem",
    "ToolCallDelta",
    "ToolSpec",
    "finish_error",
    "normalise_finish",
    "partial_value",
    "text_only",
]

FinishKind = Literal["stop", "tool_calls", "length", "content_filter", "refusal", "other"]


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """More of tool call ``index``'s JSON arguments; ``id``/``name`` arrive with its first delta."""

    index: int
    id: str | None
    name: str | None
    arguments_delta: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """More of the model's reasoning (``thinking``) text."""

    text: str


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """More of the model's refusal text."""

    text: str


@dataclass(frozen=True, slots=True)
class Finish:
    """How the answer ended: ``reason`` is the provider's word, ``kind`` its normalised meaning."""

    reason: str
    kind: FinishKind


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as offered to the model: its name, description and JSON schema of the arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


StreamItem = str | Usage | ToolCallDelta | ReasoningDelta | RefusalDelta | Finish

# The providers' stop/finish reasons, normalised (OpenAI chat, Anthropic, Responses "incomplete").
_KINDS: dict[str, FinishKind] = {
    "stop": "stop", "end_turn": "stop", "stop_sequence": "stop", "completed": "stop",
    "pause_turn": "stop",
    "tool_calls": "tool_calls", "tool_use": "tool_calls", "function_call": "tool_calls",
    "length": "length", "max_tokens": "length", "max_output_tokens": "length",
    "model_context_window_exceeded": "length",
    "content_filter": "content_filter",
    "refusal": "refusal",
}


def normalise_finish(reason: str | None) -> Finish:
    """``Finish`` for a provider's reason (``None``: the stream ended without one, taken as a stop)."""
    if reason is None:
        return Finish("stop", "stop")
    return Finish(reason, _KINDS.get(reason, "other"))


def partial_value(text: str) -> Any:
    """The best partial value of a cut JSON text (the core parser's snapshot), ``None`` if none."""
    from ... import Parser, StreamError

    parser = Parser()
    try:
        parser.feed(text)
    except StreamError:
        pass
    try:
        return parser.snapshot()
    except Exception:
        return None


def finish_error(finish: Finish, *, text: str, refusal: str) -> ModelError | None:
    """The exception a finished answer must raise, or ``None`` when it ended normally.

    A refusal (refusal text streamed, or ``kind == "refusal"``) gives :class:`RefusalError`;
    ``length``/``content_filter`` give :class:`TruncatedOutputError` with the text and its partial value.
    """
    if refusal or finish.kind == "refusal":
        return RefusalError(refusal)
    if finish.kind in ("length", "content_filter"):
        return TruncatedOutputError(finish.reason, text=text, partial=partial_value(text) if text else None)
    return None


@runtime_checkable
class ItemModel(Protocol):
    """A :class:`~fieldstream.agents.models.Model` that also streams typed items (see the module doc)."""

    name: str

    def stream(self, messages: list[dict[str, str]], schema: dict[str, Any], *,
               name: str = "response") -> AsyncIterator[str | Usage]: ...

    def stream_items(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None, *,
                     name: str = "response",
                     tools: list[ToolSpec] | None = None) -> AsyncIterator[StreamItem]: ...


async def text_only(items: AsyncIterator[StreamItem]) -> AsyncIterator[str | Usage]:
    """The text-only ``stream()`` of an :class:`ItemModel`: text and usage pass, reasoning is dropped,
    a refusal or a cut answer raises (:func:`finish_error`), tool calls are ignored."""
    text: list[str] = []
    refusal: list[str] = []
    try:
        async for item in items:
            if isinstance(item, (str, Usage)):
                if isinstance(item, str):
                    text.append(item)
                yield item
            elif isinstance(item, RefusalDelta):
                refusal.append(item.text)
            elif isinstance(item, Finish):
                err = finish_error(item, text="".join(text), refusal="".join(refusal))
                if err is not None:
                    raise err
    finally:
        await items.aclose()  # type: ignore[attr-defined]
