"""A tenant's policy and its export approvals apply to every conversion of the tenant,
whichever face issues it: the API (one record), the batch API, the exporter's upload
page and ``gateway convert --sign --store``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from gateway import services
from gateway.auth import CONSOLE_ADMIN
from gateway.credentials.claims import credential_claims
from tests.helpers import APPROVAL, PLAIN_URL, RECORDS, GatewayRunner, issue_secrets, make_app

NDJSON = "application/x-ndjson"
HEALTH_TERMS = ("stateOfHealth", "stateOfCharge", "numberOfFullCycles", "remainingCapacity")


def _record(serial: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((RECORDS / "ncm-ev-pack.json").read_text("utf-8"))
    record["battery"]["code"] = record["battery"]["code"][:17] + serial
    return record


def _by_api(app: Flask, secret: str, record: dict[str, Any], _: Path) -> None:
    response = app.test_client().post(
        "/passports", json=record, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201, response.get_json()


def _by_batch(app: Flask, secret: str, record: dict[str, Any], _: Path) -> None:
    response = app.test_client().post(
        "/passports/batch",
        data=json.dumps(record).encode() + b"\n",
        content_type=NDJSON,
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    [outcome] = [json.loads(line) for line in response.get_data().splitlines()]
    assert outcome["outcome"] == "created", outcome


def _by_upload(app: Flask, secret: str, record: dict[str, Any], tmp: Path) -> None:
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(True))
    assert token is not None
    client.post("/login", data={"api_key": secret, "csrf_token": token.group(1)})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/dashboard").get_data(True))
    assert token is not None
    path = tmp / "records.ndjson"
    path.write_bytes(json.dumps(record).encode() + b"\n")
    with path.open("rb") as upload:
        response = client.post(
            "/dashboard/upload",
            headers={"Accept": NDJSON},
            data={"file": (upload, path.name), "format": "di", "csrf_token": token.group(1)},
        )
    assert response.status_code == 200
    items = [json.loads(line) for line in response.get_data().splitlines()]
    assert [o["outcome"] for o in items if "item" in o] == ["created"], items


def _by_cli(app: Flask, _: str, record: dict[str, Any], tmp: Path) -> None:
    path = tmp / "record.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    runner = GatewayRunner(
        app.extensions["gateway.settings"].home, env={"GATEWAY_BASE_URL": PLAIN_URL}
    )
    result = runner.invoke(args=["convert", path, "--sign", "--store", "--tenant", "acme"])
    assert result.exit_code == 0, result.output


FACES: dict[str, Callable[[Flask, str, dict[str, Any], Path], None]] = {
    "api": _by_api,
    "batch": _by_batch,
    "upload": _by_upload,
    "cli": _by_cli,
}


@pytest.fixture
def gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, str]]:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = make_app(tmp_path / "instance", base_url=PLAIN_URL)
    secrets = issue_secrets(app.extensions["gateway.settings"], {"acme": ("exporter",)})
    try:
        yield app, secrets["acme"]["exporter"]
    finally:
        app.extensions["gateway.instance"].db.dispose()


def _stored(app: Flask, code: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The gap report and the credentials' claims of the stored passport of ``code``."""
    instance = app.extensions["gateway.instance"]
    passport = services.find_passport(instance, code)
    _, credentials = services.passport_credentials(instance, code, CONSOLE_ADMIN)
    return passport.gaps, {s: credential_claims(c) for s, c in credentials.items()}


def _status(gaps: dict[str, Any], key: str) -> str:
    return next(str(a["status"]) for a in gaps["attributes"] if a["key"] == key)


@pytest.mark.parametrize("face", list(FACES))
def test_the_tenants_tightening_applies_on_every_face(face, gateway, tmp_path):
    app, secret = gateway
    db = app.extensions["gateway.instance"].db
    before = _record("0001000")
    FACES[face](app, secret, before, tmp_path)
    assert before["manufacturer"]["email"] in json.dumps(_stored(app, before["battery"]["code"]))
    services.set_tenant_policy(
        db, CONSOLE_ADMIN, {"production.date": "withhold", "manufacturer.email": "withhold"}, "acme"
    )
    record = _record("0001001")
    FACES[face](app, secret, record, tmp_path)
    gaps, claims = _stored(app, record["battery"]["code"])
    assert gaps["policy"]["applied"] == "cn-export@1.2.0+tenant:acme@1"
    assert _status(gaps, "manufacturing_date") == "withheld"
    assert not any("manufacturingDate" in c["credentialSubject"] for c in claims.values())
    assert record["manufacturer"]["email"] not in json.dumps(claims)


@pytest.mark.parametrize("face", list(FACES))
def test_health_data_leaves_on_every_face_only_under_an_approval(face, gateway, tmp_path):
    app, secret = gateway
    db = app.extensions["gateway.instance"].db
    record = _record("0001011")
    FACES[face](app, secret, record, tmp_path)
    gaps, claims = _stored(app, record["battery"]["code"])
    assert _status(gaps, "state_of_health") == "withheld"
    assert not any(t in c["credentialSubject"] for c in claims.values() for t in HEALTH_TERMS)

    services.add_approval(db, CONSOLE_ADMIN, APPROVAL, "acme")
    record = _record("0001012")
    FACES[face](app, secret, record, tmp_path)
    gaps, claims = _stored(app, record["battery"]["code"])
    [named] = gaps["policy"]["approvals"]
    carrying = {s for s, c in claims.items() if "stateOfHealth" in c["credentialSubject"]}
    assert carrying and carrying <= set(named["sections"])
    for section in carrying:
        assert claims[section]["exportApproval"] == APPROVAL["reference"]
