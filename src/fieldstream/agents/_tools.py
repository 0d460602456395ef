"""The ``@tool`` decorator: a typed function the agent may call, with a Pydantic parameters schema."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, create_model

__all__ = ["Tool", "tool"]


class Tool:
    """A callable tool: ``name``, ``description``, ``parameters`` (a Pydantic model) and ``run()``.

    Plain functions run in a worker thread so that several tool calls of one step run in parallel.
    """

    def __init__(self, func: Callable[..., Any], name: str | None = None,
                 description: str | None = None) -> None:
        self.func = func
        self.name = name or func.__name__
        self.description = description or inspect.getdoc(func) or ""
        hints = get_type_hints(func)
        fields: dict[str, Any] = {}
        for pname, param in inspect.signature(func).parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            ann = hints.get(pname, Any)
            default = ... if param.default is param.empty else param.default
            fields[pname] = (ann, default)
        self.parameters: type[BaseModel] = create_model(
            f"{self.name}_parameters", __config__=ConfigDict(extra="forbid"), **fields)
        self.__name__ = self.name
        self.__doc__ = func.__doc__

    def json_schema(self) -> dict[str, Any]:
        """JSON schema of the parameters object."""
        return self.parameters.model_json_schema()

    async def run(self, parameters: dict[str, Any]) -> Any:
        """Validate ``parameters`` and call the function (raises ``pydantic.ValidationError``)."""
        args = self.parameters.model_validate(parameters)
        kwargs = {k: getattr(args, k) for k in type(args).model_fields}
        if inspect.iscoroutinefunction(self.func):
            return await self.func(**kwargs)
        out = await asyncio.to_thread(self.func, **kwargs)
        if inspect.isawaitable(out):
            out = await out
        return out

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"


@overload
def tool(func: Callable[..., Any], /) -> Tool: ...
@overload
def tool(*, name: str | None = None,
         description: str | None = None) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(func: Callable[..., Any] | None = None, /, *, name: str | None = None,
         description: str | None = None) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """``@tool`` or ``@tool(name=..., description=...)``: turn a typed function into a :class:`Tool`."""
    if func is not None:
        return Tool(func)

    def wrap(f: Callable[..., Any]) -> Tool:
        return Tool(f, name=name, description=description)

    return wrap
