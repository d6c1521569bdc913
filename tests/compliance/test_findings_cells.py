"""Cells with nothing to report are judged from the decode of their shape.

The national findings of a record must not depend on that shortcut: with it turned off
(every cell decoded alone and checked by the general code rule), every record fixture,
generated records and records with broken cell, module and pack codes get the very same
report.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.records import RecordFactory
from gateway.compliance import findings, national_report

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 12, 6)
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
DATE_LETTERS = "123456789ABCDEFGHJKLMNPRSTUVWXY"


def _broken_code(code: Any, rng: random.Random, others: list[Any]) -> Any:
    if not isinstance(code, str) or len(code) != 24:
        return rng.choice([None, 7, "X", code])
    chars = list(code)
    kind = rng.randrange(13)
    if kind == 0:
        chars[3] = rng.choice("PMCX")  # level
    elif kind == 1:
        chars[4] = rng.choice("ABCDEFGZQ")  # battery type, some unconfirmed
    elif kind == 2:
        chars[14] = rng.choice(DATE_LETTERS)  # year, some in the future
    elif kind == 3:
        chars[15] = rng.choice("123456789ABC0")
    elif kind == 4:
        chars[16] = rng.choice(DATE_LETTERS + "0I")  # day, some not in a month
    elif kind == 5:
        chars[17:] = "0000000"
    elif kind == 6:
        chars[rng.randrange(24)] = rng.choice("ab#é ")
    elif kind == 7:
        return None
    elif kind == 8:
        return code[:7] + code[14:] + "R" + rng.choice("PMC")  # the echelon form
    elif kind == 9:
        return code[: rng.randrange(30)]
    elif kind == 10:
        chars[rng.randrange(7, 14)] = rng.choice(ALNUM + "a-")
    else:
        return rng.choice(others)  # listed twice
    return "".join(chars)


def _broken(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    out = copy.deepcopy(record)
    battery = out["battery"]
    modules = battery.get("modules") or []
    others = [battery["code"], *(m["code"] for m in modules)]
    for _ in range(rng.randrange(1, 6)):
        kind = rng.randrange(8)
        if kind <= 3 and modules:
            module = rng.choice(modules)
            cells = module.get("cells") or []
            if cells:
                j = rng.randrange(len(cells))
                cells[j] = _broken_code(cells[j], rng, [*others, cells[0]])
        elif kind == 4 and modules:
            module = rng.choice(modules)
            module["code"] = _broken_code(module["code"], rng, others)
        elif kind == 5:
            battery["code"] = _broken_code(battery["code"], rng, others)
        elif kind == 6 and modules:
            module = rng.choice(modules)
            battery["cells"] = list(module.get("cells") or [])[: rng.randrange(4)]
            if rng.random() < 0.5:
                module["cells"] = []
        else:
            battery["status"] = rng.choice(["repurposed", "original"])
            if rng.random() < 0.3:
                battery["original_code"] = _broken_code(battery["code"], rng, others)
    return out


def _records() -> Iterator[dict[str, Any]]:
    for path in sorted((ROOT / "fixtures" / "records").rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("battery"), dict):
            yield data
    for cells, per_module in ((96, 12), (13, 5), (200, 96)):
        factory = RecordFactory(cells, cells_per_module=per_module, seed=cells)
        for index in range(5):
            yield json.loads(factory.line(index))


def _reports(records: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(national_report(r, today=TODAY), default=str) for r in records]


def test_reports_are_the_same_without_the_shape_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    records = []
    for record in _records():
        records.append(record)
        if isinstance(record["battery"].get("code"), str):
            records += [_broken(record, rng) for _ in range(6)]
    fast = _reports(records)
    # every cell decoded alone and judged by the general code rule
    monkeypatch.setattr(findings, "shapes_of", lambda codes: [None] * len(codes))
    slow = _reports(records)
    assert fast == slow
    rules = {f["rule"] for report in fast for f in json.loads(report)["findings"]}
    # the broken records reached the cell rules the shortcut skips
    assert {"code-invalid", "code-ambiguous", "code-serial-zero", "date-future"} <= rules
    assert {"hierarchy-level", "hierarchy-duplicate", "hierarchy-battery-type"} <= rules
