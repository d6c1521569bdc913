"""What every instance serving one database shares, and the taking over of what older
instances kept in their own folder.

An instance folder holds only what is deployed to every instance: ``gateway.toml``, the
signing keys and the key-encryption keys. The imported white-list, the pinned DID
documents of other issuers and the web session signing key live in the database, so
any number of instances serve one PostgreSQL (``docs/operations.md``, Stateless
instances). An instance folder an older gateway wrote may still hold them as files:
they are taken over into the database when the instance is next opened or
initialised, and the files are renamed (``*.imported``) or, for the secret, removed, so
that nothing is taken over twice and no secret stays behind on disk.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from gateway.auth import SYSTEM_ACTOR
from gateway.compliance.whitelist import INSTANCE_FILE
from gateway.credentials.keys import KeyStore
from gateway.errors import ConfigError, Conflict, GatewayError
from gateway.services.whitelist import import_whitelist
from gateway.settings import Settings
from gateway.store.db import Database
from gateway.store.did_documents import PinnedDidDocuments, check_did_document
from gateway.store.encryption import KeyUnavailable
from gateway.store.instance_secrets import WEB_SESSION, InstanceSecrets

_log = logging.getLogger(__name__)

#: The file in which older instances kept the web session signing key.
SECRET_FILE = "web-session.key"
#: The folder in which older instances kept DID documents for the verifier.
DID_FOLDER = "did"
#: What a file taken over is renamed to end with.
TAKEN_OVER = ".imported"


def own_dids(settings: Settings) -> frozenset[str]:
    """The gateway's own DIDs (passport and VC API), whose documents its keys make: the
    DIDs of the base URL, and every DID a deployed key was made for (a base URL changes;
    a key's DID does not)."""
    stores = (KeyStore.from_settings(settings), KeyStore.vc_api(settings))
    return frozenset(
        [store.did for store in stores]
        + [record.controller for store in stores for record in store.records()]
    )


def web_session_secret(db: Database) -> str:
    """The key that signs page session cookies, the same on every instance of the
    database: made once (at ``gateway init``, or by the first instance to need it) and
    kept wrapped by the key-encryption key.

    Without the KEK that wrapped it (a lost or wrong file) the instance still serves
    passports and verifies credentials: it signs sessions with a key of its own process
    instead, so a page session then holds on this process only, and says so in the log.
    """
    try:
        with db.transaction() as session:
            return InstanceSecrets(session).keep(WEB_SESSION, secrets.token_urlsafe(48))
    except KeyUnavailable as exc:
        _log.warning("page sessions hold on this process only: %s", exc.detail)
        return secrets.token_urlsafe(48)


def rewrap_shared_secrets(db: Database) -> None:
    """Wrap the shared secrets again under the current key-encryption key, if a rotation
    made a newer one current (every instance start and console command does it, so
    ``gateway keys kek rewrap`` finishes a rotation for them too). A KEK that is not
    deployed here is reported where the secret is used, not here."""
    try:
        with db.transaction() as session:
            InstanceSecrets(session).get(WEB_SESSION)
    except KeyUnavailable:
        pass


def take_over_instance_files(settings: Settings, db: Database) -> list[str]:
    """Move what an older instance kept in its folder into the database.

    ``whitelist.csv`` is imported as ``gateway whitelist import`` would (audited; a
    listing the database holds already is left as it is), then renamed;
    ``web-session.key`` becomes the database's session key unless the database has one
    already (sessions signed with it stay valid), then is removed; DID documents in
    ``did/`` other than the gateway's own are pinned (audited), then renamed.

    :param settings: the instance's settings (its folder).
    :param db: its migrated database.
    :returns: what was taken over, one line each.
    :raises GatewayError: a file is refused (named in the message); nothing of it is
        taken over and the file stays, so the instance refuses to start until it is
        fixed or removed.
    """
    return [
        *_take_over_whitelist(settings.home, db),
        *_take_over_secret(settings.home, db),
        *_take_over_did_documents(settings, db),
    ]


def _take_over_whitelist(home: Path, db: Database) -> list[str]:
    listings = home / INSTANCE_FILE
    if not listings.is_file():
        return []
    result = import_whitelist(
        db,
        _read(listings),
        actor=SYSTEM_ACTOR,
        source=f"{INSTANCE_FILE} of the instance folder",
        only_new=True,
    )
    _rename(listings)
    return [
        f"white-list taken over into the database: {len(result.added)} added, "
        f"{len(result.changed)} changed, {len(result.unchanged)} unchanged"
    ]


def _take_over_secret(home: Path, db: Database) -> list[str]:
    secret_file = home / SECRET_FILE
    if not secret_file.is_file():
        return []
    secret = _read(secret_file).decode("ascii", "replace").strip()
    if not secret or not secret.isascii() or not secret.isprintable():
        raise ConfigError(f"{SECRET_FILE}: not a session key (printable ASCII); remove it")
    try:
        with db.transaction() as session:
            kept = InstanceSecrets(session).keep(WEB_SESSION, secret)
    except KeyUnavailable as exc:
        # The file stays, and is taken over at a start once the KEK is back.
        _log.warning("%s not taken over: %s", SECRET_FILE, exc.detail)
        return []
    secret_file.unlink(missing_ok=True)
    return [
        "web session key taken over into the database"
        if kept == secret
        else "web session key of the instance folder removed (the database has one)"
    ]


def _take_over_did_documents(settings: Settings, db: Database) -> list[str]:
    folder = settings.home / DID_FOLDER
    if not folder.is_dir():
        return []
    own = own_dids(settings)
    done = []
    for path in sorted(folder.glob("*.json")):
        data = _read(path)
        try:
            check_did_document(data, own)
        except Conflict:
            continue  # the gateway's own document: made from its keys, left as it is
        except GatewayError as exc:
            raise ConfigError(f"{path.name}: {exc.detail}") from exc
        try:
            with db.transaction() as session:
                entry = PinnedDidDocuments(session).add(data, own=own, actor=SYSTEM_ACTOR)
        except Conflict:
            continue  # pinned already (a folder the file could not be renamed in)
        _rename(path)
        done.append(f"DID document of {entry.did} pinned in the database")
    return done


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path.name}: cannot read ({exc.strerror})") from exc


def _rename(path: Path) -> None:
    # A read-only instance folder keeps the file; taking it over again changes nothing:
    # listings and DIDs the database holds are left as they are, and a secret is kept
    # only when the database has none.
    try:
        os.replace(path, path.with_name(path.name + TAKEN_OVER))
    except OSError:
        pass
