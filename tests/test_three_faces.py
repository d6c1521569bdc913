"""The batch API, the exporter's upload page and ``gateway convert --sign --store`` issue
through one pipeline: the same records give the same outcomes and the same store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from gateway import services
from gateway.auth import CONSOLE_ADMIN
from gateway.credentials.claims import credential_claims, status_entries
from tests.helpers import PLAIN_URL, RECORDS, GatewayRunner, issue_secrets, make_app

NDJSON = "application/x-ndjson"
GOOD = ("ncm-ev-pack.json", "sparse-pack.json")


def _records() -> list[dict[str, Any]]:
    """Two good records with a refused one (a battery code that does not decode) between."""
    first, second = (json.loads((RECORDS / name).read_text(encoding="utf-8")) for name in GOOD)
    refused = json.loads(json.dumps(second))
    refused["battery"]["code"] = "NOT-A-CODE"
    return [first, refused, second]


def _by_batch(
    app: Flask, secret: str, records: list[dict[str, Any]], _: Path
) -> list[tuple[str, str]]:
    body = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    response = app.test_client().post(
        "/passports/batch",
        data=body,
        content_type=NDJSON,
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.get_data().splitlines()]
    assert [o["line"] for o in lines] == [1, 2, 3]
    return [
        (o["outcome"], o["batteryCode"] if "batteryCode" in o else o["problem"]["detail"])
        for o in lines
    ]


def _by_upload(
    app: Flask, secret: str, records: list[dict[str, Any]], tmp: Path
) -> list[tuple[str, str]]:
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    signed_in = client.post("/login", data={"api_key": secret, "csrf_token": token.group(1)})
    assert signed_in.status_code == 303
    page = client.get("/dashboard").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    path = tmp / "records.ndjson"
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    with path.open("rb") as upload:
        response = client.post(
            "/dashboard/upload",
            headers={"Accept": NDJSON},
            data={"file": (upload, path.name), "format": "di", "csrf_token": token.group(1)},
        )
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.get_data().splitlines()]
    items = [o for o in lines if "item" in o]
    assert [o["item"] for o in items] == [1, 2, 3]
    return [(o["outcome"], o["batteryCode"] if "batteryCode" in o else o["detail"]) for o in items]


def _by_cli(app: Flask, _: str, records: list[dict[str, Any]], tmp: Path) -> list[tuple[str, str]]:
    paths = []
    for number, record in enumerate(records, start=1):
        paths.append(tmp / f"record-{number}.json")
        paths[-1].write_text(json.dumps(record), encoding="utf-8")
    runner = GatewayRunner(
        app.extensions["gateway.settings"].home, env={"GATEWAY_BASE_URL": PLAIN_URL}
    )
    result = runner.invoke(
        args=["convert", *paths, "--sign", "--store", "--tenant", "acme", "--quiet"]
    )
    assert result.exit_code == 1, result.output
    stored = re.findall(r"^stored \S+/passports/(\S+) ", result.stdout, re.MULTILINE)
    refused = dict(line.split(": ", 1) for line in result.stderr.splitlines())
    out: list[tuple[str, str]] = []
    for path in paths:
        if str(path) in refused:
            out.append(("refused", refused[str(path)]))
        else:
            out.append(("created", stored.pop(0)))
    return out


FACES = {"batch": _by_batch, "upload": _by_upload, "cli": _by_cli}


@pytest.fixture
def gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, str]]:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = make_app(tmp_path / "instance", base_url=PLAIN_URL)
    secret = issue_secrets(app.extensions["gateway.settings"], {"acme": ("exporter",)})
    try:
        yield app, secret["acme"]["exporter"]
    finally:
        app.extensions["gateway.instance"].db.dispose()


def _stored(app: Flask) -> list[dict[str, Any]]:
    """What the store holds after issuing: passports, credentials with their status
    entries, and the disclosure events of the audit log."""
    instance = app.extensions["gateway.instance"]
    out = []
    for passport in services.list_passports(instance, CONSOLE_ADMIN):
        _, credentials = services.passport_credentials(
            instance, passport.battery_code, CONSOLE_ADMIN
        )
        out.append(
            {
                "code": passport.battery_code,
                "status": passport.status,
                "mapping": f"{passport.mapping_set}@{passport.mapping_version}",
                "entries": {
                    group: sorted(e["statusPurpose"] for e in status_entries(credential_claims(c)))
                    for group, c in credentials.items()
                },
            }
        )
    # Actors differ by face (an API key, the console): the events themselves do not.
    events = [
        (e.action, e.subject)
        for e in services.audit_entries(instance.db)
        if e.action.startswith("passport.")
    ]
    return sorted(out, key=lambda p: p["code"]) + sorted(events)


@pytest.mark.parametrize("face", list(FACES))
def test_each_face_gives_the_same_outcomes_and_store(
    face: str, gateway: tuple[Flask, str], tmp_path: Path
) -> None:
    app, secret = gateway
    outcomes = FACES[face](app, secret, _records(), tmp_path)
    codes = [json.loads((RECORDS / name).read_text())["battery"]["code"] for name in GOOD]
    assert [o for o, _ in outcomes] == ["created", "refused", "created"]
    assert [outcomes[0][1], outcomes[2][1]] == codes
    # The refusal names the field at fault, whichever face reports it.
    assert "battery" in outcomes[1][1] and "code" in outcomes[1][1]
    stored = _stored(app)
    passports = [s for s in stored if isinstance(s, dict)]
    assert [p["code"] for p in passports] == sorted(codes)
    for passport in passports:
        assert passport["status"] == "active"
        assert "annex-xiii-1" in passport["entries"]
        assert all(e == ["revocation", "suspension"] for e in passport["entries"].values())
    events = [s for s in stored if isinstance(s, tuple)]
    # Each passport is recorded once: issued, with what it discloses.
    assert sorted({(action, subject.rsplit("/", 1)[-1]) for action, subject in events}) == sorted(
        ("passport.issued", code) for code in codes
    )


def test_the_faces_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The three faces, each on a fresh instance, end with the same store."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    results = {}
    for face, issue in FACES.items():
        home = tmp_path / face
        app = make_app(home / "instance", base_url=PLAIN_URL)
        try:
            secret = issue_secrets(app.extensions["gateway.settings"], {"acme": ("exporter",)})[
                "acme"
            ]["exporter"]
            home.mkdir(exist_ok=True)
            outcomes = issue(app, secret, _records(), home)
            results[face] = ([o for o, _ in outcomes], _stored(app))
        finally:
            app.extensions["gateway.instance"].db.dispose()
    assert results["batch"] == results["upload"] == results["cli"]


def test_convert_sign_without_store_promises_no_revocation(
    runner: GatewayRunner, tmp_path: Path
) -> None:
    """Signed files that are neither stored nor audited carry no status entries: nothing
    could ever revoke them, so none is promised."""
    assert runner.invoke(args=["init"]).exit_code == 0
    out = tmp_path / "out"
    result = runner.invoke(args=["convert", RECORDS / GOOD[0], "--out", out, "--sign", "--quiet"])
    assert result.exit_code == 0, result.output
    signed = sorted(out.glob("*/passport-*.vc.jsonld"))
    assert len(signed) == 4  # one per Annex XIII point
    for path in signed:
        credential = json.loads(path.read_text(encoding="utf-8"))
        assert "credentialStatus" not in credential and "proof" in credential
    assert "credentialStatus" in runner.invoke(args=["convert", "--help"]).output
