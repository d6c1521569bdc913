"""EU registry readiness over the API: the EN 18223 metadata route, registration payloads,
recorded registrations, the bulk export and a tenant's defaults; who may use each,
malformed bodies, and tenants kept apart."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway import services
from gateway.credentials.claims import credential_claims
from gateway.errors import Conflict
from gateway.services.registry import passport_facts
from gateway.store import Passports
from gateway.transform.aas import export_aas, subjects_view
from tests.helpers import RECORDS, assert_problem

CODE = "Z9ZPEN8K52S96AE740000319"
PROOF = b"%PDF-1.7 sealed proof of registration"
REGISTRATION = {
    "registrationId": "EU-DPP-REG-2026-000123",
    "registeredAt": "2026-11-02T09:15:00+01:00",
    "proof": {"fileName": "proof-000123.pdf", "content": base64.b64encode(PROOF).decode()},
}
ROUTES = (
    ("get", f"/passports/{CODE}/registration-payload"),
    ("get", f"/passports/{CODE}/registrations"),
    ("post", f"/passports/{CODE}/registrations"),
    ("get", "/registry/payloads"),
    ("get", "/registry/profile"),
    ("put", "/registry/profile"),
)


def _issue(api, headers, name: str = "ncm-ev-pack.json", fmt: str = "di") -> dict[str, Any]:
    record = json.loads((RECORDS / name).read_text(encoding="utf-8"))
    created = api.post("/passports", headers=headers, json=record, query_string={"format": fmt})
    assert created.status_code == 201, created.get_json()
    body: dict[str, Any] = created.get_json()
    return body


@pytest.fixture
def app_db(api_app) -> services.Database:
    db: services.Database = api_app.extensions["gateway.instance"].db
    return db


@pytest.fixture
def issued(api, keys) -> dict[str, Any]:
    return _issue(api, keys["exporter"])


def _expected_hash(credential: dict[str, Any] | str) -> str:
    """The content hash worked out here: without floats and with ASCII member names,
    RFC 8785 is sorted keys, no whitespace and UTF-8."""
    claims = credential_claims(credential)
    claims.pop("proof", None)
    text = json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _public(issued: dict[str, Any]) -> dict[str, Any] | str:
    credential: dict[str, Any] | str = issued["credentials"]["annex-xiii-1"]
    return credential


# -- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_callers_are_refused(api, issued, method, path):
    response = getattr(api, method)(path, json=REGISTRATION)
    assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize("role", ["importer", "authority", "editor"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_other_roles_are_refused_before_the_body_is_read(api, keys, issued, role, method, path):
    response = getattr(api, method)(path, headers=keys[role], data=b"{not json")
    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize(("method", "path"), ROUTES[:3])
def test_another_tenants_passport_is_not_found(api, keys, issued, method, path):
    response = getattr(api, method)(path, headers=keys["beta"], json=REGISTRATION)
    assert_problem(response, 404, "not-found")


def test_another_tenants_defaults_and_payloads_are_refused(api, keys, issued):
    for method, path in (("get", "/registry/profile"), ("get", "/registry/payloads")):
        response = getattr(api, method)(path, headers=keys["beta"], query_string={"tenant": "acme"})
        assert_problem(response, 403, "forbidden")
    response = api.put(
        "/registry/profile", headers=keys["beta"], json={}, query_string={"tenant": "acme"}
    )
    assert_problem(response, 403, "forbidden")


# -- metadata ------------------------------------------------------------------------------


def test_anyone_reads_the_metadata_and_its_status_follows_the_passport(api, keys, issued):
    response = api.get(f"/passports/{CODE}/metadata")
    assert response.status_code == 200
    block = response.get_json()
    assert list(block)[:6] == [
        "digitalProductPassportId",
        "uniqueProductIdentifier",
        "granularity",
        "dppSchemaVersion",
        "dppStatus",
        "lastUpdate",
    ]
    assert block["digitalProductPassportId"] == issued["id"]
    assert block["granularity"] == "Item" and block["dppStatus"] == "active"
    assert block["facilityId"] == "CN-FJ-ND-002"
    assert block["contentSpecificationIds"][0].startswith(
        "https://w3id.org/cn-eu-battery/contexts/passport/v"
    )
    assert api.post(f"/passports/{CODE}/suspend", headers=keys["exporter"]).status_code == 200
    assert api.get(f"/passports/{CODE}/metadata").get_json()["dppStatus"] == "suspended"
    assert api.post(f"/passports/{CODE}/revoke", headers=keys["exporter"]).status_code == 200
    assert api.get(f"/passports/{CODE}/metadata").get_json()["dppStatus"] == "revoked"


@pytest.mark.parametrize("code", ["Z9ZPEN8K52S96AE740000999", "X" * 5000, "%00"])
def test_metadata_of_an_unknown_code_is_not_found(api, code):
    assert_problem(api.get(f"/passports/{code}/metadata"), 404, "not-found")


# -- payloads ------------------------------------------------------------------------------


def test_the_payload_says_what_registering_takes_and_what_is_missing(api, keys, issued):
    response = api.get(f"/passports/{CODE}/registration-payload", headers=keys["exporter"])
    assert response.status_code == 200
    payload = response.get_json()
    assert payload["passportUrl"] == issued["id"]
    # The battery's identification link (the tenant set no identifier scheme).
    assert payload["uniqueProductIdentifier"] == f"https://gw.example/id/{CODE}"
    assert payload["granularity"] == "Item"
    assert payload["commodityCode"] == "85076000"  # NCM: a lithium-ion accumulator
    assert payload["economicOperatorId"] == "GB32100:91350900MA8EXAMP1E"
    assert payload["facilityId"] == "CN-FJ-ND-002"
    assert payload["contentSha256"] == _expected_hash(_public(issued))
    assert payload["missing"] == ["backupUrl"] and payload["ready"] is False
    assert payload["registered"] is False
    profile = {"backupUrlBase": "https://backup.example.eu/dpp/", "commodityCode": "8507 60 00"}
    assert api.put("/registry/profile", headers=keys["exporter"], json=profile).status_code == 200
    again = api.get(f"/passports/{CODE}/registration-payload", headers=keys["admin"]).get_json()
    assert again["backupUrl"] == f"https://backup.example.eu/dpp/{CODE}"
    assert again["ready"] is True and again["missing"] == []
    assert again["contentSha256"] == payload["contentSha256"]  # stable


def test_the_hash_of_a_vc_jwt_passport_is_that_of_its_payload(api, keys):
    issued = _issue(api, keys["exporter"], fmt="jwt")
    payload = api.get(f"/passports/{CODE}/registration-payload", headers=keys["exporter"])
    assert payload.get_json()["contentSha256"] == _expected_hash(_public(issued))


# -- recording -----------------------------------------------------------------------------


def test_an_exporter_records_a_registration_once_per_version(api, app_db, keys, issued):
    path = f"/passports/{CODE}/registrations"
    response = api.post(path, headers=keys["exporter"], json=REGISTRATION)
    assert response.status_code == 201, response.get_json()
    recorded = response.get_json()
    payload = api.get(f"/passports/{CODE}/registration-payload", headers=keys["exporter"])
    assert recorded["contentSha256"] == payload.get_json()["contentSha256"]
    assert recorded["proof"] == {
        "fileName": "proof-000123.pdf",
        "sha256": hashlib.sha256(PROOF).hexdigest(),
        "kept": True,
    }
    assert recorded["registeredAt"] == "2026-11-02T08:15:00Z"
    assert payload.get_json()["registered"] is True
    listed = api.get(path, headers=keys["exporter"]).get_json()["items"]
    assert [r["registrationId"] for r in listed] == ["EU-DPP-REG-2026-000123"]
    events = services.audit_entries(app_db, subject=issued["id"])
    assert [e.action for e in events if e.action.startswith("registry.")] == ["registry.recorded"]
    assert_problem(api.post(path, headers=keys["exporter"], json=REGISTRATION), 409, "conflict")
    other = {**REGISTRATION, "registrationId": "EU-DPP-REG-2026-000999"}
    assert_problem(api.post(path, headers=keys["admin"], json=other), 409, "conflict")


def test_a_hash_of_another_version_is_refused(api, keys, issued):
    body = {**REGISTRATION, "contentSha256": "0" * 64}
    response = api.post(f"/passports/{CODE}/registrations", headers=keys["exporter"], json=body)
    body = assert_problem(response, 409, "conflict")
    assert body["pointer"] == "/contentSha256"


def test_a_proof_given_by_its_hash_is_recorded_without_the_file(api, keys, issued):
    body = {
        **REGISTRATION,
        "proof": {"fileName": "proof.xml", "sha256": hashlib.sha256(b"x").hexdigest()},
    }
    response = api.post(f"/passports/{CODE}/registrations", headers=keys["exporter"], json=body)
    assert response.status_code == 201
    assert response.get_json()["proof"]["kept"] is False


LATER = (datetime.now(UTC) + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"registrationId": ""}, "/registrationId"),
        ({"registrationId": "bad\u0000id"}, "/registrationId"),
        ({"registeredAt": "2026-11-02T09:15:00"}, "/registeredAt"),
        ({"registeredAt": "2026-07-19T23:00:00+00:00"}, "/registeredAt"),
        ({"registeredAt": LATER}, "/registeredAt"),
        ({"registeredAt": "yesterday"}, "/registeredAt"),
        ({"registeredAt": "0001-01-01T00:00:00+14:00"}, "/registeredAt"),
        ({"proof": {"fileName": "p.pdf"}}, "/proof"),
        ({"proof": {"fileName": "p.pdf", "sha256": "0" * 64, "content": "eA=="}}, "/proof"),
        ({"proof": {"fileName": "../p.pdf", "sha256": "0" * 64}}, "/proof/fileName"),
        ({"proof": {"fileName": "p\u202egpj.pdf", "sha256": "0" * 64}}, "/proof/fileName"),
        ({"proof": {"fileName": "p.pdf", "content": "not base64!"}}, "/proof/content"),
        ({"proof": {"fileName": "p.pdf", "content": ""}}, "/proof/content"),
        ({"proof": {"fileName": "p.pdf", "sha256": "ABC"}}, None),
        ({"extra": 1}, None),
    ],
)
def test_a_malformed_registration_is_refused_naming_the_field(api, keys, issued, change, pointer):
    body = {**REGISTRATION, **change}
    response = api.post(f"/passports/{CODE}/registrations", headers=keys["exporter"], json=body)
    problem = assert_problem(response, 422)
    if pointer is not None:
        assert problem["pointer"].startswith(pointer), problem
    assert "bad\u0000id" not in response.get_data(as_text=True)


def test_a_registration_body_that_is_not_json_is_refused(api, keys, issued):
    path = f"/passports/{CODE}/registrations"
    assert_problem(api.post(path, headers=keys["exporter"], data=b"{x"), 415)
    response = api.post(
        path, headers=keys["exporter"], data=b'{"a": 1, "a": 2}', content_type="application/json"
    )
    assert_problem(response, 400, "malformed-body")
    big = {**REGISTRATION, "proof": {"fileName": "p.pdf", "content": "A" * 1_500_000}}
    assert api.post(path, headers=keys["exporter"], json=big).status_code in (413, 422)


# -- bulk ----------------------------------------------------------------------------------


def test_the_bulk_export_gives_one_payload_per_passport_of_the_tenant(api, keys, issued):
    _issue(api, keys["exporter"], "lfp-storage-pack.json")
    _issue(api, keys["beta"], "echelon-pack.json")
    lines = api.get("/registry/payloads", headers=keys["exporter"])
    assert lines.status_code == 200 and lines.mimetype == "application/jsonl"
    rows = [json.loads(line) for line in lines.get_data(as_text=True).splitlines()]
    assert len(rows) == 2 and all(r["passportUrl"].startswith("https://gw.example/") for r in rows)
    assert "Z8EPBR1ECH0042G610000007" not in lines.get_data(as_text=True)
    beta = api.get("/registry/payloads", headers=keys["beta"]).get_data(as_text=True)
    assert [json.loads(line)["passportUrl"] for line in beta.splitlines()] == [
        "https://gw.example/passports/Z8EPBR1ECH0042G610000007"
    ]
    every = api.get("/registry/payloads", headers=keys["admin"]).get_data(as_text=True)
    assert len(every.splitlines()) == 3
    only = api.get("/registry/payloads", headers=keys["admin"], query_string={"tenant": "beta"})
    assert len(only.get_data(as_text=True).splitlines()) == 1
    api.post(f"/passports/{CODE}/registrations", headers=keys["exporter"], json=REGISTRATION)
    left = api.get(
        "/registry/payloads", headers=keys["exporter"], query_string={"unregistered": "true"}
    ).get_data(as_text=True)
    assert len(left.splitlines()) == 1 and CODE not in left


def test_the_csv_export_neutralises_formulas(api, keys, issued):
    profile = {"facilityId": '=HYPERLINK("https://evil.example")', "backupUrlBase": None}
    assert api.put("/registry/profile", headers=keys["exporter"], json=profile).status_code == 200
    _issue(api, keys["exporter"], "sparse-pack.json")
    response = api.get(
        "/registry/payloads", headers=keys["exporter"], query_string={"format": "csv"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2
    facilities = {r["facilityId"] for r in rows}
    assert '\'=HYPERLINK("https://evil.example")' in facilities  # the sparse pack has no plant
    assert all(r["ready"] == "false" for r in rows)


@pytest.mark.parametrize(
    ("query", "status"),
    [({"format": "xml"}, 422), ({"unregistered": "yes"}, 422), ({"tenant": "nobody"}, 404)],
)
def test_a_bad_export_query_is_refused(api, keys, query, status):
    assert_problem(api.get("/registry/payloads", headers=keys["admin"], query_string=query), status)


# -- defaults ------------------------------------------------------------------------------


def test_defaults_are_read_set_and_audited(api, app_db, keys):
    empty = api.get("/registry/profile", headers=keys["exporter"]).get_json()
    assert empty["tenant"] == "acme" and empty["commodityCode"] is None
    body = {
        "economicOperatorId": "DE-EORI-DE123456789012345",
        "facilityId": "CN-FJ-ND-002",
        "commodityCode": "8507.60",
        "backupUrlBase": "https://backup.example.eu/dpp",
    }
    stored = api.put("/registry/profile", headers=keys["exporter"], json=body).get_json()
    assert stored["commodityCode"] == "850760" and stored["updatedBy"].startswith("tenant:acme")
    assert (
        api.get(
            "/registry/profile", headers=keys["admin"], query_string={"tenant": "acme"}
        ).get_json()["economicOperatorId"]
        == "DE-EORI-DE123456789012345"
    )
    events = services.audit_entries(app_db, subject="tenant:acme")
    assert "registry.profile_set" in [e.action for e in events]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"commodityCode": "85076"}, "/commodityCode"),
        ({"commodityCode": "=1+1"}, "/commodityCode"),
        ({"backupUrlBase": "ftp://backup.example.eu"}, "/backupUrlBase"),
        ({"backupUrlBase": "https://backup.example.eu/?q=1"}, "/backupUrlBase"),
        ({"facilityId": " padded"}, "/facilityId"),
        ({"economicOperatorId": "x" * 71}, None),
        ({"unknown": "x"}, None),
        ([], None),
    ],
)
def test_malformed_defaults_are_refused_naming_the_field(api, keys, body, pointer):
    response = api.put("/registry/profile", headers=keys["exporter"], json=body)
    problem = assert_problem(response, 422)
    if pointer is not None:
        assert problem["pointer"] == pointer


# -- the client interface ------------------------------------------------------------------


class _FakeRegistry:
    """A registry client as a documented API would allow; no network here."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def register(self, payload):
        self.payloads.append(dict(payload))
        return services.RegistryReceipt(
            registration_id="EU-REG-1",
            registered_at=datetime(2026, 11, 3, tzinfo=UTC),
            proof_file_name="proof.p7s",
            proof=b"sealed",
        )


def test_a_registry_client_registers_only_a_ready_payload(api, api_app, keys, issued):
    gateway = api_app.extensions["gateway.instance"]
    caller = services.console_principal(gateway, "acme")
    client = _FakeRegistry()
    with pytest.raises(Conflict):
        services.submit_registration(gateway, caller, CODE, client)
    assert client.payloads == []
    api.put(
        "/registry/profile", headers=keys["exporter"], json={"backupUrlBase": "https://b.example"}
    )
    recorded = services.submit_registration(gateway, caller, CODE, client)
    assert recorded["registrationId"] == "EU-REG-1" and recorded["proof"]["kept"] is True
    assert client.payloads[0]["contentSha256"] == recorded["contentSha256"]


# -- the console ---------------------------------------------------------------------------


def test_the_console_exports_records_and_shows(runner, tmp_path):
    def run(*args: object, ok: bool = True):
        result = runner.invoke(args=list(args))
        assert (result.exit_code == 0) is ok, result.output
        return result

    run("init")
    run("tenants", "create", "acme")
    run("convert", RECORDS / "ncm-ev-pack.json", "--sign", "--store", "--tenant", "acme")
    lines = run("registry", "export", "--tenant", "acme").stdout.splitlines()
    [payload] = [json.loads(line) for line in lines]
    assert payload["missing"] == ["backupUrl"]
    profile = run(
        "registry",
        "profile",
        "--tenant",
        "acme",
        "--backup-url-base",
        "https://b.example",
        "--json",
    )
    assert json.loads(profile.stdout)["backupUrlBase"] == "https://b.example"
    out = tmp_path / "payloads.csv"
    run("registry", "export", "--format", "csv", "--output", out)
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["ready"] == "true" and row["backupUrl"] == f"https://b.example/{CODE}"
    proof = tmp_path / "proof.pdf"
    proof.write_bytes(PROOF)
    recorded = run(
        "registry",
        "record",
        CODE,
        "--registration-id",
        "EU-1",
        "--registered-at",
        "2026-11-02T09:15:00+01:00",
        "--proof",
        proof,
        "--json",
    )
    assert json.loads(recorded.stdout)["proof"]["sha256"] == hashlib.sha256(PROOF).hexdigest()
    shown = json.loads(run("registry", "show", CODE, "--json").stdout)
    assert shown["payload"]["registered"] is True
    assert shown["metadata"]["dppStatus"] == "active"
    assert [r["registrationId"] for r in shown["registrations"]] == ["EU-1"]
    refused = run(
        "registry",
        "record",
        CODE,
        "--registration-id",
        "EU-2",
        "--registered-at",
        "2026-11-02T09:15:00",
        "--proof",
        proof,
        ok=False,
    )
    assert "registeredAt" in refused.output and "Traceback" not in refused.output
    assert run("registry", "export", "--unregistered").stdout == ""


# -- the AAS view of stored credentials (what GET /passports/{code} will serve) ----------


def test_the_aas_view_of_issued_credentials_holds_their_points(api, api_app, keys, issued):
    gateway = api_app.extensions["gateway.instance"]
    subjects = {
        section: credential_claims(credential)["credentialSubject"]
        for section, credential in issued["credentials"].items()
    }
    with gateway.db.reading() as session:
        passport = Passports(session).get(issued["id"])
        facts = passport_facts(session, passport)
    export = export_aas(subjects_view(facts, CODE, subjects))
    document = json.loads(export.to_json())
    assert export.metadata["facilityId"] == "CN-FJ-ND-002"
    assert (
        document["assetAdministrationShells"][0]["assetInformation"]["globalAssetId"]
        == f"https://gw.example/id/{CODE}"
    )
    assert export.points == {int(s.rsplit("-", 1)[1]) for s in issued["credentials"]}
    public = export_aas(subjects_view(facts, CODE, {"annex-xiii-1": subjects["annex-xiii-1"]}))
    assert {s["submodel"] for s in public.report()["submodels"] if s["exported"]} <= {
        "BatteryNameplate",
        "TechnicalData",
        "MaterialComposition",
        "CarbonFootprint",
        "Circularity",
        "DppMetadata",
    }
