"""CPU time of unique product identifiers on the issuance path and of the resolver's look-up.

Per record, what issuance adds for the identifier: minting it (pure: the GS1 Digital Link
built and checked by ``biip``, or the identification link), the read of the battery's
earlier identifier and the tenant's scheme (``identifiers.planned``, one unit of work) and
the insert beside the passport (``identifiers.keep``). Issuance runs both inside units of
work it opens anyway, so each is printed beyond the cost of an empty one. Then the
resolver's look-up of a path (``services.resolve``). Over a fresh SQLite instance in a
temporary folder (or ``--database-url``); records from :mod:`records`, every code new.

Beside the figures: the pipeline's CPU per record at 96 cells (``pipeline.py``), so the
share the identifier adds can be read off. Nothing here is a test.

Usage: ``.venv/bin/python bench/identifiers.py [--records N] [--database-url URL]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interpreter import described
from records import RecordFactory
from sqlalchemy import text

from gateway.services import identifiers, prepare_instance, resolve
from gateway.settings import Settings
from gateway.store import Tenants, init_db
from gateway.store.identifiers import Identifiers, SchemeSetting

BASE_URL = "https://gw.example"
GTIN = "09506000134352"


def _cpu_us(work: Callable[[int], Any], count: int) -> float:
    start = time.process_time()
    for i in range(count):
        work(i)
    return (time.process_time() - start) / count * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    print(described())
    factory = RecordFactory(cells=1)
    records = [factory.record(i) for i in range(args.records)]
    for record in records:
        record["battery"]["gtin"] = GTIN
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.load(
            {"home": Path(folder), "base_url": BASE_URL, "database_url": args.database_url}
        )
        prepare_instance(settings)
        db = init_db(settings)
        try:
            with db.transaction() as session:
                tenant = Tenants(session).create("bench").id
                Identifiers(session).set_scheme(
                    SchemeSetting(tenant, identifiers.GS1, "id.bench.cn"), "bench"
                )
            setting = SchemeSetting(tenant, identifiers.GS1, "id.bench.cn")
            minted: list[Any] = []

            def mint(i: int) -> None:
                minted.append(identifiers.mint(setting, BASE_URL, tenant, records[i]))

            def planned(i: int) -> None:
                with db.reading() as session:
                    identifiers.planned(session, tenant, records[i], BASE_URL)

            def keep(i: int) -> None:
                with db.transaction() as session:
                    identifiers.keep(session, minted[i])

            def look_up(i: int) -> None:
                resolve(db, minted[i].path)

            # Issuance has run a statement in both units of work already: the floors do.
            def empty_read(i: int) -> None:
                with db.reading() as session:
                    session.execute(text("SELECT 1"))

            def empty_transaction(i: int) -> None:
                with db.transaction() as session:
                    session.execute(text("SELECT 1"))

            read_floor = _cpu_us(empty_read, args.records)
            write_floor = _cpu_us(empty_transaction, args.records)
            rows = [
                ("mint (GS1 Digital Link)", _cpu_us(mint, args.records)),
                ("planned, beyond an empty read", _cpu_us(planned, args.records) - read_floor),
                ("keep, beyond an empty transaction", _cpu_us(keep, args.records) - write_floor),
                ("resolver look-up of a path", _cpu_us(look_up, args.records)),
                ("(a read unit of work, SELECT 1)", read_floor),
                ("(a transaction, SELECT 1)", write_floor),
            ]
        finally:
            db.dispose()
    print(f"{args.records} records, {db.url.get_backend_name()}")
    print(f"{'step':<34} {'CPU µs/record':>14}")
    for name, micros in rows:
        print(f"{name:<34} {micros:>14.1f}")
    added = rows[0][1] + rows[1][1] + rows[2][1]
    print(f"{'added to issuance':<34} {added:>14.1f}")
    print("pipeline.py's figure per record (96 cells) is the baseline to divide by")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
