"""Compatibility package: ``fieldstream.agents.base.context.AgentContext`` as on the agents SDK page."""

from .context import AgentContext, Usage

__all__ = ["AgentContext", "Usage"]
