"""The verify page shows an issuer judged by no trust list as unknown, never as trusted,
and lists the trust list it judges by."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import data_integrity, multikey
from gateway.store import init_db
from gateway.store.trust import TrustedIssuers


def _credential() -> dict:
    key = Ed25519PrivateKey.generate()
    did = multikey.did_key(key.public_key())
    return data_integrity.add_proof(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": did,
            "credentialSubject": {"id": "https://maker.example/things/1"},
        },
        key,
        multikey.did_key_verification_method(key.public_key()),
    )


def test_no_trust_list_shows_not_evaluated_and_issuer_unknown(client) -> None:
    form = client.get("/verify").get_data(as_text=True)
    assert 'id="trust-list"' in form and "No trust list is configured" in form
    page = client.post("/verify", data={"credential": json.dumps(_credential())})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "The credential is valid" in text
    assert 'id="issuer-unknown"' in text and "Issuer unknown" in text
    at = text.index('<code class="small">issuer.trust</code>')
    row = text[text.rindex("<tr", 0, at) : text.index("</tr>", at)]
    assert 'class="na"' in row and "not evaluated" in row and "✓" not in row


def test_trust_list_is_shown_and_applied(app, client) -> None:
    credential = _credential()
    db = init_db(app.extensions["gateway.settings"])
    with db.transaction() as session:
        TrustedIssuers(session).add("domain", "maker.example", tenant_id=None, actor="cli")
    db.dispose()
    form = client.get("/verify").get_data(as_text=True)
    assert "maker.example" in form and "added by cli" in form
    text = client.post("/verify", data={"credential": json.dumps(credential)}).get_data(
        as_text=True
    )
    assert "did not verify" in text and "is not on the trust list" in text
    zh = client.post(
        "/verify", data={"credential": json.dumps(credential)}, headers={"Accept-Language": "zh-CN"}
    ).get_data(as_text=True)
    assert "受信任的签发方" in zh
