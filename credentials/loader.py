"""The local JSON-LD document loader and the checks every document passes first.

Contexts come only from the files shipped in `credentials/contexts/`, keyed by URL;
nothing is fetched at run time (DESIGN §4; VC Data Integrity 1.0 §2.4.1 "Validating
Contexts" lets an implementation pin the contexts it accepts). A document that names
any other context, or carries an inline context object, is refused, and so is any
string holding a control character other than tab, newline or carriage return, on
which JSON-LD canonicalisers disagree.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from credentials.errors import (
    ControlCharacterError,
    MalformedCredentialError,
    UnknownContextError,
)

__all__ = [
    "CLR_V2P0",
    "CONTEXTS",
    "CREDENTIALS_V1",
    "CREDENTIALS_V2",
    "DATA_INTEGRITY_V2",
    "OB_V3P0",
    "check_characters",
    "check_contexts",
    "check_document",
    "document_loader",
    "load_context",
]

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_V2P0 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"

# URL -> file in credentials/contexts/ (provenance in contexts/README.md).
CONTEXTS: Mapping[str, str] = {
    CREDENTIALS_V2: "credentials-v2.jsonld",
    CREDENTIALS_V1: "credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/undefined-terms/v2": (
        "credentials-undefined-terms-v2.jsonld"
    ),
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    OB_V3P0: "ob-v3p0-context-3.0.3.json",
    CLR_V2P0: "clr-v2p0-context-2.0.1.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "vc-bitstring-status-list-v1.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
}

# The containers JSON parses to, told apart by type before any isinstance check.
_CONTAINERS = (dict, list)
# The other values parsed JSON holds.
_SCALARS = frozenset({int, float, bool, type(None)})

# Unicode control characters (category Cc) other than tab, newline and carriage
# return, and lone surrogates, which no UTF-8 encoder can write.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

logger = logging.getLogger(__name__)


def load_context(url: str) -> Any:
    """The parsed context document shipped for `url`.

    Each call returns a fresh parse of the cached file text, so that a caller (or
    pyld) that changes the result cannot change what the next caller sees.

    Raises:
        UnknownContextError: `url` is not one of `CONTEXTS`.
    """
    return json.loads(_context_text(url))


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> Any:
    """A pyld `documentLoader`: the shipped context as a JSON-LD RemoteDocument.

    The `static` tag lets pyld keep the resolved context in its own cache, so each
    context is parsed once per process rather than once per canonicalisation.
    """
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(url),
        "tag": "static",
    }


def check_contexts(document: Mapping[str, Any]) -> None:
    """Refuse a document unless every `@context` in it is a shipped context URL.

    The top-level `@context` must be present and non-empty; an `@context` nested
    anywhere deeper is held to the same rule, and inline context objects are
    refused, since they could redefine the terms a verifier relies on.
    """
    contexts: list[Any] = []
    if isinstance(document, Mapping | list):
        _scan_contexts(document, contexts)
    _check_context_values(document, contexts)


def check_document(document: Mapping[str, Any]) -> None:
    """`check_characters` and `check_contexts` in one walk over the document.

    Issuance calls this on every credential, so it visits each value once and
    builds a JSON path only when there is an error to report.

    Raises:
        ControlCharacterError: before any context is looked at.
        UnknownContextError, MalformedCredentialError: as `check_contexts`.
    """
    strings: list[str] = []
    contexts: list[Any] = []
    _scan(document, strings, contexts)
    if _FORBIDDEN.search("".join(strings)) is not None:
        check_characters(document)  # finds the first one and its path, and raises
    _check_context_values(document, contexts)


def check_characters(document: Any) -> None:
    """Refuse control characters other than tab, newline and CR in any string.

    Keys are checked as well as values. The error names the JSON path of the first
    offending string.
    """
    for path, text in _strings(document, "$"):
        found = _FORBIDDEN.search(text)
        if found is not None:
            raise ControlCharacterError(path, found.group())


@cache
def _context_text(url: str) -> str:
    name = CONTEXTS.get(url)
    if name is None:
        raise UnknownContextError(url)
    logger.debug("loading shipped context %s", url)
    return (resources.files("credentials") / "contexts" / name).read_text("utf-8")


def _scan(value: Any, strings: list[str], contexts: list[Any]) -> None:
    # Every string (keys too) into `strings`, every @context value into `contexts`.
    # Parsed JSON holds only dict, list, str and scalars: those are told apart by
    # their exact type, and only anything else pays for an isinstance check.
    kind = type(value)
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        for key, item in value.items():
            if type(key) is str or isinstance(key, str):
                strings.append(key)
                if key == "@context":
                    contexts.append(item)
            _scan_item(item, strings, contexts)
    elif kind is list:
        for item in value:
            _scan_item(item, strings, contexts)
    elif isinstance(value, str):
        strings.append(value)
    elif isinstance(value, list):
        for item in value:
            _scan_item(item, strings, contexts)


def _scan_item(item: Any, strings: list[str], contexts: list[Any]) -> None:
    kind = type(item)
    if kind is str:
        strings.append(item)
    elif kind in _CONTAINERS or (
        kind not in _SCALARS and isinstance(item, str | Mapping | list)
    ):
        _scan(item, strings, contexts)


def _scan_contexts(value: Mapping[Any, Any] | list[Any], contexts: list[Any]) -> None:
    # Every @context value into `contexts`, in the order `_scan` finds them (the
    # first one refused is the one named). Verification runs this on every
    # credential, so strings, most of the values, are passed over at once.
    if isinstance(value, list):
        for item in value:
            kind = type(item)
            if kind is not str and (
                kind in _CONTAINERS or isinstance(item, Mapping | list)
            ):
                _scan_contexts(item, contexts)
        return
    for key, item in value.items():
        if key == "@context":
            contexts.append(item)
        kind = type(item)
        if kind is not str and (
            kind in _CONTAINERS or isinstance(item, Mapping | list)
        ):
            _scan_contexts(item, contexts)


def _check_context_values(document: Mapping[str, Any], contexts: list[Any]) -> None:
    if not isinstance(document, Mapping):
        raise MalformedCredentialError(
            f"expected a JSON object, got {type(document).__name__}"
        )
    top = document.get("@context")
    if top is None or top == []:
        raise MalformedCredentialError("expected an @context, got none")
    for value in contexts:
        for context in value if isinstance(value, list) else [value]:
            if not isinstance(context, str) or context not in CONTEXTS:
                logger.debug("refused a context that is not shipped")
                raise UnknownContextError(context)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                yield f"{path} (a key)", key
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
