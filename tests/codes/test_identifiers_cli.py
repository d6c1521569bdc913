"""``gateway identifiers``: a tenant's scheme from the console, and which battery an
identifier names."""

from __future__ import annotations

import json

from tests.helpers import RECORDS, GatewayRunner

LFP = "Z9ZPBS2ESS2801F5A0000088"


def test_set_show_and_resolve(runner: GatewayRunner) -> None:
    assert runner.invoke(args=["init"]).exit_code == 0
    assert runner.invoke(args=["tenants", "create", "acme"]).exit_code == 0
    shown = runner.invoke(args=["identifiers", "show", "--tenant", "acme", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.output)["scheme"] is None
    long = runner.invoke(
        args=["identifiers", "set", "--tenant", "acme", "--scheme", "gs1-digital-link",
              "--domain", "twenty-one-characters.cn"]
    )  # fmt: skip
    assert long.exit_code == 1 and "/domain" in long.output
    done = runner.invoke(
        args=["identifiers", "set", "--tenant", "acme", "--scheme", "gs1-digital-link",
              "--domain", "id.mindong.cn", "--json"]
    )  # fmt: skip
    assert done.exit_code == 0 and json.loads(done.output)["domain"] == "id.mindong.cn"
    issued = runner.invoke(
        args=["convert", RECORDS / "lfp-storage-pack.json", "--sign", "--store", "--tenant", "acme"]
    )
    assert issued.exit_code == 0, issued.output
    # A GTIN-13 in the link reads as its GTIN-14.
    found = runner.invoke(
        args=["identifiers", "resolve", f"https://id.mindong.cn/01/9506000134352/21/{LFP[4:]}",
              "--json"]
    )  # fmt: skip
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["batteryCode"] == LFP
    missing = runner.invoke(args=["identifiers", "resolve", "https://x.example/id/" + "Z" * 24])
    assert missing.exit_code == 1
    bad = runner.invoke(args=["identifiers", "resolve", "https://x.example/01/123/21/X"])
    assert bad.exit_code == 1 and "identifier" in bad.output


def test_read_only_commands_need_an_instance(runner: GatewayRunner) -> None:
    result = runner.invoke(args=["identifiers", "show", "--tenant", "acme"])
    assert result.exit_code != 0 and "no instance" in result.output
    assert not (runner.home / "gateway.sqlite").exists()
