"""The synthetic GB/T 32960.3 stream of ``tests/telemetry/stream.py``, as a fixture."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.telemetry.stream import (
    B_SAMPLES,
    CODE_A,
    CODE_B,
    RATED_AH,
    START,
    STEP,
    TEMP_MAX,
    TEMP_MIN,
    VIN_A,
    VIN_B,
    VIN_C,
    build_stream,
    corrupt,
    expected_a,
)


@pytest.fixture(scope="session")
def scenario() -> SimpleNamespace:
    """The stream, vehicle A's expected aggregates and the scenario's constants."""
    return SimpleNamespace(
        stream=build_stream(),
        expected=expected_a(),
        vins=(VIN_A, VIN_B, VIN_C),
        code_a=CODE_A,
        code_b=CODE_B,
        rated_ah=RATED_AH,
        temp_min=TEMP_MIN,
        temp_max=TEMP_MAX,
        b_samples=B_SAMPLES,
        step=STEP,
        start=START,
        corrupt=corrupt,
    )
