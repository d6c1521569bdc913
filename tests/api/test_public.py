"""Documents anyone may fetch, and issuing through the VC API shape."""

from __future__ import annotations

import json

import pytest

from gateway.vocab.loader import pinned_contexts


def test_did_document(api) -> None:
    response = api.get("/.well-known/did.json")
    assert response.status_code == 200 and response.mimetype == "application/did+json"
    document = json.loads(response.data)
    assert document["id"] == "did:web:gw.example"
    assert document["verificationMethod"]


@pytest.mark.parametrize("version", [1, 2])
def test_contexts_are_the_pinned_ones(api, version) -> None:
    response = api.get(f"/contexts/passport-v{version}")
    assert response.status_code == 200
    expected = pinned_contexts()[f"https://w3id.org/cn-eu-battery/contexts/passport/v{version}"]
    assert json.loads(response.data) == expected
    listed = {c["url"] for c in api.get("/contexts").get_json()["items"]}
    assert f"https://w3id.org/cn-eu-battery/contexts/passport/v{version}" in listed


def test_codes(api) -> None:
    response = api.get("/codes/Z9ZPEN8K52S96AE740000319")
    assert response.status_code == 200 and response.json["code"] == "Z9ZPEN8K52S96AE740000319"


def test_docs_are_served_locally(api) -> None:
    page = api.get("/docs/")
    assert page.status_code == 200 and b"/openapi.yaml" in page.data
    with api.get("/docs/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200 and len(asset.data) > 100_000


def test_issue_and_verify_a_credential(api, keys) -> None:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "https://gw.example/things/1"},
    }
    for fmt in ("di", "jwt"):
        response = api.post(
            "/credentials/issue",
            json={"credential": credential, "options": {"format": fmt}},
            headers=keys["exporter"],
        )
        assert response.status_code == 201, response.json
        secured = response.json["verifiableCredential"]
        verdict = api.post("/credentials/verify", json={"verifiableCredential": secured})
        assert verdict.json["verified"], verdict.json
    assert api.post("/credentials/issue", json={"credential": credential}).status_code == 401
    response = api.post(
        "/credentials/issue",
        json={"credential": {**credential, "issuer": "did:key:zOther"}},
        headers=keys["admin"],
    )
    assert response.status_code == 422 and response.json["pointer"] == "/credential/issuer"
