"""Builders for the credits tests: a small rule set, credentials, a run.

The base rule set converts ECTS, HOURS, QCH and SCH into ECTS; one accepted issuer;
effective 2025-01-01 to 2027-12-31; no caps, no defaults unless a test adds them.
"""

from __future__ import annotations

import copy
from datetime import date
from fractions import Fraction
from typing import Any

from credits import (
    Evaluation,
    NormalisedCredential,
    evaluate,
    load_rule_set,
    read_credential,
)

ON = date(2026, 3, 1)
ISSUER = "did:web:issuer.example"

BASE: dict[str, Any] = {
    "format": "credit-rules/v1",
    "id": "test-rules",
    "school": "did:web:school.example",
    "program": {"code": "P-1", "name": "Test programme", "total_credits": 100},
    "target_unit": "ECTS",
    "effective": {"from": "2025-01-01", "until": "2027-12-31"},
    "accepted_issuers": [ISSUER],
    "conversion": {"ECTS": "1", "HOURS": "1/25", "QCH": "2/3", "SCH": "2"},
    "rules": [],
}


def document(*rules: dict[str, Any], **top: Any) -> dict[str, Any]:
    """The base rule set with these rules and top-level fields replaced."""
    built = copy.deepcopy(BASE)
    built["rules"] = list(rules)
    built.update(top)
    return built


def fixed(
    rule_id: str,
    credits: Any,
    *achievements: str,
    course: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A fixed rule granting `credits` for all of `achievements`."""
    return {
        "id": rule_id,
        "target": {"course": course or f"C-{rule_id}", "slot": "required"},
        "credits": credits,
        "all_of": [{"achievement": a} for a in achievements],
        **extra,
    }


def converting(rule_id: str, *achievements: str, **extra: Any) -> dict[str, Any]:
    """A convert rule over any of `achievements`."""
    return {
        "id": rule_id,
        "target": {"course": f"C-{rule_id}", "slot": "elective"},
        "convert": True,
        "any_of": [{"achievement": a} for a in achievements],
        **extra,
    }


def credential(cid: str, achievement: str, /, **changes: Any) -> NormalisedCredential:
    """A normalised credential: 5 ECTS, EQF 5, issued 2025-06-01, no score."""
    fields: dict[str, Any] = {
        "id": cid,
        "achievement": achievement,
        "issuer": ISSUER,
        "credits": 5,
        "unit": "ECTS",
        "eqf_level": 5,
        "issued": "2025-06-01",
        "expires": None,
        "revoked": False,
        "score": None,
    }
    fields.update(changes)
    return read_credential(fields)


def run(
    rules: dict[str, Any], credentials: list[NormalisedCredential], on: date = ON
) -> Evaluation:
    return evaluate(load_rule_set(rules), credentials, on)


def reasons(evaluation: Evaluation) -> dict[str, str]:
    """Each refused credential's id and reason."""
    return {refusal.credential: refusal.reason for refusal in evaluation.refused}


def granted(evaluation: Evaluation) -> list[tuple[str, Fraction, list[str]]]:
    """Each grant as (rule, credits, credential ids)."""
    return [
        (grant.rule, grant.credits, list(grant.credentials))
        for grant in evaluation.grants
    ]
