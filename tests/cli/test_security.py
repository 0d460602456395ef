"""The web demo's HTTP security layer (``fieldstream.web._security``): cross-site use, DNS rebinding,
headers; checked on the real app (``create_app``) and on the ``fieldstream serve`` command line.

The CSP hash oracle is independent of the code under test: the inline blocks are found with the
standard library's ``html.parser`` and hashed with ``hashlib``.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from typing import Any

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocket, WebSocketDisconnect  # noqa: E402

from fieldstream import _cli as cli  # noqa: E402
from fieldstream.agents.sse import sse_response  # noqa: E402
from fieldstream.web import STATIC_DIR  # noqa: E402
from fieldstream.web._security import SecurityMiddleware, serve_hosts  # noqa: E402
from fieldstream.web.app import create_app  # noqa: E402
from support.web import STORY, decode_sse, scripted_agent  # noqa: E402

RUN = {"input": "a fable"}


def app_with_counter(**kw: Any) -> tuple[Any, list[int]]:
    """The demo app whose agent factory counts the runs it starts (a started run is a billed run)."""
    started: list[int] = []

    def factory() -> Any:
        started.append(1)
        return scripted_agent()

    return create_app(agent=factory, **kw), started


def client(app: Any, host: str = "127.0.0.1:8000") -> TestClient:
    return TestClient(app, base_url=f"http://{host}")


# ------------------------------------------------------------------------- state changes: POST, Origin


def test_a_get_never_starts_a_run() -> None:
    app, started = app_with_counter()
    c = client(app)
    for method in ("GET", "HEAD"):
        resp = c.request(method, "/api/run", params={"query": "a fable"})
        assert resp.status_code == 405, method
    assert started == []


def test_same_origin_json_post_runs_and_streams_the_result() -> None:
    app, started = app_with_counter()
    c = client(app)
    for headers in ({"Origin": "http://127.0.0.1:8000"}, {"Sec-Fetch-Site": "same-origin"}, {}):
        resp = c.post("/api/run", json=RUN, headers=headers)
        assert resp.status_code == 200, (headers, resp.text)
        assert decode_sse(resp.text)[-1][1:] == ("result", {"result": STORY})
    assert len(started) == 3


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "http://127.0.0.1:8001"},  # another port is another origin
    {"Origin": "https://127.0.0.1:8000"},  # another scheme too
    {"Origin": "null"},  # sandboxed iframe, file:
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_cross_origin_post_is_refused_with_403_before_any_run(headers: dict[str, str]) -> None:
    app, started = app_with_counter()
    resp = client(app).post("/api/run", json=RUN, headers=headers)
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "cross_origin"
    assert "evil" not in resp.text  # a refusal never echoes the request
    assert started == []


def test_allowed_origins_may_post() -> None:
    app, started = app_with_counter(allowed_origins=["https://app.example.com"])
    resp = client(app).post("/api/run", json=RUN, headers={"Origin": "https://app.example.com"})
    assert resp.status_code == 200 and len(started) == 1


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", None])
def test_a_post_without_a_json_body_type_is_refused_with_415(ctype: str | None) -> None:
    # the body types a cross-site form or a preflight-free fetch() can send
    app, started = app_with_counter()
    headers = {} if ctype is None else {"Content-Type": ctype}
    resp = client(app).post("/api/run", content=b'{"input": "a fable"}', headers=headers)
    assert resp.status_code == 415 and started == []


def test_a_bad_json_body_is_a_422_not_a_run() -> None:
    app, started = app_with_counter()
    c = client(app)
    for body in (b"{", b"[]", b'{"input": 3}', b'{"query": "x"}', b'{"input": "' + b"x" * 3000 + b'"}'):
        resp = c.post("/api/run", content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 422, body[:20]
    assert started == []


# ------------------------------------------------------------------------------- Host allow-list


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST:9"])
def test_loopback_hosts_are_answered_by_default(host: str) -> None:
    app, _ = app_with_counter()
    assert client(app, host).get("/api/schema").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example:8000",
                                  "localhost.evil.example", "10.0.0.7:8000"])
def test_other_host_names_are_refused_with_400(host: str) -> None:
    # DNS rebinding: evil.example resolves to 127.0.0.1, but the browser still sends Host: evil.example
    app, started = app_with_counter()
    c = client(app, host)
    assert c.get("/").status_code == 400
    assert c.post("/api/run", json=RUN, headers={"Origin": f"http://{host}"}).status_code == 400
    assert started == []


def test_serve_allows_the_loopback_names_with_its_port_and_the_allow_host_entries() -> None:
    hosts = serve_hosts("127.0.0.1", 8765, ["demo.example.com", "10.0.0.7:8765"])
    assert hosts == ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "demo.example.com", "10.0.0.7:8765"]
    assert serve_hosts("0.0.0.0", 80) == ["127.0.0.1:80", "localhost:80", "[::1]:80"]
    assert serve_hosts("192.168.1.5", 80)[-1] == "192.168.1.5:80"
    assert serve_hosts("fe80::1", 80)[-1] == "[fe80::1]:80"
    mw = SecurityMiddleware(FastAPI(), allowed_hosts=hosts)
    assert mw.host_allowed("localhost:8765") and not mw.host_allowed("localhost:8766")
    assert mw.host_allowed("demo.example.com:443") and not mw.host_allowed("evil.example:8765")
    assert not mw.host_allowed(None) and not mw.host_allowed("")


def test_serve_command_passes_its_host_list_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    calls: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(app))
    code = cli.main(["serve", "--port", "8765", "--allow-host", "demo.example.com", "--allow-origin",
                     "https://demo.example.com"], stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 0
    [app] = calls
    c = TestClient(app, base_url="http://demo.example.com")
    assert c.get("/api/schema").status_code == 200
    assert client(app, "localhost:8765").get("/api/schema").status_code == 200
    assert client(app, "localhost:8000").get("/api/schema").status_code == 400  # not our port
    assert client(app, "evil.example:8765").get("/api/schema").status_code == 400
    # behind a TLS proxy the page's origin is https://demo.example.com while the app sees http
    assert c.post("/api/run", json=RUN, headers={"Origin": "https://demo.example.com"}).status_code == 200
    assert c.post("/api/run", json=RUN, headers={"Origin": "https://evil.example"}).status_code == 403


# ------------------------------------------------------------------------------------------ headers


class _Inline(HTMLParser):
    """The text of every inline <script> and <style> element (the oracle for the CSP hashes)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[tuple[str, str]] = []
        self._tag: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style") and not any(k == "src" for k, _ in attrs):
            self._tag, self._text = tag, []

    def handle_data(self, data: str) -> None:
        if self._tag:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._tag == tag:
            self.blocks.append((tag, "".join(self._text)))
            self._tag = None


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def test_every_response_carries_the_security_headers() -> None:
    app, _ = app_with_counter()
    c = client(app)
    for resp in (c.get("/"), c.get("/api/schema"), c.post("/api/run", json=RUN), c.get("/nope"),
                 c.post("/api/run", json=RUN, headers={"Origin": "https://evil.example"})):
        h = resp.headers
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "no-referrer"
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_the_page_csp_allows_exactly_the_pages_own_inline_blocks_by_hash() -> None:
    app, _ = app_with_counter()
    csp = client(app).get("/").headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    parser = _Inline()
    parser.feed((STATIC_DIR / "index.html").read_text(encoding="utf-8"))
    scripts = [_sha(t) for tag, t in parser.blocks if tag == "script"]
    styles = [_sha(t) for tag, t in parser.blocks if tag == "style"]
    assert scripts and styles
    assert sorted(directives["script-src"]) == sorted(["'self'", *scripts])
    assert sorted(directives["style-src"]) == sorted(["'self'", *styles])
    assert directives["connect-src"] == ["'self'"]


def test_the_middleware_protects_a_users_own_app_that_mounts_sse_response() -> None:
    # the documented way to use it outside `fieldstream serve`
    app = FastAPI()

    @app.post("/story")
    async def story(body: dict[str, Any]) -> Any:
        return sse_response(scripted_agent(), body["input"])

    app.add_middleware(SecurityMiddleware, allowed_hosts=["api.example.com"])
    c = TestClient(app, base_url="https://api.example.com")
    ok = c.post("/story", json=RUN, headers={"Origin": "https://api.example.com"})
    assert ok.status_code == 200 and decode_sse(ok.text)[-1][1] == "result"
    assert ok.headers["x-frame-options"] == "DENY"
    assert c.post("/story", json=RUN, headers={"Origin": "http://api.example.com"}).status_code == 403
    assert TestClient(app, base_url="http://127.0.0.1").post("/story", json=RUN).status_code == 400


def test_an_invalid_body_is_refused_without_echoing_it() -> None:
    # found by the request fuzzer: FastAPI's default 422 echoes the input, and a lone surrogate
    # (legal JSON: "\ud800") cannot be encoded, so the error page itself failed with a 500
    app, started = app_with_counter()
    c = client(app)
    bodies = (b'{"input": "\\ud800"}', b'{"input": "' + b"y" * 200_000 + b'"}', b'{"input": ["<script>"]}')
    for body in bodies:
        resp = c.post("/api/run", content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 422
        assert len(resp.content) < 1000 and b"yyy" not in resp.content and b"script" not in resp.content
        assert resp.json()["error"]["code"] == "invalid_request"
    assert started == []


def test_the_example_in_docs_security_md_runs_and_is_protected() -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, re.DOTALL)
    assert blocks
    ns: dict[str, Any] = {"__name__": "docs_security"}
    for block in blocks:
        exec(compile(block, "docs/security.md", "exec"), ns)
    c = TestClient(ns["app"], base_url="https://api.example.com")
    ok = c.post("/story", json={"input": "hi"}, headers={"Origin": "https://app.example.com"})
    assert ok.status_code == 200 and decode_sse(ok.text)[-1][1] == "result"
    evil = c.post("/story", json={"input": "hi"}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert c.get("/story").status_code == 405


def test_websocket_handshakes_get_the_host_and_origin_checks() -> None:
    app = FastAPI()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    app.add_middleware(SecurityMiddleware, allowed_hosts=["127.0.0.1:8000"])
    c = TestClient(app, base_url="http://127.0.0.1:8000")
    with c.websocket_connect("ws://127.0.0.1:8000/ws", headers={"Origin": "http://127.0.0.1:8000"}) as ok:
        assert ok.receive_text() == "hello"
    for headers, host in (({"Origin": "https://evil.example"}, "127.0.0.1:8000"),
                          ({"Origin": "http://evil.example:8000"}, "evil.example:8000")):
        bad = TestClient(app, base_url=f"http://{host}")
        with pytest.raises(WebSocketDisconnect), \
                bad.websocket_connect(f"ws://{host}/ws", headers=headers) as s:
            s.receive_text()  # a refused handshake: closed before accept
