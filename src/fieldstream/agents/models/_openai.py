"""``OpenAIChatModel``: any OpenAI-compatible ``/v1/chat/completions`` streaming endpoint, over httpx.

Works with OpenAI, Ollama, vLLM, llama.cpp server, LM Studio, OpenRouter. Sends the JSON schema as
``response_format`` (``json_schema``), reads the SSE stream (``data: {...}`` ... ``data: [DONE]``)
with httpx-sse,
retries 429/5xx and connection failures with exponential backoff (honouring ``Retry-After``) before
any text was streamed, and closes the HTTP stream when the caller stops iterating or is cancelled.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from httpx_sse import EventSource

from ..._errors import ModelError
from ..base.context import Usage
from . import Message

__all__ = ["OpenAIChatModel"]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds form only)."""
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class OpenAIChatModel:
    """A chat-completions model.

    Args:
        model: the provider's model name.
        base_url: endpoint root (``.../v1``); default ``OPENAI_BASE_URL`` or ``https://api.openai.com/v1``.
        api_key: default ``OPENAI_API_KEY`` (may be empty for local servers).
        timeout: seconds for connect/write/pool; ``read_timeout`` bounds the wait for the next chunk.
        max_retries / backoff: retries on 429/5xx/connection errors, sleeping ``backoff * 2**n`` s.
        strict: ``json_schema.strict`` (OpenAI's strict mode needs a restricted schema; off by default).
        extra_body: merged into the request JSON (``temperature``, ...).
        http_client: reuse an ``httpx.AsyncClient`` (otherwise one client per call, closed after it).
    """

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float = 30.0, read_timeout: float = 120.0, max_retries: int = 3,
                 backoff: float = 0.5, strict: bool = False, extra_body: dict[str, Any] | None = None,
                 http_client: httpx.AsyncClient | None = None) -> None:
        self.name = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self.timeout = httpx.Timeout(timeout, read=read_timeout)
        self.max_retries = max_retries
        self.backoff = backoff
        self.strict = strict
        self.extra_body = extra_body or {}
        self.http_client = http_client
        self.sleep = asyncio.sleep  # the backoff wait (replaceable in tests)

    def request_body(self, messages: list[Message], schema: dict[str, Any], name: str) -> dict[str, Any]:
        """The JSON body of one streaming request."""
        return {
            "model": self.name,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": name, "schema": schema, "strict": self.strict}},
            **self.extra_body,
        }

    async def stream(self, messages: list[Message], schema: dict[str, Any], *,
                     name: str = "response") -> AsyncIterator[str | Usage]:
        """Stream the answer's text deltas, then the usage (if the server reports it)."""
        if not self.api_key and urlsplit(self.base_url).hostname == "api.openai.com":
            # Fail at once with the fix, instead of a 401 (or a DNS error offline) after a round trip.
            raise ModelError("no OpenAI API key: set OPENAI_API_KEY (or pass api_key=), or point "
                             "OPENAI_BASE_URL at an OpenAI-compatible server that needs none")
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = self.request_body(messages, schema, name)
        client = self.http_client or httpx.AsyncClient(timeout=self.timeout)
        try:
            attempt = 0
            while True:
                try:
                    async with client.stream("POST", f"{self.base_url}/chat/completions", json=body,
                                             headers=headers, timeout=self.timeout) as resp:
                        if resp.status_code != 200:
                            text = (await resp.aread()).decode("utf-8", "replace")[:500]
                            err = ModelError(f"HTTP {resp.status_code} from {self.base_url}: {text}",
                                             status=resp.status_code,
                                             retryable=resp.status_code == 429 or resp.status_code >= 500)
                            err.retry_after = _retry_after(resp.headers.get("retry-after"))
                            raise err
                        async for item in self._events(resp):
                            yield item
                        return
                except ModelError as exc:
                    if not exc.retryable or attempt >= self.max_retries:
                        raise
                    delay = max(self.backoff * 2 ** attempt, min(exc.retry_after or 0.0, 60.0))
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    if attempt >= self.max_retries:
                        raise ModelError(f"cannot connect to {self.base_url}: {exc!r}",
                                         retryable=True) from exc
                    delay = self.backoff * 2 ** attempt
                attempt += 1
                await self.sleep(delay)
        finally:
            if self.http_client is None:
                await client.aclose()

    async def _events(self, resp: httpx.Response) -> AsyncIterator[str | Usage]:
        # The one SSE decoder of the project (httpx-sse): lines end at CR, LF or CRLF only, never at
        # U+2028/U+2029/U+0085 inside a JSON string; multi-line ``data``, comments, ``retry`` handled.
        done = False
        source = EventSource(resp).aiter_sse()
        try:
            async for sse in source:
                data = sse.data
                if data == "[DONE]":
                    done = True
                    break
                if not data:
                    continue
                try:
                    chunk = json.loads(data)
                except ValueError as exc:
                    raise ModelError(f"invalid SSE data from the provider: {data[:200]!r}") from exc
                if sse.event == "error" or (isinstance(chunk, dict) and "error" in chunk):
                    err = chunk.get("error", chunk) if isinstance(chunk, dict) else chunk
                    msg = err.get("message", str(err)) if isinstance(err, dict) else str(err)
                    raise ModelError(f"provider error: {msg}")
                if not isinstance(chunk, dict):
                    continue
                for choice in chunk.get("choices") or ():
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        yield content
                usage = chunk.get("usage")
                if usage:
                    yield Usage(requests=1, input_tokens=int(usage.get("prompt_tokens") or 0),
                                output_tokens=int(usage.get("completion_tokens") or 0))
        except httpx.HTTPError as exc:
            raise ModelError(f"the provider's stream broke off: {exc!r}") from exc
        finally:
            await source.aclose()
        if not done:
            raise ModelError("the provider's stream ended without [DONE]")
