"""The issuer's Ed25519 signing keys, kept as JWK files in the instance folder.

``keys/keys.json`` lists every key (newest last) with its verification method id, its
controller DID and whether it is ``active`` or ``retired``; each private key is a JWK
file readable by its owner only (mode 0600). Generating a key retires the previous
active one: retired keys are never used to sign again but stay in the ``did:web``
document, so the credentials they signed keep verifying.

A ``did:web`` key is named ``<did>#<JWK thumbprint>`` (RFC 7638), a ``did:key`` key
``did:key:z6Mk...#z6Mk...``. The gateway's own DID document is also written to
``did/`` in the instance folder, where the verifier finds it without the network.

An instance has two key stores. The passport store (``keys/``, DID ``did:web:<host>``)
signs passports, status lists and nothing else. The VC API store (``keys/vc-api/``, DID
``did:web:<host>:vc-api``, document at ``/vc-api/did.json``) signs whatever the generic
``POST /credentials/issue`` route is given, so nothing signed there can pass for a
passport or a status list of this gateway with a verifier that checks the issuer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk

from gateway.credentials import multikey
from gateway.credentials.did import VerificationMethod, did_document, did_web, public_jwk
from gateway.credentials.model import format_datetime
from gateway.errors import SigningKeyError
from gateway.settings import Settings

INDEX = "keys.json"
METHODS = ("web", "key")
#: The VC API store's folder under the keys folder, and its DID path (``did:web:<host>:vc-api``).
VC_API = "vc-api"


@dataclass(frozen=True)
class KeyRecord:
    """One signing key as listed in the index (no private part).

    :param kid: the verification method id, also the JWS ``kid``.
    :param controller: the issuer DID that controls the key.
    :param created: when the key was made (dateTimeStamp).
    :param status: ``active`` (signs) or ``retired`` (verifies old credentials only).
    :param file: the private JWK file, relative to the keys folder.
    :param public_jwk: the public key.
    """

    kid: str
    controller: str
    created: str
    status: str
    file: str
    public_jwk: dict[str, str] = field(hash=False)

    def verification_method(self) -> VerificationMethod:
        """The key as a verification method."""
        return VerificationMethod(self.kid, self.controller, self.public_jwk)

    def as_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "controller": self.controller,
            "created": self.created,
            "status": self.status,
            "file": self.file,
            "publicJwk": self.public_jwk,
        }


@dataclass(frozen=True)
class SigningKey:
    """What an issuer needs to sign: the private key, its method id and the issuer DID."""

    kid: str
    issuer: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)


def _write_private(path: Path, text: str) -> None:
    # O_EXCL: never overwrite a key; 0600 from the start, not chmod after the write.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


class KeyStore:
    """Signing keys of one instance.

    :param keys_dir: where the index and private JWK files live (``Settings.keys_dir``).
    :param base_url: the gateway's public base URL; its ``did:web`` is the issuer DID.
    :param did_dir: where the gateway's own DID document is written for the verifier.
    :param did_path: a path under the base URL's DID (``vc-api`` gives
        ``did:web:<host>:vc-api``); empty for the passport DID.
    """

    def __init__(
        self, keys_dir: Path, base_url: str, did_dir: Path | None = None, did_path: str = ""
    ) -> None:
        self.keys_dir = Path(keys_dir)
        self.base_url = base_url
        self.did_dir = did_dir
        self.did_path = did_path

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyStore:
        """The passport key store of the instance ``settings`` describe."""
        return cls(settings.keys_dir, settings.base_url, settings.home / "did")

    @classmethod
    def vc_api(cls, settings: Settings) -> KeyStore:
        """The key store of the generic VC API issue route (its own key and DID)."""
        return cls(
            settings.keys_dir / VC_API, settings.base_url, settings.home / "did", did_path=VC_API
        )

    @property
    def did(self) -> str:
        """The store's ``did:web`` DID: the gateway's, or the one under ``did_path``."""
        base = did_web(self.base_url)
        return f"{base}:{self.did_path}" if self.did_path else base

    def records(self) -> list[KeyRecord]:
        """Every key, oldest first.

        :raises SigningKeyError: the index is unreadable.
        """
        path = self.keys_dir / INDEX
        if not path.is_file():
            return []
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))["keys"]
            return [
                KeyRecord(
                    r["kid"],
                    r["controller"],
                    r["created"],
                    r["status"],
                    r["file"],
                    dict(r["publicJwk"]),
                )
                for r in rows
            ]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SigningKeyError(f"{path}: key index unreadable ({e})") from e

    def active(self) -> KeyRecord:
        """The key that signs.

        :raises SigningKeyError: there is none (run ``gateway keys generate``).
        """
        for record in reversed(self.records()):
            if record.status == "active":
                return record
        raise SigningKeyError(
            f"no active signing key in {self.keys_dir}; run `gateway keys generate`"
        )

    def signing_key(self) -> SigningKey:
        """The active key with its private part, ready to sign.

        :raises SigningKeyError: no active key, or its file is missing or not Ed25519.
        """
        record = self.active()
        path = self.keys_dir / record.file
        try:
            key = jwk.JWK.from_json(path.read_text(encoding="utf-8"))
            private = key.get_op_key("sign")
        except (OSError, ValueError, jwk.InvalidJWKValue, jwk.InvalidJWKOperation) as e:
            raise SigningKeyError(f"{path}: private key unreadable ({e})") from e
        if not isinstance(private, Ed25519PrivateKey):
            raise SigningKeyError(f"{path}: not an Ed25519 private key")
        return SigningKey(record.kid, record.controller, private)

    def generate(self, *, method: str = "web", now: datetime | None = None) -> KeyRecord:
        """Make a new Ed25519 key and make it the active one; the previous one retires.

        :param method: ``web`` (a method of the gateway's did:web DID) or ``key`` (a
            did:key of its own, which also becomes the issuer DID).
        :param now: creation time (default: now).
        :returns: the new key's record.
        :raises SigningKeyError: unknown method.
        """
        if method not in METHODS:
            raise SigningKeyError(f"key method {method!r} is not one of {', '.join(METHODS)}")
        key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
        public = public_jwk(key.export_public(as_dict=True))
        if method == "web":
            controller = self.did
            kid = f"{controller}#{key.thumbprint()}"
        else:
            pub = key.get_op_key("verify")
            controller = multikey.did_key(pub)
            kid = multikey.did_key_verification_method(pub)
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        file = f"{key.thumbprint()}.private.jwk.json"
        private = {**key.export_private(as_dict=True), "kid": kid, "alg": "EdDSA"}
        _write_private(self.keys_dir / file, json.dumps(private, indent=2) + "\n")
        created = format_datetime(now or datetime.now(UTC))
        record = KeyRecord(kid, controller, created, "active", file, public)
        rows = [
            KeyRecord(r.kid, r.controller, r.created, "retired", r.file, r.public_jwk)
            for r in self.records()
        ]
        rows.append(record)
        index = {"keys": [r.as_json() for r in rows]}
        tmp = self.keys_dir / (INDEX + ".tmp")
        tmp.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.keys_dir / INDEX)
        self.write_did_document()
        return record

    def did_document(self, fmt: str = "multikey") -> dict[str, Any]:
        """The gateway's did:web document: every did:web key, active and retired.

        :param fmt: ``multikey`` or ``jwk`` verification methods.
        """
        did = self.did
        methods = [r.verification_method() for r in self.records() if r.controller == did]
        return did_document(did, methods, fmt)

    def write_did_document(self) -> Path | None:
        """Write the DID document to ``did_dir`` for local resolution.

        :returns: the file written, or None without a ``did_dir``.
        """
        if self.did_dir is None:
            return None
        self.did_dir.mkdir(parents=True, exist_ok=True)
        path = self.did_dir / (self.did.replace(":", "_") + ".json")
        path.write_text(json.dumps(self.did_document(), indent=2) + "\n", encoding="utf-8")
        return path
