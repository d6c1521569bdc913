"""The server's workers share new connections out: the one holding fewer takes the next,
and among workers holding as many an idle one (``bench/api.py`` shows two bulk streams
then use both cores; ``bench/verify.py``'s 32 keep-alive clients are held 16 by each).
Within a worker, requests with bounded bodies take turns; each worker reports to the
arbiter in time, and no more often than it needs to."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.workers.gthread import ThreadWorker

from gateway.cli import worker
from gateway.cli.worker import ACCEPT_DEFER, TURN_BODY_LIMIT, GatewayWorker, Holdings
from gateway.services import prepare_instance
from gateway.serving import TURN, ClientSocket
from gateway.settings import Settings
from tests.live_server import LiveServer

#: A W3C Data Integrity vector: a couple of milliseconds of canonicalizing and checking
#: per verification (its verdict does not matter here), enough to keep both workers busy.
BUSY_CREDENTIAL = (
    Path(__file__).parent.parent
    / "fixtures/vectors/w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/signedDataInt.json"
)
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What the workers made with :func:`_worker` do: accept (as gthread does: count the
    connection and hand it on) and turn accepting on or off."""
    seen: list[tuple[str, Any]] = []

    def accept(self: Any, listener: Any) -> None:
        self.nr_conns += 1
        seen.append(("accept", self.slot))
        self.enqueue_req(_Conn())

    def set_accept_enabled(self: Any, enabled: bool) -> None:
        if enabled != self._accepting:
            seen.append(("accepting" if enabled else "paused", self.slot))
        self._accepting = enabled

    monkeypatch.setattr(ThreadWorker, "accept", accept)
    monkeypatch.setattr(ThreadWorker, "set_accept_enabled", set_accept_enabled)
    monkeypatch.setattr(ThreadWorker, "enqueue_req", lambda self, conn: None)
    monkeypatch.setattr(ThreadWorker, "finish_request", lambda self, conn, fs: None)
    return seen


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def holdings(monkeypatch: pytest.MonkeyPatch) -> Holdings:
    fresh = Holdings()
    monkeypatch.setattr(worker, "HOLDINGS", fresh)
    return fresh


def _worker(holdings: Holdings, pid: int, age: int) -> GatewayWorker:
    made = object.__new__(GatewayWorker)
    made.read_timeout = 1.0
    made.in_progress = 0
    made.nr_conns = 0
    made.paused_until = float("-inf")
    made._accepting = True
    made.alive = True
    made.pid = pid
    made.slot = holdings.claim(pid, age)
    return made


def _gone() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


class _Conn:
    """An accepted connection whose socket the worker has already wrapped."""

    def __init__(self) -> None:
        self.sock = ClientSocket.__new__(ClientSocket)


def test_the_worker_holding_fewer_connections_takes_the_next(
    calls: list[tuple[str, Any]], holdings: Holdings, clock: list[float]
) -> None:
    first = _worker(holdings, os.getpid(), 1)
    second = _worker(holdings, os.getppid(), 2)
    first.accept(object())
    assert calls == [("accept", first.slot)]  # as busy as the other: at once
    calls.clear()
    first.accept(object())
    # Holds more: stops accepting for a while instead, and goes on serving meanwhile.
    assert calls == [("paused", first.slot)]
    assert first.paused_until == clock[0] + ACCEPT_DEFER
    second.accept(object())  # the other takes it
    assert calls[1:] == [("accept", second.slot)]
    calls.clear()
    # gthread's loop turns accepting on at each pass; it stays off until the pause ends.
    first.set_accept_enabled(True)
    assert calls == []
    clock[0] += ACCEPT_DEFER
    first.set_accept_enabled(True)
    assert calls == [("accepting", first.slot)]


@pytest.mark.parametrize(
    ("in_progress", "first_takes_it"),
    [
        ((1, 1), True),  # as busy as the other: at once (both race, the first wins)
        ((1, 0), False),  # as many connections, the other idle: it takes the next
        ((0, 1), True),
    ],
)
def test_among_workers_holding_as_many_the_less_busy_takes_the_next(
    calls: list[tuple[str, Any]],
    holdings: Holdings,
    clock: list[float],
    in_progress: tuple[int, int],
    first_takes_it: bool,
) -> None:
    first = _worker(holdings, os.getpid(), 1)
    second = _worker(holdings, os.getppid(), 2)
    for made, busy in zip((first, second), in_progress, strict=True):
        made.nr_conns, made.in_progress = 3, busy
        holdings.publish(made.slot, made.pid, 3, busy)
    first.accept(object())
    assert calls == [("accept" if first_takes_it else "paused", first.slot)]


def test_a_connection_still_waiting_after_a_pause_is_taken_at_once(
    calls: list[tuple[str, Any]], holdings: Holdings, clock: list[float]
) -> None:
    """The other worker may be too busy to take it (its main thread waits for its
    requests' interpreter lock): a connection waits one pause at most."""
    first = _worker(holdings, os.getpid(), 1)
    _worker(holdings, os.getppid(), 2)
    first.nr_conns = 4
    first.accept(object())
    assert calls == [("paused", first.slot)]
    clock[0] += ACCEPT_DEFER
    first.set_accept_enabled(True)
    first.accept(object())  # still holds more, yet takes it
    assert calls[1:] == [("accepting", first.slot), ("accept", first.slot)]
    calls.clear()
    clock[0] += 1
    first.accept(object())  # a later connection: the other's again
    assert calls == [("paused", first.slot)]


def test_a_stopping_worker_is_no_longer_counted(
    calls: list[tuple[str, Any]], holdings: Holdings, clock: list[float]
) -> None:
    """A stopping worker accepts no more while it finishes its requests (gthread's
    graceful timeout): the others stop leaving connections to it."""
    first = _worker(holdings, os.getppid(), 1)
    second = _worker(holdings, os.getpid(), 2)  # the process the test runs in: it stops
    first.nr_conns = 4
    first.accept(object())
    assert calls == [("paused", first.slot)]  # the second holds fewer
    calls.clear()
    clock[0] += 1
    second.alive = False  # gthread's loop ends, and turns accepting off
    second.set_accept_enabled(False)
    first.accept(object())
    assert calls == [("paused", second.slot), ("accept", first.slot)]
    # Its slot goes to a newer worker; what the stopping one still publishes (it serves
    # the connections it holds until its graceful timeout) does not land there.
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as newer:
        try:
            assert holdings.claim(newer.pid, second.slot) == second.slot
            second.enqueue_req(_Conn())  # a request on a connection it still holds
            assert holdings.least_busy_elsewhere(first.slot) == (0, 0)
        finally:
            newer.kill()


def test_a_pausing_worker_waits_for_events_no_longer_than_its_pause(
    monkeypatch: pytest.MonkeyPatch, holdings: Holdings, clock: list[float]
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(
        ThreadWorker, "wait_for_and_dispatch_events", lambda self, timeout: waits.append(timeout)
    )
    made = _worker(holdings, os.getpid(), 1)
    made.wait_for_and_dispatch_events(1.0)
    made.paused_until = clock[0] + 0.015
    made.wait_for_and_dispatch_events(1.0)
    clock[0] += 0.02
    made.wait_for_and_dispatch_events(1.0)
    assert waits == [1.0, pytest.approx(0.015), 1.0]


def test_a_lone_worker_or_one_beside_an_ended_process_never_waits(
    calls: list[tuple[str, Any]], holdings: Holdings
) -> None:
    gone = _gone()
    ended = holdings.claim(gone, 2)  # a worker killed before it let go of its slot
    holdings.publish(ended, gone, 3, 0)
    alone = _worker(holdings, os.getpid(), 1)
    alone.in_progress = 1
    alone.nr_conns = 5
    alone.accept(object())
    assert calls == [("accept", alone.slot)]
    # Its slot is taken over by the next worker that asks for it.
    assert holdings.claim(os.getppid(), 2) == ended


def _workers(server: LiveServer) -> list[int]:
    """The pids of the server's workers (the master's children)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == server.proc.pid:
                pids.append(int(entry))
    return pids


def _serving(server: LiveServer) -> list[int]:
    """The pids in the server's :class:`Holdings` (workers count there once their app is
    loaded), read from the arbiter's copy of the shared mapping (``/dev/zero``, shared)."""
    pid = server.proc.pid
    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    found = [line for line in maps if line.endswith("/dev/zero (deleted)") and " rw-s " in line]
    assert len(found) == 1, found
    with open(f"/proc/{pid}/mem", "rb") as memory:
        memory.seek(int(found[0].split("-")[0], 16))
        cells = memoryview(memory.read(8 * Holdings.CELLS * Holdings.SLOTS)).cast("q")
    pids = (cells[Holdings.CELLS * slot] for slot in range(Holdings.SLOTS))
    return [pid for pid in pids if pid]


def _held(pid: int, ports: set[int]) -> int:
    """How many of the connections from ``ports`` (the clients' own) ``pid`` holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[9] in inodes and int(fields[2].split(":")[1], 16) in ports:
            held += 1
    return held


@pytest.mark.slow
def test_keep_alive_connections_are_spread_over_the_workers(tmp_path: Path) -> None:
    """Each worker keeps the connections it accepted: 16 keep-alive clients that connect
    one after another are held eight by each of two workers, not as the accept race falls
    (it gave one worker 18 of 32 under load, and its clients the slowest answers)."""
    settings = Settings.load({"home": tmp_path / "instance", "base_url": "https://gw.example"})
    prepare_instance(settings)
    server = LiveServer(settings.home, tmp_path / "server.log", "--workers", "2")
    clients: list[http.client.HTTPConnection] = []
    try:
        deadline = time.monotonic() + 60
        while len(_serving(server)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _workers(server)
        assert sorted(workers) == sorted(_serving(server))
        for _ in range(16):
            client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            client.request("GET", "/health")
            response = client.getresponse()
            response.read()
            assert response.status == 200
            clients.append(client)
        ports = {client.sock.getsockname()[1] for client in clients}
        held = sorted(_held(pid, ports) for pid in workers)
        assert sum(held) == 16
        assert held[1] - held[0] <= 2, held
    finally:
        for client in clients:
            client.close()
        server.kill()


@pytest.mark.slow
def test_clients_that_come_at_once_to_busy_workers_are_spread(tmp_path: Path) -> None:
    """32 keep-alive clients that connect at once and ask again as soon as they are
    answered are held 16 by each of two workers, within two each way, although both are
    busy computing when most of them come (a worker that slept 2 ms for the other, whose
    main thread waits for its request threads' lock, held up to 24 of 32)."""
    settings = Settings.load({"home": tmp_path / "instance", "base_url": "https://gw.example"})
    prepare_instance(settings)
    server = LiveServer(settings.home, tmp_path / "server.log", "--workers", "2")
    credential = json.loads(BUSY_CREDENTIAL.read_text(encoding="utf-8"))
    body = json.dumps({"verifiableCredential": credential}).encode()
    start = threading.Barrier(32)
    stop = threading.Event()
    answered: list[int] = [0] * 32
    clients: list[http.client.HTTPConnection | None] = [None] * 32

    def ask(index: int) -> None:
        client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        clients[index] = client
        start.wait()
        while not stop.is_set():
            client.request("POST", "/credentials/verify", body, JSON_HEADERS)
            response = client.getresponse()
            response.read()
            assert response.status in (200, 400), response.status  # a verdict, whichever
            answered[index] += 1

    threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(32)]
    try:
        deadline = time.monotonic() + 60
        while len(_serving(server)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _workers(server)
        for thread in threads:
            thread.start()
        while min(answered) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert min(answered) >= 3, answered
        ports = {client.sock.getsockname()[1] for client in clients if client and client.sock}
        held = sorted(_held(pid, ports) for pid in workers)
        assert sum(held) == 32
        assert held[1] - held[0] <= 4, held
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        for client in clients:
            if client is not None:
                client.close()
        server.kill()


@pytest.mark.parametrize(
    ("reader", "takes_a_turn"),
    [
        (LengthReader(None, 0), True),
        (LengthReader(None, TURN_BODY_LIMIT), True),
        (LengthReader(None, TURN_BODY_LIMIT + 1), False),  # a bulk upload
        (ChunkedReader(None, None), False),  # a bulk stream: no end known
    ],
)
def test_requests_with_bounded_bodies_take_turns(
    monkeypatch: pytest.MonkeyPatch, reader: Any, takes_a_turn: bool
) -> None:
    held: list[bool] = []

    def handle_request(self: Any, req: Any, conn: Any) -> bool:
        held.append(TURN.holder() == threading.get_ident())
        if req.fails:
            raise OSError("the client went away")
        return True

    monkeypatch.setattr(ThreadWorker, "handle_request", handle_request)
    made = object.__new__(GatewayWorker)
    assert made.handle_request(SimpleNamespace(body=Body(reader), fails=False), None) is True
    with pytest.raises(OSError):
        made.handle_request(SimpleNamespace(body=Body(reader), fails=True), None)
    assert held == [takes_a_turn, takes_a_turn]
    assert TURN.holder() is None  # left at the end, as after a failure


@pytest.mark.parametrize(
    ("timeout", "reports"),
    [
        # the arbiter's default: at most once a second
        (60, [100.0, 101.0, 102.0]),
        # an arbiter timeout of one second: every quarter second
        (1, [100.0, 100.3, 100.6, 100.9, 101.3, 102.0, 102.5]),
    ],
)
def test_the_worker_reports_to_the_arbiter_often_enough_and_no_more(
    monkeypatch: pytest.MonkeyPatch, timeout: int, reports: list[float]
) -> None:
    clock = [0.0]
    touched: list[float] = []
    monkeypatch.setattr(ThreadWorker, "notify", lambda self: touched.append(clock[0]))
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    made = object.__new__(GatewayWorker)
    made.timeout = timeout / 2  # what the arbiter gives its workers
    made.notified = float("-inf")
    for now in (100.0, 100.2, 100.3, 100.6, 100.9, 101.0, 101.3, 101.5, 102.0, 102.5):
        clock[0] = now
        made.notify()
    assert touched == reports
