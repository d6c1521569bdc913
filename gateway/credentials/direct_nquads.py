"""Canonical N-Quads read straight off a JSON-LD document whose graph has no blank nodes.

RDFC-1.0 (§4.4) relabels blank nodes and sorts; a graph without blank nodes has nothing
to relabel, so its canonical form is its set of quads, each written in canonical N-Quads
(§4.3 / pyld's serializer), sorted in code point order. The credentials the gateway
issues are such graphs: the credential, its subject and its status entries all carry an
``id``, and every value is a string, a safe integer or a boolean under a term of a
pinned context. For them the general canonicalizer's work (JSON-LD expansion, a dataset,
hashing) buys nothing, and reading the quads off the JSON costs a few per cent of it.

The emitter covers a narrow part of JSON-LD and answers ``None`` for anything outside
it, so that the general path (:func:`gateway.credentials.rdfc.canonicalize`) decides,
and raises where the document would lose data:

* ``@context`` is one context URL or a list of them, served by the loader, whose
  processing sets no ``@vocab``, ``@language``, ``@direction`` or ``@base``;
* every node object has an ``id`` that is an absolute IRI (no blank nodes), no
  ``@context`` below the top, and only keys that are terms, ``id`` or ``type`` aliases;
* a term is used only if its definition has no ``@reverse``, ``@language``,
  ``@direction``, ``@nest`` or ``@index``, no container but ``@set`` or ``@language``,
  and a type coercion that is none, ``@id``, ``@vocab`` or a datatype IRI other than
  ``xsd:double`` (whose lexical form pyld rewrites); a term with a property-scoped
  ``@context`` only where no type-scoped context is in force;
* values are strings without control characters or lone surrogates, safe integers,
  booleans, node objects, or flat non-empty arrays of those; ``type`` values are terms
  or absolute IRIs; a ``@vocab``-typed string is a term of the scope that defines an
  absolute IRI; a language map has lower-case BCP 47 tags (pyld lower-cases them) and
  strings. Type-scoped contexts apply to their node and not below it; property-scoped
  ones to the value and everything below it.

Term definitions are not restated here: pyld, the reference processor, processes the
contexts the document names (once per context list, and once per set of scoped types)
and the emitter reads the IRIs and coercions from its active context, so a new context
version is covered the day it is pinned. Anything safe mode
(:mod:`gateway.credentials.safe_mode`) or the strict processors would refuse lies
outside the covered part, so a document the emitter answers for loses nothing in RDF.
``tests/credentials/test_direct_nquads.py`` compares its output with both canonicalizers
byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyld import jsonld as pyld

from gateway.credentials import rdfc
from gateway.credentials.lexical import PLAIN_FRAGMENT, is_absolute_iri
from gateway.errors import GatewayError
from gateway.jsonvalues import is_safe_integer
from gateway.vocab.loader import DocumentLoader, default_loader

_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = _XSD + "string"
_XSD_BOOLEAN = _XSD + "boolean"
_XSD_INTEGER = _XSD + "integer"
_XSD_DOUBLE = _XSD + "double"
_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
#: Characters a literal needs escaped (pyld's N-Quads escapes), and those that send the
#: document to the general path: control characters the two canonicalizers write
#: differently, and lone surrogates, which have no UTF-8.
_SPECIAL = re.compile(r'[\\"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]')
_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: The IRIs most values are, found without the full RFC 3987 grammar
#: (:func:`~gateway.credentials.lexical.is_absolute_iri`, which takes several times
#: longer): ASCII, no percent-encoding, no query; ``scheme://host[:port]`` with an
#: absolute path, or a rootless path (``urn:``, ``did:``); an optional fragment. Every
#: string it matches is an absolute IRI of that grammar (the tests check it); any other
#: string is judged by the full grammar.
_IPCHAR = r"A-Za-z0-9._~!$&'()*+,;=:@\-"
_PLAIN_IRI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:"
    rf"(?://[A-Za-z0-9._~!$&'()*+,;=\-]*(?::[0-9]*)?(?:/[{_IPCHAR}]*)*"
    rf"|[{_IPCHAR}]+(?:/[{_IPCHAR}]*)*)"
    rf"(?:#[{_IPCHAR}/?]*)?"
)
#: Language-map keys covered: lower-case tags of the BCP 47 shape, written as they are.
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"})
#: Keys of a pyld term definition that change what the term writes in ways not covered.
_UNCOVERED_DEFINITION = ("@language", "@direction", "@nest", "@index")
#: Keys of a pyld active context that make plain strings, keys or IRIs mean more.
_UNCOVERED_CONTEXT = ("@vocab", "@language", "@direction", "@base")
#: Deepest nesting of node objects followed; the gateway's credentials use three.
_MAX_DEPTH = 16
#: IRIs a scope remembers written (then it starts over), of at most so many characters:
#: the units, issuer and status lists that every passport credential names again.
_IRIS_KEPT = 256
_IRI_KEPT_CHARS = 512
_ID, _TYPE = "@id", "@type"


class _Uncovered(Exception):
    """The document leaves the part of JSON-LD the emitter covers."""


def canonical_nquads(document: Mapping[str, Any], loader: DocumentLoader) -> str | None:
    """The canonical N-Quads (RDFC-1.0) of ``document``, read off the JSON, if covered.

    :param document: a JSON-LD document (unsecured: without ``proof``).
    :param loader: serves the document's context URLs.
    :returns: the same text as :func:`gateway.credentials.rdfc.canonicalize`, or
        ``None`` when the document lies outside the covered part (see the module
        documentation); then the general path must run.
    """
    lines = _quads(document, loader)
    return None if lines is None else "".join(sorted(set(lines)))


def _quads(document: Mapping[str, Any], loader: DocumentLoader) -> list[str] | None:
    """The quads of ``document`` in the order they are read, if covered."""
    ctx = document.get("@context")
    urls = tuple(ctx) if type(ctx) is list else (ctx,)
    if not urls or not all(type(url) is str for url in urls):
        return None
    scope = _root_scope(loader, urls)
    if scope is None:
        return None
    lines: list[str] = []
    try:
        _node(document, scope, lines, 0)
    except _Uncovered:
        return None
    return lines or None


def canonicalize(
    document: Mapping[str, Any],
    *,
    loader: DocumentLoader | None = None,
    fast: bool = True,
    untrusted: bool = False,
    limits: rdfc.Limits = rdfc.DEFAULT_LIMITS,
) -> str:
    """:func:`gateway.credentials.rdfc.canonicalize`, read off the JSON where covered.

    Verifying may take this path as issuing does: a covered document's emitted text is
    the reference canonicalizer's, and every document the reference (with safe mode)
    refuses lies outside the covered part, so a member the signature does not cover,
    an undefined term or a blank node sends the document to the general path, which
    refuses or canonicalizes it. ``fast=False`` runs pyld alone, the reference.

    :param untrusted: the document comes from a caller: it is bounded by
        ``limits.max_bytes`` before any walk, and the general path applies every cap.
    :raises ContextError: a context is not served by ``loader``.
    :raises JsonLdError: the document would lose data in JSON-LD, or exceeds a cap.
    """
    loader = loader or default_loader()
    if fast:
        if untrusted:
            rdfc.check_size(document, limits)
        emitted = canonical_nquads(document, loader)
        if emitted is not None:
            return emitted
    return rdfc.canonicalize(document, loader=loader, fast=fast, untrusted=untrusted, limits=limits)


def check(
    document: Mapping[str, Any],
    *,
    loader: DocumentLoader | None = None,
    limits: rdfc.Limits = rdfc.DEFAULT_LIMITS,
) -> None:
    """Raise what :func:`canonicalize` of an untrusted document raises, without writing
    its canonical form: what a verifier asks of a credential whose signature covers its
    bytes (``vc+jwt``), whose N-Quads nobody reads. A covered document loses nothing
    in JSON-LD (see the module documentation); any other is canonicalized by the
    general path, which refuses what would lose data.

    :raises ContextError: a context is not served by ``loader``.
    :raises JsonLdError: the document would lose data in JSON-LD, or exceeds a cap.
    """
    loader = loader or default_loader()
    rdfc.check_size(document, limits)
    if _quads(document, loader) is None:
        rdfc.canonicalize(document, loader=loader, untrusted=True, limits=limits)


@dataclass(frozen=True, slots=True)
class _Term:
    """What a property term writes: its predicate and the suffix of each literal kind."""

    predicate: str
    #: typed ``@id``: a string value is an IRI
    iri: bool
    string: str
    boolean: str
    integer: str
    #: typed ``@vocab``: a string value is a term of the scope
    vocab: bool = False
    #: ``@container: @language``: an object value is a language map
    language: bool = False
    #: has a property-scoped context
    scoped: bool = False


def _suffix(datatype: str) -> str:
    return "" if datatype == _XSD_STRING else f"^^<{datatype}>"


class _Scope:
    """The term definitions in force at a node: a pyld active context, each term read
    once into what the emitter needs."""

    def __init__(
        self, active: dict[str, Any], options: dict[str, Any], revert: _Scope | None
    ) -> None:
        self.active = active
        self.mappings: dict[str, Any] = active["mappings"]
        self.options = options
        #: where nested nodes start: type-scoped contexts do not propagate
        self.revert = revert or self
        self.covered = not any(key in active for key in _UNCOVERED_CONTEXT)
        self._keys: dict[str, _Term | str | None] = {}
        self._types: dict[str, tuple[str, bool] | None] = {}
        self._typed: dict[tuple[str, ...], _Scope | None] = {}
        self._scoped: dict[str, _Scope | None] = {}
        self._iris: dict[str, str] = {}

    def key(self, key: str) -> _Term | str | None:
        """A key's meaning: a :class:`_Term`, ``"@id"`` or ``"@type"``, or None."""
        try:
            return self._keys[key]
        except KeyError:
            pass
        if key not in self.mappings:
            return None  # not cached: a hostile document could hold any number of keys
        meaning = _term(self.mappings[key])
        self._keys[key] = meaning
        return meaning

    def type_iri(self, value: Any) -> tuple[str, bool] | None:
        """A ``type`` value as ``(<IRI>, has a type-scoped context)``, or None."""
        if type(value) is not str:
            return None
        known = self._types.get(value)
        if known is not None:
            return known
        if value in self.mappings:
            definition = self.mappings[value]
            if definition is None or not _is_iri(definition.get("@id")):
                return None
            found = (f"<{definition['@id']}>", "@context" in definition)
            self._types[value] = found
            return found
        iri = self.node_iri(value)
        return None if iri is None else (iri, False)

    def node_iri(self, value: Any) -> str | None:
        """An ``id`` (or a value typed ``@id``) as ``<IRI>``: absolute, never a blank
        node, a keyword or a compact IRI, which pyld would expand or drop."""
        if type(value) is not str or value[:1] == "@":
            return None
        known = self._iris.get(value)
        if known is not None:
            return known
        prefix, colon, suffix = value.partition(":")
        if not colon or prefix == "_":
            return None
        if not suffix.startswith("//") and prefix in self.mappings:
            return None
        # a dot segment could be resolved by one processor and not the other
        if "/." in value or not (_PLAIN_IRI.fullmatch(value) or is_absolute_iri(value)):
            return None
        iri = f"<{value}>"
        # Bounded in count and length, since a document (a hostile one too) may hold any
        # number of IRIs of any length; its own ids are new each time, so a larger memo
        # would only churn.
        if len(value) <= _IRI_KEPT_CHARS:
            if len(self._iris) >= _IRIS_KEPT:
                self._iris.clear()
            self._iris[value] = iri
        return iri

    def scoped(self, term: str) -> _Scope | None:
        """The scope the values of ``term`` are read in: this one with the term's
        property-scoped context applied (JSON-LD 1.1 §4.1.8; it may redefine
        protected terms), or None where a type-scoped context is in force, whose
        reverting the emitter does not follow."""
        if term in self._scoped:
            return self._scoped[term]
        scoped: _Scope | None = None
        if self.revert is self:
            try:
                active = _PROCESSOR._process_context(
                    self.active,
                    self.mappings[term]["@context"],
                    self.options,
                    propagate=True,
                    override_protected=True,
                )
                scoped = _Scope(active, self.options, None)
            except (pyld.JsonLdError, GatewayError):
                scoped = None
        if scoped is not None and not scoped.covered:
            scoped = None
        self._scoped[term] = scoped  # one entry per term of the contexts: bounded
        return scoped

    def typed(self, terms: tuple[str, ...]) -> _Scope | None:
        """This scope with the type-scoped contexts of ``terms`` (sorted) applied."""
        if terms in self._typed:
            return self._typed[terms]
        active = self.active
        scoped: _Scope | None
        try:
            for term in terms:
                active = _PROCESSOR.process_context(
                    active, self.mappings[term]["@context"], self.options
                )
            scoped = _Scope(active, self.options, self.revert)
        except (pyld.JsonLdError, GatewayError):
            scoped = None
        if scoped is not None and not scoped.covered:
            scoped = None
        if len(self._typed) > 64:
            self._typed.clear()
        self._typed[terms] = scoped
        return scoped


def _term(definition: Mapping[str, Any] | None) -> _Term | str | None:
    if definition is None:
        return None  # a term mapped to null
    iri = definition.get("@id")
    if iri in (_ID, _TYPE):
        return str(iri)
    container = definition.get("@container", ["@set"])
    if (
        definition.get("reverse")
        or any(key in definition for key in _UNCOVERED_DEFINITION)
        or container not in (["@set"], ["@language"])
        or not _is_iri(iri)
    ):
        return None
    coercion = definition.get("@type")
    predicate = f"<{iri}>"
    scoped = "@context" in definition
    language = container == ["@language"]
    if coercion is None:
        return _Term(
            predicate,
            False,
            "",
            _suffix(_XSD_BOOLEAN),
            _suffix(_XSD_INTEGER),
            language=language,
            scoped=scoped,
        )
    if language:
        return None  # a language map under a coerced term: not covered
    if coercion == _ID:
        return _Term(predicate, True, "", "", "", scoped=scoped)
    if coercion == "@vocab":
        return _Term(predicate, True, "", "", "", vocab=True, scoped=scoped)
    if coercion == _XSD_DOUBLE or not _is_iri(coercion):
        return None  # @json, @none, or a datatype pyld writes its own way
    suffix = _suffix(coercion)
    return _Term(predicate, False, suffix, suffix, suffix, scoped=scoped)


def _is_iri(value: Any) -> bool:
    return isinstance(value, str) and value[:2] != "_:" and is_absolute_iri(value)


_PROCESSOR = pyld.JsonLdProcessor()
_ROOTS: dict[tuple[DocumentLoader, tuple[str, ...]], _Scope | None] = {}


def _root_scope(loader: DocumentLoader, urls: tuple[str, ...]) -> _Scope | None:
    """The active context of a list of context URLs, processed by pyld once."""
    key = (loader, urls)
    if key in _ROOTS:
        return _ROOTS[key]
    options = rdfc.pyld_options(loader)
    scope: _Scope | None
    try:
        initial = _PROCESSOR.process_context({"mappings": {}}, None, options)
        scope = _Scope(_PROCESSOR.process_context(initial, list(urls), options), options, None)
    except (pyld.JsonLdError, GatewayError):
        scope = None
    if scope is not None and not scope.covered:
        scope = None
    if len(_ROOTS) > 64:
        _ROOTS.clear()
    _ROOTS[key] = scope
    return scope


def _node(
    node: Mapping[str, Any], scope: _Scope, lines: list[str], depth: int, parent: str = ""
) -> str:
    """Append the quads of a node object; return its subject, ``<IRI>``.

    :param parent: the subject (``<IRI>``) whose value this node is, if any.
    """
    if depth > _MAX_DEPTH or type(node) is not dict:
        raise _Uncovered
    subject = None
    type_key = None
    terms: list[tuple[str, _Term, Any]] = []
    unknown = False
    for key, value in node.items():
        meaning = scope.key(key)
        if type(meaning) is _Term:
            terms.append((key, meaning, value))
        elif meaning == _ID:
            if subject is not None:
                raise _Uncovered
            subject = _fragment_of(parent, value) or scope.node_iri(value)
            if subject is None:
                raise _Uncovered
        elif meaning == _TYPE:
            if type_key is not None:
                raise _Uncovered
            type_key = key
        elif key != "@context" or depth:
            unknown = True
    if subject is None:
        raise _Uncovered  # a blank node
    inner = scope
    if type_key is not None:
        names = node[type_key]
        if names == []:
            raise _Uncovered  # writes nothing: safe mode decides
        scoped_terms = []
        for name in names if type(names) is list else [names]:
            found = scope.type_iri(name)
            if found is None:
                raise _Uncovered
            lines.append(f"{subject} {_RDF_TYPE} {found[0]} .\n")
            if found[1]:
                scoped_terms.append(name)
        if scoped_terms:
            typed = scope.typed(tuple(sorted(scoped_terms)))
            if typed is None:
                raise _Uncovered
            inner = typed
    if inner is scope:
        if unknown:
            raise _Uncovered  # not a term: pyld would drop it, or worse
    else:
        # a type-scoped context: every key is read again in it
        terms = []
        for key, value in node.items():
            meaning = inner.key(key)
            before = scope.key(key)
            if (type(meaning) is str or type(before) is str) and (
                type(meaning) is not type(before) or meaning != before
            ):
                raise _Uncovered  # a type-scoped context changed what an id or type key is
            if type(meaning) is _Term:
                terms.append((key, meaning, value))
            elif meaning is None and (key != "@context" or depth):
                raise _Uncovered  # not a term: pyld would drop it, or worse
    for key, meaning, value in terms:
        values_scope = inner.scoped(key) if meaning.scoped else inner
        if values_scope is None:
            raise _Uncovered
        if meaning.language and type(value) is dict:
            _language_map(subject, meaning, value, values_scope, lines)
            continue
        if type(value) is list:
            if not value:
                raise _Uncovered  # an empty array writes nothing: safe mode decides
            items = value
        else:
            items = [value]
        head = f"{subject} {meaning.predicate} "
        for item in items:
            if type(item) is str and not meaning.iri:
                # a plain literal, most values: written here, without a call
                if not _verbatim(item) and _SPECIAL.search(item):
                    if _REFUSED.search(item):
                        raise _Uncovered
                    item = item.translate(_ESCAPES)
                lines.append(f'{head}"{item}"{meaning.string} .\n')
            else:
                lines.append(
                    f"{head}{_object(subject, meaning, item, values_scope, lines, depth, key)} .\n"
                )
    return subject


def _object(
    subject: str, term: _Term, value: Any, scope: _Scope, lines: list[str], depth: int, key: str
) -> str:
    """The object of the quad ``subject term value`` (appending a node value's quads)."""
    kind = type(value)
    if kind is str:
        if term.vocab:
            definition = scope.mappings.get(value)
            target = definition.get("@id") if definition else None
            if not _is_iri(target):
                raise _Uncovered  # not a term of the scope: pyld would resolve it otherwise
            return f"<{target!s}>"
        if term.iri:
            iri = scope.node_iri(value)
            if iri is None:
                raise _Uncovered
            return iri
        if not _verbatim(value) and _SPECIAL.search(value):
            if _REFUSED.search(value):
                raise _Uncovered
            value = value.translate(_ESCAPES)
        return f'"{value}"{term.string}'
    if kind is bool:
        if term.iri:
            raise _Uncovered
        return f'"{"true" if value else "false"}"{term.boolean}'
    if kind is int:
        if term.iri or not is_safe_integer(value):
            raise _Uncovered
        return f'"{value}"{term.integer}'
    if kind is dict:
        if term.language:
            raise _Uncovered  # a language map inside an array
        # a node object: the type-scoped contexts of this node stay here
        child = scope.revert if len(value) != 1 else scope
        if term.scoped:
            # pyld applies the property-scoped context once more inside the node
            rescoped = scope.scoped(key)
            if rescoped is None:
                raise _Uncovered
            child = rescoped
        return _node(value, child, lines, depth + 1, subject)
    raise _Uncovered  # floats, null, nested arrays


def _verbatim(text: str) -> bool:
    """Whether a literal is written as it is: no quote, no backslash, nothing
    unprintable. A quicker test than :data:`_SPECIAL` for most values; a text it
    rejects (any non-printable character, not only those) is searched for them."""
    return '"' not in text and "\\" not in text and text.isprintable()


def _fragment_of(parent: str, value: Any) -> str | None:
    """``value`` as ``<IRI>`` when it is the parent's IRI (fragment-free) with a fragment
    of letters and digits (and inner hyphens): an absolute IRI, found without parsing it
    again (a passport's quantities are such nodes, ``<passport id>#<term>``, and the
    parts of its structured values ``<passport id>#<term>-<part>``)."""
    if not parent or type(value) is not str:
        return None
    base = parent[1:-1]
    if (
        len(value) > len(base) + 1
        and value.startswith(base)
        and value[len(base)] == "#"
        and "#" not in base
        and PLAIN_FRAGMENT.fullmatch(value, len(base) + 1)
    ):
        return f"<{value}>"
    return None


def _language_map(
    subject: str, term: _Term, value: dict[str, Any], scope: _Scope, lines: list[str]
) -> None:
    """Append the language-tagged literals of a language map (JSON-LD 1.1 §4.6.2)."""
    if not value:
        raise _Uncovered  # writes nothing: safe mode decides
    for tag, texts in value.items():
        # a key that is also a term could stand for @none, which writes no tag
        if type(tag) is not str or not _LANGUAGE_TAG.fullmatch(tag) or tag in scope.mappings:
            raise _Uncovered
        items = texts if type(texts) is list else [texts]
        if not items:
            raise _Uncovered
        for text in items:
            if type(text) is not str:
                raise _Uncovered
            if not _verbatim(text) and _SPECIAL.search(text):
                if _REFUSED.search(text):
                    raise _Uncovered
                text = text.translate(_ESCAPES)
            lines.append(f'{subject} {term.predicate} "{text}"@{tag} .\n')
