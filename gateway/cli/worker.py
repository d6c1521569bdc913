"""The gunicorn worker of ``gateway serve``: threads, and timeouts on every client socket.

Threads (gunicorn's ``gthread`` worker) so that a connection waiting on its client does
not stop the others, and a socket read/write timeout so that a stalled client does not
keep its thread for ever (:mod:`gateway.serving`). The worker's main loop reports to the
arbiter every second whatever its threads are doing, so a long bulk stream no longer
needs the arbiter's timeout switched off.

gunicorn's workers race for each new connection, and the first awake takes it, often one
already busy: two bulk streams could share one worker's interpreter lock while the other
core idled, and a worker keeps each keep-alive connection it took, so under a burst of
clients one worker held 18 of 32 (and its clients got the slowest answers), and 16
clients that came one after another all went to one worker. So the workers publish how
busy each is (:class:`Holdings`, memory the arbiter's workers share: connections held,
requests in progress), and a worker stops accepting for :data:`ACCEPT_DEFER` while
another holds fewer connections, or as many with fewer requests in progress; the other,
woken by the same readiness, takes the connection, and the pausing worker serves its own
connections meanwhile. A connection still waiting when the pause ends is taken at once,
so none waits longer than one pause.

Within a worker, requests whose body is bounded take turns at computing
(:class:`gateway.serving.Turn`), and the worker reports to the arbiter at most once a
second instead of on every pass of its loop.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import time
from typing import Any

from gunicorn import util
from gunicorn.http.body import LengthReader
from gunicorn.workers.gthread import ThreadWorker

from gateway.cli.heap import settle
from gateway.errors import PROBLEM_BASE, GatewayError
from gateway.serving import HSTS_HEADER, SAFETY_HEADERS, TURN, ClientSocket, ClientTimeout

#: The environment variable ``gateway serve`` hands the read timeout over in (gunicorn
#: has no setting for it); seconds.
READ_TIMEOUT_ENV = "GATEWAY_SERVE_READ_TIMEOUT"
DEFAULT_READ_TIMEOUT = 30.0
#: Seconds a worker stops accepting to let another take a new connection (see the
#: module): a few of the interpreter's switch intervals (5 ms), since the other worker's
#: main thread may wait that long for the lock its request threads hold, at each
#: system call, before it has accepted.
ACCEPT_DEFER = 0.020
#: The largest request body whose request takes turns (:class:`gateway.serving.Turn`);
#: a larger or chunked one (a bulk stream) may compute for minutes, and shares the
#: interpreter lock with the turns instead of holding them up.
TURN_BODY_LIMIT = 1 << 20
#: Seconds at most between two reports to the arbiter (fewer when its timeout is short).
NOTIFY_EVERY = 1.0


class Holdings:
    """How busy each worker is, in a shared anonymous mapping made when the arbiter loads
    the worker class, before it forks the workers: one slot of three 64-bit integers
    (pid, connections held, requests in progress) per worker. A slot whose process is
    gone is taken over; a count may be a moment old, which only makes a worker take a
    connection another would have taken, or look again a moment later (no lock is
    needed for that)."""

    SLOTS = 64
    CELLS = 3

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, 8 * self.CELLS * self.SLOTS)
        self._cells = memoryview(self._memory).cast("q")

    def claim(self, pid: int, preferred: int) -> int:
        """A slot for ``pid``: ``preferred`` (the worker's age: workers started together
        get different ones) or the next whose process is gone."""
        cells = self._cells
        for step in range(self.SLOTS):
            slot = (preferred + step) % self.SLOTS
            at = self.CELLS * slot
            owner = cells[at]
            if owner in (0, pid) or not _alive(owner):
                cells[at], cells[at + 1], cells[at + 2] = pid, 0, 0
                return slot
        return preferred % self.SLOTS  # every slot held by a live process: share one

    def publish(self, slot: int, pid: int, connections: int, in_progress: int) -> None:
        """Write ``pid``'s counts, while the slot is still its own (a stopping worker's
        slot may already be another's)."""
        at = self.CELLS * slot
        if self._cells[at] == pid:
            self._cells[at + 1], self._cells[at + 2] = connections, in_progress

    def release(self, slot: int, pid: int) -> None:
        at = self.CELLS * slot
        if self._cells[at] == pid:
            self._cells[at], self._cells[at + 1], self._cells[at + 2] = 0, 0, 0

    def least_busy_elsewhere(self, slot: int) -> tuple[int, int] | None:
        """``(connections, requests in progress)`` of the live worker other than
        ``slot``'s that holds the fewest connections (and, among those, has the fewest
        requests in progress), or ``None`` when there is none."""
        cells, width = self._cells, self.CELLS
        mine = cells[width * slot]
        least: tuple[int, int] | None = None
        for other in range(self.SLOTS):
            at = width * other
            owner = cells[at]
            if owner == 0 or other == slot or owner == mine:
                continue
            busy = (cells[at + 1], cells[at + 2])
            if least is None or busy < least:
                if not _alive(owner):  # killed without releasing its slot
                    cells[at] = cells[at + 1] = cells[at + 2] = 0
                    continue
                least = busy
        return least


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a process this one may signal: the arbiter's workers all run
    as one user, so another user's process that took a dead worker's pid is not one."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


#: Made on import, that is in the arbiter before it forks (gunicorn loads the worker
#: class named on its command line in the arbiter).
HOLDINGS = Holdings()


def stalled(exc: BaseException | None) -> ClientTimeout | None:
    """The client timeout behind ``exc``, if one is (Werkzeug re-raises a failed body
    read as ``ClientDisconnected``)."""
    for _ in range(4):
        if exc is None or isinstance(exc, ClientTimeout):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def refused(exc: BaseException | None) -> GatewayError | None:
    """The client error behind ``exc``, if one is (a malformed chunked body read by a
    streamed answer, :class:`gateway.api.http.GatewayRequest`)."""
    for _ in range(4):
        if exc is None or (isinstance(exc, GatewayError) and exc.status < 500):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


class _SafetyHeaders:
    """A client socket whose first answer head gets the safety headers: gunicorn writes
    its own refusals (a bad request line, too many headers, a bogus chunk size) with
    ``sendall`` and none of them (DESIGN §5: every response carries them)."""

    def __init__(self, sock: Any, headers: bytes) -> None:
        self._sock = sock
        self._headers = headers

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def sendall(self, data: bytes, *args: Any) -> None:
        if self._headers and data.startswith(b"HTTP/"):
            status, sep, rest = data.partition(b"\r\n")
            data = status + sep + self._headers + rest
            self._headers = b""
        self._sock.sendall(data, *args)


class _StalledClients(logging.Filter):
    """One line instead of a traceback when a stalled client is cut off: under a
    slow-client attack the log would otherwise fill with identical tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        timeout = stalled(record.exc_info[1]) if record.exc_info else None
        if timeout is not None or (
            record.exc_info and isinstance(record.exc_info[1], TimeoutError)
        ):
            record.msg = "closed a connection: %s"
            record.args = (timeout or record.exc_info[1],)  # type: ignore[index]
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class GatewayWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's threaded worker whose client sockets time out (see the module)."""

    def init_process(self) -> None:
        self.read_timeout = float(os.environ.get(READ_TIMEOUT_ENV, DEFAULT_READ_TIMEOUT))
        #: Requests handed to a thread and not yet finished (main thread only).
        self.in_progress = 0
        #: Until when this worker leaves new connections to the others (see accept).
        self.paused_until = float("-inf")
        self.notified = float("-inf")
        error_log = getattr(self.log, "error_log", None)  # a custom logger class may lack it
        if isinstance(error_log, logging.Logger):
            error_log.addFilter(_StalledClients())
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        settle()  # what the app loaded stays out of the collector's walks (gateway.cli.heap)
        # Counted among the workers once it can serve: one still loading its app would
        # be left the connections the others defer.
        self.slot = HOLDINGS.claim(self.pid, self.age)

    def enqueue_req(self, conn: Any) -> None:
        # Every connection passes here first, straight after accept(), before any thread
        # or the poller has used its socket.
        if not isinstance(conn.sock, ClientSocket):
            conn.sock = ClientSocket.adopt(conn.sock, self.read_timeout)
        self.in_progress += 1
        super().enqueue_req(conn)
        self._publish()

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.in_progress -= 1
        super().finish_request(conn, fs)
        self._publish()

    def murder_keepalived(self, force: bool = False) -> None:
        super().murder_keepalived(force)
        self._publish()

    def _publish(self) -> None:
        """Tell the other workers how busy this one is (see :class:`Holdings`): at each
        hand-over to a thread, each finished request and each pass that closes idle
        connections."""
        HOLDINGS.publish(self.slot, self.pid, self.nr_conns, self.in_progress)

    def accept(self, listener: Any) -> None:
        now = time.monotonic()
        if not (self.paused_until <= now < self.paused_until + ACCEPT_DEFER) and self._defers():
            # See the module: another worker, woken by the same readiness, takes it
            # first, while this one goes on serving its own connections.
            self.paused_until = now + ACCEPT_DEFER
            self.set_accept_enabled(False)
            return
        # Not paused just before: a connection still waiting after a pause is taken at
        # once, so none waits longer than one pause.
        self.paused_until = float("-inf")
        super().accept(listener)

    def set_accept_enabled(self, enabled: bool) -> None:
        # gthread's loop enables accepting on each pass while it holds fewer connections
        # than it may; a pause holds until it ends.
        if not self.alive:
            # Stopping (a signal, a reload, max_requests): gthread stops accepting and
            # finishes what it holds, up to its graceful timeout. Left counted, it would
            # make the workers that go on pause for it on every new connection.
            HOLDINGS.release(self.slot, self.pid)
        super().set_accept_enabled(enabled and time.monotonic() >= self.paused_until)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        pause = self.paused_until - time.monotonic()
        super().wait_for_and_dispatch_events(min(timeout, pause) if pause > 0 else timeout)

    def _defers(self) -> bool:
        """Whether another worker should take the next connection: it holds fewer, or
        as many with fewer requests in progress (when both are as busy, both take it
        at once and the first wins)."""
        least = HOLDINGS.least_busy_elsewhere(self.slot)
        return least is not None and least < (self.nr_conns, self.in_progress)

    def handle_request(self, req: Any, conn: Any) -> Any:
        # Called once the request's head is read: a bounded request computes in its turn
        # (gateway.serving.Turn), a bulk one beside the turns.
        reader = getattr(req.body, "reader", None)
        if not (isinstance(reader, LengthReader) and reader.length <= TURN_BODY_LIMIT):
            return super().handle_request(req, conn)
        TURN.take()
        try:
            return super().handle_request(req, conn)
        finally:
            TURN.leave()

    def notify(self) -> None:
        # gthread's loop reports on every pass, about twice a request under load; each
        # report is a system call (touching the heartbeat file) that passes the
        # interpreter lock to the busy threads and waits to take it back. The arbiter
        # needs one within its timeout (twice this worker's ``timeout``); the loop passes
        # at least once a second.
        now = time.monotonic()
        if now - self.notified >= min(NOTIFY_EVERY, self.timeout / 2):
            self.notified = now
            super().notify()

    def run(self) -> None:
        try:
            super().run()
        finally:
            HOLDINGS.release(self.slot, self.pid)

    def _safety_headers(self) -> bytes:
        headers = list(SAFETY_HEADERS)
        settings = getattr(getattr(self, "wsgi", None), "extensions", {}).get("gateway.settings")
        if settings is not None and settings.base_url.startswith("https://"):
            headers.append(HSTS_HEADER)
        return b"".join(f"{name}: {value}\r\n".encode("ascii") for name, value in headers)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        timeout = stalled(exc)
        client_error = refused(exc) if timeout is None else None
        if timeout is None and client_error is None:
            client = _SafetyHeaders(client, self._safety_headers())
            super().handle_error(req, client, addr, exc)
            return
        if timeout is not None:
            # The body stopped arriving before the answer began (a streamed answer reads
            # its body lazily): 408 as problem+json, like the application's own 408.
            self.log.info("closed a connection: %s", timeout)
            problem: dict[str, object] = {
                "type": f"{PROBLEM_BASE}/request-timeout",
                "title": "Request timeout",
                "status": 408,
                "detail": f"{timeout}; send the whole request without pauses",
            }
        else:
            # A malformed body read lazily: the app's own 4xx problem, not gunicorn's 500.
            assert client_error is not None
            self.log.info("refused a request: %s", client_error)
            problem = client_error.to_problem()
        body = json.dumps(problem).encode("utf-8")
        head = (
            (
                f"HTTP/1.1 {problem['status']} {problem['title']}\r\nConnection: close\r\n"
                "Content-Type: application/problem+json\r\n"
                f"Content-Length: {len(body)}\r\n"
            ).encode("ascii", "replace")
            + self._safety_headers()
            + b"\r\n"
        )
        try:
            util.write_nonblock(client, head + body)
        except OSError:
            pass
