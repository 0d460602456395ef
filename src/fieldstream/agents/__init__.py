"""The agent layer: agents whose structured output streams field by field (agents SDK compatible).

    >>> from fieldstream.agents import Agent, hook, OfflineModel
    >>> agent = Agent(name="Demo", enable_streaming=True, model=OfflineModel(pace=0))

``Agent``, ``@hook``, ``@tool``, ``AgentContext`` follow the agents SDK streaming page; models are
:class:`OpenAIChatModel` (any OpenAI-compatible endpoint) and :class:`OfflineModel` (no key, no
network). Server-sent events: :mod:`fieldstream.agents.sse`. See ``docs/agents.md``.

Exceptions (all in the one tree rooted at :class:`fieldstream.FieldstreamError`): :class:`AgentError`
(base) > :class:`OutputValidationError` (output still invalid after retries), :class:`ModelError`
(provider failures), :class:`HookError` (hooks never raise into the run: hooks receive it via
``stream_error``/``agent_error``).
"""

from .._errors import AgentError, HookError, ModelError, OutputValidationError
from ._agent import Agent, AgentEvent
from ._hooks import HOOK_EVENTS, Hook, hook
from ._models import Message, Model, resolve_model
from ._offline import OfflineModel
from ._openai import OpenAIChatModel
from ._tools import Tool, tool
from .base.context import AgentContext, Usage

__all__ = [
    "HOOK_EVENTS",
    "Agent",
    "AgentContext",
    "AgentError",
    "AgentEvent",
    "Hook",
    "HookError",
    "Message",
    "Model",
    "ModelError",
    "OfflineModel",
    "OpenAIChatModel",
    "OutputValidationError",
    "Tool",
    "Usage",
    "hook",
    "resolve_model",
    "tool",
]
