"""Resolving a verification method to a public key (DESIGN §6 step 2).

Three kinds of DID, and nothing else:

- `did:key` (W3C did:key 0.9 §3.1.2): the key is the identifier; no lookup at all.
- `did:web` of this service's own issuers: the document is built from the registry
  by the caller-supplied `local` function, never fetched over the network.
- any other `did:web`: fetched only when its host is on the configured allow-list
  (did:web §3.2.1: `https://<host>/<path>/did.json`, or `/.well-known/did.json`),
  with a timeout and a size cap. A host not on the list is refused before any
  request is made.

`Resolver.fetch` opens the same gate for other documents an issuer publishes (the
status lists of verify/remote_status.py): HTTPS, an allowed host, the same fetcher.

A resolved key carries the method's controller, so that step 2 can insist the
controller is the credential's issuer, and the method's `revoked` time, which step 9
compares with the credential's log entry.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from keys.multikey import decode_multikey
from keys.signers import ED25519, P256

__all__ = [
    "MethodNotFoundError",
    "NotAllowedError",
    "ResolutionError",
    "ResolvedKey",
    "Resolver",
    "UnavailableError",
    "did_of",
    "fetch_did_web",
]

# A DID document larger than this is not a DID document.
MAX_DOCUMENT_BYTES = 100_000
FETCH_TIMEOUT_SECONDS = 5.0
# DID documents (did:web §3.2.1) and status list credentials (VC 2.0 §6.3 media
# types; a vc+jwt one is a compact JWS).
_ACCEPT = (
    "application/did+json, application/vc+ld+json, application/vc+jwt, "
    "application/json;q=0.8"
)


class ResolutionError(Exception):
    """The method could not be resolved; `code` is the finding step 2 reports."""

    code = "method.unknown"


class MethodNotFoundError(ResolutionError):
    """The DID resolved, but names no such method for this purpose."""


class NotAllowedError(ResolutionError):
    """A did:web on a host that is not on the allow-list: nothing was fetched."""

    code = "method.not-allowed"


class UnavailableError(ResolutionError):
    """The document could not be had (network, offline, malformed answer)."""

    code = "method.unavailable"


@dataclass(frozen=True)
class ResolvedKey:
    method_id: str
    controller: str
    algorithm: str
    public_key: bytes
    revoked: datetime | None


DocumentSource = Callable[[str], Mapping[str, Any] | None]
Fetch = Callable[[str], bytes]


def did_of(method_id: str) -> str:
    """The DID part of a DID URL."""
    return method_id.split("#", 1)[0].split("?", 1)[0]


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is refused, not followed: the host was allowed, not wherever it
    points (which could be another host, or plain http)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        raise UnavailableError(
            f"expected the document at {req.full_url}, got a redirect ({code})"
        )


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def open_url(request: urllib.request.Request, *, timeout: float) -> Any:
    """Send `request` without following redirects (tests replace this)."""
    return _OPENER.open(request, timeout=timeout)


def fetch_did_web(url: str) -> bytes:
    """GET `url` over HTTPS with a timeout, refusing an answer over the size cap.

    It fetches DID documents and the status list credentials their issuers serve,
    so it accepts either.
    """
    if not url.startswith("https://"):
        raise UnavailableError(f"expected an https URL, got {url!r}")
    # The scheme is checked just above: only https is ever opened.
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT})  # noqa: S310
    with open_url(request, timeout=FETCH_TIMEOUT_SECONDS) as answer:
        body: bytes = answer.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise UnavailableError(
            f"expected at most {MAX_DOCUMENT_BYTES} bytes from {url}, got more"
        )
    return body


class Resolver:
    """Turns a verification method id into a key, by the rules above.

    `local(did)` answers this service's own DID documents (None for a DID it does
    not know): `local_prefix` and every DID under it (`<prefix>:...`). `carried`
    holds documents a wallet brought along; `allowed_hosts` lists did:web hosts
    that may be fetched, with `fetch` doing the fetching.

    A resolver serves one verification (or one wallet): it keeps what it fetched.
    """

    def __init__(
        self,
        *,
        local: DocumentSource | None = None,
        local_prefix: str | None = None,
        carried: Mapping[str, Mapping[str, Any]] | None = None,
        allowed_hosts: Collection[str] = (),
        fetch: Fetch = fetch_did_web,
    ) -> None:
        self._local = local
        self._local_prefix = local_prefix
        self._carried = dict(carried or {})
        self._allowed = {host.lower() for host in allowed_hosts}
        self._fetch = fetch
        # Documents fetched by this resolver, so that one verification asks a
        # host for a DID document once (the credential's key, its status list's).
        self._fetched: dict[str, Mapping[str, Any]] = {}

    def key(self, method_id: str, purpose: str) -> ResolvedKey:
        """The key behind `method_id`, listed for `purpose` in its DID document."""
        if not isinstance(method_id, str) or not method_id.startswith("did:"):
            raise MethodNotFoundError(f"expected a DID URL, got {method_id!r}")
        did = did_of(method_id)
        if did.startswith("did:key:"):
            return _did_key(did, method_id)
        if not did.startswith("did:web:"):
            raise MethodNotFoundError(f"expected did:key or did:web, got {did!r}")
        document = self.document(did)
        return _method_in(document, did, method_id, purpose)

    def document(self, did: str) -> Mapping[str, Any]:
        if did in self._carried:
            return self._carried[did]
        ours = self._local_prefix is None or (
            did == self._local_prefix or did.startswith(self._local_prefix + ":")
        )
        if self._local is not None and ours:
            found = self._local(did)
            if found is not None:
                return found
            if self._local_prefix is not None:
                raise MethodNotFoundError(f"no DID {did} is served here")
        if did in self._fetched:
            return self._fetched[did]
        url = _did_web_url(did)
        try:
            document = json.loads(self.fetch(url))
        except ValueError as exc:
            raise UnavailableError(f"cannot read {url!r}: {exc}") from exc
        if not isinstance(document, dict) or document.get("id") != did:
            raise UnavailableError(f"the document at {url} is not the DID document")
        self._fetched[did] = document
        return document

    def fetch(self, url: str) -> bytes:
        """GET `url` with this resolver's fetcher (its timeout, its size cap), when
        it is an https URL on an allowed host.

        Raises:
            NotAllowedError: the host is not on the allow-list; nothing was sent.
            UnavailableError: not an https URL, or the fetch failed.
        """
        try:
            parts = urlsplit(url)
        except ValueError as exc:  # an unbalanced IPv6 bracket, say
            raise UnavailableError(f"expected an https URL, got {url!r}") from exc
        if parts.scheme != "https" or not parts.hostname:
            raise UnavailableError(f"expected an https URL, got {url!r}")
        # urlsplit lower-cases the host and drops any user part and port, so
        # `https://allowed.example@elsewhere.example/` is checked as elsewhere.
        if parts.hostname not in self._allowed:
            raise NotAllowedError(
                f"host {parts.hostname!r} is not on the allow-list; "
                f"{url!r} was not fetched"
            )
        try:
            return self._fetch(url)
        except ResolutionError:
            raise
        except (OSError, ValueError) as exc:
            raise UnavailableError(f"cannot fetch {url!r}: {exc}") from exc


def _did_web_url(did: str) -> str:
    # did:web §3.2.1: colons separate path segments; the host may carry a
    # percent-encoded port.
    segments = did.removeprefix("did:web:").split(":")
    if not segments or not segments[0]:
        raise MethodNotFoundError(f"expected did:web:<host>, got {did!r}")
    host = unquote(segments[0])
    path = "/".join(unquote(s) for s in segments[1:]) or ".well-known"
    if any(c in host for c in "/@?#\\") or any(
        part in {"", ".", ".."} for part in path.split("/")
    ):
        raise MethodNotFoundError(f"expected a plain did:web, got {did!r}")
    return f"https://{host}/{path}/did.json"


def _did_key(did: str, method_id: str) -> ResolvedKey:
    # did:key §3.1.2: the method id is the DID, '#', and the multibase key again.
    encoded = did.removeprefix("did:key:")
    if method_id not in {did, f"{did}#{encoded}"}:
        raise MethodNotFoundError(f"expected {did}#{encoded}, got {method_id!r}")
    try:
        algorithm, public_key = decode_multikey(encoded)
    except Exception as exc:
        raise MethodNotFoundError(
            f"expected a did:key of a known key type: {exc}"
        ) from exc
    return ResolvedKey(f"{did}#{encoded}", did, algorithm, public_key, None)


def _method_in(
    document: Mapping[str, Any], did: str, method_id: str, purpose: str
) -> ResolvedKey:
    listed = document.get(purpose)
    if not isinstance(listed, list) or not any(
        item == method_id or (isinstance(item, Mapping) and item.get("id") == method_id)
        for item in listed
    ):
        raise MethodNotFoundError(f"{method_id} is not listed for {purpose}")
    methods = [
        *[m for m in listed if isinstance(m, Mapping)],
        *(document.get("verificationMethod") or []),
    ]
    method = next(
        (m for m in methods if isinstance(m, Mapping) and m.get("id") == method_id),
        None,
    )
    if method is None:
        raise MethodNotFoundError(f"{did} has no method {method_id}")
    controller = method.get("controller")
    if controller != did:
        raise MethodNotFoundError(f"{method_id} is controlled by {controller!r}")
    algorithm, public_key = _public_key(method)
    return ResolvedKey(method_id, did, algorithm, public_key, _revoked(method))


def _public_key(method: Mapping[str, Any]) -> tuple[str, bytes]:
    if method.get("type") == "Multikey":
        try:
            return decode_multikey(str(method.get("publicKeyMultibase")))
        except Exception as exc:
            raise MethodNotFoundError(f"unusable publicKeyMultibase: {exc}") from exc
    jwk = method.get("publicKeyJwk")
    if method.get("type") == "JsonWebKey" and isinstance(jwk, Mapping):
        if "d" in jwk:
            raise MethodNotFoundError("a public key must not carry its private part")
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return ED25519, _b64url(jwk.get("x"), 32)
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            point = b"\x04" + _b64url(jwk.get("x"), 32) + _b64url(jwk.get("y"), 32)
            return P256, point
    raise MethodNotFoundError(f"unsupported verification method {method.get('type')!r}")


def _b64url(value: Any, length: int) -> bytes:
    if not isinstance(value, str):
        raise MethodNotFoundError("expected base64url key coordinates")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MethodNotFoundError("expected base64url key coordinates") from exc
    if len(raw) != length:
        raise MethodNotFoundError(f"expected a {length}-byte coordinate")
    return raw


def _revoked(method: Mapping[str, Any]) -> datetime | None:
    # Controlled Identifiers 1.0 §2.2.1: `revoked` is the dateTime from which the
    # method may no longer be trusted.
    value = method.get("revoked")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MethodNotFoundError(f"expected revoked as a dateTime: {exc}") from exc
