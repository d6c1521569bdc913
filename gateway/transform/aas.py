"""A passport as an Asset Administration Shell (AAS metamodel v3): JSON and AASX.

One environment per view of a passport (the Annex XIII points a caller may read, as for
the credentials): one shell for the battery (``globalAssetId`` = its unique product
identifier, ``assetKind`` Instance), the IDTA-02035 submodels the view's attributes fill
(through :mod:`gateway.transform.idta02035`), and the IDTA-02099-1 ``DppMetadata``
submodel with the EN 18223 metadata (:mod:`gateway.transform.en18223`). The shell and
every submodel say which points the file holds: in their description and in an
extension ``annexXiiiPoints`` (``"1 2 4"``); the ids carry them too, so two views of one
passport never give one id two contents.

Everything is built and written with ``basyx-python-sdk``; no AAS JSON is written by
hand. :class:`AasExport` also reports, per submodel, what was filled and which required
(``One``/``OneToMany``) template elements are missing, and why.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from basyx.aas import model
from basyx.aas.adapter.aasx import AASXWriter, DictSupplementaryFileContainer
from basyx.aas.adapter.json import object_store_to_json

from gateway.annex_xiii import Point, format_points, points_of
from gateway.transform import en18223
from gateway.transform.idta02035 import (
    PARTS,
    IdtaMapping,
    MappingRow,
    Rejected,
    fill_submodels,
    load_mapping,
)
from gateway.transform.idta_templates import (
    InstanceBuilder,
    TemplateElement,
    load_templates,
    parse_path,
    template_path,
)
from gateway.vocab.catalog import load_catalog
from gateway.vocab.forms import plain_value

METADATA = "DppMetadata"
POINTS_EXTENSION = "annexXiiiPoints"
SHELL_ID_SHORT = "BatteryPassport"
#: Why a required element is missing.
REASONS = {
    "unmapped": "no passport attribute maps to it",
    "not_in_view": "its attributes belong to Annex XIII points this view does not hold",
    "rejected": "the attribute's value does not fit the element",
    "no_value": "the passport has no value for it",
}


@dataclass(frozen=True)
class PassportView:
    """What a caller may see of one passport version.

    :ivar points: the Annex XIII points of the view.
    :ivar attributes: catalog key -> value (JSON form), as the caller may see them;
        attributes of other points are ignored.
    :ivar measured_at: when the dynamic values were measured (the record's usage time);
        without it, the time the passport version was issued.
    """

    facts: en18223.PassportFacts
    battery_code: str
    points: frozenset[Point]
    attributes: Mapping[str, Any] = field(hash=False)
    measured_at: datetime | None = None


def view_points(sections: Collection[str]) -> frozenset[Point]:
    """The points a set of readable sections (credentials' ``accessGroup``s) hold.

    :raises KeyError: a name that is no section.
    """
    found: set[Point] = set()
    for name in sections:
        found |= points_of(name)
    return frozenset(found)


def attributes_of(subjects: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The catalog attributes of passport documents (a draft's documents, or the
    ``credentialSubject``s of stored credentials), by catalog key.

    :param subjects: section -> document; members that are no catalog term (``id``,
        ``type``, ``accessGroup`` ...) are skipped.
    """
    by_term = load_catalog().by_term
    found: dict[str, Any] = {}
    for subject in subjects.values():
        for term, value in subject.items():
            if term in by_term:
                found[by_term[term].key] = plain_value(value)
    return found


def subjects_view(
    facts: en18223.PassportFacts,
    battery_code: str,
    subjects: Mapping[str, Mapping[str, Any]],
    measured_at: datetime | None = None,
) -> PassportView:
    """The view of the sections a caller may read: their points, their attributes.

    :param subjects: section (``annex-xiii-N``, or an earlier access group) -> document.
    :raises KeyError: a name that is no section.
    """
    return PassportView(
        facts, battery_code, view_points(subjects), attributes_of(subjects), measured_at
    )


@dataclass(frozen=True)
class ElementGap:
    """A required template element an export lacks.

    :ivar path: its instance path (``StateOfCharge``, ``Markings``,
        ``ProductCarbonFootprints[0].ReferenceImpactUnitForCalculation``).
    :ivar reason: a key of :data:`REASONS`.
    :ivar attributes: the catalog attributes that would fill it.
    """

    submodel: str
    path: str
    semantic_id: str | None
    cardinality: str | None
    reason: str
    attributes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "submodel": self.submodel,
            "path": self.path,
            "semanticId": self.semantic_id,
            "cardinality": self.cardinality,
            "reason": self.reason,
            "why": REASONS[self.reason],
            "attributes": list(self.attributes),
        }


@dataclass(frozen=True)
class SubmodelReport:
    """One template's part in an export.

    :ivar id: the submodel's id in the export, ``None`` when not exported.
    :ivar filled: ``(instance path, attribute)`` of every value written.
    """

    name: str
    number: str
    version: str
    template_id: str
    id: str | None
    filled: tuple[tuple[str, str], ...]
    missing: tuple[ElementGap, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "submodel": self.name,
            "template": f"{self.number} {self.version}",
            "templateId": self.template_id,
            "exported": self.id is not None,
            "id": self.id,
            "filled": [{"path": p, "attribute": a} for p, a in self.filled],
            "missing": [g.as_json() for g in self.missing],
        }


@dataclass(frozen=True)
class AasExport:
    """An AAS environment of one passport view, and what it holds and lacks.

    :ivar store: the basyx objects (one shell, its submodels).
    :ivar metadata: the EN 18223 block the ``DppMetadata`` submodel carries.
    :ivar rejected: attribute values left out because the element cannot hold them.
    :ivar unmapped: ``noMatch`` rows: attributes no template element takes.
    """

    store: model.DictIdentifiableStore[model.Identifiable]
    shell_id: str
    points: frozenset[Point]
    mapping: IdtaMapping
    metadata: dict[str, Any]
    submodels: tuple[SubmodelReport, ...]
    rejected: tuple[Rejected, ...]
    unmapped: tuple[MappingRow, ...]

    def to_json(self) -> bytes:
        """The AAS JSON serialisation (``application/aas+json``)."""
        return self._json

    @cached_property
    def _json(self) -> bytes:
        # Serialised once: the export check reads the same bytes the response sends.
        return object_store_to_json(self.store, ensure_ascii=False).encode("utf-8")

    def to_aasx(self) -> bytes:
        """The AASX package, the environment as one JSON part."""
        buffer = io.BytesIO()
        with AASXWriter(buffer, failsafe=False) as writer:
            files = DictSupplementaryFileContainer()  # type: ignore[no-untyped-call]
            writer.write_aas(self.shell_id, self.store, files, True)
        return buffer.getvalue()

    def report(self) -> dict[str, Any]:
        """What the export holds and lacks, as JSON data (no attribute values)."""
        return {
            "shell": self.shell_id,
            "annexXiiiPoints": sorted(self.points),
            "mapping": self.mapping.ref,
            "mappingSha256": self.mapping.sha256,
            "submodels": [s.as_json() for s in self.submodels],
            "rejected": [
                {"attribute": r.attribute, "submodel": r.submodel, "path": r.path, "why": r.reason}
                for r in self.rejected
            ],
            "unmappedAttributes": [
                {"attribute": r.attribute, "why": r.comment} for r in self.unmapped
            ],
        }


def export_aas(view: PassportView, mapping: IdtaMapping | None = None) -> AasExport:
    """Build the AAS environment of a passport view.

    :param mapping: the IDTA-02035 mapping version (default: the current one).
    :raises ValueError: an unknown passport status or a naive time in ``view.facts``.
    """
    mapping = mapping or load_mapping()
    catalog = load_catalog()
    templates = load_templates()
    for moment in (view.facts.last_update, view.measured_at):
        if moment is not None and moment.tzinfo is None:
            raise ValueError("export times must be timezone-aware")
    points = frozenset(view.points)
    visible = {k: v for k, v in view.attributes.items() if _point(k) in points}
    facts = view.facts
    if facts.economic_operator_id is None:
        facts = replace(facts, economic_operator_id=en18223.economic_operator(visible))
    label = format_points(points)
    base = f"{facts.passport_id}/aas/points-{label.replace(' ', '-')}"
    filled = fill_submodels(
        mapping,
        visible,
        points,
        measured_at=view.measured_at or facts.last_update,
        catalog=catalog,
    )
    description = model.MultiLanguageTextType(
        {
            "en": f"Battery passport of {view.battery_code}: Annex XIII points "
            f"{', '.join(label.split())} of Regulation (EU) 2023/1542."
        }
    )
    reports: list[SubmodelReport] = []
    submodels: list[model.Submodel] = []
    used = [mapping.iri]
    for name in PARTS:
        template = templates[name]
        builder = filled.builders.get(name)
        if builder is None:
            gaps = _required_top(InstanceBuilder(template), mapping, points, filled.rejected)
            reports.append(
                SubmodelReport(
                    template.name,
                    template.number,
                    template.version,
                    template.template_id,
                    None,
                    (),
                    gaps,
                )
            )
            continue
        submodel = builder.build(
            f"{base}/{name}", description=description, extension=[_points_extension(label)]
        )
        submodels.append(submodel)
        used.append(template.template_id)
        reports.append(_report(builder, submodel.id, mapping, points, filled.rejected))
    dpp_template = templates[METADATA]
    block = en18223.metadata(facts, [*used, dpp_template.template_id])
    dpp = _metadata_builder(block)
    dpp_submodel = dpp.build(
        f"{base}/{METADATA}", description=description, extension=[_points_extension(label)]
    )
    submodels.append(dpp_submodel)
    reports.append(_report(dpp, dpp_submodel.id, mapping, points, filled.rejected))
    shell = model.AssetAdministrationShell(
        model.AssetInformation(
            asset_kind=model.AssetKind.INSTANCE,
            global_asset_id=facts.unique_product_identifier,
        ),
        base,
        id_short=SHELL_ID_SHORT,
        description=description,
        submodel={model.ModelReference.from_referable(s) for s in submodels},
        extension=[_points_extension(label)],
    )
    store: model.DictIdentifiableStore[model.Identifiable] = model.DictIdentifiableStore(
        [shell, *submodels]
    )
    return AasExport(
        store=store,
        shell_id=shell.id,
        points=points,
        mapping=mapping,
        metadata=block,
        submodels=tuple(reports),
        rejected=tuple(filled.rejected),
        unmapped=mapping.unmapped(),
    )


def _point(key: str) -> Point | None:
    attribute = load_catalog().by_key.get(key)
    return attribute.point if attribute is not None else None


def _points_extension(label: str) -> model.Extension:
    return model.Extension(POINTS_EXTENSION, value_type=str, value=label)


def _metadata_builder(block: Mapping[str, Any]) -> InstanceBuilder:
    builder = InstanceBuilder(load_templates()[METADATA])
    for name, value in block.items():
        if name == "contentSpecificationIds":
            for item in value:
                builder.place(parse_path(f"{name}[]"), item, "metadata", new_item=True)
            continue
        element = builder.template.element(name)
        if element.value_type == "xs:dateTime":
            value = datetime.fromisoformat(value)
        builder.place(parse_path(name), value, "metadata")
    return builder


def _report(
    builder: InstanceBuilder,
    submodel_id: str,
    mapping: IdtaMapping,
    points: frozenset[Point],
    rejected: list[Rejected],
) -> SubmodelReport:
    template = builder.template
    missing = tuple(
        _gap(template.name, label, element, mapping, points, rejected)
        for label, element in builder.missing()
    )
    return SubmodelReport(
        template.name,
        template.number,
        template.version,
        template.template_id,
        submodel_id,
        tuple((p.path, p.source) for p in builder.placed),
        missing,
    )


def _required_top(
    builder: InstanceBuilder,
    mapping: IdtaMapping,
    points: frozenset[Point],
    rejected: list[Rejected],
) -> tuple[ElementGap, ...]:
    return tuple(
        _gap(builder.template.name, label, element, mapping, points, rejected)
        for label, element in builder.missing()
    )


def _gap(
    submodel: str,
    label: str,
    element: TemplateElement,
    mapping: IdtaMapping,
    points: frozenset[Point],
    rejected: list[Rejected],
) -> ElementGap:
    rows = [
        r
        for r in mapping.rows
        if r.mapped and r.submodel == submodel and _within(template_path(r.steps), element.path)
    ]
    keys = tuple(dict.fromkeys(r.attribute for r in rows))
    if submodel == METADATA:
        keys = en18223.OPERATOR_ATTRIBUTES if element.path == "economicOperatorId" else ()
        reason = "no_value"
    elif not keys:
        reason = "unmapped"
    elif any(r.attribute in keys and r.submodel == submodel for r in rejected):
        reason = "rejected"
    elif all(load_catalog().by_key[k].point not in points for k in keys):
        reason = "not_in_view"
    else:
        reason = "no_value"
    return ElementGap(submodel, label, element.semantic_id, element.cardinality, reason, keys)


def _within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(f"{ancestor}.") or path.startswith(f"{ancestor}[")
