"""``OpenAIChatModel``: any OpenAI-compatible ``/v1/chat/completions`` streaming endpoint, over httpx.

Works with OpenAI, Azure, Ollama, vLLM, llama.cpp server, LM Studio, OpenRouter, DeepSeek, Groq, xAI.
It shares :mod:`._http` with the other httpx providers (one client per model, retries honouring
``Retry-After``/``retry-after-ms``/``x-should-retry``, provider errors) and reads the stream with
:class:`ChatDecoder`:

* ``delta.content`` is answer text, ``delta.reasoning_content`` / ``delta.reasoning`` reasoning,
  ``delta.refusal`` a refusal, ``delta.tool_calls`` tool-call argument deltas (per ``index``);
* only choice 0 is read (``n > 1`` samples several answers; a stream cannot be several documents);
* ``finish_reason`` ends the answer: ``length``/``content_filter`` make the text-only ``stream()``
  raise :class:`~fieldstream.TruncatedOutputError`, refusal text :class:`~fieldstream.RefusalError`;
* every provider error shape raises :class:`~fieldstream.ProviderError` with the provider's message:
  ``{"error": {...}}`` (OpenAI, OpenRouter, Groq), ``event: error``, llama.cpp's ``error:`` field,
  vLLM's flat ``{"object": "error", "message": ...}``, a 200 answer with a JSON error body.
  ``"error": null`` in a chunk is no error;
* ``data: [DONE]`` ends the stream, but an answer that ends cleanly without it is accepted;
  a ``data:`` line that is not a JSON object raises :class:`~fieldstream.ModelError`.

The SSE lines are split by httpx-sse's decoder (CR, LF, CRLF only: a raw U+2028 inside a JSON
string is not a line end; multi-line ``data`` is joined).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

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

__all__ = ["ChatDecoder", "OpenAIChatModel"]

_DONE: dict[str, Any] = {"[DONE]": True}  # the end marker, passed by identity from _events to decode


def _describe(value: Any) -> str:
    return {list: "a JSON array", str: "a JSON string", bool: "a JSON boolean",
            type(None): "JSON null"}.get(type(value), "a JSON number")


class ChatDecoder:
    """Chat-completions chunks (decoded JSON objects) in, stream items out.

    ``feed(chunk)`` raises :class:`~fieldstream.ProviderError` when the chunk carries an error;
    ``end()`` gives the usage (if reported) and the :class:`Finish` (a missing ``finish_reason``
    counts as a normal stop).
    """

    def __init__(self) -> None:
        self._finish: str | None = None
        self._seen: set[int] = set()
        self._usage: Usage | None = None

    def feed(self, chunk: dict[str, Any]) -> list[StreamItem]:
        if chunk.get("error") is not None or chunk.get("object") == "error":
            raise provider_error(chunk, status=None, fallback=json.dumps(chunk)[:300])
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._usage = Usage(requests=1, input_tokens=int(usage.get("prompt_tokens") or 0),
                                output_tokens=int(usage.get("completion_tokens") or 0))
        out: list[StreamItem] = []
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or (choice.get("index") or 0) != 0:
                continue  # n > 1: only the first answer is read
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                out.append(ReasoningDelta(reasoning))
            refusal = delta.get("refusal")
            if isinstance(refusal, str) and refusal:
                out.append(RefusalDelta(refusal))
            content = delta.get("content")
            if isinstance(content, str) and content:
                out.append(content)
            for n, call in enumerate(delta.get("tool_calls") or ()):
                index = call.get("index")
                index = n if index is None else int(index)
                fn = call.get("function") or {}
                args = fn.get("arguments") or ""
                if index not in self._seen:
                    self._seen.add(index)
                    out.append(ToolCallDelta(index, call.get("id") or None, fn.get("name"), args))
                elif args:
                    out.append(ToolCallDelta(index, None, None, args))
            if choice.get("finish_reason"):
                self._finish = str(choice["finish_reason"])
        return out

    def end(self) -> list[StreamItem]:
        finish: Finish = normalise_finish(self._finish)
        return [self._usage, finish] if self._usage is not None else [finish]


class OpenAIChatModel(HTTPModel):
    """A chat-completions model (OpenAI or any compatible server), streaming over httpx.

    Args:
        model: the provider's model name.
        base_url: endpoint root (``.../v1``); default ``OPENAI_BASE_URL`` or ``https://api.openai.com/v1``.
        api_key: default ``OPENAI_API_KEY`` (may be empty for local servers).
        timeout: seconds for connect/write/pool; ``read_timeout`` bounds the wait for the next chunk.
        max_retries / backoff: retries on 408/409/429/5xx and connection errors before any text was
            streamed, waiting ``backoff * 2**n`` s (jittered) or what the server asks for
            (``Retry-After``, ``retry-after-ms``), never more than ``max_retry_wait`` s.
        strict: ``json_schema.strict`` (OpenAI's strict mode needs a restricted schema; off by default).
        native_tools: send an agent's tools as the provider's ``tools`` and stream their arguments
            (default); ``False`` for servers/models without tool calling (the agent then emulates
            tool calls inside its JSON answer).
        extra_body: merged into the request JSON (``temperature``, ``max_tokens``, ...).
        http_client: use this ``httpx.AsyncClient`` (left open); otherwise the model creates one on
            first use and keeps it (connection pooling, at most ``max_connections`` connections;
            further concurrent streams wait for one) until ``aclose()`` / ``async with model:``.
    """

    provider = "OpenAI-compatible"
    key_env = "OPENAI_API_KEY"

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float = 30.0, read_timeout: float = 120.0, max_retries: int = 3,
                 backoff: float = 0.5, max_retry_wait: float = 60.0, strict: bool = False,
                 native_tools: bool = True, extra_body: dict[str, Any] | None = None,
                 http_client: httpx.AsyncClient | None = None, max_connections: int = 100) -> None:
        super().__init__(model,
                         base_url=base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1",
                         api_key=api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", ""),
                         timeout=timeout, read_timeout=read_timeout, max_retries=max_retries,
                         backoff=backoff, http_client=http_client, max_retry_wait=max_retry_wait,
                         max_connections=max_connections)
        self.strict = strict
        self.native_tools = native_tools
        self.extra_body = extra_body or {}

    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def headers(self) -> dict[str, str]:
        if not self.api_key and urlsplit(self.base_url).hostname == "api.openai.com":
            # Fail at once with the fix, instead of a 401 (or a DNS error offline) after a round trip.
            raise ModelError("no OpenAI API key: set OPENAI_API_KEY (or pass api_key=), or point "
                             "OPENAI_BASE_URL at an OpenAI-compatible server that needs none")
        return {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def request_body(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None, name: str,
                     tools: list[ToolSpec] | None = None) -> dict[str, Any]:
        """The JSON body of one streaming request."""
        body: dict[str, Any] = {
            "model": self.name,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": name, "schema": schema, "strict": self.strict}}
        if tools:
            body["tools"] = [{"type": "function",
                              "function": {"name": t.name, "description": t.description,
                                           "parameters": t.parameters}} for t in tools]
        body.update(self.extra_body)
        return body

    async def _events(self, resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        # httpx-sse's line and field decoders; llama.cpp's ``error:`` field (not an SSE field, so an
        # SSE decoder drops it) is looked at before the line reaches the field decoder.
        lines = SSELineDecoder()
        fields = SSEDecoder()

        def event(line: str) -> dict[str, Any] | None:
            if line.startswith("error:"):
                raw = line[6:].lstrip(" ")
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                raise provider_error(body, status=None, fallback=raw[:300] or "unknown error")
            sse = fields.decode(line)
            if sse is None or not sse.data:
                return None
            if sse.data.strip() == "[DONE]":
                return _DONE
            try:
                data: Any = json.loads(sse.data)
            except ValueError as exc:
                if sse.event == "error":
                    raise provider_error(sse.data, status=None, fallback=sse.data[:300]) from exc
                raise ModelError(f"invalid SSE data from the provider: {sse.data[:200]!r}") from exc
            if sse.event == "error":
                raise provider_error(data, status=None, fallback=sse.data[:300])
            if not isinstance(data, dict):
                raise ModelError(f"unexpected SSE data from the provider: {_describe(data)} where a "
                                 f"chat.completion.chunk object was expected: {sse.data[:200]!r}")
            return data

        done = False
        try:
            async for text in resp.aiter_text():
                if done:
                    continue  # read to the end of the body, so the connection goes back to the pool
                for line in lines.decode(text):
                    ev = event(line)
                    if ev is not None:
                        yield ev
                        if ev is _DONE:
                            done = True
                            break
            if not done:
                for line in [*lines.flush(), ""]:
                    ev = event(line)
                    if ev is not None:
                        yield ev
                        if ev is _DONE:
                            break
        except httpx.HTTPError as exc:
            raise ModelError(f"the provider's stream broke off: {exc!r}", retryable=True) from exc

    async def decode(self, events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[StreamItem]:
        decoder = ChatDecoder()
        async for ev in events:
            if ev is not _DONE:
                for item in decoder.feed(ev):
                    yield item
        for item in decoder.end():
            yield item
