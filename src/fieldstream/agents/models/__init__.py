"""Models: the :class:`Model` protocol and :func:`resolve_model` (``model=``, ``FIELDSTREAM_MODEL``, offline).

One module per provider: ``_offline.py`` (:class:`OfflineModel`, no key, no network), ``_openai.py``
(:class:`OpenAIChatModel`, any OpenAI-compatible endpoint), ``_anthropic.py`` (``AnthropicModel``,
the Messages API) and ``_responses.py`` (``OpenAIResponsesModel``, the Responses API); the last two
share ``_http.py`` (one client per model, retries, provider errors). Providers are imported lazily
by :func:`resolve_model`, so a new provider costs nothing until it is named.

Beyond text: ``_items.py`` defines the typed stream items (:class:`ToolCallDelta`,
:class:`ReasoningDelta`, :class:`RefusalDelta`, :class:`Finish`) of the :class:`ItemModel`
extension (``stream_items(messages, schema, *, name, tools)``), and :class:`ToolSpec`, the
provider-neutral tool definition; see that module's docstring for the contract.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

from ..._errors import ModelError
from ..base.context import Usage

__all__ = [
    "Finish",
    "ItemModel",
    "Message",
    "Model",
    "ModelError",
    "ReasoningDelta",
    "RefusalDelta",
    "StreamItem",
    "ToolCallDelta",
    "ToolSpec",
    "resolve_model",
]

Message = dict[str, str]

from ._items import (  # noqa: E402  (after Message: the providers import it from here)
    Finish,
    ItemModel,
    ReasoningDelta,
    RefusalDelta,
    StreamItem,
    ToolCallDelta,
    ToolSpec,
)


@runtime_checkable
class Model(Protocol):
    """A streaming JSON model.

    ``stream(messages, schema, name=...)`` yields the raw text of one JSON answer as ``str``
    deltas (in any split) and, at most once, a :class:`Usage`. It must release everything it
    holds (HTTP streams, tasks) when the iterator is closed early (``aclose()``/cancellation).
    """

    name: str

    def stream(self, messages: list[Message], schema: dict[str, Any], *,
               name: str = "response") -> AsyncIterator[str | Usage]: ...


_notice_shown = False


def _parse_options(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, text.split(",")):
        key, _, value = part.partition("=")
        out[key.strip()] = value.strip()
    return out


def resolve_model(spec: Model | str | None) -> Model:
    """Turn ``model=`` into a :class:`Model`.

    Strings: ``offline`` (options: ``offline:pace=0,seed=3``), ``openai:gpt-4o-mini`` (``OPENAI_API_KEY``,
    ``OPENAI_BASE_URL``), ``ollama:llama3.2`` (``OLLAMA_BASE_URL``, default ``http://localhost:11434/v1``),
    ``openai-compatible:MODEL@http://host:port/v1``, ``anthropic:claude-sonnet-4-5`` (``ANTHROPIC_API_KEY``,
    ``ANTHROPIC_BASE_URL``), ``openai-responses:gpt-4o-mini`` (the Responses API; ``OPENAI_API_KEY``,
    ``OPENAI_BASE_URL``). ``None``: the ``FIELDSTREAM_MODEL`` environment
    variable, else the offline model with a one-line notice on stderr (once per process).
    """
    global _notice_shown
    if spec is None:
        spec = os.environ.get("FIELDSTREAM_MODEL") or None
        if spec is None:
            if not _notice_shown:
                _notice_shown = True
                sys.stderr.write("fieldstream.agents: no model configured (set FIELDSTREAM_MODEL or pass "
                                 "model=); using the offline model\n")
            spec = "offline"
    if not isinstance(spec, str):
        return spec
    provider, _, rest = spec.partition(":")
    provider = provider.strip().lower()
    if provider == "offline":
        from ._offline import OfflineModel

        opts = _parse_options(rest)
        return OfflineModel(seed=int(opts.get("seed", "0")), pace=float(opts.get("pace", "0.01")))
    if provider == "anthropic":
        from ._anthropic import AnthropicModel

        return AnthropicModel(rest or "claude-sonnet-4-5")
    if provider == "openai-responses":
        from ._responses import OpenAIResponsesModel

        return OpenAIResponsesModel(rest or "gpt-4o-mini")
    from ._openai import OpenAIChatModel

    if provider == "openai":
        return OpenAIChatModel(rest or "gpt-4o-mini")
    if provider == "ollama":
        return OpenAIChatModel(rest or "llama3.2",
                               base_url=os.environ.get("OLLAMA_BASE_URL", "http://localhost:11434/v1"),
                               api_key="ollama")
    if provider == "openai-compatible":
        name, _, url = rest.partition("@")
        return OpenAIChatModel(name, base_url=url or None)
    raise ValueError(f"unknown model {spec!r}: use 'offline', 'openai:NAME', 'ollama:NAME', "
                     "'openai-compatible:NAME@URL', 'anthropic:NAME' or 'openai-responses:NAME'")
