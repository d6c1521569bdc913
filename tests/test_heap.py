"""Long-running processes keep what they loaded out of the collector's walks, and a
command's bulk run gives the collector back as it found it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from gunicorn.workers.gthread import ThreadWorker

import gateway.cli.worker as worker_module
from gateway.cli.heap import YOUNG_THRESHOLD
from gateway.cli.worker import GatewayWorker
from tests.helpers import ROOT

PROBE = textwrap.dedent(
    """
    import gc, json, weakref
    from gateway.cli.heap import settle, settled

    class Node:
        pass

    seen = {"default": gc.get_threshold()[0]}
    with settled():
        seen["run_frozen"] = gc.get_freeze_count()
        seen["run_threshold"] = gc.get_threshold()[0]
    seen["after_frozen"] = gc.get_freeze_count()
    seen["after_threshold"] = gc.get_threshold()[0]

    loaded = [{"table": n} for n in range(1000)]
    settle()
    seen["frozen"] = gc.get_freeze_count()
    seen["threshold"] = gc.get_threshold()[0]
    # A cycle made after settling is still collected.
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    seen["cycle_collected"] = gone() is None
    print(json.dumps(seen))
    """
)


def test_settle_freezes_what_is_loaded_and_settled_gives_it_back() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen["run_frozen"] > 1000 and seen["run_threshold"] == YOUNG_THRESHOLD
    assert seen["after_frozen"] == 0 and seen["after_threshold"] == seen["default"]
    assert seen["frozen"] > 1000 and seen["threshold"] == YOUNG_THRESHOLD
    assert seen["cycle_collected"]


def test_a_server_worker_settles_once_the_app_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(ThreadWorker, "load_wsgi", lambda self: calls.append("load"))
    monkeypatch.setattr(worker_module, "settle", lambda: calls.append("settle"))
    holdings = worker_module.Holdings()
    monkeypatch.setattr(worker_module, "HOLDINGS", holdings)
    worker: Any = object.__new__(GatewayWorker)
    worker.age = 3
    worker.pid = os.getpid()  # gunicorn sets it in the worker process
    worker.load_wsgi()
    assert calls == ["load", "settle"]
    # Then, and only then, counted among the workers that take connections.
    assert worker.slot == 3
    assert holdings.claim(os.getpid(), 3) == 3  # its own slot, claimed by its pid
