"""What many test folders share: the one app factory, API keys, the problem check, the
CLI runner, the leak check, a PostgreSQL schema per test and the mapping row the editor
stories add.

Fixtures live in the ``conftest.py`` files and are built from these; test modules import
from here, never from a ``conftest.py``.
"""

from __future__ import annotations

import atexit
import base64
import functools
import json
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import create_engine

from gateway.app import create_app
from gateway.cli import main
from gateway.policy.approvals import Approval, check_approval
from gateway.policy.categories import CATEGORIES
from gateway.services import prepare_instance
from gateway.settings import Settings
from gateway.store import Tenants, init_db
from gateway.store.db import normalise_url

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "fixtures" / "records"
#: The roles :func:`issue_keys` gives a key of to tenant ``acme``.
ROLES = ("exporter", "importer", "authority", "editor", "admin")
#: The base URL of the apps :func:`make_app` builds (passport ids live under it).
BASE_URL = "https://gw.example"
#: The base URL ``gateway serve`` has by default: plain HTTP, so cookies carry no
#: ``Secure`` and the test client sends them back.
PLAIN_URL = Settings().base_url
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# -- apps and keys -----------------------------------------------------------------------


def make_app(home: Path, database_url: str = "", **settings: object) -> Flask:
    """The gateway app of a fresh (or existing) instance folder, as the tests build it.

    :param home: the instance folder; prepared (keys, database) if new.
    :param database_url: the store; ``""`` for SQLite in ``home``.
    :param settings: further :class:`Settings` fields; ``base_url`` defaults to
        :data:`BASE_URL`.
    """
    overrides = {"home": home, "database_url": database_url, "base_url": BASE_URL, **settings}
    resolved = Settings.load(overrides)
    if not resolved.database_url:
        migrated_sqlite(resolved.home / "gateway.sqlite")
    prepare_instance(resolved)
    return create_app(overrides)


def issue_secrets(
    settings: Settings, roles: Mapping[str, Sequence[str]]
) -> dict[str, dict[str, str]]:
    """Create the tenants, then give each a key of each of its roles.

    :param roles: the roles to issue keys of, by tenant name.
    :returns: the keys' secrets, by tenant then role.
    """
    db = init_db(settings)
    try:
        with db.transaction() as session:
            tenants = Tenants(session)
            for tenant in roles:
                tenants.create(tenant)
            return {
                tenant: {role: tenants.issue_key(tenant, role).secret for role in wanted}
                for tenant, wanted in roles.items()
            }
    finally:
        db.dispose()


def issue_keys(settings: Settings) -> dict[str, dict[str, str]]:
    """Bearer headers: ``acme`` (each role of :data:`ROLES`) and ``beta`` (a second
    exporter tenant)."""
    secrets = issue_secrets(settings, {"acme": ROLES, "beta": ("exporter",)})
    headers = {role: f"Bearer {secret}" for role, secret in secrets["acme"].items()}
    headers["beta"] = f"Bearer {secrets['beta']['exporter']}"
    return {name: {"Authorization": value} for name, value in headers.items()}


def assert_problem(response: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem of this status (and type), with no stack trace in it."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("https://w3id.org/cn-eu-battery/problems/")
    assert isinstance(body["title"], str) and body["title"]
    assert "Traceback" not in response.get_data(as_text=True)
    if slug is not None:
        assert body["type"].endswith("/" + slug), body
    return body


# -- the command line --------------------------------------------------------------------


class GatewayRunner(CliRunner):
    """Click's test runner for the ``gateway`` command, on one instance folder.

    Every command it runs sees ``GATEWAY_HOME`` set to ``home``; the ``runner`` fixture
    also sets it for the test itself.

    :param home: the instance folder the commands use.
    :param env: further environment variables for every command.
    """

    def __init__(
        self, home: Path, env: Mapping[str, str | None] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(env={"GATEWAY_HOME": str(home), **(env or {})}, **kwargs)
        self.home = home

    def invoke(
        self,
        cli: click.Command | None = None,
        args: Sequence[object] | str | None = None,
        **kwargs: Any,
    ) -> Result:
        """Run ``gateway`` (or ``cli``) with ``args``; paths and numbers may be given as
        they are, each becomes one argument.

        :param kwargs: as :meth:`click.testing.CliRunner.invoke` (``input``,
            ``catch_exceptions``, ``env`` ...).
        """
        words = args if args is None or isinstance(args, str) else [str(a) for a in args]
        return super().invoke(main if cli is None else cli, words, **kwargs)


# -- databases ---------------------------------------------------------------------------


def migrated_sqlite(path: Path) -> None:
    """Put at ``path``, unless a file is there, a copy of an SQLite database that the
    migrations brought to the newest revision.

    Running the migrations costs some 0.15 s a database and most tests make one,
    so they run once per test process (by :func:`init_db`, as for any instance) and each
    test gets a copy. The migrations themselves run on empty databases in
    ``tests/store/test_db.py`` and in every ``gateway init`` the tests start.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template(), path)


@functools.cache
def _migrated_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="migrated-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    init_db(Settings(home=folder)).dispose()
    # SQLite's own copy: the pages of the main file and of its write-ahead log, as one
    # file.
    template = folder / "template.sqlite"
    with (
        closing(sqlite3.connect(folder / "gateway.sqlite")) as source,
        closing(sqlite3.connect(template)) as target,
    ):
        source.backup(target)
    return template


def skip_or_fail(reason: str) -> None:
    """Skip a test that needs what is missing; under CI (``CI=true``) fail it instead."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL of ``DATABASE_URL_TEST`` on a schema of its own, dropped afterwards.

    Skips the test when ``DATABASE_URL_TEST`` is unset (fails it under CI).
    """
    url = os.environ.get("DATABASE_URL_TEST", "")
    if not url:
        skip_or_fail("DATABASE_URL_TEST is not set: the PostgreSQL cases need it")
    base = normalise_url(url)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


# -- the cross-border check --------------------------------------------------------------

_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def assert_no_leak(text_or_obj: Any, record: Mapping[str, Any], also: Sequence[str] = ()) -> None:
    """Fail if any output form carries a VIN, owner data, the coordinates or an ELV
    certificate number of ``record``, or any of ``also``.

    :param text_or_obj: a str/bytes output (CLI stdout, a response body, a compact JWS:
        its header and payload are decoded and searched too) or JSON-ready data.
    :param record: the national record whose sensitive values must not leave.
    :param also: further values that must not be there (BMS health data no approval
        released, individual alarm times).
    """
    secrets = [*sensitive_values(record), *also]
    for text in _texts(text_or_obj):
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked: ...{_around(text, secret)}..."


def sensitive_values(record: Mapping[str, Any]) -> list[str]:
    """Every form in which the record's sensitive values could show up."""
    vehicle = record["vehicle"]
    found = [vehicle["vin"]]
    owner = vehicle.get("owner", {})
    for key in ("name", "phone"):
        if key in owner:
            found.append(owner[key])
    if "address" in owner:
        found.append(owner["address"]["street"])
    for vin in (e["vin"] for e in record.get("events", []) if "vin" in e):
        found.append(vin)
    # The end-of-life vehicle certificate number identifies the vehicle as its VIN does.
    found.extend(e["certificate_no"] for e in record.get("events", []) if "certificate_no" in e)
    location = vehicle.get("last_location")
    if location:
        for key in ("lat", "lon"):
            written = location[key]
            found.append(written)  # as written in the record
            found.append(repr(float(written)))  # as a plain JSON number
            found.append(str(round(float(written) * 1_000_000)))  # as GB/T 32960 carries it
    return sorted(set(found))


def planted_record() -> dict[str, Any]:
    """``vin-repair-pack.json`` under a battery code of its own with every kind of
    identifier filled: the VIN (vehicle and events), owner name, phone and street, the
    last location, and an end-of-life certificate number (a retirement and a dismantling
    event, the battery not yet recycled)."""
    record: dict[str, Any] = json.loads((RECORDS / "vin-repair-pack.json").read_text("utf-8"))
    eol = json.loads((RECORDS / "end-of-life-pack.json").read_text(encoding="utf-8"))
    vin = record["vehicle"]["vin"]
    record["battery"]["code"] = "4A6PCPM27KLPCLE742946321"
    for kind, extra in (
        ("retirement", {"date": "2026-03-02", "reported_on": "2026-03-13"}),
        ("dismantling", {"certificate_no": "BF-510100-2026-009876"}),
    ):
        event = next(e for e in eol["events"] if e["type"] == kind)
        record["events"].append({**event, "vin": vin, **extra})
    return record


def _texts(text_or_obj: Any) -> Iterator[str]:
    if isinstance(text_or_obj, str | bytes):
        text = text_or_obj.decode("utf-8") if isinstance(text_or_obj, bytes) else text_or_obj
        yield text
        # A compact JWS hides its claims in base64url: read every one found.
        for token in _JWS.findall(text):
            for part in token.split(".")[:2]:
                try:
                    decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()
                    claims = json.loads(decoded)
                except (ValueError, UnicodeDecodeError):
                    continue
                yield decoded
                yield json.dumps(claims, ensure_ascii=False)
    else:
        text = json.dumps(text_or_obj, ensure_ascii=False, default=str)
        yield from _texts(text)
        yield json.dumps(text_or_obj, ensure_ascii=True, default=str)


def _around(text: str, secret: str) -> str:
    at = text.index(secret)
    return text[max(0, at - 60) : at + len(secret) + 60]


# -- passports issued before one credential per Annex XIII point -------------------------


def store_legacy_passport(
    app: Flask,
    tenant: str = "acme",
    record: Mapping[str, Any] | None = None,
    proof_format: str = "di",
) -> str:
    """Issue and store a passport the way the gateway did before one credential per
    point: three credentials ``public`` (point 1), ``legitimate_interest`` (points 2 and
    4 together) and ``authorities`` (point 3), written with passport context v1, each
    signed by the instance's passport key with status entries, stored through the store.

    :param app: an app of :func:`make_app`; ``tenant`` must exist in its store.
    :param record: the national record (default: ``ncm-ev-pack.json``, which fills all
        four points).
    :returns: the passport id (its URL; the battery code is its last segment).
    """
    import dataclasses

    from gateway.annex_xiii import LEGACY_SECTIONS, section
    from gateway.services import StatusPool, draft_passport, sign_credentials
    from gateway.store import Passports
    from gateway.store.passports import NewCredential, NewPassport
    from gateway.transform import en18223
    from gateway.vocab.forms import plain_value
    from gateway.vocab.loader import PASSPORT_V1

    instance = app.extensions["gateway.instance"]
    if record is None:
        record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    draft = draft_passport(record, mapping=instance.settings.mapping, base_url=instance.base_url)
    passport_id = draft.conversion.passport_id
    # Passports of the three groups carried no EN 18223 metadata (context v1 has none).
    structural = {"@context", "id", "type", "accessGroup", *en18223.FIELDS}
    documents: dict[str, dict[str, Any]] = {}
    for name, points in LEGACY_SECTIONS.items():
        values: dict[str, Any] = {}
        for point in sorted(points):
            document = draft.documents.get(section(point), {})
            # context v1 wrote every attribute as one literal
            values.update({k: plain_value(v) for k, v in document.items() if k not in structural})
        if values:
            documents[name] = {
                "@context": [PASSPORT_V1],
                "id": passport_id,
                "type": "BatteryPassport",
                "accessGroup": name,
                **values,
            }
    legacy = dataclasses.replace(draft, documents=documents, approvals={})
    signed = sign_credentials(
        legacy, key=instance.key, registry=StatusPool(instance), proof_format=proof_format
    )
    credentials = []
    for name, item in signed.items():
        revocation = item.entry("revocation")
        body = item.credential
        credentials.append(
            NewCredential(
                id=item.id,
                access_group=name,
                format=proof_format,
                body=body if isinstance(body, str) else json.dumps(body, ensure_ascii=False),
                status_list_id=revocation["statusListCredential"] if revocation else None,
                status_index=int(revocation["statusListIndex"]) if revocation else None,
            )
        )
    mapping = draft.gaps["mapping"]
    with instance.db.transaction() as session:
        passport = NewPassport(
            id=passport_id,
            battery_code=draft.battery_code,
            tenant_id=Tenants(session).get(tenant).id,
            category=draft.conversion.category,
            mapping_set=mapping["set"],
            mapping_version=mapping["version"],
            mapping_hash=mapping["hash"],
            record=dict(record),
            gaps=draft.gaps,
        )
        Passports(session).save(passport, credentials, actor=f"tenant:{tenant}")
    return passport_id


# -- export approvals of BMS health data -------------------------------------------------


#: The API body of an export approval of every data category, in force from 2026 to 2099.
def grant_body(**changes: Any) -> dict[str, Any]:
    """A grant of points 2 and 4 of the NCM pack's passport to tenant ``recycler``, for
    repair and recycling, as ``POST /grants`` takes it; a change to ``None`` leaves the
    member out."""
    body: dict[str, Any] = {
        "grantee": {"tenant": "recycler"},
        "scope": "passport",
        "batteryCode": "Z9ZPEN8K52S96AE740000319",
        "points": [2, 4],
        "purpose": "dismantling_repair_remanufacturing",
        "validUntil": "2030-12-31",
        "reason": "dismantling at the recycler's plant",
        **changes,
    }
    return {k: v for k, v in body.items() if v is not None}


APPROVAL: dict[str, Any] = {
    "kind": "security_assessment",
    "reference": "CAC-SA-2026-0042",
    "authority": "Cyberspace Administration of China",
    "categories": list(CATEGORIES),
    "validFrom": "2026-01-01",
    "validUntil": "2099-12-31",
    "documentSha256": "5" * 64,
}


def covering_everything(**changes: Any) -> Approval:
    """The :data:`APPROVAL` as the store returns it (id 1 of tenant ``acme``)."""
    new = check_approval(APPROVAL)
    fields: dict[str, Any] = {
        "id": 1,
        "tenant_id": 1,
        "tenant": "acme",
        "kind": new.kind,
        "reference": new.reference,
        "authority": new.authority,
        "categories": new.categories,
        "valid_from": new.valid_from,
        "valid_until": new.valid_until,
        "document_sha256": new.document_sha256,
        "added_by": "console/tenant:acme",
        "added_at": new.valid_from,
    }
    return Approval(**{**fields, **changes})


# -- mapping editing ---------------------------------------------------------------------

#: A mapping row the editor stories add: the plant's facility identifier, which the
#: national model has and mapping 1.1.0 reads only as part of the plant address.
NEW_ROW = {
    "subject_id": "cntrace:manufacturer.plant.facility_id",
    "subject_label": "Production plant facility identifier",
    "subject_label_zh": "生产工厂标识",
    "predicate_id": "skos:exactMatch",
    "object_id": "eubp:manufacturingPlace",
    "object_label": "Manufacturing place (plant location / facility id)",
    "mapping_justification": "semapv:ManualMappingCuration",
    "after": 22,
}
