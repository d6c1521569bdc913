"""DIDs the gateway issues with and resolves: ``did:key`` and ``did:web``.

``did:key`` resolves locally (its key is in the identifier). ``did:web`` (W3C CCG did:web
method) resolves from DID documents the operator pinned: files in the instance folder
(``did/*.json``, which ``gateway keys generate`` keeps up to date for the gateway's own
DID) or given on the command line. The network is used only when
``Settings.allow_network`` is true, over HTTPS, with a timeout and a size cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwcrypto.jwk import JWK

from gateway import jsontext
from gateway.credentials import base64url, multikey
from gateway.errors import CredentialError, DidResolutionError
from gateway.jsontext import JsonTextError
from gateway.serving import TURN
from gateway.vocab.loader import MULTIKEY_V1

DID_V1 = "https://www.w3.org/ns/did/v1"
JWK_V1 = "https://w3id.org/security/jwk/v1"
#: did:key documents list their one key under every relationship (did:key 0.7 §3.1.2).
RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityDelegation",
    "capabilityInvocation",
)
MAX_DID_DOCUMENT_BYTES = 256 * 1024
#: Longest verification method URL or JWS kid resolved; a did:key one is about 110
#: characters, a did:web one with a path a few hundred.
MAX_REFERENCE_CHARS = 2048
NETWORK_TIMEOUT_S = 5.0
_PUBLIC_JWK_MEMBERS = {"OKP": ("kty", "crv", "x"), "EC": ("kty", "crv", "x", "y")}


def ed25519_public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The public JWK (RFC 8037) of an Ed25519 key: ``{"kty": "OKP", "crv": "Ed25519", "x"}``."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64url.encode(raw)}


def public_jwk(members: Mapping[str, Any]) -> dict[str, str]:
    """Only the public members of a JWK (drops ``d`` and key metadata).

    :raises CredentialError: the key type is not OKP or EC, or a member is missing.
    """
    kty = members.get("kty")
    if kty not in _PUBLIC_JWK_MEMBERS:
        raise CredentialError(f"JWK kty {kty!r} is not supported (OKP or EC)", pointer="/kty")
    out = {}
    for name in _PUBLIC_JWK_MEMBERS[kty]:
        if not isinstance(members.get(name), str):
            raise CredentialError(f"JWK lacks {name!r}", pointer=f"/{name}")
        out[name] = members[name]
    return out


@dataclass(frozen=True)
class VerificationMethod:
    """A public key and who controls it.

    :param id: the verification method URL (``did:...#frag``); empty for a bare JWK the
        caller vouches for, which then stands for whatever method a credential names.
    :param controller: the DID (or URL) that controls the key.
    :param jwk: the public key as a JWK (public members only).
    """

    id: str
    controller: str
    jwk: Mapping[str, str] = field(hash=False)
    kid: str = ""

    @classmethod
    def from_ed25519(cls, vm_id: str, controller: str, key: Ed25519PublicKey) -> VerificationMethod:
        """A method for an Ed25519 key."""
        return cls(vm_id, controller, ed25519_public_jwk(key))

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], *, base: str = "") -> VerificationMethod:
        """Read a verification method object (``Multikey``, ``JsonWebKey``,
        ``Ed25519VerificationKey2020``) or a bare public JWK.

        :param obj: the parsed JSON.
        :param base: the DID a relative id (``#key-1``) is resolved against.
        :raises CredentialError: no usable public key in ``obj``.
        """
        if "kty" in obj:
            found = obj.get("kid")
            kid = found if isinstance(found, str) else ""
            controller = kid.partition("#")[0] if kid.startswith("did:") else ""
            return cls(kid if controller else "", controller, public_jwk(obj), kid=kid)
        vm_id = obj.get("id")
        if not isinstance(vm_id, str) or not vm_id:
            raise CredentialError("verification method lacks an id", pointer="/id")
        if vm_id.startswith("#"):
            vm_id = base + vm_id
        controller = obj.get("controller", base)
        if not isinstance(controller, str):
            raise CredentialError(
                "verification method controller must be a URL", pointer="/controller"
            )
        if isinstance(obj.get("publicKeyJwk"), Mapping):
            members = obj["publicKeyJwk"]
            kid = members.get("kid") if isinstance(members.get("kid"), str) else ""
            return cls(vm_id, controller, public_jwk(members), kid=kid)
        if isinstance(obj.get("publicKeyMultibase"), str):
            key = multikey.public_key_from_multibase(obj["publicKeyMultibase"])
            return cls.from_ed25519(vm_id, controller, key)
        raise CredentialError(
            f"verification method {vm_id} has neither publicKeyJwk nor publicKeyMultibase"
        )

    def matches(self, reference: str) -> bool:
        """Whether a credential's ``verificationMethod`` / JWS ``kid`` names this key."""
        return not self.id or reference in (self.id, self.kid)

    def bound_to(self, reference: str) -> VerificationMethod:
        """This key under the name a credential used (for a bare JWK without id)."""
        if self.id:
            return self
        controller = self.controller or (reference.partition("#")[0] if "#" in reference else "")
        return VerificationMethod(reference, controller, self.jwk, kid=self.kid)

    def jose_key(self) -> JWK:
        """The key for jwcrypto."""
        return JWK(**self.jwk)

    def ed25519(self) -> Ed25519PublicKey:
        """The key as an Ed25519 public key (Data Integrity ``eddsa-*`` suites).

        :raises CredentialError: the key is not Ed25519.
        """
        if self.jwk.get("kty") != "OKP" or self.jwk.get("crv") != "Ed25519":
            raise CredentialError(f"verification method {self.id} is not an Ed25519 key")
        x = self.jwk["x"]
        if len(x) != 43:  # 32 bytes in unpadded base64url; checked before decoding
            raise CredentialError(f"verification method {self.id}: Ed25519 x is not 32 bytes")
        raw = base64url.decode(x, f"verification method {self.id}: x")
        if len(raw) != 32:
            raise CredentialError(f"verification method {self.id}: Ed25519 x is not 32 bytes")
        return Ed25519PublicKey.from_public_bytes(raw)

    def multibase(self) -> str:
        """The Multikey ``publicKeyMultibase`` of an Ed25519 key."""
        return multikey.public_key_multibase(self.ed25519())

    def as_json(self, fmt: str = "multikey") -> dict[str, Any]:
        """The method as a DID document entry.

        :param fmt: ``multikey`` (type Multikey, publicKeyMultibase) or ``jwk`` (type
            JsonWebKey, publicKeyJwk).
        """
        if fmt == "multikey":
            return {
                "id": self.id,
                "type": "Multikey",
                "controller": self.controller,
                "publicKeyMultibase": self.multibase(),
            }
        if fmt == "jwk":
            return {
                "id": self.id,
                "type": "JsonWebKey",
                "controller": self.controller,
                "publicKeyJwk": dict(self.jwk),
            }
        raise ValueError(f"unknown verification method format {fmt!r}")


def did_web(base_url: str) -> str:
    """The ``did:web`` DID of a base URL (did:web §3.1: port as ``%3A``, path as ``:``).

    :param base_url: e.g. ``https://gw.example:8443/eu``.
    :returns: e.g. ``did:web:gw.example%3A8443:eu``.
    :raises CredentialError: the URL has no host.
    """
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise CredentialError(f"base URL {base_url!r} has no host")
    host = parts.hostname + (f"%3A{parts.port}" if parts.port else "")
    path = [quote(p, safe="") for p in parts.path.split("/") if p]
    return ":".join(["did:web", host, *path])


def did_web_url(did: str) -> str:
    """The HTTPS URL of a ``did:web`` DID document (did:web §3.2 Read).

    :raises DidResolutionError: not a did:web DID.
    """
    if not did.startswith("did:web:"):
        raise DidResolutionError(f"{did!r} is not a did:web DID")
    host, *path = did[len("did:web:") :].split(":")
    host = unquote(host)
    tail = "/".join(unquote(p) for p in path) + "/did.json" if path else ".well-known/did.json"
    return f"https://{host}/{tail}"


def did_document(
    did: str, methods: Sequence[VerificationMethod], fmt: str = "multikey"
) -> dict[str, Any]:
    """A DID document listing ``methods`` as verification and assertion methods.

    Retired keys stay listed so credentials they signed keep verifying; only the
    key store decides which key signs.

    :param did: the DID.
    :param methods: the verification methods, oldest first.
    :param fmt: ``multikey`` or ``jwk``.
    """
    ids = [m.id for m in methods]
    return {
        "@context": [DID_V1, MULTIKEY_V1 if fmt == "multikey" else JWK_V1],
        "id": did,
        "verificationMethod": [m.as_json(fmt) for m in methods],
        "authentication": ids,
        "assertionMethod": ids,
    }


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 ``did:key`` (did:key 0.7 §3.1.2, Multikey form).

    :raises CredentialError: not an Ed25519 did:key.
    """
    key = multikey.public_key_from_did_key(did)
    vm = VerificationMethod.from_ed25519(multikey.did_key_verification_method(key), did, key)
    doc = {"@context": [DID_V1, MULTIKEY_V1], "id": did, "verificationMethod": [vm.as_json()]}
    doc.update({rel: [vm.id] for rel in RELATIONSHIPS})
    return doc


def _document_methods(doc: Mapping[str, Any], purpose: str) -> list[VerificationMethod]:
    did = doc.get("id")
    if not isinstance(did, str):
        raise DidResolutionError("DID document lacks an id")
    listed: dict[str, VerificationMethod] = {}
    for entry in doc.get("verificationMethod", []) or []:
        if isinstance(entry, Mapping):
            vm = VerificationMethod.from_json(entry, base=did)
            listed[vm.id] = vm
    out = []
    for ref in doc.get(purpose, []) or []:
        if isinstance(ref, Mapping):
            out.append(VerificationMethod.from_json(ref, base=did))
        elif isinstance(ref, str):
            ref = did + ref if ref.startswith("#") else ref
            if ref in listed:
                out.append(listed[ref])
    return out


class Resolver:
    """Resolves verification methods from the sources the operator allows.

    :param documents: pinned DID documents by DID.
    :param keys: keys given explicitly (``--key``); when any is given, only these are
        used, so a verifier can insist on one known key.
    :param allow_network: resolve unknown ``did:web`` DIDs over HTTPS.
    """

    def __init__(
        self,
        *,
        documents: Mapping[str, Mapping[str, Any]] | None = None,
        keys: Sequence[VerificationMethod] = (),
        allow_network: bool = False,
    ) -> None:
        self.documents = dict(documents or {})
        self.keys = tuple(keys)
        self.allow_network = allow_network

    @classmethod
    def from_files(
        cls,
        folders: Iterable[Path] = (),
        files: Iterable[Path] = (),
        *,
        keys: Sequence[VerificationMethod] = (),
        allow_network: bool = False,
    ) -> Resolver:
        """A resolver over the DID documents in ``folders`` (``*.json``) and ``files``.

        :raises DidResolutionError: a file is not a DID document.
        """
        paths = [p for folder in folders if folder.is_dir() for p in sorted(folder.glob("*.json"))]
        documents: dict[str, Mapping[str, Any]] = {}
        for path in [*paths, *files]:
            try:
                raw = Path(path).read_bytes()
                doc = jsontext.loads(raw, what="the DID document")
            except JsonTextError as e:
                where = jsontext.duplicate_pointer(raw) or ""
                raise DidResolutionError(
                    f"{path}: {where}{': ' if where else ''}{e.message}"
                ) from e
            except OSError as e:
                raise DidResolutionError(f"{path}: cannot read DID document ({e})") from e
            if not isinstance(doc, Mapping) or not isinstance(doc.get("id"), str):
                raise DidResolutionError(f"{path}: not a DID document (no id)")
            documents[doc["id"]] = doc
        return cls(documents=documents, keys=keys, allow_network=allow_network)

    def document(self, did: str) -> Mapping[str, Any]:
        """The DID document of ``did``.

        :raises DidResolutionError: the DID is not pinned, and cannot or may not be fetched.
        """
        if did.startswith("did:key:"):
            try:
                return did_key_document(did)
            except CredentialError as e:
                raise DidResolutionError(f"{did}: {e.detail}") from e
        if did in self.documents:
            return self.documents[did]
        if did.startswith("did:web:"):
            if not self.allow_network:
                raise DidResolutionError(
                    f"{did} is not among the pinned DID documents and network resolution "
                    "is off (allow_network)"
                )
            return self._fetch(did)
        raise DidResolutionError(f"DID method of {did!r} is not supported (did:key, did:web)")

    def resolve(self, reference: str, *, purpose: str = "assertionMethod") -> VerificationMethod:
        """The verification method a credential names, checked to serve ``purpose``.

        :param reference: ``verificationMethod`` of a proof or ``kid`` of a JWS.
        :param purpose: the verification relationship the method must be listed under.
        :raises DidResolutionError: not found, or not authorised for ``purpose``.
        """
        if not isinstance(reference, str) or not reference:
            raise DidResolutionError("verification method reference is missing")
        if len(reference) > MAX_REFERENCE_CHARS:
            raise DidResolutionError(
                f"verification method reference is longer than {MAX_REFERENCE_CHARS} characters"
            )
        if self.keys:
            for vm in self.keys:
                if vm.matches(reference):
                    return vm.bound_to(reference)
            raise DidResolutionError(f"{reference} is not one of the keys given to the verifier")
        did, sep, _ = reference.partition("#")
        if not sep or not did.startswith("did:"):
            raise DidResolutionError(f"{reference!r} is not a DID URL")
        try:
            methods = _document_methods(self.document(did), purpose)
        except CredentialError as e:
            raise DidResolutionError(f"{did}: {e.detail}") from e
        for vm in methods:
            if vm.id == reference:
                return vm
        raise DidResolutionError(f"{reference} is not listed under {purpose} in the DID document")

    def _fetch(self, did: str) -> Mapping[str, Any]:
        import requests  # only when the operator allows the network

        url = did_web_url(did)
        TURN.leave()  # a served request waits here without holding up the others
        try:
            with requests.get(
                url, timeout=NETWORK_TIMEOUT_S, stream=True, allow_redirects=False
            ) as response:
                if response.status_code != 200:
                    raise DidResolutionError(f"{url}: HTTP {response.status_code}")
                body = response.raw.read(MAX_DID_DOCUMENT_BYTES + 1, decode_content=True)
        except requests.RequestException as e:
            raise DidResolutionError(f"{url}: {e}") from e
        if len(body) > MAX_DID_DOCUMENT_BYTES:
            raise DidResolutionError(f"{url}: DID document larger than {MAX_DID_DOCUMENT_BYTES} B")
        try:
            doc = jsontext.loads(body, what="the DID document")
        except JsonTextError as e:
            raise DidResolutionError(f"{url}: {e.message}") from e
        if not isinstance(doc, Mapping) or doc.get("id") != did:
            raise DidResolutionError(f"{url}: document id does not equal {did}")
        self.documents[did] = doc
        return doc
