"""National records made up for the benchmarks and the byte-for-byte credential tests.

A bench that sends one record's codes again and again measures caches, not work: every
record made here has its own pack, module and cell codes, all of which decode. Each
record is the ``fixtures/records/ncm-ev-pack.json`` record reshaped:

* the codes: the pack's, each module's and each cell's GB/T 34014 code keep the
  fixture's manufacturer, type, specification and date characters; the 7-character
  traceability segment carries the record number (base 36) and the serial the
  position, so no code repeats within a record or across records;
* ``cells`` cells (96 by default, as the fixture), ``cells_per_module`` to a module;
* realistic values that change from record to record (seeded, so a run repeats):
  decimals, batch numbers, Chinese and accented text with quotes and backslashes,
  month dates, a list of test reports of varying length.

Used as ``from records import RecordFactory`` by the scripts in ``bench/`` and as
``bench.records`` by the tests. Nothing here is timed.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "fixtures" / "records" / "ncm-ev-pack.json"
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: 36^7 records before the traceability segment wraps.
MAX_RECORDS = 36**7
#: The serial segment holds 7 digits.
MAX_CELLS = 9_999_999

_NAMES = (
    "闽东示例动力电池有限公司",
    "Mindong “Example” Power Battery Co., Ltd.",
    "Énergie Électrique S.A. — Zweigniederlassung Köln",
    'Backslash \\ and "quotes" Battery Works',
    "蜀都示例 🔋 储能科技",
)
_REPORTS = (
    ("Electric vehicles traction battery safety requirements", "GB 38031-2020"),
    ("Cycle life requirements and test methods", "GB/T 31484-2015"),
    ("Transport of lithium batteries", "UN 38.3"),
    ("Électrolyte — essai de vieillissement accéléré", "IEC 62660-2"),
    ("电池管理系统 功能安全 “示例”", "GB/T 38661-2020"),
)


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 36)
        digits.append(_BASE36[rest])
    return "".join(reversed(digits))


class RecordFactory:
    """Distinct, valid ``cn-trace/1`` records on demand; nothing holds the batch.

    :param cells: cells per record.
    :param cells_per_module: cells in each module (the last module may hold fewer).
    :param seed: the seed of the varied values; the same seed gives the same records.
    """

    def __init__(self, cells: int = 96, *, cells_per_module: int = 12, seed: int = 0) -> None:
        if not 1 <= cells <= MAX_CELLS or cells_per_module < 1:
            raise ValueError(f"cells must be 1..{MAX_CELLS}, cells_per_module at least 1")
        self.template: dict[str, Any] = json.loads(TEMPLATE.read_text(encoding="utf-8"))
        self.cells = cells
        self.cells_per_module = cells_per_module
        self.seed = seed
        battery = self.template["battery"]
        self._pack = battery["code"]
        self._module = battery["modules"][0]["code"]
        self._cell = battery["modules"][0]["cells"][0]
        # What each record copies: the template without its modules, which every record
        # replaces (copying the fixture's cells was most of the cost of making a record,
        # and the bench's client shares the machine with the server it measures).
        self._copied = {**self.template, "battery": {**battery, "modules": []}}

    @staticmethod
    def _code(template: str, trace: str, serial: int) -> str:
        # positions 1-7 kept, 8-14 traceability, 15-17 date kept, 18-24 serial
        return f"{template[:7]}{trace}{template[14:17]}{serial:07d}"

    def codes(self, index: int) -> tuple[str, list[tuple[str, list[str]]]]:
        """The pack code and ``(module code, cell codes)`` of record ``index``."""
        if not 0 <= index < MAX_RECORDS:
            raise ValueError(f"record index must be 0..{MAX_RECORDS - 1}")
        trace = _base36(index, 7)
        modules = []
        for m, start in enumerate(range(0, self.cells, self.cells_per_module)):
            stop = min(start + self.cells_per_module, self.cells)
            cells = [self._code(self._cell, trace, k + 1) for k in range(start, stop)]
            modules.append((self._code(self._module, trace, m + 1), cells))
        return self._code(self._pack, trace, 319), modules

    def record(self, index: int) -> dict[str, Any]:
        """Record ``index`` (0, 1, ...) as plain JSON data."""
        rng = random.Random(self.seed * 1_000_003 + index)
        record = copy.deepcopy(self._copied)
        pack, modules = self.codes(index)
        battery = record["battery"]
        battery["code"] = pack
        battery["modules"] = [{"code": code, "cells": cells} for code, cells in modules]
        battery["model"] = f"MD-NCM811-{rng.randrange(40, 99)}"
        battery["trade_name"] = f"{rng.choice(_NAMES)} pack {index}"
        specs = record["specs"]
        specs["mass"]["value"] = f"{rng.uniform(250, 420):.1f}"
        specs["rated_capacity"]["value"] = str(rng.randrange(100, 200))
        specs["nominal_voltage"]["value"] = f"{rng.uniform(300, 400):.1f}"
        specs["rated_energy"]["value"] = f"{rng.uniform(40, 90):.2f}"
        specs["internal_resistance_cell"]["value"] = f"{rng.uniform(0.2, 1.5):.3f}"
        specs["expected_cycles"] = rng.randrange(1000, 4000)
        specs["configuration"] = f"{self.cells}S1P"
        record["manufacturer"]["name"] = rng.choice(_NAMES[:1] + _NAMES[4:])
        record["manufacturer"]["name_en"] = rng.choice(_NAMES[1:4])
        record["production"]["batch"] = f"B2024-07-04-{index % 1000:03d}"
        record["test_reports"] = [
            {
                "title": title,
                "standard": standard,
                "lab": "Example Battery Test Center",
                "date": f"2024-0{rng.randrange(1, 7)}-{rng.randrange(10, 28)}",
                "url": f"https://battery.example.cn/reports/{index}-{n}.pdf",
                "report_no": f"EBTC-{index}-{n}",
            }
            for n, (title, standard) in enumerate(
                rng.sample(_REPORTS, rng.randrange(1, len(_REPORTS) + 1))
            )
        ]
        supplement = record["eu_supplement"]
        supplement["carbon_footprint_per_fu"] = f"{rng.uniform(0.02, 0.09):.3f}"
        supplement["absolute_carbon_footprint"] = rng.randrange(1, 20)
        supplement["recycled_cobalt_pre_consumer_share"] = f"{rng.uniform(0, 20):.1f}"
        supplement["recycled_nickel_pre_consumer_share"] = f"{rng.uniform(0, 20):.1f}"
        supplement["warranty_period"] = f"20{rng.randrange(30, 40)}-{rng.randrange(1, 13):02d}"
        return record

    def line(self, index: int) -> bytes:
        """Record ``index`` as one NDJSON line."""
        text = json.dumps(self.record(index), ensure_ascii=False, separators=(",", ":"))
        return text.encode() + b"\n"

    def lines(self, indexes: range) -> Iterator[bytes]:
        """The NDJSON lines of the records in ``indexes``, made as they are read."""
        for index in indexes:
            yield self.line(index)
