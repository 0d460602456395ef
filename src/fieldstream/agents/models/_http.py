"""What the httpx providers without an SDK share: one client per model, errors, retries, SSE.

Rules kept here (and only here) for :class:`~fieldstream.agents.models.AnthropicModel` and
:class:`~fieldstream.agents.models.OpenAIResponsesModel`:

* one ``httpx.AsyncClient`` per model object, created on first use (connection pooling across
  calls, at most ``max_connections`` open, all kept alive; more concurrent streams wait for a free
  connection, without a pool timeout), closed by ``aclose()`` / ``async with model:``; a client
  passed as ``http_client=`` is the caller's and is never closed here;
* an HTTP error status becomes :class:`~fieldstream.ProviderError` with the provider's own message
  (``{"error": {"type", "message", "code"}}``), its type and code;
* retries (``max_retries``, jittered backoff ``backoff * 2**n`` s minus up to ``jitter`` of it, never
  more than ``max_retry_wait`` s, 60 by default) happen only before any item was yielded, for
  408/409/429/5xx, connection failures and error events the provider marks as transient
  (Anthropic ``overloaded_error``). ``Retry-After`` (seconds or an HTTP date) and
  ``retry-after-ms`` set the delay (capped by ``max_retry_wait``); ``x-should-retry: true/false``
  overrides the status rule;
* a 200 answer that is not an event stream (a JSON error body) is read whole and raised as
  :class:`~fieldstream.ProviderError` with its message (``ModelError`` if it holds no error);
* the event stream is decoded by httpx-sse (lines end at CR, LF, CRLF only; multi-line ``data``).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import httpx
from httpx_sse import EventSource

from ..._errors import ModelError, ProviderError
from ..base.context import Usage
from ._items import StreamItem, ToolSpec, text_only

__all__ = ["HTTPModel", "provider_error", "retry_delay"]

_RETRY_STATUS = frozenset({408, 409, 429})
_M = TypeVar("_M", bound="HTTPModel")


def retry_delay(headers: httpx.Headers | dict[str, str], now: float | None = None) -> float | None:
    """The delay a response asks for: ``retry-after-ms``, then ``Retry-After`` (seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def provider_error(body: Any, *, status: int | None, fallback: str,
                   retryable_types: frozenset[str] = frozenset()) -> ProviderError:
    """A :class:`ProviderError` from a decoded error body or event (``{"error": {...}}`` or flat)."""
    err = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, dict):
        message = str(err.get("message") or fallback)
        etype = err.get("type")
        code = err.get("code")
    else:
        message, etype, code = (str(err) if err else fallback), None, None
    retryable = (status is not None and (status in _RETRY_STATUS or status >= 500)) or (
        etype in retryable_types or code in retryable_types)
    where = f"HTTP {status}" if status is not None else "error event"
    label = f" ({etype})" if etype else ""
    return ProviderError(f"{where}{label}: {message}", status=status,
                         provider_type=str(etype) if etype is not None else None,
                         code=str(code) if code is not None else None, retryable=retryable, body=body)


class HTTPModel:
    """Base of the SSE providers: the client, the request/retry loop and the error mapping.

    Subclasses set ``provider``/``key_env``/``retryable_types``, and implement ``url()``, ``headers()``
    and ``decode(events)`` (event dicts in, :mod:`._items` out).
    """

    provider = "provider"
    key_env = ""
    retryable_types: frozenset[str] = frozenset()

    def __init__(self, model: str, *, base_url: str, api_key: str | None, timeout: float,
                 read_timeout: float, max_retries: int, backoff: float,
                 http_client: httpx.AsyncClient | None, max_retry_wait: float = 60.0,
                 jitter: float = 0.25, max_connections: int = 100) -> None:
        self.name = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        # no pool timeout: with more concurrent streams than connections, a stream waits for a free
        # connection instead of failing (the read timeout still bounds every wait for data)
        self.timeout = httpx.Timeout(timeout, read=read_timeout, pool=None)
        self.limits = httpx.Limits(max_connections=max_connections,
                                   max_keepalive_connections=max_connections)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait  # the longest wait between two attempts, in seconds
        self.jitter = jitter  # a backoff wait is shortened by up to this fraction, at random
        self._client = http_client
        self._own_client = http_client is None
        self.requests = 0  # HTTP requests sent by this model object (retries included)
        self.sleep: Callable[[float], Any] = asyncio.sleep  # the backoff wait (replaceable in tests)

    # ------------------------------------------------------------------ client lifecycle

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The model's one client (created on first use)."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, limits=self.limits)
        return self._client

    async def aclose(self) -> None:
        """Close the model's own HTTP client (a client given as ``http_client=`` is left open)."""
        if self._own_client and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def __aenter__(self: _M) -> _M:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ subclass hooks

    def url(self) -> str:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def decode(self, events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[StreamItem]:
        raise NotImplementedError

    def request_body(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None, name: str,
                     tools: list[ToolSpec] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def stream_items(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None, *,
                     name: str = "response",
                     tools: list[ToolSpec] | None = None) -> AsyncIterator[StreamItem]:
        """Typed items of one answer (see :mod:`fieldstream.agents.models._items`)."""
        return self.post_stream(self.request_body(messages, schema, name, tools))

    def stream(self, messages: list[dict[str, Any]], schema: dict[str, Any], *,
               name: str = "response") -> AsyncIterator[str | Usage]:
        """The answer's text (the :class:`Model` protocol); a refusal or cut answer raises."""
        return text_only(self.post_stream(self.request_body(list(messages), schema, name)))

    def require_key(self) -> str:
        if not self.api_key:
            raise ModelError(f"no {self.provider} API key: set {self.key_env} (or pass api_key=)")
        return self.api_key

    # ------------------------------------------------------------------ the request loop

    async def post_stream(self, body: dict[str, Any]) -> AsyncIterator[StreamItem]:
        """POST ``body``; yield the decoded items, retrying transient failures before the first item."""
        headers = {"accept": "text/event-stream", "content-type": "application/json", **self.headers()}
        attempt = 0
        while True:
            yielded = False
            try:
                self.requests += 1
                async with self.http_client.stream("POST", self.url(), json=body, headers=headers,
                                                   timeout=self.timeout) as resp:
                    if resp.status_code != 200:
                        raw = await resp.aread()
                        raise self._status_error(resp, raw)
                    ctype = resp.headers.get("content-type", "").partition(";")[0].strip().lower()
                    if ctype and ctype != "text/event-stream":
                        raise self._body_error(resp, await resp.aread(), ctype)
                    async for item in self.decode(self._events(resp)):
                        yielded = True
                        yield item
                    return
            except ModelError as exc:
                if yielded or not exc.retryable or attempt >= self.max_retries:
                    raise
                delay = self._backoff(attempt)
                if exc.retry_after is not None:
                    delay = exc.retry_after
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt >= self.max_retries:
                    raise ModelError(f"cannot connect to {self.base_url}: {exc!r}", retryable=True) from exc
                delay = self._backoff(attempt)
            attempt += 1
            await self.sleep(min(delay, self.max_retry_wait))

    def _backoff(self, attempt: int) -> float:
        """The wait before retry ``attempt + 1`` when the server named none: exponential, jittered."""
        return float(self.backoff * 2 ** attempt * (1 - self.jitter * random.random()))

    def _body_error(self, resp: httpx.Response, raw: bytes, ctype: str) -> ModelError:
        """A 200 answer that is no event stream: the provider's error if it holds one."""
        text = raw.decode("utf-8", "replace")
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict) and (body.get("error") is not None or body.get("object") == "error"):
            return provider_error(body, status=resp.status_code, fallback=text[:500],
                                  retryable_types=self.retryable_types)
        return ModelError(f"{self.provider} answered {ctype!r}, not an event stream: {text[:200]!r}")

    def _status_error(self, resp: httpx.Response, raw: bytes) -> ModelError:
        text = raw.decode("utf-8", "replace")
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = None
        err = provider_error(body if body is not None else text[:500], status=resp.status_code,
                             fallback=text[:500] or resp.reason_phrase,
                             retryable_types=self.retryable_types)
        should = resp.headers.get("x-should-retry")
        if should in ("true", "false"):
            err.retryable = should == "true"
        err.retry_after = retry_delay(resp.headers)
        return err

    async def _events(self, resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        source = EventSource(resp).aiter_sse()
        try:
            async for sse in source:
                if not sse.data or sse.data == "[DONE]":
                    continue
                try:
                    data = json.loads(sse.data)
                except ValueError as exc:
                    raise ModelError(f"invalid SSE data from {self.provider}: {sse.data[:200]!r}") from exc
                if not isinstance(data, dict):
                    raise ModelError(f"unexpected SSE data from {self.provider}: {sse.data[:200]!r}")
                if sse.event == "error" and "type" not in data:
                    data = {"type": "error", **data}
                yield data
        except httpx.HTTPError as exc:
            raise ModelError(f"the {self.provider} stream broke off: {exc!r}", retryable=True) from exc
        finally:
            await source.aclose()
