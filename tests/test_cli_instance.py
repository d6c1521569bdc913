"""How ``gateway`` finds its instance folder, and what read-only commands do when it
does not exist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import GatewayRunner

READ_ONLY = [
    ("tenants", "list"),
    ("tenants", "keys", "acme"),
    ("tenants", "policy", "show", "--tenant", "acme"),
    ("audit", "verify"),
    ("audit", "list"),
    ("db", "current"),
    ("db", "verify-audit"),
    ("passports", "list"),
    ("access", "show"),
    ("grants", "list"),
    ("disclosures", "list"),
    ("approvals", "list"),
    ("trust", "list"),
    ("contexts", "list"),
    ("registry", "show", "Z9ZPEN8K52S96AE740000319"),
    ("registry", "export"),
    ("mappings", "list"),
    ("mappings", "show", "cn-trace-to-eu-passport@1.0.0"),
    ("mappings", "validate", "cn-trace-to-eu-passport@1.0.0"),
    ("mappings", "diff", "cn-trace-to-eu-passport@1.0.0", "cn-trace-to-eu-passport@1.0.0"),
    ("mappings", "impact", "cn-trace-to-eu-passport@1.0.0"),
    ("mappings", "export", "cn-trace-to-eu-passport@1.0.0", "-"),
]


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GatewayRunner:
    """A runner whose GATEWAY_HOME names a folder that does not exist."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return GatewayRunner(tmp_path / "missing", env={"DATABASE_URL": None})


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_read_only_commands_refuse_a_missing_instance(
    nowhere: GatewayRunner, tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = nowhere.invoke(args=args)
    assert result.exit_code == 1, result.output
    assert f"no instance at {tmp_path / 'missing'}" in result.stderr
    assert "gateway init" in result.stderr and "GATEWAY_HOME" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "missing").exists()
    assert not (tmp_path / "instance").exists()


def test_the_instance_is_the_same_from_any_directory(runner: GatewayRunner, tmp_path: Path) -> None:
    """GATEWAY_HOME, not the current directory, names the instance: a command started
    elsewhere sees the tenants created before."""
    assert runner.invoke(args=["init"]).exit_code == 0
    assert runner.invoke(args=["tenants", "create", "acme"]).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "GATEWAY_HOME": str(runner.home),
    }
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "tenants", "list"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "\tacme\t" in done.stdout
    assert not (elsewhere / "instance").exists()


def test_read_only_commands_read_an_existing_instance(runner: GatewayRunner) -> None:
    assert runner.invoke(args=["init"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["tenants", "list"]).exit_code == 0


def test_help_says_how_the_instance_is_found(runner: GatewayRunner) -> None:
    result = runner.invoke(args=["--help"])
    assert "GATEWAY_HOME" in result.output and "gateway init" in result.output


@pytest.fixture
def mappings(runner: GatewayRunner) -> Callable[..., Any]:
    """``gateway mappings ARGS --json``, its output parsed."""

    def invoke(*args: object) -> Any:
        result = runner.invoke(args=["mappings", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return invoke


def test_mapping_workflow_commands_print_json(mappings: Callable[..., Any], tmp_path: Path) -> None:
    ref = "cn-trace-to-eu-passport@1.3.0"
    assert mappings("draft", ref, "--from", "1.2.0") == {
        "mapping": ref,
        "status": "draft",
        "from": "cn-trace-to-eu-passport@1.2.0",
    }
    assert mappings("edit", ref, "--set", "23", "predicate_id=skos:exactMatch") == []
    exported = tmp_path / "draft.sssom.tsv"
    assert mappings("export", ref, exported) == {"mapping": ref, "file": str(exported)}
    published = mappings("publish", ref)
    assert published["status"] == "published" and published["hash"]
    assert published["mapping"].startswith("cn-trace-to-eu-passport@")
    assert mappings("deprecate", published["mapping"]) == {
        "mapping": published["mapping"],
        "status": "deprecated",
    }
    text = exported.read_text(encoding="utf-8").replace("1.3.0", "1.4.0")
    changed = tmp_path / "changed.sssom.tsv"
    changed.write_text(text, encoding="utf-8")
    imported = mappings("import", changed, "--base", "1.2.0")
    assert imported["status"] == "draft" and imported["mapping"].endswith("@1.4.0")
