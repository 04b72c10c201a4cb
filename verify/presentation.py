"""Verifying a Verifiable Presentation: the holder's proof, then each credential.

VC Data Model 2.0 §4.13 (presentations) with a Data Integrity proof whose purpose is
`authentication` (Data Integrity 1.0 §2.1: `challenge` and `domain` bind the proof to
one verifier's request, and must match what the verifier asked for). When the
presentation names a `holder`, the proof's key must be the holder's. Each credential
inside, embedded or enveloped, goes through the same procedure as one sent alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from credentials.data_integrity import verify_proof
from credentials.errors import CredentialError
from verify.facts import Facts
from verify.procedure import VC2_CONTEXT, verify_credential
from verify.resolver import ResolutionError, Resolver
from verify.result import (
    CANNOT_CHECK,
    FAILED,
    INVALID,
    NOT_APPLICABLE,
    PASSED,
    Check,
    VerificationResult,
    verdict_of,
)

__all__ = ["PresentationResult", "verify_presentation"]

MAX_CREDENTIALS = 100


@dataclass(frozen=True)
class PresentationResult:
    checks: tuple[Check, ...]
    credentials: tuple[VerificationResult, ...]

    @property
    def verdict(self) -> str:
        own = verdict_of(self.checks)
        if own == INVALID or any(r.verdict == INVALID for r in self.credentials):
            return INVALID
        verdicts = {own, *(r.verdict for r in self.credentials)}
        return "valid-with-warnings" if "valid-with-warnings" in verdicts else "valid"

    @property
    def verified(self) -> bool:
        return self.verdict != INVALID

    def to_json(self) -> dict[str, Any]:
        """VC-API VerifyPresentationResult, with the verdict and every line."""
        problems = [
            {
                "type": f"https://credbank.dev/problems/verification/{check.code}",
                "title": check.message("en"),
                "detail": check.detail,
            }
            for check in self.checks
            if check.outcome == FAILED
        ]
        return {
            "verified": self.verified,
            "verdict": self.verdict,
            "checks": [check.to_json() for check in self.checks],
            "credentialResults": [result.to_json() for result in self.credentials],
            "problemDetails": problems,
        }


def verify_presentation(
    presentation: Any,
    *,
    challenge: str | None,
    domain: str | None,
    resolver: Resolver,
    facts: Facts,
    now: datetime,
) -> PresentationResult:
    checks: list[Check] = []

    def add(outcome: str, code: str, detail: str = "", **values: str) -> None:
        checks.append(
            Check(1, "presentation", outcome, code, detail[:500], False, values)
        )

    if not isinstance(presentation, Mapping) or "VerifiablePresentation" not in _list(
        presentation.get("type")
    ):
        add(FAILED, "format.malformed", "expected a VerifiablePresentation object")
        return PresentationResult(tuple(checks), ())
    contexts = _list(presentation.get("@context"))
    if not contexts or contexts[0] != VC2_CONTEXT:
        add(FAILED, "presentation.invalid", "@context", field="@context")
        return PresentationResult(tuple(checks), ())

    if "proof" not in presentation:
        if challenge is not None:
            add(FAILED, "presentation.unsigned", "a challenge was asked for")
        else:
            add(NOT_APPLICABLE, "presentation.unsigned")
    else:
        _check_holder_proof(presentation, challenge, domain, resolver, add)

    given = _list(presentation.get("verifiableCredential"))
    if len(given) > MAX_CREDENTIALS:
        add(FAILED, "presentation.invalid", "too many credentials", field="count")
        return PresentationResult(tuple(checks), ())
    results = tuple(
        verify_credential(item, resolver=resolver, facts=facts, now=now)
        for item in given
    )
    return PresentationResult(tuple(checks), results)


def _check_holder_proof(
    presentation: Mapping[str, Any],
    challenge: str | None,
    domain: str | None,
    resolver: Resolver,
    add: Any,
) -> None:
    proof = presentation["proof"]
    if not isinstance(proof, Mapping):
        add(FAILED, "presentation.invalid", "one proof expected", field="proof")
        return
    method = proof.get("verificationMethod")
    try:
        key = resolver.key(str(method), "authentication")
    except ResolutionError as exc:
        outcome = FAILED if exc.code == "method.unknown" else CANNOT_CHECK
        add(outcome, "presentation.invalid", str(exc), field="verificationMethod")
        return
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    if holder_id is not None and holder_id != key.controller:
        add(
            FAILED,
            "presentation.invalid",
            "the key is not the holder's",
            field="holder",
        )
        return

    def key_for(method_id: str) -> tuple[str, bytes]:
        if method_id != key.method_id:
            raise LookupError(method_id)
        return key.algorithm, key.public_key

    try:
        verify_proof(presentation, key_for, proof_purpose="authentication")
    except (CredentialError, ValueError, TypeError, RecursionError) as exc:
        add(FAILED, "presentation.invalid", str(exc), field="proof")
        return
    # Data Integrity 1.0 §4.3 step 9-10: the proof's challenge and domain must be the
    # ones this verifier asked for.
    if challenge is not None and proof.get("challenge") != challenge:
        add(FAILED, "presentation.invalid", "challenge mismatch", field="challenge")
        return
    domains = _list(proof.get("domain"))
    if domain is not None and domain not in domains:
        add(FAILED, "presentation.invalid", "domain mismatch", field="domain")
        return
    add(PASSED, "presentation.valid", key.method_id)


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
