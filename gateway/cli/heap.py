"""The garbage collector of a long-running gateway process (a server worker, a bulk job
worker, ``gateway convert --store``).

Once loaded, such a process holds a few hundred thousand long-lived objects: the mapping
tables, the EU catalog, the code tables, the JSON-LD contexts, the libraries. CPython's
collector walks all of them in every full collection, about 80 ms each, and a bulk run
triggers one every couple of hundred records: a third of a millisecond per record, and an
80 ms pause in whatever request is running then. :func:`settle` moves
what is loaded out of the collector's sight (:func:`gc.freeze`) and lets the young
generation grow larger before it is collected: a record makes thousands of short-lived
containers, nearly all freed by reference counting, and collecting every 700 of them
costs more than it finds.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Container allocations (net of those freed) between two young-generation collections;
#: CPython's default is 700. Cyclic garbage waits at most this many allocations longer.
YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """Collect once, freeze what is left, and raise the young generation's threshold.

    Call it once the process has loaded what it keeps (after the app or the instance is
    made). Frozen objects are still freed when their last reference goes; only a cycle
    among them stays for the life of the process, which is why the collection first.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)


@contextmanager
def settled() -> Iterator[None]:
    """:func:`settle` for one run (a command's bulk issuance), then the collector as it
    was: what was frozen can be collected again once the run's objects are let go."""
    threshold = gc.get_threshold()
    settle()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
