"""The agent layer: agents whose structured output streams field by field (agents SDK compatible).

    >>> from fieldstream.agents import Agent, hook, OfflineModel
    >>> agent = Agent(name="Demo", enable_streaming=True, model=OfflineModel(pace=0))

``Agent``, ``@hook``, ``@tool``, ``AgentContext`` follow the agents SDK streaming page; models are
:class:`OpenAIChatModel` (any OpenAI-compatible endpoint), :class:`AnthropicModel` (Messages API),
:class:`OpenAIResponsesModel` (Responses API) and :class:`OfflineModel` (no key, no network).
:meth:`Agent.stream` yields typed events (:class:`StreamStart`, :class:`Chunk`, :class:`Field`,
:class:`StreamEnd`, :class:`StreamError`, :class:`Result`; :class:`RunError` is what the encoders
make of a failed run). Server-sent events: :mod:`fieldstream.agents.sse`. See ``docs/agents.md``.

Layout: ``_agent.py`` (the loop), ``_call.py`` (one streamed model call), ``_events.py``,
``_hooks.py``, ``_tools.py``, ``_safe.py`` (public error messages), ``_sse.py`` (the encoder),
``models/`` (protocol, resolution, providers), ``base/context.py`` (SDK import path).

Exceptions (all in the one tree rooted at :class:`fieldstream.FieldstreamError`): :class:`AgentError`
(base) > :class:`OutputValidationError` (output still invalid after retries), :class:`ModelError`
(provider failures; subclasses :class:`ProviderError` with the provider's own message,
:class:`RefusalError` with the refusal text, :class:`TruncatedOutputError` with the partial value),
:class:`HookError` (hooks never raise into the run: hooks receive it via
``stream_error``/``agent_error``).
"""

from .._errors import (
    AgentError,
    HookError,
    LimitExceededError,
    ModelError,
    ModelStalledError,
    OutputTooLargeError,
    OutputValidationError,
    ProviderError,
    RefusalError,
    RunTimeoutError,
    TruncatedOutputError,
)
from ._agent import Agent
from ._events import AgentEvent, Chunk, Field, Result, RunError, StreamEnd, StreamError, StreamStart
from ._hooks import HOOK_EVENTS, Hook, hook
from ._tools import Tool, tool
from .base.context import AgentContext, Usage
from .models import Message, Model, resolve_model
from .models._anthropic import AnthropicModel
from .models._offline import OfflineModel
from .models._openai import OpenAIChatModel
from .models._responses import OpenAIResponsesModel

__all__ = [
    "HOOK_EVENTS",
    "Agent",
    "AgentContext",
    "AgentError",
    "AgentEvent",
    "AnthropicModel",
    "Chunk",
    "Field",
    "Hook",
    "HookError",
    "LimitExceededError",
    "Message",
    "Model",
    "ModelError",
    "ModelStalledError",
    "OfflineModel",
    "OpenAIChatModel",
    "OpenAIResponsesModel",
    "OutputTooLargeError",
    "OutputValidationError",
    "ProviderError",
    "RefusalError",
    "Result",
    "RunError",
    "RunTimeoutError",
    "StreamEnd",
    "StreamError",
    "StreamStart",
    "Tool",
    "TruncatedOutputError",
    "Usage",
    "hook",
    "resolve_model",
    "tool",
]
