"""Active contexts built from the shipped JSON-LD contexts, processed once.

Implements the JSON-LD 1.1 Processing Algorithms "Context Processing" (§4.1) and
"Create Term Definition" (§4.2) for the features the shipped contexts use: terms with
`@id`, `@type`, `@container`, `@protected` and scoped `@context`s, compact IRIs, and
keyword aliases. Anything else (`@vocab`, `@version`, `@language`, `@reverse`, a null
context...) raises `OutsideSubsetError`, and the caller falls back to pyld.

Invariants: the term definitions of an `ActiveContext` never change once it is built;
only its cache of the contexts derived from it grows (to a bound). So the contexts of
a credential are processed once per process, not once per canonicalisation as pyld
does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credentials.errors import UnknownContextError
from credentials.loader import load_context

__all__ = [
    "ABSOLUTE_IRI",
    "ROOT",
    "ActiveContext",
    "OutsideSubsetError",
    "TermDefinition",
    "expand_iri",
]

# JSON-LD 1.1 §4.2: a simple term whose IRI ends with one of these (the gen-delims
# of RFC 3986 §2.2) may be used as the prefix of a compact IRI.
_GEN_DELIMS = (":", "/", "?", "#", "[", "]", "@")

# The keywords a term may alias, and the ones a term definition may use here.
_ALIASABLE = frozenset({"@id", "@type"})
_TERM_KEYS = frozenset({"@id", "@type", "@container", "@context", "@protected"})
_TYPE_KEYWORDS = frozenset({"@id", "@vocab", "@json", "@none"})
_CONTAINERS = frozenset({"@set", "@list", "@graph", "@index", "@id", "@type"})

# An absolute IRI (or a blank node label): a scheme, a colon, no white space. What
# RDF accepts (pyld's own test is a little wider), and so what credbank accepts
# from pyld's expansion too (credentials.canonical).
ABSOLUTE_IRI = re.compile(r"([A-Za-z][A-Za-z0-9+\-.]*|_):\S*")

# Derived contexts cached per context: enough for any credential, bounded so that a
# stream of odd documents cannot grow memory without end.
_MAX_DERIVED = 64


class OutsideSubsetError(Exception):
    """The document uses JSON-LD this fast path does not implement.

    Not an error for callers: `credentials.canonical` catches it and lets pyld
    canonicalise (or refuse) the document instead. It never leaves that module.
    """


@dataclass(frozen=True, slots=True)
class TermDefinition:
    """A term definition (JSON-LD 1.1 §4.2), reduced to what the subset needs.

    `iri` is an absolute IRI or the keyword the term aliases. `scoped_key` is the
    scoped context as canonical JSON, so that definitions compare and cache by
    value.
    """

    iri: str
    type_mapping: str | None
    container: tuple[str, ...]
    scoped_context: Any
    scoped_key: str | None
    prefix: bool
    protected: bool

    def same_as(self, other: TermDefinition) -> bool:
        """Equal in all but `protected`, as a protected term's redefinition must be
        (§4.2)."""
        return (
            self.iri == other.iri
            and self.type_mapping == other.type_mapping
            and self.container == other.container
            and self.scoped_key == other.scoped_key
            and self.prefix == other.prefix
        )


class ActiveContext:
    """An immutable active context: term definitions and the previous context.

    `previous` is the context a non-propagated (type-scoped) context was applied
    to; the Expansion Algorithm (§5.1 step 7) reverts to it for nested nodes.
    """

    __slots__ = ("_derived", "previous", "terms")

    def __init__(
        self, terms: dict[str, TermDefinition], previous: ActiveContext | None
    ) -> None:
        self.terms = terms
        self.previous = previous
        self._derived: dict[tuple[str, bool, bool], ActiveContext] = {}

    def with_url(self, url: str) -> ActiveContext:
        """This context with the shipped context at `url` applied (§4.1)."""
        return self._derive(url, url, override_protected=False, propagate=True)

    def with_scoped(
        self, term: TermDefinition, *, override_protected: bool, propagate: bool
    ) -> ActiveContext:
        """This context with `term`'s scoped context applied.

        Property-scoped contexts pass `override_protected=True` (§5.1 step 8);
        type-scoped ones pass `propagate=False` (§5.1 step 11).
        """
        if term.scoped_key is None:
            return self
        return self._derive(
            term.scoped_key,
            term.scoped_context,
            override_protected=override_protected,
            propagate=propagate,
        )

    def _derive(
        self, key: str, local: Any, *, override_protected: bool, propagate: bool
    ) -> ActiveContext:
        cache_key = (key, override_protected, propagate)
        found = self._derived.get(cache_key)
        if found is None:
            found = _process(self, local, override_protected, propagate)
            if len(self._derived) < _MAX_DERIVED:
                self._derived[cache_key] = found
        return found


ROOT = ActiveContext({}, None)


def expand_iri(context: ActiveContext, value: str, *, vocab: bool) -> str:
    """IRI Expansion (JSON-LD 1.1 §5.2) of a document string, within the subset.

    Only results that need no base IRI are returned: a term (when `vocab`) or an
    absolute IRI. Relative IRIs, keyword-like strings, blank node labels and
    compact IRIs whose prefix is a term raise `OutsideSubsetError`.
    """
    if value.startswith("@"):
        raise OutsideSubsetError("a keyword-like string where an IRI belongs")
    terms = context.terms
    if vocab:
        definition = terms.get(value)
        if definition is not None:
            if definition.iri.startswith("@"):
                raise OutsideSubsetError("a keyword alias where an IRI belongs")
            return definition.iri
    prefix, colon, suffix = value.partition(":")
    if not colon or not prefix:
        raise OutsideSubsetError("a relative IRI")
    if prefix == "_":
        raise OutsideSubsetError("a blank node label in the document")
    if not suffix.startswith("//") and prefix in terms:
        # A term as the prefix of a compact IRI: expansion would depend on its
        # prefix flag (§5.2); none of credbank's documents do this.
        raise OutsideSubsetError("a compact IRI with a term as prefix")
    if not ABSOLUTE_IRI.fullmatch(value):
        raise OutsideSubsetError("a string that is not an absolute IRI")
    return value


def _process(
    active: ActiveContext, local: Any, override_protected: bool, propagate: bool
) -> ActiveContext:
    # Context Processing (§4.1), for a local context that is a shipped URL, a
    # context object, or an array of these.
    terms = dict(active.terms)
    previous = active.previous
    if isinstance(local, Mapping) and "@propagate" in local:
        propagate = local["@propagate"]
        if not isinstance(propagate, bool):
            raise OutsideSubsetError("an @propagate that is not a boolean")
    # Remember what to revert to when the context does not propagate.
    if not propagate and previous is None:
        previous = active
    for context in local if isinstance(local, list) else [local]:
        if isinstance(context, str):
            # A shipped context, loaded by URL (never fetched) and processed in
            # its turn. A remote context never overrides protection.
            try:
                document = load_context(context)
            except UnknownContextError as exc:
                raise OutsideSubsetError("a context that is not shipped") from exc
            if not isinstance(document, Mapping) or "@context" not in document:
                raise OutsideSubsetError("a context document without @context")
            inner = _process(
                ActiveContext(terms, previous), document["@context"], False, True
            )
            terms = dict(inner.terms)
            continue
        if not isinstance(context, Mapping):
            raise OutsideSubsetError("a null or malformed context")
        _define_all(terms, context, override_protected)
    return ActiveContext(terms, previous)


def _define_all(
    terms: dict[str, TermDefinition],
    context: Mapping[str, Any],
    override_protected: bool,
) -> None:
    # The keywords of a context object (§4.1), then each of its terms (§4.2).
    for key in context:
        if key.startswith("@") and key not in ("@protected", "@propagate"):
            raise OutsideSubsetError("a context keyword outside the subset")
    protected = context.get("@protected", False)
    if not isinstance(protected, bool):
        raise OutsideSubsetError("an @protected that is not a boolean")
    builder = _TermBuilder(terms, context, protected, override_protected)
    for term in context:
        if not term.startswith("@"):
            builder.define(term)


class _TermBuilder:
    """Create Term Definition (§4.2) for the terms of one context object."""

    def __init__(
        self,
        terms: dict[str, TermDefinition],
        context: Mapping[str, Any],
        default_protected: bool,
        override_protected: bool,
    ) -> None:
        self.terms = terms
        self.context = context
        self.default_protected = default_protected
        self.override_protected = override_protected
        self.defined: dict[str, bool] = {}

    def define(self, term: str) -> None:
        # Each term once; a term whose definition needs itself is a cycle.
        if term in self.defined:
            if not self.defined[term]:
                raise OutsideSubsetError("a cyclic term definition")
            return
        self.defined[term] = False
        value = self.context[term]

        # A term holding ':' or '/' must expand to itself: not in the subset.
        if ":" in term or "/" in term or term == "":
            raise OutsideSubsetError("a term that looks like an IRI")
        previous = self.terms.pop(term, None)

        # A string is a simple term; null (which removes a term) is declined.
        simple = isinstance(value, str)
        if simple:
            value = {"@id": value}
        if not isinstance(value, Mapping) or any(
            key not in _TERM_KEYS for key in value
        ):
            raise OutsideSubsetError("a term definition outside the subset")

        # Protection comes from the definition, else from the context.
        protected = value.get("@protected", self.default_protected)
        if not isinstance(protected, bool):
            raise OutsideSubsetError("an @protected that is not a boolean")

        # The type mapping, expanded like a vocabulary IRI.
        type_mapping: str | None = None
        if "@type" in value:
            raw_type = value["@type"]
            if not isinstance(raw_type, str):
                raise OutsideSubsetError("an @type mapping that is not a string")
            if raw_type in _TYPE_KEYWORDS:
                type_mapping = raw_type
            else:
                type_mapping = self._expand(raw_type)
                if type_mapping.startswith(("@", "_:")):
                    raise OutsideSubsetError("an @type mapping that is not an IRI")

        # The IRI mapping, from @id; a keyword makes the term an alias.
        raw_id = value.get("@id")
        if not isinstance(raw_id, str) or raw_id == term:
            raise OutsideSubsetError("a term without an @id of its own")
        iri = raw_id if raw_id.startswith("@") else self._expand(raw_id)
        if iri.startswith("@") and iri not in _ALIASABLE:
            raise OutsideSubsetError("an alias of a keyword outside the subset")
        prefix = simple and (iri.endswith(_GEN_DELIMS) or iri.startswith("_:"))

        # The container mapping, in the order given (as pyld keeps it).
        raw_container = value.get("@container", ())
        container = (
            (raw_container,) if isinstance(raw_container, str) else raw_container
        )
        if not isinstance(container, list | tuple) or any(
            item not in _CONTAINERS for item in container
        ):
            raise OutsideSubsetError("a container mapping outside the subset")

        # A scoped context, kept as given and processed when it is used.
        scoped = value.get("@context")
        scoped_key = None
        if "@context" in value:
            scoped_key = json.dumps(scoped, sort_keys=True, ensure_ascii=False)
        definition = TermDefinition(
            iri=iri,
            type_mapping=type_mapping,
            container=tuple(container),
            scoped_context=scoped,
            scoped_key=scoped_key,
            prefix=prefix,
            protected=protected,
        )

        # A protected term may be redefined only to the same definition, and
        # then stays protected.
        if previous is not None and previous.protected and not self.override_protected:
            if not definition.same_as(previous):
                raise OutsideSubsetError("a protected term redefined")
            definition = previous
        self.terms[term] = definition
        self.defined[term] = True

    def _expand(self, value: str) -> str:
        # IRI Expansion (§5.2) inside a context, vocab true: a term of the same
        # context is defined first, so definitions may refer to each other in
        # any order.
        if value in self.context and not value.startswith("@"):
            self.define(value)
        definition = self.terms.get(value)
        if definition is not None:
            return definition.iri
        prefix, colon, suffix = value.partition(":")
        if colon and prefix:
            if prefix == "_" or suffix.startswith("//"):
                return value
            if prefix in self.context and not prefix.startswith("@"):
                self.define(prefix)
            prefix_definition = self.terms.get(prefix)
            if prefix_definition is not None and prefix_definition.prefix:
                return prefix_definition.iri + suffix
            if ABSOLUTE_IRI.fullmatch(value):
                return value
        raise OutsideSubsetError("an IRI in a context that is not absolute")
