"""The VC API as its clients expect it: the generic issue route is no signing oracle,
verification answers 200 only when verified, options are honoured or refused,
presentations verify, contexts are pinned on the server, issuers are judged by trust
lists."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import data_integrity, multikey
from gateway.credentials.keys import KeyStore
from gateway.paths import FIXTURES_DIR
from gateway.services import audit_entries
from gateway.vocab.loader import document_loader
from tests.helpers import RECORDS, GatewayRunner, assert_problem, issue_keys, make_app

CODE = "Z9ZPEN8K52S96AE740000319"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
EXAMPLES_FILE = (
    FIXTURES_DIR / "vectors/derived/w3c/w3c-vc-data-model/contexts/credentials-examples-v2.jsonld"
)
EXAMPLES_LOADER = document_loader(extra={EXAMPLES_V2: json.loads(EXAMPLES_FILE.read_text())})
PLAIN = {
    "@context": [V2],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "https://maker.example/things/1"},
}


class Holder:
    """A did:key party outside the gateway: a third-party issuer or a holder."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        public = self.key.public_key()
        self.did = multikey.did_key(public)
        self.vm = multikey.did_key_verification_method(public)

    def sign(self, document: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return data_integrity.add_proof(document, self.key, self.vm, **kw)


def _issue(api, keys, credential, role="exporter", **options):
    return api.post(
        "/credentials/issue",
        json={"credential": credential, "options": options},
        headers=keys[role],
    )


def _verify(api, credential, headers=None, **options):
    return api.post(
        "/credentials/verify",
        headers=headers or {},
        json={"verifiableCredential": credential, "options": options},
    )


def _passport(api, keys) -> dict[str, Any]:
    created = api.post(
        "/passports",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert created.status_code == 201, created.json
    return created.json


# --- item 6: the generic issue route -------------------------------------------------


def test_generic_route_signs_with_its_own_key_and_did(api, keys, api_app) -> None:
    secured = _issue(api, keys, PLAIN).json["verifiableCredential"]
    assert secured["issuer"] == "did:web:gw.example:vc-api"
    assert secured["proof"]["verificationMethod"].startswith("did:web:gw.example:vc-api#")
    passport_did = api_app.extensions["gateway.instance"].key.issuer
    assert passport_did == "did:web:gw.example" != secured["issuer"]
    document = api.get("/vc-api/did.json")
    assert document.status_code == 200 and document.mimetype == "application/did+json"
    assert document.json["id"] == "did:web:gw.example:vc-api"
    assert secured["proof"]["verificationMethod"] in document.json["assertionMethod"]
    # The passport DID document does not list the VC API key.
    passport_doc = api.get("/.well-known/did.json").json
    assert secured["proof"]["verificationMethod"] not in passport_doc["assertionMethod"]
    # Issuing as the passport DID is refused.
    body = assert_problem(_issue(api, keys, {**PLAIN, "issuer": passport_did}), 422)
    assert body["pointer"] == "/credential/issuer"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"type": ["VerifiableCredential", "BatteryPassportCredential"]}, "/credential/type"),
        ({"type": ["VerifiableCredential", "BitstringStatusListCredential"]}, "/credential/type"),
        (
            {"credentialSubject": {"type": "BitstringStatusList"}},
            "/credential/credentialSubject/type",
        ),
        (
            {"credentialSubject": [{"id": "urn:x:1"}, {"type": "BatteryPassport"}]},
            "/credential/credentialSubject/1/type",
        ),
        (
            {"@context": [V2, "https://w3id.org/cn-eu-battery/contexts/passport/v1"]},
            "/credential/@context",
        ),
        (
            {
                "@context": [
                    V2,
                    {"Sneaky": "https://w3id.org/cn-eu-battery/vocab#BatteryPassport"},
                ],
                "type": ["VerifiableCredential", "Sneaky"],
            },
            "/credential/@context",
        ),
        (
            {"credentialSubject": {"@type": "BatteryPassport"}},
            "/credential/credentialSubject/@type",
        ),
        ({"id": f"https://gw.example/passports/{CODE}"}, "/credential/id"),
        (
            {"credentialSubject": {"@id": f"https://gw.example/passports/{CODE}"}},
            "/credential/credentialSubject/@id",
        ),
        ({"id": "HTTPS://GW.EXAMPLE/status-lists/revocation-1"}, "/credential/id"),
        (
            {"credentialSubject": {"id": f"https://gw.example/passports/{CODE}"}},
            "/credential/credentialSubject/id",
        ),
        (
            {
                "credentialStatus": {
                    "id": "https://gw.example/status-lists/revocation-1#5",
                    "type": "BitstringStatusListEntry",
                }
            },
            "/credential/credentialStatus/id",
        ),
    ],
)
def test_generic_route_refuses_reserved_types_and_url_space(api, keys, change, pointer) -> None:
    body = assert_problem(_issue(api, keys, {**PLAIN, **change}), 422, "invalid-input")
    assert body["pointer"] == pointer


def test_generic_route_is_audited_and_role_limited(api, keys, api_app) -> None:
    credential = {
        **PLAIN,
        "id": "urn:uuid:4b0d3c1e-0000-4000-8000-000000000001",
        "credentialSubject": {"id": "urn:x:subject", "secretNote": "not logged"},
    }
    credential["@context"] = [V2, {"secretNote": "urn:x:secretNote"}]
    assert _issue(api, keys, credential).status_code == 201
    [event] = [
        e
        for e in audit_entries(api_app.extensions["gateway.instance"].db)
        if e.action == "credential.issued"
    ]
    assert event.subject == credential["id"]
    assert event.actor.startswith("tenant:acme/key:")
    assert event.data["types"] == ["VerifiableCredential"]
    assert event.data["issuer"] == "did:web:gw.example:vc-api"
    assert "not logged" not in json.dumps(event.data)
    assert_problem(api.post("/credentials/issue", json={"credential": PLAIN}), 401)
    for role in ("importer", "authority", "editor"):
        assert_problem(_issue(api, keys, PLAIN, role=role), 403, "forbidden")


def test_no_exporter_can_unrevoke_a_passport_with_a_forged_status_list(
    api, keys, api_app, tmp_path, monkeypatch
) -> None:
    """The attack: a BitstringStatusListCredential with the real list's id
    and all bits zero, handed to an offline verifier, must not un-revoke a passport."""
    passport = _passport(api, keys)
    public = passport["credentials"]["annex-xiii-1"]
    assert (
        api.post(
            f"/passports/{CODE}/revoke", json={"reason": "recall"}, headers=keys["exporter"]
        ).status_code
        == 200
    )
    entries = {e["statusPurpose"]: e for e in public["credentialStatus"]}
    real = {
        p: json.loads(api.get(e["statusListCredential"].removeprefix("https://gw.example")).data)
        for p, e in entries.items()
    }
    zeroed = json.loads(json.dumps(real["revocation"]))
    del zeroed["proof"]
    zeroed["credentialSubject"]["encodedList"] = real["suspension"]["credentialSubject"][
        "encodedList"
    ]  # an all-zero list of the same size
    del zeroed["issuer"]
    # 1. The route refuses to sign it, with the gateway's key or any other.
    for role in ("exporter", "beta", "admin"):
        body = assert_problem(_issue(api, keys, zeroed, role=role), 422, "invalid-input")
        assert body["pointer"] in ("/credential/type", "/credential/id")

    # 2. Even a list signed with the VC API key itself (as if the route had signed it)
    #    is refused by an offline verifier, under either issuer it could name.
    settings = api_app.extensions["gateway.settings"]
    vc_key = KeyStore.vc_api(settings).signing_key()
    home = settings.home
    files = {
        "passport": tmp_path / "passport.json",
        "forged": tmp_path / "forged.json",
        "forged-as-gateway": tmp_path / "forged2.json",
        "suspension": tmp_path / "suspension.json",
        "real": tmp_path / "real.json",
    }
    files["passport"].write_text(json.dumps(public))
    files["suspension"].write_text(json.dumps(real["suspension"]))
    files["real"].write_text(json.dumps(real["revocation"]))
    forged = data_integrity.add_proof(
        {**zeroed, "issuer": vc_key.issuer}, vc_key.private_key, vc_key.kid
    )
    files["forged"].write_text(json.dumps(forged))
    forged_as_gateway = data_integrity.add_proof(
        {**zeroed, "issuer": "did:web:gw.example"}, vc_key.private_key, vc_key.kid
    )
    files["forged-as-gateway"].write_text(json.dumps(forged_as_gateway))
    monkeypatch.setenv("GATEWAY_HOME", str(tmp_path / "elsewhere"))  # another machine
    did_docs = [
        a for p in sorted((home / "did").glob("*.json")) for a in ("--did-document", str(p))
    ]

    def offline(status_list: str) -> Any:
        return GatewayRunner(tmp_path / "elsewhere").invoke(
            args=[
                "verify",
                str(files["passport"]),
                "--json",
                *did_docs,
                "--status-list",
                str(files[status_list]),
                "--status-list",
                str(files["suspension"]),
            ]
        )

    for name in ("forged", "forged-as-gateway"):
        result = offline(name)
        assert result.exit_code == 1, result.output
        [verdict] = json.loads(result.output)
        failed = {c["id"]: c["reason"] for c in verdict["checks"] if not c["ok"]}
        assert "status.revocation" in failed
        assert "revoked" not in failed["status.revocation"]  # refused, not read
    # The real list, signed by the passport pipeline, says revoked.
    result = offline("real")
    [verdict] = json.loads(result.output)
    failed = {c["id"]: c["reason"] for c in verdict["checks"] if not c["ok"]}
    assert result.exit_code == 1 and "revoked" in failed["status.revocation"]


def test_no_exporter_can_pass_off_a_passport_of_another_tenant(api, keys, api_app) -> None:
    passport = _passport(api, keys)
    public = passport["credentials"]["annex-xiii-1"]
    forged = {k: v for k, v in public.items() if k not in ("proof", "credentialStatus")}
    forged["mappingHash"] = "sha256:" + "0" * 64
    # The route will not sign it, for the owning tenant or another one.
    for role in ("exporter", "beta"):
        assert_problem(
            _issue(api, keys, {**forged, "issuer": "did:web:gw.example:vc-api"}, role=role),
            422,
            "invalid-input",
        )
    # Signed with the VC API key regardless, the gateway's verifier refuses it.
    settings = api_app.extensions["gateway.settings"]
    vc_key = KeyStore.vc_api(settings).signing_key()
    signed = data_integrity.add_proof(
        {**forged, "issuer": vc_key.issuer}, vc_key.private_key, vc_key.kid
    )
    body = assert_problem(_verify(api, signed), 400, "verification-failed")
    failed = {c["id"] for c in body["checks"] if not c["ok"]}
    assert failed == {"issuer.passport"}


# --- item 7: status lists in the API's verifier --------------------------------------


def test_status_list_must_have_the_id_the_entry_points_to() -> None:
    from datetime import UTC, datetime

    from gateway.credentials.status_list import StatusList, check_status, documents_source

    status_list = StatusList.new(
        "https://gw.example/status-lists/revocation-1", "revocation", "did:web:gw.example"
    )
    credential = {
        "issuer": "did:web:gw.example",
        "credentialStatus": {
            "id": "https://gw.example/status-lists/revocation-1#7",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "7",
            "statusListCredential": "https://gw.example/status-lists/revocation-1",
        },
    }
    elsewhere = {**status_list.credential(), "id": "https://gw.example/status-lists/other"}

    def source(url: str) -> Any:  # a source that answers any URL with one list
        return documents_source([elsewhere])(elsewhere["id"])

    [check] = check_status(credential, source, now=datetime.now(UTC), verify_list=lambda d: [])
    assert not check.ok and "another id" in check.reason


def test_offline_status_list_files_must_carry_their_url(runner, tmp_path, api, keys) -> None:
    passport = _passport(api, keys)
    public = passport["credentials"]["annex-xiii-1"]
    [revocation] = [e for e in public["credentialStatus"] if e["statusPurpose"] == "revocation"]
    listed = json.loads(
        api.get(revocation["statusListCredential"].removeprefix("https://gw.example")).data
    )
    (tmp_path / "list.json").write_text(json.dumps(listed))
    (tmp_path / "passport.json").write_text(json.dumps(public))
    result = runner.invoke(
        args=[
            "verify",
            str(tmp_path / "passport.json"),
            "--context",
            f"https://gw.example/status-lists/suspension-1={tmp_path / 'list.json'}",
        ]
    )
    assert result.exit_code == 2 and "id is not" in result.output


# --- item 8: status codes ------------------------------------------------------------


def test_verified_is_200_and_not_verified_is_a_400_problem_with_checks(api, keys) -> None:
    secured = _issue(api, keys, PLAIN).json["verifiableCredential"]
    ok = _verify(api, secured)
    assert ok.status_code == 200 and ok.mimetype == "application/json"
    assert ok.json["verified"] is True
    tampered = {**secured, "credentialSubject": {"id": "https://maker.example/things/2"}}
    body = assert_problem(_verify(api, tampered), 400, "verification-failed")
    assert body["verified"] is False
    assert {"id": "proof.signature", "ok": False} in [
        {k: c[k] for k in ("id", "ok")} for c in body["checks"]
    ]
    jwt = api.post("/credentials/verify", data=b"a.b.c", content_type="application/vc+jwt")
    assert_problem(jwt, 400, "verification-failed")


# --- item 9: options -----------------------------------------------------------------


def test_issue_cryptosuites_and_unknown_options(api, keys) -> None:
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        secured = _issue(api, keys, PLAIN, cryptosuite=suite).json["verifiableCredential"]
        assert secured["proof"]["cryptosuite"] == suite
        assert _verify(api, secured).status_code == 200
    body = assert_problem(
        _issue(api, keys, PLAIN, cryptosuite="ecdsa-rdfc-2019"), 400, "unsupported-option"
    )
    assert body["pointer"] == "/options/cryptosuite"
    body = assert_problem(_issue(api, keys, PLAIN, credentialId="urn:x"), 400, "unsupported-option")
    assert body["pointer"] == "/options/credentialId"
    assert_problem(
        _issue(api, keys, PLAIN, format="jwt", cryptosuite="eddsa-jcs-2022"),
        400,
        "unsupported-option",
    )


def test_verify_options_checks_are_honoured_and_unknown_options_refused(api, keys) -> None:
    passport = _passport(api, keys)
    public = passport["credentials"]["annex-xiii-1"]
    assert api.post(f"/passports/{CODE}/revoke", headers=keys["exporter"]).status_code == 200
    assert_problem(_verify(api, public), 400, "verification-failed")
    only_proof = _verify(api, public, checks=["proof"])
    assert only_proof.status_code == 200, only_proof.json
    ids = {c["id"] for c in only_proof.json["checks"]}
    assert "proof.signature" in ids and not any(i.startswith("status") for i in ids)
    assert "validity" not in ids and "issuer.trust" not in ids
    body = assert_problem(
        _verify(api, public, checks=["proof", "credentialStatus"]), 400, "verification-failed"
    )
    assert {c["id"] for c in body["checks"] if not c["ok"]} == {
        "status.revocation",
        "status.suspension",
    }
    body = assert_problem(
        _verify(api, public, checks=["proof", "bogus"]), 400, "unsupported-option"
    )
    assert body["pointer"] == "/options/checks/1"
    body = assert_problem(_verify(api, public, challenge="x"), 400, "unsupported-option")
    assert body["pointer"] == "/options/challenge"


# --- item 10: presentations ----------------------------------------------------------


def _presentation(holder: Holder, credentials: list[Any], **proof: str) -> dict[str, Any]:
    vp = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": credentials,
    }
    return holder.sign(vp, proof_purpose="authentication", proof_options=proof)


def _verify_vp(api, presentation, **options):
    return api.post(
        "/presentations/verify", json={"verifiablePresentation": presentation, "options": options}
    )


def test_presentation_with_embedded_and_enveloped_credentials(api, keys) -> None:
    di = _issue(api, keys, PLAIN).json["verifiableCredential"]
    enveloped = _issue(api, keys, PLAIN, format="jwt").json["verifiableCredential"]
    holder = Holder()
    vp = _presentation(holder, [di, enveloped], challenge="c-123", domain="gw.example")
    ok = _verify_vp(api, vp, challenge="c-123", domain="gw.example")
    assert ok.status_code == 200, ok.json
    assert [r["verified"] for r in ok.json["credentialResults"]] == [True, True]
    assert {c["id"] for c in ok.json["checks"]} >= {
        "vp.challenge",
        "vp.domain",
        "vp.holder",
        "proof.signature",
    }
    # A replay with another challenge or domain, or none signed, is refused.
    for options in (
        {"challenge": "c-999", "domain": "gw.example"},
        {"challenge": "c-123", "domain": "other.example"},
    ):
        body = assert_problem(_verify_vp(api, vp, **options), 400, "verification-failed")
        assert any(not c["ok"] and c["id"].startswith("vp.") for c in body["checks"])
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    body = assert_problem(_verify_vp(api, unsigned, challenge="c-123"), 400, "verification-failed")
    assert [c["id"] for c in body["checks"] if not c["ok"]] == ["vp.proof"]
    # A proof of another purpose, another holder, or a tampered credential inside.
    wrong_purpose = holder.sign(
        {k: v for k, v in vp.items() if k != "proof"}, proof_options={"challenge": "c-123"}
    )
    assert_problem(_verify_vp(api, wrong_purpose, challenge="c-123"), 400)
    other = _presentation(Holder(), [di], challenge="c-123")
    other["holder"] = holder.did
    assert_problem(_verify_vp(api, other, challenge="c-123"), 400)
    tampered = {**di, "credentialSubject": {"id": "https://maker.example/things/9"}}
    body = assert_problem(
        _verify_vp(api, _presentation(holder, [tampered], challenge="c"), challenge="c"),
        400,
        "verification-failed",
    )
    assert [r["verified"] for r in body["credentialResults"]] == [False]
    assert_problem(_verify_vp(api, vp, nonce="x"), 400, "unsupported-option")
    assert_problem(api.post("/presentations/verify", json={"presentation": vp}), 422)


# --- item 11: pinned contexts --------------------------------------------------------


def test_contexts_pinned_on_the_server_are_listed_and_used(api, keys, api_app) -> None:
    issuer = Holder()
    credential = issuer.sign(
        {
            "@context": [V2, EXAMPLES_V2],
            "type": ["VerifiableCredential", "AlumniCredential"],
            "issuer": issuer.did,
            "credentialSubject": {"id": "did:example:abc", "alumniOf": "The School of Examples"},
        },
        loader=EXAMPLES_LOADER,
    )
    body = assert_problem(_verify(api, credential), 400, "verification-failed")
    assert any(c["id"] == "jsonld.contexts" and not c["ok"] for c in body["checks"])
    data = EXAMPLES_FILE.read_bytes()
    url = f"/contexts?url={EXAMPLES_V2}"
    assert_problem(api.post(url, data=data, content_type="application/ld+json"), 401)
    assert_problem(
        api.post(url, data=data, content_type="application/ld+json", headers=keys["importer"]), 403
    )
    pinned = api.post(url, data=data, content_type="application/ld+json", headers=keys["admin"])
    assert pinned.status_code == 201, pinned.json
    assert pinned.json["sha256"] == hashlib.sha256(data).hexdigest()
    listed = {c["url"]: c for c in api.get("/contexts").json["items"]}
    assert listed[EXAMPLES_V2]["source"] == "database"
    assert listed[V2]["source"] == "shipped"
    assert _verify(api, credential).status_code == 200
    events = [
        e
        for e in audit_entries(api_app.extensions["gateway.instance"].db)
        if e.action == "context.pinned"
    ]
    assert [e.subject for e in events] == [EXAMPLES_V2]
    # Refused: again, a shipped URL, a non-https URL, a document that is no context.
    assert_problem(
        api.post(url, data=data, content_type="application/ld+json", headers=keys["admin"]), 409
    )
    assert_problem(
        api.post(
            f"/contexts?url={V2}",
            data=data,
            content_type="application/ld+json",
            headers=keys["admin"],
        ),
        409,
    )
    body = assert_problem(
        api.post(
            "/contexts?url=http://x.example/c",
            data=data,
            content_type="application/ld+json",
            headers=keys["admin"],
        ),
        422,
    )
    assert body["pointer"] == "/url"
    body = assert_problem(
        api.post(
            "/contexts?url=https://x.example/c",
            data=b'{"a": 1, "a": 2}',
            content_type="application/ld+json",
            headers=keys["admin"],
        ),
        422,
    )
    assert body["pointer"] == "/document"
    assert api.delete(url, headers=keys["admin"]).status_code == 204
    assert_problem(api.delete(url, headers=keys["admin"]), 404)
    assert_problem(_verify(api, credential), 400, "verification-failed")


def test_cli_pins_contexts_for_the_offline_verifier(runner, tmp_path) -> None:
    assert runner.invoke(args=["init"]).exit_code == 0
    issuer = Holder()
    credential = issuer.sign(
        {
            "@context": [V2, EXAMPLES_V2],
            "type": ["VerifiableCredential"],
            "issuer": issuer.did,
            "credentialSubject": {"id": "did:example:abc", "alumniOf": "Examples"},
        },
        loader=EXAMPLES_LOADER,
    )
    path = tmp_path / "alumni.json"
    path.write_text(json.dumps(credential))
    assert runner.invoke(args=["verify", str(path)]).exit_code == 1
    pinned = runner.invoke(args=["contexts", "pin", EXAMPLES_V2, str(EXAMPLES_FILE)])
    assert pinned.exit_code == 0, pinned.output
    listed = runner.invoke(args=["contexts", "list", "--json"])
    assert EXAMPLES_V2 in {r["url"] for r in json.loads(listed.output)}
    verified = runner.invoke(args=["verify", str(path)])
    assert verified.exit_code == 0, verified.output
    assert runner.invoke(args=["contexts", "unpin", EXAMPLES_V2]).exit_code == 0


# --- item 13: trust lists ------------------------------------------------------------


def test_without_a_trust_list_the_issuer_is_not_evaluated(api, keys) -> None:
    issuer = Holder()
    credential = issuer.sign({**PLAIN, "issuer": issuer.did})
    verdict = _verify(api, credential)
    assert verdict.status_code == 200
    [trust] = [c for c in verdict.json["checks"] if c["id"] == "issuer.trust"]
    assert trust["evaluated"] is False and "not evaluated" in trust["reason"]
    assert verdict.json["issuerTrust"] == "unknown"
    # The gateway's own passports are its own issuer's.
    passport = _passport(api, keys)["credentials"]["annex-xiii-1"]
    assert _verify(api, passport).json["issuerTrust"] == "trusted"


def test_trust_lists_instance_wide_and_per_tenant(api, keys, api_app) -> None:
    issuer, stranger = Holder(), Holder()
    credential = issuer.sign({**PLAIN, "issuer": issuer.did})
    strange = stranger.sign({**PLAIN, "issuer": stranger.did})
    # An importer keeps its tenant's list; exporters and anonymous callers do not.
    assert_problem(api.post("/trusted-issuers", json={"did": issuer.did}), 401)
    assert_problem(
        api.post("/trusted-issuers", json={"did": issuer.did}, headers=keys["exporter"]), 403
    )
    assert_problem(
        api.post(
            "/trusted-issuers",
            json={"did": issuer.did, "scope": "instance"},
            headers=keys["importer"],
        ),
        403,
    )
    added = api.post("/trusted-issuers", json={"did": issuer.did}, headers=keys["importer"])
    assert added.status_code == 201, added.json
    assert added.json["scope"] == "tenant:acme" and added.json["addedBy"].startswith("tenant:")
    # With the importer's key its list applies; anonymous callers have none.
    mine = _verify(api, credential, headers=keys["importer"])
    assert mine.status_code == 200 and mine.json["issuerTrust"] == "trusted"
    body = assert_problem(
        _verify(api, strange, headers=keys["importer"]), 400, "verification-failed"
    )
    assert [c["id"] for c in body["checks"] if not c["ok"]] == ["issuer.trust"]
    assert body["issuerTrust"] == "untrusted"
    assert _verify(api, strange).json["issuerTrust"] == "unknown"
    assert api.get("/trusted-issuers").json["items"] == []
    # An instance-wide domain entry, by an admin.
    domain = api.post(
        "/trusted-issuers",
        json={"domain": "Maker.Example", "scope": "instance"},
        headers=keys["admin"],
    )
    assert domain.status_code == 201 and domain.json["value"] == "maker.example"
    assert [e["value"] for e in api.get("/trusted-issuers").json["items"]] == ["maker.example"]
    assert _verify(api, credential).status_code == 400  # a list now applies: untrusted
    # Bad entries, duplicates, removal rights.
    for bad in (
        {"did": "not a did"},
        {"domain": "https://x.example/"},
        {"did": "did:x:a", "domain": "x.y"},
    ):
        assert_problem(api.post("/trusted-issuers", json=bad, headers=keys["admin"]), 422)
    assert_problem(
        api.post("/trusted-issuers", json={"did": issuer.did}, headers=keys["importer"]), 409
    )
    assert_problem(
        api.delete(f"/trusted-issuers/{domain.json['id']}", headers=keys["importer"]), 403
    )
    assert_problem(api.delete(f"/trusted-issuers/{added.json['id']}", headers=keys["beta"]), 403)
    assert (
        api.delete(f"/trusted-issuers/{added.json['id']}", headers=keys["importer"]).status_code
        == 204
    )
    assert_problem(api.delete("/trusted-issuers/9999", headers=keys["admin"]), 404)
    actions = [
        e.action
        for e in audit_entries(api_app.extensions["gateway.instance"].db)
        if e.action.startswith("trust.")
    ]
    assert actions == ["trust.added", "trust.added", "trust.removed"]


def test_did_web_domains_match_their_dids() -> None:
    from gateway.credentials.trust import TrustList

    trust = TrustList.of(["maker.example", "did:key:z6MkX", "gw.example:8443"])
    assert trust.verdict("did:web:maker.example") == "trusted"
    assert trust.verdict("did:web:maker.example:batteries") == "trusted"
    assert trust.verdict("did:web:gw.example%3A8443") == "trusted"
    assert trust.verdict("did:web:evil-maker.example") == "untrusted"
    assert trust.verdict("did:web:maker.example.evil.example") == "untrusted"
    assert trust.verdict("did:key:z6MkX") == "trusted"
    assert TrustList().verdict("did:key:z6MkX") == "unknown"
    assert TrustList(own=frozenset({"did:web:gw.example"})).verdict("did:key:z") == "unknown"


def test_cli_trust_lists_and_offline_verdicts(runner, tmp_path) -> None:
    assert runner.invoke(args=["init"]).exit_code == 0
    issuer = Holder()
    path = tmp_path / "c.json"
    path.write_text(json.dumps(issuer.sign({**PLAIN, "issuer": issuer.did})))
    unknown = runner.invoke(args=["verify", str(path)])
    assert unknown.exit_code == 0
    assert "? issuer.trust: not evaluated" in unknown.output
    assert "issuer unknown" in unknown.output
    as_json = json.loads(runner.invoke(args=["verify", str(path), "--json"]).output)
    assert as_json[0]["issuerTrust"] == "unknown"
    assert runner.invoke(args=["trust", "add", "other.example"]).exit_code == 0
    refused = runner.invoke(args=["verify", str(path)])
    assert refused.exit_code == 1 and "x issuer.trust" in refused.output
    added = runner.invoke(args=["trust", "add", issuer.did])
    assert added.exit_code == 0, added.output
    listed = json.loads(runner.invoke(args=["trust", "list", "--json"]).output)
    assert [e["value"] for e in listed] == ["other.example", issuer.did]
    assert all(e["addedBy"] == "console" and e["scope"] == "instance" for e in listed)
    trusted = runner.invoke(args=["verify", str(path), "--json"])
    assert trusted.exit_code == 0 and json.loads(trusted.output)[0]["issuerTrust"] == "trusted"
    assert runner.invoke(args=["trust", "remove", str(listed[1]["id"])]).exit_code == 0
    bad = runner.invoke(args=["trust", "add", "did:bad value"])
    assert bad.exit_code == 1 and "not a DID" in bad.output


def test_jwt_issue_is_signed_by_the_vc_api_key(api, keys) -> None:
    enveloped = _issue(api, keys, PLAIN, format="jwt").json["verifiableCredential"]
    token = enveloped["id"].removeprefix("data:application/vc+jwt,")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["kid"].startswith("did:web:gw.example:vc-api#")


def test_trust_lists_and_contexts_on_both_backends(tmp_path, backend_url) -> None:
    app = make_app(tmp_path / "instance", backend_url)
    try:
        api = app.test_client()
        keys = issue_keys(app.extensions["gateway.settings"])
        issuer = Holder()
        credential = issuer.sign({**PLAIN, "issuer": issuer.did})
        added = api.post(
            "/trusted-issuers", json={"did": issuer.did, "scope": "instance"}, headers=keys["admin"]
        )
        assert added.status_code == 201, added.json
        assert_problem(
            api.post(
                "/trusted-issuers",
                json={"did": issuer.did, "scope": "instance"},
                headers=keys["admin"],
            ),
            409,
        )
        assert _verify(api, credential).json["issuerTrust"] == "trusted"
        tenant = api.post(
            "/trusted-issuers", json={"domain": "maker.example"}, headers=keys["authority"]
        )
        assert tenant.status_code == 201 and tenant.json["scope"] == "tenant:acme"
        assert len(api.get("/trusted-issuers", headers=keys["authority"]).json["items"]) == 2
        assert len(api.get("/trusted-issuers").json["items"]) == 1
        url = f"/contexts?url={EXAMPLES_V2}"
        assert (
            api.post(
                url,
                data=EXAMPLES_FILE.read_bytes(),
                content_type="application/ld+json",
                headers=keys["admin"],
            ).status_code
            == 201
        )
        assert EXAMPLES_V2 in {c["url"] for c in api.get("/contexts").json["items"]}
        assert (
            api.delete(f"/trusted-issuers/{added.json['id']}", headers=keys["admin"]).status_code
            == 204
        )
        assert _verify(api, credential).json["issuerTrust"] == "unknown"
    finally:
        app.extensions["gateway.instance"].db.dispose()


def test_an_instance_without_a_vc_api_key_answers_503_until_init(api, keys, api_app) -> None:
    """An instance made before the generic route had its own key: the operator's step is
    named, and the passport key is never used in its place."""
    instance = api_app.extensions["gateway.instance"]
    folder = KeyStore.vc_api(instance.settings).keys_dir
    moved = folder.with_name("vc-api.moved")
    folder.rename(moved)
    try:
        body = assert_problem(_issue(api, keys, PLAIN), 503, "not-configured")
        assert "gateway init" in body["detail"]
    finally:
        moved.rename(folder)
    assert _issue(api, keys, PLAIN).status_code == 201


@pytest.mark.parametrize("entry_id", ["999999", "99999999999999999999999999"])
def test_removing_a_trust_entry_that_cannot_exist_is_a_404(api, keys, entry_id) -> None:
    # An id beyond a 64-bit integer once overflowed SQLite into a 500.
    assert_problem(
        api.delete(f"/trusted-issuers/{entry_id}", headers=keys["importer"]), 404, "not-found"
    )
