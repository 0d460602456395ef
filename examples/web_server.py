"""The page's "Web Server Example", plus the ready-made SSE adapter.

Run: ``python examples/web_server.py`` then open http://127.0.0.1:8000/stream?query=hi (the page's
plain ``data:`` stream, think text only) or http://127.0.0.1:8000/sse?query=hi (typed frames:
``chunk``/``field``/``result``, the whole run).
"""

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from fieldstream.agents import Agent, hook
from fieldstream.agents.base.context import AgentContext
from fieldstream.agents.sse import sse_response

app = FastAPI()


@app.get("/stream")
async def stream_response(query: str):
    queue = asyncio.Queue()

    @hook("stream_chunk")
    async def on_chunk(context: AgentContext, chunk_data: dict, **kwargs):
        delta = chunk_data.get("delta", "")
        if delta:
            await queue.put(delta)

    @hook("stream_end")
    async def on_end(context: AgentContext, call_type: str, **kwargs):
        await queue.put(None)  # Signal end

    agent = Agent(
        name="StreamAgent",
        enable_streaming=True,
        hooks=[on_chunk, on_end]
    )

    async def generate():
        # Start agent in background
        task = asyncio.create_task(agent.process(query))

        while True:
            chunk = await queue.get()
            if chunk is None:
                break
            yield f"data: {chunk}\n\n"

        await task

    return StreamingResponse(
        generate(),
        media_type="text/event-stream"
    )


sse_agent = Agent(name="SSEAgent", enable_streaming=True)


@app.get("/sse")
async def sse(query: str, request: Request):
    # no queue plumbing: frames end with a `result` (or `error`) frame; disconnects cancel the run
    return sse_response(sse_agent, query, request=request)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
