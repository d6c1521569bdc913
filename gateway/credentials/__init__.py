"""Verifiable Credentials: keys and DIDs, JSON-LD canonicalization, Data Integrity and
JOSE proofs, status lists, and the verifier that ties them together."""
