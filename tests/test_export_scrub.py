"""Scrubbed exports: a record with every identifying field filled (VIN in the vehicle
and in events, owner name, phone and street, last location, end-of-life certificate
number) goes out through every export face, and none carries any of them; an
identifier typed into a released free-text field makes the evidence package refuse
itself, naming the field and never the value."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from gateway.policy.identifiers import ExportRefused, check_export, identifying_values
from gateway.settings import Settings
from tests.helpers import (
    RECORDS,
    assert_no_leak,
    assert_problem,
    issue_keys,
    make_app,
    planted_record,
    sensitive_values,
)

VIN = "LNBSCTEST00000001"


@pytest.fixture
def app(tmp_path: Path) -> Any:
    app = make_app(tmp_path / "instance")
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture
def headers(app: Flask, tmp_path: Path) -> dict[str, dict[str, str]]:
    return issue_keys(Settings(home=tmp_path / "instance"))


def _unzipped(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]


def test_the_check_searches_every_form_the_independent_list_names() -> None:
    record = planted_record()
    values = identifying_values(record)
    assert set(sensitive_values(record)) <= set(values)
    with pytest.raises(ExportRefused) as caught:
        check_export("a CSV", f"code,vin\nX,{VIN}\n".encode(), values)
    assert "vehicle.vin" in str(caught.value) and VIN not in str(caught.value)
    check_export("a CSV", "code\nX\n", values)


def test_no_export_face_carries_an_identifier(
    app: Flask, headers: dict[str, dict[str, str]]
) -> None:
    client = app.test_client()
    record = planted_record()
    exporter = headers["exporter"]
    issued = client.post("/passports", json=record, headers=exporter)
    assert issued.status_code == 201, issued.get_data(as_text=True)
    code = issued.get_json()["batteryCode"]
    second = copy.deepcopy(record)
    second["battery"]["code"] = code[:-1] + "9"
    batch = client.post(
        "/passports/batch",
        data=json.dumps(second, ensure_ascii=False).encode("utf-8") + b"\n",
        headers={**exporter, "Content-Type": "application/x-ndjson"},
    )
    outputs: dict[str, Any] = {"issue": issued.get_data(), "batch": batch.get_data()}
    for accept in ("application/ld+json", "application/json", "text/html"):
        outputs[f"passport {accept}"] = client.get(
            f"/passports/{code}", headers={**exporter, "Accept": accept}
        ).get_data()
    for path in ("gaps", "metadata", "registration-payload", "linkset"):
        outputs[path] = client.get(f"/passports/{code}/{path}", headers=exporter).get_data()
    evidence = client.get(f"/passports/{code}/evidence", headers=exporter)
    assert evidence.status_code == 200, evidence.get_data(as_text=True)
    aasx = client.get(f"/passports/{code}/aasx", headers=exporter)
    for name, data in (("evidence", evidence.get_data()), ("aasx", aasx.get_data())):
        if data[:2] == b"PK":
            for i, text in enumerate(_unzipped(data)):
                outputs[f"{name} file {i}"] = text
        else:
            outputs[name] = data
    for fmt in ("jsonl", "csv"):
        outputs[f"registry {fmt}"] = client.get(
            f"/registry/payloads?format={fmt}", headers=exporter
        ).get_data()
    assert batch.status_code == 200 and aasx.status_code == 200
    for name, output in outputs.items():
        try:
            assert_no_leak(output, record)
        except AssertionError as exc:  # pragma: no cover - names the face that leaked
            raise AssertionError(f"{name}: {exc}") from None


def test_an_identifier_in_released_free_text_stops_the_evidence_package(
    app: Flask, headers: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second line holds when the first is gone (a passport stored before the
    issuance check existed)."""
    monkeypatch.setattr("gateway.services.conversion.check_released", lambda *a: None)
    client = app.test_client()
    record = planted_record()
    repair = next(e for e in record["events"] if e["type"] == "repair")
    repair["reason"] = f"module replaced on vehicle {VIN}"
    issued = client.post("/passports", json=record, headers=headers["exporter"])
    assert issued.status_code == 201, issued.get_data(as_text=True)
    code = issued.get_json()["batteryCode"]
    refused = client.get(f"/passports/{code}/evidence", headers=headers["exporter"])
    problem = assert_problem(refused, 500, "export-refused")
    assert "vin" in problem["detail"]
    assert VIN not in refused.get_data(as_text=True)


def test_a_vin_typed_into_a_released_field_is_refused_before_signing(tmp_path) -> None:
    """The first line of the check: a released free-text field holding the record's VIN
    stops the draft with a 422 naming the field, never the VIN."""
    record = json.loads((RECORDS / "vin-repair-pack.json").read_text(encoding="utf-8"))
    vin = record["vehicle"]["vin"]
    repair = next(e for e in record["events"] if e["type"] == "repair")
    repair["reason"] = f"connector replaced, vehicle {vin}"
    app = make_app(tmp_path / "instance")
    api = app.test_client()
    keys = issue_keys(app.extensions["gateway.settings"])
    response = api.post(
        "/passports",
        data=json.dumps(record).encode(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    problem = assert_problem(response, 422, "identifying-data")
    assert problem["pointer"] == f"/events/{record['events'].index(repair)}/reason"
    assert vin not in response.get_data(as_text=True)
