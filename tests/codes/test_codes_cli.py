"""``gateway codes`` and ``gateway telemetry`` through the real command group."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from gateway.codes.tables import TABLES_DIR
from gateway.paths import FIXTURES_DIR
from tests.helpers import GatewayRunner

REFERENCE = FIXTURES_DIR / "reference" / "cn"
CODES = json.loads((REFERENCE / "gbt34014_codes.json").read_text(encoding="utf-8"))
FRAMES = json.loads((REFERENCE / "gbt32960_2016_vectors.json").read_text(encoding="utf-8"))


@pytest.fixture
def run(runner: GatewayRunner) -> Callable[..., Result]:
    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(args=args, input=stdin)

    return invoke


def test_decode_prints_one_json_line_per_code(run) -> None:
    result = run("codes", "decode", "Z9ZPBA10000001F3F0000123", "X12MCPM27KLPCLX2M2382320")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["production_date"] for d in lines] == ["2025-03-15", "2040-02-21"]
    assert lines[1]["ambiguities"]


def test_decode_warns_of_unlikely_codes(run) -> None:
    # Year Y: 2041-12-01, after any day this runs on; serial 0000000 is a placeholder.
    result = run("codes", "decode", "Z9ZPBA10000001YC10000000", "Z9ZPBA10000001F3F0000123")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2
    warnings = result.stderr.splitlines()
    assert warnings[0].startswith("Z9ZPBA10000001YC10000000: warning: position 15 ")
    assert "is after" in warnings[0]
    assert warnings[1] == (
        "Z9ZPBA10000001YC10000000: warning: position 18 (serial_number): serial number "
        "0000000; serials count from 1"
    )


def test_decode_keeps_chinese_names_readable(run) -> None:
    result = run("codes", "decode", "Z9ZPBA10000001F3F0000123")
    assert '"battery_type_name_zh": "磷酸铁锂"' in result.stdout


def test_invalid_code_goes_to_stderr_others_still_decode(run) -> None:
    result = run("codes", "decode", "Z9ZXBA10000001F3F0000123", "Z9ZPBA10000001F3F0000123")
    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Z9ZXBA10000001F3F0000123: position 4 (product_type)")


def test_impossible_date_warns_and_strict_refuses(run) -> None:
    code = "Z9ZMEB2ABC1234H9Y0000001"
    lenient = run("codes", "decode", code)
    assert lenient.exit_code == 0
    assert json.loads(lenient.stdout)["valid_date"] is False
    assert "2027-09-31" in lenient.stderr
    strict = run("codes", "decode", "--strict", code)
    assert strict.exit_code == 2 and strict.stdout == ""
    assert "position 17 (production_date_code)" in strict.stderr


def test_decode_with_a_table_folder(run, tmp_path: Path) -> None:
    folder = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, folder)
    with (folder / "battery_type.csv").open("a", encoding="utf-8") as handle:
        handle.write("H,sodium,sodium-ion,钠离子,P\n")
    result = run("codes", "decode", "--tables", str(folder), "Z9ZPHA10000001F3F0000123")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["battery_type_name"] == "sodium-ion (probable, unverified)"


def test_hierarchy_command(run) -> None:
    example = CODES["hierarchy_example"]
    document = json.dumps({"pack": example["pack"], "modules": example["modules"]})
    ok = run("codes", "hierarchy", "-", stdin=document)
    assert ok.exit_code == 0 and ok.stdout == ""
    module = next(iter(example["modules"]))
    bad = run(
        "codes", "hierarchy", "-", stdin=json.dumps({"pack": module, "modules": example["modules"]})
    )
    assert bad.exit_code == 2
    assert json.loads(bad.stdout.splitlines()[0])["rule"] == "level"
    assert run("codes", "hierarchy", "-", stdin="[1]").exit_code == 1


def test_telemetry_decode_prints_the_frame(run) -> None:
    login = FRAMES["frames"][0]["hex"]
    result = run("telemetry", "decode", login)
    assert result.exit_code == 0, result.output
    frame = json.loads(result.stdout)
    assert frame["data"]["ress_codes"] == ["Z9ZPBA10000001F3F0000123"]


def test_telemetry_bad_frame_names_the_offset(run) -> None:
    heartbeat = FRAMES["frames"][5]["hex"]
    broken = heartbeat[:-2] + "00"
    result = run("telemetry", "decode", broken, heartbeat, "zz")
    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("argument 1: byte 24: BCC")
    assert lines[1].startswith("argument 3: not hexadecimal")
