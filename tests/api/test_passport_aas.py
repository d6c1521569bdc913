"""A passport as an Asset Administration Shell over the API: ``GET /passports/{code}``
with ``Accept: application/aas+json`` and ``GET /passports/{code}/aasx`` give what the
caller may read, by the same rules and with the same disclosure log as the credentials;
the EN 18223 metadata inside follows the passport's life cycle."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import pytest
from basyx.aas import model
from basyx.aas.adapter.aasx import AASXReader, DictSupplementaryFileContainer
from basyx.aas.adapter.json import read_aas_json_file
from flask import Flask
from flask.testing import FlaskClient

from gateway.transform.aas_media_types import AAS_JSON, AASX
from tests.helpers import RECORDS, assert_problem, grant_body, issue_secrets, store_legacy_passport

CODE = "Z9ZPEN8K52S96AE740000319"  # ncm-ev-pack.json: all four points filled
AAS = {"Accept": AAS_JSON}


@pytest.fixture
def parties(api_app: Flask, keys: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """acme's keys (every role), beta's exporter, an EU recycler (importer) and a market
    surveillance authority of tenants of their own."""
    secrets = issue_secrets(
        api_app.extensions["gateway.settings"],
        {"recycler": ("importer",), "msa": ("authority",)},
    )
    more = {"recycler": secrets["recycler"]["importer"], "msa": secrets["msa"]["authority"]}
    return {**keys, **{name: {"Authorization": f"Bearer {s}"} for name, s in more.items()}}


def _issue(api: FlaskClient, headers: dict[str, str], name: str = "ncm-ev-pack.json") -> None:
    created = api.post(
        "/passports",
        data=(RECORDS / name).read_bytes(),
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()


def _aas(api: FlaskClient, who: dict[str, str] | None = None, code: str = CODE) -> dict[str, Any]:
    response = api.get(f"/passports/{code}", headers={**AAS, **(who or {})})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == AAS_JSON
    assert "Authorization" in response.headers["Vary"]
    # It loads strictly with basyx, as any AAS reader would.
    read_aas_json_file(io.StringIO(response.get_data(as_text=True)), failsafe=False)
    return dict(response.get_json())


def _points(environment: dict[str, Any]) -> str:
    """The points the file says it holds (every shell and submodel says the same)."""
    stated = {
        extension["value"]
        for item in [*environment["assetAdministrationShells"], *environment["submodels"]]
        for extension in item.get("extensions", ())
        if extension["name"] == "annexXiiiPoints"
    }
    assert len(stated) == 1, stated
    return stated.pop()


def _submodels(environment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["idShort"]: s for s in environment["submodels"]}


def _metadata(environment: dict[str, Any]) -> dict[str, Any]:
    elements = _submodels(environment)["DppMetadata"]["submodelElements"]
    return {e["idShort"]: e.get("value") for e in elements}


def _id_shorts(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("idShort"), str):
            found.add(node["idShort"])
        for value in node.values():
            found |= _id_shorts(value)
    elif isinstance(node, list):
        for item in node:
            found |= _id_shorts(item)
    return found


def _log(api: FlaskClient, headers: dict[str, str]) -> list[tuple[str, list[int], str]]:
    response = api.get("/disclosures", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [
        (e["reader"]["tenant"], e["points"], e["channel"]) for e in response.get_json()["items"]
    ]


def test_each_caller_gets_the_shell_of_the_points_it_may_read(api, parties) -> None:
    _issue(api, parties["exporter"])
    assert _points(_aas(api)) == "1"  # anonymous
    assert _points(_aas(api, parties["beta"])) == "1"  # another tenant's exporter
    assert _points(_aas(api, parties["recycler"])) == "1"  # no grant yet
    assert _points(_aas(api, parties["msa"])) == "1 2 3"
    assert _points(_aas(api, parties["exporter"])) == "1 2 3 4"
    assert _points(_aas(api, parties["admin"])) == "1 2 3 4"


def test_the_public_shell_holds_no_restricted_element(api, parties) -> None:
    _issue(api, parties["exporter"])
    public, whole = _aas(api), _aas(api, parties["exporter"])
    # LifeCycleStage (the battery status) is Annex XIII point 4, test reports point 3.
    assert "LifeCycleStage" in _id_shorts(whole)
    assert "ResultsOfTestReportsProvingCompliance" in _id_shorts(whole)
    assert not {"LifeCycleStage", "ResultsOfTestReportsProvingCompliance"} & _id_shorts(public)
    shell = public["assetAdministrationShells"][0]
    assert shell["assetInformation"]["assetKind"] == "Instance"
    # The battery's unique product identifier (an identification link by default).
    assert shell["assetInformation"]["globalAssetId"].endswith(f"/id/{CODE}")
    assert shell["id"].endswith("/aas/points-1")


def test_an_authority_never_gets_point_4_data(api, parties) -> None:
    _issue(api, parties["exporter"])
    whole = _aas(api, parties["exporter"])
    authority = _aas(api, parties["msa"])
    assert "ProductCondition" not in _submodels(authority)
    assert "LifeCycleStage" not in _id_shorts(authority)
    # ... though it reads point 3, which the issuer's shell also holds.
    assert "ResultsOfTestReportsProvingCompliance" in _id_shorts(authority)
    assert set(_submodels(authority)) <= set(_submodels(whole))


def test_a_grant_opens_its_points_and_the_read_is_logged(api, parties) -> None:
    _issue(api, parties["exporter"])
    granted = api.post("/grants", json=grant_body(), headers=parties["exporter"])
    assert granted.status_code == 201, granted.get_json()
    # Not disclosures: point 1 only, the issuer's own reads.
    _aas(api)
    _aas(api, parties["beta"])
    _aas(api, parties["exporter"])
    assert _log(api, parties["exporter"]) == []
    assert _points(_aas(api, parties["recycler"])) == "1 2 4"
    aasx = api.get(f"/passports/{CODE}/aasx", headers=parties["msa"])
    assert aasx.status_code == 200
    assert _log(api, parties["exporter"]) == [
        ("recycler", [2, 4], "api"),
        ("msa", [2, 3], "api"),
    ]


def test_the_aasx_package_holds_the_same_view(api, parties, tmp_path) -> None:
    _issue(api, parties["exporter"])
    for who, points in ((None, "1"), ("msa", "1 2 3"), ("exporter", "1 2 3 4")):
        headers = parties[who] if who else {}
        response = api.get(f"/passports/{CODE}/aasx", headers=headers)
        assert response.status_code == 200
        assert response.mimetype == AASX
        assert response.headers["Content-Disposition"] == f'attachment; filename="{CODE}.aasx"'
        path = tmp_path / f"{who}.aasx"
        path.write_bytes(response.get_data())
        store: model.DictIdentifiableStore[model.Identifiable] = model.DictIdentifiableStore()
        with AASXReader(str(path), failsafe=False) as reader:
            reader.read_into(store, DictSupplementaryFileContainer())  # type: ignore[no-untyped-call]
        shells = [o for o in store if isinstance(o, model.AssetAdministrationShell)]
        assert [s.get_extension_by_name("annexXiiiPoints").value for s in shells] == [points]
        json_view = _aas(api, headers)
        assert {o.id for o in store} == {
            *(s["id"] for s in json_view["assetAdministrationShells"]),
            *(s["id"] for s in json_view["submodels"]),
        }


def test_the_metadata_inside_follows_the_passport_and_the_credential_keeps_its_own(
    api, parties
) -> None:
    _issue(api, parties["exporter"])
    before = _metadata(_aas(api))
    assert before["dppStatus"] == "active"
    assert before["granularity"] == "Item"
    assert before["digitalProductPassportId"].endswith(f"/passports/{CODE}")
    revoked = api.post(f"/passports/{CODE}/revoke", json={}, headers=parties["exporter"])
    assert revoked.status_code == 200, revoked.get_json()
    assert _metadata(_aas(api))["dppStatus"] == "revoked"
    assert api.get(f"/passports/{CODE}/metadata").get_json()["dppStatus"] == "revoked"
    # The signed public credential states what was true when it was issued.
    presentation = api.get(f"/passports/{CODE}", headers={"Accept": "application/ld+json"})
    [public] = presentation.get_json()["verifiableCredential"]
    assert public["credentialSubject"]["dppStatus"] == "active"
    signed = public["credentialSubject"]["lastUpdate"]
    # One moment of issue in the credential, the shell and at the metadata route.
    assert datetime.fromisoformat(before["lastUpdate"]) == datetime.fromisoformat(signed)
    assert api.get(f"/passports/{CODE}/metadata").get_json()["lastUpdate"] == signed


def test_json_ld_stays_the_default_and_the_link_header_names_the_others(api, parties) -> None:
    _issue(api, parties["exporter"])
    for accept in ("*/*", "application/json", "application/ld+json, application/aas+json;q=0.5"):
        response = api.get(f"/passports/{CODE}", headers={"Accept": accept})
        assert response.mimetype == "application/ld+json", accept
    link = api.get(f"/passports/{CODE}").headers["Link"]
    assert f'</passports/{CODE}>; rel="alternate"; type="application/aas+json"' in link
    assert f'</passports/{CODE}/aasx>; rel="alternate"; type="{AASX}"' in link
    assert f'</passports/{CODE}/metadata>; rel="describedby"' in link
    page = api.get(f"/passports/{CODE}", headers={"Accept": "text/html, application/aas+json"})
    assert page.mimetype == AAS_JSON  # both named: the first of the gateway's preference


def test_unknown_and_hostile_codes_are_404_problems(api, parties) -> None:
    _issue(api, parties["exporter"])
    for code in ("Z9ZPEN8K52S96AE740009999", "x" * 2000, "%00", "..%2F..%2Fetc"):
        assert_problem(api.get(f"/passports/{code}", headers=AAS), 404)
        assert_problem(api.get(f"/passports/{code}/aasx", headers=parties["exporter"]), 404)


def test_a_bad_key_is_refused_not_served_as_anonymous(api, parties) -> None:
    _issue(api, parties["exporter"])
    bad = {"Authorization": "Bearer not-a-key"}
    assert_problem(api.get(f"/passports/{CODE}", headers={**AAS, **bad}), 401)
    assert_problem(api.get(f"/passports/{CODE}/aasx", headers=bad), 401)


def test_passports_of_the_three_groups_export_by_the_same_rules(api, api_app, parties) -> None:
    code = store_legacy_passport(api_app).rsplit("/", 1)[1]
    assert _points(_aas(api, code=code)) == "1"
    assert _points(_aas(api, parties["msa"], code=code)) == "1 3"  # not the group of 2 and 4
    assert _points(_aas(api, parties["exporter"], code=code)) == "1 2 3 4"


def test_the_owner_lists_its_registrations_others_do_not_see_them(api, parties) -> None:
    _issue(api, parties["exporter"])
    recorded = api.post(
        f"/passports/{CODE}/registrations",
        json={
            "registrationId": "EU-DPP-REG-0001",
            "registeredAt": "2026-08-01T10:00:00Z",
            "proof": {"fileName": "proof.pdf", "sha256": "a" * 64},
        },
        headers=parties["exporter"],
    )
    assert recorded.status_code == 201, recorded.get_json()
    [mine] = api.get("/passports", headers=parties["exporter"]).get_json()["items"]
    assert [r["registrationId"] for r in mine["registrations"]] == ["EU-DPP-REG-0001"]
    [as_admin] = api.get("/passports", headers=parties["admin"]).get_json()["items"]
    assert as_admin["registrations"] == mine["registrations"]
    [as_authority] = api.get("/passports", headers=parties["msa"]).get_json()["items"]
    assert "registrations" not in as_authority
    assert api.get("/passports", headers=parties["beta"]).get_json()["items"] == []
    assert json.dumps(as_authority).count("EU-DPP-REG-0001") == 0
