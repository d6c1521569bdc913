"""``gateway telemetry aggregate`` as a user runs it."""

from __future__ import annotations

import json

import pytest

from gateway.paths import FIXTURES_DIR
from tests.helpers import GatewayRunner

RECORD = FIXTURES_DIR / "records" / "vin-repair-pack.json"


@pytest.fixture
def frames_file(tmp_path, scenario):
    path = tmp_path / "frames.hex"
    path.write_text("\n".join(scenario.stream.lines) + "\n", encoding="ascii")
    return path


@pytest.fixture
def run(runner: GatewayRunner):
    def invoke(*args):
        return runner.invoke(args=["telemetry", "aggregate", *args], catch_exceptions=False)

    return invoke


def test_json_output_reports_and_skips_the_bad_frame(run, frames_file, scenario):
    result = run(
        frames_file,
        "--battery",
        scenario.code_a,
        "--rated-capacity",
        100,
        "--temp-min",
        -20,
        "--temp-max",
        45,
        "--json",
    )
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["battery_code"] == scenario.code_a
    assert body["usage"]["time_above_max_temp_minutes"] == 60
    assert body["usage"]["cycles"] == 1
    bad_line = scenario.stream.bad_line
    offset = sum(len(line) + 1 for line in scenario.stream.lines[: bad_line - 1])
    assert f"line {bad_line} (input byte {offset}): byte " in result.stderr
    assert "1 bad frame(s) skipped" in result.stderr
    for vin in scenario.vins:
        assert vin not in result.output


def test_skip_bad_exits_zero_and_text_output_summarises(run, frames_file, scenario):
    result = run(frames_file, "--battery", scenario.code_b, "--skip-bad")
    assert result.exit_code == 0
    assert f"battery {scenario.code_b}" in result.stdout
    assert "soh" in result.stdout and "not derivable" in result.stdout
    assert "time_above_max_temp_minutes" not in result.stdout  # no limits given


def test_record_gives_limits_and_is_merged(run, tmp_path, scenario):
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    record["specs"]["temperature_range"] = {"min": "-20", "max": "45", "unit": "°C"}
    del record["usage"]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    frames = tmp_path / "frames.hex"
    frames.write_text(
        "\n".join(
            line for n, line in enumerate(scenario.stream.lines, 1) if n != scenario.stream.bad_line
        ),
        encoding="ascii",
    )
    result = run(frames, "--record", path)
    assert result.exit_code == 0, result.stderr
    merged = json.loads(result.stdout)
    usage = merged["usage"]
    assert usage["time_below_min_temp_minutes"] == 60
    assert usage["cycles"] == 0  # the record's rated capacity is 150 Ah: 223 Ah / 300 Ah
    assert "soh" not in usage
    assert merged["vehicle"]["vin"] == record["vehicle"]["vin"]  # the record is the input


def test_battery_other_than_the_records_is_refused(run, tmp_path, scenario, frames_file):
    result = run(frames_file, "--record", RECORD, "--battery", scenario.code_b)
    assert result.exit_code == 1
    assert "is not the record's battery" in result.output


def test_battery_code_is_required_and_checked(run, frames_file):
    assert run(frames_file).exit_code == 2
    result = run(frames_file, "--battery", "NOT-A-CODE")
    assert result.exit_code == 1
    assert "characters" in result.output


def test_unknown_battery_warns(run, frames_file):
    result = run(frames_file, "--battery", "4A6PCPM27KLPCLE7C2940000", "--skip-bad")
    assert result.exit_code == 0
    assert "no data frames for battery" in result.stderr


def test_contradictory_limits_are_refused(run, frames_file, scenario):
    result = run(frames_file, "--battery", scenario.code_a, "--temp-min", 50, "--temp-max", 40)
    assert result.exit_code == 1
    assert "temp_min 50.0 is above temp_max 40.0" in result.output
