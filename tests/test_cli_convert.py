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
        assert gaps["mapping"]["version"] == "1.2.0"  # the default
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
    # --quiet drops the gap tables, not the closing summary.
    assert result.stdout == "1 converted, 0 failed\n"
    assert result.stderr == ""


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
    assert run("init").exit_code == 0  # reading mappings needs an instance
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
    assert run("init").exit_code == 0
    result = run("mappings", "list")
    assert result.output.startswith("cn-trace-to-eu-passport@1.0.0 ")
    assert "cn-trace-to-eu-passport@1.2.0 " in result.output
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


def test_summary_counts_converted_and_failed_records(run, tmp_path):
    result = run(
        "convert",
        INVALID / "wrong-unit.json",
        RECORDS / "sparse-pack.json",
        RECORDS / "lfp-storage-pack.json",
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "2 converted, 1 failed"
    assert "wrong-unit.json: " in result.stderr and "converted" not in result.stderr


def test_many_records_keep_standard_output_for_gap_tables(run, tmp_path):
    records = [
        "sparse-pack.json",
        "lfp-storage-pack.json",
        "echelon-pack.json",
        "end-of-life-pack.json",
        "vin-repair-pack.json",
    ]
    result = run("convert", *(RECORDS / r for r in records), "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    # The progress bar goes to stderr: stdout holds the five gap tables and the summary.
    assert "record/s" not in result.stdout and "%|" not in result.stdout
    assert result.stdout.count("readiness") == 5
    assert result.stdout.splitlines()[-1] == "5 converted, 0 failed"


def test_a_jwt_run_keeps_the_data_integrity_credentials(run, tmp_path):
    assert run("init").exit_code == 0
    out = tmp_path / "out"
    record = RECORDS / "ncm-ev-pack.json"
    assert run("convert", record, "--out", out, "--sign", "--quiet").exit_code == 0
    (folder,) = out.iterdir()
    before = {p.name: p.read_bytes() for p in folder.glob("*.vc.jsonld")}
    own = folder / "notes.txt"  # a file of the user's own
    own.write_text("kept\n", encoding="utf-8")
    result = run("convert", record, "--out", out, "--sign", "--format", "jwt", "--quiet")
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in folder.glob("*.vc.jsonld")} == before
    assert len(list(folder.glob("*.vc.jwt"))) == 4
    assert own.read_text(encoding="utf-8") == "kept\n"
    assert [p.name for p in out.iterdir()] == [folder.name]  # no staging left behind


def test_a_second_record_of_one_battery_is_written_beside_with_a_warning(run, tmp_path):
    out = tmp_path / "out"
    result = run(
        "convert",
        RECORDS / "ncm-ev-pack.json",
        RECORDS / "ncm-ev-pack.xml",
        "--out",
        out,
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    code = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))["battery"]["code"]
    assert sorted(p.name for p in out.iterdir()) == [code, f"{code}-2"]
    for name in (code, f"{code}-2"):
        assert (out / name / "passport-annex-xiii-1.jsonld").is_file()
    assert f"warning: {RECORDS / 'ncm-ev-pack.xml'}: battery {code} already converted" in (
        result.stderr
    )
    assert str(RECORDS / "ncm-ev-pack.json") in result.stderr
    assert result.stdout == "2 converted, 0 failed\n"
