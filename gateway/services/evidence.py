"""Evidence packages for inspections: one ZIP per passport holding what an inspector needs
to check how it was made (the exact mapping version, the policy table, the credentials as
issued, the current status and its status list bits, the compliance findings, the
passport's audit events) and a manifest with the SHA-256 of every file.

The package is a function of the passport's stored state and of what the reader may see
only: the same passport gives the same bytes every time to readers of one entitlement
(fixed file order, ZIP timestamps and permissions, sorted-key JSON, no generation time),
so two copies can be compared by their hash. The issuer's package holds every
credential; an authority's only those of the Annex XIII points it may read (never point
4), with its gap report cut alike. The package also carries the passport's disclosure
log, and exporting it to a party other than the issuing tenant is itself a disclosure.

The national record itself is **not** included, only its SHA-256: the record holds what
the cross-border policy keeps in China (VIN, owner, location), and its policy-redacted
form would still carry aggregate-only inputs such as raw telemetry, which may leave only
as aggregates. What left China is exactly the credentials in the package; a Chinese
authority holding the record checks it against the hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway import annex_xiii, auth
from gateway.access import disclosure
from gateway.auth import Principal
from gateway.credentials.claims import credential_claims, status_entries
from gateway.errors import Conflict, NotFound
from gateway.mapping import loader
from gateway.mapping.sssom import read_sssom
from gateway.paths import MAPPINGS_DIR
from gateway.policy.identifiers import check_export, identifying_values
from gateway.policy.table import TABLES_DIR
from gateway.services import access
from gateway.services.access import Entitlement
from gateway.services.audit import entry_dict
from gateway.services.instance import Instance
from gateway.services.passports import stored_credential
from gateway.store import AuditLog, MappingVersions, Passports, StatusLists, Tenants
from gateway.store.passports import StoredPassport
from gateway.store.tables import utcnow

#: Format name and version of the package layout, in ``manifest.json``.
EVIDENCE_FORMAT = "cn-eu-battery-evidence/1"
#: Every member's timestamp: the earliest a ZIP header can hold, so nothing depends on
#: when a package was made.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = (stat.S_IFREG | 0o644) << 16
_CHECK_SCRIPT = Path(__file__).with_name("evidence_check.py")
# Audit events read per query while collecting a passport's events.
_PAGE = 1000


@dataclass(frozen=True)
class EvidencePackage:
    """A built package.

    :ivar passport_id: the passport it documents.
    :ivar battery_code: its battery code.
    :ivar data: the ZIP file's bytes.
    """

    passport_id: str
    battery_code: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def filename(self) -> str:
        return f"evidence-{self.battery_code}.zip"


def _json(value: Any) -> bytes:
    text = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, separators=(",", ": "))
    return (text + "\n").encode("utf-8")


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    """A ZIP of ``files`` in the order given, with fixed metadata.

    Members are stored, not deflated: deflate output may differ between zlib builds, and
    two gateways sharing one database must produce identical packages.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # Unix, so external_attr holds the mode
            info.external_attr = _FILE_MODE
            archive.writestr(info, content)
    return buffer.getvalue()


def _mapping_text(session: Any, passport: StoredPassport) -> tuple[str, bytes]:
    ref = f"{passport.mapping_set}@{passport.mapping_version}"
    if ref in loader.available():
        path = MAPPINGS_DIR / passport.mapping_set / f"{passport.mapping_version}{loader.SUFFIX}"
        text = path.read_text(encoding="utf-8")
    else:
        text = MappingVersions(session).get(passport.mapping_set, passport.mapping_version).table
    if read_sssom(text).content_hash != passport.mapping_hash:
        raise Conflict(
            f"mapping {ref} no longer has the hash {passport.mapping_hash} the passport "
            "was made with; the mapping file was changed after publication",
            pointer="/mapping",
        )
    name = f"mapping/{passport.mapping_set}/{passport.mapping_version}{loader.SUFFIX}"
    return name, text.encode("utf-8")


def _policy_file(policy_ref: str | None) -> tuple[str, bytes] | None:
    if not policy_ref:
        return None
    name, _, version = policy_ref.partition("@")
    path = TABLES_DIR / f"{name}-{version}.csv"
    if not path.is_file():
        raise NotFound(
            f"policy table {policy_ref} is not shipped with this gateway", pointer="/policy"
        )
    return f"policy/{path.name}", path.read_bytes()


def _readme(passport: StoredPassport, granted: Entitlement) -> bytes:
    points = annex_xiii.format_points(granted.points)
    return f"""Evidence package of battery passport {passport.id}
Battery code (GB/T 34014): {passport.battery_code}
Layout: {EVIDENCE_FORMAT}
Made for: audience {granted.audience} (Annex XIII points {points}, access table
{granted.table})

What is in it
  manifest.json   SHA-256 and size of every other file
  check.py        checks this package (Python 3.8+, standard library only)
  passport.json   the passport: status, mapping and policy used, SHA-256 of the
                  national record, its credentials and where each file is
  status.json     current status and the bit of every status list entry of every
                  credential (W3C Bitstring Status List: 1 = revoked / suspended)
  gaps.json       the gap report made at conversion, with the China-side compliance
                  findings in its "national" block (for an authority: the rows of the
                  points it may read)
  audit.json      the audit events of this passport, with their hash chain fields
  disclosures.json  every response that gave point 2, 3 or 4 data of this passport to
                  a party other than its issuing tenant, and the access grants named
  mapping/        the mapping version used (SSSOM TSV), exactly as published
  policy/         the cross-border data policy table used (CSV)
  credentials/    the credentials as issued, one per Annex XIII point (section) the
                  package's reader may see; passport.json lists any left out

The national record is not included: it holds data the cross-border policy keeps in
China. passport.json gives its SHA-256 over its canonical JSON (keys sorted, separators
"," and ":", UTF-8, non-ASCII characters unescaped); whoever holds the record can
recompute it.

How to check it
  1. Files: python3 check.py          (from the folder this package was unzipped into)
     or compare `sha256sum FILE` with manifest.json by hand.
     The package is byte-identical every time it is exported for the same passport
     state, so two copies can also be compared by the SHA-256 of the ZIP file.
  2. Audit events: for each event of audit.json,
       sha256(prev_hash + canonical JSON of {{at, actor, action, subject, data}})
     must equal its "hash" (check.py does this). The events of one passport are not
     adjacent in the instance's log: to see that they are part of an unbroken chain, the
     operator runs `gateway audit verify` and `gateway audit list --json --subject
     {passport.id}`, whose hashes must be the ones here.
  3. Credentials: verify each file of credentials/ with any W3C VC 2.0 verifier
     (Data Integrity eddsa-rdfc-2022 or vc+jwt), e.g. `gateway verify FILE`, giving a
     did:web issuer's DID document (https://HOST/.well-known/did.json) with
     --did-document. Each credential names the mapping set, version and hash of
     mapping/.
  4. Status: status.json gives the bits at export time; the live lists are at the
     statusListCredential URL of each entry.
""".encode()


def evidence_package(instance: Instance, code: str, principal: Principal | None) -> EvidencePackage:
    """Build the evidence package of a passport, for the issuing exporter and admins
    (every credential) and authorities (the Annex XIII points they may read), and record
    the export in the audit log (and in the disclosure log when it is one).

    The export event's subject is ``evidence:<passport id>``, not the passport, so that
    exporting does not change the next package.

    :param code: the battery code.
    :param principal: the caller (:data:`~gateway.auth.CONSOLE_ADMIN` from
        the console).
    :returns: the package.
    :raises Unauthorized: no caller. :raises Forbidden: anyone else.
    :raises NotFound: no passport for this code.
    :raises Conflict: the mapping version no longer has the hash the passport names.
    """
    instance.passport_id(code)  # an unprintable code has no passport, whoever asks
    auth.require(principal, True, "export an evidence package")
    with instance.db.reading() as session:
        passport = instance.passport(session, code)
        granted = access.entitlement(session, passport, principal, utcnow())
        caller = auth.require(
            principal, access.may_inspect(granted), "export another tenant's evidence package"
        )
        files, sections = _files(session, passport, granted)
    package = EvidencePackage(passport.id, passport.battery_code, _zip(files))
    with instance.db.transaction() as session:
        AuditLog(session).append(
            auth.audit_actor(caller),
            "evidence.exported",
            f"evidence:{passport.id}",
            {"sha256": package.sha256, "bytes": len(package.data)},
        )
        access.record_in(session, passport, caller, granted, sections, disclosure.EVIDENCE)
    return package


def _disclosures(session: Any, passport: StoredPassport) -> dict[str, Any]:
    entries, grants = access.passport_disclosures(session, passport.id)
    return {
        "passport": passport.id,
        "logged": "responses that gave Annex XIII point 2, 3 or 4 data to a party other "
        "than the issuing tenant",
        "entries": [e.as_json() for e in entries],
        # Without "state", which changes with the clock: the package must not.
        "grants": [{k: v for k, v in g.as_json().items() if k != "state"} for g in grants],
    }


def _files(
    session: Any, passport: StoredPassport, granted: Entitlement
) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The package's files in their fixed order, ``manifest.json`` first, and the
    sections whose credentials it holds."""
    tenant = Tenants(session).get_by_id(passport.tenant_id).name
    every = Passports(session).credentials(passport.id)
    stored = [c for c in every if granted.may_read(c.access_group)]
    left_out = sorted({c.access_group for c in every} - {c.access_group for c in stored})
    order: dict[str, int] = {name: i for i, name in enumerate(annex_xiii.ALL_SECTIONS)}
    stored.sort(key=lambda c: (order.get(c.access_group, len(order)), c.format, c.id))
    lists = StatusLists(session)
    credential_files: list[tuple[str, bytes]] = []
    listed, entries = [], []
    for cred in stored:
        suffix = "vc.jwt" if cred.format == "jwt" else "vc.jsonld"
        name = f"credentials/{cred.access_group}.{suffix}"
        credential_files.append((name, cred.body.encode("utf-8")))
        listed.append(
            {"id": cred.id, "access_group": cred.access_group, "format": cred.format, "file": name}
        )
        for item in status_entries(credential_claims(stored_credential(cred))):
            url, index = str(item["statusListCredential"]), int(item["statusListIndex"])
            entries.append(
                {
                    "credential": cred.id,
                    "access_group": cred.access_group,
                    "statusPurpose": item.get("statusPurpose"),
                    "statusListCredential": url,
                    "statusListIndex": index,
                    "bit": int(lists.bit(url, index)),
                }
            )
    events: list[dict[str, Any]] = []
    log = AuditLog(session)
    after = 0
    while page := log.entries(subject=passport.id, after_id=after, limit=_PAGE):
        events.extend(entry_dict(e) for e in page)
        after = page[-1].id
    policy = passport.gaps.get("policy") or {}
    mapping_name, mapping_bytes = _mapping_text(session, passport)
    policy_file = _policy_file(policy.get("policy"))
    summary = {
        "id": passport.id,
        "battery_code": passport.battery_code,
        "category": passport.category,
        "tenant": tenant,
        "status": passport.status,
        "superseded_by": passport.superseded_by,
        "predecessor": passport.predecessor_id,
        "created": _time(passport.created_at),
        "mapping": {
            "set": passport.mapping_set,
            "version": passport.mapping_version,
            "hash": passport.mapping_hash,
            "file": mapping_name,
        },
        "policy": {
            "ref": policy.get("policy"),
            "withheld": policy.get("withheld", []),
            "aggregated": policy.get("aggregated", []),
            "file": policy_file[0] if policy_file else None,
        },
        "record": {
            "sha256": passport.record_sha256,
            "included": False,
            "hashed_as": "canonical JSON: keys sorted, separators ',' and ':', "
            "UTF-8, non-ASCII characters unescaped",
        },
        "credentials": listed,
        # What the reader may see, not who it is: readers of one entitlement get the
        # same bytes (the issuing exporter, an admin, the console).
        "access": {
            "table": granted.table,
            "audience": granted.audience,
            "points": sorted(granted.points),
            "left_out": left_out,
        },
    }
    status = {
        "status": passport.status,
        "superseded_by": passport.superseded_by,
        "entries": entries,
    }
    audit = {
        "subject": passport.id,
        "hash": "sha256(prev_hash + canonical JSON of {at, actor, action, subject, data})",
        "entries": events,
    }
    files = [
        ("README.txt", _readme(passport, granted)),
        ("check.py", _CHECK_SCRIPT.read_bytes()),
        ("passport.json", _json(summary)),
        ("status.json", _json(status)),
        ("gaps.json", _json(access.readable_gaps(passport.gaps, granted))),
        ("audit.json", _json(audit)),
        ("disclosures.json", _json(_disclosures(session, passport))),
        (mapping_name, mapping_bytes),
        *([policy_file] if policy_file else []),
        *credential_files,
    ]
    manifest = {
        "format": EVIDENCE_FORMAT,
        "passport": passport.id,
        "battery_code": passport.battery_code,
        "files": [
            {"path": name, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
            for name, content in files
        ],
    }
    package = [("manifest.json", _json(manifest)), *files]
    values = _identifying(passport)
    for name, content in package:
        check_export(f"evidence package {name}", content, values)
    return package, sorted({c.access_group for c in stored})


def _identifying(passport: StoredPassport) -> dict[str, str]:
    """What the package must not carry: the record's identifying values, opened through
    the store (a purged record has none left to carry; one whose key is lost refuses)."""
    return identifying_values(passport.record)
