from __future__ import annotations

import hashlib
import json

from gateway.paths import CONTEXTS_DIR, FIXTURES_DIR

DERIVED = FIXTURES_DIR / "vectors" / "derived"
EXAMPLE_CONTEXT = DERIVED / "contexts/battery-passport-example-v1.jsonld"
W3C_EXAMPLES = DERIVED / "w3c/w3c-vc-data-model/contexts/credentials-examples-v2.jsonld"
CONTEXTS = [
    "--context",
    f"https://battery-passport.example/contexts/v1={EXAMPLE_CONTEXT}",
    "--context",
    f"https://www.w3.org/ns/credentials/examples/v2={W3C_EXAMPLES}",
]


def test_readable_verdicts_and_exit_code(runner, tmp_path) -> None:
    args = [
        "verify",
        str(DERIVED / "di/battery.json"),
        str(DERIVED / "di/battery-expired.json"),
        "--status-list",
        str(DERIVED / "status/status-list-1.json"),
        "--now",
        "2025-06-01T00:00:00Z",
        *CONTEXTS,
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("VERIFIED") and "battery.json" in lines[0]
    # No trust list: the issuer is shown as not evaluated and unknown, never as trusted.
    assert lines[1].startswith("  ? issuer.trust: not evaluated")
    assert lines[2].startswith("  issuer unknown")
    assert lines[3].startswith("NOT VERIFIED") and "battery-expired.json" in lines[3]
    assert lines[4].startswith("  x validity: expired")
    ok = runner.invoke(args=args[:2] + args[3:])
    assert ok.exit_code == 0, ok.output


def test_bad_context_option_is_a_usage_error(runner, tmp_path) -> None:
    result = runner.invoke(
        args=["verify", str(DERIVED / "di/battery.json"), "--context", "no-equals-sign"]
    )
    assert result.exit_code == 2 and "URL=FILE" in result.output


def test_contexts_export(runner, tmp_path) -> None:
    result = runner.invoke(args=["contexts", "export", str(tmp_path / "ctx")])
    assert result.exit_code == 0, result.output
    index = json.loads((tmp_path / "ctx/index.json").read_text())
    pinned = json.loads((CONTEXTS_DIR / "index.json").read_text())
    assert set(index) == set(pinned)
    for url, file in index.items():
        digest = hashlib.sha256((tmp_path / "ctx" / file).read_bytes()).hexdigest()
        assert digest == pinned[url]["sha256"]
