"""Client sockets: a call that need not wait answers at once, one that must wait does
so for the timeout set last at most (and leaves its turn first), and either way the
bytes are socket's. Turns: taken in the order asked, one holder at a time."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from gateway.serving import TURN, ClientSocket, ClientTimeout, Turn

TIMEOUT = 0.3


@pytest.fixture
def pair() -> Iterator[tuple[ClientSocket, socket.socket]]:
    """A served end (a :class:`ClientSocket` in its blocking mode, as a thread uses it)
    and the client's end, over TCP on the loopback."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
    served = ClientSocket.adopt(accepted, TIMEOUT)
    served.setblocking(True)
    try:
        yield served, client
    finally:
        served.close()
        client.close()


def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """socket's own calls (which wait in poll first) are not reached."""

    def waited(*args: object) -> None:
        pytest.fail("the call waited in socket's poll")

    for name in ("recv", "recv_into", "sendall"):
        monkeypatch.setattr(socket.socket, name, waited)


def test_what_has_arrived_is_read_without_waiting(pair, monkeypatch) -> None:
    served, client = pair
    client.sendall(b"GET / HTTP/1.1\r\n\r\nnext")
    time.sleep(0.05)
    _no_waiting(monkeypatch)
    assert served.recv(4) == b"GET "
    buffer = bytearray(8)
    assert served.recv_into(buffer, 3) == 3 and buffer[:3] == b"/ H"
    assert served.recv_into(buffer) == 8 and bytes(buffer) == b"TTP/1.1\r"
    view = memoryview(bytearray(64))
    count = served.recv_into(view)
    assert bytes(view[:count]) == b"\n\r\nnext"


def test_an_answer_that_fits_is_sent_without_waiting(pair, monkeypatch) -> None:
    served, client = pair
    _no_waiting(monkeypatch)
    served.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    served.sendall(memoryview(b"body"))
    served.sendall(b"")
    monkeypatch.undo()
    client.settimeout(5)
    assert client.recv(100) == b"HTTP/1.1 200 OK\r\n\r\nbody"


def test_a_read_waits_for_what_comes_later(pair) -> None:
    served, client = pair
    threading.Timer(0.1, client.sendall, (b"late",)).start()
    assert served.recv(10) == b"late"
    threading.Timer(0.1, client.sendall, (b"later",)).start()
    buffer = bytearray(10)
    assert served.recv_into(buffer) == 5 and buffer[:5] == b"later"


def test_a_read_waits_no_longer_than_the_timeout(pair) -> None:
    served, _ = pair
    for read in (lambda: served.recv(10), lambda: served.recv_into(bytearray(10))):
        start = time.monotonic()
        with pytest.raises(ClientTimeout, match="sent nothing for 0.3 s"):
            read()
        assert TIMEOUT * 0.9 <= time.monotonic() - start < TIMEOUT * 5


def test_an_answer_larger_than_the_buffers_arrives_whole_and_in_order(pair) -> None:
    served, client = pair
    data = bytes(range(256)) * (8 * 4096)  # 8 MiB: more than the kernel buffers take
    received = bytearray()

    def read_slowly() -> None:
        time.sleep(0.1)  # the first write fills the buffers, the rest must wait
        client.settimeout(5)
        while len(received) < len(data):
            received.extend(client.recv(1 << 16))

    reader = threading.Thread(target=read_slowly)
    reader.start()
    served.sendall(data)
    reader.join(10)
    assert bytes(received) == data


def test_a_client_that_reads_nothing_holds_a_write_for_the_timeout_at_most(pair) -> None:
    served, _ = pair
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        served.sendall(b"x" * (64 << 20))
    assert time.monotonic() - start < TIMEOUT * 5


def test_what_socket_refuses_is_still_refused(pair) -> None:
    served, client = pair
    client.sendall(b"abc")
    time.sleep(0.05)
    with pytest.raises(ValueError):
        served.recv(-1)
    with pytest.raises(ValueError):
        served.recv_into(bytearray(2), 3)
    with pytest.raises(ValueError):
        served.recv_into(bytearray(2), -1)
    with pytest.raises(TypeError):
        served.sendall("text")  # type: ignore[arg-type]
    assert served.recv(3) == b"abc"


def test_without_a_timeout_the_calls_are_sockets(pair) -> None:
    served, client = pair
    served.setblocking(False)
    with pytest.raises(BlockingIOError):
        served.recv(10)
    with pytest.raises(BlockingIOError):
        served.recv_into(bytearray(10))
    client.sendall(b"now")
    time.sleep(0.05)
    assert served.recv(10) == b"now"


def test_a_closed_client_reads_as_the_end(pair) -> None:
    served, client = pair
    client.close()
    assert served.recv(10) == b""
    assert served.recv_into(bytearray(10)) == 0


def test_switching_between_waiting_and_not_makes_no_system_call(pair, monkeypatch) -> None:
    served, client = pair

    def called(*args: object) -> None:
        pytest.fail("socket's timeout was set")

    monkeypatch.setattr(socket.socket, "settimeout", called)
    monkeypatch.setattr(socket.socket, "setblocking", called)
    served.setblocking(False)
    assert served.gettimeout() == 0.0 and not served.getblocking()
    served.setblocking(True)
    assert served.gettimeout() == TIMEOUT and served.getblocking()
    served.settimeout(0.05)
    assert served.gettimeout() == 0.05
    client.sendall(b"in")
    time.sleep(0.05)
    assert served.recv(10) == b"in"  # it had arrived: no wait, so socket's timeout untouched


def test_a_wait_gets_the_timeout_set_last(pair) -> None:
    served, client = pair
    served.settimeout(0.05)
    start = time.monotonic()
    with pytest.raises(ClientTimeout):
        served.recv(10)
    assert time.monotonic() - start < TIMEOUT * 0.9
    served.setblocking(False)
    with pytest.raises(BlockingIOError):
        served.recv(10)
    served.settimeout(None)  # blocking: no limit at all
    assert served.gettimeout() is None and served.getblocking()
    threading.Timer(0.1, client.sendall, (b"late",)).start()
    assert served.recv(10) == b"late"
    served.setblocking(True)
    threading.Timer(0.1, client.sendall, (b"later",)).start()
    assert served.recv(10) == b"later"
    for refused in (-1.0, math.nan):
        with pytest.raises(ValueError):
            served.settimeout(refused)
    assert served.gettimeout() == TIMEOUT


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.005)


def test_turns_are_taken_in_the_order_asked() -> None:
    turn = Turn()
    turn.take()
    order: list[int] = []

    def take_then_leave(n: int) -> None:
        turn.take()
        order.append(n)
        turn.leave()

    threads = []
    for n in range(5):
        thread = threading.Thread(target=take_then_leave, args=(n,))
        thread.start()
        threads.append(thread)
        _until(lambda n=n: turn.waiting() == n + 1)
    assert order == []  # nobody starts while the turn is held
    turn.leave()
    for thread in threads:
        thread.join(10)
    assert order == [0, 1, 2, 3, 4]
    assert turn.holder() is None and turn.waiting() == 0


def test_leaving_without_the_turn_changes_nothing() -> None:
    turn = Turn()
    turn.leave()
    assert turn.holder() is None
    turn.take()
    other = threading.Thread(target=turn.leave)
    other.start()
    other.join(10)
    assert turn.holder() == threading.get_ident()
    turn.leave()
    turn.leave()
    assert turn.holder() is None


def test_a_call_that_must_wait_leaves_the_turn_first(pair) -> None:
    served, client = pair
    answers: list[bytes] = []

    def read_with_the_turn() -> None:
        TURN.take()
        try:
            answers.append(served.recv(10))  # nothing has arrived: it waits
        finally:
            TURN.leave()

    reader = threading.Thread(target=read_with_the_turn)
    reader.start()
    _until(lambda: TURN.holder() is None)  # left while its read waits
    TURN.take()  # so the next request starts
    client.sendall(b"late")
    reader.join(10)
    assert answers == [b"late"]
    assert TURN.holder() == threading.get_ident()
    TURN.leave()


def test_a_call_that_need_not_wait_keeps_the_turn(pair) -> None:
    served, client = pair
    client.sendall(b"in")
    time.sleep(0.05)
    TURN.take()
    try:
        assert served.recv(10) == b"in"
        served.sendall(b"out")
        assert TURN.holder() == threading.get_ident()
    finally:
        TURN.leave()


def test_a_long_answer_leaves_its_turn_to_those_waiting(pair, monkeypatch) -> None:
    served, client = pair
    me = threading.get_ident()
    monkeypatch.setattr(Turn, "SLICE", 60.0)
    TURN.take()
    try:
        served.sendall(b"a")  # alone: kept, however long
        waiter = threading.Thread(target=lambda: (TURN.take(), TURN.leave()))
        waiter.start()
        _until(lambda: TURN.waiting() == 1)
        served.sendall(b"b")  # another waits, but the slice has not passed
        assert TURN.holder() == me
        monkeypatch.setattr(Turn, "SLICE", 0.0)
        served.sendall(b"c")  # the slice has passed: the next starts
        waiter.join(10)
        assert TURN.holder() is None and not waiter.is_alive()
    finally:
        TURN.leave()
    client.settimeout(5)
    assert client.recv(10) == b"abc"
