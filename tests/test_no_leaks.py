"""The cross-border guarantee end to end: a record with a VIN, an owner, a last location
and an end-of-life vehicle certificate number, BMS health figures and timestamped alarms,
plus telemetry carrying the same VIN and positions, goes through aggregation, merge,
conversion and signing in both proof formats (in-process, through the CLI and through
the API: single, batch, pages, gap reports, evidence packages).

No output ever carries the VIN, the owner's name, phone or address, the coordinates, the
certificate number, or the time of an individual alarm. Without an export approval no
output carries a BMS health figure either (state of health and of charge, capacity fade,
remaining capacity, cycles, throughput, temperature minutes, negative event counts);
with one covering their categories they do appear.

``assert_no_leak(text_or_obj, record, also=...)`` (in ``tests/helpers.py``) is the check;
every new surface that emits passport data should be run through it here.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from gateway.codes.gbt32960 import BEIJING, parse_frame
from gateway.credentials.claims import credential_claims
from gateway.credentials.keys import KeyStore
from gateway.credentials.status_list import FileStatusListStore, StatusRegistry
from gateway.paths import FIXTURES_DIR
from gateway.records.reader import read_record_file
from gateway.services import draft_passport, sign_passport
from gateway.telemetry import aggregate_frames, merge_usage, parameters_from_record
from gateway.telemetry import gbt32960_encode as enc
from gateway.transform.aas_media_types import AASX
from tests.helpers import (
    APPROVAL,
    GatewayRunner,
    assert_no_leak,
    covering_everything,
    issue_keys,
    make_app,
    sensitive_values,
)

RECORD = FIXTURES_DIR / "records" / "vin-repair-pack.json"
BASE = "https://passports.example.com"
MAPPING = "cn-trace-to-eu-passport@1.0.0"
CERTIFICATE = "BF-510100-2025-007731"
# BMS health figures, each written so that it cannot turn up by chance elsewhere.
USAGE = {
    "soh": "93.417",
    "soc": "47.293",
    "cycles": 8765431,
    "remaining_capacity": {"value": "141.739", "unit": "Ah"},
    "energy_throughput": {"value": "12345.678", "unit": "kWh"},
    "capacity_throughput": {"value": "31415.926", "unit": "Ah"},
    "time_below_min_temp_minutes": 8765432,
    "time_charging_above_max_temp_minutes": 8765433,
    "time_charging_below_min_temp_minutes": 8765434,
    "deep_discharge_events": 8765435,
    "overcharge_events": 8765436,
}
SUPPLEMENT = {
    "state_of_certified_energy": "91.234",
    "power_fade": "4.321",
    "internal_resistance_increase_pack": "12.345",
    "current_self_discharge_rate": "0.987",
}
#: Every form a health figure above takes in a passport: as written, and the capacity
#: fade mapping 1.0.0 derives from the SOH (100 - 93.417).
HEALTH = sorted(
    {str(v["value"] if isinstance(v, dict) else v) for v in USAGE.values()}
    | set(SUPPLEMENT.values())
    | {"6.583"}
)
#: What an EV passport carries of them under an approval (Annex VII Part B figures do
#: not apply to EV batteries; capacity fade is declared, no longer derived from the SOH).
EV_HEALTH = ("93.417", "47.293", "141.739", "8765431", "91.234", "4.321")


def _frames(record: dict[str, Any]) -> list[str]:
    """An hour of telemetry of the record's battery from the record's vehicle, with the
    vehicle's position in every frame."""
    vin, code = record["vehicle"]["vin"], record["battery"]["code"]
    location = record["vehicle"]["last_location"]
    lon, lat = float(location["lon"]), float(location["lat"])
    start = dt.datetime(2025, 11, 1, 7, 0, tzinfo=BEIJING)
    frames = [enc.login(vin, start, [code])]
    for i in range(360):
        moment = start + dt.timedelta(seconds=10 * i)
        hot = 120 <= i < 180
        frames.append(
            enc.realtime(
                vin,
                moment,
                [
                    enc.vehicle_unit(soc=80 - i // 10, voltage=350, current=60),
                    enc.position_unit(lon, lat),
                    enc.extreme_unit(max_temp=58 if hot else 30, min_temp=20),
                    enc.alarm_unit(3 if hot else 0, ["battery_high_temperature"] if hot else []),
                ],
            )
        )
    return [frame.hex().upper() for frame in frames]


@pytest.fixture
def record() -> dict[str, Any]:
    data = read_record_file(RECORD)
    data["specs"]["temperature_range"] = {"min": "-20", "max": "55", "unit": "°C"}
    data["usage"].update(USAGE)
    data["eu_supplement"] = dict(SUPPLEMENT)
    data["events"].append(
        {
            "type": "dismantling",
            "date": "2025-12-01",
            "certificate_no": CERTIFICATE,
            "vin": data["vehicle"]["vin"],
        }
    )
    return data


@pytest.fixture
def merged(record):
    params = parameters_from_record(record)
    aggregates = aggregate_frames(
        _frames(record),
        battery_code=record["battery"]["code"],
        rated_capacity_ah=params.rated_capacity_ah,
        temp_min=params.temp_min,
        temp_max=params.temp_max,
    )
    assert_no_leak(aggregates.as_dict(), record)
    return merge_usage(record, aggregates)


def _alarm_times(merged: dict[str, Any]) -> list[str]:
    """The timestamps of the individual alarms, which never leave in any form."""
    return [a["time"] for a in merged["usage"]["alarms"]]


def _withheld(merged: dict[str, Any]) -> list[str]:
    """What must not leave without an approval: health figures and alarm times."""
    return [*HEALTH, *_alarm_times(merged), "07:55:31"]


def _other(code: str, serial: int) -> str:
    """Another battery code of the same maker (the serial part changed)."""
    return code[:17] + f"{serial:07d}"


def test_the_check_finds_what_it_looks_for(record):
    with pytest.raises(AssertionError):
        assert_no_leak({"x": record["vehicle"]["vin"]}, record)
    with pytest.raises(AssertionError):
        assert_no_leak('{"lat": 30.5728}', record)
    with pytest.raises(AssertionError):
        assert_no_leak(b"104066800", record)
    with pytest.raises(AssertionError):
        assert_no_leak(f"certificate {CERTIFICATE}", record)
    with pytest.raises(AssertionError):
        assert_no_leak('{"stateOfHealth": "93.417"}', record, also=HEALTH)
    token = base64.urlsafe_b64encode(json.dumps({"n": "张三"}).encode()).decode().rstrip("=")
    with pytest.raises(AssertionError):
        assert_no_leak(f"eyJhbGciOiJFZERTQSJ9.{token}.c2ln", record)


def test_record_and_telemetry_carry_the_secrets(record, merged):
    # The inputs do hold what must not leave; otherwise the tests below prove nothing.
    frame = parse_frame(bytes.fromhex(_frames(record)[1]))
    assert frame.vin == record["vehicle"]["vin"]
    [position] = [u for u in frame.data["info_units"] if u["type"] == 0x05]
    assert str(position["raw"]["longitude"]) in sensitive_values(record)
    assert CERTIFICATE in sensitive_values(record)
    assert merged["usage"]["time_above_max_temp_minutes"] == 10
    assert merged["usage"]["soh"] == "93.417"
    assert merged["vehicle"]["owner"]["name"] == "张三"
    times = _alarm_times(merged)
    assert "2025-10-29T07:55:31+08:00" in times and len(times) == 3


@pytest.mark.parametrize("approved", [False, True], ids=["no-approval", "approval"])
@pytest.mark.parametrize("proof_format", ["di", "jwt"])
def test_converted_and_signed_outputs_carry_no_identifier(
    tmp_path, record, merged, proof_format, approved
):
    approvals = [covering_everything()] if approved else []
    draft = draft_passport(merged, mapping=MAPPING, base_url=BASE, approvals=approvals)
    keys = KeyStore(tmp_path / "keys", BASE, tmp_path / "did")
    keys.generate()
    key = keys.signing_key()
    registry = StatusRegistry(
        FileStatusListStore(tmp_path / "status"), base_url=BASE, issuer=key.issuer
    )
    signed = sign_passport(draft, key=key, registry=registry, proof_format=proof_format)
    assert set(signed) == set(draft.documents)
    events = [d.get("informationOnAccidents") for d in draft.documents.values()]
    withheld = [] if approved else HEALTH
    if approved:
        # The level-3 alarms (the record's and the one telemetry found) leave as counts
        # over the period, at month precision.
        assert "battery_high_temperature, level 3: 1 (2024-07 to 2025-11)" in json.dumps(events)
        text = json.dumps(draft.documents)
        assert all(value in text for value in EV_HEALTH)
    else:
        assert events == [None] * len(events)
    also = [*withheld, *_alarm_times(merged), "07:55:31"]
    for document in draft.documents.values():
        assert_no_leak(document, record, also)
    assert_no_leak(draft.gaps, record, also)
    for credential in signed.values():
        if proof_format == "jwt":
            assert isinstance(credential, str)
        assert_no_leak(credential, record, also)


@pytest.mark.parametrize(("proof_format", "suffix"), [("di", "vc.jsonld"), ("jwt", "vc.jwt")])
def test_cli_outputs_carry_no_identifier(
    tmp_path, monkeypatch, runner: GatewayRunner, record, merged, proof_format, suffix
):
    monkeypatch.setenv("GATEWAY_BASE_URL", BASE)
    also = _withheld(merged)

    def run(*args: object, national_record_out: bool = False, withheld=also):
        result = runner.invoke(args=args, catch_exceptions=False)
        if not national_record_out:
            assert_no_leak(result.stdout, record, withheld)
        assert_no_leak(result.stderr, record, withheld)
        return result

    frames = tmp_path / "frames.hex"
    frames.write_text("\n".join(_frames(record)) + "\n", encoding="ascii")
    record_file = tmp_path / "record.json"
    record_file.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    code = record["battery"]["code"]
    for options in (["--json"], []):
        result = run(
            "telemetry",
            "aggregate",
            frames,
            "--battery",
            code,
            "--temp-max",
            55,
            *options,
            withheld=[],  # the exporter's own aggregates, in China
        )
        assert result.exit_code == 0
    # With --record the merged national record is printed: it stays in China and holds
    # the VIN by design, so only its stderr is checked; convert below is what leaves.
    merged_out = run(
        "telemetry", "aggregate", frames, "--record", record_file, national_record_out=True
    )
    assert merged_out.exit_code == 0
    assert json.loads(merged_out.stdout) == merged

    def files(out: Path) -> list[Path]:
        written = sorted(p for p in Path(out).rglob("*") if p.is_file())
        assert any(p.name.endswith(suffix) for p in written)
        return written

    def convert(number: int, *options: object) -> Path:
        path = tmp_path / f"merged-{number}.json"
        data = {**merged, "battery": {**merged["battery"], "code": _other(code, number)}}
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        out = tmp_path / f"out-{number}"
        result = run("convert", path, "--out", out, "--sign", "--format", proof_format, *options)
        assert result.exit_code == 0, result.output
        return out

    assert run("init").exit_code == 0
    # Offline, and stored for a tenant without an approval: nothing of the BMS leaves.
    for path in files(convert(1)):
        assert_no_leak(path.read_text(encoding="utf-8"), record, also)
    assert run("tenants", "create", "acme").exit_code == 0
    for path in files(convert(2, "--store", "--tenant", "acme")):
        assert_no_leak(path.read_text(encoding="utf-8"), record, also)
    # Under an approval the health figures leave; the alarm times never do.
    added = run(
        "approvals", "add", "--tenant", "acme", "--kind", APPROVAL["kind"],
        "--reference", APPROVAL["reference"], "--authority", APPROVAL["authority"],
        *[x for c in APPROVAL["categories"] for x in ("--category", c)],
        "--from", "2026-01-01", "--until", "2099-12-31", "--sha256", APPROVAL["documentSha256"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    approved = files(convert(3, "--store", "--tenant", "acme"))
    credentials = [
        credential_claims(p.read_text(encoding="utf-8").strip())
        if proof_format == "jwt"
        else json.loads(p.read_text(encoding="utf-8"))
        for p in approved
        if p.name.endswith(suffix)
    ]
    text = json.dumps(credentials)
    assert APPROVAL["reference"] in text
    assert all(value in text for value in EV_HEALTH)
    for path in approved:
        assert_no_leak(path.read_text(encoding="utf-8"), record, _alarm_times(merged))


def test_api_responses_carry_no_identifier(tmp_path, record, merged):
    app = make_app(tmp_path / "instance")
    keys = issue_keys(app.extensions["gateway.settings"])
    api = app.test_client()
    code = record["battery"]["code"]
    seen = []
    withheld = _withheld(merged)

    def check(response, status=200, also=withheld):
        assert response.status_code == status, response.get_data(as_text=True)
        seen.append(response.request.path)
        if response.mimetype in ("application/zip", AASX):
            with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
                for name in archive.namelist():
                    assert_no_leak(archive.read(name).decode("utf-8"), record, also)
        else:
            assert_no_leak(response.get_data(as_text=True), record, also)
        return response

    check(
        api.post(
            "/telemetry/aggregate",
            headers=keys["exporter"],
            query_string={"battery_code": code, "temp_max": "55"},
            data="\n".join(_frames(record)),
            content_type="text/plain",
        ),
        also=[],  # the exporter's own aggregates, answered in China
    )

    def read_back(issued_code: str, also: list[str]) -> None:
        for role in (None, "importer", "authority", "admin", "exporter"):
            headers = keys[role] if role else {}
            check(api.get(f"/passports/{issued_code}", headers=headers), also=also)
            check(
                api.get(f"/passports/{issued_code}", headers={**headers, "Accept": "text/html"}),
                also=also,
            )
            # The Asset Administration Shell views (JSON and AASX) and the label.
            check(
                api.get(
                    f"/passports/{issued_code}",
                    headers={**headers, "Accept": "application/aas+json"},
                ),
                also=also,
            )
            check(api.get(f"/passports/{issued_code}/aasx", headers=headers), also=also)
            check(api.get(f"/passports/{issued_code}/label", headers=headers), also=also)
        check(api.get(f"/passports/{issued_code}/metadata"), also=also)
        check(
            api.get(f"/passports/{issued_code}/registration-payload", headers=keys["exporter"]),
            also=also,
        )
        # The issuer's and, read from abroad, an authority's.
        for role in ("exporter", "authority"):
            check(api.get(f"/passports/{issued_code}/gaps", headers=keys[role]), also=also)
            check(api.get(f"/passports/{issued_code}/evidence", headers=keys[role]), also=also)

    issued = []
    for number, proof_format in enumerate(("di", "jwt"), start=1):
        body = json.dumps(
            {**merged, "battery": {**merged["battery"], "code": _other(code, number)}}
        )
        created = check(
            api.post(
                f"/passports?format={proof_format}",
                data=body,
                headers=keys["exporter"],
                content_type="application/json",
            ),
            201,
        )
        issued.append(created.get_json())
        read_back(created.get_json()["batteryCode"], _withheld(merged))
        for credential in created.get_json()["credentials"].values():
            check(api.post("/credentials/verify", json={"verifiableCredential": credential}))
    lines = b"".join(
        json.dumps({**merged, "battery": {**merged["battery"], "code": _other(code, n)}}).encode()
        + b"\n"
        for n in (3, 4)
    )
    check(
        api.post(
            "/passports/batch",
            data=lines,
            headers=keys["exporter"],
            content_type="application/x-ndjson",
        )
    )
    check(api.get("/passports", headers=keys["admin"]))
    for fmt in ("jsonl", "csv"):
        check(api.get("/registry/payloads", query_string={"format": fmt}, headers=keys["admin"]))
    assert all(i["gaps"]["policy"]["approvals"] == [] for i in issued)

    # The exporter's upload page and the batch pages it links to.
    page = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get("/login").get_data(True))
    assert token is not None
    secret = keys["exporter"]["Authorization"].removeprefix("Bearer ")
    page.post("/login", data={"api_key": secret, "csrf_token": token.group(1)})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get("/dashboard").get_data(True))
    assert token is not None
    upload = json.dumps({**merged, "battery": {**merged["battery"], "code": _other(code, 6)}})
    uploaded = check(
        page.post(
            "/dashboard/upload",
            headers={"Accept": "application/x-ndjson"},
            data={
                "file": (io.BytesIO(upload.encode() + b"\n"), "records.ndjson"),
                "format": "jwt",
                "csrf_token": token.group(1),
            },
        )
    )
    batch_url = json.loads(uploaded.get_data().splitlines()[0])["url"]
    for suffix in ("", "/passports.json", "/gaps.json", "/gaps.csv"):
        check(page.get(batch_url + suffix))

    # Under an approval of every category the health figures leave, never an alarm time.
    check(api.post("/approvals", headers=keys["exporter"], json=APPROVAL), 201, also=[])
    body = json.dumps({**merged, "battery": {**merged["battery"], "code": _other(code, 5)}})
    created = check(
        api.post(
            "/passports", data=body, headers=keys["exporter"], content_type="application/json"
        ),
        201,
        also=_alarm_times(merged),
    )
    text = created.get_data(as_text=True)
    assert all(value in text for value in EV_HEALTH)
    read_back(created.get_json()["batteryCode"], _alarm_times(merged))
    app.extensions["gateway.instance"].db.dispose()
    assert len(seen) > 30
