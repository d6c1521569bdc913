"""How fast the served gateway refuses hostile requests (denial of service).

Starts ``gateway serve`` (its defaults) on 127.0.0.1 over a fresh instance in a temporary
folder (SQLite) and sends, one at a time, each request below ``--runs`` times:

1. a Data Integrity credential whose ``proofValue`` is 200,000 base58 characters; one whose
   proof's ``verificationMethod`` is a ``did:key`` of 200,000 characters; a ``vc+jwt``
   whose header ``kid`` is such a ``did:key`` (``POST /credentials/verify``, anonymous);
2. two slow-loris sockets (half a header; ``Content-Length: 1000`` and no body) held open
   while a normal client asks ``GET /health``; and how long the server keeps them;
3. an 8-node blank-node clique sent to ``POST /credentials/issue`` with an exporter key;
4. one 5 MB hexadecimal line sent to ``POST /telemetry/aggregate``.

Each case is sent a few times unmeasured first (every worker warms up its caches). For
each it prints the answer's status, the wall time, and the server's CPU time for the
request: the on-CPU nanoseconds of every thread of every gunicorn process
(``/proc/<pid>/task/<tid>/schedstat``) summed before and after, on an otherwise idle
server, so the figure is what the request cost the server whoever was waiting. Printed
beside the 100 ms target (DESIGN §7); the median of the runs. The load average is
printed before and after: a figure taken on a busy machine says little.

Usage: ``.venv/bin/python bench/hostile.py [--runs N] [--read-timeout S]``
Only 127.0.0.1 is ever contacted; every wait is bounded.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interpreter import described
from served import BASE_URL, HOST, REQUEST_TIMEOUT, Server

from gateway.services import prepare_instance
from gateway.settings import Settings
from gateway.store import Tenants, init_db

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "fixtures" / "records" / "ncm-ev-pack.json"
TARGET_MS = 100.0
WARM_UP = 6
LONG = 200_000
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _long_base58() -> str:
    return "z" + (BASE58 * (LONG // len(BASE58) + 1))[:LONG]


def _clique(nodes: int) -> dict[str, Any]:
    """A credential whose subject holds ``nodes`` blank nodes each linked to every other:
    the graph shape whose canonicalization (URDNA2015) grows factorially."""
    members = [
        {"id": f"_:b{i}", "knows": [{"id": f"_:b{j}"} for j in range(nodes) if j != i]}
        for i in range(nodes)
    ]
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        # The VC API's own DID (did:web of the base URL's host), the issuer it signs as.
        "issuer": f"did:web:{BASE_URL.removeprefix('https://')}:vc-api",
        "credentialSubject": {"knows": members},
    }


class Bench:
    def __init__(self, server: Server, exporter: str, runs: int) -> None:
        self.server = server
        self.auth = {"Authorization": f"Bearer {exporter}"}
        self.runs = runs
        self.rows: list[dict[str, Any]] = []

    def measure(self, name: str, send: Callable[[], int]) -> None:
        # Unmeasured first: each worker loads its contexts, caches and code paths on the
        # first request of a kind, and requests go to whichever worker accepts first.
        for _ in range(WARM_UP):
            send()
        walls, cpus, statuses = [], [], set()
        for _ in range(self.runs):
            time.sleep(0.3)  # let the server go idle, so the CPU delta is this request's
            cpu = self.server.cpu_ns()
            started = time.perf_counter()
            statuses.add(send())
            walls.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)  # the answer is sent before the worker's last bookkeeping
            cpus.append((self.server.cpu_ns() - cpu) / 1e6)
        self.rows.append(
            {
                "request": name,
                "status": ",".join(map(str, sorted(statuses))),
                "wall_ms": statistics.median(walls),
                "cpu_ms": statistics.median(cpus),
            }
        )

    def post_json(self, path: str, body: Any, auth: bool = False) -> int:
        headers = {"Content-Type": "application/json", **(self.auth if auth else {})}
        return self.server.request("POST", path, json.dumps(body).encode(), headers)[0]


def issued_credentials(server: Server, auth: dict[str, str]) -> tuple[dict[str, Any], str]:
    """A gateway-signed Data Integrity credential and a ``vc+jwt`` one, to tamper with."""
    out = []
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    code = record["battery"]["code"]
    for n, fmt in enumerate(("di", "jwt"), start=1):
        text = json.dumps(record, ensure_ascii=False).replace(code, f"{code[:17]}{n:07d}")
        status, body = server.request(
            "POST",
            f"/passports?format={fmt}",
            text.encode("utf-8"),
            {"Content-Type": "application/json", **auth},
        )
        if status not in (200, 201):
            raise SystemExit(f"issuing a passport failed: {status} {body[:300]!r}")
        # the first credential is the one everybody may read
        out.append(next(iter(json.loads(body)["credentials"].values())))
    return out[0], out[1]


def slow_loris(server: Server, read_timeout: float) -> dict[str, Any]:
    """Two idle sockets, a normal client's wait beside them, and how long they are kept."""
    half = socket.create_connection((HOST, server.port), timeout=read_timeout + 30)
    half.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    nobody = socket.create_connection((HOST, server.port), timeout=read_timeout + 30)
    nobody.sendall(
        b"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    opened = time.monotonic()
    time.sleep(0.5)
    waits = []
    for _ in range(5):
        started = time.perf_counter()
        try:
            status = server.request("GET", "/health", timeout=REQUEST_TIMEOUT)[0]
        except OSError:
            status = 0
        waits.append(((time.perf_counter() - started) * 1000, status))
    kept = []
    for sock in (half, nobody):
        try:
            while sock.recv(65536):
                pass
            kept.append(time.monotonic() - opened)
        except OSError:
            kept.append(float("nan"))
        finally:
            sock.close()
    return {
        "health_ms": statistics.median(w for w, _ in waits),
        "health_status": ",".join(sorted({str(s) for _, s in waits})),
        "kept_s": kept,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="requests per case (median)")
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=30.0,
        help="gateway serve --read-timeout (how long slow sockets are kept)",
    )
    args = parser.parse_args()
    print(described())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "instance"
        settings = Settings.load({"home": home, "base_url": BASE_URL})
        prepare_instance(settings)
        db = init_db(settings)
        with db.transaction() as session:
            Tenants(session).create("acme")
            exporter = Tenants(session).issue_key("acme", "exporter").secret
        db.dispose()
        server = Server(home, Path(tmp) / "server.log", "--read-timeout", str(args.read_timeout))
        try:
            bench = Bench(server, exporter, args.runs)
            di, jwt = issued_credentials(server, bench.auth)
            long_key = "did:key:" + _long_base58()

            proof_value = json.loads(json.dumps(di))
            proof_value["proof"]["proofValue"] = _long_base58()
            bench.measure(
                "1 proofValue of 200,000 chars (verify)",
                lambda: bench.post_json(
                    "/credentials/verify", {"verifiableCredential": proof_value}
                ),
            )
            did_key = json.loads(json.dumps(di))
            did_key["proof"]["verificationMethod"] = f"{long_key}#key-1"
            bench.measure(
                "1 did:key of 200,000 chars (verify)",
                lambda: bench.post_json("/credentials/verify", {"verifiableCredential": did_key}),
            )
            header, payload, signature = jwt.split(".")
            head = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
            head["kid"] = f"{long_key}#key-1"
            token = f"{_b64url(json.dumps(head).encode())}.{payload}.{signature}"
            bench.measure(
                "1 JWS kid of 200,000 chars (verify)",
                lambda: server.request(
                    "POST",
                    "/credentials/verify",
                    token.encode(),
                    {"Content-Type": "application/vc+jwt"},
                )[0],
            )
            bench.measure(
                "3 8-node blank-node clique (issue)",
                lambda: bench.post_json(
                    "/credentials/issue", {"credential": _clique(8)}, auth=True
                ),
            )
            line = b"23" * (5 * 1024 * 1024 // 2) + b"\n"
            bench.measure(
                "4 one 5 MB hex line (telemetry)",
                lambda: server.request(
                    "POST",
                    "/telemetry/aggregate?battery_code=Z9ZPBA10000001F3F0000123",
                    line,
                    {"Content-Type": "text/plain", **bench.auth},
                )[0],
            )
            loris = slow_loris(server, args.read_timeout)
        finally:
            server.stop()
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| request | status | server CPU ms | wall ms | target ms | CPU / target |")
    print("|---|---|---|---|---|---|")
    for row in bench.rows:
        print(
            f"| {row['request']} | {row['status']} | {row['cpu_ms']:.1f} | "
            f"{row['wall_ms']:.1f} | {TARGET_MS:.0f} | {row['cpu_ms'] / TARGET_MS:.2f} |"
        )
    print(
        f"| 2 GET /health beside two slow-loris sockets | {loris['health_status']} | - | "
        f"{loris['health_ms']:.1f} | {TARGET_MS:.0f} | - |"
    )
    kept = ", ".join(f"{k:.1f}" for k in loris["kept_s"])
    print(
        f"\nslow-loris sockets closed by the server after {kept} s "
        f"(read timeout {args.read_timeout:g} s)"
    )


if __name__ == "__main__":
    main()
