"""Memory per slow client: N clients that never read, each running an agent whose answer is SIZE MB.

Starts ``fieldstream serve``'s app (``create_app``) under uvicorn in a child process, opens N raw
sockets that POST /api/run and then never read, and samples the server's RSS (``/proc``) until it
stops growing (or the runs end by the send timeout); prints RSS growth per client and how many
model characters each run had pulled when it stalled.

    python bench/slow_clients.py [--clients 5] [--mb 10] [--seconds 20] [--send-timeout 0]

Used for the figures in docs/security.md. Linux only (reads /proc/PID/status).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time

SERVER = r"""
import sys, json, asyncio
import uvicorn
from fieldstream.agents import Agent, Usage
from fieldstream.web.app import create_app
from pydantic import BaseModel

MB = float(sys.argv[2]); PULLED = [0]

class Out(BaseModel):
    content: str

class Big:
    async def stream(self, messages, schema, *, name="call"):
        if name == "think":
            yield '{"reasoning": "ok", "tool_calls": [], "is_complete": true, "final_result": null}'
            return
        yield '{"content": "'
        piece = "x" * 4096
        for _ in range(int(MB * 1024 * 1024 / 4096)):
            PULLED[0] += len(piece)
            yield piece
            await asyncio.sleep(0)
        yield '"}'

kw = json.loads(sys.argv[3])
def agent():
    return Agent(name="Big", output_schema=Out, model=Big(), enable_streaming=True, **kw.get("agent", {}))
app = create_app(agent=agent, **kw.get("app", {}))

@app.get("/pulled")
async def pulled():
    return {"pulled": PULLED[0], "tasks": len(asyncio.all_tasks())}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error")
"""


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def get(port: int, path: str) -> dict:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=5)
    ap.add_argument("--mb", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--options", default="{}", help="JSON: {'agent': {...}, 'app': {...}}")
    args = ap.parse_args()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(args.mb), args.options])
    try:
        for _ in range(200):
            try:
                get(port, "/pulled")
                break
            except OSError:
                time.sleep(0.05)
        base = rss_kb(proc.pid)
        socks = []
        body = json.dumps({"input": "x"}).encode()
        for _ in range(args.clients):
            c = socket.socket()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.connect(("127.0.0.1", port))
            c.sendall(b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (port, len(body), body))
            socks.append(c)  # never read
        peak = base
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.seconds:
            time.sleep(0.5)
            peak = max(peak, rss_kb(proc.pid))
        st = get(port, "/pulled")
        grow = (peak - base) / 1024
        print(json.dumps({"clients": args.clients, "answer_mb": args.mb,
                          "base_rss_mb": round(base / 1024, 1),
                          "peak_growth_mb": round(grow, 1), "per_client_mb": round(grow / args.clients, 2),
                          "model_chars_pulled_mb": round(st["pulled"] / 2**20, 2),
                          "tasks_after": st["tasks"]}))
        for c in socks:
            c.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
