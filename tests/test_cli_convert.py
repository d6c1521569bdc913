"""``gateway convert`` and ``gateway mappings`` as a user runs them."""

import json

import pytest

from gateway.paths import FIXTURES_DIR
from gateway.vocab.catalog import load_catalog
from tests.helpers import GatewayRunner

RECORDS = FIXTURES_DIR / "records"
INVALID = RECORDS / "invalid"


@pytest.fixture
def run(runner: GatewayRunner, monkeypatch):
    monkeypatch.setenv("GATEWAY_BASE_URL", "https://passports.example.com")

    def invoke(*args):
        return runner.invoke(args=args, catch_exceptions=False)

    return invoke


def test_convert_writes_documents_and_gaps_per_record(run, tmp_path):
    out = tmp_path / "out"
    result = run(
        "convert", RECORDS / "ncm-ev-pack.json", RECORDS / "sparse-pack.json", "--out", out
    )
    assert result.exit_code == 0, result.output
    folders = sorted(p.name for p in out.iterdir())
    assert len(folders) == 2
    for folder in folders:
        files = sorted(p.name for p in (out / folder).iterdir())
        assert "gaps.json" in files and "passport-annex-xiii-1.jsonld" in files
        gaps = json.loads((out / folder / "gaps.json").read_text(encoding="utf-8"))
        assert gaps["battery_code"] == folder
        assert gaps["mapping"]["version"] == "1.0.0"
        assert f"{folder}  " in result.output
    assert "readiness" in result.output


def test_convert_names_the_mapping_version(run, tmp_path):
    result = run(
        "convert",
        RECORDS / "sparse-pack.json",
        "--out",
        tmp_path / "out",
        "--mapping",
        "cn-trace-to-eu-passport@1.0.0",
        "--quiet",
    )
    assert result.exit_code == 0
    assert result.output == ""


@pytest.mark.parametrize(
    ("record", "names"),
    [
        ("bad-codes.json", "/battery/code"),
        ("doctype.xml", "DOCTYPE"),
        ("entity.xml", "DOCTYPE"),
        ("missing-required.json", "/manufacturer/name"),
        ("wrong-unit.json", "/specs/rated_capacity/unit"),
        ("wrong-unit.xml", "/record/specs/rated_capacity/unit"),
        ("nan.json", "NaN"),
        ("unknown-field.json", "unknown field"),
    ],
)
def test_bad_input_names_the_field_exits_non_zero_and_writes_nothing(run, tmp_path, record, names):
    out = tmp_path / "out"
    result = run("convert", INVALID / record, "--out", out)
    assert result.exit_code == 1
    assert names in result.output
    assert not out.exists() or not any(out.iterdir())


def test_unknown_mapping_version_is_refused(run, tmp_path):
    out = tmp_path / "out"
    result = run(
        "convert",
        RECORDS / "sparse-pack.json",
        "--out",
        out,
        "--mapping",
        "cn-trace-to-eu-passport@9.9.9",
    )
    assert result.exit_code == 1
    assert "no mapping cn-trace-to-eu-passport@9.9.9" in result.output
    assert "cn-trace-to-eu-passport@1.0.0" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_one_bad_record_does_not_stop_the_others(run, tmp_path):
    out = tmp_path / "out"
    result = run(
        "convert",
        INVALID / "wrong-unit.json",
        RECORDS / "sparse-pack.json",
        "--out",
        out,
        "--quiet",
    )
    assert result.exit_code == 1
    assert len(list(out.iterdir())) == 1


def test_mappings_show_prints_the_coverage(run):
    result = run("mappings", "show", "cn-trace-to-eu-passport@1.0.0", "--json")
    assert result.exit_code == 0
    summary = json.loads(result.output)
    assert summary["attributes"] == len(load_catalog())
    assert sum(summary["attributes_by_source"].values()) == len(load_catalog())
    assert set(summary["mandatory_not_from_national_model"]) == {
        "ev",
        "lmt",
        "industrial",
        "stationary",
    }
    text = run("mappings", "show", "cn-trace-to-eu-passport@1.0.0")
    assert "skos:exactMatch" in text.output


def test_mappings_list(run):
    result = run("mappings", "list")
    assert result.output.startswith("cn-trace-to-eu-passport@1.0.0 ")
    assert " published " in result.output


@pytest.mark.parametrize(("proof_format", "suffix"), [("di", "vc.jsonld"), ("jwt", "vc.jwt")])
def test_signed_credentials_verify_with_gateway_verify(run, tmp_path, proof_format, suffix):
    assert run("init").exit_code == 0
    out = tmp_path / "out"
    result = run(
        "convert",
        RECORDS / "ncm-ev-pack.json",
        "--out",
        out,
        "--sign",
        "--format",
        proof_format,
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    signed = sorted(out.glob(f"*/passport-*.{suffix}"))
    # One credential per Annex XIII point: the NCM pack fills all four.
    assert [p.name for p in signed] == [f"passport-annex-xiii-{n}.{suffix}" for n in (1, 2, 3, 4)]
    verdict = run("verify", *signed)
    assert verdict.exit_code == 0, verdict.output
    assert verdict.output.count("VERIFIED") == 4


def test_sign_without_a_key_says_how_to_make_one(run, tmp_path):
    result = run("convert", RECORDS / "sparse-pack.json", "--out", tmp_path / "out", "--sign")
    assert result.exit_code == 1
    assert "gateway keys generate" in result.output


def test_battery_pass_payloads_validate_against_their_schemas(run, tmp_path):
    from gateway.transform.batterypass import validate

    out = tmp_path / "out"
    result = run("convert", RECORDS / "ncm-ev-pack.json", "--out", out, "--batterypass", "--quiet")
    assert result.exit_code == 0, result.output
    folder = next(out.iterdir())
    payloads = {
        p.name.removeprefix("batterypass-").removesuffix(".json"): json.loads(
            p.read_text(encoding="utf-8")
        )
        for p in folder.glob("batterypass-*.json")
        if "missing" not in p.name
    }
    assert payloads, "at least one complete aspect"
    assert validate(payloads) == {aspect: [] for aspect in payloads}
    missing = json.loads((folder / "batterypass-missing.json").read_text(encoding="utf-8"))
    assert "GeneralProductInformation" in missing and not set(missing) & set(payloads)
