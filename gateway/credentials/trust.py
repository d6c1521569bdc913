"""Trust in issuers: which DIDs a verifier accepts as issuers, as data.

A trust list holds DIDs (``did:web:maker.example``, ``did:key:z6Mk...``) and ``did:web``
domains (``maker.example`` trusts ``did:web:maker.example`` and every DID under it, such
as ``did:web:maker.example:batteries``). A verifier with no list has nothing to judge an
issuer by: its issuer check is *not evaluated*, never a pass, and the verdict says the
issuer is unknown. The gateway's own passport DID is always trusted by its own verifier
(``own``), since it is the gateway's key; that alone does not make a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from gateway.credentials.checks import Check
from gateway.errors import InvalidInput

KINDS = ("did", "domain")
#: Longest DID or domain accepted in a list (a did:web DID is a URL's host and path).
MAX_VALUE_LENGTH = 512
# DID Core §3.1 syntax, method names lower-case; no fragment, query or path.
_DID = re.compile(
    r"did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*"
    r"(?::(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+)*"
)
# A host name (RFC 1123 labels) with an optional port.
_DOMAIN = re.compile(
    r"(?=.{1,253}(?::|$))(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::[0-9]{1,5})?"
)

TRUSTED = "trusted"
UNTRUSTED = "untrusted"
UNKNOWN = "unknown"


def check_entry(kind: str, value: str) -> str:
    """Check a trust list entry and return it in its stored form.

    :param kind: ``did`` or ``domain``.
    :param value: the DID, or the host name (with an optional ``:port``) of ``did:web``
        issuers.
    :returns: the value (domains lower-cased).
    :raises InvalidInput: an unknown kind, or a value that is not a DID / host name; the
        message names the field, never the value.
    """
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", pointer="/kind")
    if not isinstance(value, str) or not 0 < len(value) <= MAX_VALUE_LENGTH:
        raise InvalidInput(f"{kind} must be 1 to {MAX_VALUE_LENGTH} characters", pointer=f"/{kind}")
    if kind == "did":
        if not _DID.fullmatch(value):
            raise InvalidInput(
                "did is not a DID (did:<method>:<id>, no fragment or path)", pointer="/did"
            )
        return value
    value = value.lower()
    if not _DOMAIN.fullmatch(value):
        raise InvalidInput("domain is not a host name (with an optional :port)", pointer="/domain")
    return value


def web_domain(did: str) -> str | None:
    """The host (with ``:port``) of a ``did:web`` DID, lower-cased; None for other DIDs."""
    if not did.startswith("did:web:"):
        return None
    host = did[len("did:web:") :].split(":", 1)[0]
    return unquote(host).lower() or None


@dataclass(frozen=True)
class TrustList:
    """The issuers a verifier accepts.

    :param dids: trusted issuer DIDs.
    :param domains: trusted ``did:web`` domains.
    :param own: DIDs trusted without a list entry (the gateway's own passport DID).
    :param sources: where each entry came from, by entry (``instance``, ``tenant:acme``,
        ``setting``, ``option``), for the reason text.
    """

    dids: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    own: frozenset[str] = frozenset()
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, entries: Iterable[str], own: Iterable[str] = (), source: str = "") -> TrustList:
        """A list from plain entries: DIDs (``did:...``) and domains (anything else)."""
        dids: set[str] = set()
        domains: set[str] = set()
        for entry in entries:
            (dids if entry.startswith("did:") else domains).add(
                entry if entry.startswith("did:") else entry.lower()
            )
        sources = dict.fromkeys([*dids, *domains], source) if source else {}
        return cls(frozenset(dids), frozenset(domains), frozenset(own), sources)

    def merged(self, other: TrustList) -> TrustList:
        """Both lists' entries."""
        return TrustList(
            self.dids | other.dids,
            self.domains | other.domains,
            self.own | other.own,
            {**other.sources, **self.sources},
        )

    @property
    def configured(self) -> bool:
        """Whether there is a list to judge by (own DIDs alone are not one)."""
        return bool(self.dids or self.domains)

    def verdict(self, issuer: str | None) -> str:
        """``trusted``, ``untrusted`` or ``unknown`` (no list configured)."""
        if isinstance(issuer, str) and issuer in self.own:
            return TRUSTED
        if not self.configured:
            return UNKNOWN
        if not isinstance(issuer, str):
            return UNTRUSTED
        if issuer in self.dids or web_domain(issuer) in self.domains:
            return TRUSTED
        return UNTRUSTED

    def check(self, issuer: str | None) -> Check:
        """The ``issuer.trust`` check: passed, failed, or not evaluated without a list."""
        verdict = self.verdict(issuer)
        if verdict == TRUSTED:
            if issuer in self.own:
                return Check("issuer.trust", True, f"{issuer} is this gateway's passport issuer")
            key = issuer if issuer in self.dids else web_domain(str(issuer)) or ""
            where = self.sources.get(key)
            return Check(
                "issuer.trust",
                True,
                f"{issuer} is on the trust list" + (f" ({where})" if where else ""),
            )
        if verdict == UNKNOWN:
            return Check(
                "issuer.trust",
                True,
                f"not evaluated: no trust list is configured, so the issuer {issuer} is unknown",
                evaluated=False,
            )
        return Check("issuer.trust", False, f"{issuer} is not on the trust list")
