"""A standards team's whole story through the API only."""

from __future__ import annotations

import json

import pytest

from tests.helpers import NEW_ROW, RECORDS, assert_problem

SET = "cn-trace-to-eu-passport"


def _row(api, version, attribute):
    table = api.get(f"/mappings/{SET}/versions/{version}").get_json()
    return next(r for r in table["rows"] if r["object_id"] == f"eubp:{attribute}")


def test_draft_edit_diff_impact_publish_convert_and_old_credentials_still_verify(api, keys):
    editor, exporter = keys["editor"], keys["exporter"]
    # A passport issued under 1.0.0 before anything changes.
    old = api.post(
        f"/passports?mapping={SET}@1.0.0",
        headers=exporter,
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
    )
    assert old.status_code == 201, old.get_json()
    old_credential = old.get_json()["credentials"]["annex-xiii-1"]
    assert old_credential["mappingVersion"] == "1.0.0"

    created = api.post(
        f"/mappings/{SET}/versions",
        headers=editor,
        json={"version": "1.3.0", "base_version": "1.2.0"},
    )
    assert created.status_code == 201, created.get_json()
    row = _row(api, "1.3.0", "manufacturingPlace")
    assert row["predicate_id"] == "skos:closeMatch"
    edited = api.patch(
        f"/mappings/{SET}/versions/1.3.0",
        headers=editor,
        json={
            "change": {str(row["row"]): {"predicate_id": "skos:exactMatch"}},
            "add": [NEW_ROW],
        },
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["problems"] == []

    change = api.get(f"/mappings/{SET}/diff?from=1.2.0&to=1.3.0").get_json()
    assert change["bump"] == "minor"
    assert [r["attribute"] for r in change["added"]] == ["manufacturingPlace"]
    assert [c["attribute"] for c in change["changed"]] == ["manufacturingPlace"]
    assert change["changed"][0]["fields"] == {
        "predicate_id": ["skos:closeMatch", "skos:exactMatch"]
    }

    effect = api.get(f"/mappings/{SET}/versions/1.3.0/impact", headers=editor).get_json()
    assert effect["base"] == f"{SET}@1.2.0" and effect["head"] == f"{SET}@1.3.0"
    stored = [r for r in effect["records"] if r["record"].startswith("https://")]
    assert len(stored) == 1, "the passport issued above is part of the impact"
    assert effect["attributes"]["manufacturing_place"]["partial -> filled"] >= 2
    assert [p["passport_id"] for p in effect["passports_affected"]] == [old.get_json()["id"]]

    published = api.post(f"/mappings/{SET}/versions/1.3.0/publish", headers=editor)
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["status"] == "published"
    assert_problem(
        api.patch(f"/mappings/{SET}/versions/1.3.0", headers=editor, json={"remove": [1]}),
        409,
        "conflict",
    )

    new = api.post(
        f"/passports?mapping={SET}@1.3.0",
        headers=exporter,
        data=(RECORDS / "lfp-storage-pack.json").read_bytes(),
        content_type="application/json",
    )
    assert new.status_code == 201, new.get_json()
    body = new.get_json()
    assert body["credentials"]["annex-xiii-1"]["mappingVersion"] == "1.3.0"
    assert body["credentials"]["annex-xiii-1"]["mappingHash"] == published.get_json()["hash"]
    statuses = {a["key"]: a["status"] for a in body["gaps"]["attributes"]}
    assert statuses["manufacturing_place"] == "filled"

    verdict = api.post("/credentials/verify", json={"verifiableCredential": old_credential})
    assert verdict.get_json()["verified"] is True, verdict.get_json()
    assert old_credential["mappingVersion"] == "1.0.0"


def test_an_invalid_draft_returns_all_its_problems_and_cannot_be_published(api, keys):
    editor = keys["editor"]
    api.post(
        f"/mappings/{SET}/versions",
        headers=editor,
        json={"version": "1.3.0", "base_version": "1.2.0"},
    )
    edited = api.patch(
        f"/mappings/{SET}/versions/1.3.0",
        headers=editor,
        json={
            "change": {
                "3": {"transform": "no_such_transform"},
                "20": {"subject_id": "cntrace:specs.no_such_field"},
            },
            "add": [dict(NEW_ROW, object_id="eubp:noSuchAttribute")],
        },
    ).get_json()
    rows = {(p["row"], p["column"]) for p in edited["problems"]}
    assert rows == {(3, "transform"), (20, "subject_id"), (23, "object_id")}
    validation = api.get(f"/mappings/{SET}/versions/1.3.0/validation").get_json()
    assert validation["valid"] is False and len(validation["problems"]) == 3
    refused = assert_problem(
        api.post(f"/mappings/{SET}/versions/1.3.0/publish", headers=editor), 422, "mapping-invalid"
    )
    assert len(refused["errors"]) == 3


@pytest.mark.parametrize("role", ["exporter", "importer", "authority"])
def test_only_editors_change_mappings(api, keys, role):
    assert_problem(
        api.post(
            f"/mappings/{SET}/versions",
            headers=keys[role],
            json={"version": "1.1.0", "base_version": "1.0.0"},
        ),
        403,
    )
    assert_problem(
        api.post(f"/mappings/{SET}/versions", json={"version": "1.1.0", "base_version": "1.0.0"}),
        401,
    )


def test_sssom_file_round_trip_through_the_api(api, keys):
    tsv = api.get(
        f"/mappings/{SET}/versions/1.0.0", headers={"Accept": "text/tab-separated-values"}
    )
    assert tsv.mimetype == "text/tab-separated-values"
    text = (
        tsv.get_data(as_text=True)
        .replace(f"{SET}/1.0.0\n", f"{SET}/1.0.1\n")
        .replace("mapping_set_version: 1.0.0", "mapping_set_version: 1.0.1")
    )
    imported = api.post(
        "/mappings/import?base=1.0.0",
        headers=keys["editor"],
        data=text.encode(),
        content_type="text/tab-separated-values",
    )
    assert imported.status_code == 201, imported.get_json()
    versions = {v["mapping"]: v for v in api.get("/mappings").get_json()["versions"]}
    assert versions[f"{SET}@1.0.1"]["hash"] == versions[f"{SET}@1.0.0"]["hash"]
    assert versions[f"{SET}@1.0.1"]["status"] == "draft"
    assert json.loads(json.dumps(imported.get_json()))["rows"][0]["row"] == 1
