"""Per-run state of an agent: one :class:`AgentContext` per ``process()`` call, never shared.

This module stays at ``fieldstream.agents.base.context`` for import compatibility with the agents SDK
(its examples import ``AgentContext`` from here); new code can import it from :mod:`fieldstream.agents`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AgentContext", "Usage"]


@dataclass
class Usage:
    """Token usage summed over the model calls of one run (as reported by the provider)."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """``input_tokens + output_tokens``."""
        return self.input_tokens + self.output_tokens

    def add(self, other: Usage) -> None:
        """Add ``other`` in place."""
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens


@dataclass
class AgentContext:
    """What hooks see about the run in progress.

    ``execution_history`` holds one dict per loop iteration (``iteration``, ``thought``,
    ``tool_results``); ``metadata`` is free for hooks to use; ``usage`` sums the model calls.
    """

    agent_name: str
    input: Any = None
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    iteration: int = 0
    execution_history: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    metadata: dict[str, Any] = field(default_factory=dict)
