"""RDF Dataset Canonicalization (RDFC-1.0, W3C Recommendation 2024; = URDNA2015) of JSON-LD.

Two implementations give the same bytes:

* pyld (``jsonld.normalize`` machinery) is the reference. It is pure Python and slow
  (about 7 ms for a 270-triple passport).
* pyoxigraph parses JSON-LD and canonicalizes in Rust, about four times faster. It has no
  document-loader hook, so the pinned contexts are inlined into the document in memory.
  It writes some literals differently from pyld and jsonld.js (JSON floats as
  ``xsd:double``, control characters, ``@direction``, integers beyond 1e21), so it is only
  taken when a cheap walk over the document shows none of those
  (:func:`fast_path_blocker`); otherwise pyld runs. When the document's contexts are all
  URLs, each is cut down to the terms the document can reach before parsing, which saves
  about a sixth of pyoxigraph's time on a passport.

A third way to the same bytes needs neither: a document whose graph has no blank node
and whose every member a pinned term covers (the gateway's own credentials) has its
canonical N-Quads read straight off the JSON by :mod:`gateway.credentials.direct_nquads`,
which issuing and verifying use (:func:`gateway.credentials.direct_nquads.canonicalize`
tries it first and falls back to :func:`canonicalize` here).

Both paths are strict (DESIGN §5, "no silent data loss"): a key no context defines, an
undefined type, or a relative IRI raises :class:`~gateway.errors.JsonLdError` instead of
being dropped; before either runs, :mod:`~gateway.credentials.safe_mode` refuses, with
the JSON pointer, ill-formed IRIs and language tags and members that carry no RDF, which
both processors would drop without a word. pyld gets its ``on_property_dropped`` hook
and a sentinel base IRI; pyoxigraph gets a sentinel ``@vocab`` appended to the context
and the same sentinel base, so that anything it would drop or leave relative shows up as
a sentinel IRI.

Untrusted input (``untrusted=True``) is bounded by size and blank-node count, and RDFC's
exponential worst case (RDFC-1.0 §4.8, Hash N-Degree Quads on symmetric blank nodes) is
bounded without threads or processes: the fast path is taken only when every blank node
has a distinct first-degree signature, in which case RDFC-1.0 never reaches the N-degree
step (§4.4.3 step 5); any other graph goes to pyld with a counter and a deadline inside
Hash N-Degree Quads. A worker process would also bound the Rust code, but costs a
pickling round trip per credential and a fork to kill; the structural test costs about
as much as one dict build and turns the bound into a deterministic one.

Why one module of some 700 lines: the two paths must give the same bytes, and what keeps
them equal is shared here: the sentinels both use to detect dropped terms and relative
IRIs, the limits, and the rule that decides which path may take a document
(:func:`fast_path_blocker` lists exactly what pyoxigraph writes differently). Split
apart, a change to one path's handling could no longer be read beside the other's.
"""

from __future__ import annotations

import re
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from pyld import jsonld as pyld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver
from pyld.identifier_issuer import IdentifierIssuer

from gateway.credentials import safe_mode
from gateway.credentials.lexical import is_absolute_iri, is_language_tag
from gateway.errors import ContextError, JsonLdError
from gateway.jsonvalues import is_safe_integer
from gateway.vocab.loader import DocumentLoader, default_loader

# pyoxigraph is imported by the functions that use it: about 10 MB a process, which only
# documents the direct N-Quads do not cover (foreign credentials) ever need.
if TYPE_CHECKING:
    import pyoxigraph as ox


#: Base IRI given to both processors; an IRI under it was relative in the input.
RELATIVE_BASE = "https://relative-iri.invalid/"
#: ``@vocab`` appended for pyoxigraph; an IRI under it was an undefined term.
UNDEFINED_VOCAB = "https://undefined-term.invalid/#"

#: JSON-LD turns integers at or beyond 1e21 into xsd:double; 2^53 is also where
#: JavaScript implementations start rounding (DESIGN §5).
#: Characters pyld writes raw where RDFC-1.0 §4.3 / N-Quads canonical form escapes them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Keywords whose RDF output differs between the two processors, or which would defeat
#: the sentinels (an own ``@vocab`` or ``@base``).
_SLOW_KEYS = frozenset({"@direction", "@vocab", "@base", "@import", "@json"})


@dataclass(frozen=True)
class Limits:
    """Caps for canonicalizing untrusted input.

    :param max_bytes: largest accepted JSON serialization of the document.
    :param max_blank_nodes: most blank nodes in the RDF dataset.
    :param max_seconds: wall-clock budget of the pyld canonicalization.
    :param max_work: N-degree steps (calls and permutations) per blank node, plus 4096; the
        counterpart of rdf-canonize's ``maxWorkFactor``.
    """

    max_bytes: int = 1_048_576
    max_blank_nodes: int = 4096
    max_seconds: float = 2.0
    max_work: int = 256


DEFAULT_LIMITS = Limits()


def canonicalize(
    document: Mapping[str, Any],
    *,
    loader: DocumentLoader | None = None,
    fast: bool = True,
    untrusted: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> str:
    """Canonical N-Quads (RDFC-1.0) of a JSON-LD document.

    :param document: the JSON-LD document (already parsed JSON).
    :param loader: document loader serving the contexts; default: pinned contexts only.
    :param fast: allow the pyoxigraph path where it is byte-identical to pyld's.
    :param untrusted: apply ``limits`` (size, blank nodes, work and time).
    :param limits: caps used when ``untrusted``.
    :returns: the canonical N-Quads, one quad per line, each line ending in ``\\n``.
    :raises ContextError: a context is not served by ``loader``.
    :raises JsonLdError: a term would be dropped, an IRI is relative, the document is
        not valid JSON-LD, or a cap is exceeded.
    """
    loader = loader or default_loader()
    if untrusted:
        check_size(document, limits)
    safe_mode.check_document(document, loader)
    if fast:
        scan = _Scan(loader)
        if scan.run(document) is None:
            out = _canonicalize_oxigraph(
                document,
                loader,
                limits if untrusted else None,
                deep=scan.nested_context,
                used=scan.used,
            )
            if out is not None:
                return out
    return _canonicalize_pyld(document, loader, limits if untrusted else None)


def check_size(document: Mapping[str, Any], limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a document whose JSON text is longer than ``limits.max_bytes``, nested
    deeper than JSON allows here, or not JSON at all, before any processor walks it.

    :raises JsonLdError: with ``rule`` ``limit`` (size, depth) or ``syntax``.
    """
    try:
        size = len(orjson.dumps(document))
    except orjson.JSONEncodeError as e:
        # orjson refuses nesting beyond 254 levels, lone surrogates and non-JSON values
        raise JsonLdError(
            f"document cannot be serialized as JSON ({e})",
            pointer="/",
            rule="limit" if "recursion" in str(e).lower() else "syntax",
        ) from e
    if size > limits.max_bytes:
        raise JsonLdError(
            f"document is {size} bytes, more than the {limits.max_bytes} accepted",
            rule="limit",
        )


def fast_path_blocker(document: Mapping[str, Any], loader: DocumentLoader) -> str | None:
    """Why the pyoxigraph path could differ from pyld's output for ``document``, if it could.

    :param document: the JSON-LD document.
    :param loader: loader serving the document's remote contexts.
    :returns: ``None`` when the fast path is byte-identical to pyld, else a JSON pointer
        and the reason.
    :raises ContextError: a context URL is not served by ``loader``.
    """
    return _Scan(loader).run(document)


class _Scan:
    """One walk over a document: what blocks the fast path, and whether any ``@context``
    sits below the top level (only then must contexts be inlined at every depth)."""

    def __init__(self, loader: DocumentLoader) -> None:
        self.loader = loader
        self.used: set[str] = set()
        self.sensitive: set[str] = set()
        self.nested_context = False

    def run(self, document: Mapping[str, Any]) -> str | None:
        why = None
        if "@context" in document:
            why = _context_blocker(document["@context"], "/@context", self.loader, self.sensitive)
        if why is None:
            why = self._walk({k: v for k, v in document.items() if k != "@context"})
        if why is None and self.used & self.sensitive:
            term = min(self.used & self.sensitive)
            why = f"term {term!r} is typed @json or carries @direction"
        return why

    def _walk(self, value: Any) -> str | None:
        # Returns ": reason", prefixed with the JSON pointer on the way back up, so that
        # no path string is built unless something is found.
        kind = type(value)
        if kind is str:
            if ":" not in value:
                # may name a term: a type, or a value of a term typed @vocab
                self.used.add(value)
            return ": control character" if _CONTROL.search(value) else None
        if kind is dict or (kind is not list and isinstance(value, Mapping)):
            used = self.used
            for key, item in value.items():
                if key in _SLOW_KEYS or item == "@json":
                    return f"/{key}: {key if key in _SLOW_KEYS else '@json'}"
                if _CONTROL.search(key):
                    return f"/{key}: control character in key"
                if key == "@context":
                    self.nested_context = True
                    why = _context_blocker(item, "", self.loader, self.sensitive)
                else:
                    used.add(key)
                    why = self._walk(item)
                if why:
                    return f"/{key}{why}"
            return None
        if kind is list:
            for i, item in enumerate(value):
                why = self._walk(item)
                if why:
                    return f"/{i}{why}"
            return None
        if kind is bool or value is None:
            return None
        if kind is int:
            return None if is_safe_integer(value) else ": integer beyond 2^53 - 1"
        if kind is float:
            return ": JSON float"
        return f": {kind.__name__} is not a JSON value"


def _context_blocker(
    ctx: Any, path: str, loader: DocumentLoader, sensitive: set[str]
) -> str | None:
    if isinstance(ctx, list):
        for i, item in enumerate(ctx):
            why = _context_blocker(item, f"{path}/{i}", loader, sensitive)
            if why:
                return why
        return None
    if isinstance(ctx, str):
        why, terms = _remote_context_verdict(ctx, loader)
        sensitive |= terms
        return why
    if not isinstance(ctx, Mapping):
        return None
    why, terms = _context_verdict(ctx, path, loader)
    sensitive |= terms
    return why


def _context_verdict(
    ctx: Mapping[str, Any], path: str, loader: DocumentLoader
) -> tuple[str | None, frozenset[str]]:
    """Whether a context object can go to pyoxigraph, and its terms typed @json or
    carrying @direction (their literals are written differently by the two processors)."""
    terms: set[str] = set()
    for key, definition in ctx.items():
        if key in _SLOW_KEYS:
            return f"{path}/{key}: {key}", frozenset()
        if _CONTROL.search(key):
            return f"{path}/{key}: control character in key", frozenset()
        if not isinstance(definition, Mapping):
            continue
        if definition.get("@type") == "@json" or "@direction" in definition:
            terms.add(key)
        if "@context" in definition:
            inner: set[str] = set()
            why = _context_blocker(definition["@context"], f"{path}/{key}", loader, inner)
            if why:
                return why, frozenset()
            terms |= inner
    return None, frozenset(terms)


# A remote context's verdict depends only on its content; cache by the object served,
# holding the object so that its id() stays unique.
_REMOTE_VERDICTS: dict[int, tuple[object, tuple[str | None, frozenset[str]]]] = {}


def _remote_context_verdict(url: str, loader: DocumentLoader) -> tuple[str | None, frozenset[str]]:
    served = loader(url, None)["document"]
    hit = _REMOTE_VERDICTS.get(id(served))
    if hit is not None and hit[0] is served:
        return hit[1]
    inner = served.get("@context") if isinstance(served, Mapping) else None
    verdict: tuple[str | None, frozenset[str]]
    if inner is None:
        verdict = (f"{url}: served document has no @context", frozenset())
    else:
        terms: set[str] = set()
        verdict = (_context_blocker(inner, url, loader, terms), frozenset(terms))
    if len(_REMOTE_VERDICTS) > 256:
        _REMOTE_VERDICTS.clear()
    _REMOTE_VERDICTS[id(served)] = (served, verdict)
    return verdict


_INLINED: dict[int, tuple[object, Any]] = {}


def _inline(ctx: Any, loader: DocumentLoader) -> Any:
    """The context with every URL, at any depth, replaced by the ``@context`` it serves."""
    if isinstance(ctx, str):
        served = loader(ctx, None)["document"]
        hit = _INLINED.get(id(served))
        if hit is not None and hit[0] is served:
            return hit[1]
        inlined = _inline(served["@context"], loader)
        if len(_INLINED) > 256:
            _INLINED.clear()
        _INLINED[id(served)] = (served, inlined)
        return inlined
    if isinstance(ctx, list):
        return [_inline(item, loader) for item in ctx]
    return _inline_all(ctx, loader)


def _inline_all(value: Any, loader: DocumentLoader) -> Any:
    if isinstance(value, Mapping):
        return {
            k: (_inline(v, loader) if k == "@context" else _inline_all(v, loader))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_inline_all(v, loader) for v in value]
    return value


def _canonicalize_oxigraph(
    document: Mapping[str, Any],
    loader: DocumentLoader,
    limits: Limits | None,
    *,
    deep: bool,
    used: set[str],
) -> str | None:
    """pyoxigraph RDFC-1.0; ``None`` when the graph must go to pyld (see module doc).

    Also ``None`` when a sentinel IRI shows up, so that pyld, the reference, decides
    whether the document really loses data.
    """
    import pyoxigraph as ox

    ctx = document.get("@context", [])
    urls = tuple(ctx) if isinstance(ctx, list) else (ctx,)
    if deep or not all(isinstance(u, str) for u in urls) or not _combination_valid(urls, loader):
        top = _inline(ctx, loader)
        contexts = top if isinstance(top, list) else [top]
    else:
        contexts = [_pruned(_inline(u, loader), used) for u in urls]
    if deep:
        body = {k: _inline_all(v, loader) for k, v in document.items() if k != "@context"}
    else:
        body = {k: v for k, v in document.items() if k != "@context"}
    body["@context"] = [*contexts, {"@vocab": UNDEFINED_VOCAB}]
    try:
        dataset = ox.Dataset(
            ox.parse(orjson.dumps(body), format=ox.RdfFormat.JSON_LD, base_iri=RELATIVE_BASE)
        )
    except SyntaxError:
        return None  # pyld, the reference, gives the error (or disagrees and goes on)
    if limits is not None and not _first_degree_distinct(dataset, limits):
        return None
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    text = _serialized(dataset, ox.RdfFormat.N_QUADS)
    # str.splitlines() would also split on U+2028, U+0085 ... inside literals.
    lines = [line + "\n" for line in text.split("\n") if line]
    if not lines and any(k != "@context" for k in document):
        # pyoxigraph 0.5 answers an empty dataset, not an error, for some documents it
        # cannot represent (one ill-formed @id is enough); pyld decides, strictly.
        return None
    lines.sort()
    out = "".join(lines)
    if UNDEFINED_VOCAB in out or RELATIVE_BASE in out:
        # pyld decides: it may be a real undefined term, or pyoxigraph losing a term that
        # pyld keeps (seen with two type-scoped contexts on one node, as in the W3C
        # vc-di-eddsa "employ" vector).
        return None
    return out


_VALID_COMBINATIONS: dict[tuple[Any, tuple[str, ...]], bool] = {}


def _combination_valid(urls: tuple[str, ...], loader: DocumentLoader) -> bool:
    """Whether the full contexts, applied in this order, process without error.

    Pruning drops unused terms, and with them any error that only their (protected)
    redefinition would raise; so pruning is used only for context lists known valid.
    """
    import pyoxigraph as ox

    key = (loader, urls)
    known = _VALID_COMBINATIONS.get(key)
    if known is None:
        try:
            ox.parse(
                orjson.dumps({"@context": _inline(list(urls), loader)}),
                format=ox.RdfFormat.JSON_LD,
                base_iri=RELATIVE_BASE,
            )
            known = True
        except SyntaxError:
            known = False
        if len(_VALID_COMBINATIONS) > 256:
            _VALID_COMBINATIONS.clear()
        _VALID_COMBINATIONS[key] = known
    return known


_PRUNED: OrderedDict[tuple[int, frozenset[str]], tuple[object, Any]] = OrderedDict()
_DEFINED: dict[int, tuple[object, frozenset[str]]] = {}


def _pruned(ctx: Any, used: set[str]) -> Any:
    """A context cut down to what a document can reach: keywords, simple (string) term
    definitions and prefixes, and the expanded definitions of the terms it uses, their
    scoped contexts cut down the same way.

    Processing the whole VC context costs pyoxigraph about a third of a passport's parse;
    the cut changes no IRI the document expands to, and anything it misses shows up as a
    sentinel IRI and sends the document to pyld.

    ``used`` holds every key and colon-free string of the document, serials and status
    indexes among them; the cut depends only on the ones the context defines, so those
    alone key the cache, and documents of one shape share one cut.
    """
    key = (id(ctx), frozenset(_defined_terms(ctx).intersection(used)))
    hit = _PRUNED.get(key)
    if hit is not None and hit[0] is ctx:
        _PRUNED.move_to_end(key)
        return hit[1]
    out = _prune(ctx, key[1])
    _PRUNED[key] = (ctx, out)
    if len(_PRUNED) > 128:
        _PRUNED.popitem(last=False)
    return out


def _defined_terms(ctx: Any) -> frozenset[str]:
    """The terms whose expanded definitions :func:`_prune` keeps or cuts, at any depth."""
    hit = _DEFINED.get(id(ctx))
    if hit is not None and hit[0] is ctx:
        return hit[1]
    terms: set[str] = set()
    pending = [ctx]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, Mapping):
            for term, definition in item.items():
                if term[:1] != "@" and isinstance(definition, Mapping):
                    terms.add(term)
                    if "@context" in definition:
                        pending.append(definition["@context"])
    found = frozenset(terms)
    if len(_DEFINED) > 256:
        _DEFINED.clear()
    _DEFINED[id(ctx)] = (ctx, found)
    return found


def _prune(ctx: Any, used: frozenset[str]) -> Any:
    if isinstance(ctx, list):
        return [_prune(item, used) for item in ctx]
    if not isinstance(ctx, Mapping):
        return ctx
    out: dict[str, Any] = {}
    for term, definition in ctx.items():
        if term[:1] == "@" or not isinstance(definition, Mapping):
            out[term] = definition
        elif term in used or definition.get("@prefix") is True:
            if "@context" in definition:
                definition = {**definition, "@context": _prune(definition["@context"], used)}
            out[term] = definition
    return out


def _serialized(dataset: ox.Dataset, fmt: ox.RdfFormat) -> str:
    """``dataset`` written in ``fmt`` as text (pyoxigraph returns bytes when given no
    output file)."""
    import pyoxigraph as ox

    data = ox.serialize(dataset, format=fmt)
    if data is None:
        raise AssertionError("pyoxigraph wrote to no output")
    return data.decode("utf-8")


def _first_degree_distinct(dataset: ox.Dataset, limits: Limits) -> bool:
    """Whether every blank node has its own first-degree signature (RDFC-1.0 §4.6).

    The signature is the sorted list of the node's quads with itself written ``_:a`` and
    other blank nodes ``_:z``, the same text the first-degree hash is made of. It is read
    from pyoxigraph's N-Triples output, which is quicker than walking the quad objects;
    a dataset with named graphs cannot be written as N-Triples and goes to pyld.

    :raises JsonLdError: more blank nodes than ``limits`` allow.
    """
    import pyoxigraph as ox

    try:
        text = _serialized(dataset, ox.RdfFormat.N_TRIPLES)
    except (ValueError, OSError):
        return False
    signatures: dict[str, list[str]] = {}
    for line in text.split("\n"):
        if "_:" not in line:
            continue
        subject, predicate, rest = line.split(" ", 2)
        obj = rest[:-2]  # drop " ."
        s_blank, o_blank = subject[:2] == "_:", obj[:2] == "_:"
        if s_blank:
            masked = ("_:a" if obj == subject else "_:z") if o_blank else obj
            signatures.setdefault(subject, []).append(f"_:a {predicate} {masked}")
        if o_blank and obj != subject:
            masked = "_:z" if s_blank else subject
            signatures.setdefault(obj, []).append(f"{masked} {predicate} _:a")
    if len(signatures) > limits.max_blank_nodes:
        raise JsonLdError(
            f"document has {len(signatures)} blank nodes, more than the "
            f"{limits.max_blank_nodes} accepted",
            rule="limit",
        )
    distinct = {"\n".join(sorted(lines)) for lines in signatures.values()}
    return len(distinct) == len(signatures)


def _refuse_sentinels(nquads: str) -> None:
    for sentinel, rule, what in (
        (UNDEFINED_VOCAB, "dropped-term", "is not defined by any @context"),
        (RELATIVE_BASE, "relative-iri", "is a relative IRI"),
    ):
        at = nquads.find(sentinel)
        if at >= 0:
            end = nquads.find(">", at)
            name = nquads[at + len(sentinel) : end]
            raise JsonLdError(f"{name!r} {what}; refusing to lose or guess data", rule=rule)


def _raise_dropped(term: str | None) -> None:
    raise JsonLdError(
        f"{term!r} is not defined by any @context and would be dropped", rule="dropped-term"
    )


class _ActiveContext(dict):  # type: ignore[type-arg]
    """An active context from which removing an absent ``@vocab`` is a no-op.

    pyld 3.3 processes ``{"@vocab": null}`` with ``del rval['@vocab']`` and raises
    KeyError when no vocabulary mapping was active, although JSON-LD 1.1 §4.1.2
    (Context Processing, step 5.7.2) just leaves none; jsonld.js does that too.
    """

    def __delitem__(self, key: str) -> None:
        self.pop(key, None)


class StrictProcessor(pyld.JsonLdProcessor):  # type: ignore[misc]  # pyld is untyped
    """pyld's processor in the gateway's safe mode.

    A dropped property raises (``on_property_dropped``); a subject, predicate, object or
    datatype that is not a well-formed absolute IRI (pyld's to-RDF would leave some out,
    and write others into N-Quads no other processor reads), a blank-node predicate, or a
    literal with an ill-formed language tag raises instead of disappearing. :mod:`safe_mode` finds
    these first with a JSON pointer; this is the processor-side net behind it.
    """

    def __init__(self) -> None:
        super().__init__(on_property_dropped=_raise_dropped)

    def _clone_active_context(self, active_ctx: dict[str, Any]) -> dict[str, Any]:
        return _ActiveContext(super()._clone_active_context(active_ctx))

    def _graph_to_rdf(self, graph: dict[str, Any], issuer: Any, options: Any) -> Any:
        for id_, node in graph.items():
            _rdf_term(id_, "subject")
            for prop, items in node.items():
                if prop[:1] == "@" and prop != "@type":
                    continue
                if prop != "@type":
                    _rdf_term(prop, "property", blank=False)
                for item in items:
                    _rdf_object(item)
        return super()._graph_to_rdf(graph, issuer, options)


def _rdf_term(iri: Any, what: str, *, blank: bool = True) -> None:
    if not (isinstance(iri, str) and ((blank and iri[:2] == "_:") or is_absolute_iri(iri))):
        raise JsonLdError(
            f"{what} {iri!r} is not a well-formed absolute IRI; refusing to lose data",
            rule="dropped-value",
        )


def _rdf_object(item: Any) -> None:
    if not isinstance(item, dict):
        if isinstance(item, str):  # @type values
            _rdf_term(item, "type")
        return
    if "@list" in item:
        for each in item["@list"]:
            _rdf_object(each)
    elif "@value" in item:
        language = item.get("@language")
        if language is not None and not is_language_tag(language):
            raise JsonLdError(
                f"language tag {language!r} is not well-formed (BCP 47); refusing to lose data",
                rule="dropped-value",
            )
        datatype = item.get("@type")
        if datatype is not None and datatype != "@json":
            _rdf_term(datatype, "datatype")
    elif "@id" in item:
        _rdf_term(item["@id"], "object")


class _BoundedURDNA2015(URDNA2015):  # type: ignore[misc]  # pyld is untyped
    """pyld's URDNA2015 with a work counter and a deadline in Hash N-Degree Quads.

    Work is counted per Hash N-Degree Quads call and per permutation tried (each
    permutation deep-copies the issuer, RDFC-1.0 §4.8.3 step 5.4.1), so that the
    factorial loop over a symmetric blank-node clique is cut as early as the recursion.
    """

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self._limits = limits
        self._deadline = time.monotonic() + limits.max_seconds
        self._work = 0
        self._budget = 0

    def main(self, dataset: dict[str, Any], options: dict[str, Any]) -> str:
        nodes = {
            c["value"]
            for triples in dataset.values()
            for t in triples
            for c in (t["subject"], t["object"])
            if c["type"] == "blank node"
        }
        if len(nodes) > self._limits.max_blank_nodes:
            raise JsonLdError(
                f"document has {len(nodes)} blank nodes, more than the "
                f"{self._limits.max_blank_nodes} accepted",
                rule="limit",
            )
        self._budget = self._limits.max_work * len(nodes) + 4096
        canonical: str = super().main(dataset, options)
        return canonical

    def tick(self) -> None:
        """Count one unit of N-degree work; raise when over budget or past the deadline."""
        self._work += 1
        if self._work > self._budget or time.monotonic() > self._deadline:
            raise JsonLdError(
                "blank nodes too interlinked to canonicalize within the accepted work "
                f"({self._budget} N-degree steps, {self._limits.max_seconds} s)",
                rule="limit",
            )

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self.tick()
        if not isinstance(issuer, _TickingIssuer):
            issuer = _TickingIssuer.of(issuer, self.tick)
        return super().hash_n_degree_quads(id_, issuer)


class _TickingIssuer(IdentifierIssuer):  # type: ignore[misc]  # pyld is untyped
    """An identifier issuer whose copies (one per permutation) count as work."""

    _tick: Callable[[], None]

    @classmethod
    def of(cls, issuer: IdentifierIssuer, tick: Callable[[], None]) -> _TickingIssuer:
        new = cls(issuer.prefix)
        new.counter = issuer.counter
        new.existing = dict(issuer.existing)
        new.order = list(issuer.order)
        new._tick = tick
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> _TickingIssuer:
        self._tick()
        return _TickingIssuer.of(self, self._tick)


_RESOLVERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _resolver(loader: DocumentLoader) -> ContextResolver:
    # pyld's module-wide resolved-context cache is keyed by URL alone; two loaders serving
    # different documents under one URL must not see each other's, so each loader gets
    # its own cache.
    cache = _RESOLVERS.get(loader)
    if cache is None:
        cache = pyld.LRUCache(maxsize=64)
        _RESOLVERS[loader] = cache
    return ContextResolver(cache, loader)


def pyld_options(loader: DocumentLoader) -> dict[str, Any]:
    """The pyld options both this module and :mod:`gateway.credentials.jsonld` use.

    :param loader: the document loader.
    :returns: options with the sentinel base and a per-loader context cache.
    """
    return {
        "base": RELATIVE_BASE,
        "documentLoader": loader,
        "contextResolver": _resolver(loader),
        "processingMode": "json-ld-1.1",
        "extractAllScripts": True,
    }


def _canonicalize_pyld(
    document: Mapping[str, Any], loader: DocumentLoader, limits: Limits | None
) -> str:
    processor = StrictProcessor()
    options = {**pyld_options(loader), "produceGeneralizedRdf": False}
    try:
        dataset = processor.to_rdf(document, options)
    except pyld.JsonLdError as exc:
        raise unwrap_pyld_error(exc) from exc
    canon = _BoundedURDNA2015(limits) if limits is not None else URDNA2015()
    out = canon.main(dataset, {"format": "application/n-quads"})
    _refuse_sentinels(out)
    return out


def unwrap_pyld_error(exc: BaseException) -> Exception:
    """The gateway error behind a pyld error, or a :class:`JsonLdError` describing it.

    :param exc: what pyld raised.
    :returns: a :class:`ContextError` raised by the loader, a :class:`JsonLdError` raised
        by a hook, or a new :class:`JsonLdError` with pyld's message.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ContextError | JsonLdError):
            return seen
        seen = seen.__cause__ or seen.__context__
    deepest: BaseException = exc
    while deepest.__cause__ is not None:
        deepest = deepest.__cause__
    message = deepest.args[0] if deepest.args else type(deepest).__name__
    code = getattr(deepest, "code", None)
    return JsonLdError(
        f"document is not valid JSON-LD: {message}" + (f" ({code})" if code else ""),
        rule="syntax",
    )
