"""Per-credential cost of Data Integrity (eddsa-rdfc-2022) issue and verify.

Prints one table: medians for a realistic battery passport credential with the gateway's
fast path (pyoxigraph RDFC-1.0) and with pyld only, raw Ed25519 sign/verify and vc+jwt
measured in the same run; the issue of a credential exactly as the gateway builds it
(the first of the ``ncm-ev-pack`` fixture's), whose canonical N-Quads are read straight
off the JSON (:mod:`gateway.credentials.direct_nquads`), beside the general path on the
same credential and the floor (emit + Ed25519); and, when ``node`` and ``npm`` are on
the PATH, Digital Bazaar's libraries (@digitalbazaar/vc + eddsa-rdfc-2022-cryptosuite)
on the same document, as ratios Node/gateway (DESIGN §7 wants >= 1.2). Signatures are
also checked across the two implementations.

Usage: ``.venv/bin/python bench/credentials.py [--runs N] [--no-node]``
The Node packages are installed once into ``bench/.node/`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from interpreter import described

from gateway.credentials import data_integrity as di
from gateway.credentials import rdfc
from gateway.credentials.direct_nquads import canonical_nquads
from gateway.credentials.model import build_credential
from gateway.credentials.multikey import (
    did_key,
    did_key_verification_method,
    public_key_from_did_key,
    public_key_multibase,
)
from gateway.records import read_record_file
from gateway.vocab.loader import (
    CREDENTIALS_V2,
    DATA_INTEGRITY_V2,
    MULTIKEY_V1,
    PASSPORT_V1,
    default_loader,
    pinned_contexts,
)

RECORD = Path(__file__).resolve().parent.parent / "fixtures" / "records" / "ncm-ev-pack.json"

NODE_DIR = Path(__file__).resolve().parent / ".node"
NODE_PACKAGES = [
    "@digitalbazaar/vc@7",
    "@digitalbazaar/data-integrity@2",
    "@digitalbazaar/eddsa-rdfc-2022-cryptosuite@1",
    "@digitalbazaar/ed25519-multikey@1",
    "jsonld@9",
]
SEED = bytes(range(32))
CREATED = "2025-06-01T00:00:00Z"


def passport_credential(issuer: str) -> dict[str, Any]:
    """A battery passport credential of about 270 triples, decimals as typed strings."""
    substances = [
        {
            "hazardousSubstanceIdentifier": f"CAS 7440-{48 + i:02d}-4",
            "hazardousSubstanceClass": ["Carc. 1B", "Repr. 1A", "STOT RE 1"][i % 3],
            "hazardousSubstanceConcentration": f"{0.05 + i / 100:.2f}",
            "hazardousSubstanceLocation": ["cathode", "anode", "electrolyte"][i % 3],
        }
        for i in range(16)
    ]
    events = [
        {
            "batteryStatus": ["original", "repurposed", "re-used", "remanufactured"][i % 4],
            "placedOnMarketDate": f"2025-0{1 + i % 9}-1{i % 9}",
            "stateOfHealth": f"{99 - 2.5 * i:.1f}",
            "numberOfFullCycles": 150 * i,
            "informationOnAccidents": f"事件 {i}: none reported / 无事故",
        }
        for i in range(14)
    ]
    subject: dict[str, Any] = {
        "id": "https://passports.example/gbt34014/031PECB0000001A1B2C3D4E5",
        "type": "BatteryPassport",
        "batteryCode": "031PECB0000001A1B2C3D4E5",
        "batteryPassportId": "https://passports.example/gbt34014/031PECB0000001A1B2C3D4E5",
        "batteryUniqueIdentifier": "031PECB0000001A1B2C3D4E5",
        "batteryModelIdentifier": "LFP-280Ah-PK",
        "batteryBatchNumber": "B2025-0617",
        "batterySerialNumber": "A1B2C3D4E5",
        "manufacturerIdentifier": "91320000MA1XXXXX0X",
        "manufacturerName": "宁德示例新能源科技有限公司",
        "manufacturerTradeName": "Example Energy",
        "manufacturerPostalAddress": "福建省宁德市蕉城区 1 号 / No. 1, Jiaocheng, Ningde",
        "manufacturerWebAddress": "https://battery-maker.example",
        "manufacturerEmail": "passport@battery-maker.example",
        "manufacturingPlace": "Ningde, CN",
        "manufacturingDate": "2025-03",
        "puttingIntoServiceDate": "2025-05",
        "warrantyPeriod": "2033-05",
        "batteryCategory": "EV",
        "batteryMass": "412.50",
        "batteryChemistry": "LFP",
        "criticalRawMaterials": ["lithium", "natural graphite", "phosphorus"],
        "carbonFootprintPerFu": "61.3",
        "cfShareRawMaterial": "38.2",
        "cfShareMainProduction": "17.9",
        "cfShareDistribution": "1.4",
        "cfShareEndOfLife": "3.8",
        "cfPerformanceClass": "B",
        "absoluteCarbonFootprint": 4250,
        "ratedCapacity": "280.0",
        "remainingCapacity": "271.4",
        "certifiedUsableBatteryEnergy": "71.68",
        "nominalVoltage": "256.0",
        "minimumVoltage": "200.0",
        "maximumVoltage": "292.0",
        "originalPowerCapability": "150.0",
        "maximumPermittedBatteryPower": "180.0",
        "initialRoundTripEfficiency": "95.5",
        "initialSelfDischargeRate": "2.1",
        "initialInternalResistancePack": "0.085",
        "expectedLifetimeCycles": 6000,
        "expectedLifetimeYears": "12",
        "cRateCycleLifeTest": "0.5",
        "depthOfDischargeCycleLifeTest": "80",
        "capacityThresholdForExhaustion": "70",
        "idleTemperatureLower": "-20",
        "idleTemperatureUpper": "45",
        "recycledCobaltPreConsumerShare": "0",
        "recycledLithiumPreConsumerShare": "4.0",
        "recycledNickelPreConsumerShare": "0",
        "recycledLeadPreConsumerShare": "0",
        "recycledLithiumPostConsumerShare": "2.5",
        "recycledNickelPostConsumerShare": "0",
        "recycledCobaltPostConsumerShare": "0",
        "recycledLeadPostConsumerShare": "0",
        "capacityFade": "3.1",
        "remainingUsableBatteryEnergy": "69.50",
        "stateOfCertifiedEnergy": "96.9",
        "stateOfCharge": "55",
        "remainingPowerCapability": "146.2",
        "powerFade": "2.5",
        "powerToEnergyRatio": "2.09",
        "roundTripEfficiency50pctCycleLife": "93.0",
        "remainingRoundTripEfficiency": "94.8",
        "roundTripEfficiencyFade": "0.7",
        "currentSelfDischargeRate": "2.3",
        "evolutionOfSelfDischarge": "0.2",
        "initialInternalResistanceCell": "0.00021",
        "initialInternalResistanceModule": "0.0042",
        "internalResistanceIncreasePack": "4.0",
        "currentInternalResistance": "0.0884",
        "energyThroughput": "21500",
        "capacityThroughput": "84000",
        "timeExtremeTempAbove": 36,
        "timeExtremeTempBelow": 12,
        "timeChargingExtremeTempAbove": 3,
        "timeChargingExtremeTempBelow": 0,
        "deepDischargeEvents": 0,
        "overchargeEvents": 1,
        "physicalDimensions": ["1650", "1120", "140"],
        "componentPartNumbers": "https://battery-maker.example/parts/LFP-280Ah-PK",
        "sparePartSources": "https://battery-maker.example/spares",
        "eolWastePreventionInfo": "https://battery-maker.example/eol/prevention",
        "eolSeparateCollectionInfo": "https://battery-maker.example/eol/collection",
        "eolCollectionTreatmentInfo": "https://battery-maker.example/eol/treatment",
        "renewableContentShare": "12.0",
        "dismantlingInformation": "https://battery-maker.example/dismantling/LFP-280Ah-PK",
        "safetyMeasures": "https://battery-maker.example/safety/LFP-280Ah-PK",
        "euDeclarationOfConformity": "https://battery-maker.example/doc/LFP-280Ah-PK.pdf",
        "separateCollectionSymbol": "https://battery-maker.example/labels/weee.svg",
        "extinguishingAgent": ["water", "class D powder"],
        "passportVersion": "1.0.0",
        "passportStatus": "active",
        "accessGroup": "public",
        "mappingSet": "cn-trace-to-eu-passport",
        "mappingVersion": "1.2.0",
        "mappingHash": "sha256-3f1a0c9d5b7e2a41c6d8e0f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2",
        "hazardousSubstances": substances,
        "thirdPartyAssurances": events,
    }
    return {
        "@context": [CREDENTIALS_V2, PASSPORT_V1],
        "id": "urn:uuid:6f1c2a34-0b7d-4c1e-9a55-3e0f1d2c4b6a",
        "type": ["VerifiableCredential", "BatteryPassportCredential"],
        "issuer": issuer,
        "validFrom": "2025-06-01T00:00:00Z",
        "validUntil": "2035-06-01T00:00:00Z",
        "credentialSubject": subject,
        "credentialStatus": {
            "id": "https://passports.example/status/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://passports.example/status/1",
        },
    }


def gateway_credential(issuer: str) -> dict[str, Any]:
    """The first credential of the ``ncm-ev-pack`` fixture, built as the gateway builds
    it (with a revocation and a suspension entry)."""
    from gateway.services import draft_passport

    draft = draft_passport(
        read_record_file(RECORD),
        mapping="cn-trace-to-eu-passport@1.0.0",
        base_url="https://passports.example",
    )
    section, document = next(iter(draft.documents.items()))
    status = [
        {
            "id": f"https://passports.example/status/{n}#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": "94567",
            "statusListCredential": f"https://passports.example/status/{n}",
        }
        for n, purpose in ((1, "revocation"), (2, "suspension"))
    ]
    return build_credential(
        document,
        issuer=issuer,
        passport_id=draft.conversion.passport_id,
        access_group=section,
        mapping=draft.gaps["mapping"],
        status=status,
        valid_from=CREATED,
    )


def median_ms(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of ``fn`` in milliseconds, after a short warm-up."""
    for _ in range(max(3, runs // 10)):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1e6


def measure_vc_jwt(
    document: dict[str, Any], key: Ed25519PrivateKey, kid: str, runs: int
) -> tuple[float, float, str]:
    """vc+jwt issue and verify medians with the gateway's ``jose`` module (``kid`` is a
    did:key method, resolved locally), beside plain jwcrypto compact JWS measured in the
    same run."""
    from datetime import UTC, datetime

    from gateway.credentials import jose as gateway_jose
    from gateway.credentials.did import Resolver

    resolver = Resolver()
    now = datetime.now(UTC)
    token = gateway_jose.sign_jwt(document, key, kid)
    assert gateway_jose.verify_jwt(token, resolver, now=now).credential is not None
    return (
        median_ms(lambda: gateway_jose.sign_jwt(document, key, kid), runs),
        median_ms(lambda: gateway_jose.verify_jwt(token, resolver, now=now), runs),
        "gateway.credentials.jose",
    )


def measure_jwcrypto(
    document: dict[str, Any], key: Ed25519PrivateKey, kid: str, runs: int
) -> tuple[float, float]:
    """The same compact JWS with jwcrypto alone, for reference."""
    import orjson
    from jwcrypto import jwk, jws

    private = jwk.JWK.from_pyca(key)
    public = jwk.JWK.from_pyca(key.public_key())
    header = orjson.dumps({"alg": "EdDSA", "typ": "vc+jwt", "kid": kid}).decode()

    def issue() -> str:
        token = jws.JWS(orjson.dumps(document))
        token.add_signature(private, alg="EdDSA", protected=header)
        return token.serialize(compact=True)

    compact = issue()

    def check() -> object:
        token = jws.JWS()
        token.deserialize(compact)
        token.verify(public, alg="EdDSA")
        return orjson.loads(token.payload)

    return median_ms(issue, runs), median_ms(check, runs)


NODE_SCRIPT = r"""
import {readFileSync, writeFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const key = await Ed25519Multikey.generate({
  id: input.vm, controller: input.did, seed: Uint8Array.from(Buffer.from(input.seed, 'hex'))
});
if(key.publicKeyMultibase !== input.publicKeyMultibase) {
  throw new Error('seed gave another key: ' + key.publicKeyMultibase);
}
const vmDoc = {
  '@context': 'https://w3id.org/security/multikey/v1', id: input.vm, type: 'Multikey',
  controller: input.did, publicKeyMultibase: input.publicKeyMultibase
};
const controllerDoc = {
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
  id: input.did, verificationMethod: [vmDoc], assertionMethod: [input.vm]
};
const documentLoader = async url => {
  if(url in input.contexts) {
    return {contextUrl: null, documentUrl: url, document: input.contexts[url]};
  }
  if(url === input.vm) return {contextUrl: null, documentUrl: url, document: vmDoc};
  if(url === input.did) return {contextUrl: null, documentUrl: url, document: controllerDoc};
  throw new Error('offline loader: ' + url);
};
const checkStatus = async () => ({verified: true});
const issue = () => vc.issue({
  credential: structuredClone(input.credential),
  suite: new DataIntegrityProof({signer: key.signer(), cryptosuite, date: input.created}),
  documentLoader
});
const verify = credential => vc.verifyCredential({
  credential, suite: new DataIntegrityProof({cryptosuite}), documentLoader, checkStatus
});
async function median(fn) {
  for(let i = 0; i < Math.max(3, input.runs / 10); i++) await fn();
  const times = [];
  for(let i = 0; i < input.runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
}
const signed = await issue();
const own = await verify(signed);
const theirs = await verify(input.signedByGateway);
const out = {
  issueMs: await median(issue),
  verifyMs: await median(() => verify(signed)),
  signed,
  verifiesOwn: own.verified,
  verifiesGateway: theirs.verified,
  gatewayError: theirs.verified ? null : String(theirs.error && theirs.error.errors || theirs.error)
};
writeFileSync(process.argv[3], JSON.stringify(out));
"""


def node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def ensure_node_packages() -> None:
    """Install the Digital Bazaar packages into ``bench/.node/`` once."""
    marker = NODE_DIR / "node_modules" / "@digitalbazaar" / "vc"
    if marker.exists():
        return
    NODE_DIR.mkdir(exist_ok=True)
    (NODE_DIR / "package.json").write_text('{"private": true, "type": "module"}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", *NODE_PACKAGES],
        cwd=NODE_DIR,
        check=True,
    )


def run_node(
    credential: dict[str, Any], signed_by_gateway: dict[str, Any], runs: int
) -> dict[str, Any]:
    ensure_node_packages()
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    script = NODE_DIR / "bench.mjs"
    script.write_text(NODE_SCRIPT)
    payload = {
        "credential": credential,
        "signedByGateway": signed_by_gateway,
        "contexts": {url: doc for url, doc in pinned_contexts().items()},
        "seed": SEED.hex(),
        "did": did_key(key.public_key()),
        "vm": did_key_verification_method(key.public_key()),
        "publicKeyMultibase": public_key_multibase(key.public_key()),
        "created": CREATED,
        "runs": runs,
    }
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
        src.write_text(json.dumps(payload))
        subprocess.run(["node", str(script), str(src), str(dst)], cwd=NODE_DIR, check=True)
        return json.loads(dst.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--no-node", action="store_true", help="skip the Node reference")
    args = parser.parse_args()
    print(described())
    runs = args.runs

    key = Ed25519PrivateKey.from_private_bytes(SEED)
    public = key.public_key()
    vm = did_key_verification_method(public)
    doc = passport_credential(did_key(public))
    # Pinned contexts only; DATA_INTEGRITY_V2 and MULTIKEY_V1 are there for the Node side.
    assert {DATA_INTEGRITY_V2, MULTIKEY_V1} <= set(pinned_contexts())
    triples = len(rdfc.canonicalize(doc).splitlines())
    fast_ok = rdfc.fast_path_blocker(doc, rdfc.default_loader()) is None
    assert rdfc.canonicalize(doc) == rdfc.canonicalize(doc, fast=False)

    signed = di.add_proof(doc, key, vm, created=CREATED)
    signed_pyld = di.add_proof(doc, key, vm, created=CREATED, fast=False)
    assert signed == signed_pyld, "fast path and pyld disagree"
    assert all(c.ok for c in di.verify_proof(signed, public_key_from_did_key))

    hash_data = bytes(64)
    signature = key.sign(hash_data)
    rows: list[tuple[str, float, float]] = [
        (
            "DI eddsa-rdfc-2022, gateway fast path",
            median_ms(lambda: di.add_proof(doc, key, vm, created=CREATED), runs),
            median_ms(lambda: di.verify_proof(signed, public_key_from_did_key), runs),
        ),
        (
            "DI eddsa-rdfc-2022, gateway pyld only",
            median_ms(lambda: di.add_proof(doc, key, vm, created=CREATED, fast=False), runs),
            median_ms(lambda: di.verify_proof(signed, public_key_from_did_key, fast=False), runs),
        ),
        (
            "RDFC-1.0 of the document alone, fast / pyld",
            median_ms(lambda: rdfc.canonicalize(doc), runs),
            median_ms(lambda: rdfc.canonicalize(doc, fast=False), runs),
        ),
        (
            "raw Ed25519 sign / verify (64 bytes)",
            median_ms(lambda: key.sign(hash_data), runs * 10),
            median_ms(lambda: public.verify(signature, hash_data), runs * 10),
        ),
    ]
    own = gateway_credential(did_key(public))
    own_triples = len(rdfc.canonicalize(own).splitlines())
    emitted = canonical_nquads(own, default_loader())
    assert emitted is not None and emitted == rdfc.canonicalize(own, fast=False)
    own_signed = di.add_proof(own, key, vm, created=CREATED)
    assert own_signed == di.add_proof(own, key, vm, created=CREATED, fast=False)
    rows += [
        (
            f"DI, the gateway's own credential ({own_triples} triples): direct N-Quads",
            median_ms(lambda: di.add_proof(own, key, vm, created=CREATED), runs),
            median_ms(lambda: di.verify_proof(own_signed, public_key_from_did_key), runs),
        ),
        (
            "its N-Quads by the general path (pyoxigraph, untrusted) + Ed25519",
            median_ms(lambda: key.sign(rdfc.canonicalize(own, untrusted=True).encode()), runs),
            float("nan"),
        ),
        (
            "floor: its direct N-Quads + Ed25519 sign",
            median_ms(lambda: key.sign(canonical_nquads(own, default_loader()).encode()), runs),
            float("nan"),
        ),
    ]
    jwt_issue, jwt_verify, jwt_impl = measure_vc_jwt(doc, key, vm, runs)
    rows.append((f"vc+jwt ({jwt_impl})", jwt_issue, jwt_verify))
    rows.append(("compact JWS, jwcrypto alone", *measure_jwcrypto(doc, key, vm, runs)))

    node: dict[str, Any] | None = None
    if not args.no_node and node_available():
        try:
            node = run_node(doc, signed, runs)
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"Node reference skipped: {exc}", file=sys.stderr)
    if node is not None:
        rows.append(
            ("DI eddsa-rdfc-2022, Node @digitalbazaar/vc", node["issueMs"], node["verifyMs"])
        )

    print(f"battery passport credential: {triples} triples, fast path eligible: {fast_ok}")
    print(f"{'pipeline':<66} {'issue ms':>9} {'verify ms':>10}")
    for name, issue, verify in rows:
        print(f"{name:<66} {issue:>9.3f} {verify:>10.3f}")
    if node is not None:
        fast_issue, fast_verify = rows[0][1], rows[0][2]
        pyld_issue, pyld_verify = rows[1][1], rows[1][2]
        print(
            f"ratio Node/gateway fast path: issue {node['issueMs'] / fast_issue:.2f}, "
            f"verify {node['verifyMs'] / fast_verify:.2f}   (target >= 1.2)"
        )
        print(
            f"ratio Node/gateway pyld only: issue {node['issueMs'] / pyld_issue:.2f}, "
            f"verify {node['verifyMs'] / pyld_verify:.2f}"
        )
        ours = all(c.ok for c in di.verify_proof(node["signed"], public_key_from_did_key))
        same = node["signed"]["proof"]["proofValue"] == signed["proof"]["proofValue"]
        print(
            f"interop: gateway verifies Node's credential: {ours}; Node verifies the "
            f"gateway's: {node['verifiesGateway']}; identical proofValue: {same}"
        )
        if node.get("gatewayError"):
            print(f"  Node said: {node['gatewayError']}")
    else:
        print("Node reference not run (node/npm missing or --no-node)")


if __name__ == "__main__":
    main()
