"""A code's shape decode gives every member of its own decode but the three per code."""

from __future__ import annotations

import json
import random
from typing import Any

from bench.records import RecordFactory
from gateway.codes.gbt34014 import decode, serial_of, shape_of, shapes_of
from gateway.errors import InvalidBatteryCode

PER_CODE = {"code", "traceability_code", "serial_number"}


def _codes() -> list[Any]:
    rng = random.Random(11)
    record = json.loads(RecordFactory(60, cells_per_module=7).line(4))
    codes: list[Any] = [record["battery"]["code"]]
    for module in record["battery"]["modules"]:
        codes += [module["code"], *module["cells"]]
    broken: list[Any] = []
    for code in codes[:30]:
        chars = list(code)
        chars[rng.choice([4, 8, 14, 15, 16, 20])] = rng.choice("A1Z0aI#")
        broken.append("".join(chars))
    echelon = [c[:7] + c[14:] + "RC" for c in codes[:5]]
    return [*codes, *broken, *echelon, None, 17, "", "Z9Z", codes[0] + "0"]


def test_shapes_of_a_list_are_shape_of_each_code() -> None:
    codes = _codes()
    assert [id(s) for s in shapes_of(codes)] == [id(shape_of(c)) for c in codes]


def test_a_shape_holds_what_the_decode_of_the_code_holds() -> None:
    for code in _codes():
        shape = shape_of(code)
        try:
            decoded = decode(code)
        except InvalidBatteryCode:
            assert shape is None
            continue
        assert shape is not None
        own = vars(decoded)
        assert {k: v for k, v in vars(shape).items() if k not in PER_CODE} == {
            k: v for k, v in own.items() if k not in PER_CODE
        }
        assert serial_of(code) == decoded.serial_number
