"""Unique product identifiers: a tenant's scheme through the API (who may set it, what
is refused), what a passport carries, and that a battery keeps its identifier."""

from __future__ import annotations

import json

import pytest

from gateway.codes import gs1
from tests.helpers import RECORDS, assert_problem

LFP = "Z9ZPBS2ESS2801F5A0000088"  # its record has GTIN 09506000134352
NCM = "Z9ZPEN8K52S96AE740000319"  # its record has none
GS1_UPI = f"https://id.mindong.cn/01/09506000134352/21/{LFP[4:]}"


def _issue(api, keys, name: str, role: str = "exporter", record: bytes | None = None):
    body = record if record is not None else (RECORDS / name).read_bytes()
    return api.post("/passports", data=body, content_type="application/json", headers=keys[role])


def _set(api, keys, body, role: str = "exporter", query: str = ""):
    return api.put(f"/identifier-scheme{query}", json=body, headers=keys[role])


def _upi(created) -> str:
    return created.get_json()["credentials"]["annex-xiii-1"]["credentialSubject"][
        "uniqueProductIdentifier"
    ]


def test_without_a_scheme_a_battery_gets_an_identification_link_of_the_gateway(api, keys):
    shown = api.get("/identifier-scheme", headers=keys["exporter"])
    assert shown.status_code == 200
    assert shown.get_json()["scheme"] is None
    created = _issue(api, keys, "ncm-ev-pack.json")
    assert created.status_code == 201
    assert _upi(created) == f"https://gw.example/id/{NCM}"
    metadata = api.get(f"/passports/{NCM}/metadata").get_json()
    assert metadata["uniqueProductIdentifier"] == f"https://gw.example/id/{NCM}"
    assert metadata["digitalProductPassportId"] == f"https://gw.example/passports/{NCM}"


def test_gs1_scheme_gives_a_digital_link_to_a_record_with_a_gtin(api, keys):
    view = _set(api, keys, {"scheme": "gs1-digital-link", "domain": "id.mindong.cn"})
    assert view.status_code == 200, view.get_json()
    assert view.get_json()["example"].startswith("https://id.mindong.cn/01/09506000134352/21/")
    with_gtin, without = (
        _issue(api, keys, "lfp-storage-pack.json"),
        _issue(api, keys, "ncm-ev-pack.json"),
    )
    assert _upi(with_gtin) == GS1_UPI and len(GS1_UPI) <= 70
    # Read back by GS1's rules: the GTIN and the serial it was made of.
    assert gs1.parse_path(GS1_UPI.removeprefix("https://id.mindong.cn")) == gs1.DigitalLink(
        "09506000134352", LFP[4:]
    )
    assert _upi(without) == f"https://id.mindong.cn/id/{NCM}"
    aas = api.get(f"/passports/{LFP}", headers={"Accept": "application/aas+json"}).get_json()
    assert aas["assetAdministrationShells"][0]["assetInformation"]["globalAssetId"] == GS1_UPI


def test_a_battery_keeps_its_identifier_when_the_scheme_changes(api, keys, api_app):
    _set(api, keys, {"scheme": "gs1-digital-link", "domain": "id.mindong.cn"})
    assert _upi(_issue(api, keys, "lfp-storage-pack.json")) == GS1_UPI
    assert _set(api, keys, {"scheme": "iec-61406", "domain": "b.example.cn"}).status_code == 200
    # The identifier is the battery's, not the scheme's: every reader still gets it.
    assert api.get(f"/passports/{LFP}/metadata").get_json()["uniqueProductIdentifier"] == GS1_UPI
    from gateway.services import identifier_of

    assert identifier_of(api_app.extensions["gateway.instance"].db, LFP) == GS1_UPI
    # A new battery gets the new scheme.
    assert _upi(_issue(api, keys, "ncm-ev-pack.json")) == f"https://b.example.cn/id/{NCM}"


def test_setting_a_scheme_is_audited(api, keys, api_app):
    from gateway.services import audit_entries

    _set(api, keys, {"scheme": "iec-61406", "domain": "b.example.cn"})
    db = api_app.extensions["gateway.instance"].db
    [event] = [
        e for e in audit_entries(db, subject="tenant:acme") if e.action.startswith("identif")
    ]
    assert event.action == "identifiers.scheme_set"
    assert event.data == {"scheme": "iec-61406", "domain": "b.example.cn"}
    assert event.actor.startswith("tenant:acme")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"scheme": "gs1-digital-link", "domain": "a-twenty-one-chars.cn"}, "/domain"),
        ({"scheme": "iec-61406", "domain": "thirty-five-characters-long-abc.com"}, "/domain"),
        ({"scheme": "iec-61406", "domain": "ID.EXAMPLE.CN"}, "/domain"),
        ({"scheme": "iec-61406", "domain": "https://id.example.cn"}, "/domain"),
        ({"scheme": "iec-61406", "domain": "id.example.cn:8443"}, "/domain"),
        ({"scheme": "iec-61406", "domain": "localhost"}, "/domain"),
        ({"scheme": "iec-61406", "domain": "id.exa\u200bmple.cn"}, "/domain"),
    ],
)
def test_domains_too_long_for_70_characters_or_not_host_names_are_422(api, keys, body, pointer):
    problem = assert_problem(_set(api, keys, body), 422)
    assert problem["pointer"] == pointer
    assert "Traceback" not in json.dumps(problem)


def test_the_longest_allowed_domains_give_70_characters(api, keys):
    view = _set(api, keys, {"scheme": "gs1-digital-link", "domain": "twenty-characters.cn"})
    assert view.status_code == 200
    assert _upi(_issue(api, keys, "lfp-storage-pack.json")) == (
        f"https://twenty-characters.cn/01/09506000134352/21/{LFP[4:]}"
    )
    assert len(_upi(_issue(api, keys, "echelon-pack.json"))) <= 70


@pytest.mark.parametrize(
    "body",
    [
        {"scheme": "gs1", "domain": "id.example.cn"},
        {"scheme": "iec-61406"},
        {"scheme": "iec-61406", "domain": "id.example.cn", "extra": 1},
        {"scheme": "iec-61406", "domain": 5},
        [],
    ],
)
def test_malformed_bodies_are_4xx_naming_the_field(api, keys, body):
    response = _set(api, keys, body)
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


def test_who_may_read_and_set_a_scheme(api, keys):
    body = {"scheme": "iec-61406", "domain": "b.example.cn"}
    assert_problem(api.get("/identifier-scheme"), 401)
    assert_problem(api.put("/identifier-scheme", json=body), 401)
    for role in ("importer", "authority", "editor"):
        assert_problem(_set(api, keys, body, role), 403)
        assert_problem(api.get("/identifier-scheme", headers=keys[role]), 403)
    # An exporter cannot touch another tenant's scheme; an admin can.
    assert_problem(_set(api, keys, body, "beta", "?tenant=acme"), 403)
    assert_problem(api.get("/identifier-scheme?tenant=acme", headers=keys["beta"]), 403)
    assert _set(api, keys, body, "admin", "?tenant=beta").status_code == 200
    assert api.get("/identifier-scheme", headers=keys["beta"]).get_json()["domain"] == (
        "b.example.cn"
    )
    assert api.get("/identifier-scheme", headers=keys["exporter"]).get_json()["scheme"] is None
    assert_problem(_set(api, keys, body, "admin", "?tenant=nobody"), 404)
    assert_problem(_set(api, keys, body, "admin", "?tenant=" + "x" * 500), 422)


def test_a_battery_cannot_take_an_identifier_another_battery_holds(api, keys):
    """Two tenants both minting under one domain: the resolver is one namespace, so the
    second battery whose Digital Link would clash is refused, nothing half-written."""
    _set(api, keys, {"scheme": "gs1-digital-link", "domain": "id.mindong.cn"})
    _set(api, keys, {"scheme": "gs1-digital-link", "domain": "id.mindong.cn"}, "beta")
    assert _issue(api, keys, "lfp-storage-pack.json").status_code == 201
    record = json.loads((RECORDS / "lfp-storage-pack.json").read_text())
    # Same serial part (positions 5-24), another manufacturer code.
    record["battery"]["code"] = "Z8E" + record["battery"]["code"][3:]
    record["manufacturer"]["code"] = "Z8E"
    clash = _issue(api, keys, "", "beta", json.dumps(record).encode())
    problem = assert_problem(clash, 409)
    assert problem["pointer"] == "/battery/gtin"
    assert api.get(f"/passports/{record['battery']['code']}").status_code == 404


def test_a_record_with_a_wrong_gtin_check_digit_is_refused(api, keys):
    record = json.loads((RECORDS / "lfp-storage-pack.json").read_text())
    record["battery"]["gtin"] = "09506000134353"
    problem = assert_problem(_issue(api, keys, "", record=json.dumps(record).encode()), 422)
    assert problem["errors"][0]["pointer"] == "/battery/gtin"
    assert "check digit" in problem["errors"][0]["message"]


def test_identifiers_on_every_backend(tmp_path, backend_url):
    from tests.helpers import issue_keys, make_app

    app = make_app(tmp_path / "instance", backend_url)
    try:
        api, keys = app.test_client(), issue_keys(app.extensions["gateway.settings"])
        _set(api, keys, {"scheme": "gs1-digital-link", "domain": "id.mindong.cn"})
        assert _upi(_issue(api, keys, "lfp-storage-pack.json")) == GS1_UPI
        resolved = api.get(GS1_UPI.removeprefix("https://id.mindong.cn"))
        assert resolved.status_code == 200 and resolved.get_json()["id"].endswith(LFP)
        _set(api, keys, {"scheme": "iec-61406", "domain": "b.example.cn"})
        assert api.get(f"/passports/{LFP}/metadata").get_json()["uniqueProductIdentifier"] == (
            GS1_UPI
        )
        # A clash ends the unit of work (PostgreSQL aborts it): nothing of it is written.
        _set(api, keys, {"scheme": "gs1-digital-link", "domain": "id.mindong.cn"}, "beta")
        record = json.loads((RECORDS / "lfp-storage-pack.json").read_text())
        record["battery"]["code"] = "Z8E" + record["battery"]["code"][3:]
        record["manufacturer"]["code"] = "Z8E"
        assert_problem(_issue(api, keys, "", "beta", json.dumps(record).encode()), 409)
        assert api.get(f"/passports/{record['battery']['code']}").status_code == 404
        assert _upi(_issue(api, keys, "ncm-ev-pack.json", "beta")).endswith(f"/id/{NCM}")
    finally:
        app.extensions["gateway.instance"].db.dispose()


def test_a_base_url_too_long_for_the_default_identifier_needs_a_domain(tmp_path):
    from tests.helpers import issue_keys, make_app

    base = "https://passports.a-long-gateway-host-name.example"  # 50 characters
    app = make_app(tmp_path / "instance", base_url=base)
    try:
        api, keys = app.test_client(), issue_keys(app.extensions["gateway.settings"])
        problem = assert_problem(_issue(api, keys, "ncm-ev-pack.json"), 422)
        assert problem["pointer"] == "/domain" and "70" in problem["detail"]
        assert api.get(f"/passports/{NCM}").status_code == 404
        _set(api, keys, {"scheme": "iec-61406", "domain": "b.example.cn"})
        assert _upi(_issue(api, keys, "ncm-ev-pack.json")) == f"https://b.example.cn/id/{NCM}"
    finally:
        app.extensions["gateway.instance"].db.dispose()
