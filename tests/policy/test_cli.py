"""``gateway approvals`` and ``gateway tenants policy`` at the console."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.helpers import APPROVAL, GatewayRunner


@pytest.fixture
def console(runner: GatewayRunner) -> GatewayRunner:
    assert runner.invoke(args=["init"]).exit_code == 0
    for name in ("acme", "beta"):
        assert runner.invoke(args=["tenants", "create", name]).exit_code == 0
    return runner


def _add(runner: GatewayRunner, *extra: object):
    return runner.invoke(
        args=[
            "approvals", "add", "--tenant", "acme", "--kind", APPROVAL["kind"],
            "--reference", APPROVAL["reference"], "--authority", APPROVAL["authority"],
            "--category", "state_of_health", "--category", "negative_events",
            "--from", "2026-01-01", "--until", "2099-12-31", *extra,
        ]
    )  # fmt: skip


def test_approvals_add_list_revoke(console, tmp_path):
    document = tmp_path / "approval.pdf"
    document.write_bytes(b"%PDF-1.7 approval")
    added = _add(console, "--document", document, "--json")
    assert added.exit_code == 0, added.output
    approval = json.loads(added.stdout)
    assert approval["documentSha256"] == hashlib.sha256(b"%PDF-1.7 approval").hexdigest()
    assert approval["categories"] == ["state_of_health", "negative_events"]
    assert approval["inForce"] is True and approval["addedBy"] == "console"

    listed = console.invoke(args=["approvals", "list", "--json"])
    assert [a["id"] for a in json.loads(listed.stdout)] == [approval["id"]]
    text = console.invoke(args=["approvals", "list", "--tenant", "acme"])
    assert APPROVAL["reference"] in text.stdout and "in force" in text.stdout
    assert console.invoke(args=["approvals", "list", "--tenant", "beta"]).stdout == ""

    wrong = console.invoke(args=["approvals", "revoke", approval["id"], "--tenant", "beta"])
    assert wrong.exit_code == 1 and "no export approval" in wrong.stderr
    revoked = console.invoke(
        args=["approvals", "revoke", approval["id"], "--tenant", "acme", "--json"]
    )
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(revoked.stdout)["inForce"] is False
    again = console.invoke(args=["approvals", "revoke", approval["id"], "--tenant", "acme"])
    assert again.exit_code == 1 and "already revoked" in again.stderr
    audit = console.invoke(args=["audit", "list", "--subject", f"approval:{approval['id']}"])
    assert "approval.added" in audit.stdout and "approval.revoked" in audit.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sha256", "abc"], "documentSha256"),
        ([], "--sha256"),
        (["--sha256", "5" * 64, "--until", "2025-12-31"], "validUntil"),
        (["--sha256", "5" * 64, "--category", "vin"], "vin"),
    ],
)
def test_a_malformed_approval_is_refused(console, extra, message):
    result = _add(console, *extra)
    assert result.exit_code != 0
    assert message in result.output
    assert console.invoke(args=["approvals", "list", "--json"]).stdout.strip() == "[]"


def test_an_unknown_tenant_is_named(console):
    result = console.invoke(args=["approvals", "list", "--tenant", "nobody"])
    assert result.exit_code == 1 and "nobody" in result.stderr


def test_tenants_policy_show_and_set(console, tmp_path):
    shown = console.invoke(args=["tenants", "policy", "show", "--tenant", "acme", "--json"])
    assert json.loads(shown.stdout)["version"] == 0
    set_ = console.invoke(
        args=[
            "tenants",
            "policy",
            "set",
            "--tenant",
            "acme",
            "usage.soc=withhold",
            "specs=withhold",
        ]
    )
    assert set_.exit_code == 0, set_.output
    assert "cn-export@1.2.0+tenant:acme@1" in set_.stdout
    assert "usage.soc\twithhold" in set_.stdout

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": {"events.party": "withhold"}}), encoding="utf-8")
    from_file = console.invoke(
        args=["tenants", "policy", "set", "--tenant", "acme", "--file", rules, "--json"]
    )
    assert json.loads(from_file.stdout)["rules"] == {"events.party": "withhold"}
    cleared = console.invoke(args=["tenants", "policy", "set", "--tenant", "acme", "--clear"])
    assert cleared.exit_code == 0 and "version 3" in cleared.stdout
    beta = console.invoke(args=["tenants", "policy", "show", "--tenant", "beta", "--json"])
    assert json.loads(beta.stdout)["rules"] == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vehicle.vin=export"], "stricter, not looser"),
        (["usage.sohh=withhold"], "not a field of the record model"),
        (["usage.soh"], "PATH=CLASS"),
        (["usage.soh=secret"], "class must be one of"),
        ([], "--clear"),
    ],
)
def test_loosening_or_malformed_rules_are_refused(console, args, message):
    result = console.invoke(args=["tenants", "policy", "set", "--tenant", "acme", *args])
    assert result.exit_code != 0
    assert message in result.output
    shown = console.invoke(args=["tenants", "policy", "show", "--tenant", "acme", "--json"])
    assert json.loads(shown.stdout)["version"] == 0


def test_a_malformed_rules_file_is_refused(console, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text('{"rules": {"usage.soc": "withhold"', encoding="utf-8")
    result = console.invoke(args=["tenants", "policy", "set", "--tenant", "acme", "--file", rules])
    assert result.exit_code == 2 and "--file" in result.output
    rules.write_text('{"usage.soc": "withhold"}', encoding="utf-8")
    result = console.invoke(args=["tenants", "policy", "set", "--tenant", "acme", "--file", rules])
    assert result.exit_code == 2 and "rules" in result.output
