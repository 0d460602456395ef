"""``OpenAIResponsesModel``: the OpenAI Responses API (``/v1/responses``, ``stream: true``) over httpx.

:class:`ResponsesDecoder` turns the typed events into stream items; it is a pure function of the
decoded event dicts (dispatching on each event's ``type`` field, so streams without ``event:`` lines
work too), shared with :mod:`fieldstream.adapters`:

* ``response.output_text.delta``: answer text; ``response.refusal.delta``: refusal text;
* ``response.reasoning_summary_text.delta`` / ``response.reasoning_text.delta``: reasoning;
* ``response.output_item.added`` (a ``function_call`` item) and
  ``response.function_call_arguments.delta``: tool calls, numbered 0, 1, ... in stream order;
* ``response.completed``: usage and the finish (``tool_calls`` when a function was called);
  ``response.incomplete``: the finish named by ``incomplete_details.reason``
  (``max_output_tokens``, ``content_filter``);
* ``response.failed`` and ``error``: :class:`~fieldstream.ProviderError` with the provider's message.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ..._errors import ModelError
from ..base.context import Usage
from ._http import HTTPModel, provider_error
from ._items import (
    Finish,
    ReasoningDelta,
    RefusalDelta,
    StreamItem,
    ToolCallDelta,
    ToolSpec,
    normalise_finish,
)

__all__ = ["OpenAIResponsesModel", "ResponsesDecoder"]

_RETRYABLE = frozenset({"server_error", "rate_limit_exceeded"})


class ResponsesDecoder:
    """Responses API events (dicts) in, stream items out; raises ProviderError on failure events."""

    def __init__(self) -> None:
        self._calls: dict[Any, int] = {}  # output_index / item id -> tool call number
        self.finished = False

    def _call(self, ev: dict[str, Any]) -> int | None:
        for key in (ev.get("output_index"), ev.get("item_id")):
            if key is not None and key in self._calls:
                return self._calls[key]
        return None

    def feed(self, ev: dict[str, Any]) -> list[StreamItem]:
        kind = ev.get("type")
        if kind == "response.output_text.delta":
            return [ev["delta"]] if ev.get("delta") else []
        if kind == "response.function_call_arguments.delta":
            n = self._call(ev)
            if n is None:  # no output_item.added seen: number the call now
                n = len(self._calls)
                self._calls[ev.get("output_index", ev.get("item_id"))] = n
                return [ToolCallDelta(n, None, None, ev.get("delta") or "")]
            return [ToolCallDelta(n, None, None, ev["delta"])] if ev.get("delta") else []
        if kind == "response.output_item.added":
            item = ev.get("item") or {}
            if item.get("type") != "function_call":
                return []
            n = len({*self._calls.values()})
            self._calls[ev.get("output_index")] = n
            if item.get("id") is not None:
                self._calls[item["id"]] = n
            return [ToolCallDelta(n, item.get("call_id") or item.get("id"), item.get("name"),
                                  item.get("arguments") or "")]
        if kind == "response.refusal.delta":
            return [RefusalDelta(ev["delta"])] if ev.get("delta") else []
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            return [ReasoningDelta(ev["delta"])] if ev.get("delta") else []
        if kind in ("response.completed", "response.incomplete"):
            self.finished = True
            resp = ev.get("response") or {}
            items: list[StreamItem] = []
            usage = resp.get("usage")
            if usage:
                items.append(Usage(requests=1, input_tokens=int(usage.get("input_tokens") or 0),
                                   output_tokens=int(usage.get("output_tokens") or 0)))
            if kind == "response.incomplete":
                reason = (resp.get("incomplete_details") or {}).get("reason") or "incomplete"
                items.append(normalise_finish(reason))
            elif self._calls:
                items.append(Finish("function_call", "tool_calls"))
            else:
                items.append(Finish("completed", "stop"))
            return items
        if kind == "response.failed":
            resp = ev.get("response") or {}
            raise provider_error(resp.get("error") or {"message": "the response failed"}, status=None,
                                 fallback="the response failed", retryable_types=_RETRYABLE)
        if kind == "error":
            raise provider_error(ev if "error" in ev else {"error": ev}, status=None,
                                 fallback="unknown error", retryable_types=_RETRYABLE)
        return []

    def end(self) -> list[StreamItem]:
        """End of the stream: an error if no terminal event came."""
        if not self.finished:
            raise ModelError("the Responses stream ended without response.completed", retryable=True)
        return []


class OpenAIResponsesModel(HTTPModel):
    """An OpenAI Responses API model, streaming, no SDK needed.

    Args:
        model: the model name, e.g. ``gpt-4o-mini``.
        api_key: default ``OPENAI_API_KEY`` (a missing key fails at the first call, before any request).
        base_url: default ``OPENAI_BASE_URL`` or ``https://api.openai.com/v1``.
        strict: ``text.format.strict`` (OpenAI's strict mode needs a restricted schema; off by default).
        max_output_tokens: token budget (an answer cut by it raises
            :class:`~fieldstream.TruncatedOutputError`).
        max_retries / backoff / timeout / read_timeout / http_client / extra_body: as for
            :class:`AnthropicModel`; one client per model, closed by ``aclose()`` / ``async with``.
    """

    provider = "OpenAI"
    key_env = "OPENAI_API_KEY"
    retryable_types = _RETRYABLE

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 strict: bool = False, max_output_tokens: int | None = None, timeout: float = 30.0,
                 read_timeout: float = 120.0, max_retries: int = 3, backoff: float = 0.5,
                 extra_body: dict[str, Any] | None = None,
                 http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(model,
                         base_url=base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1",
                         api_key=api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", ""),
                         timeout=timeout, read_timeout=read_timeout, max_retries=max_retries,
                         backoff=backoff, http_client=http_client)
        self.strict = strict
        self.max_output_tokens = max_output_tokens
        self.extra_body = extra_body or {}

    def url(self) -> str:
        return f"{self.base_url}/responses"

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.require_key()}"}

    def request_body(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None, name: str,
                     tools: list[ToolSpec] | None = None) -> dict[str, Any]:
        """The JSON body of one streaming request."""
        body: dict[str, Any] = {"model": self.name, "input": messages, "stream": True}
        if schema is not None:
            body["text"] = {"format": {"type": "json_schema", "name": name, "schema": schema,
                                       "strict": self.strict}}
        if tools:
            body["tools"] = [{"type": "function", "name": t.name, "description": t.description,
                              "parameters": t.parameters, "strict": False} for t in tools]
        if self.max_output_tokens is not None:
            body["max_output_tokens"] = self.max_output_tokens
        body.update(self.extra_body)
        return body

    async def decode(self, events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[StreamItem]:
        decoder = ResponsesDecoder()
        async for ev in events:
            for item in decoder.feed(ev):
                yield item
            if decoder.finished:
                return
        for item in decoder.end():
            yield item
