"""Status lists: unique indexes under concurrency, bit order, encoding."""

from __future__ import annotations

import base64
import gzip
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.errors import Conflict, InvalidInput, NotFound, StatusListError
from gateway.store import StatusLists
from gateway.store.db import Database
from gateway.store.status_lists import MIN_SIZE

LIST = "https://gw.example/status/1"


@pytest.fixture
def status_list(db: Database) -> str:
    with db.transaction() as s:
        StatusLists(s).create(LIST, "revocation", "did:key:z1")
    return LIST


def test_create(db: Database, status_list: str) -> None:
    with db.reading() as s:
        info = StatusLists(s).get(status_list)
        assert (info.size, info.next_index, info.full) == (MIN_SIZE, 0, False)
        assert StatusLists(s).bitstring(status_list) == bytes(MIN_SIZE // 8)
        assert StatusLists(s).open_list("did:key:z1", "revocation") == info
        assert StatusLists(s).open_list("did:key:z1", "suspension") is None
    with pytest.raises(Conflict), db.transaction() as s:
        StatusLists(s).create(status_list, "revocation", "did:key:z1")
    with pytest.raises(InvalidInput), db.transaction() as s:
        StatusLists(s).create("x", "expiry", "did:key:z1")
    with pytest.raises(InvalidInput), db.transaction() as s:
        StatusLists(s).create("x", "revocation", "did:key:z1", size=12)


def test_sequential_and_full(db: Database) -> None:
    with db.transaction() as s:
        StatusLists(s).create("small", "suspension", "did:key:z1", size=8)
    got = []
    for _ in range(8):
        with db.transaction() as s:
            got.append(StatusLists(s).allocate("small").index)
    assert got == list(range(8))
    with pytest.raises(StatusListError, match="full"), db.transaction() as s:
        StatusLists(s).allocate("small")
    with db.reading() as s:
        assert StatusLists(s).get("small").full
        assert StatusLists(s).open_list("did:key:z1", "suspension") is None
    with pytest.raises(NotFound), db.transaction() as s:
        StatusLists(s).allocate("nope")


def test_concurrent_allocation_is_unique(db: Database, status_list: str) -> None:
    threads, per_thread = 8, 25
    start = threading.Barrier(threads)

    def work() -> list[int]:
        start.wait()
        out = []
        for _ in range(per_thread):
            with db.transaction() as s:
                out.append(StatusLists(s).allocate(status_list).index)
        return out

    with ThreadPoolExecutor(threads) as pool:
        results = [f.result() for f in [pool.submit(work) for _ in range(threads)]]
    indexes = [i for r in results for i in r]
    assert sorted(indexes) == list(range(threads * per_thread))
    with db.reading() as s:
        assert StatusLists(s).get(status_list).next_index == threads * per_thread


def test_allocation_waits_for_an_open_allocation(db: Database, status_list: str) -> None:
    """A second allocator blocks on the first one's unit of work, then gets the next index."""
    second: list[int] = []

    def allocate() -> None:
        with db.transaction() as s:
            second.append(StatusLists(s).allocate(status_list).index)

    with db.transaction() as s:
        first = StatusLists(s).allocate(status_list).index
        other = threading.Thread(target=allocate)
        other.start()
        other.join(0.5)
        assert other.is_alive(), "the second allocation did not wait for the first"
    other.join()
    assert (first, second) == (0, [1])


def test_bits_and_encoding(db: Database, status_list: str) -> None:
    with db.transaction() as s:
        lists = StatusLists(s)
        for i in (0, 9, MIN_SIZE - 1):
            lists.set_bit(status_list, i)
        lists.set_bit(status_list, 9, False)
        lists.set_bit(status_list, 10)
    with db.reading() as s:
        lists = StatusLists(s)
        assert [lists.bit(status_list, i) for i in (0, 1, 9, 10, MIN_SIZE - 1)] == [
            True,
            False,
            False,
            True,
            True,
        ]
        raw = lists.bitstring(status_list)
        encoded = lists.encoded(status_list)
        with pytest.raises(StatusListError):
            lists.bit(status_list, MIN_SIZE)
        with pytest.raises(StatusListError):
            lists.bit(status_list, -1)
    # Bitstring Status List §3.1: index 0 is the leftmost (most significant) bit.
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0010_0000 and raw[-1] == 0b0000_0001
    assert encoded.startswith("u") and "=" not in encoded
    padded = encoded[1:] + "=" * (-len(encoded[1:]) % 4)
    assert gzip.decompress(base64.urlsafe_b64decode(padded)) == raw
