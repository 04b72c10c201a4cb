"""Deposits from other platforms, checked again before a transfer counts them.

DESIGN §6 step 6 and §7. A credential another platform issued may be revoked or
suspended there after it was deposited here, and nothing tells us. So every preview
and commit runs the verification procedure its deposit ran on it again, and
`check_source` reads the answer:

- revoked: the deposit is withdrawn (`credits.withdrawn`), as for a revocation here;
- suspended: it stays available, and the converter sees it as revoked, as for a
  suspension here;
- cannot check (the status list or the issuer's key could not be had), or no longer
  verifies: the deposit is held back from this evaluation. A status that could not
  be read never counts as "not revoked"; the next preview asks again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from credits.bank import EXTERNAL
from credits.models import Deposit
from verify.result import CANNOT_CHECK as CANNOT_CHECK_OUTCOME
from verify.result import FAILED, VerificationResult

__all__ = [
    "ACTIVE",
    "CANNOT_CHECK",
    "INVALID",
    "REVOKED",
    "SOURCE_STATES",
    "SUSPENDED",
    "Source",
    "SourceCheck",
    "check_source",
    "sources_of",
    "unchecked",
]

ACTIVE = "active"
REVOKED = "revoked"
SUSPENDED = "suspended"
CANNOT_CHECK = "cannot-check"
INVALID = "invalid"
SOURCE_STATES = (ACTIVE, REVOKED, SUSPENDED, CANNOT_CHECK, INVALID)

# The states whose deposit the converter is given (a suspended one as revoked).
_GIVEN = frozenset({ACTIVE, SUSPENDED})

_MESSAGES = {
    ACTIVE: {
        "zh": "来源平台的状态已再次核验：有效",
        "en": "Checked again with its home platform: active",
    },
    REVOKED: {
        "zh": "来源平台已撤销该证书，存入的学分已撤回",
        "en": "Revoked by its home platform: the deposit is withdrawn",
    },
    SUSPENDED: {
        "zh": "来源平台已暂停该证书，暂停期间不能使用",
        "en": "Suspended by its home platform: not usable while suspended",
    },
    CANNOT_CHECK: {
        "zh": "无法从来源平台读取其状态，本次不计入，可稍后重新预览",
        "en": "Its status could not be read from its home platform: not counted "
        "this time; preview again later",
    },
    INVALID: {
        "zh": "该证书已无法通过验证，本次不计入",
        "en": "It no longer verifies: not counted",
    },
}

# The lines of a verification that a re-check leaves to others: the converter
# judges expiry on its own evaluation date (credit-rules.md step 2).
_IGNORED = frozenset({"validity"})


@dataclass(frozen=True)
class Source:
    """A deposit from another platform, as a re-check needs it: read in one
    transaction, checked outside any (fetching may take seconds)."""

    deposit: str
    credential: str
    digest: str
    document: Mapping[str, Any] | None


@dataclass(frozen=True)
class SourceCheck:
    """What checking a deposit from another platform again found.

    `code` is the verification line behind `state` (`status.unreadable`...), or
    `deposit.unchecked` / `deposit.no-copy` when there was nothing to verify.
    """

    deposit: str
    credential: str
    digest: str
    state: str
    code: str
    detail: str = ""

    @property
    def is_given(self) -> bool:
        """Whether the converter sees the deposit (a suspended one as revoked)."""
        return self.state in _GIVEN

    def to_json(self) -> dict[str, Any]:
        return {
            "credential": self.credential,
            "digest": self.digest,
            "status": self.state,
            "usable": self.state == ACTIVE,
            "code": self.code,
            "message": dict(_MESSAGES[self.state]),
            "detail": self.detail,
        }


def sources_of(deposits: Iterable[Deposit]) -> list[Source]:
    """The deposits among `deposits` that came from another platform."""
    return [
        Source(d.id, d.credential_id, d.digest, d.credential)
        for d in deposits
        if d.source == EXTERNAL
    ]


def check_source(source: Source, result: VerificationResult | None) -> SourceCheck:
    """Read a verification of `source`'s credential (None: it kept no copy)."""
    if result is None:
        return _check(
            source,
            CANNOT_CHECK,
            "deposit.no-copy",
            "deposited before credentials were kept; its status cannot be read",
        )
    lines = [c for c in result.checks if c.check not in _IGNORED]
    status = next((c for c in lines if c.check == "status"), None)
    if status is not None and status.code == "status.revoked":
        return _check(source, REVOKED, status.code, status.detail)
    if status is not None and status.code == "status.suspended":
        return _check(source, SUSPENDED, status.code, status.detail)
    failed = [c for c in lines if c.outcome == FAILED]
    if failed:
        return _check(source, INVALID, failed[0].code, failed[0].detail)
    unsure = [c for c in lines if c.outcome == CANNOT_CHECK_OUTCOME]
    if unsure:
        # The status line says best why; else the first line that could not be made.
        line = status if status in unsure else unsure[0]
        assert line is not None
        return _check(source, CANNOT_CHECK, line.code, line.detail)
    return _check(source, ACTIVE, status.code if status else "status.none")


def unchecked(deposit: Deposit) -> SourceCheck:
    """The answer for an external deposit no re-check covered (it arrived while
    the others were being checked): held back like one that cannot be checked."""
    return SourceCheck(
        deposit.id,
        deposit.credential_id,
        deposit.digest,
        CANNOT_CHECK,
        "deposit.unchecked",
        "not checked again for this request",
    )


def _check(source: Source, state: str, code: str, detail: str = "") -> SourceCheck:
    return SourceCheck(
        source.deposit, source.credential, source.digest, state, code, detail
    )
