"""Compatibility package: ``fieldstream.agents.base.context.AgentContext`` as on the agents SDK page.

Kept so that code written for the SDK (``from ....base.context import AgentContext``) runs after
renaming the import; the same classes are exported by :mod:`fieldstream.agents`.
"""

from .context import AgentContext, Usage

__all__ = ["AgentContext", "Usage"]
