"""``gateway jobs``: submit, show, results and the workers, on the embedded database."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import RECORDS, GatewayRunner


def _file(tmp_path: Path, serials: range) -> Path:
    record = json.loads((RECORDS / "sparse-pack.json").read_text("utf-8"))
    lines = []
    for serial in serials:
        record["battery"]["code"] = record["battery"]["code"][:17] + f"{serial:07d}"
        lines.append(json.dumps(record))
    path = tmp_path / "records.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ok(runner: GatewayRunner, *args: object) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_submit_work_show_and_results(runner: GatewayRunner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GATEWAY_JOB_CHUNK_RECORDS", "2")
    _ok(runner, "init")
    _ok(runner, "tenants", "create", "acme")
    job_id = _ok(
        runner, "jobs", "submit", _file(tmp_path, range(901, 904)), "--tenant", "acme"
    ).strip()
    shown = json.loads(_ok(runner, "jobs", "show", job_id, "--json"))
    assert shown["state"] == "queued" and shown["records"] == 3
    assert shown["chunks"] == {"total": 2, "done": 0}

    _ok(runner, "jobs", "work", "--until-idle")
    assert "done, 3 records (3 created, 0 repeated, 0 refused, 0 pending)" in _ok(
        runner, "jobs", "show", job_id, "--wait"
    )
    page = json.loads(_ok(runner, "jobs", "results", job_id, "--json", "--limit", "2"))
    assert [o["line"] for o in page["items"]] == [1, 2] and page["next"] == 1
    rest = _ok(runner, "jobs", "results", job_id, "--after", "1")
    assert rest.splitlines() == ["3\tcreated\tZ9ZPEB3SPRS001E9R0000903"]
    listed = json.loads(_ok(runner, "jobs", "list", "--json"))
    assert [j["id"] for j in listed] == [job_id] and listed[0]["state"] == "done"
    assert listed[0]["tenant"] == "acme"
    assert _ok(runner, "jobs", "list").startswith(f"job {job_id} (acme): done, 3 records")


def test_several_worker_processes_share_the_chunks(
    runner: GatewayRunner, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("GATEWAY_JOB_CHUNK_RECORDS", "1")
    _ok(runner, "init")
    _ok(runner, "tenants", "create", "acme")
    path = _file(tmp_path, range(911, 915))
    job_id = _ok(runner, "jobs", "submit", path, "--tenant", "acme", "--format", "jwt").strip()
    result = runner.invoke(args=["jobs", "work", "--processes", "2", "--until-idle"])
    assert result.exit_code == 0, result.output
    assert "4 chunks done" in result.stderr
    shown = json.loads(_ok(runner, "jobs", "show", job_id, "--json"))
    assert shown["state"] == "done" and shown["outcomes"]["created"] == 4


def test_unknown_and_malformed_jobs_are_refused(runner: GatewayRunner) -> None:
    _ok(runner, "init")
    for job_id in ("0" * 32, "not-a-job"):
        result = runner.invoke(args=["jobs", "show", job_id])
        assert result.exit_code == 1 and "no job" in result.stderr
    result = runner.invoke(args=["jobs", "results", "0" * 32, "--json"])
    assert result.exit_code == 1
