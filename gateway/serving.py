"""Client sockets with read and write timeouts, for the worker ``gateway serve`` runs.

gunicorn's threaded worker reads a request's header and body with blocking calls that
have no time limit, so a client that sends half a header, or declares a body and never
sends it, holds a thread for as long as it keeps the connection open. The sockets made
here wait at most ``timeout`` seconds for each read or write; a client that stalls longer
is cut off with :class:`ClientTimeout` (an answer 408 when the application was reading
its body, a closed connection when it never finished its header).

A worker's requests also take turns at computing (:class:`Turn`), and one that has to wait
on its client gives up its turn first.

Standard library only: the API's error handlers import :class:`ClientTimeout` without
loading gunicorn.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import deque
from typing import Any

#: The safety headers of :mod:`gateway.web.security` for an answer that is not a page,
#: for the answers the worker writes itself (the app's ``after_request`` never sees
#: them; ``gateway.cli`` may not import ``gateway.web``). DESIGN §5: every response
#: carries them.
SAFETY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)
#: HSTS, added to :data:`SAFETY_HEADERS` when the gateway is served over TLS.
HSTS_HEADER = ("Strict-Transport-Security", f"max-age={365 * 24 * 3600}")


class Turn:
    """Who computes in this process: one request at a time, in the order they asked.

    A worker's threads share one interpreter lock, which passes between them at each
    system call (reading the database, writing an answer) and every few milliseconds.
    With four requests computing at once, each waits for the lock again after each of
    its calls, behind whichever thread the system wakes, so they finish in a shuffled
    order and take longer in all (DESIGN §7: the slowest verifications took twice the
    median). Taking turns, each request runs to its end once started, and the lock
    passes only where a request waits.

    A request that has to wait on something outside the process (its client, the
    network) calls :meth:`leave` first: it gives up its turn for good, the next request
    starts, and it goes on sharing the lock as every thread did before. So a slow client
    holds a thread, never the turn, and a thread waiting for the turn holds nothing any
    other thread needs (it has not started). A long answer (a streamed export, a batch
    in one request) leaves its turn the same way once it has held it for :data:`SLICE`
    while others wait (:meth:`share_if_long`, at each read and write of its socket and
    between the records it converts).
    """

    #: Seconds a request keeps its turn while others wait (a verification takes some
    #: 1.5 ms).
    SLICE = 0.02

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: the thread whose turn it is, and since when (``time.monotonic()``)
        self._holder: int | None = None
        self._since = 0.0
        self._queue: deque[tuple[int, threading.Lock]] = deque()

    def take(self) -> None:
        """Wait for this thread's turn (first come, first served)."""
        me = threading.get_ident()
        with self._lock:
            if self._holder is None or self._holder == me:
                self._holder, self._since = me, time.monotonic()
                return
            gate = threading.Lock()
            gate.acquire()
            self._queue.append((me, gate))
        gate.acquire()  # released by leave(), which made this thread the holder

    def leave(self) -> None:
        """End this thread's turn, if it has one: the next in line starts."""
        # Unlocked: only this thread's own calls make it the holder or not.
        if self._holder != threading.get_ident():
            return
        with self._lock:
            if self._queue:
                self._holder, gate = self._queue.popleft()
                self._since = time.monotonic()
                gate.release()
            else:
                self._holder = None

    def share_if_long(self) -> None:
        """Leave this thread's turn if it has held it for :data:`SLICE` while others
        wait."""
        if (
            self._queue
            and self._holder == threading.get_ident()
            and time.monotonic() - self._since >= self.SLICE
        ):
            self.leave()

    def holder(self) -> int | None:
        """The thread whose turn it is (its ``threading.get_ident()``), if any."""
        return self._holder

    def waiting(self) -> int:
        """How many threads wait for their turn."""
        return len(self._queue)


#: The turns of this process's requests (a served worker's; nobody takes one elsewhere,
#: and :meth:`Turn.leave` is then a no-op).
TURN = Turn()


class ClientTimeout(TimeoutError):
    """The client sent nothing (or read nothing) for longer than the read timeout."""


class ClientSocket(socket.socket):
    """A connected client socket whose blocking mode is a timeout.

    gunicorn switches a connection between non-blocking (while it waits in the poller)
    and blocking (while a thread serves it) with ``setblocking``; blocking here means
    "block for at most :attr:`timeout` seconds per call".
    """

    read_timeout: float = 30.0
    #: The timeout callers set (``None``: blocking; ``0.0``: non-blocking), which a call
    #: that waits gets; see :meth:`settimeout`.
    _wanted: float | None = 0.0

    @classmethod
    def adopt(cls, sock: socket.socket, timeout: float) -> ClientSocket:
        """Take over an accepted socket (same descriptor, now with timeouts).

        :param sock: the accepted socket; it is detached and must not be used after.
        :param timeout: seconds each read or write may wait.
        """
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.read_timeout = timeout
        super(ClientSocket, adopted).settimeout(0.0)
        return adopted

    def setblocking(self, flag: bool) -> None:
        self.settimeout(self.read_timeout if flag else 0.0)

    # A timeout and non-blocking mode are the same descriptor underneath (O_NONBLOCK; the
    # timeout is socket's wait before each call), yet socket's settimeout makes a system
    # call each time, which passes the interpreter lock to the worker's other threads and
    # waits to take it back. gunicorn sets a connection's timeout five times a request
    # (non-blocking for the poller, blocking for a thread, and around each of its two
    # drains of the last body), so the timeout is kept here and handed to socket only
    # before a call that has to wait, and only when it differs. Only blocking mode
    # (``None``) changes the descriptor, at once.

    def settimeout(self, value: float | None) -> None:
        if value is None or super().gettimeout() is None:
            super().settimeout(value)
            self._wanted = super().gettimeout()
            return
        seconds = float(value)
        if not seconds >= 0.0:  # negative or NaN: what socket refuses
            super().settimeout(value)
        self._wanted = seconds

    def gettimeout(self) -> float | None:
        return self._wanted

    def getblocking(self) -> bool:
        return self._wanted != 0.0

    def _waits(self) -> None:
        """Before a call that may wait: leave the turn, and hand the timeout set last to
        socket."""
        if self._wanted != 0.0:
            TURN.leave()
        if super().gettimeout() != self._wanted:
            super().settimeout(self._wanted)

    # A socket with a timeout is non-blocking underneath, and Python waits for it to be
    # ready (poll) before every call. Most calls need no wait: the request is in, the
    # answer fits the send buffer. Trying the call first saves the poll and a pass of the
    # interpreter lock for each, which a busy worker's other threads hold meanwhile; only
    # a call that would block waits, with the timeout as before.

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if not flags and bufsize >= 0 and self._wanted:
            TURN.share_if_long()
            try:
                return os.read(self.fileno(), bufsize)
            except BlockingIOError:
                pass
        self._waits()
        try:
            return super().recv(bufsize, flags)
        except TimeoutError:
            raise ClientTimeout(f"the client sent nothing for {self.read_timeout:g} s") from None

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if not flags and self._wanted:
            TURN.share_if_long()
            view = memoryview(buffer).cast("B")
            if 0 <= nbytes <= view.nbytes:  # what else socket refuses, below
                try:
                    return os.readv(self.fileno(), [view[:nbytes] if nbytes else view])
                except BlockingIOError:
                    pass
        self._waits()
        try:
            return super().recv_into(buffer, nbytes, flags)
        except TimeoutError:
            raise ClientTimeout(f"the client sent nothing for {self.read_timeout:g} s") from None

    def sendall(self, data: Any, flags: int = 0) -> None:
        rest = memoryview(data).cast("B")
        if not flags and self._wanted:
            TURN.share_if_long()
            try:
                while rest:
                    rest = rest[os.write(self.fileno(), rest) :]
                return
            except BlockingIOError:
                pass
        self._waits()
        super().sendall(rest, flags)

    # The other calls that wait on the descriptor, with the timeout set last.

    def send(self, data: Any, flags: int = 0) -> int:
        self._waits()
        return super().send(data, flags)

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        self._waits()
        return super().recvfrom(bufsize, flags)

    def recvfrom_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, Any]:
        self._waits()
        return super().recvfrom_into(buffer, nbytes, flags)

    def recvmsg(self, *args: Any) -> Any:
        self._waits()
        return super().recvmsg(*args)

    def recvmsg_into(self, *args: Any) -> Any:
        self._waits()
        return super().recvmsg_into(*args)

    def sendto(self, *args: Any) -> int:
        self._waits()
        return super().sendto(*args)

    def sendmsg(self, *args: Any) -> int:
        self._waits()
        return super().sendmsg(*args)
