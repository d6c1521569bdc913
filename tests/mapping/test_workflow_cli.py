"""A standards editor's story on the command line: draft, edit, diff, impact, publish."""

import json
import warnings

import pytest

from gateway.mapping import loader
from gateway.paths import FIXTURES_DIR
from tests.helpers import NEW_ROW

BASE = "cn-trace-to-eu-passport@1.2.0"
DRAFT = "cn-trace-to-eu-passport@1.3.0"


@pytest.fixture
def run(runner, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    runner.home.mkdir()

    def invoke(*args, ok=True):
        result = runner.invoke(args=args)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_draft_edit_diff_impact_publish_convert(run, tmp_path):
    run("mappings", "draft", DRAFT, "--from", "1.2.0")
    edited = run(
        "mappings",
        "edit",
        DRAFT,
        "--set",
        "23",
        "predicate_id=skos:exactMatch",
        "--add",
        json.dumps(NEW_ROW),
        "--json",
    )
    assert json.loads(edited.output) == []

    change = json.loads(run("mappings", "diff", BASE, DRAFT, "--json").output)
    assert change["bump"] == "minor"
    assert [r["attribute"] for r in change["added"]] == ["manufacturingPlace"]
    assert change["added"][0]["subject_label_zh"] == "生产工厂标识"
    assert [c["attribute"] for c in change["changed"]] == ["manufacturingPlace"]
    assert change["changed"][0]["fields"] == {
        "predicate_id": ["skos:closeMatch", "skos:exactMatch"]
    }
    assert change["removed"] == []
    assert "manufacturingPlace" in run("mappings", "diff", BASE, DRAFT).output

    effect = json.loads(run("mappings", "impact", DRAFT, "--json").output)
    with_plant = [
        r
        for r in effect["records"]
        if any(c["key"] == "manufacturing_place" for c in r["status_changes"])
    ]
    assert effect["attributes"]["manufacturing_place"] == {"partial -> filled": len(with_plant)}
    assert len(with_plant) >= 2
    ncm = next(r for r in effect["records"] if r["record"].endswith("ncm-ev-pack.json"))
    assert ncm["readiness_after"] > ncm["readiness_before"]
    assert {(c["key"], c["before"], c["after"]) for c in ncm["status_changes"]} == {
        ("manufacturing_place", "partial", "filled"),
    }

    published = run("mappings", "publish", DRAFT)
    assert published.output.startswith(f"published {DRAFT} sha256:")
    again = run("mappings", "edit", DRAFT, "--set", "1", "comment=late change", ok=False)
    assert again.exit_code == 1 and "cannot change" in again.output

    out = tmp_path / "out"
    run(
        "convert",
        FIXTURES_DIR / "records" / "ncm-ev-pack.json",
        "--out",
        out,
        "--mapping",
        DRAFT,
        "--quiet",
    )
    gaps = json.loads(next(out.glob("*/gaps.json")).read_text(encoding="utf-8"))
    assert gaps["mapping"]["version"] == "1.3.0"
    statuses = {a["key"]: a["status"] for a in gaps["attributes"]}
    assert statuses["manufacturing_place"] == "filled"


def test_a_breaking_change_needs_a_major_version(run):
    run("mappings", "draft", DRAFT, "--from", "1.2.0")
    run("mappings", "edit", DRAFT, "--remove", "12")  # the fallback manufacturer code row
    refused = run("mappings", "publish", DRAFT, ok=False)
    assert refused.exit_code == 1
    assert "major" in refused.output and "2.0.0" in refused.output


def test_an_invalid_draft_lists_every_problem_and_cannot_be_published(run):
    run("mappings", "draft", DRAFT, "--from", "1.2.0")
    bad_row = dict(NEW_ROW, object_id="eubp:noSuchAttribute")
    problems = json.loads(
        run(
            "mappings",
            "edit",
            DRAFT,
            "--set",
            "3",
            "transform=no_such_transform",
            "--set",
            "18",
            'transform_params={"unit": "V"}',
            "--set",
            "20",
            "subject_id=cntrace:specs.no_such_field",
            "--add",
            json.dumps(bad_row),
            "--json",
        ).output
    )
    by_row = {(p["row"], p["column"]) for p in problems}
    assert (3, "transform") in by_row
    assert (18, "transform_params") in by_row
    assert (20, "subject_id") in by_row
    assert (23, "object_id") in by_row
    assert len(problems) == 4
    assert run("mappings", "validate", DRAFT, ok=False).exit_code == 1
    refused = run("mappings", "publish", DRAFT, ok=False)
    assert refused.exit_code == 1 and "4 problem(s)" in refused.output


def test_export_then_import_keeps_the_content_hash(run, tmp_path):
    run("mappings", "draft", DRAFT, "--from", "1.2.0")
    run("mappings", "edit", DRAFT, "--add", json.dumps(NEW_ROW))
    edited = tmp_path / "edited.sssom.tsv"
    run("mappings", "export", DRAFT, edited)
    sssom_parsers = pytest.importorskip("sssom.parsers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        msdf = sssom_parsers.parse_sssom_table(str(edited))
    assert len(msdf.df) == len(loader.load(BASE).rows) + 1
    assert "cntrace:manufacturer.plant.facility_id" in set(msdf.df.subject_id)

    exported = tmp_path / "exported.sssom.tsv"
    first = "cn-trace-to-eu-passport@1.0.0"
    run("mappings", "export", first, exported)
    text = (
        exported.read_text(encoding="utf-8")
        .replace("/1.0.0\n", "/1.0.1\n")
        .replace("mapping_set_version: 1.0.0", "mapping_set_version: 1.0.1")
    )
    exported.write_text(text, encoding="utf-8")
    imported = run("mappings", "import", exported, "--base", "1.0.0")
    listed = json.loads(run("mappings", "list", "--json").output)
    hashes = {v["mapping"]: v["hash"] for v in listed}
    assert hashes["cn-trace-to-eu-passport@1.0.1"] == hashes[first]
    assert hashes[first] in imported.output
