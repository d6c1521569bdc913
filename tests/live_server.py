"""A real ``gateway serve`` (gunicorn) process for the tests that need one.

The server runs in a process group of its own, so that one signal reaches the master and
every worker; every wait is bounded, and a server that does not come up fails the test
with the tail of its log.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """``gateway serve`` on the loopback interface with ``args``, answering ``/health``.

    :param home: the instance folder (``GATEWAY_HOME``).
    :param log: file the server's output is appended to.
    :param args: more ``gateway serve`` options.
    :param base_url: ``GATEWAY_BASE_URL``.
    :param database_url: ``DATABASE_URL``; none means the instance's SQLite file.
    :param env_vars: more environment variables.
    """

    def __init__(
        self,
        home: Path,
        log: Path,
        *args: str,
        base_url: str = "https://gw.example",
        database_url: str | None = None,
        **env_vars: str,
    ) -> None:
        self.port = free_port()
        self.log = log
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(GATEWAY_HOME=str(home), GATEWAY_BASE_URL=base_url, **env_vars)
        if database_url:
            env["DATABASE_URL"] = database_url
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gateway",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *args,
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited early:\n{log.read_text()[-3000:]}")
            try:
                if self.get("/health", timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.kill()
        pytest.fail(f"the server did not answer /health:\n{log.read_text()[-3000:]}")

    def get(self, path: str, timeout: float) -> http.client.HTTPResponse:
        """``GET path``, read whole."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response
        finally:
            conn.close()

    def connect(self) -> socket.socket:
        """A raw connection to the server."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def kill(self) -> None:
        """SIGKILL to the whole group, then wait (bounded) until none of it is left."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise AssertionError("processes of the killed server are still alive")
