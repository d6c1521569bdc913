"""The server worker leaves a new connection to an idle worker while it has requests in
progress (``bench/api.py`` shows two bulk streams then use both cores)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from gunicorn.workers.gthread import ThreadWorker

from gateway.cli.worker import ACCEPT_DEFER, GatewayWorker
from gateway.serving import ClientSocket


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    monkeypatch.setattr(time, "sleep", lambda s: seen.append(("sleep", s)))
    monkeypatch.setattr(ThreadWorker, "accept", lambda self, listener: seen.append(("accept", 1)))
    monkeypatch.setattr(ThreadWorker, "enqueue_req", lambda self, conn: None)
    monkeypatch.setattr(ThreadWorker, "finish_request", lambda self, conn, fs: None)
    return seen


class _Conn:
    """An accepted connection whose socket the worker has already wrapped."""

    def __init__(self) -> None:
        self.sock = ClientSocket.__new__(ClientSocket)


def test_a_busy_worker_lets_an_idle_one_take_the_connection(
    calls: list[tuple[str, Any]],
) -> None:
    worker = object.__new__(GatewayWorker)
    worker.read_timeout = 1.0
    worker.in_progress = 0
    worker.accept(object())
    assert calls == [("accept", 1)]  # idle: takes it at once
    conn = _Conn()
    worker.enqueue_req(conn)
    assert worker.in_progress == 1
    calls.clear()
    worker.accept(object())
    assert calls == [("sleep", ACCEPT_DEFER), ("accept", 1)]
    worker.finish_request(conn, None)
    assert worker.in_progress == 0
    calls.clear()
    worker.accept(object())
    assert calls == [("accept", 1)]
