"""Instances that keep nothing of their own: two instances with different folders,
sharing only the deployed key files and one database (an SQLite file, or PostgreSQL),
see each other's white-list imports, page sessions, trust lists, pinned DID documents
and pinned contexts at once; and an instance folder an older gateway wrote is taken over."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from gateway.compliance.whitelist import COLUMNS, import_rows, parse_csv
from gateway.credentials import data_integrity, multikey
from gateway.paths import FIXTURES_DIR
from gateway.services import instance_whitelist
from gateway.settings import Settings
from gateway.store import AuditLog
from gateway.store.db import Database, instance_sealer
from gateway.store.did_documents import PinnedDidDocuments
from gateway.vocab.loader import document_loader
from tests.helpers import BASE_URL, ROOT, GatewayRunner, issue_keys, make_app

RECYCLER = "某某再生资源科技有限公司"
LISTING = (
    ",".join(COLUMNS)
    + f"\n5,公告2024年第X号,2024-01-17,江西,{RECYCLER},,recycling,listed,,MIIT-2024-X-07\n"
)
RECORD = ROOT / "fixtures" / "records" / "compliance" / "non-whitelisted-recycler.json"
OFFLINE = ROOT / "fixtures" / "examples" / "offline"
MAKER = "did:web:maker.example"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
EXAMPLES_FILE = (
    FIXTURES_DIR / "vectors/derived/w3c/w3c-vc-data-model/contexts/credentials-examples-v2.jsonld"
)


@dataclass
class Pair:
    """Two instances of one database; ``url`` is the database both use."""

    a: Flask
    b: Flask
    url: str
    keys: dict[str, dict[str, str]]

    def runner(self, app: Flask) -> GatewayRunner:
        """The console of one instance (its folder, the shared database)."""
        home = app.extensions["gateway.settings"].home
        return GatewayRunner(home, env={"DATABASE_URL": self.url, "GATEWAY_BASE_URL": BASE_URL})


@pytest.fixture
def pair(tmp_path: Path, backend_url: str) -> Iterator[Pair]:
    url = backend_url or f"sqlite:///{tmp_path / 'shared.sqlite'}"
    a = make_app(tmp_path / "a", url)
    # What is deployed to every instance: the signing keys and the key-encryption key.
    shutil.copytree(tmp_path / "a" / "keys", tmp_path / "b" / "keys")
    b = make_app(tmp_path / "b", url)
    try:
        yield Pair(a, b, url, issue_keys(a.extensions["gateway.settings"]))
    finally:
        for app in (a, b):
            app.extensions["gateway.instance"].db.dispose()


def _findings(app: Flask, keys: dict[str, str], serial: int) -> set[str]:
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    record["battery"]["code"] = record["battery"]["code"][:-6] + f"{serial:06d}"
    created = app.test_client().post("/passports", json=record, headers=keys)
    assert created.status_code == 201, created.json
    return {f["rule"] for f in created.json["gaps"]["national"]["findings"]}


def test_a_whitelist_import_through_one_instance_is_used_by_the_next_conversion_of_another(
    pair: Pair,
) -> None:
    assert "whitelist-not-listed" in _findings(pair.b, pair.keys["exporter"], 1)
    imported = pair.a.test_client().post(
        "/whitelist", data=LISTING.encode(), content_type="text/csv", headers=pair.keys["admin"]
    )
    assert imported.status_code == 200, imported.json
    assert "whitelist-not-listed" not in _findings(pair.b, pair.keys["exporter"], 2)
    # Both instance folders hold nothing of it.
    for app in (pair.a, pair.b):
        assert not (app.extensions["gateway.settings"].home / "whitelist.csv").exists()
    # And the console of either lists it.
    listed = pair.runner(pair.b).invoke(args=["whitelist", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert "MIIT-2024-X-07" in {row["licence_no"] for row in json.loads(listed.output)}


def _signed_in(app: Flask, secret: str) -> str:
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = client.post("/login", data={"api_key": secret, "csrf_token": token})
    assert signed.status_code == 303
    cookie = client.get_cookie("gateway_session")
    assert cookie is not None
    return cookie.value


def test_a_page_session_made_by_one_instance_is_accepted_by_another(pair: Pair) -> None:
    assert pair.a.secret_key == pair.b.secret_key
    cookie = _signed_in(pair.a, pair.keys["exporter"]["Authorization"].removeprefix("Bearer "))
    other = pair.b.test_client()
    assert other.get("/dashboard").status_code in (302, 303)  # nobody signed in
    other.set_cookie("gateway_session", cookie)
    assert other.get("/dashboard").status_code == 200
    # Signing out on the second ends the session on the first too.
    form = other.get("/dashboard").get_data(as_text=True)
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert other.post("/logout", data={"csrf_token": token}).status_code == 303
    first = pair.a.test_client()
    first.set_cookie("gateway_session", cookie)
    assert first.get("/dashboard").status_code in (302, 303)


def _verify(app: Flask, credential: object) -> tuple[dict[str, bool], str | None]:
    """Each check's outcome (the first of an id) and the issuer's trust."""
    response = app.test_client().post(
        "/credentials/verify", json={"verifiableCredential": credential}
    )
    checks: dict[str, bool] = {}
    for check in response.json["checks"]:
        checks.setdefault(check["id"], check["ok"])
    return checks, response.json.get("issuerTrust")


def test_a_did_document_and_a_trust_list_entry_added_through_one_instance_are_used_by_another(
    pair: Pair,
) -> None:
    credential = json.loads((OFFLINE / "credential.json").read_text(encoding="utf-8"))
    before, _ = _verify(pair.b, credential)
    assert before["issuer.controller"] is False  # the issuer's key cannot be resolved
    pinned = pair.runner(pair.a).invoke(args=["dids", "pin", OFFLINE / "issuer-did.json"])
    assert pinned.exit_code == 0, pinned.output
    assert f"pinned {MAKER}" in pinned.output
    after, trust = _verify(pair.b, credential)
    assert after["issuer.controller"] is True and after["proof.signature"] is True
    assert trust != "trusted"

    trusted = pair.a.test_client().post(
        "/trusted-issuers", json={"did": MAKER, "scope": "instance"}, headers=pair.keys["admin"]
    )
    assert trusted.status_code == 201, trusted.json
    assert _verify(pair.b, credential)[1] == "trusted"

    unpinned = pair.runner(pair.b).invoke(args=["dids", "unpin", MAKER])
    assert unpinned.exit_code == 0, unpinned.output
    assert _verify(pair.a, credential)[0]["issuer.controller"] is False


def test_a_context_pinned_through_one_instance_is_used_by_the_next_verification_of_another(
    pair: Pair,
) -> None:
    key = Ed25519PrivateKey.generate()
    credential = data_integrity.add_proof(
        {
            "@context": [V2, EXAMPLES_V2],
            "type": ["VerifiableCredential"],
            "issuer": multikey.did_key(key.public_key()),
            "credentialSubject": {"id": "did:example:abc", "alumniOf": "Examples"},
        },
        key,
        multikey.did_key_verification_method(key.public_key()),
        loader=document_loader(extra={EXAMPLES_V2: json.loads(EXAMPLES_FILE.read_text())}),
    )
    # Each instance has verified once before the pin, so each keeps the contexts parsed.
    for app in (pair.a, pair.b):
        assert _verify(app, credential)[0].get("proof.signature") is not True
    pinned = pair.runner(pair.a).invoke(args=["contexts", "pin", EXAMPLES_V2, EXAMPLES_FILE])
    assert pinned.exit_code == 0, pinned.output
    assert _verify(pair.b, credential)[0]["proof.signature"] is True
    unpinned = pair.runner(pair.b).invoke(args=["contexts", "unpin", EXAMPLES_V2])
    assert unpinned.exit_code == 0, unpinned.output
    assert _verify(pair.a, credential)[0].get("proof.signature") is not True


def test_pinning_refuses_what_is_not_another_issuers_did_document(
    pair: Pair, tmp_path: Path
) -> None:
    console = pair.runner(pair.a)
    own = tmp_path / "own.json"
    own.write_text(json.dumps({"id": "did:web:gw.example"}), encoding="utf-8")
    cases = {
        "[1, 2]": "a DID document is a JSON object",
        json.dumps({"id": "did:key:z6Mk"}): "did:web DID",
        json.dumps({"id": "did:web:x.example", "verificationMethod": [1]}): "verificationMethod 0",
        '{"id": "did:web:a.example", "id": "did:web:b.example"}': "appears twice",
        own.read_text(encoding="utf-8"): "the gateway's own DID",
    }
    for text, message in cases.items():
        source = tmp_path / "doc.json"
        source.write_text(text, encoding="utf-8")
        refused = console.invoke(args=["dids", "pin", source])
        assert refused.exit_code == 1, (text, refused.output)
        assert message in refused.output, refused.output
        assert "Traceback" not in refused.output
    huge = tmp_path / "huge.json"
    huge.write_bytes(b'{"id": "did:web:x.example", "pad": "' + b"x" * 300_000 + b'"}')
    refused = console.invoke(args=["dids", "pin", huge])
    assert refused.exit_code == 1 and "at most" in refused.output
    missing = console.invoke(args=["dids", "unpin", "did:web:nobody.example"])
    assert missing.exit_code == 1 and "no pinned DID document" in missing.output
    listed = console.invoke(args=["dids", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output) == []


def test_an_older_instance_folder_is_taken_over_on_upgrade(tmp_path: Path) -> None:
    """An instance folder an older gateway wrote (a white-list file, a web session key,
    another issuer's DID document beside the gateway's own) and a database at the
    revision before: after the upgrade the database holds all three, sessions signed
    with the old key stay valid, and the folder holds no state and no secret."""
    home = tmp_path / "instance"
    settings = Settings.load({"home": home})
    older = Database.connect(settings.db_url, instance_sealer(settings))
    older.upgrade("0013")
    older.dispose()
    import_rows(parse_csv(LISTING.encode(), source="older.csv"), home)
    old_secret = "k" * 64
    (home / "web-session.key").write_text(old_secret + "\n", encoding="ascii")
    (home / "did").mkdir()
    shutil.copy(OFFLINE / "issuer-did.json", home / "did" / "did_web_maker.example.json")

    app = make_app(home)
    try:
        assert app.secret_key == old_secret
        assert not (home / "web-session.key").exists()
        db = app.extensions["gateway.instance"].db
        assert "MIIT-2024-X-07" in {item.licence_no for item in instance_whitelist(db).listings}
        assert (home / "whitelist.csv.imported").is_file()
        assert not (home / "whitelist.csv").exists()
        with db.reading() as session:
            assert MAKER in PinnedDidDocuments(session).documents()
            actions = [event.action for event in AuditLog(session).entries(limit=1000)]
        assert "whitelist.imported" in actions and "did.pinned" in actions
        # The gateway's own DID document is made from its keys, never pinned.
        assert set(app.extensions["gateway.instance"].own_documents) == {
            "did:web:gw.example",
            "did:web:gw.example:vc-api",
        }
    finally:
        app.extensions["gateway.instance"].db.dispose()

    # A file left behind (a read-only folder) never undoes a later import.
    changed = LISTING.replace(",recycling,", ",both,")
    again = make_app(home)
    try:
        db = again.extensions["gateway.instance"].db
        client = again.test_client()
        keys = issue_keys(again.extensions["gateway.settings"])
        done = client.post(
            "/whitelist", data=changed.encode(), content_type="text/csv", headers=keys["admin"]
        )
        assert done.status_code == 200, done.json
        (home / "whitelist.csv.imported").rename(home / "whitelist.csv")
    finally:
        again.extensions["gateway.instance"].db.dispose()
    third = make_app(home)
    try:
        listing = {
            item.licence_no: item
            for item in instance_whitelist(third.extensions["gateway.instance"].db).listings
        }["MIIT-2024-X-07"]
        assert listing.type == "both"
    finally:
        third.extensions["gateway.instance"].db.dispose()
