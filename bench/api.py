"""The HTTP API under load: bulk conversion and verification through gunicorn.

Starts ``gateway serve`` (gunicorn, 2 workers by default) on 127.0.0.1 over a fresh
instance in a temporary folder (SQLite), then measures:

* bulk conversion through ``POST /passports/batch`` of N generated records
  (:mod:`records`: every pack, module and cell code new, ``--cells`` cells each), once
  with Data Integrity and once with ``vc+jwt``, every access group's credential
  included: records/s, the server's CPU ms per record (every thread of master and
  workers, from ``/proc``) and its peak resident memory (summed, sampled from ``/proc``).
  Each request's records are written to a file before the clock starts (making unique
  records costs the client some 0.3 ms each, on the cores the server is measured on);
  the body is streamed from that file (chunked) and the outcome lines are read while it
  goes out, so neither side holds the batch. The client's own CPU time per record is
  printed beside the server's. ``--streams`` requests run side by side (one per worker
  by default: one request is served by one worker);
* ``POST /credentials/verify`` under 32 concurrent clients for a fixed time, for a Data
  Integrity and a ``vc+jwt`` credential, at the server's most and paced at the target
  rate (:func:`verify_loads`): requests/s, p50, p99 and the server's CPU ms per request.
  ``wrk`` is used when it is on the PATH, else a Python client (threads, one connection
  each);
* the in-process cost of drafting and signing one record and of verifying one credential,
  median, so the share of reading, HTTP and store is visible as a ratio (``pipeline.py``
  measures the whole pipeline in process, store included).

Prints one table with the DESIGN §7 targets beside the figures and figure/target ratios
(>= 1 meets a throughput target; <= 1 meets a latency or memory ceiling).

Usage: ``.venv/bin/python bench/api.py [--records N] [--seconds S] [--clients C]``
Only 127.0.0.1 is ever contacted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from interpreter import described
from records import RecordFactory
from served import BASE_URL, HOST, Server

from gateway.records import read_record
from gateway.services import (
    StatusPool,
    draft_passport,
    open_instance,
    prepare_instance,
    sign_passport,
    verify_credential,
)
from gateway.settings import Settings
from gateway.store import Tenants, init_db

#: DESIGN §7: bulk at the speed of its cryptography, on a quiet 2-core machine.
TARGET_DI_RPS = 500.0
TARGET_JWT_RPS = 650.0
TARGET_RSS_MB = 300.0
#: The RSS target holds over this many records; a shorter run says so.
TARGET_RSS_RECORDS = 100_000
TARGET_VERIFY_RPS = 640.0
TARGET_VERIFY_P99_MS = 50.0
#: The rate of the paced verify load, requests/s: over the target rate.
PACED_RATE = 700.0
#: Server CPU per bulk record and per verify request (bulk at the speed of its
#: cryptography).
TARGET_CPU_MS = {"di": 4.0, "jwt": 3.0}
TARGET_VERIFY_CPU_MS = 3.0
#: Records of the in-process runs are numbered from here, past any bulk run's.
IN_PROCESS_FIRST = 50_000_000


class RssSampler(threading.Thread):
    """Samples the server's summed RSS every ``interval`` seconds: peak and trace; and
    its summed PSS (shared pages divided among the processes sharing them) every
    ``pss_every`` samples, since reading ``smaps_rollup`` walks the page tables."""

    def __init__(self, server: Server, interval: float = 0.25, pss_every: int = 8) -> None:
        super().__init__(daemon=True)
        self.server, self.interval, self.pss_every = server, interval, pss_every
        self.samples: list[float] = []
        self.pss: list[float] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            if len(self.samples) % self.pss_every == 0:
                self.pss.append(self.server.pss_mb())
            self.samples.append(self.server.rss_mb())
            self._halt.wait(self.interval)

    def finish(self) -> tuple[float, float, float]:
        """Stop; return (first, peak, last) in MB."""
        self._halt.set()
        self.join(timeout=5)
        samples = self.samples or [0.0]
        return samples[0], max(samples), samples[-1]


def make_instance(home: Path) -> str:
    """A fresh instance with an exporter key; returns the key's secret."""
    settings = Settings.load({"home": home, "database_url": "", "base_url": BASE_URL})
    prepare_instance(settings)
    db = init_db(settings)
    with db.transaction() as session:
        Tenants(session).create("bench")
        secret = Tenants(session).issue_key("bench", "exporter").secret
    db.dispose()
    return secret


#: Bytes of the request body sent as one chunk.
SEND_BLOCK = 64 * 1024


def batch_stream(
    port: int,
    secret: str,
    fmt: str,
    body: Path,
    key: str,
    timeout: float,
    result: dict[str, Any],
) -> None:
    """One ``POST /passports/batch`` of the NDJSON file ``body``: it goes out chunked from
    a sender thread while this thread reads and counts the outcome lines (the answer
    streams back meanwhile)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    conn.putrequest("POST", f"/passports/batch?format={fmt}")
    conn.putheader("Authorization", f"Bearer {secret}")
    conn.putheader("Content-Type", "application/x-ndjson")
    conn.putheader("Idempotency-Key", key)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    # The body goes straight to this socket: http.client drops its socket once a
    # "Connection: close" answer begins, and its send() would then open a new one.
    sock = conn.sock

    def send() -> None:
        try:
            with body.open("rb") as source:
                while block := source.read(SEND_BLOCK):
                    sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            sock.sendall(b"0\r\n\r\n")
        except OSError as exc:
            result["send_error"] = repr(exc)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    created = refused = 0
    try:
        response = conn.getresponse()
        if response.status != 200:
            result["error"] = f"HTTP {response.status}: {response.read()[:500]!r}"
            return
        while True:
            line = response.readline()
            if not line:
                break
            # orjson: the client shares the server's cores, and json took 61 µs to
            # read a Data Integrity outcome line (its four credentials, 16 KB), orjson 24.
            outcome = orjson.loads(line)
            if outcome["outcome"] == "created":
                created += 1
                if "sample" not in result:
                    result["sample"] = outcome["credentials"]
            else:
                refused += 1
                if "first_refusal" not in result:
                    result["first_refusal"] = outcome
    except OSError as exc:
        result["error"] = repr(exc)
    finally:
        sender.join(timeout=10)
        conn.close()
        sock.close()
        result["created"], result["refused"] = created, refused


def bulk(
    server: Server,
    secret: str,
    fmt: str,
    first: int,
    records: int,
    streams: int,
    timeout: float,
    cells: int,
    workdir: Path,
) -> dict[str, Any]:
    """Convert ``records`` records (numbers from ``first``) in ``streams`` concurrent
    batch requests."""
    source = RecordFactory(cells)
    bodies = []
    for i in range(streams):
        body = workdir / f"bulk-{fmt}-{i}.ndjson"
        with body.open("wb") as out:
            out.writelines(source.lines(range(first + i, first + records, streams)))
        bodies.append(body)
    results: list[dict[str, Any]] = [{} for _ in range(streams)]
    threads = []
    sampler = RssSampler(server)
    sampler.start()
    cpu_before = server.cpu_ns()
    client_before = time.process_time()
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        threads.append(
            threading.Thread(
                target=batch_stream,
                args=(
                    server.port,
                    secret,
                    fmt,
                    body,
                    f"bench-{fmt}-{i}",
                    timeout,
                    results[i],
                ),
                daemon=True,
            )
        )
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    elapsed = time.perf_counter() - start
    cpu_ms = (server.cpu_ns() - cpu_before) / 1e6
    client_ms = (time.process_time() - client_before) * 1e3
    for body in bodies:
        body.unlink()
    rss_first, rss_peak, rss_last = sampler.finish()
    pss_peak = max(sampler.pss or [float("nan")])
    created = sum(r.get("created", 0) for r in results)
    refused = sum(r.get("refused", 0) for r in results)
    errors = [r[k] for r in results for k in ("error", "send_error") if k in r]
    refusals = [r["first_refusal"] for r in results if "first_refusal" in r]
    sample = next((r["sample"] for r in results if "sample" in r), None)
    return {
        "format": fmt,
        "records": records,
        "created": created,
        "refused": refused,
        "seconds": elapsed,
        "rps": created / elapsed if elapsed else 0.0,
        "cpu_ms": cpu_ms / created if created else float("nan"),
        "client_cpu_ms": client_ms / created if created else float("nan"),
        "rss_first": rss_first,
        "rss_peak": rss_peak,
        "rss_last": rss_last,
        "pss_peak": pss_peak,
        "errors": errors,
        "refusals": refusals[:1],
        "sample": sample,
    }


def _verify_body(credential: dict[str, Any] | str) -> bytes:
    return json.dumps({"verifiableCredential": credential}).encode()


def verify_once(port: int, body: bytes) -> dict[str, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(
            "POST", "/credentials/verify", body=body, headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        return json.loads(response.read())
    finally:
        conn.close()


def load_python(
    port: int,
    body: bytes,
    clients: int,
    seconds: float,
    max_requests: int,
    rate: float = 0.0,
) -> dict[str, Any]:
    """``clients`` threads, each with its own connection, until ``seconds`` or
    ``max_requests`` (whichever first). With a ``rate`` (requests/s in all) each client
    sends on a schedule of its own, spread over the period, and waits for its next turn
    (a late answer takes the turns it missed at once); without one each sends its next
    request as soon as it has the answer (the server's most)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.monotonic() + seconds
    budget = threading.Semaphore(max_requests)

    period = clients / rate if rate > 0 else 0.0
    begin = time.monotonic()

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        turn = begin + period * i / clients
        try:
            while time.monotonic() < deadline and budget.acquire(blocking=False):
                if period:
                    time.sleep(max(0.0, turn - time.monotonic()))
                    turn += period
                t0 = time.perf_counter()
                try:
                    conn.request(
                        "POST",
                        "/credentials/verify",
                        body=body,
                        headers={"Content-Type": "application/json"},
                    )
                    response = conn.getresponse()
                    response.read()
                    if response.status != 200:
                        errors[i] += 1
                except OSError:
                    errors[i] += 1
                    conn.close()
                    continue
                latencies[i].append(time.perf_counter() - t0)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - start
    flat = sorted(x for part in latencies for x in part)
    if not flat:
        return {
            "tool": "python",
            "rps": 0.0,
            "p50": float("nan"),
            "p99": float("nan"),
            "requests": 0,
            "errors": sum(errors),
        }
    return {
        "tool": "python",
        "requests": len(flat),
        "errors": sum(errors),
        "rps": len(flat) / elapsed,
        "p50": flat[len(flat) // 2] * 1e3,
        "p99": flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1e3,
    }


_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _wrk_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * _WRK_UNITS[unit]


#: wrk's threads.
WRK_THREADS = 2
#: A wrk script's ``delay`` that keeps each wrk thread to its share of a rate: every
#: request takes the next turn of the thread's schedule and waits for it (a late answer
#: takes the turns it missed at once). wrk has no rate option (wrk2 has, and is not
#: packaged); its LuaJIT reads the monotonic clock through the FFI.
WRK_PACED = """local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local interval = %r
local turn = nil
function delay()
  local now = now_ms()
  turn = (turn or now) + interval
  return math.max(0, math.floor(turn - now))
end
"""


def load_wrk(
    port: int,
    body: bytes,
    clients: int,
    seconds: float,
    workdir: Path,
    rate: float = 0.0,
    cpu: int | None = None,
) -> dict[str, Any]:
    """``wrk`` with a Lua script posting ``body``; latency percentiles from ``--latency``.
    With a ``rate`` (requests/s in all) wrk keeps to it (:data:`WRK_PACED`); without one
    each connection sends its next request as soon as it has the answer (the server's
    most). With a ``cpu``, one wrk thread runs on that CPU alone (``taskset``)."""
    threads = WRK_THREADS if cpu is None else 1
    script = workdir / "verify.lua"
    text = body.decode()
    if "]==]" in text:
        raise ValueError("body cannot be quoted for Lua")
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{text}]==]\n" + (WRK_PACED % (1000 * threads / rate) if rate > 0 else "")
    )
    out = subprocess.run(
        [
            *(["taskset", "-c", str(cpu)] if cpu is not None else []),
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{max(1, int(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            f"http://{HOST}:{port}/credentials/verify",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    pct = dict(re.findall(r"^\s*(\d+(?:\.\d+)?)%\s+(\S+)\s*$", out, re.M))
    if "50" not in pct or "99" not in pct:
        raise RuntimeError(f"cannot read wrk's latency distribution:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "tool": "wrk",
        "requests": requests,
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _wrk_ms(pct["50"]),
        "p99": _wrk_ms(pct["99"]),
    }


def verify_loads(
    port: int,
    body: bytes,
    clients: int,
    seconds: float,
    workdir: Path,
    cpu_ns: Callable[[], int],
    *,
    use_wrk: bool,
    max_requests: int,
    own_core: int | None = None,
) -> list[dict[str, Any]]:
    """``POST /credentials/verify`` of ``body`` served, after a warm-up that is not
    counted, twice: at the server's most (each client sends its next request as soon as
    it has the answer) and paced at :data:`PACED_RATE`.

    At the server's most every client always has a request waiting, so the latency there
    is the number of clients over the rate (Little's law) plus the scheduling of the
    workers' threads and the load generator on the same cores; paced, it is what a
    client waits at a rate over the target.

    :param cpu_ns: the server's CPU time so far (``Server.cpu_ns``).
    :param own_core: the CPU ``wrk`` runs on alone, the server being pinned to another
        (``Server.pin``): then at the server's most only.
    """
    # every worker's first verifications process the contexts and compile the checks:
    # not counted
    load_python(port, body, clients, seconds, 8 * clients)
    loads = []
    for rate in (0.0,) if own_core is not None else (0.0, PACED_RATE):
        before = cpu_ns()
        if use_wrk:
            load = load_wrk(port, body, clients, seconds, workdir, rate, own_core)
        else:
            load = load_python(port, body, clients, seconds, max_requests, rate)
        answered = load["requests"] + load["errors"]
        load["cpu_ms"] = (cpu_ns() - before) / 1e6 / max(1, answered)
        load["load_average"] = os.getloadavg()[0]
        load["offered"] = rate
        load["own_core"] = own_core is not None
        loads.append(load)
    return loads


def verify_rows(load: dict[str, Any], clients: int) -> list[tuple[str, float, str, float | None]]:
    """One verify load's rows: measure, figure, target, and the bound the figure is
    divided by for the ratio column (``None``: no target)."""
    paced = load["offered"] > 0
    # One worker on a core of its own is half the served system, without the load
    # generator on its core: no target is its to meet.
    alone = bool(load.get("own_core"))
    if alone:
        how = f"{clients} clients, at the most of one worker on a CPU of its own, wrk on another"
    elif paced:
        how = f"{clients} clients sending {load['offered']:g} requests/s in all"
    else:
        how = f"{clients} clients, at the server's most"
    return [
        (
            f"req/s, wall ({how}; {load['tool']}, {load['requests']} requests, "
            f"{load['errors']} errors; load average {load['load_average']:.2f})",
            load["rps"],
            # Paced, the rate is the one asked for: it shows the server kept up with it.
            "" if paced or alone else f">= {TARGET_VERIFY_RPS:g}",
            None if paced or alone else TARGET_VERIFY_RPS,
        ),
        (
            "server CPU ms per request",
            load["cpu_ms"],
            f"<= {TARGET_VERIFY_CPU_MS:g}",
            TARGET_VERIFY_CPU_MS,
        ),
        ("p50 ms, wall", load["p50"], "", None),
        (
            "p99 ms, wall",
            load["p99"],
            "" if alone else f"< {TARGET_VERIFY_P99_MS:g}",
            None if alone else TARGET_VERIFY_P99_MS,
        ),
    ]


def in_process(home: Path, runs: int) -> dict[str, float]:
    """Median in-process cost (ms) of draft + sign of one record, and of verify."""
    settings = Settings.load({"home": home, "database_url": "", "base_url": BASE_URL})
    instance = open_instance(settings)
    source = RecordFactory()
    table = instance.mapping(settings.mapping)
    pool = StatusPool(instance, chunk=64)
    out: dict[str, float] = {}
    try:
        for fmt in ("di", "jwt"):
            draft_t, sign_t, verify_t = [], [], []
            signed: dict[str, Any] = {}
            for n in range(runs):
                record = read_record(source.line(IN_PROCESS_FIRST + n), "application/json")
                t0 = time.perf_counter()
                draft = draft_passport(record, mapping=table, base_url=instance.base_url)
                t1 = time.perf_counter()
                signed = sign_passport(draft, key=instance.key, registry=pool, proof_format=fmt)
                t2 = time.perf_counter()
                draft_t.append(t1 - t0)
                sign_t.append(t2 - t1)
            for _ in range(runs):
                t0 = time.perf_counter()
                verify_credential(instance, next(iter(signed.values())))
                verify_t.append(time.perf_counter() - t0)
            out[f"{fmt}_draft"] = statistics.median(draft_t) * 1e3
            out[f"{fmt}_sign"] = statistics.median(sign_t) * 1e3
            out[f"{fmt}_verify"] = statistics.median(verify_t) * 1e3
            out[f"{fmt}_groups"] = float(len(signed))
    finally:
        instance.db.dispose()
    return out


def _row(what: str, figure: str, target: str, ratio: float | None) -> str:
    shown = "" if ratio is None else f"{ratio:.2f}"
    return f"| {what} | {figure} | {target} | {shown} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--records", type=int, default=100_000, help="records per proof format (default 100000)"
    )
    parser.add_argument("--formats", default="di,jwt", help="proof formats to convert")
    parser.add_argument("--cells", type=int, default=96, help="cells per record (default 96)")
    parser.add_argument(
        "--streams",
        type=int,
        default=None,
        help="concurrent batch requests (default: one per worker)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker (gateway serve --threads)"
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--seconds",
        type=float,
        default=15.0,
        help="duration of each verify load (0: no verify load; bench/verify.py has one too)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=100_000,
        help="cap on verify requests per load (Python client)",
    )
    parser.add_argument("--runs", type=int, default=30, help="in-process repetitions")
    parser.add_argument(
        "--timeout", type=float, default=3 * 3600.0, help="cap on one bulk conversion, seconds"
    )
    parser.add_argument("--no-wrk", action="store_true", help="use the Python client")
    args = parser.parse_args()
    streams = args.streams or args.workers
    formats = [f for f in args.formats.split(",") if f]
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        workdir = Path(tmp)
        home = workdir / "instance"
        secret = make_instance(home)
        raw = in_process(home, args.runs)
        server = Server(
            home,
            workdir / "server.log",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        )
        try:
            idle_rss = server.rss_mb()
            bulks = []
            serial = 1
            for fmt in formats:
                print(
                    f"bulk {fmt}: {args.records} records in {streams} streams ...",
                    file=sys.stderr,
                    flush=True,
                )
                result = bulk(
                    server,
                    secret,
                    fmt,
                    serial,
                    args.records,
                    streams,
                    args.timeout,
                    args.cells,
                    workdir,
                )
                serial += args.records
                bulks.append(result)
                if result["errors"] or result["refused"]:
                    print(
                        f"  errors: {result['errors']} refusals: {result['refusals']}",
                        file=sys.stderr,
                    )
            loads = []
            for fmt in ("di", "jwt") if args.seconds > 0 else ():
                sample = next((b["sample"] for b in bulks if b["format"] == fmt), None)
                if sample is None:
                    continue
                body = _verify_body(next(iter(sample.values())))
                check = verify_once(server.port, body)
                if not check.get("verified"):
                    print(f"  the {fmt} credential does not verify: {check}", file=sys.stderr)
                print(
                    f"verify {fmt}: {args.clients} clients, {args.seconds:g} s "
                    f"({'wrk' if use_wrk else 'python'}) ...",
                    file=sys.stderr,
                    flush=True,
                )
                for load in verify_loads(
                    server.port,
                    body,
                    args.clients,
                    args.seconds,
                    workdir,
                    server.cpu_ns,
                    use_wrk=use_wrk,
                    max_requests=args.max_requests,
                ):
                    load["format"] = fmt
                    load["verified"] = bool(check.get("verified"))
                    loads.append(load)
            end_rss = server.rss_mb()
        finally:
            server.stop()

    print()
    print(
        f"API bench: gunicorn {args.workers} workers x {args.threads} threads on {HOST}, "
        "SQLite, "
        f"{os.cpu_count()} CPUs, {described()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    # Other work on the machine skews every figure; the load average says how much.
    print(f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
    print()
    print("| measure | figure | DESIGN §7 target | ratio |")
    print("|---|---|---|---|")
    targets = {"di": TARGET_DI_RPS, "jwt": TARGET_JWT_RPS}
    for b in bulks:
        fmt = b["format"]
        print(
            _row(
                f"bulk {fmt}: records/s ({b['created']} of {b['records']} created, "
                f"{streams} streams, {b['seconds']:.0f} s; the client's CPU "
                f"{b['client_cpu_ms']:.2f} ms per record on the same cores)",
                f"{b['rps']:.0f}",
                f">= {targets[fmt]:.0f}",
                b["rps"] / targets[fmt],
            )
        )
        print(
            _row(
                f"bulk {fmt}: server CPU ms per record ({args.cells} cells, unique codes)",
                f"{b['cpu_ms']:.2f}",
                f"<= {TARGET_CPU_MS[fmt]:g}",
                b["cpu_ms"] / TARGET_CPU_MS[fmt],
            )
        )
        short = (
            f"; a short run: the target holds over {TARGET_RSS_RECORDS:,} records, "
            f"--records {TARGET_RSS_RECORDS}"
            if b["records"] < TARGET_RSS_RECORDS
            else ""
        )
        print(
            _row(
                f"bulk {fmt}: server RSS peak, MB, over {b['records']:,} records (start "
                f"{b['rss_first']:.0f}, end {b['rss_last']:.0f}, PSS peak "
                f"{b['pss_peak']:.0f}{short})",
                f"{b['rss_peak']:.0f}",
                f"< {TARGET_RSS_MB:.0f}",
                b["rss_peak"] / TARGET_RSS_MB,
            )
        )
    for load in loads:
        for what, figure, target, bound in verify_rows(load, args.clients):
            ratio = None if bound is None else figure / bound
            print(_row(f"verify {load['format']}: {what}", f"{figure:.2f}", target, ratio))
    print()
    print(f"server RSS idle {idle_rss:.0f} MB, after the run {end_rss:.0f} MB")
    print()
    print(
        "In-process cost per record (median ms) beside the HTTP figure (cores x 1000 / records/s):"
    )
    print()
    print(
        "| format | draft | sign (all groups) | in-process total | in-process records/s "
        "on all cores | HTTP ms per record per core | HTTP/in-process |"
    )
    print("|---|---|---|---|---|---|---|")
    cores = min(args.workers, os.cpu_count() or 1)
    for fmt in ("di", "jwt"):
        total = raw[f"{fmt}_draft"] + raw[f"{fmt}_sign"]
        b = next((b for b in bulks if b["format"] == fmt), None)
        http_ms = cores * 1e3 / b["rps"] if b and b["rps"] else float("nan")
        print(
            f"| {fmt} | {raw[f'{fmt}_draft']:.2f} | {raw[f'{fmt}_sign']:.2f} "
            f"({raw[f'{fmt}_groups']:.0f}) | {total:.2f} | {cores * 1e3 / total:.0f} | "
            f"{http_ms:.2f} | {http_ms / total:.2f} |"
        )
    for fmt in ("di", "jwt"):
        load = next((x for x in loads if x["format"] == fmt), None)
        if load:
            print(
                f"verify {fmt} in-process {raw[f'{fmt}_verify']:.2f} ms; over HTTP p50 "
                f"{load['p50']:.2f} ms ({load['p50'] / raw[f'{fmt}_verify']:.2f}x)"
            )
    failed = [b for b in bulks if b["errors"] or b["created"] != b["records"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
