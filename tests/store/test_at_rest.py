"""Encryption at rest: after issuing the fixtures, no byte of the database (the SQLite
file, a ``pg_dump``) holds a VIN, owner data, a location or a certificate number; a
ciphertext moved to another row does not open; KEK rotation re-wraps and everything
still reads; a lost or wrong KEK fails naming the key while verification still works."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import sqlite3
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
import zstandard
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from gateway.settings import Settings
from gateway.store import Passports, encryption
from gateway.store import tables as t
from gateway.store.encryption import (
    _DICTIONARY,
    _DICTIONARY_2,
    FileKeks,
    KeyUnavailable,
    row_binding,
    sealer_of,
)
from tests.helpers import (
    APPROVAL,
    RECORDS,
    ROOT,
    assert_problem,
    issue_keys,
    make_app,
    planted_record,
    sensitive_values,
)


def _records() -> list[tuple[str, bytes, str]]:
    found = [
        (p.name, p.read_bytes(), "application/xml" if p.suffix == ".xml" else "application/json")
        for p in sorted(RECORDS.glob("*.json")) + sorted(RECORDS.glob("*.xml"))
    ]
    planted = json.dumps(planted_record(), ensure_ascii=False).encode("utf-8")
    return [*found, ("planted", planted, "application/json")]


def _secrets() -> list[str]:
    values: set[str] = set()
    for path in RECORDS.glob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        if "vehicle" in record:
            values.update(sensitive_values(record))
    values.update(sensitive_values(planted_record()))
    values.add(planted_record()["vehicle"]["owner"]["address"]["street"])
    return sorted(values)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(home: Path, db_url: str) -> Any:
    url = "" if db_url.startswith("sqlite") else db_url
    app = make_app(home, url)
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture
def headers(app: Flask, home: Path, db_url: str) -> dict[str, dict[str, str]]:
    url = "" if db_url.startswith("sqlite") else db_url
    return issue_keys(Settings(home=home, database_url=url))


def _issue_all(app: Flask, headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Issue every fixture record and the planted one; the 201 bodies by record name."""
    client = app.test_client()
    issued = {}
    for name, body, mimetype in _records():
        response = client.post(
            "/passports", data=body, headers={**headers["exporter"], "Content-Type": mimetype}
        )
        assert response.status_code in (201, 409, 422), (name, response.get_data(as_text=True))
        if response.status_code == 201:
            issued[name] = response.get_json()
    assert "planted" in issued and "vin-repair-pack.json" in issued
    return issued


def _database_bytes(app: Flask, home: Path, db_url: str) -> bytes:
    app.extensions["gateway.instance"].db.dispose()
    if db_url.startswith("sqlite"):
        path = home / "gateway.sqlite"
        with sqlite3.connect(path) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return b"".join(p.read_bytes() for p in sorted(home.glob("gateway.sqlite*")))
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    url = make_url(db_url)
    schema = url.query["options"].split("search_path=")[1]
    plain = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    return subprocess.run(
        ["pg_dump", "--schema", schema, "--data-only", plain],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout


#: BMS health figures written so that they cannot turn up by chance elsewhere.
HEALTH = {"soh": "93.417", "cycles": 8765431}


def test_no_identifier_is_stored_in_clear(
    app: Flask, headers: dict[str, dict[str, str]], home: Path, db_url: str
) -> None:
    client = app.test_client()
    issued = {k: v["id"] for k, v in _issue_all(app, headers).items()}
    # Under an approval the BMS health figures leave in the credentials of points 2 and
    # 4: stored, those are sealed too.
    approved = client.post("/approvals", json=APPROVAL, headers=headers["exporter"])
    assert approved.status_code == 201, approved.get_data(as_text=True)
    health = planted_record()
    health["battery"]["code"] = health["battery"]["code"][:-1] + "5"
    health["usage"]["soh"] = HEALTH["soh"]
    health["usage"]["cycles"] = HEALTH["cycles"]
    released = client.post("/passports", json=health, headers=headers["exporter"])
    assert released.status_code == 201, released.get_data(as_text=True)
    text = released.get_data(as_text=True)
    assert all(str(v) in text for v in HEALTH.values())
    with app.extensions["gateway.instance"].db.reading() as session:
        bodies = [c.body for c in Passports(session).credentials(released.get_json()["id"])]
    assert any(HEALTH["soh"] in b for b in bodies)  # opened through the store
    # The service layer still reads the records back (evidence, impact analysis).
    instance = app.extensions["gateway.instance"]
    with instance.db.reading() as session:
        stored = Passports(session).get(issued["planted"])
        assert stored.record == planted_record()
        assert stored.record_sha256
    code = issued["planted"].rsplit("/", 1)[1]
    assert (
        client.get(f"/passports/{code}", headers={"Accept": "application/ld+json"}).status_code
        == 200
    )
    dump = _database_bytes(app, home, db_url)
    for secret in [*_secrets(), *(str(v) for v in HEALTH.values())]:
        for form in {secret.encode("utf-8"), json.dumps(secret).encode("ascii")[1:-1]}:
            assert form not in dump, f"{secret!r} stored in clear"
    # What the store queries stays in clear.
    assert code.encode("ascii") in dump


def test_a_ciphertext_moved_to_another_row_does_not_open(
    app: Flask, headers: dict[str, dict[str, str]]
) -> None:
    issued = {k: v["id"] for k, v in _issue_all(app, headers).items()}
    a, b = issued["planted"], issued["vin-repair-pack.json"]
    db = app.extensions["gateway.instance"].db
    with db.transaction() as session:
        sealed = session.scalar(select(t.Passport.record_sealed).where(t.Passport.id == a))
        session.execute(update(t.Passport).where(t.Passport.id == b).values(record_sealed=sealed))
    with db.reading() as session:
        moved = Passports(session).get(b)
        with pytest.raises(KeyUnavailable, match="does not open"):
            moved.record["battery"]
        with pytest.raises(KeyUnavailable):
            json.dumps(moved.record)
        assert Passports(session).get(a).record["vehicle"]["vin"] == "LNBSCTEST00000001"


def test_rotation_rewraps_and_everything_still_reads(
    app: Flask, headers: dict[str, dict[str, str]], home: Path, db_url: str
) -> None:
    from gateway.services.keys_at_rest import list_keks, rotate_kek

    issued = {k: v["id"] for k, v in _issue_all(app, headers).items()}
    instance = app.extensions["gateway.instance"]
    settings = instance.settings
    [old] = list_keks(settings, instance.db)
    assert old.current and old.data_keys >= 1
    new, rewrapped = rotate_kek(settings, instance.db, "sm4-gcm")
    assert rewrapped == old.data_keys
    states = {s.kek.id: s for s in list_keks(settings, instance.db)}
    assert states[old.kek.id].data_keys == 0 and states[new.id].data_keys == old.data_keys
    # The old KEK can go: a fresh process reads every record with the new one alone.
    (home / "keys" / "kek" / f"{old.kek.id}.json").unlink()
    url = "" if db_url.startswith("sqlite") else db_url
    fresh = make_app(home, url)
    try:
        with fresh.extensions["gateway.instance"].db.reading() as session:
            for passport_id in issued.values():
                assert Passports(session).get(passport_id).record["battery"]["code"]
        # New data keys are made under the new KEK, with its cipher (SM4-GCM).
        with fresh.extensions["gateway.instance"].db.transaction() as session:
            session.execute(update(t.DataKey).values(period=t.DataKey.period - 50))
        record = json.loads((RECORDS / "lfp-storage-pack.json").read_text(encoding="utf-8"))
        record["battery"]["code"] = record["battery"]["code"][:-1] + "9"
        response = fresh.test_client().post("/passports", json=record, headers=headers["beta"])
        assert response.status_code == 201, response.get_data(as_text=True)
        with fresh.extensions["gateway.instance"].db.reading() as session:
            ciphers = set(session.scalars(select(t.DataKey.cipher)))
            assert Passports(session).get(response.get_json()["id"]).record["battery"]
        assert "sm4-gcm" in ciphers
    finally:
        fresh.extensions["gateway.instance"].db.dispose()


@pytest.mark.parametrize("damage", ["lost", "wrong"])
def test_a_lost_or_wrong_kek_fails_clearly_and_verification_still_works(
    app: Flask, headers: dict[str, dict[str, str]], home: Path, db_url: str, damage: str
) -> None:
    bodies = _issue_all(app, headers)
    issued = {k: v["id"] for k, v in bodies.items()}
    code = issued["planted"].rsplit("/", 1)[1]
    credentials = list(bodies["planted"]["credentials"].values())
    assert credentials
    [kek] = FileKeks(home / "keys" / "kek").listing()
    path = home / "keys" / "kek" / f"{kek.id}.json"
    if damage == "lost":
        path.unlink()
    else:
        body = json.loads(path.read_text())
        other = FileKeks(home / "elsewhere").create()
        body["key"] = json.loads((home / "elsewhere" / f"{other.id}.json").read_text())["key"]
        path.write_text(json.dumps(body))
    app.extensions["gateway.instance"].db.dispose()
    url = "" if db_url.startswith("sqlite") else db_url
    broken = make_app(home, url)
    try:
        with broken.extensions["gateway.instance"].db.reading() as session:
            stored = Passports(session).get(issued["planted"])
            assert stored.battery_code == code  # the passport itself still reads
            with pytest.raises(KeyUnavailable) as caught:
                stored.record["vehicle"]
        assert kek.id in str(caught.value)
        assert "LNBSCTEST" not in str(caught.value)
        web = broken.test_client()
        # Issuance under a key whose KEK is gone is refused, naming the key.
        again = copy.deepcopy(planted_record())
        again["battery"]["code"] = "4A6PCPM27KLPCLE742946322"
        refused = web.post("/passports", json=again, headers={**headers["exporter"]})
        problem = assert_problem(refused, 503, "encryption-key-unavailable")
        assert kek.id in problem["detail"]
        # The public passport and verification of a credential still work.
        assert (
            web.get(f"/passports/{code}", headers={"Accept": "application/ld+json"}).status_code
            == 200
        )
        for credential in credentials:
            checks = web.post(
                "/credentials/verify", json={"verifiableCredential": credential}
            ).get_json()["checks"]
            # Signature, issuer and status do not depend on the sealed records.
            needed = [c for c in checks if c["id"].split(".")[0] in ("proof", "status", "issuer")]
            assert needed and all(c["ok"] for c in needed), needed
    finally:
        broken.extensions["gateway.instance"].db.dispose()


def test_a_status_reason_holding_an_identifier_is_refused(
    app: Flask, headers: dict[str, dict[str, str]]
) -> None:
    issued = {k: v["id"] for k, v in _issue_all(app, headers).items()}
    code = issued["planted"].rsplit("/", 1)[1]
    client = app.test_client()
    vin = planted_record()["vehicle"]["vin"]
    refused = client.post(
        f"/passports/{code}/suspend",
        json={"reason": f"vehicle {vin} in the workshop"},
        headers=headers["exporter"],
    )
    problem = assert_problem(refused, 422)
    assert problem["pointer"] == "/reason" and "vehicle.vin" in problem["detail"]
    assert vin not in refused.get_data(as_text=True)
    done = client.post(
        f"/passports/{code}/suspend",
        json={"reason": "in the workshop"},
        headers=headers["exporter"],
    )
    assert done.status_code == 200, done.get_data(as_text=True)


def test_every_sealed_form_opens_and_new_values_are_zstandard(
    app: Flask, headers: dict[str, dict[str, str]]
) -> None:
    # The gateway writes version 3 (Zstandard); rows it wrote as version 1 (plain JSON)
    # or 2 (zlib) before stay readable. Each form is built here from its documented
    # layout: version | data key id | nonce | AEAD(compressed JSON text).
    value = {"battery": {"serial": "SN-1", "cells": [{"code": "C" * 24}] * 40}}
    with app.extensions["gateway.instance"].db.transaction() as session:
        tenant = session.scalars(select(t.Tenant.id)).first()
        assert tenant is not None
        binding = {"table": "passports", "row_id": "p-1", "tenant_id": tenant}
        sealer = sealer_of(session)
        sealed = sealer.seal(session, value, **binding)
        assert sealed[0] == 3
        key = sealer._key(session, int.from_bytes(sealed[1:5], "big"))
        text = json.dumps(value).encode("utf-8")
        frame = key.open(
            sealed[5:17], sealed[17:], sealed[:17] + row_binding("passports", "p-1", tenant)
        )
        raw = zstandard.ZstdCompressionDict(_DICTIONARY_2, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        assert json.loads(zstandard.ZstdDecompressor(dict_data=raw).decompress(frame)) == value
        assert len(frame) < len(text) / 4
        deflate = zlib.compressobj(zdict=_DICTIONARY)
        for version, plain in ((1, text), (2, deflate.compress(text) + deflate.flush())):
            nonce = bytes(12)
            header = bytes([version]) + sealed[1:5] + nonce
            aad = header + row_binding("passports", "p-1", tenant)
            old = header + key.seal(nonce, plain, aad)
            assert sealer.open(session, old, **binding) == value
        with pytest.raises(KeyUnavailable, match="not a sealed value"):
            sealer.open(session, bytes([4]) + sealed[1:], **binding)
        # A value longer than a kept context compresses (a bulk job's chunk) takes a
        # context of its own, in the same format.
        chunk = [value] * 400
        assert len(json.dumps(chunk)) > encryption._KEPT_CONTEXT_BYTES
        assert sealer.open(session, sealer.seal(session, chunk, **binding), **binding) == chunk
        # A JSON string (a vc+jwt credential's base64url text) is compressed at a quicker
        # level, in the same format: the dictionary alone opens it, short or long.
        payload = base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
        for jws in (f"eyJhbGciOiJFZERTQSJ9.{payload}.c2ln", "." * 2 + payload * 200):
            sealed = sealer.seal(session, jws, **binding)
            assert sealed[0] == 3
            frame = key.open(
                sealed[5:17], sealed[17:], sealed[:17] + row_binding("passports", "p-1", tenant)
            )
            assert json.loads(zstandard.ZstdDecompressor(dict_data=raw).decompress(frame)) == jws
            assert sealer.open(session, sealed, **binding) == jws


@pytest.mark.parametrize(
    ("table", "row_id", "tenant_id"),
    [
        ("passports", "https://gw.example/passports/X", 1),
        ("credentials", "urn:uuid:0b8f", 7),
        ("passports", 'ü "quoted" \\ \u2028', 3),
        ("passports", "p-1", 2**70),
        ("passports", 42, 2),
    ],
)
def test_row_binding_is_json_ascii_text(table: str, row_id: object, tenant_id: int) -> None:
    # Sealed values are bound to these bytes: they never change, whatever writes them.
    expected = json.dumps([table, str(row_id), tenant_id], separators=(",", ":"))
    assert row_binding(table, row_id, tenant_id) == expected.encode("ascii")


@pytest.mark.parametrize(
    ("name", "sha256"),
    [
        (
            "seal-dictionary-1.json",
            "992dd3f8a568d68df394661b1c3da5533ae66bd153bb32b2de6e208ce6e05619",
        ),
        (
            "seal-dictionary-2.json",
            "6d2c58e25ba0e5ecaa5c185894c616fd17640750da34c8e1dc5a42b3b9c9dc8a",
        ),
    ],
)
def test_the_seal_dictionaries_never_change(name: str, sha256: str) -> None:
    # Values sealed in versions 2 and 3 open only with these exact bytes.
    path = Path(encryption.__file__).with_name(name)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256


#: Contexts shipped after the second dictionary was made (none yet); they are not in it.
LATER_CONTEXTS: frozenset[str] = frozenset()


def test_the_second_seal_dictionary_is_what_its_description_says() -> None:
    # The field names of the first, then the shipped contexts' URLs, then their terms.
    contexts = ROOT / "vocab" / "contexts"
    index = json.loads((contexts / "index.json").read_text(encoding="utf-8"))
    shipped = sorted(url for url in index if url not in LATER_CONTEXTS)
    assert len(shipped) == 8

    def terms(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {key for key in node if not key.startswith("@")}
            return found.union(*(terms(value) for value in node.values()))
        if isinstance(node, list):
            return set().union(*(terms(value) for value in node))
        return set()

    defined = set().union(
        *(
            terms(json.loads((contexts / index[url]["file"]).read_text(encoding="utf-8")))
            for url in shipped
        )
    )
    names = json.loads(_DICTIONARY)
    expected = names + shipped + sorted(defined - set(names) - set(shipped))
    assert json.loads(_DICTIONARY_2) == expected
    assert _DICTIONARY_2 == json.dumps(expected, separators=(",", ":")).encode("utf-8")
