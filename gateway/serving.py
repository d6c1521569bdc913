"""Client sockets with read and write timeouts, for the worker ``gateway serve`` runs.

gunicorn's threaded worker reads a request's header and body with blocking calls that
have no time limit, so a client that sends half a header, or declares a body and never
sends it, holds a thread for as long as it keeps the connection open. The sockets made
here wait at most ``timeout`` seconds for each read or write; a client that stalls longer
is cut off with :class:`ClientTimeout` (an answer 408 when the application was reading
its body, a closed connection when it never finished its header).

Standard library only: the API's error handlers import :class:`ClientTimeout` without
loading gunicorn.
"""

from __future__ import annotations

import os
import socket
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


class ClientTimeout(TimeoutError):
    """The client sent nothing (or read nothing) for longer than the read timeout."""


class ClientSocket(socket.socket):
    """A connected client socket whose blocking mode is a timeout.

    gunicorn switches a connection between non-blocking (while it waits in the poller)
    and blocking (while a thread serves it) with ``setblocking``; blocking here means
    "block for at most :attr:`timeout` seconds per call".
    """

    read_timeout: float = 30.0

    @classmethod
    def adopt(cls, sock: socket.socket, timeout: float) -> ClientSocket:
        """Take over an accepted socket (same descriptor, now with timeouts).

        :param sock: the accepted socket; it is detached and must not be used after.
        :param timeout: seconds each read or write may wait.
        """
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.read_timeout = timeout
        adopted.setblocking(False)
        return adopted

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(self.read_timeout)
        else:
            super().setblocking(False)

    # A socket with a timeout is non-blocking underneath, and Python waits for it to be
    # ready (poll) before every call. Most calls need no wait: the request is in, the
    # answer fits the send buffer. Trying the call first saves the poll and a pass of the
    # interpreter lock for each, which a busy worker's other threads hold meanwhile; only
    # a call that would block waits, with the timeout as before.

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if not flags and bufsize >= 0 and self.gettimeout():
            try:
                return os.read(self.fileno(), bufsize)
            except BlockingIOError:
                pass
        try:
            return super().recv(bufsize, flags)
        except TimeoutError:
            raise ClientTimeout(f"the client sent nothing for {self.read_timeout:g} s") from None

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if not flags and self.gettimeout():
            view = memoryview(buffer).cast("B")
            if 0 <= nbytes <= view.nbytes:  # what else socket refuses, below
                try:
                    return os.readv(self.fileno(), [view[:nbytes] if nbytes else view])
                except BlockingIOError:
                    pass
        try:
            return super().recv_into(buffer, nbytes, flags)
        except TimeoutError:
            raise ClientTimeout(f"the client sent nothing for {self.read_timeout:g} s") from None

    def sendall(self, data: Any, flags: int = 0) -> None:
        rest = memoryview(data).cast("B")
        if not flags and self.gettimeout():
            try:
                while rest:
                    rest = rest[os.write(self.fileno(), rest) :]
                return
            except BlockingIOError:
                pass
        super().sendall(rest, flags)
