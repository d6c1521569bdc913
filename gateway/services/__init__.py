"""The gateway's jobs as plain functions, shared by the CLI, the API and the pages.

The implementation is split by concern (``conversion``, ``instance``, ``passports``,
``credentials``); this package is the one place callers import from.
"""

from gateway.services.audit import AuditCheck, audit_entries, check_audit, entry_dict
from gateway.services.conversion import (
    PROOF_FORMATS,
    PassportDraft,
    decode_code,
    draft_passport,
    sign_passport,
)
from gateway.services.credentials import (
    issue_credential,
    pinned_context,
    require_issuer,
    status_list_credential,
    verify_credential,
)
from gateway.services.evidence import EvidencePackage, evidence_package
from gateway.services.instance import (
    BULK_STATUS_CHUNK,
    STATUS_LIST_URL,
    Instance,
    StatusPool,
    local_status_source,
    open_instance,
    prepare_instance,
    status_registry,
)
from gateway.services.passports import (
    CONSOLE_ADMIN,
    IssuedPassport,
    authenticate,
    change_status,
    check_idempotency_key,
    console_principal,
    credential_claims,
    find_passport,
    issue_passport,
    list_passports,
    passport_credentials,
    passport_gaps,
    passport_summary,
)
from gateway.services.whitelist import import_whitelist, instance_whitelist
from gateway.store.tables import PASSPORT_STATUSES

__all__ = [
    "BULK_STATUS_CHUNK",
    "CONSOLE_ADMIN",
    "PASSPORT_STATUSES",
    "PROOF_FORMATS",
    "STATUS_LIST_URL",
    "AuditCheck",
    "EvidencePackage",
    "Instance",
    "IssuedPassport",
    "PassportDraft",
    "StatusPool",
    "audit_entries",
    "authenticate",
    "change_status",
    "check_audit",
    "check_idempotency_key",
    "console_principal",
    "credential_claims",
    "decode_code",
    "draft_passport",
    "entry_dict",
    "evidence_package",
    "find_passport",
    "import_whitelist",
    "instance_whitelist",
    "issue_credential",
    "issue_passport",
    "list_passports",
    "local_status_source",
    "open_instance",
    "passport_credentials",
    "passport_gaps",
    "passport_summary",
    "pinned_context",
    "prepare_instance",
    "require_issuer",
    "sign_passport",
    "status_list_credential",
    "status_registry",
    "verify_credential",
]
