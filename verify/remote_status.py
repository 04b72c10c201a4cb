"""Other issuers' status lists, read where they are served (DESIGN §6 step 6).

Bitstring Status List v1.0 §3.2 step 4 dereferences the entry's
`statusListCredential` and verifies its proof. Here that happens only for an https
URL on a host of the did:web allow-list, checked before any request, with the
resolver's fetcher and so its timeout and size cap (verify/resolver.py). A list
counts only when the one procedure verifies it (a key of its issuer, the data model,
the validity period) and:

- its issuer is the credential's issuer: §3.2 leaves whose list to believe to the
  verifier, and a list anyone else signed says nothing of this issuer's credentials
  (the reading names the list's issuer; the procedure compares, for every list);
- it is a BitstringStatusListCredential (§2.2) whose id is the URL it came from, so
  one of the issuer's lists cannot stand in for another;
- it has the entry's purpose (§3.2 step 5) and holds the entry's index (step 10).

Anything short of that raises `UnavailableFact`: the status line then says "cannot
check", never "not revoked". The procedure asks here only when its `Facts` answers
`StatusListNotHeld`. NOTE: this is not a `Facts` of its own, as ADR 0004 foresaw: a
list counts only for its issuer, which the `Facts` questions do not carry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from credentials.errors import CredentialError
from credentials.status_list import Bitstring
from verify.facts import StatusReading, UnavailableFact
from verify.resolver import NotAllowedError, ResolutionError, Resolver
from verify.result import FAILED, PASSED, VerificationResult

__all__ = ["HostNotAllowed", "RemoteStatusLists"]

_LIST_CREDENTIAL = "BitstringStatusListCredential"
_LIST = "BitstringStatusList"

Verify = Callable[[str], VerificationResult]

logger = logging.getLogger(__name__)


class HostNotAllowed(UnavailableFact):
    """The list is on a host that is not on the allow-list: nothing was fetched."""


@dataclass(frozen=True)
class _StatusList:
    issuer: str
    purposes: tuple[str, ...]
    bits: Bitstring


class RemoteStatusLists:
    """The status lists one verification reads from elsewhere, each fetched once.

    `verify` runs the procedure on a fetched list credential, with no facts of this
    service (nothing here vouches for another issuer's list) and the same resolver.
    """

    def __init__(self, resolver: Resolver, verify: Verify) -> None:
        self._resolver = resolver
        self._verify = verify
        self._read: dict[str, _StatusList | UnavailableFact] = {}

    def status_bit(self, list_url: str, index: int, purpose: str) -> StatusReading:
        """The bit at `index` of the `purpose` list at `list_url`, with the issuer
        whose proof the list carries."""
        found = self._list(list_url)
        if purpose not in found.purposes:
            raise UnavailableFact(
                f"expected a {purpose} list at {list_url!r}, "
                f"got {' and '.join(found.purposes) or 'no purpose'}"
            )
        if not 0 <= index < len(found.bits):
            raise UnavailableFact(
                f"expected an index below {len(found.bits)} in {list_url!r}, "
                f"got {index}"
            )
        return StatusReading(found.bits.get(index), issuer=found.issuer)

    def _list(self, url: str) -> _StatusList:
        if url not in self._read:
            try:
                self._read[url] = self._fetch_list(url)
            except UnavailableFact as exc:
                logger.debug("status list %r not read: %r", url, str(exc))
                self._read[url] = exc
            else:
                logger.debug("status list %r read and verified", url)
        found = self._read[url]
        if isinstance(found, UnavailableFact):
            raise found
        return found

    def _fetch_list(self, url: str) -> _StatusList:
        try:
            body = self._resolver.fetch(url)
        except NotAllowedError as exc:
            raise HostNotAllowed(str(exc)) from exc
        except ResolutionError as exc:
            raise UnavailableFact(str(exc)) from exc
        try:
            result = self._verify(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise UnavailableFact(f"the status list {url!r} is not UTF-8") from exc
        except RecursionError as exc:
            raise UnavailableFact(f"the status list {url!r} nests too deep") from exc
        if not result.verified:
            raise UnavailableFact(
                f"the status list {url!r} does not verify: {_reason(result)}"
            )
        credential = result.credential or {}
        types = credential.get("type")
        if _LIST_CREDENTIAL not in (types if isinstance(types, list) else [types]):
            raise UnavailableFact(f"expected a {_LIST_CREDENTIAL} at {url!r}")
        if credential.get("id") != url:
            raise UnavailableFact(
                f"expected the status list's id to be {url!r}, "
                f"got {credential.get('id')!r}"
            )
        return _StatusList(result.summary.issuer_id, *_subject(credential, url))


def _subject(
    credential: Mapping[str, Any], url: str
) -> tuple[tuple[str, ...], Bitstring]:
    # §2.2: one credentialSubject, of type BitstringStatusList, whose
    # statusPurpose is one string or several.
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != _LIST:
        raise UnavailableFact(f"expected a {_LIST} subject in {url!r}")
    purposes = subject.get("statusPurpose")
    listed = purposes if isinstance(purposes, list) else [purposes]
    try:
        bits = Bitstring.decode(str(subject.get("encodedList")))
    except CredentialError as exc:
        raise UnavailableFact(f"the bits of {url!r}: {exc}") from exc
    return tuple(p for p in listed if isinstance(p, str)), bits


def _reason(result: VerificationResult) -> str:
    # The first line that failed, or else the first that could not be made.
    lines = [c for c in result.checks if c.outcome == FAILED] or [
        c for c in result.checks if c.outcome != PASSED
    ]
    if not lines:
        return result.verdict
    return f"{lines[0].code} ({lines[0].detail})" if lines[0].detail else lines[0].code
