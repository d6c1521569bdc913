"""Every expected verdict of the reference manifests, through ``gateway verify``.

``fixtures/vectors/derived/manifest.json`` (fixtures made with Digital Bazaar's and
panva's Node.js libraries) and ``fixtures/vectors/w3c-vc-jose-cose-test-suite/manifest.json``
(the W3C suite's credential_jose verification cases). A case's ``contexts`` become
``--context URL=FILE``, ``now`` ``--now``, mode ``proof`` ``--proof-only``, ``jwk``
``--key`` and ``strict`` ``--strict``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.paths import FIXTURES_DIR

MANIFESTS = [
    FIXTURES_DIR / "vectors" / "derived" / "manifest.json",
    FIXTURES_DIR / "vectors" / "w3c-vc-jose-cose-test-suite" / "manifest.json",
]


def _cases() -> list:
    out = []
    for manifest in MANIFESTS:
        for case in json.loads(manifest.read_text(encoding="utf-8"))["cases"]:
            out.append(pytest.param(manifest.parent, case, id=case["id"]))
    return out


def cli_args(folder: Path, case: dict) -> list[str]:
    """The ``gateway verify`` arguments a manifest case stands for."""
    args = ["verify", "--json", str(folder / case["file"])]
    for url, file in case.get("contexts", {}).items():
        args += ["--context", f"{url}={folder / file}"]
    if case.get("now"):
        args += ["--now", case["now"]]
    if case.get("mode") == "proof":
        args.append("--proof-only")
    if case.get("jwk"):
        args += ["--key", str(folder / case["jwk"])]
    if case.get("strict"):
        args.append("--strict")
    return args


@pytest.mark.parametrize(("folder", "case"), _cases())
def test_expected_verdict(runner, folder: Path, case: dict, tmp_path: Path) -> None:
    result = runner.invoke(args=cli_args(folder, case))
    assert result.exit_code in (0, 1), result.output
    [verdict] = json.loads(result.output)
    failed = [c for c in verdict["checks"] if not c["ok"]]
    assert verdict["verified"] is case["expect"], f"{case['note']}: {failed}"
    assert (result.exit_code == 0) is case["expect"]
