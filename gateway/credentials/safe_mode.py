"""Nothing in a credential may be left out of its RDF: the JSON-side half of safe mode.

VC Data Integrity 1.0 §4.4 asks a verifier to fail when the JSON-LD to RDF conversion
drops anything (DATA_LOSS_DETECTION_ERROR); jsonld.js calls this "safe mode". pyld has
no such mode, and pyoxigraph drops silently what it cannot represent, so a member the
signature never covered would still be shown to a reader of the JSON. The processors'
hooks and sentinels (:mod:`gateway.credentials.rdfc`) catch undefined terms and relative
IRIs; this walk catches what they cannot see, with the JSON pointer of the member:

* a JSON member that carries no RDF: a key in keyword form that is not a keyword
  (``@comment``), ``@index``, ``@direction`` (also as a context default, and through an
  alias such as ``"idx": "@index"``), a term mapped to null, a key of an ``@index`` map,
  a ``null`` value, a free-floating value or a node with only an ``@id`` in ``@graph``,
  ``@included`` or a graph container, a keyword-like IRI value (``"@hidden"``);
* an ill-formed IRI (RFC 3987) where JSON-LD expects one: ``@id`` / ``@type`` and their
  aliases, values of terms typed ``@id`` or ``@vocab``, keys written as IRIs, and every
  IRI in an inline context (a ``type`` mapped to ``https ://…`` is dropped);
* an ill-formed BCP 47 language tag: ``@language`` (or an alias of it) in value objects
  and contexts, keys of language maps.

Which keys hold IRIs depends on the contexts; the walk takes the union over every
context the document uses, scoped contexts included, which can only make it stricter.
A pinned context is summarised once per loaded document. The walk runs before either
canonicalization path, on issue and on verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway import jsonpointer
from gateway.credentials.lexical import (
    has_scheme,
    is_absolute_iri,
    is_iri_reference,
    is_language_tag,
)
from gateway.errors import JsonLdError
from gateway.jsontext import MAX_DEPTH
from gateway.vocab.loader import DocumentLoader

#: JSON-LD 1.1 keywords that may appear as keys of node and value objects and produce
#: (or shape) RDF. ``@index`` is a keyword but carries no RDF, so it is refused; so is
#: ``@direction``, which JSON-LD to RDF drops unless an ``rdfDirection`` mode is chosen,
#: and the implementations do not agree on one (a flipped direction would still verify).
_BODY_KEYWORDS = frozenset(
    {
        "@context",
        "@id",
        "@type",
        "@value",
        "@language",
        "@graph",
        "@included",
        "@list",
        "@set",
        "@reverse",
        "@nest",
        "@json",
    }
)
_NO_RDF = "carries no RDF (JSON-LD to RDF drops it)"
#: A base a scheme-less reference is tried against (the processors resolve it).
_PROBE_BASE = "https://relative-iri.invalid/"
_IRI_KEYWORDS = frozenset({"@id", "@type"})
_SCALARS = frozenset({str, int, float, bool, type(None)})
_IRI, _JSON, _LANGUAGE_MAP = "iri", "json", "language-map"
_DROPPED, _INDEX_MAP, _LANGUAGE = "dropped", "index-map", "language"
#: Keywords an alias may stand for whose value carries no RDF (an alias would otherwise
#: slip past the literal ``@index`` / ``@direction`` check of the walk).
_NO_RDF_KEYWORDS = frozenset({"@index", "@direction"})
#: Keys that give a free-floating node (an element of ``@graph`` / ``@included``) a
#: triple of its own; a node with only an ``@id`` produces none.
_NODE_CONTENT = frozenset({"@type", "@reverse", "@graph"})
_VALUE_KEYWORDS = frozenset({"@value", "@list", "@set"})
#: ``@type`` values in a term definition that are keywords, not datatype IRIs.
_TYPE_KEYWORDS = frozenset({"@id", "@vocab", "@json", "@none"})


@dataclass
class ContextSummary:
    """What the walk needs to know of a set of contexts.

    :param iri_keys: keys whose string values the processors read as IRIs.
    :param json_keys: keys typed ``@json`` (their values are literals, not JSON-LD).
    :param language_maps: keys with a ``@language`` container (their keys are tags).
    :param dropped: keys whose members JSON-LD to RDF drops, with why: terms mapped to
        null and aliases of ``@index`` / ``@direction``.
    :param index_maps: keys with an ``@index`` container and no ``@index`` property:
        the map's keys carry no RDF.
    :param graph_maps: keys with a ``@graph`` container: their values are free-floating
        nodes of a new graph.
    :param aliases: keys that stand for a keyword (``"id": "@id"``), by that keyword.
    """

    iri_keys: set[str] = field(default_factory=lambda: set(_IRI_KEYWORDS))
    json_keys: set[str] = field(default_factory=set)
    language_maps: set[str] = field(default_factory=set)
    dropped: dict[str, str] = field(default_factory=dict)
    index_maps: set[str] = field(default_factory=set)
    graph_maps: set[str] = field(default_factory=set)
    aliases: dict[str, str] = field(default_factory=dict)

    def merge(self, other: ContextSummary) -> None:
        self.iri_keys |= other.iri_keys
        self.json_keys |= other.json_keys
        self.language_maps |= other.language_maps
        self.dropped.update(other.dropped)
        self.index_maps |= other.index_maps
        self.graph_maps |= other.graph_maps
        self.aliases.update(other.aliases)


def _refuse(pointer: str, message: str, rule: str = "dropped-value") -> None:
    raise JsonLdError(
        f"{pointer or '/'}: {message}; it would not reach the signed RDF dataset",
        pointer=pointer or "/",
        rule=rule,
    )


def _check_iri(value: Any, pointer: str, what: str) -> None:
    if not isinstance(value, str) or not _is_iri_or_blank(value):
        _refuse(pointer, f"{what} is not a well-formed IRI (RFC 3987)")


def _check_language(value: Any, pointer: str) -> None:
    if value is not None and not is_language_tag(value):
        _refuse(pointer, "language tag is not well-formed (BCP 47)")


# -- contexts --------------------------------------------------------------------------

_REMOTE: dict[int, tuple[object, ContextSummary]] = {}


def summarise(ctx: Any, pointer: str, loader: DocumentLoader) -> ContextSummary:
    """Check a context (URL, object or list) and summarise the keys it makes special.

    :param ctx: the value of an ``@context`` member.
    :param pointer: its JSON pointer, named in errors.
    :param loader: serves context URLs.
    :raises JsonLdError: an ill-formed IRI or language tag in the context.
    :raises ContextError: a URL the loader does not serve.
    """
    out = ContextSummary()
    for i, item in enumerate(ctx if isinstance(ctx, list) else [ctx]):
        where = f"{pointer}/{i}" if isinstance(ctx, list) else pointer
        if isinstance(item, str):
            out.merge(_remote(item, loader))
        elif isinstance(item, Mapping):
            _context_object(item, where, loader, out)
    return out


def _remote(url: str, loader: DocumentLoader) -> ContextSummary:
    served = loader(url, None)["document"]
    hit = _REMOTE.get(id(served))
    if hit is not None and hit[0] is served:
        return hit[1]
    inner = served.get("@context") if isinstance(served, Mapping) else None
    summary = summarise(inner, url, loader) if inner is not None else ContextSummary()
    if len(_REMOTE) > 256:
        _REMOTE.clear()
    _REMOTE[id(served)] = (served, summary)
    return summary


def _context_object(
    ctx: Mapping[str, Any], pointer: str, loader: DocumentLoader, out: ContextSummary
) -> None:
    for key, definition in ctx.items():
        at = jsonpointer.child(pointer, key)
        if key in ("@vocab", "@base"):
            if definition is not None:
                _check_iri(definition, at, key)
            continue
        if key == "@language":
            _check_language(definition, at)
            continue
        if key == "@direction":
            if definition is not None:
                _refuse(at, f"a default @direction {_NO_RDF}")
            continue
        if key == "@import":
            out.merge(summarise(definition, at, loader))
            continue
        if key.startswith("@"):
            continue
        if has_scheme(key):
            _check_iri(key, at, "term")
        # A term mapped to null is ignored by expansion, and an alias of a keyword acts as
        # that keyword: both must be known to the walk, or their members go unsigned.
        target = definition.get("@id", "") if isinstance(definition, Mapping) else definition
        if target is None:
            out.dropped[key] = "the term is mapped to null: its members carry no RDF"
        elif isinstance(target, str) and target[:1] == "@":
            out.aliases[key] = target
            if target in _NO_RDF_KEYWORDS:
                out.dropped[key] = f"an alias of {target} {_NO_RDF}"
        if isinstance(definition, str):
            _check_iri(definition, at, f"IRI of term {key!r}")
            if definition in _IRI_KEYWORDS:
                out.iri_keys.add(key)
            continue
        if not isinstance(definition, Mapping):
            continue
        for member in ("@id", "@reverse"):
            if isinstance(definition.get(member), str):
                _check_iri(definition[member], f"{at}/{member}", f"IRI of term {key!r}")
        if definition.get("@id") in _IRI_KEYWORDS:
            out.iri_keys.add(key)
        kind = definition.get("@type")
        if kind in ("@id", "@vocab"):
            out.iri_keys.add(key)
        elif kind == "@json":
            out.json_keys.add(key)
        elif isinstance(kind, str) and kind not in _TYPE_KEYWORDS:
            _check_iri(kind, f"{at}/@type", f"datatype of term {key!r}")
        if "@language" in definition:
            _check_language(definition["@language"], f"{at}/@language")
        if definition.get("@direction") is not None:
            _refuse(f"{at}/@direction", f"@direction {_NO_RDF}")
        container = definition.get("@container")
        containers = container if isinstance(container, list) else [container]
        if "@language" in containers:
            out.language_maps.add(key)
        if "@index" in containers and "@index" not in definition:
            out.index_maps.add(key)  # the keys of an index map are not in the RDF
        if "@graph" in containers:
            out.graph_maps.add(key)
        if "@context" in definition:
            out.merge(summarise(definition["@context"], f"{at}/@context", loader))


# -- the document ----------------------------------------------------------------------


def check_document(document: Mapping[str, Any], loader: DocumentLoader) -> None:
    """Refuse a JSON-LD document any of whose members or values would not reach its RDF.

    :param document: the JSON-LD document (unsecured: without ``proof``).
    :param loader: serves the context URLs.
    :raises JsonLdError: the first member that would be lost, named by its JSON pointer
        (``rule``: ``dropped-value``), or nesting deeper than the accepted depth
        (``rule``: ``limit``).
    :raises ContextError: a context URL the loader does not serve.
    """
    summary = ContextSummary()
    if "@context" in document:
        summary.merge(summarise(document["@context"], "/@context", loader))
    walk = _Walk(summary)
    walk.node(document, 0)
    if walk.nested:
        # Contexts below the top level: walk again with the keys they make special.
        for pointer, ctx in walk.nested:
            summary.merge(summarise(ctx, pointer, loader))
        _Walk(summary).node(document, 0)


class _Walk:
    """One recursive pass; the JSON pointer is kept as a stack of keys and only joined
    into a string when something is refused (the walk runs on every issued credential).
    """

    def __init__(self, summary: ContextSummary) -> None:
        # one dict look-up per key; a key typed @json in one scope is skipped in all
        self.special: dict[str, str] = {
            **{k: _LANGUAGE_MAP for k in summary.language_maps},
            **{k: _IRI for k in summary.iri_keys},
            **{k: _LANGUAGE for k, v in summary.aliases.items() if v == "@language"},
            **{k: _JSON for k in summary.json_keys},
            **{k: _INDEX_MAP for k in summary.index_maps},
            **{k: _DROPPED for k in summary.dropped},
        }
        self.dropped = summary.dropped
        self.graph_maps = summary.graph_maps
        self.aliases = summary.aliases
        self.path: list[str] = []
        self.nested: list[tuple[str, Any]] = []

    def pointer(self, *more: str | int) -> str:
        return jsonpointer.join((*self.path, *more))

    def refuse(self, message: str, *more: str | int) -> None:
        _refuse(self.pointer(*more), message)

    def node(self, value: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise JsonLdError(
                f"the document nests deeper than {MAX_DEPTH} levels",
                pointer=self.pointer(),
                rule="limit",
            )
        kind = type(value)
        if kind is list:
            path = self.path
            for i, item in enumerate(value):
                if item is None:
                    self.refuse("null carries no RDF", i)
                item_kind = type(item)
                if (
                    item_kind is dict
                    or item_kind is list
                    or (item_kind not in _SCALARS and isinstance(item, Mapping))
                ):
                    path.append(str(i))
                    self.node(item, depth + 1)
                    path.pop()
            return
        if kind is not dict and not isinstance(value, Mapping):
            return
        path = self.path
        for key, item in value.items():
            if item is None and key != "@context":
                self.refuse("null carries no RDF", key)
            if key[:1] == "@":
                if key == "@context":
                    if depth:
                        self.nested.append((self.pointer(key), item))
                    continue
                if key not in _BODY_KEYWORDS:
                    self.refuse(f"{key} {_NO_RDF}", key)
                if key == "@value":
                    continue  # a literal, JSON literals (@json) included
                if key == "@language":
                    if not is_language_tag(item):
                        self.refuse("language tag is not well-formed (BCP 47)", key)
                    continue
            elif key not in _GOOD_KEYS and not _good_key(key):
                # a term or an IRI; under the sentinel @vocab an undefined key with
                # characters no IRI may hold would vanish instead of being reported
                self.refuse("the key is neither a term nor a well-formed IRI (RFC 3987)", key)
            item_kind = type(item)
            special = self.special.get(key)
            if special is not None:
                if special is _DROPPED:
                    self.refuse(self.dropped[key], key)
                if special is _LANGUAGE:
                    if not is_language_tag(item):
                        self.refuse("language tag is not well-formed (BCP 47)", key)
                    continue
                if special is _INDEX_MAP and item_kind is dict:
                    for index in item:
                        if index != "@none":
                            self.refuse("the key of an index map carries no RDF", key, index)
            keyword = key if key[:1] == "@" else self.aliases.get(key)
            if keyword in ("@graph", "@included") or key in self.graph_maps:
                self._free_floating(item, key)
            if special is _JSON:
                continue
            if special is _IRI:
                if item_kind is str:
                    if not _is_iri_value(item):
                        self.refuse("the value is not a well-formed IRI (RFC 3987)", key)
                    continue
                if item_kind is list:
                    for i, each in enumerate(item):
                        if type(each) is str and not _is_iri_value(each):
                            self.refuse("the value is not a well-formed IRI (RFC 3987)", key, i)
            elif special is _LANGUAGE_MAP and item_kind is dict:
                # keys are language tags, values strings (pyld refuses anything else)
                for tag, texts in item.items():
                    if tag != "@none" and not is_language_tag(tag):
                        self.refuse("language tag is not well-formed (BCP 47)", key, tag)
                    if texts is None or (type(texts) is list and None in texts):
                        self.refuse("null carries no RDF", key, tag)
                continue
            if (
                item_kind is dict
                or item_kind is list
                or (item_kind not in _SCALARS and isinstance(item, Mapping))
            ):
                path.append(key)
                self.node(item, depth + 1)
                path.pop()

    def _free_floating(self, value: Any, key: str) -> None:
        """Nodes of ``@graph`` / ``@included`` or a graph container are subjects of their
        own triples or nothing: a string, a value object, a list, or a node with only an
        ``@id`` yields no triple, and its content would go unsigned."""
        for i, item in enumerate(value) if type(value) is list else [(None, value)]:
            at = (key,) if i is None else (key, i)
            if not isinstance(item, Mapping):
                if item is not None:
                    self.refuse("a free-floating value carries no RDF", *at)
                continue
            keywords = {k if k[:1] == "@" else self.aliases.get(k, "") for k in item}
            if keywords & _VALUE_KEYWORDS:
                self.refuse("a free-floating value carries no RDF", *at)
            # "" stands for a property (a key that is no keyword nor an alias of one)
            if "@id" in keywords and not ("" in keywords or keywords & _NODE_CONTENT):
                self.refuse("a node with only an @id and no property carries no RDF", *at)


#: Keys already found well-formed; credentials of one vocabulary share most of them.
_GOOD_KEYS: set[str] = set()


def _is_reference(value: str) -> bool:
    """An IRI reference that stays one when resolved against a base. The lexical check
    takes a scheme-less reference's characters wherever RFC 3987 allows them (a ``[``,
    a private-use character), but in the path a base puts them in they make no IRI, and
    pyoxigraph then drops the value without a word where pyld refuses it."""
    if not is_iri_reference(value):
        return False
    return has_scheme(value) or is_absolute_iri(_PROBE_BASE + value)


def _good_key(key: str) -> bool:
    if not _is_reference(key):
        return False  # a blank node identifier is no property either (not standard RDF)
    if len(_GOOD_KEYS) >= 4096:
        _GOOD_KEYS.clear()
    _GOOD_KEYS.add(key)
    return True


def _is_iri_or_blank(value: str) -> bool:
    """An IRI reference, a blank node identifier, or a keyword (``@id``, ``@json`` …;
    a keyword-like value the processors report themselves)."""
    if value[:2] == "_:":
        return len(value) > 2 and not any(c.isspace() for c in value)
    return value[:1] == "@" or _is_reference(value)


def _is_iri_value(value: str) -> bool:
    """An IRI where the document body holds one. A keyword-like string (``"@hidden"``)
    is ignored by JSON-LD 1.1 expansion, and pyoxigraph drops it without a word, so only
    ``@json`` (the ``@type`` of a JSON literal) is taken."""
    if value[:1] == "@":
        return value == "@json"
    return _is_iri_or_blank(value)
