"""The IDTA submodel templates shipped in ``vocab/idta/``, and instances built from them.

Each template file (IDTA-02035 parts 1-7, IDTA-02099-1) is an AAS environment holding one
submodel template: ``idShort``s, ``semanticId``s, value types and cardinalities
(qualifier ``SMT/Cardinality``). :func:`load_templates` reads them with
``basyx-python-sdk`` in strict mode and indexes every element by its *template path*:
``idShort``s joined by dots, a SubmodelElementList's item written ``[]``
(``RecycledContentInformation[].PreConsumerShare``).

:class:`InstanceBuilder` builds an instance submodel from placed values: every element
it writes takes its ``idShort``, ``semanticId`` and value type from the template and
nothing else, so an export can never carry a ``semanticId`` that no template defines.
It follows the metamodel where the template copies do not (see ``vocab/idta/SOURCES.md``):
list items carry no ``idShort`` (AASd-120). :meth:`InstanceBuilder.missing` walks the
template beside the instance and names every ``One``/``OneToMany`` element that is absent
under a parent that is present: the cardinality gaps.

An instance path names one element of an instance: list items are written ``[i]``
(their position) or ``[Key=Value]`` (the item whose property ``Key`` holds ``Value``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from basyx.aas import model
from basyx.aas.adapter.json import read_aas_json_file
from basyx.aas.model import datatypes

from gateway.errors import MappingInvalid
from gateway.paths import VOCAB_DIR

TEMPLATES_DIR = VOCAB_DIR / "idta"
CARDINALITY_QUALIFIER = "SMT/Cardinality"
#: Cardinalities that make an element required where its parent is present.
REQUIRED = frozenset({"One", "OneToMany"})
#: Element kinds an instance may hold values in.
VALUE_KINDS = frozenset({"Property", "MultiLanguageProperty"})
_FILE_NAME = re.compile(r"(IDTA-\d{5}-\d+)_([A-Za-z]+)_(\d+\.\d+(?:\.\d+)?)\.json")
_STEP = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)(?:\[([^\]]*)\])?")
_SELECTOR = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)=(.+)")


@dataclass(frozen=True)
class TemplateElement:
    """One element of a submodel template.

    :ivar path: its template path.
    :ivar id_short: ``None`` for a list item.
    :ivar kind: the metamodel class name (``Property``, ``SubmodelElementList`` ...).
    :ivar cardinality: the ``SMT/Cardinality`` qualifier, ``None`` where the template
        states none (then the element counts as optional).
    :ivar value_type: a Property's ``valueType``, a list's ``valueTypeListElement``.
    :ivar children: template paths of the children, in template order (a list has one:
        its item).
    """

    path: str
    id_short: str | None
    kind: str
    semantic_id: str | None
    cardinality: str | None
    value_type: str | None = None
    type_value_list_element: str | None = None
    semantic_id_list_element: str | None = None
    order_relevant: bool = True
    content_type: str | None = None
    children: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.cardinality in REQUIRED


@dataclass(frozen=True)
class Template:
    """One submodel template.

    :ivar name: the submodel's ``idShort`` (``TechnicalData``), the key templates are
        looked up by.
    :ivar number: the IDTA number with its part (``IDTA-02035-4``).
    :ivar template_id: the template submodel's ``id``; instances name it in
        ``administration.templateId`` and the DPP metadata lists it.
    """

    name: str
    number: str
    version: str
    file: str
    template_id: str
    semantic_id: str
    elements: Mapping[str, TemplateElement] = field(hash=False, compare=False)
    top: tuple[str, ...]

    def element(self, path: str) -> TemplateElement:
        """The element at a template path.

        :raises KeyError: none there.
        """
        return self.elements[path]

    def walk(self) -> Iterator[TemplateElement]:
        """Every element, depth first in template order."""

        def below(paths: tuple[str, ...]) -> Iterator[TemplateElement]:
            for path in paths:
                element = self.elements[path]
                yield element
                yield from below(element.children)

        yield from below(self.top)


def reference_value(reference: model.Reference | None) -> str | None:
    """The identifier a (single-key) semantic reference names."""
    if reference is None:
        return None
    keys = list(reference.key)
    return "/".join(k.value for k in keys) if keys else None


def _cardinality(element: model.SubmodelElement) -> str | None:
    for qualifier in element.qualifier:
        if qualifier.type == CARDINALITY_QUALIFIER:
            return str(qualifier.value)
    return None


def _xsd(value_type: Any) -> str | None:
    return None if value_type is None else datatypes.XSD_TYPE_NAMES[value_type]


def _index(
    element: model.SubmodelElement, path: str, out: dict[str, TemplateElement], in_list: bool
) -> str:
    kind = type(element).__name__
    children: list[str] = []
    extra: dict[str, Any] = {}
    if isinstance(element, model.SubmodelElementList):
        items = list(element.value)
        if len(items) != 1:
            raise MappingInvalid(f"template list {path} holds {len(items)} item templates, not 1")
        children.append(_index(items[0], f"{path}[]", out, True))
        extra = {
            "value_type": _xsd(element.value_type_list_element),
            "type_value_list_element": element.type_value_list_element.__name__,
            "semantic_id_list_element": reference_value(element.semantic_id_list_element),
            "order_relevant": element.order_relevant,
        }
    elif isinstance(element, model.SubmodelElementCollection):
        children.extend(_index(c, f"{path}.{c.id_short}", out, False) for c in element.value)
    elif isinstance(element, model.Property):
        extra = {"value_type": _xsd(element.value_type)}
    elif isinstance(element, model.File):
        extra = {"content_type": element.content_type}
    out[path] = TemplateElement(
        path=path,
        id_short=None if in_list else element.id_short,
        kind=kind,
        semantic_id=reference_value(element.semantic_id),
        cardinality=_cardinality(element),
        children=tuple(children),
        **extra,
    )
    return path


def read_template(path: Path) -> Template:
    """Read one template file (strict: anything basyx cannot build is an error).

    :raises MappingInvalid: the file name is not ``IDTA-NNNNN-P_Name_Version.json``, or
        the file holds not exactly one submodel.
    """
    match = _FILE_NAME.fullmatch(path.name)
    if match is None:
        raise MappingInvalid(f"{path.name}: not an IDTA template file name")
    with path.open(encoding="utf-8") as f:
        store = read_aas_json_file(f, failsafe=False)
    submodels = [o for o in store if isinstance(o, model.Submodel)]
    if len(submodels) != 1:
        raise MappingInvalid(f"{path.name}: holds {len(submodels)} submodels, not 1")
    [submodel] = submodels
    elements: dict[str, TemplateElement] = {}
    top = tuple(_index(e, str(e.id_short), elements, False) for e in submodel.submodel_element)
    semantic_id = reference_value(submodel.semantic_id)
    if submodel.id_short is None or semantic_id is None:
        raise MappingInvalid(f"{path.name}: the submodel has no idShort or semanticId")
    return Template(
        name=submodel.id_short,
        number=match.group(1),
        version=match.group(3),
        file=path.name,
        template_id=submodel.id,
        semantic_id=semantic_id,
        elements=MappingProxyType(elements),
        top=top,
    )


@cache
def load_templates() -> Mapping[str, Template]:
    """Every shipped template by submodel ``idShort``, read once.

    :raises MappingInvalid: a file breaks the rules of :func:`read_template`, or two
        templates share a submodel ``idShort``.
    """
    found: dict[str, Template] = {}
    for path in sorted(TEMPLATES_DIR.glob("IDTA-*.json")):
        template = read_template(path)
        if template.name in found:
            raise MappingInvalid(f"{path.name}: submodel {template.name} repeats")
        found[template.name] = template
    return MappingProxyType(found)


@cache
def template_semantic_ids() -> frozenset[str]:
    """Every ``semanticId`` the shipped templates define (submodels and elements)."""
    ids: set[str] = set()
    for template in load_templates().values():
        ids.add(template.semantic_id)
        for element in template.walk():
            ids.update(s for s in (element.semantic_id, element.semantic_id_list_element) if s)
    return frozenset(ids)


# -- paths -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a path: an ``idShort``, and for a list whether an item is meant and which.

    :ivar item: ``None`` for no list item, ``""`` for ``[]``, else the selector text.
    """

    id_short: str
    item: str | None = None

    @property
    def selector(self) -> tuple[str, str] | None:
        """``(Key, Value)`` of a ``[Key=Value]`` step."""
        match = _SELECTOR.fullmatch(self.item or "")
        return (match.group(1), match.group(2)) if match else None


def parse_path(text: str) -> tuple[Step, ...]:
    """Split a mapping path (``A.B[].C``, ``A[Key=Value].C``) into steps.

    :raises ValueError: a step is not an ``idShort`` with an optional ``[...]``, or a
        selector is not ``Key=Value``.
    """
    steps = []
    # A selector value may hold dots; split only outside brackets.
    for part in re.findall(r"(?:[^.\[]|\[[^\]]*\])+", text):
        match = _STEP.fullmatch(part)
        if match is None:
            raise ValueError(f"{part!r} is not an idShort with an optional [...]")
        step = Step(match.group(1), match.group(2))
        if step.item and step.selector is None:
            raise ValueError(f"[{step.item}] is not [] or [Key=Value]")
        steps.append(step)
    if not steps or ".".join(_step_text(s) for s in steps) != text:
        raise ValueError(f"{text!r} is not a path of dotted idShorts")
    return tuple(steps)


def _step_text(step: Step) -> str:
    return step.id_short if step.item is None else f"{step.id_short}[{step.item}]"


def template_path(steps: tuple[Step, ...]) -> str:
    """The template path of a parsed mapping path (selectors become ``[]``)."""
    return ".".join(s.id_short if s.item is None else f"{s.id_short}[]" for s in steps)


# -- instances ---------------------------------------------------------------------------


@dataclass
class _Node:
    element: TemplateElement
    label: str  # the instance path
    value: Any = None
    children: dict[str, _Node] = field(default_factory=dict)
    items: list[_Node] = field(default_factory=list)
    selector: tuple[str, str] | None = None


@dataclass(frozen=True)
class Placed:
    """A value written into an instance: where, and from which attribute."""

    path: str
    semantic_id: str | None
    value: Any
    source: str


class InstanceBuilder:
    """An instance of one template, filled a value at a time.

    :param template: the template.
    """

    def __init__(self, template: Template) -> None:
        self.template = template
        self._top: dict[str, _Node] = {}
        self.placed: list[Placed] = []

    @property
    def empty(self) -> bool:
        return not self._top

    def _child(self, siblings: dict[str, _Node], path: str, label: str) -> _Node:
        node = siblings.get(path)
        if node is None:
            node = siblings[path] = _Node(self.template.element(path), label)
        return node

    def place(
        self, steps: tuple[Step, ...], value: Any, source: str, *, new_item: bool = False
    ) -> Placed:
        """Write ``value`` at a mapping path, creating the parents it needs.

        A ``[]`` step picks the list's first item (creating it), or with ``new_item`` on
        the last step appends one; a ``[Key=Value]`` step picks the item whose ``Key``
        holds ``Value``, creating it with that property written.

        :param value: a basyx value for a Property, a ``{language: text}`` mapping for a
            MultiLanguageProperty.
        :raises KeyError: the path is not in the template.
        :raises ValueError: the element at the path holds no value, or already has one.
        """
        siblings = self._top
        prefix: list[str] = []
        label = ""
        node: _Node | None = None
        for index, step in enumerate(steps):
            prefix.append(step.id_short)
            path = ".".join(prefix)
            label = f"{label}.{step.id_short}" if label else step.id_short
            node = self._child(siblings, path, label)
            if step.item is not None:
                last = index == len(steps) - 1
                node = self._item(node, path, step, new_item and last, source)
                prefix[-1] = f"{step.id_short}[]"
                label = node.label
            siblings = node.children
        assert node is not None
        if node.element.kind not in VALUE_KINDS:
            raise ValueError(f"{node.label} is a {node.element.kind}, which holds no value")
        if node.value is not None:
            raise ValueError(f"{node.label} already holds a value")
        node.value = value
        placed = Placed(node.label, node.element.semantic_id, value, source)
        self.placed.append(placed)
        return placed

    def _item(self, lst: _Node, path: str, step: Step, append: bool, source: str) -> _Node:
        item_path = f"{path}[]"
        selector = step.selector
        if selector is not None:
            for item in lst.items:
                if item.selector == selector:
                    return item
        elif lst.items and not append:
            return lst.items[0]
        position = len(lst.items)
        label = (
            f"{lst.label}[{selector[0]}={selector[1]}]" if selector else f"{lst.label}[{position}]"
        )
        item = _Node(self.template.element(item_path), label, selector=selector)
        lst.items.append(item)
        if selector is not None:
            key_path = f"{item_path}.{selector[0]}"
            key = self._child(item.children, key_path, f"{label}.{selector[0]}")
            key.value = from_lexical(selector[1], key.element.value_type or "xs:string")
            self.placed.append(Placed(key.label, key.element.semantic_id, key.value, source))
        return item

    # -- reading back ---------------------------------------------------------------------

    def missing(self) -> list[tuple[str, TemplateElement]]:
        """Required template elements absent under a present parent.

        :returns: ``(instance path, element)`` pairs.
        """
        found: list[tuple[str, TemplateElement]] = []

        def check(children: tuple[str, ...], present: Mapping[str, _Node], parent: str) -> None:
            for path in children:
                element = self.template.element(path)
                node = present.get(path)
                name = element.id_short or ""
                label = f"{parent}.{name}" if parent else name
                if node is None:
                    if element.required:
                        found.append((label, element))
                    continue
                visit(node)

        def visit(node: _Node) -> None:
            if node.element.kind == "SubmodelElementList":
                for item in node.items:
                    visit(item)
            elif node.element.kind == "SubmodelElementCollection":
                check(node.element.children, node.children, node.label)

        check(self.template.top, self._top, "")
        return found

    # -- building -------------------------------------------------------------------------

    def build(self, submodel_id: str, **kwargs: Any) -> model.Submodel:
        """The basyx submodel (kind Instance) of what was placed.

        :param kwargs: further :class:`basyx.aas.model.Submodel` arguments
            (``description``, ``extension`` ...).
        """
        return model.Submodel(
            submodel_id,
            submodel_element=[
                self._render(self._top[p]) for p in self.template.top if p in self._top
            ],
            id_short=self.template.name,
            semantic_id=global_reference(self.template.semantic_id),
            administration=model.AdministrativeInformation(template_id=self.template.template_id),
            kind=model.ModellingKind.INSTANCE,
            **kwargs,
        )

    def _render(self, node: _Node) -> model.SubmodelElement:
        element = node.element
        semantic_id = global_reference(element.semantic_id)
        if element.kind == "Property":
            return model.Property(
                element.id_short,
                datatypes.XSD_TYPE_CLASSES[element.value_type or "xs:string"],
                node.value,
                semantic_id=semantic_id,
            )
        if element.kind == "MultiLanguageProperty":
            return model.MultiLanguageProperty(
                element.id_short, model.MultiLanguageTextType(node.value), semantic_id=semantic_id
            )
        if element.kind == "SubmodelElementCollection":
            return model.SubmodelElementCollection(
                element.id_short,
                [self._render(node.children[p]) for p in element.children if p in node.children],
                semantic_id=semantic_id,
            )
        if element.kind == "SubmodelElementList":
            item_type = self.template.element(element.children[0])
            return model.SubmodelElementList(
                element.id_short,
                _ELEMENT_CLASSES[item_type.kind],
                [self._render(item) for item in node.items],
                semantic_id_list_element=global_reference(element.semantic_id_list_element),
                value_type_list_element=(
                    datatypes.XSD_TYPE_CLASSES[element.value_type] if element.value_type else None
                ),
                order_relevant=element.order_relevant,
                semantic_id=semantic_id,
            )
        raise ValueError(f"{node.label}: instances of {element.kind} are not built")


_ELEMENT_CLASSES: Mapping[str, type[model.SubmodelElement]] = MappingProxyType(
    {
        "Property": model.Property,
        "MultiLanguageProperty": model.MultiLanguageProperty,
        "SubmodelElementCollection": model.SubmodelElementCollection,
        "SubmodelElementList": model.SubmodelElementList,
        "File": model.File,
    }
)


def global_reference(value: str | None) -> model.ExternalReference | None:
    """An external reference with one ``GlobalReference`` key (how templates write
    ``semanticId``s)."""
    if value is None:
        return None
    return model.ExternalReference((model.Key(model.KeyTypes.GLOBAL_REFERENCE, value),))


def from_lexical(text: str, value_type: str) -> Any:
    """A value of an XSD type from its lexical form, as basyx holds it.

    :raises ValueError: ``text`` is no value of ``value_type``.
    """
    cls = datatypes.XSD_TYPE_CLASSES.get(value_type)
    if cls is None:
        raise ValueError(f"{value_type} is not an XSD type the AAS knows")
    return datatypes.from_xsd(text, cls)
