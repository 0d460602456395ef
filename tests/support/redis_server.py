"""A throwaway ``redis-server`` for the tests (no tests here).

``redis_url`` is a session-scoped fixture: it starts ``redis-server`` on a free port of 127.0.0.1
(no persistence, working directory in a temporary directory), waits until it answers ``PING`` and
stops it at the end of the session. Without ``redis-server`` the tests that use it are skipped
locally, but fail when ``CI=true`` or ``FIELDSTREAM_REQUIRE_BROWSER=1`` is set: CI installs the
Debian package ``redis-server`` and the Redis tests must run there. Import the fixture function
into a test module (``from support.redis_server import redis_server_fixture``) to use it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def required() -> bool:
    """True when a missing ``redis-server`` must fail the run instead of skipping (CI)."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("FIELDSTREAM_REQUIRE_BROWSER") == "1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start(workdir: Path, timeout: float = 10.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``redis-server`` in ``workdir``; return the process and its ``redis://`` URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise FileNotFoundError("redis-server")
    for _attempt in range(3):  # the free port may be taken between choosing and binding it
        port = _free_port()
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir)],
            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if _ping(port):
                return proc, f"redis://127.0.0.1:{port}/0"
            time.sleep(0.02)
        stop(proc)
    raise RuntimeError("redis-server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session", name="redis_url")
def redis_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (Debian package redis-server)"
        if required():
            pytest.fail(message + ", and CI / FIELDSTREAM_REQUIRE_BROWSER=1 requires it")
        pytest.skip(message)
    proc, url = start(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        stop(proc)
