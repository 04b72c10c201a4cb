"""Canonical forms: RDF Dataset Canonicalization (RDFC-1.0) and JCS (RFC 8785).

`canonicalize_rdf` is the one door to RDF canonicalisation. Behind it a fast path
(`credentials.quads` then `credentials.rdfc`, docs/adr/0003) handles the documents
credbank issues, and pyld everything else; the fast path answers only where it gives
pyld's N-Quads, and leaves every refusal to pyld. Both functions refuse rather than
guess: an unknown context, a term or IRI that JSON-LD would silently drop or resolve
against a made-up base, or a value JCS cannot write.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import rfc8785

from credentials.active_context import ABSOLUTE_IRI, OutsideSubsetError
from credentials.errors import CredentialError, MalformedCredentialError
from credentials.loader import check_contexts, document_loader
from credentials.quads import document_quads
from credentials.rdfc import TooComplexError, canonical_nquads
from ledger import jcs

__all__ = ["canonicalize_json", "canonicalize_rdf"]

# RDFC-1.0 is the W3C name of URDNA2015; pyld knows it by the older name, and its
# output for URDNA2015 is what the eddsa-rdfc-2022 vectors were made with.
_RDF_OPTIONS = {
    "algorithm": "URDNA2015",
    "format": "application/n-quads",
    "documentLoader": document_loader,
}

# Expansion resolves relative IRIs against this base (the .invalid top-level domain
# is reserved, RFC 2606 §2) so that they show up and are refused. Left to itself
# pyld resolves them against http://example.org/base/, and jsonld.js drops them:
# either way a verifier elsewhere would not see what was signed.
_RELATIVE_BASE = "https://relative-iri.invalid/"
_EXPAND_OPTIONS = {"documentLoader": document_loader, "base": _RELATIVE_BASE}

# Expanded-form keywords whose values are not IRIs and hold no nodes.
_LITERAL_KEYWORDS = frozenset({"@value", "@language", "@direction", "@index"})

# NOTE: pyld keeps resolved contexts in a module-wide cachetools LRU cache, which is
# not safe to use from several threads at once. Canonicalisation is pure Python and
# holds the GIL throughout, so one lock costs no throughput.
_PYLD_LOCK = threading.Lock()

# The fast path in front of pyld. Switching it off changes speed, never output:
# tests/credentials/test_canonical_fast.py holds the two to the same N-Quads, and
# bench/rdfc.py switches it off to measure pyld alone.
_FAST_PATH = True

logger = logging.getLogger(__name__)


def canonicalize_rdf(document: Mapping[str, Any]) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document (W3C RDF Canon §4).

    The document's contexts must all be shipped ones. Like the "safe mode" of
    Digital Bazaar's libraries, whatever JSON-LD would drop or rewrite on its way to
    RDF (a term no context defines, a relative or malformed IRI) is an error rather
    than data silently left unsigned.

    Raises:
        UnknownContextError: a context is not shipped with credbank.
        MalformedCredentialError: the document is not valid JSON-LD, would lose or
            rewrite data on the way to RDF, or has no RDF statements at all.
    """
    check_contexts(document)
    if _FAST_PATH:
        try:
            return canonical_nquads(document_quads(document))
        except (OutsideSubsetError, TooComplexError, RecursionError) as exc:
            # Not an error: the document is pyld's to canonicalise or refuse.
            logger.debug("canonicalising with pyld: %s", exc)
    return _canonicalize_with_pyld(document)


def _canonicalize_with_pyld(document: Mapping[str, Any]) -> str:
    # The reference path: pyld's expansion in "safe mode", then URDNA2015. The
    # contexts have been checked already. pyld (with requests and lxml) is loaded
    # on first use: the documents credbank issues never need it.
    from pyld import jsonld

    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped)
    try:
        with _PYLD_LOCK:
            expanded = processor.expand(dict(document), dict(_EXPAND_OPTIONS))
        _check_iris(expanded)
        with _PYLD_LOCK:
            nquads = processor.normalize(expanded, dict(_RDF_OPTIONS))
    except CredentialError:
        raise
    except Exception as exc:
        # pyld wraps our loader's errors (an unknown nested context, say): surface
        # ours rather than its generic "could not load" message.
        inner = _credential_cause(exc)
        if inner is not None:
            raise inner from None
        logger.debug("JSON-LD processing failed: %s", exc)
        raise MalformedCredentialError(f"expected valid JSON-LD, got: {exc}") from exc
    if not isinstance(nquads, str) or not nquads:
        raise MalformedCredentialError("expected RDF statements, got none")
    return nquads


def canonicalize_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) form of a JSON value, as UTF-8 bytes.

    Raises:
        MalformedCredentialError: `value` holds something JSON cannot carry exactly
            (NaN, an integer beyond ±2**53, a non-string key, a lone surrogate).
    """
    try:
        return jcs.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedCredentialError(
            f"expected a value RFC 8785 can canonicalise, got {exc}"
        ) from exc


def _refuse_dropped(expanded_property: str | None) -> None:
    raise MalformedCredentialError(
        "expected every property to be defined by a context, got an undefined "
        f"term (expanded to {expanded_property!r})"
    )


def _check_iris(value: Any) -> None:
    # Walks expanded JSON-LD: every node id, type, datatype and property must be an
    # absolute IRI (or a blank node), or pyld would skip or rewrite its statement.
    if isinstance(value, list):
        for item in value:
            _check_iris(item)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in _LITERAL_KEYWORDS:
            continue
        if key == "@id":
            _check_iri(item, "@id")
        elif key == "@type":
            for iri in item if isinstance(item, list) else [item]:
                if iri != "@json":
                    _check_iri(iri, "@type")
        else:
            if not key.startswith("@"):
                _check_iri(key, "property")
            _check_iris(item)


def _check_iri(iri: object, role: str) -> None:
    if isinstance(iri, str) and iri.startswith(_RELATIVE_BASE):
        relative = iri.removeprefix(_RELATIVE_BASE)
        raise MalformedCredentialError(
            f"expected an absolute IRI as {role}, got the relative {relative!r}"
        )
    if not isinstance(iri, str) or not ABSOLUTE_IRI.fullmatch(iri):
        raise MalformedCredentialError(
            f"expected an absolute IRI as {role}, got {iri!r}"
        )


def _credential_cause(exc: BaseException) -> CredentialError | None:
    seen: set[int] = set()
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, CredentialError):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None
