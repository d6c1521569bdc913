"""The server's workers share new connections out: the one holding fewer takes the next,
and among workers holding as many an idle one (``bench/api.py`` shows two bulk streams
then use both cores; ``bench/verify.py``'s 32 keep-alive clients are held 16 by each).
Within a worker, requests with bounded bodies take turns; each worker reports to the
arbiter in time, and no more often than it needs to."""

from __future__ import annotations

import http.client
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


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def accept(self: Any, listener: Any) -> None:
        self.nr_conns += 1
        seen.append(("accept", self.slot))

    monkeypatch.setattr(time, "sleep", lambda s: seen.append(("sleep", s)))
    monkeypatch.setattr(ThreadWorker, "accept", accept)
    monkeypatch.setattr(ThreadWorker, "enqueue_req", lambda self, conn: None)
    monkeypatch.setattr(ThreadWorker, "finish_request", lambda self, conn, fs: None)
    return seen


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
    calls: list[tuple[str, Any]], holdings: Holdings
) -> None:
    first = _worker(holdings, os.getpid(), 1)
    second = _worker(holdings, os.getppid(), 2)
    first.accept(object())
    assert calls == [("accept", first.slot)]  # as many as the other, and idle: at once
    calls.clear()
    first.accept(object())
    assert calls == [("sleep", ACCEPT_DEFER), ("accept", first.slot)]  # holds more: waits
    calls.clear()
    conn = _Conn()
    second.enqueue_req(conn)
    assert second.in_progress == 1
    second.accept(object())
    assert calls == [("accept", second.slot)]  # holds fewer: at once, even busy
    second.accept(object())
    calls.clear()
    second.accept(object())  # as many as the other (2), and busy: waits
    assert calls == [("sleep", ACCEPT_DEFER), ("accept", second.slot)]
    second.finish_request(conn, None)
    assert second.in_progress == 0


def test_a_lone_worker_or_one_beside_an_ended_process_never_waits(
    calls: list[tuple[str, Any]], holdings: Holdings
) -> None:
    ended = holdings.claim(_gone(), 2)  # a worker killed before it let go of its slot
    holdings.publish(ended, 3)
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
        cells = memoryview(memory.read(16 * Holdings.SLOTS)).cast("q")
    return [cells[2 * slot] for slot in range(Holdings.SLOTS) if cells[2 * slot]]


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
