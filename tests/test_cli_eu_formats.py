"""The EU formats at the console: ``gateway convert --aas`` (the commands of the README's
"EU formats" section run, as written, in ``tests/test_docs_commands.py``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from basyx.aas import model
from basyx.aas.adapter.aasx import AASXReader, DictSupplementaryFileContainer
from basyx.aas.adapter.json import read_aas_json_file

from gateway.paths import FIXTURES_DIR
from tests.helpers import GatewayRunner

RECORDS = FIXTURES_DIR / "records"
CODE = "Z9ZPEN8K52S96AE740000319"


@pytest.fixture
def run(runner: GatewayRunner, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GATEWAY_BASE_URL", "https://passports.example.com")

    def invoke(*args: object, ok: bool = True):
        result = runner.invoke(args=list(args))
        assert (result.exit_code == 0) is ok, result.output
        assert "Traceback" not in result.output
        return result

    return invoke


def test_convert_aas_writes_the_whole_passport_as_a_shell(run, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run("convert", RECORDS / "ncm-ev-pack.json", "--out", out, "--aas", "--quiet")
    folder = out / CODE
    text = (folder / "passport.aas.json").read_text(encoding="utf-8")
    store = read_aas_json_file(io.StringIO(text), failsafe=False)
    [shell] = [o for o in store if isinstance(o, model.AssetAdministrationShell)]
    # The exporter's own view: every point, and the metadata its public document signs.
    assert shell.get_extension_by_name("annexXiiiPoints").value == "1 2 3 4"
    # The battery's unique product identifier: the identification link (no scheme set).
    assert shell.asset_information.global_asset_id == f"https://passports.example.com/id/{CODE}"
    public = json.loads((folder / "passport-annex-xiii-1.jsonld").read_text(encoding="utf-8"))
    environment = json.loads(text)
    [dpp] = [s for s in environment["submodels"] if s["idShort"] == "DppMetadata"]
    values = {e["idShort"]: e.get("value") for e in dpp["submodelElements"]}
    assert values["dppStatus"] == public["dppStatus"] == "active"
    assert values["facilityId"] == public["facilityId"] == "CN-FJ-ND-002"
    packaged: model.DictIdentifiableStore[model.Identifiable] = model.DictIdentifiableStore()
    with AASXReader(str(folder / "passport.aasx"), failsafe=False) as reader:
        reader.read_into(packaged, DictSupplementaryFileContainer())  # type: ignore[no-untyped-call]
    assert {o.id for o in packaged} == {o.id for o in store}
    report = json.loads((folder / "passport.aas-report.json").read_text(encoding="utf-8"))
    assert report["annexXiiiPoints"] == [1, 2, 3, 4]
    assert {s["submodel"] for s in report["submodels"] if s["exported"]} >= {
        "BatteryNameplate",
        "DppMetadata",
    }


def test_convert_batterypass_keeps_addresses_structured(run, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run("convert", RECORDS / "ncm-ev-pack.json", "--out", out, "--batterypass", "--quiet")
    missing = json.loads((out / CODE / "batterypass-missing.json").read_text(encoding="utf-8"))
    general = missing["GeneralProductInformation"]
    assert not [p for p in general if p.startswith(("manufacturingPlace", "batteryPassport"))]
    assert "manufacturerInformation.postalAddress.streetAddress" not in general


def test_aas_and_batterypass_are_for_conversions_into_a_folder(run) -> None:
    for flag in ("--aas", "--batterypass"):
        refused = run("convert", RECORDS / "ncm-ev-pack.json", "--sign", "--store", flag, ok=False)
        assert "go with a conversion into --out" in refused.output
