"""``AnthropicModel``: the Anthropic Messages API (``/v1/messages``, ``stream: true``) over httpx.

The event stream (``message_start``, ``content_block_start/delta/stop``, ``message_delta``,
``message_stop``, ``ping``, ``error``) is turned into stream items by :class:`AnthropicDecoder`, a
pure function of the decoded event dicts, shared with :mod:`fieldstream.adapters` (which feeds it
the ``anthropic`` SDK's events): ``text_delta`` is answer text, ``input_json_delta`` tool-call
arguments (``tool_use`` blocks numbered 0, 1, ... in stream order; server tools such as
``server_tool_use`` run at Anthropic and are not reported), ``thinking_delta`` reasoning,
``message_delta.stop_reason`` the finish (``max_tokens`` and ``refusal`` included), ``ping`` nothing.
An ``error`` event raises :class:`~fieldstream.ProviderError`; ``overloaded_error`` (and
``api_error``/``rate_limit_error``) are retried when nothing was streamed yet.

JSON output: the Messages API has no JSON mode, so the schema is sent in the system prompt (and with
``native_json=True`` as ``output_format`` for models with structured outputs).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ..._errors import ModelError
from ..base.context import Usage
from ._http import HTTPModel, provider_error
from ._items import (
    ReasoningDelta,
    StreamItem,
    ToolCallDelta,
    ToolSpec,
    normalise_finish,
)

__all__ = ["AnthropicDecoder", "AnthropicModel"]

_RETRYABLE = frozenset({"overloaded_error", "api_error", "rate_limit_error"})


class AnthropicDecoder:
    """Messages API events (dicts) in, stream items out. ``feed`` raises ProviderError on ``error``."""

    def __init__(self) -> None:
        self._tools: dict[int, int] = {}  # content block index -> tool call number
        self._stop: str | None = None
        self._usage = Usage(requests=1)
        self.finished = False

    def feed(self, ev: dict[str, Any]) -> list[StreamItem]:
        kind = ev.get("type")
        if kind == "content_block_delta":
            delta = ev.get("delta") or {}
            dkind = delta.get("type")
            if dkind == "text_delta":
                return [delta["text"]] if delta.get("text") else []
            if dkind == "input_json_delta":
                n = self._tools.get(ev.get("index", -1))
                part = delta.get("partial_json") or ""
                return [ToolCallDelta(n, None, None, part)] if n is not None and part else []
            if dkind == "thinking_delta":
                return [ReasoningDelta(delta["thinking"])] if delta.get("thinking") else []
            return []  # signature_delta, citations_delta
        if kind == "content_block_start":
            block = ev.get("content_block") or {}
            if block.get("type") == "tool_use":
                n = len(self._tools)
                self._tools[ev.get("index", n)] = n
                initial = block.get("input")
                args = json.dumps(initial) if initial else ""
                return [ToolCallDelta(n, block.get("id"), block.get("name"), args)]
            if block.get("type") == "text" and block.get("text"):
                return [block["text"]]
            return []
        if kind == "message_start":
            usage = (ev.get("message") or {}).get("usage") or {}
            self._usage.input_tokens += int(usage.get("input_tokens") or 0)
            self._usage.output_tokens += int(usage.get("output_tokens") or 0)
            return []
        if kind == "message_delta":
            self._stop = (ev.get("delta") or {}).get("stop_reason") or self._stop
            usage = ev.get("usage") or {}
            if usage.get("output_tokens") is not None:
                self._usage.output_tokens = int(usage["output_tokens"])
            return []
        if kind == "message_stop":
            self.finished = True
            return [self._usage, normalise_finish(self._stop or "end_turn")]
        if kind == "error":
            raise provider_error(ev, status=None, fallback="unknown error", retryable_types=_RETRYABLE)
        return []  # ping, content_block_stop, unknown future events

    def end(self) -> list[StreamItem]:
        """End of the stream: an error if ``message_stop`` never came."""
        if not self.finished:
            raise ModelError("the Anthropic stream ended without message_stop", retryable=True)
        return []


class AnthropicModel(HTTPModel):
    """An Anthropic Messages API model (``claude-...``), streaming, no SDK needed.

    Args:
        model: the model name, e.g. ``claude-sonnet-4-5``.
        api_key: default ``ANTHROPIC_API_KEY`` (a missing key fails at the first call, before any request).
        base_url: default ``ANTHROPIC_BASE_URL`` or ``https://api.anthropic.com``.
        max_tokens: the answer's token budget (required by the API); an answer cut by it raises
            :class:`~fieldstream.TruncatedOutputError`.
        native_json: also send the schema as ``output_format`` (structured outputs, a beta: the
            ``anthropic-beta: structured-outputs-2025-11-13`` header is sent with it).
        thinking_budget: enable extended thinking with this many tokens (reasoning streams as think).
        max_retries / backoff / timeout / read_timeout / http_client: see :class:`OpenAIChatModel`;
            the model keeps one client, closed by ``aclose()`` or ``async with model:``.
        extra_body: merged into the request JSON.
    """

    provider = "Anthropic"
    key_env = "ANTHROPIC_API_KEY"
    retryable_types = _RETRYABLE

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 max_tokens: int = 4096, native_json: bool = False, thinking_budget: int | None = None,
                 timeout: float = 30.0, read_timeout: float = 120.0, max_retries: int = 3,
                 backoff: float = 0.5, extra_body: dict[str, Any] | None = None,
                 http_client: httpx.AsyncClient | None = None,
                 anthropic_version: str = "2023-06-01") -> None:
        super().__init__(model,
                         base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com",
                         api_key=api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY", ""),
                         timeout=timeout, read_timeout=read_timeout, max_retries=max_retries,
                         backoff=backoff, http_client=http_client)
        self.max_tokens = max_tokens
        self.native_json = native_json
        self.thinking_budget = thinking_budget
        self.extra_body = extra_body or {}
        self.anthropic_version = anthropic_version

    def url(self) -> str:
        base = self.base_url
        return f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"

    def headers(self) -> dict[str, str]:
        headers = {"x-api-key": self.require_key(), "anthropic-version": self.anthropic_version}
        if self.native_json:
            headers["anthropic-beta"] = "structured-outputs-2025-11-13"
        return headers

    def request_body(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None, name: str,
                     tools: list[ToolSpec] | None = None) -> dict[str, Any]:
        """The JSON body of one streaming request (system messages go to ``system``)."""
        system = [str(m["content"]) for m in messages if m.get("role") == "system"]
        if schema is not None:
            system.append(f"Answer with one JSON object named {name!r} (no prose, no code fence) that "
                          f"matches this JSON schema:\n{json.dumps(schema)}")
        body: dict[str, Any] = {
            "model": self.name,
            "max_tokens": self.max_tokens,
            "stream": True,
            "messages": [m for m in messages if m.get("role") != "system"],
        }
        if system:
            body["system"] = "\n\n".join(system)
        if schema is not None and self.native_json:
            body["output_format"] = {"type": "json_schema", "schema": schema}
        if tools:
            body["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                             for t in tools]
        if self.thinking_budget:
            body["thinking"] = {"type": "enabled", "budget_tokens": self.thinking_budget}
        body.update(self.extra_body)
        return body

    async def decode(self, events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[StreamItem]:
        decoder = AnthropicDecoder()
        async for ev in events:
            for item in decoder.feed(ev):
                yield item
            if decoder.finished:
                return
        for item in decoder.end():
            yield item

