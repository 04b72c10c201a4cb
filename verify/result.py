"""What a verification answers: a verdict, and one line per check (DESIGN §6).

Every line carries a stable machine code (`status.revoked`, `signature.invalid`...),
the step of the procedure it belongs to, an outcome, a message in Chinese and in
English (verify/messages.py), and a detail for people who want to know more. The
detail never holds a stack trace or an internal id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from verify.messages import MESSAGES

__all__ = [
    "CANNOT_CHECK",
    "ESSENTIAL",
    "FAILED",
    "INVALID",
    "NOT_APPLICABLE",
    "PASSED",
    "VALID",
    "VALID_WITH_WARNINGS",
    "Check",
    "Summary",
    "VerificationResult",
    "verdict_of",
]

PASSED = "passed"
FAILED = "failed"
CANNOT_CHECK = "cannot-check"
NOT_APPLICABLE = "not-applicable"

VALID = "valid"
INVALID = "invalid"
VALID_WITH_WARNINGS = "valid-with-warnings"

# The check names (`Check.check`) without which nothing else means anything: a
# credential whose key, signature or shape could not be checked is not valid,
# whatever the other lines say.
ESSENTIAL = frozenset({"format", "method", "signature", "data-model"})


@dataclass(frozen=True)
class Check:
    """One line of the result.

    `check` names the step (`signature`, `status`...), `code` the finding within it
    (`status.suspended`). `warning` marks a passed line that a person should still
    read: a course retired after the credential was issued.
    """

    step: int
    check: str
    outcome: str
    code: str
    detail: str = ""
    warning: bool = False
    values: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        """The message for `code` in `lang` ("zh" or "en"), values filled in."""
        template = MESSAGES[self.code][lang]
        return template.format_map(_Blank(self.values)) if self.values else template

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "check": self.check,
            "outcome": self.outcome,
            "code": self.code,
            "message": {"zh": self.message("zh"), "en": self.message("en")},
            "detail": self.detail,
            "warning": self.warning,
        }


@dataclass(frozen=True)
class Summary:
    """What the page shows of a credential, taken from what was verified."""

    name: str = ""
    achievement: str = ""
    achievement_zh: str = ""
    issuer: str = ""
    issuer_zh: str = ""
    issuer_id: str = ""
    learner: str = ""
    valid_from: str = ""
    valid_until: str = ""
    awarded: str = ""
    credits: str = ""
    unit: str = ""
    level: str = ""


@dataclass(frozen=True)
class VerificationResult:
    """The verdict and the checks behind it, with what was verified."""

    checks: tuple[Check, ...]
    credential: Mapping[str, Any] | None = None
    format: str = ""
    summary: Summary = field(default_factory=Summary)

    @property
    def verdict(self) -> str:
        return verdict_of(self.checks)

    @property
    def verified(self) -> bool:
        return self.verdict != INVALID

    def failures(self) -> list[Check]:
        return [check for check in self.checks if check.outcome == FAILED]

    def to_json(self) -> dict[str, Any]:
        """The VC-API VerificationResult: `verified`, `checks`, `problemDetails`,
        plus the verdict and the warnings."""
        return {
            "verified": self.verified,
            "verdict": self.verdict,
            "checks": [check.to_json() for check in self.checks],
            "warnings": [
                check.code
                for check in self.checks
                if check.warning or check.outcome == CANNOT_CHECK
            ],
            "problemDetails": [_problem(check) for check in self.failures()],
        }


def verdict_of(checks: Sequence[Check]) -> str:
    """Invalid when a check failed or an essential one could not be made; with
    warnings when a check could not be made or a passed one carries a warning."""
    if any(check.outcome == FAILED for check in checks):
        return INVALID
    if any(check.check in ESSENTIAL and check.outcome != PASSED for check in checks):
        return INVALID
    if any(check.outcome == CANNOT_CHECK or check.warning for check in checks):
        return VALID_WITH_WARNINGS
    return VALID


def _problem(check: Check) -> dict[str, Any]:
    # RFC 9457 members, as VC-API's problemDetails carries them.
    return {
        "type": f"https://credbank.dev/problems/verification/{check.code}",
        "title": check.message("en"),
        "detail": check.detail,
    }


class _Blank(dict[str, str]):
    """A mapping that leaves an unknown placeholder empty rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""
