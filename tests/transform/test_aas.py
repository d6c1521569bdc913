"""The AAS export of every fixture holds up against the templates and independent readers.

For each fixture record (with the shipped data policy, and with the 1.0.0 policy that
still let BMS health data leave, so the Product Condition submodel is exercised): the
export loads with basyx in strict mode, keeps the metamodel constraints, uses only the
``semanticId``s of the shipped templates, respects their cardinalities (every ``One`` /
``OneToMany`` element present or reported missing), reads back to the same values, and
passes ``basyx-compliance-tool`` as JSON and as AASX. The template checks here read the
template JSON directly, not through the gateway's own template index.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from basyx.aas import model
from basyx.aas.adapter.aasx import AASXReader, DictSupplementaryFileContainer
from basyx.aas.adapter.json import object_store_to_json, read_aas_json_file

from gateway.annex_xiii import POINTS
from gateway.errors import MappingInvalid
from gateway.paths import FIXTURES_DIR, MAPPINGS_DIR, VOCAB_DIR
from gateway.records.reader import read_record_file
from gateway.services import draft_passport
from gateway.transform.aas import (
    AasExport,
    PassportView,
    export_aas,
    subjects_view,
    view_points,
)
from gateway.transform.en18223 import PassportFacts
from gateway.transform.idta02035 import load_mapping, read_mapping
from gateway.transform.idta_templates import load_templates
from gateway.transform.measurements import measurement_time
from gateway.vocab.catalog import load_catalog
from tests.helpers import covering_everything

BASE_URL = "https://passports.example.com"
MAPPING = "cn-trace-to-eu-passport@1.0.0"
RECORDS = sorted((FIXTURES_DIR / "records").glob("*.json"))
TEMPLATE_FILES = sorted((VOCAB_DIR / "idta").glob("IDTA-*.json"))
ISSUED = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
#: The shipped policy alone, and with an export approval that lets BMS health data (and
#: the date it was measured, without which none of it is published) leave.
POLICIES = ("shipped", "approved")
CHECKER = Path(sys.executable).with_name("aas-compliance-check")

# -- the templates, read as plain JSON ---------------------------------------------------


def _semantic(reference: Mapping[str, Any] | None) -> str | None:
    if not reference:
        return None
    return "/".join(k["value"] for k in reference["keys"])


def _cardinality(element: Mapping[str, Any]) -> str | None:
    for qualifier in element.get("qualifiers") or ():
        if qualifier.get("type") == "SMT/Cardinality":
            return str(qualifier["value"])
    return None


def _children(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    if element["modelType"] in ("SubmodelElementCollection", "SubmodelElementList"):
        return list(element.get("value") or ())
    return []


def _raw_templates() -> dict[str, dict[str, Any]]:
    found = {}
    for path in TEMPLATE_FILES:
        [submodel] = json.loads(path.read_text(encoding="utf-8"))["submodels"]
        found[submodel["idShort"]] = submodel
    return found


RAW = _raw_templates()


def _all_semantic_ids() -> set[str]:
    ids: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("semanticId", "semanticIdListElement"):
                if (value := _semantic(node.get(key))) is not None:
                    ids.add(value)
            for key, value in node.items():
                if key not in ("qualifiers", "supplementalSemanticIds"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for submodel in RAW.values():
        walk(submodel)
    return ids


TEMPLATE_SEMANTIC_IDS = _all_semantic_ids()

# -- the fixtures ------------------------------------------------------------------------


def _draft(path: Path, policy: str) -> Any:
    record = read_record_file(path)
    approvals = [covering_everything()] if policy == "approved" else []
    return record, draft_passport(
        record, mapping=MAPPING, base_url=BASE_URL, approvals=approvals, at=ISSUED
    )


def _view(record: Mapping[str, Any], draft: Any, points: frozenset[int]) -> PassportView:
    passport_id = draft.conversion.passport_id
    as_of = (record.get("usage") or {}).get("as_of")
    return PassportView(
        facts=PassportFacts(passport_id, passport_id, "active", ISSUED),
        battery_code=draft.battery_code,
        points=points,  # type: ignore[arg-type]
        attributes=draft.conversion.attributes,
        measured_at=measurement_time(as_of) if as_of else None,
    )


@pytest.fixture(
    scope="module",
    params=[(r, p) for r in RECORDS for p in POLICIES],
    ids=lambda rp: f"{rp[0].stem}-{rp[1]}",
)
def exported(request: pytest.FixtureRequest) -> tuple[Mapping[str, Any], Any, AasExport]:
    path, policy = request.param
    record, draft = _draft(path, policy)
    return record, draft, export_aas(_view(record, draft, frozenset(POINTS)))


def _read(data: bytes) -> model.DictIdentifiableStore[model.Identifiable]:
    return read_aas_json_file(io.StringIO(data.decode("utf-8")), failsafe=False)


def _elements(node: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """``(instance path, element)`` of every element under a submodel or element, with
    list items written ``[i]``."""
    children = node.get("submodelElements") if "submodelElements" in node else _children(node)
    is_list = node.get("modelType") == "SubmodelElementList"
    for index, child in enumerate(children or ()):
        if is_list:
            label = f"{path}[{index}]"
        else:
            label = f"{path}.{child['idShort']}" if path else child["idShort"]
        yield label, child
        yield from _elements(child, label)


# -- the mapping -------------------------------------------------------------------------


def test_every_catalog_attribute_is_mapped_or_listed_with_a_reason() -> None:
    mapping = load_mapping()
    rows = {a.key: mapping.rows_for(a.key) for a in load_catalog()}
    assert all(rows.values()), [k for k, v in rows.items() if not v]
    for row in mapping.unmapped():
        assert row.comment, row.attribute
    assert {r.attribute for r in mapping.unmapped()}.isdisjoint(
        {r.attribute for r in mapping.rows if r.mapped}
    )


def test_every_mapped_semantic_id_is_the_template_elements() -> None:
    for row in load_mapping().rows:
        if not row.mapped:
            continue
        assert row.semantic_id in TEMPLATE_SEMANTIC_IDS, row
        node: Mapping[str, Any] = RAW[row.submodel]
        for step in row.steps:
            [node] = [
                c
                for c in (node.get("submodelElements") or _children(node))
                if c.get("idShort") == step.id_short
            ]
            if step.item is not None:
                [node] = _children(node)
        assert _semantic(node.get("semanticId")) == row.semantic_id, row


def _table_with(line: str) -> str:
    path = MAPPINGS_DIR / "eu-passport-to-idta-02035" / "1.0.0.csv"
    text = path.read_text(encoding="utf-8")
    return text + line + "\n"


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("battery_mass,exactMatch,TechnicalData,GeneralInformation.Nope,x,value,,", "path"),
        (
            "battery_mass,exactMatch,TechnicalData,GeneralInformation.BatteryMass,x,value,,",
            "semantic_id",
        ),
        ("no_such_key,noMatch,,,,,,why", "attribute"),
        ("battery_mass,sameAs,,,,,,", "relation"),
        ("battery_mass,noMatch,TechnicalData,,,,,why", "submodel"),
        (
            "battery_mass,exactMatch,DppMetadata,granularity,"
            "https://admin-shell.io/idta/cds/granularity/1,value,,",
            "submodel",
        ),
        (
            "battery_mass,closeMatch,TechnicalData,GeneralInformation.BatteryCategory,"
            "urn:samm:io.admin-shell.idta.batterypass.technical_data:1.0.0#batteryCategory,"
            'enum,"{""values"": 3}",why',
            "params",
        ),
    ],
)
def test_a_broken_row_is_refused_naming_its_line_and_column(line: str, column: str) -> None:
    with pytest.raises(MappingInvalid) as caught:
        read_mapping(_table_with(line), "9.9.9")
    errors = caught.value.extensions["errors"]
    assert any(e["column"] == column for e in errors), errors  # type: ignore[union-attr]


def test_two_rows_filling_one_element_are_refused() -> None:
    line = "battery_mass,exactMatch,BatteryNameplate,SerialNumber,0112/2///61987#ABA951#009,value,,"
    with pytest.raises(MappingInvalid):
        read_mapping(_table_with(line), "9.9.9")


def test_the_templates_load_strictly_and_are_the_eight_shipped() -> None:
    templates = load_templates()
    assert {t.number for t in templates.values()} == {
        *(f"IDTA-02035-{n}" for n in range(1, 8)),
        "IDTA-02099-1",
    }
    for path in TEMPLATE_FILES:
        read_aas_json_file(path, failsafe=False)


# -- every fixture ----------------------------------------------------------------------


def test_the_export_loads_strictly_and_keeps_the_constraints(exported) -> None:
    _, _, export = exported
    data = export.to_json()
    store = _read(data)
    assert {o.id for o in store} == {o.id for o in export.store}
    document = json.loads(data)
    [shell] = document["assetAdministrationShells"]
    assert shell["assetInformation"]["assetKind"] == "Instance"
    ids = [shell["id"], *(s["id"] for s in document["submodels"])]
    assert len(ids) == len(set(ids))
    for submodel in document["submodels"]:
        assert submodel.get("kind", "Instance") == "Instance"
        for path, element in _elements(submodel):
            where = f"{submodel['idShort']}:{path}"
            assert not element.get("qualifiers"), where  # no template qualifiers in an instance
            sets = [element.get("description"), element.get("displayName")]
            if element["modelType"] == "MultiLanguageProperty":
                sets.append(element["value"])
            for texts in filter(None, sets):
                languages = [t["language"] for t in texts]
                assert len(languages) == len(set(languages)), f"{where}: one text per language"
            if element["modelType"] != "SubmodelElementList":
                continue
            items = element.get("value") or []
            assert items, f"{where}: an empty list claims there is nothing to list"
            for item in items:
                assert "idShort" not in item, f"{where}: AASd-120"
                assert item["modelType"] == element["typeValueListElement"], f"{where}: AASd-108"
                if element.get("semanticIdListElement"):
                    assert item["semanticId"] == element["semanticIdListElement"], where  # 107
                if item["modelType"] == "Property":
                    assert item["valueType"] == element["valueTypeListElement"], where  # 109
            assert len({json.dumps(i.get("semanticId"), sort_keys=True) for i in items}) == 1


def test_only_template_semantic_ids_are_used(exported) -> None:
    _, _, export = exported
    document = json.loads(export.to_json())
    used = set()
    for submodel in document["submodels"]:
        used.add(_semantic(submodel["semanticId"]))
        for _, element in _elements(submodel):
            used.add(_semantic(element.get("semanticId")))
            used.add(_semantic(element.get("semanticIdListElement")))
    used.discard(None)
    assert used <= TEMPLATE_SEMANTIC_IDS, used - TEMPLATE_SEMANTIC_IDS


def _required_missing(submodel: Mapping[str, Any]) -> set[str]:
    """Instance paths of the template's One/OneToMany elements absent under a present
    parent, worked out from the template JSON alone."""
    template = RAW[submodel["idShort"]]
    missing: set[str] = set()

    def compare(template_children: list[dict[str, Any]], present: list[dict[str, Any]], at: str):
        by_id = {c.get("idShort"): c for c in present}
        for child in template_children:
            name = child["idShort"]
            label = f"{at}.{name}" if at else name
            if name not in by_id:
                if _cardinality(child) in ("One", "OneToMany"):
                    missing.add(label)
                continue
            visit(child, by_id[name], label)

    def visit(template_element: dict[str, Any], element: dict[str, Any], label: str) -> None:
        if element["modelType"] == "SubmodelElementList":
            [item_template] = _children(template_element)
            if _cardinality(item_template) in ("One", "OneToMany"):
                assert element.get("value"), f"{label} must hold an item"
            for index, item in enumerate(element.get("value") or ()):
                visit(item_template, item, f"{label}[{index}]")
        elif element["modelType"] == "SubmodelElementCollection":
            compare(_children(template_element), element.get("value") or [], label)

    compare(template["submodelElements"], submodel["submodelElements"], "")
    return missing


def _reported_missing(export: AasExport, name: str) -> set[str]:
    [report] = [s for s in export.report()["submodels"] if s["submodel"] == name]
    found = set()
    for gap in report["missing"]:
        # Reported with selectors ([RecycledMaterial=Nickel]) or positions; compare by
        # position, which is how the template walk above names list items.
        found.add(gap["path"])
    return found


def _positional(submodel: Mapping[str, Any], path: str) -> str:
    """A reported instance path with ``[Key=Value]`` selectors turned into positions."""
    if "[" not in path or "=" not in path:
        return path
    node: Mapping[str, Any] = submodel
    out: list[str] = []
    for part in path.split("."):
        name, _, selector = part.partition("[")
        [node] = [
            c for c in (node.get("submodelElements") or _children(node)) if c.get("idShort") == name
        ]
        out.append(name)
        if selector:
            key, _, value = selector.rstrip("]").partition("=")
            for index, item in enumerate(_children(node)):
                if any(
                    c.get("idShort") == key and c.get("value") == value for c in _children(item)
                ):
                    node = item
                    out[-1] = f"{name}[{index}]"
                    break
    return ".".join(out)


def test_cardinalities_are_kept_or_reported(exported) -> None:
    _, _, export = exported
    document = json.loads(export.to_json())
    for submodel in document["submodels"]:
        expected = _required_missing(submodel)
        reported = {
            _positional(submodel, p) for p in _reported_missing(export, submodel["idShort"])
        }
        assert reported == expected, (submodel["idShort"], reported ^ expected)
    exported_names = {s["idShort"] for s in document["submodels"]}
    for report in export.report()["submodels"]:
        assert report["exported"] == (report["submodel"] in exported_names)
        if not report["exported"]:
            # A part the view cannot fill is listed with its required elements and why.
            assert report["missing"] and all(g["why"] for g in report["missing"])


def _value(element: Mapping[str, Any]) -> Any:
    if element["modelType"] == "MultiLanguageProperty":
        return {t["language"]: t["text"] for t in element["value"]}
    return element["value"]


def _same(expected: Any, written: Any) -> bool:
    if isinstance(written, dict):
        return list(written.values()) == [expected]
    try:
        return Decimal(str(expected)) == Decimal(written)
    except ArithmeticError:
        return str(expected) == written


def test_the_export_reads_back_to_the_same_values(exported) -> None:
    _, draft, export = exported
    data = export.to_json()
    again = object_store_to_json(_read(data), ensure_ascii=False).encode("utf-8")
    assert _sorted(json.loads(again)) == _sorted(json.loads(data))
    document = json.loads(data)
    attributes = draft.conversion.attributes
    mapping = load_mapping()
    checked = 0
    for submodel in document["submodels"]:
        if submodel["idShort"] == "DppMetadata":
            continue
        written = {path: element for path, element in _elements(submodel)}
        [report] = [s for s in export.report()["submodels"] if s["submodel"] == submodel["idShort"]]
        for filled in report["filled"]:
            path = _positional(submodel, filled["path"])
            shape = re.sub(r"\[[^\]]*\]", "[]", filled["path"])
            rows = [
                r
                for r in mapping.rows_for(filled["attribute"])
                if r.submodel == submodel["idShort"]
                and r.convert in ("value", "text-language")
                and re.sub(r"\[[^\]]*\]", "[]", r.path) == shape
            ]
            if (
                not rows
                or path not in written
                or "LastUpdate" in path
                or "=" in filled["path"].split(".")[-1]
            ):
                continue
            value = attributes[filled["attribute"]]
            values = value if isinstance(value, list) else [value]
            assert any(_same(v, _value(written[path])) for v in values), (path, value)
            checked += 1
    assert checked > 0


def test_the_aasx_holds_the_same_environment(exported, tmp_path: Path) -> None:
    _, _, export = exported
    path = tmp_path / "passport.aasx"
    path.write_bytes(export.to_aasx())
    store: model.DictIdentifiableStore[model.Identifiable] = model.DictIdentifiableStore()
    with AASXReader(path, failsafe=False) as reader:
        reader.read_into(store, DictSupplementaryFileContainer())  # type: ignore[no-untyped-call]
    assert _sorted(json.loads(object_store_to_json(store))) == _sorted(json.loads(export.to_json()))


def _sorted(document: dict[str, Any]) -> dict[str, Any]:
    """An environment with its identifiables and shell references in a fixed order (an
    environment is a set of them)."""
    for shell in document["assetAdministrationShells"]:
        shell["submodels"].sort(key=lambda r: r["keys"][0]["value"])
    return {k: sorted(v, key=lambda o: o["id"]) for k, v in document.items()}


def test_each_file_states_the_points_it_holds(exported) -> None:
    _, _, export = exported
    document = json.loads(export.to_json())
    for identifiable in [*document["assetAdministrationShells"], *document["submodels"]]:
        [extension] = identifiable["extensions"]
        assert extension == {
            "name": "annexXiiiPoints",
            "valueType": "xs:string",
            "value": "1 2 3 4",
        }
        assert "Annex XIII points 1, 2, 3, 4" in identifiable["description"][0]["text"]


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.stem)
def test_the_files_pass_the_basyx_compliance_tool(record: Path, tmp_path: Path) -> None:
    source, draft = _draft(record, "approved")
    export = export_aas(_view(source, draft, frozenset(POINTS)))
    (tmp_path / "passport.aas.json").write_bytes(export.to_json())
    (tmp_path / "passport.aasx").write_bytes(export.to_aasx())
    for args in (["--json", "passport.aas.json"], ["--json", "--aasx", "passport.aasx"]):
        done = subprocess.run(
            [str(CHECKER), "deserialization", "-v", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout and "FAILED" not in done.stdout, done.stdout


# -- views -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sections",
    [("annex-xiii-1",), ("annex-xiii-1", "annex-xiii-3"), ("public", "legitimate_interest")],
)
def test_a_view_holds_only_its_points(sections: tuple[str, ...]) -> None:
    record, draft = _draft(FIXTURES_DIR / "records" / "ncm-ev-pack.json", "approved")
    points = view_points(sections)
    export = export_aas(_view(record, draft, points))
    catalog = load_catalog()
    report = export.report()
    for submodel in report["submodels"]:
        for filled in submodel["filled"]:
            if filled["attribute"] != "metadata":
                assert catalog.by_key[filled["attribute"]].point in points, filled
    names = {s["submodel"] for s in report["submodels"] if s["exported"]}
    assert ("ProductCondition" in names) == (4 in points)
    text = export.to_json().decode("utf-8")
    test_report = draft.conversion.attributes["test_reports_compliance"][0]
    assert (test_report in text) == (3 in points)
    label = " ".join(str(p) for p in sorted(points))
    assert f"points-{label.replace(' ', '-')}" in export.shell_id
    assert json.loads(text)["assetAdministrationShells"][0]["extensions"][0]["value"] == label


def test_a_point_outside_the_view_is_reported_as_such_never_by_value() -> None:
    record, draft = _draft(FIXTURES_DIR / "records" / "ncm-ev-pack.json", "approved")
    export = export_aas(_view(record, draft, frozenset({1})))
    [condition] = [s for s in export.report()["submodels"] if s["submodel"] == "ProductCondition"]
    assert not condition["exported"]
    reasons = {g["path"]: g["reason"] for g in condition["missing"]}
    assert reasons["StateOfCharge"] == "not_in_view"
    assert reasons["InformationOnAccidents"] == "unmapped"
    assert draft.conversion.attributes["state_of_charge"] not in json.dumps(export.report())


def test_dynamic_values_carry_the_time_they_were_measured() -> None:
    record, draft = _draft(FIXTURES_DIR / "records" / "ncm-ev-pack.json", "approved")
    export = export_aas(_view(record, draft, frozenset(POINTS)))
    document = json.loads(export.to_json())
    [condition] = [s for s in document["submodels"] if s["idShort"] == "ProductCondition"]
    stamps = {p: e["value"] for p, e in _elements(condition) if p.endswith("LastUpdate")}
    measured = measurement_time(record["usage"]["as_of"])
    assert stamps and all(datetime.fromisoformat(v) == measured for v in stamps.values())


def test_values_a_template_cannot_hold_are_rejected_without_quoting_them() -> None:
    catalog = load_catalog()
    hostile: dict[str, Any] = {a.key: "=cmd|' /C calc'!A0 \u202e" for a in catalog}
    hostile.update(battery_passport_id="https://gw.example/passports/X", rated_capacity=[1, 2])
    hostile["number_of_full_cycles"] = -3
    hostile["battery_mass"] = {"nested": True}
    view = PassportView(
        PassportFacts(
            "https://gw.example/passports/X", "https://gw.example/passports/X", "active", ISSUED
        ),
        "X",
        frozenset(POINTS),
        hostile,
    )
    export = export_aas(view)
    _read(export.to_json())
    report = json.dumps(export.report(), ensure_ascii=False)
    assert "calc" not in report and "nested" not in report
    rejected = {r["attribute"] for r in export.report()["rejected"]}
    assert {
        "rated_capacity",
        "number_of_full_cycles",
        "battery_mass",
        "manufacturing_date",
    } <= rejected


def test_a_view_of_the_documents_equals_the_view_of_the_attributes() -> None:
    record, draft = _draft(FIXTURES_DIR / "records" / "ncm-ev-pack.json", "approved")
    direct = _view(record, draft, frozenset(POINTS))
    documents = subjects_view(
        direct.facts, direct.battery_code, draft.documents, direct.measured_at
    )
    assert documents.points == frozenset(int(s.rsplit("-", 1)[1]) for s in draft.documents)
    assert export_aas(documents).report() == export_aas(direct).report()
    # Passports issued under the three earlier access groups give the same points.
    legacy = {"public": draft.documents["annex-xiii-1"]}
    assert subjects_view(direct.facts, direct.battery_code, legacy).points == frozenset({1})
