"""The cross-border guarantee end to end: a record with a VIN, an owner and a last
location, plus telemetry carrying the same VIN and positions, goes through aggregation,
merge, conversion and signing in both proof formats (in-process and through the CLI),
and no output carries the VIN, the owner's name, phone or address, or the coordinates.

``assert_no_leak(text_or_obj, record)`` (in ``tests/helpers.py``) is the check; every new
surface that emits passport data (API responses included) should be run through it here.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.codes.gbt32960 import BEIJING, parse_frame
from gateway.credentials.keys import KeyStore
from gateway.credentials.status_list import FileStatusListStore, StatusRegistry
from gateway.paths import FIXTURES_DIR
from gateway.records.reader import read_record_file
from gateway.services import draft_passport, sign_passport
from gateway.telemetry import aggregate_frames, merge_usage, parameters_from_record
from gateway.telemetry import gbt32960_encode as enc
from tests.helpers import GatewayRunner, assert_no_leak, issue_keys, make_app, sensitive_values

RECORD = FIXTURES_DIR / "records" / "vin-repair-pack.json"
BASE = "https://passports.example.com"
MAPPING = "cn-trace-to-eu-passport@1.0.0"


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


def test_the_check_finds_what_it_looks_for(record):
    with pytest.raises(AssertionError):
        assert_no_leak({"x": record["vehicle"]["vin"]}, record)
    with pytest.raises(AssertionError):
        assert_no_leak('{"lat": 30.5728}', record)
    with pytest.raises(AssertionError):
        assert_no_leak(b"104066800", record)
    token = base64.urlsafe_b64encode(json.dumps({"n": "张三"}).encode()).decode().rstrip("=")
    with pytest.raises(AssertionError):
        assert_no_leak(f"eyJhbGciOiJFZERTQSJ9.{token}.c2ln", record)


def test_record_and_telemetry_carry_the_secrets(record, merged):
    # The inputs do hold what must not leave; otherwise the test below proves nothing.
    frame = parse_frame(bytes.fromhex(_frames(record)[1]))
    assert frame.vin == record["vehicle"]["vin"]
    [position] = [u for u in frame.data["info_units"] if u["type"] == 0x05]
    assert str(position["raw"]["longitude"]) in sensitive_values(record)
    assert merged["usage"]["time_above_max_temp_minutes"] == 10
    assert merged["vehicle"]["owner"]["name"] == "张三"


@pytest.mark.parametrize("proof_format", ["di", "jwt"])
def test_converted_and_signed_outputs_carry_no_identifier(tmp_path, record, merged, proof_format):
    draft = draft_passport(merged, mapping=MAPPING, base_url=BASE)
    keys = KeyStore(tmp_path / "keys", BASE, tmp_path / "did")
    keys.generate()
    key = keys.signing_key()
    registry = StatusRegistry(
        FileStatusListStore(tmp_path / "status"), base_url=BASE, issuer=key.issuer
    )
    signed = sign_passport(draft, key=key, registry=registry, proof_format=proof_format)
    assert set(signed) == set(draft.documents)
    # The telemetry aggregates did reach the passport: the level-3 alarm found in the
    # frames is a negative event (EV passports carry no temperature exposure, Annex VII
    # Part B applies to LMT, industrial and stationary batteries).
    events = draft.documents["legitimate_interest"]["informationOnAccidents"]
    assert "battery_high_temperature (level 3)" in json.dumps(events)
    for document in draft.documents.values():
        assert_no_leak(document, record)
    assert_no_leak(draft.gaps, record)
    for credential in signed.values():
        if proof_format == "jwt":
            assert isinstance(credential, str)
        assert_no_leak(credential, record)


@pytest.mark.parametrize(("proof_format", "suffix"), [("di", "vc.jsonld"), ("jwt", "vc.jwt")])
def test_cli_outputs_carry_no_identifier(
    tmp_path, monkeypatch, runner: GatewayRunner, record, merged, proof_format, suffix
):
    monkeypatch.setenv("GATEWAY_BASE_URL", BASE)

    def run(*args: object, national_record_out: bool = False):
        result = runner.invoke(args=args, catch_exceptions=False)
        if not national_record_out:
            assert_no_leak(result.stdout, record)
        assert_no_leak(result.stderr, record)
        return result

    frames = tmp_path / "frames.hex"
    frames.write_text("\n".join(_frames(record)) + "\n", encoding="ascii")
    record_file = tmp_path / "record.json"
    record_file.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    code = record["battery"]["code"]
    for options in (["--json"], []):
        result = run(
            "telemetry", "aggregate", frames, "--battery", code, "--temp-max", 55, *options
        )
        assert result.exit_code == 0
    # With --record the merged national record is printed: it stays in China and holds
    # the VIN by design, so only its stderr is checked; convert below is what leaves.
    merged_out = run(
        "telemetry", "aggregate", frames, "--record", record_file, national_record_out=True
    )
    assert merged_out.exit_code == 0
    assert json.loads(merged_out.stdout) == merged

    merged_file = tmp_path / "merged.json"
    merged_file.write_text(json.dumps(merged, ensure_ascii=False), encoding="utf-8")
    assert run("init").exit_code == 0
    out = tmp_path / "out"
    result = run("convert", merged_file, "--out", out, "--sign", "--format", proof_format)
    assert result.exit_code == 0, result.output
    written = sorted(p for p in Path(out).rglob("*") if p.is_file())
    assert any(p.name.endswith(suffix) for p in written)
    for path in written:
        assert_no_leak(path.read_text(encoding="utf-8"), record)


def test_api_responses_carry_no_identifier(tmp_path, record, merged):
    app = make_app(tmp_path / "instance")
    keys = issue_keys(app.extensions["gateway.settings"])
    api = app.test_client()
    code = record["battery"]["code"]
    seen = []

    def check(response, status=200):
        assert response.status_code == status, response.get_data(as_text=True)
        seen.append(response.request.path)
        assert_no_leak(response.get_data(as_text=True), record)
        return response

    check(
        api.post(
            "/telemetry/aggregate",
            headers=keys["exporter"],
            query_string={"battery_code": code, "temp_max": "55"},
            data="\n".join(_frames(record)),
            content_type="text/plain",
        )
    )
    # A second battery (last serial digit changed) for the second proof format.
    other = code[:-1] + ("1" if code[-1] == "0" else "0")
    for proof_format, battery_code in (("di", code), ("jwt", other)):
        body = json.dumps({**merged, "battery": {**merged["battery"], "code": battery_code}})
        created = check(
            api.post(
                f"/passports?format={proof_format}",
                data=body,
                headers=keys["exporter"],
                content_type="application/json",
            ),
            201,
        )
        issued_code = created.get_json()["batteryCode"]
        for role in (None, "importer", "authority", "admin", "exporter"):
            headers = keys[role] if role else {}
            check(api.get(f"/passports/{issued_code}", headers=headers))
            check(api.get(f"/passports/{issued_code}", headers={**headers, "Accept": "text/html"}))
        check(api.get(f"/passports/{issued_code}/gaps", headers=keys["exporter"]))
        for credential in created.get_json()["credentials"].values():
            check(api.post("/credentials/verify", json={"verifiableCredential": credential}))
    check(api.get("/passports", headers=keys["admin"]))
    app.extensions["gateway.instance"].db.dispose()
    assert len(seen) > 20
