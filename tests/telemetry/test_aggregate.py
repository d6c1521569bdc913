"""Usage aggregates of a synthetic four-hour stream, checked against the phase table
(see stream.py), and the stream's hazards: gaps, markers, re-issued and late frames,
bad frames, several vehicles, frames of a vehicle that never logged in."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from gateway.codes.gbt32960 import BEIJING, parse_frame
from gateway.errors import InvalidFrame, InvalidInput
from gateway.telemetry import (
    Parameters,
    UsageAggregator,
    aggregate_frames,
)
from gateway.telemetry import gbt32960_encode as enc


def close(text: str, value: float, places: int) -> bool:
    """The decimal string equals ``value`` rounded to ``places`` (within one unit)."""
    return abs(Decimal(text) - Decimal(repr(value))) <= Decimal(1).scaleb(-places)


@pytest.fixture(scope="module")
def result_a(scenario):
    bad = []
    result = aggregate_frames(
        scenario.stream.lines,
        battery_code=scenario.code_a,
        rated_capacity_ah=scenario.rated_ah,
        temp_min=scenario.temp_min,
        temp_max=scenario.temp_max,
        on_bad=bad.append,
    )
    return result, bad


def test_usage_block_matches_the_phase_table(result_a, scenario):
    result, _ = result_a
    usage, want = result.usage, scenario.expected
    assert usage["as_of"] == want["as_of"]
    assert usage["soc"] == str(want["soc_last"])
    throughput_ah = want["charge_ah"] + want["discharge_ah"]
    assert usage["cycles"] == int(throughput_ah // (2 * scenario.rated_ah))
    assert usage["cycles"] == 1
    assert usage["energy_throughput"]["unit"] == "kWh"
    assert close(usage["energy_throughput"]["value"], want["charge_kwh"] + want["discharge_kwh"], 3)
    assert usage["capacity_throughput"]["unit"] == "Ah"
    assert close(usage["capacity_throughput"]["value"], throughput_ah, 2)
    assert usage["time_above_max_temp_minutes"] == want["above_min"] == 60
    assert usage["time_charging_above_max_temp_minutes"] == want["charging_above_min"] == 30
    assert usage["time_below_min_temp_minutes"] == want["below_min"] == 60
    assert usage["time_charging_below_min_temp_minutes"] == want["charging_below_min"] == 60
    assert usage["deep_discharge_events"] == 1
    assert usage["overcharge_events"] == 1
    assert usage["alarms"] == want["level3"]
    assert usage["temperature"] == want["temperature"]
    assert want["temperature"] == {
        "min": -25,
        "max": 50,
        "since": "2025-06-01",
        "as_of": "2025-06-01",
    }
    assert "soh" not in usage  # GB/T 32960.3 has no SOH: never invented


def test_statistics_match_the_phase_table(result_a, scenario):
    result, _ = result_a
    stats, want = result.statistics, scenario.expected
    assert stats["samples"] == want["samples"]
    assert stats["observed_seconds"] == want["observed_s"]
    assert stats["gaps"] == {"count": 1, "seconds": want["gap_s"]}
    assert stats["period"] == {"start": scenario.start.isoformat(), "end": want["end"]}
    assert close(stats["energy_kwh"]["charged"], want["charge_kwh"], 3)
    assert close(stats["energy_kwh"]["discharged"], want["discharge_kwh"], 3)
    assert close(stats["capacity_ah"]["charged"], want["charge_ah"], 2)
    assert close(stats["capacity_ah"]["discharged"], want["discharge_ah"], 2)
    assert close(
        stats["equivalent_full_cycles"],
        (want["charge_ah"] + want["discharge_ah"]) / (2 * scenario.rated_ah),
        2,
    )
    soc = stats["soc_pct"]
    assert (soc["min"], soc["max"]) == (str(want["soc_min"]), str(want["soc_max"]))
    assert close(soc["mean"], want["soc_mean"], 2)
    for band, share in soc["time_share"].items():
        assert close(share, want["soc_bands"].get(band, 0.0), 4), band
    assert sum(Decimal(s) for s in soc["time_share"].values()) == pytest.approx(1, abs=1e-3)
    assert stats["charging_seconds"] == want["charging_s"]
    assert stats["current_sign_conflict_seconds"] == 0
    events = {(e["type"], e["level"]): e["count"] for e in stats["alarm_events"]}
    assert events == want["alarm_events"]


def test_stream_hazards_are_counted(result_a, scenario):
    result, bad = result_a
    frames = result.statistics["frames"]
    assert frames["duplicates"] == 1  # the 0x03 copy with a collection time already used
    assert frames["late"] == 0  # the late re-issued frame fell inside the reorder window
    assert frames["reissued_frames"] == 2
    assert frames["unbound"] == 5  # vehicle C never logged in
    assert frames["ignored"] == 1  # the heartbeat
    assert frames["rejected"] == 1
    assert [b.line for b in bad] == [scenario.stream.bad_line]
    assert "BCC" in bad[0].message and bad[0].offset is not None


def test_output_is_float_free_and_names_no_vehicle(result_a, scenario):
    result, _ = result_a
    text = json.dumps(result.as_dict(), ensure_ascii=False)
    for vin in scenario.vins:
        assert vin not in text

    def walk(node):
        assert not isinstance(node, float), node
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result.as_dict())
    assert result.method["soh"].startswith("not derivable")
    assert "2 x rated capacity 100 Ah" in result.method["cycles"]
    assert result.method["thresholds"]["deep_discharge_soc_pct"] == "5"


def test_two_vehicles_are_kept_apart(scenario):
    aggregator = UsageAggregator(
        Parameters(
            temp_min=scenario.temp_min,
            temp_max=scenario.temp_max,
            rated_capacity_ah=scenario.rated_ah,
        )
    )
    for line in scenario.stream.lines:
        try:
            aggregator.add_hex(line)
        except InvalidFrame:
            aggregator.reject()
    results = aggregator.results()
    assert set(results) == {scenario.code_a, scenario.code_b}
    b = results[scenario.code_b]
    held = (scenario.b_samples - 1) * scenario.step
    assert b.statistics["samples"] == scenario.b_samples
    assert close(b.statistics["energy_kwh"]["discharged"], 300 * 10 * held / 3.6e6, 3)
    assert b.statistics["energy_kwh"]["charged"] == "0"
    assert b.usage["soc"] == "70"
    assert b.usage["time_above_max_temp_minutes"] == 0
    assert "alarms" not in b.usage
    a = results[scenario.code_a]
    assert a.statistics["samples"] == scenario.expected["samples"]
    assert a.usage["alarms"] == scenario.expected["level3"]


def test_without_a_handler_the_first_bad_line_raises_with_line_and_offset(scenario):
    with pytest.raises(InvalidFrame) as caught:
        aggregate_frames(scenario.stream.lines, battery_code=scenario.code_a)
    assert caught.value.detail.startswith(f"line {scenario.stream.bad_line}: byte ")
    assert caught.value.extensions["line"] == scenario.stream.bad_line


@pytest.mark.parametrize(("line", "offset"), [("2323zz", 2), ("23 23 0", 2), ("", None)])
def test_non_hex_lines_name_the_byte(line, offset):
    bad = []
    aggregate_frames([line], battery_code="4A6PCPM27KLPCLE742946319", on_bad=bad.append)
    if offset is None:
        assert bad == []  # blank lines are skipped
    else:
        assert bad[0].offset == offset and f"byte {offset}" in bad[0].message


def test_bytes_lines_give_the_input_offset(scenario):
    lines = [(line + "\n").encode() for line in scenario.stream.lines[:5]]
    lines.insert(2, b"not a frame\n")
    bad = []
    aggregate_frames(lines, battery_code=scenario.code_a, on_bad=bad.append)
    assert bad[0].line == 3
    assert bad[0].file_offset == len(lines[0]) + len(lines[1])


def test_late_frame_beyond_the_window_is_counted_not_integrated():
    code, vin = "4A6PCPM27KLPCLE742946319", "LNBSCTEST00000001"
    start = dt.datetime(2025, 6, 1, 8, tzinfo=BEIJING)
    frames = [enc.login(vin, start, [code])]
    for i in range(10):
        moment = start + dt.timedelta(seconds=10 * i)
        frames.append(
            enc.realtime(vin, moment, [enc.vehicle_unit(soc=50, voltage=100, current=36)])
        )
    frames.append(
        enc.realtime(
            vin,
            start + dt.timedelta(seconds=5),
            [enc.vehicle_unit(soc=50, voltage=100, current=36)],
            reissued=True,
        )
    )
    result = aggregate_frames([f.hex() for f in frames], battery_code=code, reorder_window_s=0)
    assert result.statistics["frames"]["late"] == 1
    # 9 intervals of 10 s at 3.6 kW: 0.09 kWh.
    assert result.usage["energy_throughput"]["value"] == "0.09"


def test_logout_ends_the_session_and_unbinds():
    code, vin = "4A6PCPM27KLPCLE742946319", "LNBSCTEST00000001"
    start = dt.datetime(2025, 6, 1, 8, tzinfo=BEIJING)

    def data(seconds):
        return enc.realtime(
            vin,
            start + dt.timedelta(seconds=seconds),
            [enc.vehicle_unit(soc=50, voltage=100, current=36)],
        )

    frames = [
        enc.login(vin, start, [code]),
        data(0),
        data(10),
        data(20),
        enc.logout(vin, start + dt.timedelta(seconds=25)),
        data(30),
        enc.login(vin, start + dt.timedelta(seconds=40), [code]),
        data(40),
        data(50),
    ]
    result = aggregate_frames([f.hex() for f in frames], battery_code=code)
    assert result.statistics["sessions"] == 2
    assert result.statistics["frames"]["unbound"] == 1
    assert result.statistics["observed_seconds"] == 30  # 20 s + 10 s, not across logout


def test_multi_pack_vehicle_uses_per_subsystem_units():
    codes = ["4A6PCPM27KLPCLE742946319", "4A6PCPM27KLPCLE742946320"]
    vin = "LNBSCTEST00000001"
    start = dt.datetime(2025, 6, 1, 8, tzinfo=BEIJING)
    frames = [enc.login(vin, start, codes)]
    for i in range(7):
        moment = start + dt.timedelta(seconds=10 * i)
        frames.append(
            enc.realtime(
                vin,
                moment,
                [
                    enc.vehicle_unit(soc=50, voltage=360, current=100),
                    enc.voltages_unit([(360, 60), (360, 40)]),
                    enc.temperatures_unit([[20, 50, 30], [10, 12]]),
                ],
            )
        )
    aggregator = UsageAggregator(Parameters(temp_min=-20, temp_max=45))
    for frame in frames:
        aggregator.add(parse_frame(frame))
    first, second = (aggregator.result(c) for c in codes)
    assert close(first.statistics["capacity_ah"]["discharged"], 60 * 60 / 3600, 2)
    assert close(second.statistics["capacity_ah"]["discharged"], 40 * 60 / 3600, 2)
    assert first.usage["time_above_max_temp_minutes"] == 1
    assert second.usage["time_above_max_temp_minutes"] == 0


def test_a_battery_without_frames_gets_an_empty_usage_block(scenario):
    result = aggregate_frames(
        scenario.stream.lines[:3], battery_code="4A6PCPM27KLPCLE7C2940000", on_bad=lambda bad: None
    )
    assert result.usage == {}
    assert result.statistics["samples"] == 0


def test_parameters_refuse_nonsense():
    with pytest.raises(InvalidInput, match="soc_bands") as caught:
        Parameters(soc_bands=(0, 50))
    assert caught.value.pointer == "/soc_bands"
    with pytest.raises(InvalidInput, match="above temp_max"):
        Parameters(temp_min=50, temp_max=40)
    with pytest.raises(InvalidInput, match="finite"):
        Parameters(temp_max=float("nan"))


def test_encoder_round_trips_through_the_parser():
    moment = dt.datetime(2025, 6, 1, 8, 0, 5, tzinfo=BEIJING)
    frame = parse_frame(
        enc.realtime(
            "LNBSCTEST00000001",
            moment,
            [
                enc.vehicle_unit(soc=42, voltage=371.5, current=-123.4, charging="parked charging"),
                enc.extreme_unit(max_temp=-3, min_temp=-7),
                enc.alarm_unit(2, ["soc_jump", "ress_overcharge"]),
            ],
            reissued=True,
        )
    )
    assert frame.command == 0x03
    vehicle, extreme, alarm = frame.data["info_units"]
    assert vehicle["physical"]["soc_pct"] == 42
    assert vehicle["physical"]["total_voltage_V"] == 371.5
    assert vehicle["physical"]["total_current_A"] == -123.4
    assert vehicle["physical"]["charging_status"] == "parked charging"
    assert (extreme["physical"]["max_temp_C"], extreme["physical"]["min_temp_C"]) == (-3, -7)
    assert alarm["physical"]["general_alarm_flags"] == ["bit8:soc_jump", "bit18:ress_overcharge"]
    login = parse_frame(enc.login("LNBSCTEST00000001", moment, ["4A6PCPM27KLPCLE742946319"]))
    assert login.data["ress_codes"] == ["4A6PCPM27KLPCLE742946319"]


def test_without_a_reorder_window_the_late_reissued_frame_is_dropped(scenario):
    result = aggregate_frames(
        scenario.stream.lines,
        battery_code=scenario.code_a,
        reorder_window_s=0,
        on_bad=lambda bad: None,
    )
    assert result.statistics["frames"]["late"] == 1
    assert result.statistics["samples"] == scenario.expected["samples"] - 1
