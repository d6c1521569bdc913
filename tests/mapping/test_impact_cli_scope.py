"""``gateway mappings impact`` and ``draft`` follow the API's rules: stored passports of
one named tenant, a page at a time; draft names checked before anything is stored."""

from __future__ import annotations

import json

import pytest

from gateway.paths import FIXTURES_DIR

DRAFT = "cn-trace-to-eu-passport@1.3.0"


@pytest.fixture
def run(runner, monkeypatch):
    monkeypatch.setenv("GATEWAY_BASE_URL", "https://gw.example")
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def invoke(*args, ok=True):
        result = runner.invoke(args=args)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def _record(tmp_path, serial: str) -> str:
    text = (FIXTURES_DIR / "records" / "ncm-ev-pack.json").read_text(encoding="utf-8")
    code = json.loads(text)["battery"]["code"]
    path = tmp_path / f"{serial}.json"
    path.write_text(text.replace(code, code[:17] + serial), encoding="utf-8")
    return code[:17] + serial


def test_impact_reads_one_tenants_passports_a_page_at_a_time(run, tmp_path):
    run("init")
    run("tenants", "create", "acme")
    run("tenants", "create", "beta")
    acme = [_record(tmp_path, f"000090{i}") for i in range(2)]
    beta = _record(tmp_path, "0000909")
    for code in acme:
        run(
            "convert",
            "--sign",
            "--store",
            "--tenant",
            "acme",
            "--quiet",
            tmp_path / f"{code[17:]}.json",
        )
    run(
        "convert",
        "--sign",
        "--store",
        "--tenant",
        "beta",
        "--quiet",
        tmp_path / f"{beta[17:]}.json",
    )
    run("mappings", "draft", DRAFT, "--from", "1.2.0")

    alone = json.loads(run("mappings", "impact", DRAFT, "--json").output)
    assert all(r["record"].startswith("fixtures/") for r in alone["records"])
    assert alone["page"]["total"] == 0

    first = run("mappings", "impact", DRAFT, "--tenant", "acme", "--limit", "1", "--json")
    page = json.loads(first.output)
    stored = [r["battery_code"] for r in page["records"] if r["record"].startswith("https")]
    assert stored == [acme[0]] and beta not in first.output
    assert page["page"]["next"] == acme[0] and page["page"]["total"] == 2
    second = json.loads(
        run(
            "mappings",
            "impact",
            DRAFT,
            "--tenant",
            "acme",
            "--limit",
            "1",
            "--after",
            acme[0],
            "--json",
        ).output
    )
    assert [r["battery_code"] for r in second["records"]] == [acme[1]]
    text = run("mappings", "impact", DRAFT, "--tenant", "acme", "--limit", "1").output
    assert f"next page: --after {acme[0]}" in text

    refused = run("mappings", "impact", DRAFT, "--tenant", "acme", "--limit", "0", ok=False)
    assert refused.exit_code != 0 and "limit" in refused.output
    unknown = run("mappings", "impact", DRAFT, "--tenant", "nobody", ok=False)
    assert unknown.exit_code != 0


@pytest.mark.parametrize(
    "ref", ["cn-trace-to-eu-passport@../../x", "../x@1.1.0", "cn-trace-to-eu-passport@01.1.0"]
)
def test_draft_names_are_checked_on_the_command_line(run, ref):
    refused = run("mappings", "draft", ref, "--from", "1.0.0", ok=False)
    assert refused.exit_code != 0
    assert "Traceback" not in refused.output
    listed = json.loads(run("mappings", "list", "--json").output)
    assert [v for v in listed if v["status"] == "draft"] == []


def test_impact_agrees_with_a_full_conversion_of_every_record(tmp_path):
    """Impact converts only the attributes whose rows changed; the outcome must be what
    a whole conversion with each version gives."""
    from gateway.records.reader import read_record_file
    from gateway.services import draft_passport, prepare_instance
    from gateway.services.mappings import MappingWorkflow
    from gateway.settings import Settings
    from gateway.store import init_db
    from tests.helpers import NEW_ROW

    settings = Settings.load(
        {"home": tmp_path / "instance", "database_url": "", "base_url": "https://gw.example"}
    )
    prepare_instance(settings)
    db = init_db(settings)
    try:
        workflow = MappingWorkflow(db)
        workflow.sync_shipped()
        workflow.create_draft("cn-trace-to-eu-passport", "2.0.0", "1.0.0")
        ref = "cn-trace-to-eu-passport@2.0.0"
        workflow.edit(
            ref, change={15: {"predicate_id": "skos:exactMatch"}}, remove=[7, 30, 44], add=[NEW_ROW]
        )
        effect = workflow.impact(ref, base_url="https://gw.example", tenant_id=None)
        base, head = workflow.table("cn-trace-to-eu-passport@1.0.0"), workflow.table(ref)
        for row in effect["records"]:
            record = read_record_file(FIXTURES_DIR / "records" / row["record"].split("/")[-1])
            before = draft_passport(record, mapping=base, base_url="https://gw.example")
            after = draft_passport(record, mapping=head, base_url="https://gw.example")
            assert row["readiness_before"] == before.gaps["summary"]["readiness"]
            assert row["readiness_after"] == after.gaps["summary"]["readiness"]
            assert row["status_changes"] == [
                {
                    "key": new["key"],
                    "label": new["label"],
                    "before": old["status"],
                    "after": new["status"],
                }
                for old, new in zip(
                    before.gaps["attributes"], after.gaps["attributes"], strict=True
                )
                if old["status"] != new["status"]
            ]
        assert sum(len(r["status_changes"]) for r in effect["records"]) > 5
    finally:
        db.dispose()
