"""The gateway's jobs as plain functions, shared by the CLI, the API and the pages.

The implementation is split by concern, one module each: ``conversion`` (record ->
documents -> signed credentials), ``issuance`` (into the store, one record or many),
``passports`` (read, list, change status), ``tenants`` (tenants, keys, callers), ``credentials``
(the VC API), ``trust`` (trust lists), ``contexts`` (pinned contexts), ``mappings``
(the mapping tables' life cycle), ``instance``, ``audit``, ``evidence``, ``whitelist``.
This package is the one place the faces (API, pages, CLI) import from.
"""

from gateway.auth import CONSOLE_ADMIN
from gateway.credentials.formats import PROOF_FORMATS, proof_format
from gateway.services.audit import AuditCheck, audit_entries, check_audit, entry_dict
from gateway.services.contexts import (
    context_listing,
    pin_context,
    pinned_context,
    unpin_context,
)
from gateway.services.conversion import (
    PassportDraft,
    SignedCredential,
    decode_code,
    draft_passport,
    sign_credentials,
    sign_passport,
)
from gateway.services.credentials import (
    issue_credential,
    status_list_credential,
    vc_api_did_document,
    verify_credential,
    verify_presentation,
)
from gateway.services.evidence import EvidencePackage, evidence_package
from gateway.services.instance import (
    BULK_STATUS_CHUNK,
    STATUS_LIST_URL,
    Instance,
    StatusPool,
    connect_store,
    local_status_source,
    open_instance,
    open_store,
    prepare_instance,
    schema_revisions,
    signing_key,
    status_registry,
)
from gateway.services.issuance import (
    IssuedPassport,
    Outcome,
    RecordItem,
    check_idempotency_key,
    issue_many,
    issue_passport,
    require_issuer,
)
from gateway.services.passports import (
    change_status,
    find_passport,
    list_passports,
    passport_credentials,
    passport_gaps,
    passport_summary,
    stored_credential,
)
from gateway.services.tenants import (
    authenticate,
    console_principal,
    create_tenant,
    issue_api_key,
    revoke_api_key,
    tenant_id,
    tenant_keys,
    tenant_listing,
)
from gateway.services.trust import (
    add_trusted_issuer,
    issuer_kind,
    offline_trust_and_contexts,
    remove_trusted_issuer,
    trust_entries,
    trusted_issuers,
)
from gateway.services.whitelist import import_whitelist, instance_whitelist
from gateway.store import Database
from gateway.store.tables import PASSPORT_STATUSES

__all__ = [
    "BULK_STATUS_CHUNK",
    "CONSOLE_ADMIN",
    "PASSPORT_STATUSES",
    "PROOF_FORMATS",
    "STATUS_LIST_URL",
    "AuditCheck",
    "Database",
    "EvidencePackage",
    "Instance",
    "IssuedPassport",
    "Outcome",
    "PassportDraft",
    "RecordItem",
    "SignedCredential",
    "StatusPool",
    "add_trusted_issuer",
    "audit_entries",
    "authenticate",
    "change_status",
    "check_audit",
    "check_idempotency_key",
    "proof_format",
    "connect_store",
    "console_principal",
    "context_listing",
    "create_tenant",
    "decode_code",
    "draft_passport",
    "entry_dict",
    "evidence_package",
    "find_passport",
    "import_whitelist",
    "instance_whitelist",
    "issue_api_key",
    "issue_credential",
    "issue_many",
    "issue_passport",
    "issuer_kind",
    "list_passports",
    "local_status_source",
    "offline_trust_and_contexts",
    "open_instance",
    "open_store",
    "passport_credentials",
    "passport_gaps",
    "passport_summary",
    "pin_context",
    "pinned_context",
    "prepare_instance",
    "remove_trusted_issuer",
    "require_issuer",
    "revoke_api_key",
    "schema_revisions",
    "sign_credentials",
    "sign_passport",
    "signing_key",
    "status_list_credential",
    "status_registry",
    "stored_credential",
    "tenant_id",
    "tenant_keys",
    "tenant_listing",
    "trust_entries",
    "trusted_issuers",
    "unpin_context",
    "vc_api_did_document",
    "verify_credential",
    "verify_presentation",
]
