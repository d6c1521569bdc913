"""The gateway's jobs as plain functions, shared by the CLI and the API."""

from __future__ import annotations

import base64
import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.codes import gbt34014
from gateway.compliance import national_report
from gateway.compliance.whitelist import Whitelist
from gateway.credentials import data_integrity, jose
from gateway.credentials.did import Resolver
from gateway.credentials.keys import KeyStore, SigningKey
from gateway.credentials.model import (
    build_credential,
    format_datetime,
    issuer_id,
    structure_checks,
)
from gateway.credentials.status_list import (
    SUPERSEDED_PREFIX,
    StatusListStore,
    StatusRegistry,
)
from gateway.credentials.verify import verify
from gateway.errors import (
    Conflict,
    CredentialError,
    Forbidden,
    InvalidBatteryCode,
    InvalidInput,
    NotFound,
    SigningKeyError,
    StatusListError,
    Unauthorized,
)
from gateway.mapping import loader
from gateway.mapping.model import MappingSet
from gateway.policy.table import Decision, Policy, apply_policy, load_policy
from gateway.settings import Settings
from gateway.store import Database, Passports, Tenants, init_db
from gateway.store.passports import (
    NewCredential,
    NewPassport,
    StoredCredential,
    StoredPassport,
    record_hash,
    status_bit,
)
from gateway.store.status_adapter import DatabaseStatusListStore
from gateway.transform.engine import Conversion, convert
from gateway.transform.gaps import gap_report
from gateway.transform.jsonld import passport_documents
from gateway.vocab.catalog import load_catalog
from gateway.vocab.loader import CREDENTIALS_V2


@dataclass(frozen=True)
class PassportDraft:
    """An unsigned passport: one JSON-LD document per access group and the gap report."""

    conversion: Conversion
    documents: dict[str, dict[str, Any]]
    gaps: dict[str, Any]
    policy: Decision

    @property
    def battery_code(self) -> str:
        return self.conversion.battery_code


def decode_code(code: str) -> dict[str, Any]:
    return gbt34014.decode(code).as_dict()


def draft_passport(
    record: Mapping[str, Any],
    *,
    mapping: str | MappingSet,
    base_url: str,
    policy: Policy | None = None,
    whitelist: Whitelist | None = None,
) -> PassportDraft:
    """Turn a validated national record into passport documents and a gap report.

    The cross-border policy runs first: what it withholds never reaches the mapping.

    :param mapping: a ``SET@VERSION`` reference to a published table, or a table.
    :param policy: the data policy (default: the shipped ``cn-export`` policy).
    :param whitelist: the white-list for the national compliance findings (default:
        the shipped one).
    :raises InvalidBatteryCode: the record's battery code does not decode.
    :raises MappingNotFound: no such mapping version.
    :raises TransformError: a value cannot be transformed.
    """
    mapping_set = loader.load(mapping) if isinstance(mapping, str) else mapping
    code = record["battery"]["code"]
    try:
        gbt34014.decode(code, strict=True)
    except InvalidBatteryCode as exc:
        exc.pointer = "/battery/code"
        raise
    exportable, decision = apply_policy(record, policy or load_policy())
    conversion = convert(
        exportable,
        mapping_set,
        load_catalog(),
        base_url=base_url,
        decode_code=decode_code,
        withheld=decision.withheld_paths,
    )
    gaps = gap_report(conversion, decision.as_dict())
    # The national findings read the whole record (hierarchy, events, hand-overs), but
    # name fields by pointer and never quote withheld values.
    gaps["national"] = national_report(record, whitelist=whitelist)
    return PassportDraft(conversion, passport_documents(conversion), gaps, decision)


PROOF_FORMATS = ("di", "jwt")


def sign_passport(
    draft: PassportDraft,
    *,
    key: SigningKey,
    registry: StatusRegistry,
    proof_format: str = "di",
    valid_from: datetime | None = None,
) -> dict[str, dict[str, Any] | str]:
    """Issue one credential per access group of a drafted passport.

    Each gets a revocation and a suspension entry in the issuer's status lists, and
    names the mapping set, version and hash it was made with.

    :param proof_format: ``di`` (Data Integrity ``eddsa-rdfc-2022``) or ``jwt``
        (compact ``vc+jwt``).
    :returns: by access group, the signed credential (a dict for ``di``, the compact
        JWS text for ``jwt``).
    :raises CredentialError: an unknown proof format, or a credential that breaks VC 2.0.
    """
    if proof_format not in PROOF_FORMATS:
        raise CredentialError(
            f"proof format {proof_format!r} is not one of {', '.join(PROOF_FORMATS)}",
            pointer="format",
        )
    mapping = draft.gaps["mapping"]
    moment = format_datetime(valid_from or datetime.now(UTC))
    entries = registry.allocate(count=len(draft.documents))
    signed: dict[str, dict[str, Any] | str] = {}
    for (group, document), status in zip(draft.documents.items(), entries, strict=True):
        credential = build_credential(
            document,
            issuer=key.issuer,
            passport_id=draft.conversion.passport_id,
            access_group=group,
            mapping=mapping,
            status=status,
            valid_from=moment,
        )
        if proof_format == "di":
            signed[group] = data_integrity.add_proof(credential, key.private_key, key.kid,
                                                     created=moment)
        else:
            signed[group] = jose.sign_jwt(credential, key.private_key, key.kid)
    return signed


# The gateway as a service: what the HTTP API does, over the store. ----------------------

#: Where the service's status lists live; the API serves each at this URL.
STATUS_LIST_URL = "{base}/status-lists/{purpose}-{n}"
#: Status entries reserved per unit of work when converting in bulk.
BULK_STATUS_CHUNK = 64
#: Longest idempotency key accepted (the column's width, less room for a line suffix).
MAX_IDEMPOTENCY_KEY = 200
#: Passport status changes by action name.
STATUS_ACTIONS = {
    "revoke": "revoked",
    "suspend": "suspended",
    "unsuspend": "active",
    "supersede": "superseded",
}


@dataclass
class Instance:
    """A running gateway: its settings, database, signing key and verifier sources.

    :ivar settings: resolved settings.
    :ivar db: the migrated database.
    :ivar keys: the key store.
    :ivar key: the active signing key.
    :ivar resolver: DID resolver over the instance's own DID documents.
    """

    settings: Settings
    db: Database
    keys: KeyStore
    key: SigningKey
    resolver: Resolver
    _mappings: dict[str, MappingSet] = field(default_factory=dict, repr=False)

    @property
    def base_url(self) -> str:
        return self.settings.base_url.rstrip("/")

    def passport_id(self, code: str) -> str:
        """The passport URL of a battery code (DESIGN §5 Identifiers)."""
        return f"{self.base_url}/passports/{code}"

    def mapping(self, ref: str) -> MappingSet:
        """A published mapping version; published versions never change, so kept once read.

        :raises MappingNotFound: no such published version.
        """
        table = self._mappings.get(ref)
        if table is None:
            from gateway.mapping_workflow import resolve_mapping

            table = resolve_mapping(ref, lambda: self.db)
            self._mappings[ref] = table
        return table


def prepare_instance(settings: Settings) -> list[str]:
    """Make an instance ready to serve: its folder, a signing key, the database schema.

    Safe to run again; nothing that exists is overwritten.

    :param settings: resolved settings.
    :returns: what was done, one line each.
    """
    done = []
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.keys_dir.mkdir(exist_ok=True)
    keys = KeyStore.from_settings(settings)
    if not keys.records():
        done.append(f"signing key created: {keys.generate(method='web').kid}")
    db = init_db(settings)
    done.append(f"database at revision {db.current_revision()}: {db.url}")
    db.dispose()
    return done


def open_instance(settings: Settings) -> Instance:
    """Open a prepared instance: bring its database schema up to date and load its key.

    :param settings: resolved settings.
    :returns: the instance.
    :raises SigningKeyError: the instance has no signing key (run ``gateway init``).
    :raises ConfigError: an unsupported database URL.
    """
    keys = KeyStore.from_settings(settings)
    try:
        key = keys.signing_key()
    except SigningKeyError as exc:
        raise SigningKeyError(
            f"{exc.detail}. Prepare the instance {settings.home} with `gateway init` first."
        ) from exc
    db = init_db(settings)
    keys.write_did_document()
    resolver = Resolver.from_files(
        [settings.home / "did"], allow_network=settings.allow_network
    )
    return Instance(settings, db, keys, key, resolver)


def status_registry(instance: Instance, store: StatusListStore) -> StatusRegistry:
    """The status registry of the instance.

    :param store: where its lists are, for the service a
        :class:`~gateway.store.status_adapter.DatabaseStatusListStore` of one unit of work.
    """
    return StatusRegistry(
        store,
        base_url=instance.base_url,
        issuer=instance.key.issuer,
        list_url=STATUS_LIST_URL,
    )


class StatusPool:
    """Status entries reserved ahead, ``chunk`` credentials' worth per short unit of work.

    Passed to :func:`sign_passport` as its registry: signing then happens outside any
    database transaction, and a bulk conversion takes the status lists' lock once per
    chunk instead of once per record. Entries reserved but never used (a refused record,
    a crash) stay unset bits nobody points at.

    :param instance: the instance.
    :param chunk: credentials reserved per unit of work.
    """

    def __init__(self, instance: Instance, chunk: int = 1) -> None:
        self.instance = instance
        self.chunk = chunk
        self._entries: deque[list[dict[str, str]]] = deque()

    def allocate(
        self, purposes: Sequence[str] = ("revocation", "suspension"), count: int = 1
    ) -> list[list[dict[str, str]]]:
        """Entries for ``count`` credentials, one per purpose each (see
        :meth:`StatusRegistry.allocate`)."""
        if tuple(purposes) != ("revocation", "suspension"):
            raise StatusListError("the pool reserves revocation and suspension entries only")
        missing = count - len(self._entries)
        if missing > 0:
            with self.instance.db.transaction() as session:
                registry = status_registry(self.instance, DatabaseStatusListStore(session))
                self._entries.extend(registry.allocate(count=max(missing, self.chunk)))
        return [self._entries.popleft() for _ in range(count)]


@dataclass(frozen=True)
class IssuedPassport:
    """A stored passport and its credentials.

    :ivar passport: the stored passport.
    :ivar credentials: by access group, the credential (a dict for Data Integrity, the
        compact JWS for ``vc+jwt``).
    :ivar created: ``False`` when an earlier request with the same idempotency key made it.
    """

    passport: StoredPassport
    credentials: dict[str, dict[str, Any] | str]
    created: bool


def _body(credential: dict[str, Any] | str) -> str:
    if isinstance(credential, str):
        return credential
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


def _credential_of(stored: StoredCredential) -> dict[str, Any] | str:
    return stored.body if stored.format == "jwt" else json.loads(stored.body)


def credential_claims(credential: Mapping[str, Any] | str) -> dict[str, Any]:
    """The claims of a credential this gateway issued: the dict itself, or the payload of
    its compact JWS (read without checking the signature: our own stored copy).

    :param credential: a Data Integrity credential or a compact JWS.
    :returns: the credential's claims.
    """
    if isinstance(credential, str):
        payload = credential.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return dict(credential)


def _entries(claims: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    status = claims.get("credentialStatus")
    items = status if isinstance(status, list) else [status] if status else []
    return [i for i in items if isinstance(i, Mapping)]


def _require(principal: Principal | None, allowed: bool, what: str) -> None:
    if principal is None:
        raise Unauthorized(f"{what} needs an API key: send Authorization: Bearer <key>")
    if not allowed:
        raise Forbidden(f"role {principal.role!r} may not {what}")


def authenticate(instance: Instance, secret: str) -> Principal | None:
    """Who holds an API key secret.

    :param secret: the bearer token.
    :returns: the caller, or ``None`` for an unknown or revoked key.
    """
    with instance.db.reading() as session:
        return Tenants(session).authenticate(secret)


def check_idempotency_key(key: str | None) -> str | None:
    """Check an ``Idempotency-Key`` value.

    :raises InvalidInput: longer than :data:`MAX_IDEMPOTENCY_KEY` or not printable ASCII.
    """
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters",
            pointer="Idempotency-Key",
        )
    return key


def _stored(instance: Instance, passport: StoredPassport) -> IssuedPassport:
    with instance.db.reading() as session:
        creds = Passports(session).credentials(passport.id)
    return IssuedPassport(passport, {c.access_group: _credential_of(c) for c in creds}, False)


def issue_passport(
    instance: Instance,
    record: Mapping[str, Any],
    *,
    principal: Principal | None,
    mapping: str | None = None,
    proof_format: str = "di",
    idempotency_key: str | None = None,
    pool: StatusPool | None = None,
) -> IssuedPassport:
    """Convert a validated record, sign one credential per access group and store the
    passport with its credentials in one unit of work.

    :param record: the validated national record.
    :param principal: the caller; exporters and admins may issue.
    :param mapping: ``SET@VERSION`` (default: the instance's).
    :param proof_format: ``di`` or ``jwt``.
    :param idempotency_key: a repeat with the same key and record returns the first
        result instead of a second passport.
    :param pool: where status entries come from (bulk conversion shares one).
    :returns: the passport and its credentials.
    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    :raises Conflict: the battery already has a passport, or the key was used for
        another record.
    :raises GatewayError: a record that cannot be converted or signed (422).
    """
    _require(principal, auth.may_issue(principal), "issue passports")
    assert principal is not None
    if proof_format not in PROOF_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(PROOF_FORMATS)}", pointer="format")
    check_idempotency_key(idempotency_key)
    digest = record_hash(dict(record))
    if idempotency_key is not None:
        with instance.db.reading() as session:
            earlier = Passports(session).by_idempotency_key(principal.tenant_id, idempotency_key)
        if earlier is not None:
            if earlier.record_sha256 != digest:
                raise Conflict(
                    f"Idempotency-Key {idempotency_key!r} was already used for another record",
                    pointer="Idempotency-Key",
                )
            return _stored(instance, earlier)
    table = instance.mapping(mapping or instance.settings.mapping)
    draft = draft_passport(record, mapping=table, base_url=instance.base_url)
    passport_id = draft.conversion.passport_id
    with instance.db.reading() as session:
        try:
            Passports(session).get(passport_id)
        except NotFound:
            pass
        else:
            raise Conflict(
                f"battery {draft.battery_code} already has a passport: {passport_id}",
                pointer="/battery/code",
            )
    signed = sign_passport(
        draft, key=instance.key, registry=pool or StatusPool(instance),  # type: ignore[arg-type]
        proof_format=proof_format,
    )
    credentials = []
    for group, credential in signed.items():
        claims = credential_claims(credential)
        revocation = next(
            (e for e in _entries(claims) if e.get("statusPurpose") == "revocation"), None
        )
        credentials.append(NewCredential(
            id=claims["id"],
            access_group=group,
            format=proof_format,
            body=_body(credential),
            # The revocation entry: the store flips it on revocation and keeps two
            # credentials from ever sharing it.
            status_list_id=revocation["statusListCredential"] if revocation else None,
            status_index=int(revocation["statusListIndex"]) if revocation else None,
        ))
    mapping_ref = draft.gaps["mapping"]
    new = NewPassport(
        id=passport_id,
        battery_code=draft.battery_code,
        tenant_id=principal.tenant_id,
        category=draft.conversion.category,
        mapping_set=mapping_ref["set"],
        mapping_version=mapping_ref["version"],
        mapping_hash=mapping_ref["hash"],
        record=dict(record),
        gaps=draft.gaps,
        record_sha256=digest,
        idempotency_key=idempotency_key,
    )
    with instance.db.transaction() as session:
        result = Passports(session).save(new, credentials, actor=_actor(principal))
    if not result.created:
        return _stored(instance, result.passport)
    return IssuedPassport(result.passport, dict(signed), True)


def _actor(principal: Principal) -> str:
    return f"tenant:{principal.tenant_name}/key:{principal.key_id}"


def find_passport(instance: Instance, code: str) -> StoredPassport:
    """The passport of a battery code.

    :raises NotFound: there is none.
    """
    with instance.db.reading() as session:
        try:
            return Passports(session).get(instance.passport_id(code))
        except NotFound:
            raise NotFound(f"no passport for battery code {code!r}", pointer="code") from None


def passport_credentials(
    instance: Instance, code: str, principal: Principal | None
) -> tuple[StoredPassport, dict[str, dict[str, Any] | str]]:
    """A passport's credentials of the access groups the caller may read (Annex XIII).

    :param code: the battery code.
    :param principal: the caller, ``None`` when anonymous (public group only).
    :returns: the passport and its visible credentials by access group.
    :raises NotFound: no passport for this code.
    """
    with instance.db.reading() as session:
        try:
            passport = Passports(session).get(instance.passport_id(code))
        except NotFound:
            raise NotFound(f"no passport for battery code {code!r}", pointer="code") from None
        groups = auth.visible_groups(principal, passport.tenant_id)
        creds = Passports(session).credentials(passport.id, groups)
    return passport, {c.access_group: _credential_of(c) for c in creds}


def passport_gaps(instance: Instance, code: str, principal: Principal | None) -> dict[str, Any]:
    """A passport's gap report, for the exporter that issued it, authorities and admins.

    :raises Unauthorized: no caller. :raises Forbidden: anyone else.
    :raises NotFound: no passport for this code.
    """
    passport = find_passport(instance, code)
    sees_all = auth.visible_groups(principal, passport.tenant_id) == auth.OWNER_GROUPS
    _require(principal, sees_all, "read another tenant's gap report")
    return passport.gaps


def list_passports(
    instance: Instance,
    principal: Principal | None,
    *,
    status: str | None = None,
    battery_code: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[StoredPassport]:
    """Passports the caller may list (see :func:`gateway.auth.list_scope`), a page at a time.

    :raises Unauthorized: no caller.
    """
    _require(principal, True, "list passports")
    assert principal is not None
    with instance.db.reading() as session:
        return Passports(session).list(
            auth.list_scope(principal), status=status, battery_code=battery_code,
            after=instance.passport_id(after) if after else None, limit=limit,
        )


def change_status(
    instance: Instance,
    code: str,
    action: str,
    principal: Principal | None,
    *,
    successor: str | None = None,
    reason: str | None = None,
) -> StoredPassport:
    """Revoke, suspend, unsuspend or supersede a passport and flip the status list bits
    of every credential it has, in one unit of work.

    :param action: a key of :data:`STATUS_ACTIONS`.
    :param successor: the battery code of the passport that replaces it (``supersede``).
    :raises Unauthorized: no caller. :raises Forbidden: not the owner or an admin.
    :raises NotFound: no such passport (or successor).
    :raises Conflict: a change the passport's status does not allow.
    """
    status = STATUS_ACTIONS[action]
    passport = find_passport(instance, code)
    _require(principal, auth.may_change_status(principal, passport.tenant_id),
             f"{action} this passport")
    assert principal is not None
    successor_id = None
    if status == "superseded":
        if not successor:
            raise InvalidInput("supersede names the successor's battery code",
                               pointer="/successor")
        if successor == code:
            raise InvalidInput("a passport cannot supersede itself", pointer="/successor")
        try:
            successor_id = find_passport(instance, successor).id
        except NotFound:
            raise NotFound(f"no passport for successor {successor!r}",
                           pointer="/successor") from None
    with instance.db.transaction() as session:
        passports = Passports(session)
        changed = passports.set_status(
            passport.id, status, _actor(principal), superseded_by=successor_id, reason=reason
        )
        registry = status_registry(instance, DatabaseStatusListStore(session))
        note = f"{SUPERSEDED_PREFIX}{successor_id}" if successor_id else status
        for stored in passports.credentials(passport.id):
            for item in _entries(credential_claims(_credential_of(stored))):
                purpose = str(item.get("statusPurpose"))
                bit = status_bit(purpose, status)
                registry.set_status({"credentialStatus": item}, purpose, bit, note if bit else "")
    return changed


def verify_credential(instance: Instance, credential: Mapping[str, Any] | str) -> dict[str, Any]:
    """Verify a credential against the instance's DID documents, trust list and status
    lists (DESIGN §6 flow 2); a failed verification is an answer, not an error.

    :param credential: a JSON credential with a proof, or a compact ``vc+jwt``.
    :returns: ``{"verified": bool, "checks": [...]}``.
    """
    with instance.db.reading() as session:
        source = status_registry(
            instance, DatabaseStatusListStore(session, lock=False)
        ).source()
        result = verify(
            credential,
            trusted_issuers=instance.settings.trusted_issuers,
            resolver=instance.resolver,
            status_lists=source,
        )
    return result.as_dict()


def issue_credential(
    instance: Instance,
    credential: Mapping[str, Any],
    principal: Principal | None,
    proof_format: str = "di",
) -> dict[str, Any]:
    """Sign a credential as the W3C VC API ``/credentials/issue`` does.

    The issuer is this gateway: an absent ``issuer`` is filled in, another one refused.

    :param credential: the unsecured credential.
    :param proof_format: ``di`` (Data Integrity ``eddsa-rdfc-2022``) or ``jwt`` (returned
        as an ``EnvelopedVerifiableCredential``).
    :returns: the secured credential.
    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    :raises InvalidInput: a credential that breaks VC DM 2.0 (``errors`` lists each rule).
    """
    _require(principal, auth.may_issue(principal), "issue credentials")
    body = dict(credential)
    issuer = body.setdefault("issuer", instance.key.issuer)
    if issuer_id(body) != instance.key.issuer:
        raise InvalidInput(
            f"issuer must be this gateway's DID {instance.key.issuer}, not {issuer!r}",
            pointer="/credential/issuer",
        )
    if "proof" in body:
        raise InvalidInput("the credential is already secured", pointer="/credential/proof")
    failed = [c for c in structure_checks(body) if not c.ok]
    if failed:
        raise InvalidInput(
            f"the credential breaks VC DM 2.0: {failed[0].reason}",
            pointer="/credential",
            errors=[{"pointer": "/credential", "message": c.reason} for c in failed],
        )
    if proof_format == "jwt":
        token = jose.sign_jwt(body, instance.key.private_key, instance.key.kid)
        return {
            "@context": CREDENTIALS_V2,
            "id": f"data:application/vc+jwt,{token}",
            "type": "EnvelopedVerifiableCredential",
        }
    return data_integrity.add_proof(body, instance.key.private_key, instance.key.kid)


def status_list_credential(instance: Instance, list_id: str) -> dict[str, Any]:
    """The signed ``BitstringStatusListCredential`` of one of the instance's lists.

    :param list_id: the last part of the list URL (``revocation-1``).
    :raises NotFound: no such list.
    """
    url = STATUS_LIST_URL.format(base=instance.base_url, purpose="", n="")
    url = url.rsplit("/", 1)[0] + "/" + list_id
    with instance.db.reading() as session:
        status_list = DatabaseStatusListStore(session, lock=False).load(url)
    if status_list is None:
        raise NotFound(f"no status list {list_id!r}", pointer="id")
    return data_integrity.add_proof(
        status_list.credential(), instance.key.private_key, instance.key.kid
    )
