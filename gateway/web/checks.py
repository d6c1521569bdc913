"""Verification checks in plain words: one line per outcome, reasons in the page's language.

The verifier reports some thirty dotted checks (``proof.cryptosuite``, ``vc.typed-objects``,
``status.suspension``, ...), right for a machine and an auditor but not for an importer
at a border. A page sums them up in the outcomes a reader asks about (is the signature
good, is the key the issuer's, is it in its validity period, was it revoked, ...); the
individual checks stay one click away. The reasons the verifier writes for the common
checks are read back into messages of the page's catalog; any other reason is shown as
written, in English.

A revoked passport's credentials have both status bits set (a suspension entry also
reads as invalid after revocation, see ``gateway.store.passports.status_bit``), so the
status is one verdict, revoked winning over suspended, never both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.credentials.status_list import SUPERSEDED_PREFIX
from gateway.web.i18n import translate

#: The outcomes a reader asks about, in the order they are shown, with the checks
#: (an id, or the ids under it) each sums up.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("format", ("format", "input")),
    ("signature", ("proof", "jose")),
    ("vocabulary", ("jsonld",)),
    ("structure", ("vc",)),
    ("key", ("issuer.controller",)),
    ("validity", ("validity",)),
    ("status", ("status",)),
    ("issuer", ("issuer.trust",)),
    ("passport_issuer", ("issuer.passport",)),
    ("catalog", ("passport.vocabulary",)),
    ("mapping", ("passport.mapping",)),
    ("presentation", ("vp",)),
)
OTHER = "other"
REVOKED = "revoked"
SUPERSEDED = "superseded"
SUSPENDED = "suspended"

#: Reasons the verifier writes, read back into a message key; the named groups fill the
#: message's fields. First match wins; the pattern is tried on checks whose id starts
#: with the prefix.
_REASONS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (prefix, re.compile(pattern), key)
    for prefix, pattern, key in (
        ("", r"^not checked: (?P<check>[\w.-]+)$", "reason.not_checked"),
        ("proof.signature", r"signature does not match$", "reason.signature_mismatch"),
        ("jose.signature", r"^signature does not verify", "reason.signature_mismatch"),
        ("format", r"^Data Integrity$", "reason.format_di"),
        ("format", r"^vc\+jwt$", "reason.format_jwt"),
        ("format", r"^unsecured credential", "reason.unsecured"),
        ("validity", r"^valid at (?P<at>\S+)$", "reason.valid_at"),
        ("validity", r"^not valid yet: validFrom (?P<start>\S+) > \S+$", "reason.not_yet_valid"),
        ("validity", r"^expired: validUntil (?P<end>\S+) < \S+$", "reason.expired"),
        ("status", r"^no credentialStatus$", "reason.no_status"),
        ("status.revocation", r"^bit \d+ clear in ", "reason.not_revoked"),
        ("status.suspension", r"^bit \d+ clear in ", "reason.not_suspended"),
        ("status", r"^revoked: ", "reason.revoked"),
        ("status", r"^suspended: ", "reason.suspended"),
        ("status", r"^STATUS_RETRIEVAL_ERROR", "reason.status_unavailable"),
        ("issuer.controller", r" controls the key$", "reason.controls_key"),
        ("issuer.controller", r"is not the controller", "reason.not_controller"),
        ("issuer.trust", r"is this gateway's passport issuer$", "reason.own_issuer"),
        ("issuer.trust", r"^not evaluated: no trust list", "reason.no_trust_list"),
        ("issuer.trust", r" is not on the trust list$", "reason.not_on_trust_list"),
        ("issuer.trust", r" is on the trust list", "reason.on_trust_list"),
        ("issuer.passport", r"^a passport of this gateway", "reason.own_passport"),
        ("issuer.passport", r"^names a passport of this gateway", "reason.foreign_passport"),
    )
)


@dataclass(frozen=True)
class Outcome:
    """One line of a verification in plain words.

    :ivar name: the message key of what was checked (``outcome.signature``, ...).
    :ivar state: ``ok``, ``bad`` or ``na`` (not evaluated).
    :ivar reason: why, in the page's language where the reason is a common one.
    :ivar reason_lang: ``"en"`` when the reason is the verifier's English text, else
        ``None`` (the page's language).
    :ivar verdict: for the status outcome, ``revoked`` or ``suspended`` when a status
        bit is set.
    """

    name: str
    state: str
    reason: str
    reason_lang: str | None = None
    verdict: str | None = None


def _in(check_id: str, prefix: str) -> bool:
    return check_id == prefix or check_id.startswith(prefix + ".")


def group_of(check_id: str) -> str:
    """The outcome a check belongs to (:data:`GROUPS`), else ``other``."""
    for name, prefixes in GROUPS:
        if any(_in(check_id, p) for p in prefixes):
            return name
    return OTHER


def check_name(check_id: str) -> str:
    """The plain name of one check in the page's language (its id if it has none)."""
    return translate("check." + check_id, default=check_id)


def reason_text(check: Mapping[str, Any]) -> tuple[str, str | None]:
    """A check's reason in the page's language when it is a common one.

    :returns: ``(text, None)`` for a translated reason, ``(text, "en")`` for the
        verifier's own words.
    """
    check_id = str(check.get("id", ""))
    reason = str(check.get("reason") or "")
    if not reason:
        return "", None
    for prefix, pattern, key in _REASONS:
        if prefix and not _in(check_id, prefix):
            continue
        found = pattern.search(reason)
        if found is None:
            continue
        values = found.groupdict()
        if "check" in values:
            values["check"] = check_name(values["check"])
        return translate(key, **values), None
    return reason, "en"


def status_verdict(checks: Sequence[Mapping[str, Any]]) -> str | None:
    """``revoked`` (``superseded`` when the passport was replaced by another) or
    ``suspended`` when the issuer set a status bit of the credential (revoked wins: a
    revoked passport has its suspension bit set too), else ``None``."""
    failed = [
        str(c.get("reason") or "")
        for c in checks
        if _in(str(c.get("id", "")), "status") and not c.get("ok")
    ]
    revoked = [r for r in failed if r.startswith(REVOKED + ":")]
    if revoked:
        replaced = any(f"({SUPERSEDED_PREFIX}" in r for r in revoked)
        return SUPERSEDED if replaced else REVOKED
    if any(r.startswith(SUSPENDED + ":") for r in failed):
        return SUSPENDED
    return None


@dataclass(frozen=True)
class Technical:
    """One check as the verifier ran it: its id, its plain name, its reason."""

    id: str
    name: str
    state: str
    reason: str
    reason_lang: str | None


def technical(checks: Sequence[Mapping[str, Any]]) -> list[Technical]:
    """Every check, in order, named and explained in the page's language; the
    suspension bit that comes with a revocation is said to, not reported as a second
    verdict."""
    revoked = status_verdict(checks) in (REVOKED, SUPERSEDED)
    out = []
    for check in checks:
        check_id = str(check.get("id", ""))
        state = _state([check])
        if revoked and check_id == "status.suspension" and not check.get("ok"):
            text, lang = translate("reason.implied_suspension"), None
        else:
            text, lang = reason_text(check)
        out.append(Technical(check_id, check_name(check_id), state, text, lang))
    return out


def _state(checks: Sequence[Mapping[str, Any]]) -> str:
    if any(not c.get("ok") for c in checks):
        return "bad"
    if all(c.get("evaluated") is False for c in checks):
        return "na"
    return "ok"


def outcomes(checks: Sequence[Mapping[str, Any]]) -> list[Outcome]:
    """The checks of a verification as one line per outcome, in :data:`GROUPS` order.

    An outcome fails when any of its checks fails and gives the first failure's reason;
    one that passed gives the note of its single check, if that is a common one.
    """
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for check in checks:
        grouped.setdefault(group_of(str(check.get("id", ""))), []).append(check)
    out = []
    for name in (*(n for n, _ in GROUPS), OTHER):
        members = grouped.get(name)
        if not members:
            continue
        state = _state(members)
        verdict = status_verdict(members) if name == "status" else None
        if verdict is not None:
            out.append(
                Outcome(f"outcome.{name}", state, translate(f"reason.{verdict}"), None, verdict)
            )
            continue
        failed = [c for c in members if not c.get("ok")]
        if failed:
            text, lang = reason_text(failed[0])
        elif len(members) == 1 or name == "status":
            text, lang = _passed_note(members)
        else:
            text, lang = "", None
        out.append(Outcome(f"outcome.{name}", state, text, lang))
    return out


def _passed_note(members: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
    notes = [reason_text(c) for c in members]
    if len(notes) == 1:
        return notes[0]
    # Several status entries that all passed: one sentence for all of them.
    if all(lang is None for _, lang in notes):
        return translate("reason.status_clear"), None
    return "", None
