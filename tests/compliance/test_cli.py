"""``gateway whitelist`` import and list."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from gateway.compliance.whitelist import COLUMNS
from tests.helpers import GatewayRunner

HEADER = ",".join(COLUMNS) + "\n"
ROW = "5,公告2024年第X号,2024-01-17,江苏,甲梯次利用有限公司,,echelon_use,listed,,MIIT-2024-X-01\n"
Invoke = Callable[..., Result]


@pytest.fixture
def home(runner: GatewayRunner) -> Path:
    return runner.home


@pytest.fixture
def invoke(runner: GatewayRunner) -> Invoke:
    def run(*args: str) -> Result:
        return runner.invoke(args=["whitelist", *args])

    return run


def test_import_then_list(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    source = tmp_path / "batch5.csv"
    source.write_text(HEADER + ROW, encoding="utf-8")
    result = invoke("import", str(source))
    assert result.exit_code == 0, result.output
    assert "added    MIIT-2024-X-01  甲梯次利用有限公司" in result.output
    assert "1 added, 0 changed, 0 unchanged; stored in the instance's database" in result.output
    assert not (home / "whitelist.csv").exists()

    again = invoke("import", str(source))
    assert "0 added, 0 changed, 1 unchanged; nothing to write" in again.output

    listed = invoke("list", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.output)
    assert [r["licence_no"] for r in rows][-1] == "MIIT-2024-X-01"
    assert len(rows) == 6

    text = invoke("list")
    assert "MIIT-2018-40-04" in text.output


def test_import_refuses_bad_rows(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(HEADER + ROW.replace("2024-01-17", "17/01/2024"), encoding="utf-8")
    result = invoke("import", str(source))
    assert result.exit_code == 2
    assert "bad.csv line 2, column announced_on: '17/01/2024' is not a date" in result.output
    assert not (home / "whitelist.csv").exists()


def test_dry_run_json(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    source = tmp_path / "batch5.csv"
    source.write_text(HEADER + ROW, encoding="utf-8")
    result = invoke("import", "--dry-run", "--json", str(source))
    assert result.exit_code == 0
    assert json.loads(result.output)["added"][0]["licence_no"] == "MIIT-2024-X-01"
    assert not (home / "whitelist.csv").exists()
