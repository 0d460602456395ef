"""The official SDKs' stream objects in, stream items out (no SDK is imported here).

Each SDK object is read by attribute or as a dict, so this module works with the pydantic models
of ``openai`` and ``anthropic`` (any version with the same field names) and with plain dicts:

* ``openai`` chat completions: ``ChatCompletionChunk`` (from ``create(..., stream=True)``) or the
  ``chunk`` events of ``client.chat.completions.stream()``; only choice 0 is read (``n > 1`` is for
  sampling, not streaming); ``delta.content``, ``delta.refusal``, ``delta.tool_calls``,
  ``delta.reasoning_content``/``delta.reasoning`` and ``finish_reason``;
* ``openai`` Responses: the typed events of ``client.responses.create(..., stream=True)`` /
  ``client.responses.stream()``, decoded by the Responses model's own decoder;
* ``anthropic``: the raw events of ``client.messages.create(..., stream=True)`` or the events of
  ``client.messages.stream()`` (its extra ``text``/``input_json`` events are skipped), decoded by the
  Anthropic model's own decoder.
"""

from __future__ import annotations

from typing import Any

from ..agents.base.context import Usage
from ..agents.models._anthropic import AnthropicDecoder
from ..agents.models._items import (
    Finish,
    ReasoningDelta,
    RefusalDelta,
    StreamItem,
    ToolCallDelta,
    normalise_finish,
)
from ..agents.models._responses import ResponsesDecoder

__all__ = ["AnthropicItems", "ChatItems", "ResponsesItems"]


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None:
        extra = getattr(obj, "model_extra", None)  # fields the SDK's model does not declare
        if extra:
            value = extra.get(name)
    return value


def _plain(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    return obj if dump is None else dump(mode="json", warnings=False)


def _pick(obj: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """The fields the decoders read, as plain data (dumping a whole SDK event, with the full
    ``response`` object it often carries, costs far more than the event is worth)."""
    if isinstance(obj, dict):
        return obj
    if not hasattr(obj, "type"):
        raise TypeError(f"not an SDK stream event: {type(obj).__name__}")
    return {k: _plain(v) for k in keys if (v := _get(obj, k)) is not None}


_RESPONSES_KEYS = ("type", "delta", "output_index", "item_id", "item", "error", "message", "code")
_RESPONSE_KEYS = ("usage", "incomplete_details", "error", "status")
_ANTHROPIC_KEYS = ("type", "index", "delta", "content_block", "message", "usage", "error")


class ChatItems:
    """Chat-completions chunks in, stream items out (``feed`` per chunk, ``end`` at the end)."""

    def __init__(self) -> None:
        self._finish: str | None = None
        self._ids: dict[int, bool] = {}
        self._usage: Usage | None = None

    def feed(self, chunk: Any) -> list[StreamItem]:
        if _get(chunk, "type") == "chunk" and _get(chunk, "chunk") is not None:
            chunk = _get(chunk, "chunk")  # ChatCompletionStream's ChunkEvent
        elif _get(chunk, "type") is not None and _get(chunk, "choices") is None:
            return []  # the stream helper's other events repeat what the chunks say
        out: list[StreamItem] = []
        usage = _get(chunk, "usage")
        if usage is not None:
            self._usage = Usage(requests=1, input_tokens=int(_get(usage, "prompt_tokens") or 0),
                                output_tokens=int(_get(usage, "completion_tokens") or 0))
        for choice in _get(chunk, "choices") or ():
            if (_get(choice, "index") or 0) != 0:
                continue
            delta = _get(choice, "delta")
            if delta is not None:
                reasoning = _get(delta, "reasoning_content") or _get(delta, "reasoning")
                if isinstance(reasoning, str) and reasoning:
                    out.append(ReasoningDelta(reasoning))
                refusal = _get(delta, "refusal")
                if refusal:
                    out.append(RefusalDelta(refusal))
                content = _get(delta, "content")
                if content:
                    out.append(content)
                for n, call in enumerate(_get(delta, "tool_calls") or ()):
                    index = _get(call, "index")
                    index = n if index is None else int(index)
                    fn = _get(call, "function")
                    args = (_get(fn, "arguments") if fn is not None else None) or ""
                    if index not in self._ids:
                        self._ids[index] = True
                        name = _get(fn, "name") if fn is not None else None
                        out.append(ToolCallDelta(index, _get(call, "id") or None, name, args))
                    elif args:
                        out.append(ToolCallDelta(index, None, None, args))
            reason = _get(choice, "finish_reason")
            if reason:
                self._finish = str(reason)
        return out

    def end(self) -> list[StreamItem]:
        items: list[StreamItem] = [self._usage] if self._usage is not None else []
        finish: Finish = normalise_finish(self._finish)
        return [*items, finish]


class ResponsesItems:
    """Responses API events (SDK objects or dicts) in, stream items out."""

    def __init__(self) -> None:
        self._decoder = ResponsesDecoder()

    def feed(self, event: Any) -> list[StreamItem]:
        if self._decoder.finished:
            return []
        data = _pick(event, _RESPONSES_KEYS)
        response = _get(event, "response")
        if response is not None and "response" not in data:
            data["response"] = {k: _plain(v) for k in _RESPONSE_KEYS if (v := _get(response, k)) is not None}
        return self._decoder.feed(data)

    def end(self) -> list[StreamItem]:
        return self._decoder.end()


class AnthropicItems:
    """Anthropic message-stream events (SDK objects or dicts) in, stream items out."""

    _SKIP = frozenset({"text", "input_json", "thinking", "signature", "citation"})  # MessageStream extras

    def __init__(self) -> None:
        self._decoder = AnthropicDecoder()

    def feed(self, event: Any) -> list[StreamItem]:
        kind = _get(event, "type")
        if kind in self._SKIP or self._decoder.finished:
            return []
        return self._decoder.feed(_pick(event, _ANTHROPIC_KEYS))

    def end(self) -> list[StreamItem]:
        return self._decoder.end()
