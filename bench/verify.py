"""Server CPU per ``POST /credentials/verify`` request, through the whole Flask app.

What one verify request costs the server, without the network: the WSGI request, the
bounded JSON read, the request body check against ``openapi.yaml``, and the verifier
(signature, contexts, issuer key, validity, both status lists, trust list, vocabulary),
over a fresh instance in a temporary folder (SQLite, or ``--database-url``) holding one
issued passport. Printed per proof format: CPU ms per request (median of the rounds),
the share spent reading the status lists, and the DESIGN §7 target beside it; then the
same after a revocation, which every following request must see. Then the three parts
that are kept between requests, each beside the path that does the work every time on
the same data: the two status lists of a credential (decoded once per list version,
against loading and decoding both per request), the request body check (compiled once,
against ``jsonschema`` resolving the spec's references per request) and the issuer's key
(resolved once, against resolving and decoding it per request).

Then the same two credentials served: ``gateway serve`` (gunicorn, 2 workers with
threads and keep-alive) on 127.0.0.1 under ``--clients`` concurrent clients (32) for
``--seconds`` each, twice: at the server's most (each client sends its next request as
soon as it has the answer) and paced at ``api.PACED_RATE`` requests/s in all, over the
target rate (``api.verify_loads``). Each gives requests/s and p50/p99 (wall),
and the server's CPU ms per request from its processes (every thread of master and
workers, ``/proc``), beside the targets. Then, with ``wrk`` and ``taskset`` on two CPUs
or more, one worker pinned to a CPU under half the clients at its most, ``wrk`` alone on
another: half the served system with the load generator off its core (no target of its
own; on two cores the load generator otherwise shares the server's).

CPU time (``time.process_time``, the server's from ``/proc``) is the figure to compare;
wall figures are printed with the load average during the load, and mean little on a
busy machine. Nothing here is a test: no figure fails a run.

Usage: ``.venv/bin/python bench/verify.py [--requests N] [--rounds R] [--database-url URL]
[--clients C] [--seconds S]`` (``--seconds 0``: no served load)
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from api import make_instance, verify_loads, verify_once, verify_rows
from interpreter import described
from records import RecordFactory
from served import Server

from gateway.app import create_app
from gateway.services import prepare_instance
from gateway.settings import Settings
from gateway.store import Tenants, init_db

BASE_URL = "https://gw.example"
TARGET_MS = 3.0
#: Functions whose cumulative time is the status lists' share.
STATUS_FUNCTIONS = ("check_status",)


def _app(home: Path, database_url: str) -> tuple[Any, dict[str, str]]:
    overrides: dict[str, Any] = {"home": home, "base_url": BASE_URL, "database_url": database_url}
    prepare_instance(Settings.load(overrides))
    app = create_app(overrides)
    settings: Settings = app.extensions["gateway.settings"]
    db = init_db(settings)
    try:
        with db.transaction() as session:
            tenants = Tenants(session)
            tenants.create("bench")
            secret = tenants.issue_key("bench", "exporter").secret
    finally:
        db.dispose()
    return app, {"Authorization": f"Bearer {secret}"}


def _cpu_ms(client: Any, body: bytes, count: int, expect: int) -> float:
    start = time.process_time()
    for _ in range(count):
        response = client.post("/credentials/verify", data=body, content_type="application/json")
        if response.status_code != expect:
            raise SystemExit(f"verify answered {response.status_code}: {response.data[:400]!r}")
    return (time.process_time() - start) * 1e3 / count


def _status_share(client: Any, body: bytes, count: int, expect: int) -> float:
    profile = cProfile.Profile()
    profile.enable()
    _cpu_ms(client, body, count, expect)
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    status = sum(
        row[3]
        for key, row in stats.stats.items()  # type: ignore[attr-defined]
        if key[2] in STATUS_FUNCTIONS
    )
    return status / total if total else 0.0


def _us(work: Any, count: int) -> float:
    work()
    start = time.process_time()
    for _ in range(count):
        work()
    return (time.process_time() - start) * 1e6 / count


def _parts(app: Any, credential: dict[str, Any], body: dict[str, Any], count: int) -> list[Any]:
    """CPU µs of each kept part, kept and done afresh, on the same instance and data."""
    from datetime import UTC, datetime

    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from gateway.api import contract
    from gateway.credentials.status_list import StatusListCache, cached_source, check_status
    from gateway.credentials.verify import remembering
    from gateway.services import status_registry
    from gateway.store.status_adapter import DatabaseStatusListStore

    instance = app.extensions["gateway.instance"]
    now = datetime.now(UTC)
    cache = StatusListCache()

    def status(cached: bool) -> Any:
        def run() -> None:
            with instance.db.reading() as session:
                store = DatabaseStatusListStore(session, lock=False)
                # Kept as a verification keeps them: asked only when the counter moved.
                state = instance.verifier_sources(session).status_state
                source = (
                    cached_source(store.version, store.versioned, cache, state)
                    if cached
                    else status_registry(instance, store).source()
                )
                checks = check_status(credential, source, now=now, verify_list=lambda d: [])
                assert checks and all(c.ok for c in checks), checks

        return run

    uri = "urn:bench:openapi"
    registry = Registry().with_resource(
        uri, Resource.from_contents(contract.spec(), default_specification=DRAFT202012)
    )
    fresh = Draft202012Validator(
        {"$ref": f"{uri}#/components/schemas/VerifyRequest"}, registry=registry
    )
    reference = credential["proof"]["verificationMethod"]
    kept = remembering(instance.resolver)
    return [
        ("status lists", _us(status(False), count), _us(status(True), count)),
        (
            "body check",
            _us(lambda: list(fresh.iter_errors(body)), count),
            _us(lambda: contract.validate("VerifyRequest", body), count),
        ),
        (
            "issuer key",
            _us(lambda: instance.resolver.resolve(reference).ed25519(), count),
            _us(lambda: kept.remembered(reference, "assertionMethod").method, count),
        ),
    ]


def served(clients: int, seconds: float) -> list[dict[str, Any]]:
    """Verify loads against ``gateway serve``: one Data Integrity and one ``vc+jwt``
    credential, each issued by the served instance; then, where ``wrk`` and ``taskset``
    are at hand on two CPUs or more, the same on one worker pinned to a CPU under half
    the clients, with ``wrk`` alone on another: half the served system without the load
    generator on its core, which a machine of two cores cannot otherwise show."""
    loads = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        workdir = Path(tmp)
        home = workdir / "instance"
        secret = make_instance(home)
        bodies = {}
        server = Server(home, workdir / "server.log", "--workers", "2")
        try:
            factory = RecordFactory()
            for number, fmt in enumerate(("di", "jwt")):
                status, answer = server.request(
                    "POST",
                    f"/passports?format={fmt}",
                    json.dumps(factory.record(number)).encode(),
                    {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
                )
                if status != 201:
                    raise SystemExit(f"issue answered {status}: {answer[:400]!r}")
                credential = json.loads(answer)["credentials"]["annex-xiii-1"]
                bodies[fmt] = body = json.dumps({"verifiableCredential": credential}).encode()
                if not verify_once(server.port, body).get("verified"):
                    print(f"  note: the served {fmt} credential does not verify", file=sys.stderr)
                print(f"served verify {fmt}: {clients} clients, {seconds:g} s ...", file=sys.stderr)
                loads.extend(_loads(server, body, clients, seconds, workdir, fmt, None))
        finally:
            server.stop()
        cpus = sorted(os.sched_getaffinity(0))
        if shutil.which("wrk") and shutil.which("taskset") and len(cpus) >= 2:
            server = Server(home, workdir / "own-core.log", "--workers", "1")
            try:
                server.pin(cpus[0])
                for fmt, body in bodies.items():
                    print(f"served verify {fmt}: one worker on a CPU ...", file=sys.stderr)
                    loads.extend(_loads(server, body, clients // 2, seconds, workdir, fmt, cpus[1]))
            finally:
                server.stop()
    return loads


def _loads(
    server: Server,
    body: bytes,
    clients: int,
    seconds: float,
    workdir: Path,
    fmt: str,
    own_core: int | None,
) -> list[dict[str, Any]]:
    """``api.verify_loads`` on ``server``, each load marked with its format and clients."""
    loads = verify_loads(
        server.port,
        body,
        clients,
        seconds,
        workdir,
        server.cpu_ns,
        use_wrk=shutil.which("wrk") is not None,
        max_requests=1_000_000,
        own_core=own_core,
    )
    for load in loads:
        load["format"] = fmt
        load["clients"] = clients
    return loads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="", help="an empty database (default SQLite)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients, served")
    parser.add_argument("--seconds", type=float, default=10.0, help="each served load (0: none)")
    args = parser.parse_args()
    print(described())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        app, headers = _app(Path(folder) / "instance", args.database_url)
        client = app.test_client()
        rows = []
        factory = RecordFactory()
        for number, fmt in enumerate(("di", "jwt")):
            created = client.post(
                f"/passports?format={fmt}",
                data=json.dumps(factory.record(number)).encode(),
                content_type="application/json",
                headers=headers,
            )
            if created.status_code != 201:
                raise SystemExit(f"issue answered {created.status_code}: {created.data[:400]!r}")
            credential = created.json["credentials"]["annex-xiii-1"]
            body = json.dumps({"verifiableCredential": credential}).encode()
            verdict = client.post("/credentials/verify", data=body, content_type="application/json")
            expect = verdict.status_code
            if expect != 200:
                failed = [c for c in verdict.json["checks"] if not c["ok"]]
                print(
                    f"  note: the {fmt} credential does not verify here: {failed}", file=sys.stderr
                )
            _cpu_ms(client, body, min(args.requests, 20), expect)  # warm caches
            figures = [_cpu_ms(client, body, args.requests, expect) for _ in range(args.rounds)]
            share = _status_share(client, body, args.requests, expect)
            if fmt == "di":
                parts = _parts(app, credential, json.loads(body), args.requests)
            code = created.json["batteryCode"]
            revoked = client.post(f"/passports/{code}/revoke", headers=headers)
            if revoked.status_code != 200:
                raise SystemExit(f"revoke answered {revoked.status_code}")
            after = _cpu_ms(client, body, args.requests, 400)
            rows.append((fmt, statistics.median(figures), share, after))
        app.extensions["gateway.instance"].db.dispose()
    print()
    print(f"{'format':8} {'CPU ms/request':>15} {'status lists':>13} {'revoked':>9} {'target':>7}")
    for fmt, ms, share, after in rows:
        print(f"{fmt:8} {ms:15.2f} {share:12.0%} {after:9.2f} {TARGET_MS:7.1f}")
    print(f"\n{'kept part (di)':16} {'afresh µs':>10} {'kept µs':>8}")
    for name, afresh, kept in parts:
        print(f"{name:16} {afresh:10.0f} {kept:8.0f}")
    if args.seconds > 0:
        loads = served(args.clients, args.seconds)
        print(
            f"\nserved: gateway serve, 2 workers, {args.clients} clients, "
            f"{args.seconds:g} s each, {os.cpu_count()} CPUs\n"
        )
        print("| measure | figure | target | figure/target |")
        print("|---|---|---|---|")
        for load in loads:
            for what, figure, target, bound in verify_rows(load, load["clients"]):
                ratio = f"{figure / bound:.2f}" if bound else ""
                print(f"| verify {load['format']}: {what} | {figure:.2f} | {target} | {ratio} |")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
