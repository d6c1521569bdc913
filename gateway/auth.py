"""API keys and roles: who a caller is and what the caller may do.

Framework-free: the API layer reads the ``Authorization: Bearer <secret>`` header, the
store finds the key by its prefix and calls :func:`verify_secret`.

What a caller may *read* of a passport is not decided here but by the access table
(``gateway.access.table``) and the caller's grants (``gateway.services.access``):
Regulation (EU) 2023/1542 Art. 77(2) gives Annex XIII point 1 to the public, points 2
and 3 to notified bodies, market surveillance authorities and the Commission, and
points 2 and 4 to persons with a legitimate interest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from gateway.errors import Forbidden, Unauthorized

# Roles a key can carry.
EXPORTER = "exporter"  # converts its own records into passports
EDITOR = "editor"  # edits and publishes mapping tables
# EU importer / economic operator: reads point 1, and points 2 and 4 where granted.
IMPORTER = "importer"
AUTHORITY = "authority"  # market surveillance, notified body, Commission
ADMIN = "admin"  # everything
ROLES: tuple[str, ...] = (EXPORTER, EDITOR, IMPORTER, AUTHORITY, ADMIN)

PREFIX_LENGTH = 8
HASH_SCHEME = "sha256"
_SECRET_BYTES = 32
# Longest secret worth hashing; anything longer is not one of ours.
MAX_SECRET_LENGTH = 128


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    :ivar tenant_id: id of the caller's tenant.
    :ivar tenant_name: name of the caller's tenant.
    :ivar role: one of :data:`ROLES`.
    :ivar key_id: id of the API key used.
    """

    tenant_id: int
    tenant_name: str
    role: str
    key_id: int


#: The ``key_id`` of a principal acting from the instance's console (``gateway`` CLI),
#: where the operator holds the database itself and no API key is involved.
CONSOLE_KEY_ID = 0
#: The operator at the instance's console acting for no tenant: sees and may do all.
CONSOLE_ADMIN = Principal(tenant_id=0, tenant_name="", role=ADMIN, key_id=CONSOLE_KEY_ID)
#: The audit actor of what the gateway does on its own (no caller involved).
SYSTEM_ACTOR = "system"


def audit_actor(principal: Principal | None) -> str:
    """How the audit log names whoever acts; every audited change is named by this.

    :param principal: the caller, ``None`` for the gateway itself.
    :returns: ``tenant:NAME/key:ID`` for an API key (whether it calls the API or signs
        in to the pages), ``console`` or ``console/tenant:NAME`` for the operator at the
        instance's console, ``system`` for the gateway itself.
    """
    if principal is None:
        return SYSTEM_ACTOR
    if principal.key_id == CONSOLE_KEY_ID:
        return f"console/tenant:{principal.tenant_name}" if principal.tenant_id else "console"
    return f"tenant:{principal.tenant_name}/key:{principal.key_id}"


def require(principal: Principal | None, allowed: bool, what: str) -> Principal:
    """The caller, if it may do ``what``.

    :param allowed: the answer of one of the ``may_*`` checks for this caller.
    :param what: the action, for the error message ("issue passports").
    :returns: the caller, no longer ``None``.
    :raises Unauthorized: no caller. :raises Forbidden: ``allowed`` is false.
    """
    if principal is None:
        raise Unauthorized(f"{what} needs an API key: send Authorization: Bearer <key>")
    if not allowed:
        raise Forbidden(f"role {principal.role!r} may not {what}")
    return principal


def list_scope(principal: Principal) -> int | None:
    """Tenant whose stored passports a caller may list.

    :param principal: the caller.
    :returns: the caller's tenant id, or ``None`` for "all tenants" (authorities and
        admins); everyone else lists only their own tenant's passports, so a list never
        tells one maker what another has shipped.
    """
    if principal.role in (ADMIN, AUTHORITY):
        return None
    return principal.tenant_id


def may_issue(principal: Principal | None) -> bool:
    """Whether the caller may convert records and issue passports.

    :param principal: the caller, ``None`` when anonymous.
    :returns: ``True`` for exporters and admins.
    """
    return principal is not None and principal.role in (EXPORTER, ADMIN)


def may_change_status(principal: Principal | None, owner_tenant_id: int) -> bool:
    """Whether the caller may revoke, suspend or supersede a passport.

    :param principal: the caller, ``None`` when anonymous.
    :param owner_tenant_id: tenant that issued the passport.
    :returns: ``True`` for the owning exporter and for admins.
    """
    if principal is None:
        return False
    if principal.role == ADMIN:
        return True
    return principal.role == EXPORTER and principal.tenant_id == owner_tenant_id


def may_edit_mappings(principal: Principal | None) -> bool:
    """Whether the caller may create, edit and publish mapping versions.

    :param principal: the caller, ``None`` when anonymous.
    :returns: ``True`` for editors and admins.
    """
    return principal is not None and principal.role in (EDITOR, ADMIN)


def may_administer(principal: Principal | None) -> bool:
    """Whether the caller may manage tenants and keys.

    :param principal: the caller, ``None`` when anonymous.
    :returns: ``True`` for admins only.
    """
    return principal is not None and principal.role == ADMIN


def new_secret() -> str:
    """A fresh API key secret: 256 random bits, URL-safe base64 (43 characters).

    :returns: the secret, to be shown once and never stored.
    """
    return secrets.token_urlsafe(_SECRET_BYTES)


def key_prefix(secret: str) -> str:
    """The non-secret part of a key used to find it and to show it in lists.

    :param secret: the full secret.
    :returns: its first :data:`PREFIX_LENGTH` characters.
    """
    return secret[:PREFIX_LENGTH]


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """Hash a secret for storage as ``sha256$<salt hex>$<digest hex>``.

    A fast salted hash is enough here: the secrets are 256-bit random tokens, so there
    is nothing for a slow KDF (scrypt, argon2) to protect against a guessing attack, and
    it would cost every authenticated request its delay.

    :param secret: the full secret.
    :param salt: 16 random bytes; a new salt when omitted.
    :returns: the storable hash.
    """
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.sha256(salt + secret.encode("utf-8")).hexdigest()
    return f"{HASH_SCHEME}${salt.hex()}${digest}"


def verify_secret(secret: str, stored: str) -> bool:
    """Check a secret against a stored hash in constant time.

    :param secret: the presented secret.
    :param stored: a value made by :func:`hash_secret`.
    :returns: whether they match; ``False`` for a malformed stored value.
    """
    scheme, _, rest = stored.partition("$")
    salt_hex, _, digest_hex = rest.partition("$")
    if scheme != HASH_SCHEME or not digest_hex:
        return False
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    return hmac.compare_digest(hash_secret(secret, salt), stored)


def bearer_secret(header: str | None) -> str | None:
    """The secret of an ``Authorization: Bearer <secret>`` header (RFC 6750 §2.1).

    :param header: the header value, or ``None``.
    :returns: the secret, or ``None`` when the header is absent or not a bearer token.
    """
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_SECRET_LENGTH:
        return None
    return token
