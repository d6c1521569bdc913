from decimal import Decimal

import pytest

from gateway.errors import TransformError
from gateway.mapping import transforms
from gateway.mapping.transforms import check_params, decimal_string

CONTEXT = transforms.Context(
    record={}, base_url="https://gw.example/", decode_code=lambda code: {"battery_type_name": "LFP"}
)


def run(name, value, **params):
    return transforms.apply(name, value, CONTEXT, params)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("350.40", "350.4"),
        ("150", "150"),
        (Decimal("1.5E+2"), "150"),
        ("0.0007", "0.0007"),
        ("-0", "0"),
        (3000, "3000"),
    ],
)
def test_decimal_text_has_no_exponent_and_no_trailing_zeros(value, text):
    assert decimal_string(value) == text


def test_quantity_converts_units():
    assert run("quantity", {"value": "52560", "unit": "Wh"}, unit="kWh") == "52.56"
    assert run("quantity", {"value": "0.7", "unit": "mOhm"}, unit="Ohm") == "0.0007"
    assert run("quantity", {"value": "150", "unit": "kW"}, unit="W") == "150000"


def test_quantity_refuses_a_unit_of_another_dimension():
    with pytest.raises(TransformError, match="cannot convert V"):
        run("quantity", {"value": "3.2", "unit": "V"}, unit="Ah")


def test_ratio_and_range_bound():
    specs = {
        "power": {"value": "150", "unit": "kW"},
        "rated_energy": {"value": "52.56", "unit": "kWh"},
    }
    assert (
        run("ratio", specs, numerator="power", denominator="rated_energy", unit="W/Wh", places=3)
        == "2.854"
    )
    assert (
        run("range_bound", {"min": "-20", "max": "55", "unit": "°C"}, bound="min", unit="°C")
        == "-20"
    )


def test_enum_refuses_unlisted_codes():
    assert run("enum", "ev", values={"ev": "electric vehicle battery"}) == (
        "electric vehicle battery"
    )
    with pytest.raises(TransformError, match="not in the enumeration map"):
        run("enum", "bus", values={"ev": "electric vehicle battery"})


def test_passport_url_and_code_segment():
    assert run("passport_url", "Z9ZPBA10000001F3F0000123") == (
        "https://gw.example/passports/Z9ZPBA10000001F3F0000123"
    )
    assert run("code_segment", "Z9ZPBA10000001F3F0000123", segment="battery_type_name") == "LFP"


def test_integer_refuses_fractions():
    assert run("integer", "3000") == 3000
    with pytest.raises(TransformError, match="whole number"):
        run("integer", "2.5")


@pytest.mark.parametrize(
    ("name", "params", "problem"),
    [
        ("no_such", {}, "is not registered"),
        ("quantity", {}, "needs parameter 'unit'"),
        ("quantity", {"unit": 5}, "must be str"),
        ("quantity", {"unit": "V", "scale": 2}, "takes no parameter 'scale'"),
    ],
)
def test_parameters_are_checked(name, params, problem):
    assert any(problem in p for p in check_params(name, params))


def test_engine_parameters_are_not_transform_parameters():
    assert check_params("year_month", {"where": {"type": "sale"}, "pick": "first"}) == []
