"""The RDF statements of a credential, read straight from its JSON-LD, without pyld.

One walk over the document does the work of the JSON-LD 1.1 Expansion Algorithm
(§5.1), Value Expansion (§5.3) and "Deserialize JSON-LD to RDF" with "Object to RDF
Conversion" (§8.1, §8.2), for documents whose contexts are all shipped and whose every
key is a term those contexts define. Terms come out in canonical N-Quads form (RDF
Dataset Canonicalization, Appendix A), ready for `credentials.rdfc`.

The subset is chosen so that a result is only ever returned where pyld, as
`credentials.canonical` calls it, would return the same statements; whatever else
(an undefined term, a relative IRI, `@json`, `@list`, a nested `@context`, a control
character on which RDFC-1.0 and pyld disagree...) raises `OutsideSubsetError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from credentials.active_context import (
    ROOT,
    ActiveContext,
    OutsideSubsetError,
    TermDefinition,
    expand_iri,
)
from credentials.rdfc import Quad

__all__ = ["document_quads"]

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
XSD_DOUBLE = XSD + "double"

# JSON-LD 1.1 §8.2: integers this large are written as doubles.
_DOUBLE_THRESHOLD = 10**21

# Characters that pyld (URDNA2015) writes raw but RDFC-1.0 Appendix A escapes as
# UCHAR, and lone surrogates, which cannot be written as UTF-8 at all. loader.py
# refuses all of them before signing; here they simply send the document to pyld.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

# The escapes both agree on (RDFC-1.0 Appendix A: ECHAR for ", \\, LF, CR, HT).
_ECHAR = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
)

# No type coercion: the native type decides the datatype (§5.3, §8.2).
_UNTYPED = frozenset({"@id", "@vocab", "@none"})


def document_quads(document: Mapping[str, Any]) -> list[Quad]:
    """The quads of `document` in the default graph, blank nodes labelled `_:b<n>`.

    Raises:
        OutsideSubsetError: the document needs JSON-LD this module does not
            implement, or would yield no statement at all.
    """
    walker = _Walker()
    walker.node(ROOT, None, document, top=True)
    if not walker.quads:
        raise OutsideSubsetError("no statements")
    return walker.quads


class _Walker:
    """Expands one document into quads; the state is the quads and a counter."""

    __slots__ = ("blank_nodes", "quads")

    def __init__(self) -> None:
        self.quads: list[Quad] = []
        self.blank_nodes = 0

    def node(
        self,
        context: ActiveContext,
        scoped: TermDefinition | None,
        element: Mapping[str, Any],
        *,
        top: bool = False,
    ) -> str:
        # A node object, by the steps of the Expansion Algorithm (§5.1); returns
        # its subject term.
        if not isinstance(element, dict) and not isinstance(element, Mapping):
            raise OutsideSubsetError("a document that is not an object")

        # Step 7: a type-scoped context does not reach nested nodes, unless the
        # node is a bare reference ({"id": ...}).
        if context.previous is not None and not _is_reference(context, element):
            context = context.previous

        # Step 8: the context of the property this node is the value of.
        if scoped is not None:
            context = context.with_scoped(
                scoped, override_protected=True, propagate=True
            )

        # Step 9: the document's own contexts (nested ones are left to pyld).
        if "@context" in element:
            if not top:
                raise OutsideSubsetError("a nested @context")
            context = _with_contexts(context, element["@context"])

        # Steps 10-11: type-scoped contexts, in lexicographical order of the types,
        # each looked up in the context as it was before any of them.
        type_context = context
        types: list[str] = []
        for key, value in element.items():
            definition = type_context.terms.get(key)
            if definition is not None and definition.iri == "@type":
                types.extend(_strings(value))
        for name in sorted(set(types)):
            definition = type_context.terms.get(name)
            if definition is not None and definition.scoped_key is not None:
                context = context.with_scoped(
                    definition, override_protected=False, propagate=False
                )

        # Step 13: every other entry, with the context now in force.
        terms = context.terms
        subject = None
        for key, value in element.items():
            definition = terms.get(key)
            if definition is not None and definition.iri == "@id":
                if subject is not None or not isinstance(value, str):
                    raise OutsideSubsetError("a node id that is not one string")
                subject = _iri(context, value, vocab=False)
        if subject is None:
            subject = f"_:b{self.blank_nodes}"
            self.blank_nodes += 1

        for key, value in element.items():
            if key == "@context":
                continue
            definition = terms.get(key)
            if definition is None:
                # An undefined term (pyld drops it, and credbank refuses that) or
                # a keyword or IRI used as a key: either way, pyld decides.
                raise OutsideSubsetError("a key that is not a term")
            iri = definition.iri
            if iri == "@id":
                continue
            if iri == "@type":
                for name in _strings(value):
                    term = _iri(type_context, name, vocab=True)
                    self.quads.append((subject, RDF_TYPE, term, ""))
                continue
            if definition.container and definition.container != ("@set",):
                raise OutsideSubsetError("a container other than @set")
            predicate = "<" + iri + ">"
            for item in value if isinstance(value, list) else (value,):
                if item is None:
                    continue  # null expands to nothing (§5.1 step 1)
                if isinstance(item, str | bool | int | float):
                    term = _scalar(context, key, definition, item)
                elif isinstance(item, dict | Mapping):
                    nested = definition if definition.scoped_key is not None else None
                    term = self.node(context, nested, item)
                else:
                    raise OutsideSubsetError("a nested array, or a value not JSON")
                self.quads.append((subject, predicate, term, ""))
        return subject


def _is_reference(context: ActiveContext, element: Mapping[str, Any]) -> bool:
    # §5.1 step 7: "a single entry expanding to @id".
    if len(element) != 1:
        return False
    definition = context.terms.get(next(iter(element)))
    return definition is not None and definition.iri == "@id"


def _with_contexts(context: ActiveContext, value: Any) -> ActiveContext:
    for url in value if isinstance(value, list) else [value]:
        if not isinstance(url, str):
            raise OutsideSubsetError("a context that is not a URL")
        context = context.with_url(url)
    return context


def _iri(context: ActiveContext, value: str, *, vocab: bool) -> str:
    iri = expand_iri(context, value, vocab=vocab)
    if _UNSAFE.search(iri):
        raise OutsideSubsetError("a control character in an IRI")
    return "<" + iri + ">"


def _strings(value: Any) -> Iterable[str]:
    values = value if isinstance(value, list) else [value]
    for item in values:
        if not isinstance(item, str):
            raise OutsideSubsetError("a type that is not a string")
    return values


def _scalar(
    context: ActiveContext,
    key: str,
    definition: TermDefinition,
    value: str | bool | float,
) -> str:
    # §5.1 step 4 with Value Expansion (§5.3) and Object to RDF (§8.2).
    if definition.scoped_key is not None:
        context = context.with_scoped(
            definition, override_protected=True, propagate=True
        )
        found = context.terms.get(key)
        if found is None:
            raise OutsideSubsetError("a term its own scoped context removes")
        definition = found
    mapping = definition.type_mapping
    if mapping == "@json":
        raise OutsideSubsetError("a JSON literal")
    if isinstance(value, str):
        if mapping == "@id":
            return _iri(context, value, vocab=False)
        if mapping == "@vocab":
            return _iri(context, value, vocab=True)
        if mapping == XSD_DOUBLE:
            raise OutsideSubsetError("a string coerced to xsd:double")
        return _literal(value, None if mapping == "@none" else mapping)
    datatype = None if mapping in _UNTYPED else mapping
    if isinstance(value, bool):
        return _literal("true" if value else "false", datatype or XSD_BOOLEAN)
    return _number(value, datatype)


def _number(value: float, datatype: str | None) -> str:
    # §8.2 as pyld reads it: a number with a fraction, or of 10**21 or more, or
    # any number typed xsd:double, is written as a double; others as integers.
    try:
        number = float(value)
    except OverflowError as exc:
        raise OutsideSubsetError("an integer too large for a double") from exc
    if not math.isfinite(number):
        raise OutsideSubsetError("a number JSON cannot hold")
    if datatype == XSD_DOUBLE:
        return _literal(_double(number), XSD_DOUBLE)
    if isinstance(value, int) and abs(value) < _DOUBLE_THRESHOLD:
        return _literal(str(int(value)), datatype or XSD_INTEGER)
    if number.is_integer() and abs(number) < _DOUBLE_THRESHOLD:
        return _literal(str(int(number)), datatype or XSD_INTEGER)
    return _literal(_double(number), datatype or XSD_DOUBLE)


def _double(number: float) -> str:
    # The canonical lexical form of xsd:double: one digit before the point, no
    # trailing zeros after it (but at least one digit), an exponent without a
    # sign or leading zeros unless negative: 1.5E0, 1.0E21, 1.0E-1.
    mantissa, exponent = format(number, ".15E").split("E")
    whole, fraction = mantissa.split(".")
    return f"{whole}.{fraction.rstrip('0') or '0'}E{int(exponent)}"


def _literal(text: str, datatype: str | None) -> str:
    if _UNSAFE.search(text):
        raise OutsideSubsetError("a control character the two forms write apart")
    quoted = '"' + text.translate(_ECHAR) + '"'
    if datatype is None or datatype == XSD_STRING:
        return quoted
    return quoted + "^^<" + datatype + ">"
