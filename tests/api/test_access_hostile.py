"""Hostile input on the access, approval and disclosure routes, on SQLite and PostgreSQL:
ids beyond the store's integer columns, NUL and invisible characters in names, codes
and reasons, and times that fall outside the years 1-9999 in UTC. Each is a 4xx
problem naming the field, never a 500 (PostgreSQL refuses NUL in text and a number
beyond its column even to compare)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import RECORDS, assert_problem, issue_keys, make_app

CODE = "Z9ZPEN8K52S96AE740000319"
BEYOND = 2**31  # one past the largest id of a grant, an approval, a disclosure or a key
GRANT: dict[str, Any] = {
    "grantee": {"tenant": "beta"},
    "scope": "passport",
    "batteryCode": CODE,
    "points": [2, 4],
    "purpose": "dismantling_repair_remanufacturing",
    "validUntil": "2030-12-31T23:59:59+08:00",
    "reason": "dismantling",
}


@pytest.fixture
def app(tmp_path: Path, backend_url: str) -> Iterator[Flask]:
    app = make_app(tmp_path / "instance", backend_url)
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture
def world(app: Flask) -> tuple[FlaskClient, dict[str, dict[str, str]]]:
    client = app.test_client()
    keys = issue_keys(app.extensions["gateway.settings"])
    created = client.post(
        "/passports",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert created.status_code == 201, created.get_json()
    return client, keys


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"grantee": {"key": BEYOND}}, "/grantee/key"),
        ({"grantee": {"tenant": "be\u0000ta"}}, "/grantee/tenant"),
        ({"issuer": "ac\u0000me"}, "/issuer"),
        ({"reason": "dis\u0000mantling"}, "/reason"),
        ({"reason": "dis\u202emantling"}, "/reason"),
        ({"scope": "batch", "batteryCode": None, "batch": "B\u00001"}, "/batch"),
        ({"scope": "batch", "batteryCode": None, "batch": "B\u200b1"}, "/batch"),
        ({"validFrom": "0001-01-01T00:00:00+14:00"}, "/validFrom"),
        ({"validUntil": "9999-12-31T23:59:59-14:00"}, "/validUntil"),
    ],
)
def test_a_hostile_grant_is_a_422_naming_the_field(world, change, pointer) -> None:
    client, keys = world
    body = {k: v for k, v in {**GRANT, **change}.items() if v is not None}
    problem = assert_problem(client.post("/grants", json=body, headers=keys["exporter"]), 422)
    assert problem["pointer"] == pointer, problem
    assert client.get("/grants", headers=keys["exporter"]).get_json()["given"] == []


@pytest.mark.postgres
@pytest.mark.parametrize("who", ["exporter", "admin"])
def test_ids_beyond_the_columns_are_unknown(world, who) -> None:
    client, keys = world
    for route in ("grants", "approvals"):
        for grant_id in (BEYOND, 2**63 - 1):
            response = client.post(
                f"/{route}/{grant_id}/revoke", json={"reason": "r"}, headers=keys[who]
            )
            assert_problem(response, 404)
    for after in (str(BEYOND), str(2**63 - 1)):
        response = client.get("/disclosures", query_string={"after": after}, headers=keys[who])
        assert assert_problem(response, 422)["pointer"] == "after"
    # Trust list entries have the same 32-bit ids.
    for entry_id in (BEYOND, 2**63 - 1):
        assert_problem(client.delete(f"/trusted-issuers/{entry_id}", headers=keys["admin"]), 404)


@pytest.mark.postgres
@pytest.mark.parametrize("route", ["/approvals", "/tenant-policy", "/registry/profile"])
def test_a_tenant_name_with_nul_is_refused(world, route) -> None:
    client, keys = world
    response = client.get(route, query_string={"tenant": "ac\u0000me"}, headers=keys["admin"])
    assert assert_problem(response, 422)["pointer"] == "tenant"
    response = client.get(
        "/disclosures", query_string={"tenant": "ac\u0000me"}, headers=keys["admin"]
    )
    assert assert_problem(response, 422)["pointer"] == "tenant"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "path",
    [
        "/passports/{}",
        "/passports/{}/aasx",
        "/passports/{}/gaps",
        "/passports/{}/metadata",
        "/passports/{}/registrations",
        "/passports/{}/evidence",
    ],
)
@pytest.mark.parametrize("who", [None, "exporter", "importer", "authority", "admin"])
def test_a_battery_code_with_nul_has_no_passport(world, path, who) -> None:
    client, keys = world
    headers = {**(keys[who] if who else {}), "Accept": "application/json"}
    for code in (f"{CODE}%00", "%00", f"{CODE}%E2%80%8B"):
        response = client.get(path.format(code), headers=headers)
        assert response.status_code in (401, 403, 404), response.get_data(as_text=True)
        assert "\u0000" not in response.get_data(as_text=True)
    response = client.get(
        "/disclosures", query_string={"batteryCode": f"{CODE}\u0000"}, headers=keys["exporter"]
    )
    assert response.status_code in (404, 422), response.get_data(as_text=True)
