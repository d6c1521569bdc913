"""Art. 77(8) on the console: ``convert --sign`` signs nothing for a recycled battery
(its draft and gap report are still written), ``convert --sign --store`` refuses it and
ceases the battery's passport, and ``gateway passports cease`` records it by hand."""

from __future__ import annotations

import json

import pytest

from tests.helpers import RECORDS

EOL = RECORDS / "end-of-life-pack.json"
NCM = "Z9ZPEN8K52S96AE740000319"


@pytest.fixture
def run(runner, monkeypatch):
    monkeypatch.setenv("GATEWAY_BASE_URL", "https://passports.example.com")

    def invoke(*args, ok: bool = True):
        result = runner.invoke(args=[str(a) for a in args], catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output
        return result

    return invoke


def test_a_draft_of_a_recycled_battery_is_written_but_not_signed(run, tmp_path) -> None:
    out = tmp_path / "out"
    drafted = run("convert", EOL, "--out", out, "--quiet")
    (folder,) = out.iterdir()
    assert (folder / "gaps.json").is_file() and (folder / "passport-annex-xiii-1.jsonld").is_file()
    assert drafted.stdout.splitlines()[-1] == "1 converted, 0 failed"

    run("init")
    signed = run("convert", EOL, "--out", tmp_path / "signed", "--sign", ok=False)
    assert "/events/5" in signed.stderr and "Art. 77(8)" in signed.stderr
    assert signed.stdout.splitlines()[-1] == "0 converted, 1 failed"
    assert not (tmp_path / "signed").exists() or not list((tmp_path / "signed").rglob("*.vc.*"))


def test_store_refuses_and_ceases_and_the_cease_command(run, tmp_path) -> None:
    run("init")
    run("tenants", "create", "acme")
    run("convert", RECORDS / "ncm-ev-pack.json", "--sign", "--store", "--tenant", "acme", "--quiet")
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    recycling = dict(json.loads(EOL.read_text(encoding="utf-8"))["events"][-1])
    recycling["date"], recycling["reported_on"] = "2026-09-01", "2026-09-05"
    record["events"].append(recycling)
    path = tmp_path / "recycled.json"
    path.write_text(json.dumps(record), encoding="utf-8")

    refused = run("convert", path, "--sign", "--store", "--tenant", "acme", ok=False)
    assert "has ceased as of 2026-09-01" in refused.stderr
    listed = json.loads(run("passports", "list", "--status", "ceased", "--json").stdout)
    assert [(p["batteryCode"], p["ceasedOn"]) for p in listed] == [(NCM, "2026-09-01")]
    assert "ceased on 2026-09-01" in run("passports", "list").stdout

    # By hand: the same day again answers the same, another day is refused.
    again = json.loads(
        run("passports", "cease", NCM, "--recycled-on", "2026-09-01", "--json").stdout
    )
    assert again["status"] == "ceased" and again["ceasedOn"] == "2026-09-01"
    other = run("passports", "cease", NCM, "--recycled-on", "2026-09-02", ok=False)
    assert "cannot cease" in other.output
    bad = run("passports", "cease", NCM, "--recycled-on", "tomorrow", ok=False)
    assert "YYYY-MM-DD" in bad.output


def test_cease_by_hand(run) -> None:
    run("init")
    run("tenants", "create", "acme")
    run(
        "convert",
        RECORDS / "lfp-storage-pack.json",
        "--sign",
        "--store",
        "--tenant",
        "acme",
        "--quiet",
    )
    (listed,) = json.loads(run("passports", "list", "--json").stdout)
    code = listed["batteryCode"]
    done = run("passports", "cease", code, "--recycled-on", "2026-10-02", "--reason", "recycled")
    assert done.stdout.strip().endswith(f"{code} ceased on 2026-10-02")
    missing = run(
        "passports", "cease", "Z9ZPEN8K52S96AE740009999", "--recycled-on", "2026-10-02", ok=False
    )
    assert "no passport" in missing.output
