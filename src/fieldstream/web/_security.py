"""The HTTP security layer of the web demo, usable by any ASGI app that serves agent runs.

:class:`SecurityMiddleware` is a plain ASGI middleware (no Starlette ``BaseHTTPMiddleware``, so
streamed responses pass through untouched, frame by frame). Everything it enforces lives here:

* **Host allow-list** (DNS rebinding): a request whose ``Host`` header is not in ``allowed_hosts``
  gets ``400``. An entry is ``name`` (any port) or ``name:port``; ``"*"`` turns the check off.
  ``fieldstream serve`` allows the loopback names ``127.0.0.1``, ``localhost`` and ``[::1]`` with its
  port (plus ``--allow-host`` entries).
* **Origin check** (cross-site request forgery): an unsafe request (any method but GET, HEAD,
  OPTIONS) from a browser on another origin gets ``403``. The browser's ``Origin`` header must equal
  the request's own origin (``http://`` + ``Host``) or one of ``allowed_origins``; ``Origin: null``
  (sandboxed frames, ``file:``) is refused. Without ``Origin``, ``Sec-Fetch-Site`` (when sent) must be
  ``same-origin`` or ``none``. Clients that send neither (curl, httpx, server-to-server) are not
  browsers acting for a visitor and pass.
* The same Host and Origin checks for **WebSocket** handshakes (cross-site WebSocket hijacking): a
  refused handshake is closed before it is accepted (the server answers 403).
* **JSON bodies** for unsafe requests: a body whose ``Content-Type`` is not JSON (``application/json``
  or ``+json``) gets ``415``. An HTML form or a "simple" cross-site ``fetch()`` can only send
  ``text/plain``, form or multipart bodies without a CORS preflight, so this closes the same door a
  second time.
* **Response headers** on every response: ``Content-Security-Policy`` (``default-src 'none'``, scripts
  and styles from this origin or with the SHA-256 of the page's own inline blocks: no injected inline
  script can run; ``frame-ancestors 'none'``), ``X-Frame-Options: DENY``,
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``Cross-Origin-Opener-Policy: same-origin`` and ``Cross-Origin-Resource-Policy: same-origin``. A
  header the app set itself is kept.

Refusals are small JSON bodies ``{"error": {"code", "message"}}`` and never echo the request.

Use it around your own app that mounts :func:`fieldstream.agents.sse.sse_response`
(``from fieldstream.web import SecurityMiddleware, page_csp``)::

    app.add_middleware(SecurityMiddleware, allowed_hosts=["api.example.com"],
                       csp=page_csp(INDEX_HTML))
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

__all__ = ["DEFAULT_CSP", "SAFE_METHODS", "SecurityMiddleware", "inline_hashes", "loopback_hosts", "page_csp",
           "serve_hosts"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  #: methods that must not change state

#: the policy when no page is given: nothing may load, nothing may frame the app
DEFAULT_CSP = "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

_BLOCK = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)


def inline_hashes(html: str) -> dict[str, list[str]]:
    """CSP source expressions (``'sha256-...'``) of the inline ``<script>`` and ``<style>`` blocks.

    The hash covers the exact text between the tags, as browsers compute it (UTF-8). Scripts with a
    ``src`` attribute are not inline and are covered by ``'self'``.
    """
    out: dict[str, list[str]] = {"script": [], "style": []}
    for tag, attrs, body in _BLOCK.findall(html):
        if tag.lower() == "script" and re.search(r"\bsrc\s*=", attrs, re.IGNORECASE):
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        out[tag.lower()].append(f"'sha256-{digest}'")
    return out


def page_csp(html: str) -> str:
    """A Content-Security-Policy for ``html``: its own inline blocks (by hash) and this origin only.

    No ``'unsafe-inline'``, no ``'unsafe-eval'``: a ``<script>``, an ``onerror=`` attribute or a
    ``javascript:`` URL injected into the page does not run. ``connect-src 'self'`` lets the page
    fetch its API; nothing can frame it.
    """
    h = inline_hashes(html)
    script = " ".join(["'self'", *h["script"]])
    style = " ".join(["'self'", *h["style"]])
    return (f"default-src 'none'; script-src {script}; style-src {style}; connect-src 'self'; "
            "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def loopback_hosts(port: int | None) -> list[str]:
    """The loopback ``Host`` values (``127.0.0.1``, ``localhost``, ``[::1]``) with ``port``, if given."""
    names = ["127.0.0.1", "localhost", "[::1]"]
    return names if port is None else [f"{n}:{port}" for n in names]


def _split_host(value: str) -> tuple[str, str | None]:
    """``("name", "port" or None)`` of a Host header or allow-list entry (IPv6 in brackets)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return value, None
        rest = value[end + 1:]
        return value[:end + 1], rest[1:] if rest.startswith(":") else None
    name, sep, port = value.rpartition(":")
    return (name, port) if sep and port.isdigit() else (value, None)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class SecurityMiddleware:
    """Host allow-list; Origin and JSON-body checks of unsafe methods; security headers (module doc).

    Args:
        app: the ASGI app to wrap.
        allowed_hosts: ``Host`` values to accept (``name`` or ``name:port``); ``None`` or ``["*"]``
            accepts any (use that only behind a proxy that checks Host itself).
        allowed_origins: extra origins (``https://app.example.com``) allowed to send unsafe requests
            besides the request's own origin.
        csp: the Content-Security-Policy to send (default :data:`DEFAULT_CSP`; for a page with
            inline blocks use :func:`page_csp`).
        require_json: refuse unsafe requests with a non-JSON body (``415``).
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] | None = None,
                 allowed_origins: Iterable[str] = (), csp: str = DEFAULT_CSP,
                 require_json: bool = True) -> None:
        self.app = app
        hosts = None if allowed_hosts is None else [h for h in allowed_hosts if h]
        self._any_host = hosts is None or "*" in hosts
        self._hosts = {_split_host(h) for h in hosts or ()}
        self._origins = {o.strip().rstrip("/").lower() for o in allowed_origins}
        self.require_json = require_json
        self._headers = [
            (b"content-security-policy", csp.encode("latin-1")),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]

    # ------------------------------------------------------------------ checks

    def host_allowed(self, host: str | None) -> bool:
        """Whether a ``Host`` header value is on the allow-list."""
        if self._any_host:
            return True
        if not host:
            return False
        name, port = _split_host(host)
        return (name, port) in self._hosts or (name, None) in self._hosts

    def _check(self, scope: Scope) -> tuple[int, str, str] | None:
        """``None`` if the request may go on, else ``(status, code, message)``."""
        host = _header(scope, b"host")
        if not self.host_allowed(host):
            return 400, "host_not_allowed", "this server does not answer to that Host name"
        websocket = scope.get("type") == "websocket"  # a handshake is a GET, but opens a channel
        method = str(scope.get("method", "GET")).upper()
        if method in SAFE_METHODS and not websocket:
            return None
        origin = _header(scope, b"origin")
        if origin is not None:
            origin = origin.strip().rstrip("/").lower()
            scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
            own = f"{scheme}://{(host or '').strip().lower()}"  # a page's origin, also for wss
            if origin != own and origin not in self._origins:
                return 403, "cross_origin", "cross-origin requests may not start runs"
        else:
            site = (_header(scope, b"sec-fetch-site") or "").strip().lower()
            if site not in ("", "same-origin", "none"):
                return 403, "cross_origin", "cross-origin requests may not start runs"
        if self.require_json and not websocket:
            ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            is_json = ctype == "application/json" or (
                ctype.startswith("application/") and ctype.endswith("+json"))
            if not is_json:
                return 415, "json_required", "send a JSON body (Content-Type: application/json)"
        return None

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "websocket":
            if self._check(scope) is not None:  # closing before accept: the server answers 403
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._check(scope)

        async def send_with_headers(message: Message) -> None:
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers") or [])
                have = {bytes(k).lower() for k, _ in headers}
                headers.extend((k, v) for k, v in self._headers if k not in have)
                message["headers"] = headers
            await send(message)

        if refusal is None:
            await self.app(scope, receive, send_with_headers)
            return
        status, code, text = refusal
        body = json.dumps({"error": {"code": code, "message": text}}).encode("ascii")
        await send_with_headers({"type": "http.response.start", "status": status,
                                 "headers": [(b"content-type", b"application/json"),
                                             (b"content-length", str(len(body)).encode("ascii"))]})
        await send_with_headers({"type": "http.response.body", "body": body})


def serve_hosts(bind: str, port: int, extra: Iterable[str] = ()) -> list[str]:
    """The Host allow-list of ``fieldstream serve --host BIND --port PORT --allow-host ...``.

    The loopback names with ``port``, the bound address itself when it is a specific one (not
    ``0.0.0.0`` or ``::``), and each ``extra`` entry as given (``name`` allows any port).
    """
    hosts = loopback_hosts(port)
    name = bind.strip()
    if name and name not in ("0.0.0.0", "::", "[::]"):
        entry = f"[{name}]:{port}" if ":" in name and not name.startswith("[") else f"{name}:{port}"
        if entry.lower() not in hosts:
            hosts.append(entry.lower())
    hosts.extend(e.strip() for e in extra if e.strip())
    return hosts
