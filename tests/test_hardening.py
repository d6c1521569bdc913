"""The served gateway against slow and hostile clients, through a real ``gateway serve``.

Idle and half-sent requests must not keep other clients waiting, and a client that stops
sending in the middle of a request is cut off after the read timeout (docs/operations.md,
Serving). Every wait here is bounded; the server is killed in a ``finally``.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.services import prepare_instance
from gateway.settings import Settings
from tests.helpers import issue_secrets
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parent
RECORD = ROOT.parent / "fixtures" / "records" / "ncm-ev-pack.json"
#: How soon a normal client beside slow ones must be answered (docs/operations.md);
#: generous for a busy CI machine: an unblocked server answers /health in milliseconds.
ANSWER_WITHIN = 2.0
RECORDS_BEFORE_STALL = 12

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path) -> Path:
    settings = Settings.load({"home": tmp_path / "instance", "base_url": "https://gw.example"})
    prepare_instance(settings)
    return settings.home


def _exporter_key(home: Path) -> str:
    return issue_secrets(Settings.load({"home": home}), {"acme": ("exporter",)})["acme"]["exporter"]


@pytest.fixture
def server(home: Path, tmp_path: Path) -> Iterator[LiveServer]:
    running = LiveServer(home, tmp_path / "server.log")
    try:
        yield running
    finally:
        running.kill()


def _slow_loris(server: LiveServer) -> list[socket.socket]:
    """The two idle connections of a slow-loris attack: half a header, and a declared body never
    sent."""
    half_header = server.connect()
    half_header.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    no_body = server.connect()
    no_body.sendall(
        b"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    return [half_header, no_body]


@pytest.mark.parametrize("workers", ["2", "1"])
def test_two_slow_clients_do_not_stop_a_normal_one(
    home: Path, tmp_path: Path, workers: str
) -> None:
    """With one worker too: the request whose declared body never comes waits in a
    thread and has left its turn (:class:`gateway.serving.Turn`), so the next starts."""
    server = LiveServer(home, tmp_path / "server.log", "--workers", workers)
    try:
        slow = _slow_loris(server)
        try:
            time.sleep(0.5)  # both are accepted and being read by now
            for _ in range(3):
                started = time.monotonic()
                assert server.get("/health", timeout=ANSWER_WITHIN + 1).status == 200
                assert time.monotonic() - started < ANSWER_WITHIN
        finally:
            for sock in slow:
                sock.close()
    finally:
        server.kill()


def _closed_by_server(sock: socket.socket) -> bytes:
    """What the server sends before it closes the connection (b"" if nothing)."""
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk


def test_a_stalled_client_is_cut_off_after_the_read_timeout(home: Path, tmp_path: Path) -> None:
    server = LiveServer(home, tmp_path / "server.log", "--read-timeout", "1")
    try:
        slow = _slow_loris(server)
        try:
            # The socket timeout (10 s) bounds the wait; the server closes both long before.
            answers = [_closed_by_server(sock) for sock in slow]
        finally:
            for sock in slow:
                sock.close()
        assert answers[0] == b""  # no request was ever complete
        status_line, _, rest = answers[1].partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 408"), answers[1][:200]
        assert b"application/problem+json" in rest
        assert server.get("/health", timeout=5).status == 200
    finally:
        server.kill()


def _records(count: int) -> list[bytes]:
    """``count`` valid records: the fixture with its serial digits varied."""
    text = json.dumps(json.loads(RECORD.read_text(encoding="utf-8")), ensure_ascii=False)
    code = json.loads(text)["battery"]["code"]
    return [
        text.replace(code, f"{code[:17]}{n:07d}").encode("utf-8") + b"\n"
        for n in range(1, count + 1)
    ]


def test_a_bulk_stream_that_stalls_keeps_the_records_it_sent(home: Path, tmp_path: Path) -> None:
    """Records sent promptly stream through; when the client then stalls, the answer
    ends instead of holding a thread."""
    secret = _exporter_key(home)
    # More than the route's 64 KiB read buffer, so outcome lines start before the stall.
    records = _records(RECORDS_BEFORE_STALL)
    server = LiveServer(home, tmp_path / "server.log", "--read-timeout", "2")
    try:
        sock = server.connect()
        sock.settimeout(60)
        try:
            sock.sendall(
                b"POST /passports/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Bearer " + secret.encode() + b"\r\n"
                b"Content-Type: application/x-ndjson\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            for line in records:
                sock.sendall(b"%x\r\n%s\r\n" % (len(line), line))
            answer = _closed_by_server(sock)
        finally:
            sock.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), answer[:300]
        created = body.replace(b" ", b"").count(b'"outcome":"created"')
        assert 1 <= created <= RECORDS_BEFORE_STALL
        assert server.get("/health", timeout=5).status == 200
    finally:
        server.kill()


def test_a_chunked_body_over_the_limit_is_a_413_through_gunicorn(
    home: Path, tmp_path: Path
) -> None:
    server = LiveServer(home, tmp_path / "server.log", GATEWAY_MAX_BODY_BYTES="1000")
    try:
        sock = server.connect()
        try:
            body = b"{" + b" " * 5000 + b"}"
            sock.sendall(
                b"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                b"\r\n" + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
            )
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        finally:
            sock.close()
        assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
        assert b"application/problem+json" in answer
    finally:
        server.kill()


def _answer_of(server: LiveServer, request: bytes) -> bytes:
    """Everything the server sends for ``request`` until it closes or goes quiet."""
    sock = server.connect()
    try:
        sock.sendall(request)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer:
                    head, _, body = answer.partition(b"\r\n\r\n")
                    length = [
                        int(line.split(b":")[1])
                        for line in head.lower().split(b"\r\n")
                        if line.startswith(b"content-length:")
                    ]
                    if length and len(body) >= length[0]:
                        break
        except TimeoutError:
            pass
        return answer
    finally:
        sock.close()


@pytest.mark.parametrize("size", [b"zz", b"-1", b"1;\x00"])
def test_a_bogus_chunk_size_is_a_400_not_a_500(server: LiveServer, size: bytes) -> None:
    answer = _answer_of(
        server,
        b"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + size
        + b"\r\n{}\r\n0\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"application/problem+json" in answer


def _safety_headers(answer: bytes) -> None:
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert b"\r\ncontent-security-policy: default-src 'none'" in head, answer[:400]
    assert b"\r\nx-content-type-options: nosniff" in head, answer[:400]
    assert b"\r\nx-frame-options: deny" in head, answer[:400]
    assert b"\r\nreferrer-policy: no-referrer" in head, answer[:400]
    assert b"\r\nstrict-transport-security: max-age=" in head, answer[:400]


def test_the_workers_own_408_carries_the_safety_headers(home: Path, tmp_path: Path) -> None:
    """A streamed answer reads its body lazily: the 408 then comes from the worker, not
    the app, and must carry the same headers (DESIGN §5)."""
    secret = _exporter_key(home)
    server = LiveServer(home, tmp_path / "server.log", "--read-timeout", "1")
    try:
        answer = _answer_of(
            server,
            b"POST /passports/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer " + secret.encode() + b"\r\n"
            b"Content-Type: application/x-ndjson\r\nContent-Length: 100\r\n\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
        _safety_headers(answer)
    finally:
        server.kill()


@pytest.mark.parametrize(
    "request_",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: a\r\n" % i for i in range(200))
        + b"\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
    ],
    ids=["request-line", "too-many-headers", "bad-header-name"],
)
def test_gunicorns_own_refusals_carry_the_safety_headers(
    server: LiveServer, request_: bytes
) -> None:
    answer = _answer_of(server, request_)
    assert answer[9:10] == b"4", answer[:300]  # a 4xx, written by gunicorn itself
    _safety_headers(answer)


def test_a_bogus_chunk_size_in_a_bulk_stream_is_a_400_with_the_headers(
    home: Path, tmp_path: Path
) -> None:
    secret = _exporter_key(home)
    server = LiveServer(home, tmp_path / "server.log")
    try:
        answer = _answer_of(
            server,
            b"POST /passports/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer " + secret.encode() + b"\r\n"
            b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\n{}\r\n0\r\n\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
        assert b"application/problem+json" in answer
        _safety_headers(answer)
    finally:
        server.kill()


def test_the_server_opens_no_control_socket_in_the_users_home(home: Path, tmp_path: Path) -> None:
    # gunicorn's control socket is one per user ($XDG_RUNTIME_DIR or ~/.gunicorn): a
    # second gateway on the machine would take over the first one's.
    user_home = tmp_path / "user"
    user_home.mkdir()
    server = LiveServer(home, tmp_path / "server.log", HOME=str(user_home), XDG_RUNTIME_DIR="")
    try:
        assert server.get("/health", timeout=10).status == 200
        assert list(user_home.iterdir()) == []
    finally:
        server.kill()
    assert "gunicorn.ctl" not in (tmp_path / "server.log").read_text()
