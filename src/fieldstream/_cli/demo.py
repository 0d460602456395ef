"""``fieldstream demo``: run the story agent and render its stream live in the terminal with rich.

The renderer folds the agent's typed events (:meth:`fieldstream.agents.Agent.stream`) with
:class:`fieldstream._cli._view.RunState`, the same rules the web page applies to the SSE frames, so
the terminal and the browser show the same thing: the think stream (dim), one panel per field of the
result filling as its deltas arrive, a check mark when a field is complete and valid (a cross when
invalid), then the typed result. No SSE text is involved, so no model text can pose as an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import IO, Any

from pydantic import BaseModel, ValidationError
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.pretty import Pretty
from rich.text import Text

from .._demo import StoryOutput, make_agent
from ..agents import Agent, Model, RunError
from ._main import EXIT_INVALID, EXIT_OK
from ._view import RunState

__all__ = ["consume", "render", "run_demo"]

_CURSOR = "\u258c"


def render(state: RunState, model: type[BaseModel] = StoryOutput, query: str = "") -> RenderableType:
    """One frame of the live display for ``state``."""
    parts: list[RenderableType] = []
    head = Text()
    head.append("fieldstream demo", style="bold")
    if query:
        head.append(f"  \u00b7  {query}", style="italic")
    head.append(f"  \u00b7  {state.phase}", style="cyan")
    parts.append(head)
    if state.think:
        think = Text(state.think + (_CURSOR if state.phase == "think" else ""), style="dim italic")
        parts.append(Panel(think, title="think", title_align="left", border_style="dim"))
    for view in state.fields.values():
        if view.done and view.valid:
            mark, style = Text(" \u2713", style="bold green"), "green"
        elif view.done:
            mark, style = Text(" \u2717", style="bold red"), "red"
        elif view.started:
            mark, style = Text(" \u2026", style="yellow"), "yellow"
        else:
            mark, style = Text(""), "dim"
        title = Text.assemble(Text(view.name, style="bold"), mark)
        body = Text()
        if view.is_list:
            for i, item in enumerate(view.items):
                if i:
                    body.append("\n")
                body.append(f"{i + 1}. ", style="dim")
                body.append(item)
                if i < len(view.items_done) and view.items_done[i]:
                    body.append(" \u2713", style="green")
                elif not view.done:
                    body.append(_CURSOR, style="yellow")
        else:
            body.append(view.text)
            if view.started and not view.done:
                body.append(_CURSOR, style="yellow")
        if view.done and not view.valid and view.errors:
            for e in view.errors:
                msg = e.get("msg", e) if isinstance(e, dict) else e
                body.append(f"\n{msg}", style="red")
        parts.append(Panel(body, title=title, title_align="left", border_style=style))
    if state.result is not None:
        try:
            typed: Any = model.model_validate(state.result)
        except ValidationError:
            typed = state.result
        parts.append(Panel(Pretty(typed), title=f"typed result: {model.__name__}", title_align="left",
                           border_style="bold green"))
    if state.error:
        parts.append(Panel(Text(state.error, style="red"), title="error", title_align="left",
                           border_style="red"))
    return Group(*parts)


async def consume(agent: Agent, query: str, state: RunState, on_update: Callable[[], None]) -> None:
    """Run ``agent`` on ``query``, fold each event into ``state`` and call ``on_update``.

    A failed run is folded as a :class:`fieldstream.agents.RunError` (shown in full: this is the
    user's own terminal)."""
    try:
        async for ev in agent.stream(query):
            state.apply(ev)
            on_update()
    except Exception as exc:
        state.apply(RunError(exc))
        on_update()


def run_demo(*, query: str, model: Model | str | None = None, seed: int = 7, pace: float | None = None,
             plain: bool = False, width: int | None = None, out: IO[str], err: IO[str],
             force_terminal: bool | None = None) -> int:
    """Run the demo; return the exit code (1 if the run failed or produced no result).

    ``model``: a model or a spec (``offline`` by default, ``scripted`` replays the demo's story);
    ``force_terminal`` makes rich treat ``out`` as a terminal (live redraw) or not.
    """
    agent = make_agent(model, seed=seed, pace=pace)
    state = RunState.for_model(StoryOutput)
    console = Console(file=out, width=width, highlight=False, force_terminal=force_terminal)

    if plain or not console.is_terminal:
        asyncio.run(consume(agent, query, state, lambda: None))
        console.print(render(state, StoryOutput, query))
    else:
        with Live(render(state, StoryOutput, query), console=console, refresh_per_second=20,
                  vertical_overflow="visible") as live:
            last: list[Any] = [None]

            def update() -> None:
                # text deltas are picked up by Live's own refresh (20/s); a field that starts or
                # completes, a new list item or a new phase is drawn at once
                key = (state.phase, state.think == "",
                       tuple((v.started, v.done, len(v.items)) for v in state.fields.values()))
                live.update(render(state, StoryOutput, query), refresh=key != last[0])
                last[0] = key

            asyncio.run(consume(agent, query, state, update))
    if state.error or state.result is None:
        return EXIT_INVALID
    return EXIT_OK
