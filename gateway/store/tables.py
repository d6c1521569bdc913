"""ORM models: the gateway's tables.

Enumerated columns are strings with CHECK constraints rather than native enums, so the
same migration runs on SQLite and PostgreSQL and adding a value is a one-line change.
Every timestamp is stored and returned as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.access.disclosure import CHANNELS as DISCLOSURE_CHANNELS
from gateway.access.grants import PURPOSES as GRANT_PURPOSES
from gateway.access.grants import SCOPES as GRANT_SCOPES
from gateway.annex_xiii import ALL_SECTIONS
from gateway.auth import ROLES
from gateway.credentials.formats import PROOF_FORMATS
from gateway.errors import Conflict
from gateway.policy.approvals import KINDS as APPROVAL_KINDS

#: Largest id of a row with an integer key (grants, approvals, disclosures, keys, trust
#: list entries): the columns are 32-bit on PostgreSQL, which refuses a larger number
#: even to compare, so routes bound their ids by it.
MAX_ROW_ID = 2**31 - 1
PASSPORT_STATUSES = ("active", "revoked", "suspended", "superseded", "ceased")
STATUS_PURPOSES = ("revocation", "suspension")
MAPPING_STATUSES = ("draft", "published", "deprecated")
TRUST_KINDS = ("did", "domain")

# Stable constraint names, so a later migration can drop or alter them by name.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, at microsecond precision.

    :returns: now.
    """
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite has no time zones and returns naive values; PostgreSQL ``timestamptz``
    returns aware ones. Normalising both keeps hashes over timestamps (the audit chain)
    identical across backends.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store UTC-aware timestamps")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonColumn = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JsonColumn}


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Passport(Base):
    __tablename__ = "passports"
    __table_args__ = (
        CheckConstraint(_one_of("status", PASSPORT_STATUSES), name="status"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_passports_tenant_created", "tenant_id", "created_at"),
    )

    # The passport URL, which embeds the GB/T 34014 code (DESIGN §5 Identifiers).
    id: Mapped[str] = mapped_column(String(512), primary_key=True)
    battery_code: Mapped[str] = mapped_column(String(64), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    superseded_by: Mapped[str | None] = mapped_column(String(512), default=None)
    predecessor_id: Mapped[str | None] = mapped_column(
        ForeignKey("passports.id"), default=None, index=True
    )
    mapping_set: Mapped[str] = mapped_column(String(100))
    mapping_version: Mapped[str] = mapped_column(String(64))
    mapping_hash: Mapped[str] = mapped_column(String(128))
    record_sha256: Mapped[str] = mapped_column(String(64))
    # The national record: NULL once sealed into ``record_sealed`` (encryption at rest,
    # ``gateway.store.encryption``) and once purged (``record_purged_at``); stores from
    # before encryption hold it here until ``gateway keys encrypt-store`` has run.
    record: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, default=None)
    record_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    record_purged_at: Mapped[datetime | None] = mapped_column(default=None)
    # The record's production batch, kept in clear: batch-scope grants are matched on it
    # whether or not the record can be opened (``production.batch``).
    production_batch: Mapped[str | None] = mapped_column(String(64), default=None)
    gaps: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    # Art. 77(8): the day the battery was recycled, and who recorded it when.
    ceased_on: Mapped[date | None] = mapped_column(default=None)
    ceased_at: Mapped[datetime | None] = mapped_column(default=None)
    ceased_by: Mapped[str | None] = mapped_column(String(255), default=None)


class StatusList(Base):
    __tablename__ = "status_lists"
    __table_args__ = (
        CheckConstraint(_one_of("purpose", STATUS_PURPOSES), name="purpose"),
        CheckConstraint("next_index >= 0 AND next_index <= size", name="next_index"),
    )

    # The URL of the status list credential.
    id: Mapped[str] = mapped_column(String(512), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str] = mapped_column(String(512), index=True)
    # Raw bits, index 0 = most significant bit of byte 0 (Bitstring Status List §3.1).
    bitstring: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Lists filled at random (herd privacy, see gateway.credentials.status_list): one bit
    # per index handed out, and ``next_index`` counts them. NULL for lists filled in order,
    # where the first ``next_index`` indexes are the handed-out ones.
    allocated: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # Why a bit was set, by index ("superseded by <passport id>").
    reasons: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # Raised by every change of the bits or reasons (gateway.store.status_lists): a verifier
    # holding the decoded list knows from this one number whether it is still current.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Credential(Base):
    __tablename__ = "credentials"
    __table_args__ = (
        # One section per Annex XIII point; the three earlier groups stay for the
        # passports issued under them.
        CheckConstraint(_one_of("access_group", ALL_SECTIONS), name="access_group"),
        CheckConstraint(_one_of("format", PROOF_FORMATS), name="format"),
        UniqueConstraint("passport_id", "access_group", "format"),
        UniqueConstraint("status_list_id", "status_index"),
    )

    id: Mapped[str] = mapped_column(String(512), primary_key=True)
    # Found by passport through the unique constraint above, which begins with it.
    passport_id: Mapped[str] = mapped_column(ForeignKey("passports.id"))
    access_group: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(8))
    # The secured credential as issued; NULL when sealed into ``body_sealed``, as every
    # credential beyond the public point is (BMS-derived values an approval released
    # travel in them; ``gateway.store.encryption``).
    body: Mapped[str | None] = mapped_column(Text, default=None)
    body_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    status_list_id: Mapped[str | None] = mapped_column(ForeignKey("status_lists.id"), default=None)
    status_index: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MappingVersion(Base):
    __tablename__ = "mapping_versions"
    __table_args__ = (
        CheckConstraint(_one_of("status", MAPPING_STATUSES), name="status"),
        UniqueConstraint("mapping_set", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mapping_set: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    content_hash: Mapped[str | None] = mapped_column(String(128), default=None)
    # The mapping table as SSSOM TSV (or JSON) text, exactly as edited.
    table: Mapped[str] = mapped_column(Text)
    base_version: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class GapReportTemplate(Base):
    """What every gap report of one mapping table, catalog and battery category says
    alike (attribute labels, Annex XIII points, the rows' source paths and labels),
    under the SHA-256 of its content; a stored report keeps only the rest
    (:mod:`gateway.store.gap_reports`)."""

    __tablename__ = "gap_report_templates"

    id: Mapped[str] = mapped_column(String(71), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(512), index=True)
    data: Mapped[dict[str, Any]] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Set when retention cleared ``data``: the event keeps its place and digests in the
    # chain, its contents are gone (``gateway.services.retention``).
    purged_at: Mapped[datetime | None] = mapped_column(default=None)


class DataKey(Base):
    """A tenant's data key for one calendar year, or its lasting key (period 0), wrapped
    by a key-encryption key (``gateway.store.encryption``); destroying a year's key
    (``wrapped`` cleared) shreds what it sealed."""

    __tablename__ = "data_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    # The calendar year (UTC) of the rows it seals; 0: what lasts as long as passports.
    period: Mapped[int] = mapped_column(Integer)
    cipher: Mapped[str] = mapped_column(String(16))
    kek_id: Mapped[str] = mapped_column(String(64), index=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(default=None)


class RetentionPolicy(Base):
    """How long a tenant's stored content is kept, in years (``gateway.services.
    retention``); no row: the defaults, which are also the floor."""

    __tablename__ = "retention_policies"
    __table_args__ = (
        CheckConstraint("records_years >= 8", name="records_years"),
        CheckConstraint("audit_years >= 8", name="audit_years"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    records_years: Mapped[int] = mapped_column(Integer)
    audit_years: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrustedIssuer(Base):
    """An issuer a verifier accepts: a DID, or a did:web domain (see
    :mod:`gateway.credentials.trust`)."""

    __tablename__ = "trusted_issuers"
    __table_args__ = (
        CheckConstraint(_one_of("kind", TRUST_KINDS), name="kind"),
        UniqueConstraint("tenant_id", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL: instance-wide; else the tenant whose verifications it applies to.
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(512))
    added_by: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class PinnedContext(Base):
    """A JSON-LD context served to the verifier offline, byte for byte as added."""

    __tablename__ = "pinned_contexts"

    url: Mapped[str] = mapped_column(String(512), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class WhitelistListing(Base):
    """A white-list listing imported into the instance (``gateway whitelist import``),
    overlaid by ``licence_no`` on the listings shipped with the gateway
    (:mod:`gateway.compliance.whitelist` holds the rules each column meets)."""

    __tablename__ = "whitelist_listings"

    licence_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch: Mapped[int] = mapped_column(Integer)
    announcement_no: Mapped[str] = mapped_column(String(200))
    announced_on: Mapped[date]
    province: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    removed_on: Mapped[date | None] = mapped_column(default=None)
    imported_by: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class PinnedDidDocument(Base):
    """Another issuer's DID document the verifier resolves without the network, as added."""

    __tablename__ = "pinned_did_documents"

    did: Mapped[str] = mapped_column(String(512), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstanceSecret(Base):
    """A secret every instance serving the database shares (the web session signing
    key), wrapped by a key-encryption key that never enters the database."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    kek_id: Mapped[str] = mapped_column(String(64))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstanceState(Base):
    """A counter raised by every change of one kind of instance-wide state (``whitelist``,
    ``did_documents``): each process keeps that state parsed and reads this one number to
    know whether its copy is current."""

    __tablename__ = "instance_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class WebSession(Base):
    """A signed-in page session. The cookie carries a random token; the table keeps only
    its SHA-256, so signing out (deleting the row) ends the session on every instance."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ExportApproval(Base):
    """An approval a tenant holds to export BMS health data of some categories
    (:mod:`gateway.policy.approvals`); never deleted, revoked instead."""

    __tablename__ = "export_approvals"
    __table_args__ = (
        CheckConstraint(_one_of("kind", APPROVAL_KINDS), name="kind"),
        CheckConstraint("valid_until > valid_from", name="validity"),
        UniqueConstraint("tenant_id", "kind", "reference"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(100))
    authority: Mapped[str] = mapped_column(String(200))
    # The data categories it covers, a JSON list (``gateway.policy.categories``).
    categories: Mapped[list[str]] = mapped_column(JsonColumn)
    valid_from: Mapped[datetime] = mapped_column()
    # The first moment it is no longer in force.
    valid_until: Mapped[datetime] = mapped_column()
    document_sha256: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(255), default=None)


class TenantPolicy(Base):
    """One version of a tenant's tightening of the shipped data policy; the newest is
    applied to every conversion of the tenant."""

    __tablename__ = "tenant_policies"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # The shipped table it was checked against when set (``cn-export@1.1.0``).
    base: Mapped[str] = mapped_column(String(64))
    # ``{path: class}``; empty: the shipped policy as it is.
    rules: Mapped[dict[str, Any]] = mapped_column()
    set_by: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccessTableVersion(Base):
    """An access table an admin stored (``gateway.access.table``); the newest is in
    force, the shipped one while there is none."""

    __tablename__ = "access_tables"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    # The table as CSV, in the canonical form its SHA-256 is taken over.
    table: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(1000))
    added_by: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccessGrant(Base):
    """A party's legitimate interest in points of an issuer's passports (one passport, a
    production batch, or all of them), granted by the issuer (``gateway.access.grants``)."""

    __tablename__ = "access_grants"
    __table_args__ = (
        CheckConstraint(_one_of("scope", GRANT_SCOPES), name="scope"),
        CheckConstraint(_one_of("purpose", GRANT_PURPOSES), name="purpose"),
        CheckConstraint(
            "(grantee_tenant_id IS NULL AND grantee_key_id IS NOT NULL) OR "
            "(grantee_tenant_id IS NOT NULL AND grantee_key_id IS NULL)",
            name="one_grantee",
        ),
        CheckConstraint(
            "(scope = 'passport' AND passport_id IS NOT NULL AND batch IS NULL) OR "
            "(scope = 'batch' AND batch IS NOT NULL AND passport_id IS NULL) OR "
            "(scope = 'all' AND passport_id IS NULL AND batch IS NULL)",
            name="scope_target",
        ),
        CheckConstraint("valid_until > valid_from", name="validity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The issuing tenant whose passports it opens.
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    grantee_tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id"), default=None, index=True
    )
    grantee_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id"), default=None, index=True
    )
    scope: Mapped[str] = mapped_column(String(8))
    passport_id: Mapped[str | None] = mapped_column(ForeignKey("passports.id"), default=None)
    batch: Mapped[str | None] = mapped_column(String(64), default=None)
    # Annex XIII points, "2 4".
    points: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime] = mapped_column()
    valid_until: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(String(1000))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(255), default=None)
    revoke_reason: Mapped[str | None] = mapped_column(String(1000), default=None)


class Disclosure(Base):
    """One response that gave point 2, 3 or 4 data of a passport to a party other than
    its issuing tenant (``gateway.access.disclosure``)."""

    __tablename__ = "disclosures"
    __table_args__ = (
        CheckConstraint(_one_of("channel", DISCLOSURE_CHANNELS), name="channel"),
        Index("ix_disclosures_tenant_at", "tenant_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column()
    # The issuing tenant, whose log it is.
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    passport_id: Mapped[str] = mapped_column(ForeignKey("passports.id"), index=True)
    reader_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    reader_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    actor: Mapped[str] = mapped_column(String(255))
    # Annex XIII points disclosed, "2 4"; the basis, "grant:3 role:authority".
    points: Mapped[str] = mapped_column(String(8))
    basis: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(16))


class RegistryProfile(Base):
    """A tenant's defaults for its EU registry registrations (``gateway.services.registry``):
    what its passports' records do not say."""

    __tablename__ = "registry_profiles"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    economic_operator_id: Mapped[str | None] = mapped_column(String(70), default=None)
    facility_id: Mapped[str | None] = mapped_column(String(70), default=None)
    # A CN (8 digits) or HS (6 digits) commodity code, digits only.
    commodity_code: Mapped[str | None] = mapped_column(String(10), default=None)
    # Where the back-up copies are held; a passport's copy is ``<base>/<battery code>``.
    backup_url_base: Mapped[str | None] = mapped_column(String(400), default=None)
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegistryRegistration(Base):
    """The EU registry's answer to registering one passport version, as an operator
    recorded it: the registration id, the proof of registration and its date."""

    __tablename__ = "registry_registrations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "registration_id"),
        UniqueConstraint("passport_id", "content_sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    passport_id: Mapped[str] = mapped_column(ForeignKey("passports.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    registration_id: Mapped[str] = mapped_column(String(200))
    # The content hash of the passport version registered (``gateway.services.registry``).
    content_sha256: Mapped[str] = mapped_column(String(64))
    proof_file_name: Mapped[str] = mapped_column(String(255))
    proof_sha256: Mapped[str] = mapped_column(String(64))
    # The sealed proof itself, when the operator handed over the file and not its hash.
    proof: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    registered_at: Mapped[datetime] = mapped_column()
    recorded_by: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


#: Unique product identifier schemes (``gateway.services.identifiers``).
UPI_SCHEMES = ("gs1-digital-link", "iec-61406")


class UpiScheme(Base):
    """A tenant's unique product identifier scheme and the domain its identifiers are
    minted under; without one, the gateway's own host with IEC 61406 links."""

    __tablename__ = "upi_schemes"
    __table_args__ = (CheckConstraint(_one_of("scheme", UPI_SCHEMES), name="scheme"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    scheme: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str] = mapped_column(String(70))
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class UniqueProductIdentifier(Base):
    """A battery's unique product identifier (EN 18219), minted at its first issue and
    kept for every later one: a change of the tenant's scheme never changes it."""

    __tablename__ = "unique_product_identifiers"
    __table_args__ = (CheckConstraint(_one_of("scheme", UPI_SCHEMES), name="scheme"),)

    battery_code: Mapped[str] = mapped_column(String(24), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(16))
    # At most 70 characters (EN 18219).
    uri: Mapped[str] = mapped_column(String(70), unique=True)
    # What the resolver answers: the URI's path (``/01/…/21/…`` or ``/id/…``).
    path: Mapped[str] = mapped_column(String(70), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@event.listens_for(MappingVersion, "before_update")
def _published_is_immutable(_mapper: Any, _conn: Any, target: MappingVersion) -> None:
    """Refuse, at the ORM level too, any change to a published version but deprecation
    (the repository's conditional UPDATEs already refuse it in SQL)."""
    state = inspect(target)
    was = state.attrs.status.history
    old_status = (was.deleted or was.unchanged or [target.status])[0]
    if old_status == "draft":
        return
    changed = {a.key for a in state.attrs if a.history.has_changes()}
    allowed = {"status"} if (old_status, target.status) == ("published", "deprecated") else set()
    if changed - allowed:
        raise Conflict(
            f"mapping {target.mapping_set}@{target.version} is {old_status} and cannot change",
            pointer="/version",
        )


@event.listens_for(MappingVersion, "before_delete")
def _published_is_kept(_mapper: Any, _conn: Any, target: MappingVersion) -> None:
    if inspect(target).attrs.status.history.deleted or target.status != "draft":
        raise Conflict(
            f"mapping {target.mapping_set}@{target.version} is not a draft and cannot be deleted",
            pointer="/version",
        )


#: A bulk job's states (``gateway.store.jobs``): ``receiving`` while its upload is read.
JOB_STATES = ("receiving", "queued", "running", "done", "failed")
#: A chunk's states: ``held`` until its job's upload is complete.
CHUNK_STATES = ("held", "queued", "running", "done", "failed")


class Job(Base):
    """A bulk issuance job: who submitted it (the caller its records are issued as),
    how, and how far its chunks have come."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_one_of("state", JOB_STATES), name="state"),
        CheckConstraint(_one_of("proof_format", PROOF_FORMATS), name="proof_format"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    # The submitting key and its role: the records are issued as that caller.
    key_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    proof_format: Mapped[str] = mapped_column(String(8))
    mapping: Mapped[str | None] = mapped_column(String(200), default=None)
    state: Mapped[str] = mapped_column(String(16), default="receiving")
    records: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    repeated: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by: Mapped[str] = mapped_column(String(255))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class JobChunk(Base):
    """A run of a job's records, sealed at rest until issued, then replaced by their
    sealed outcomes; a worker holds it under a lease that expires if the worker dies."""

    __tablename__ = "job_chunks"
    __table_args__ = (
        CheckConstraint(_one_of("state", CHUNK_STATES), name="state"),
        UniqueConstraint("job_id", "seq"),
        Index("ix_job_chunks_state_lease", "state", "lease_expires"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    records: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="held")
    # The records as uploaded, sealed; NULL once the chunk is done.
    input_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The outcome lines, sealed (they carry the restricted points' credentials).
    results_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
