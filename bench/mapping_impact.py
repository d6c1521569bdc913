"""The CPU cost of a mapping version's impact analysis over stored passports.

Builds a fresh instance in a temporary folder (SQLite) holding N stored passports of one
tenant (the ``ncm-ev-pack`` fixture with GB/T 34014 serial digits varied; credentials
left out, since the analysis reads only the stored records), makes a draft that changes
one row, and measures the process CPU time of:

* the first page of the impact analysis as an editor asks for it (the fixtures and one
  page of the tenant's passports), and
* every page one after the other, i.e. the whole tenant's analysis.

Usage: ``.venv/bin/python bench/mapping_impact.py [--passports N] [--limit L]``
Nothing is contacted over the network.
"""

from __future__ import annotations

import argparse
import inspect
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from interpreter import described

from gateway.services import prepare_instance
from gateway.services.mappings import MappingWorkflow
from gateway.settings import Settings
from gateway.store import Passports, Tenants, init_db
from gateway.store.passports import NewPassport

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "fixtures" / "records" / "ncm-ev-pack.json"
BASE_URL = "https://gw.example"
BASE = "cn-trace-to-eu-passport@1.1.0"
#: A version no release ships, so the draft can always be made.
DRAFT = "cn-trace-to-eu-passport@1.9.0"


def fill(workflow: MappingWorkflow, tenant_id: int, count: int) -> None:
    """Store ``count`` passports of one tenant, records differing in their serial."""
    text = TEMPLATE.read_text(encoding="utf-8")
    code = json.loads(text)["battery"]["code"]
    with workflow.db.transaction() as session:
        passports = Passports(session)
        for serial in range(count):
            record = json.loads(text.replace(code, f"{code[:17]}{serial:07d}"))
            passports.save(
                NewPassport(
                    id=f"{BASE_URL}/passports/{record['battery']['code']}",
                    battery_code=record["battery"]["code"],
                    tenant_id=tenant_id,
                    category="ev",
                    mapping_set="cn-trace-to-eu-passport",
                    mapping_version="1.1.0",
                    mapping_hash="-",
                    record=record,
                ),
                [],
                actor="bench",
            )


def run_impact(
    workflow: MappingWorkflow, tenant_id: int, limit: int, after: str | None
) -> dict[str, Any]:
    params = inspect.signature(workflow.impact).parameters
    if "tenant_id" not in params:  # the unscoped, unpaged analysis of earlier versions
        return workflow.impact(DRAFT, base_url=BASE_URL)
    return workflow.impact(DRAFT, base_url=BASE_URL, tenant_id=tenant_id, limit=limit, after=after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passports", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    print(described())
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(
            {"home": Path(tmp) / "instance", "database_url": "", "base_url": BASE_URL}
        )
        prepare_instance(settings)
        db = init_db(settings)
        with db.transaction() as session:
            tenant_id = Tenants(session).create("bench").id
        workflow = MappingWorkflow(db, actor="bench")
        workflow.sync_shipped()
        workflow.create_draft(*DRAFT.split("@"), BASE.split("@")[1])
        workflow.edit(DRAFT, change={23: {"predicate_id": "skos:exactMatch"}})
        fill(workflow, tenant_id, args.passports)
        run_impact(workflow, tenant_id, args.limit, None)  # warm the caches once

        started = time.process_time()
        first = run_impact(workflow, tenant_id, args.limit, None)
        first_cpu = time.process_time() - started

        started = time.process_time()
        pages, after, records = 0, None, 0
        while True:
            page = run_impact(workflow, tenant_id, args.limit, after)
            pages += 1
            records += len(page["records"])
            after = (page.get("page") or {}).get("next")
            if not after:
                break
        all_cpu = time.process_time() - started
        db.dispose()
    print(f"stored passports: {args.passports}, page limit: {args.limit}")
    print(f"{'measure':<40} {'CPU s':>8} {'records':>8}")
    print(
        f"{'first request (what one call costs)':<40} {first_cpu:>8.2f} {len(first['records']):>8}"
    )
    print(f"{'all pages (' + str(pages) + ' requests)':<40} {all_cpu:>8.2f} {records:>8}")
    print(f"CPU ms per stored passport: {all_cpu * 1000 / max(args.passports, 1):.2f}")


if __name__ == "__main__":
    main()
