"""``gateway serve`` as the benchmarks run it: a real gunicorn process on 127.0.0.1.

The server runs in a process group of its own, so that it can be killed as a whole and
its processes found again for memory and CPU figures. Shared by ``bench/api.py`` and
``bench/hostile.py``; only 127.0.0.1 is ever contacted and every wait is bounded.
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

HOST = "127.0.0.1"
BASE_URL = "https://gw.example"
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 120.0
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """``gateway serve`` with ``args`` over the instance in ``home``.

    :param home: the instance folder.
    :param log: file the server's output is appended to.
    :param args: more ``gateway serve`` options (``--workers 2`` ...).
    """

    def __init__(self, home: Path, log: Path, *args: str) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(GATEWAY_HOME=str(home), GATEWAY_BASE_URL=BASE_URL)
        # The access log of a load run would only cost time.
        env["GUNICORN_CMD_ARGS"] = "--access-logfile /dev/null"
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gateway",
                    "serve",
                    "--host",
                    HOST,
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
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.request("GET", "/health", timeout=2)[0] == 200:
                    self._settle(deadline)
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")

    def _settle(self, deadline: float) -> None:
        """Wait until the server is idle: one worker answering ``/health`` does not mean
        the others have imported the app, and what they spend on it is not a request's."""
        before = self.cpu_ns()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.cpu_ns()
            if now - before < 50_000_000:  # under 10 % of one core
                return
            before = now

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> tuple[int, bytes]:
        """One request on a new connection: the status and the body (0 and nothing when
        the server closed the connection without an answer)."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            try:
                conn.request(method, path, body=body, headers=headers or {})
            except (BrokenPipeError, ConnectionResetError):
                # Refused before the body was all sent (a 413 comes as soon as the limit
                # is passed, and the server then closes): the answer is still there.
                pass
            try:
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionResetError):
                return 0, b""
        finally:
            conn.close()

    def pids(self) -> list[int]:
        """Processes of the server's group (master and workers)."""
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # Fields after the parenthesised command: state ppid pgrp ...
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == self.proc.pid:
                out.append(int(entry))
        return out

    def rss_mb(self) -> float:
        """Resident memory of master + workers, summed."""
        total = 0
        for pid in self.pids():
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
        return total * PAGE / 2**20

    def pss_mb(self) -> float:
        """Proportional set size of master + workers, summed: pages shared after the
        fork counted once in all (``/proc/<pid>/smaps_rollup``)."""
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            except (OSError, IndexError, ValueError):
                continue
        return total / 1024

    def cpu_ns(self) -> int:
        """On-CPU time of every thread of the server's processes, in nanoseconds
        (``/proc/<pid>/task/<tid>/schedstat``)."""
        total = 0
        for pid in self.pids():
            try:
                for tid in os.listdir(f"/proc/{pid}/task"):
                    total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
            except (OSError, ValueError):
                continue
        return total

    def pin(self, cpu: int) -> None:
        """Keep every thread of the server's processes on ``cpu`` (``taskset``)."""
        for pid in self.pids():
            subprocess.run(
                ["taskset", "--all-tasks", "--pid", "--cpu-list", str(cpu), str(pid)],
                check=True,
                capture_output=True,
            )

    def stop(self) -> None:
        """SIGKILL to the whole group, then wait (bounded)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
