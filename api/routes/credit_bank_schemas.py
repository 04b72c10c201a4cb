"""The credit bank's answers as the OpenAPI document describes them, with
examples: schools, rule sets, accounts, deposits, consent codes and transfers."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

__all__ = [
    "ACCOUNT_EXAMPLE",
    "DEPOSIT_EXAMPLE",
    "PREVIEW_EXAMPLE",
    "RULE_SET_EXAMPLE",
    "RULE_SET_SOURCE_EXAMPLE",
    "SCHOOL_EXAMPLE",
    "TRANSFER_EXAMPLE",
    "AccountSchema",
    "CommittedTransferSchema",
    "ConsentCodeSchema",
    "DepositSchema",
    "PreviewSchema",
    "PublishedRuleSetSchema",
    "RuleSetSourceSchema",
    "SchoolAnswerSchema",
    "SchoolViewSchema",
    "TransferPageSchema",
    "TransferViewSchema",
]

_BASE = "http://127.0.0.1:8000"
_SCHOOL_DID = "did:web:partner-university.example.cn"


class SchoolAnswerSchema(ma.Schema):
    id = ma.fields.String(required=True)
    did = ma.fields.String(required=True)
    token = ma.fields.String(
        required=True, metadata={"description": "the school's token, shown once"}
    )
    tokenId = ma.fields.String(required=True)


class PublishedRuleSetSchema(ma.Schema):
    """One published version of a credit-rules/v1 rule set."""

    school = ma.fields.String(required=True)
    id = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    digest = ma.fields.String(
        required=True, metadata={"description": "SHA-256 of the exact text, hex"}
    )
    publishedAt = ma.fields.String(required=True)
    logIndex = ma.fields.Integer(required=True)
    summary = ma.fields.Dict(
        required=True, metadata={"description": "the rule set, parsed"}
    )


class RuleSetSourceSchema(PublishedRuleSetSchema):
    source = ma.fields.String(
        required=True, metadata={"description": "the text as published"}
    )


class SchoolViewSchema(ma.Schema):
    id = ma.fields.String(required=True)
    did = ma.fields.String(required=True)
    name = ma.fields.Dict(required=True)
    ruleSets = ma.fields.List(ma.fields.Nested(PublishedRuleSetSchema), required=True)


class DepositSchema(ma.Schema):
    id = ma.fields.String(required=True)
    credential = ma.fields.String(required=True)
    digest = ma.fields.String(required=True)
    source = ma.fields.String(required=True)
    achievement = ma.fields.String(required=True)
    issuer = ma.fields.String(required=True)
    credits = ma.fields.String(
        required=True, metadata={"description": "exact decimal or fraction text"}
    )
    unit = ma.fields.String(required=True)
    eqfLevel = ma.fields.Integer(required=True, allow_none=True)
    issued = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True, metadata={"enum": ["available", "used", "withdrawn"]}
    )
    transfer = ma.fields.String(required=True, allow_none=True)
    logIndex = ma.fields.Integer(required=True)


class _AccountDepositSchema(DepositSchema):
    achievementName = ma.fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "the course's names, for courses issued here"},
    )


class _RuleSetRefSchema(ma.Schema):
    id = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)


class TransferViewSchema(ma.Schema):
    id = ma.fields.String(required=True)
    school = ma.fields.String(required=True)
    ruleSet = ma.fields.Nested(_RuleSetRefSchema, required=True)
    on = ma.fields.String(required=True)
    total = ma.fields.String(required=True)
    grants = ma.fields.List(ma.fields.Dict(), required=True)
    statementId = ma.fields.String(required=True)
    committedAt = ma.fields.String(required=True)
    logIndex = ma.fields.Integer(required=True)


class CommittedTransferSchema(TransferViewSchema):
    statement = ma.fields.Dict(
        required=True,
        metadata={"description": "the signed CreditTransferStatement (VC 2.0)"},
    )


class _SchoolTransferSchema(CommittedTransferSchema):
    learnerRef = ma.fields.String(required=True)
    withdrawnSources = ma.fields.List(ma.fields.String(), required=True)


class _PageLinksSchema(ma.Schema):
    """Relative references to pages of the same size; null past either end."""

    self_ = ma.fields.String(required=True, data_key="self", attribute="self")
    first = ma.fields.String(required=True)
    last = ma.fields.String(required=True)
    prev = ma.fields.String(required=True, allow_none=True)
    next = ma.fields.String(required=True, allow_none=True)


class TransferPageSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    perPage = ma.fields.Integer(required=True)
    total = ma.fields.Integer(
        required=True, metadata={"description": "transfers on every page together"}
    )
    links = ma.fields.Nested(_PageLinksSchema, required=True)
    transfers = ma.fields.List(ma.fields.Nested(_SchoolTransferSchema), required=True)


class AccountSchema(ma.Schema):
    learner = ma.fields.String(required=True)
    balances = ma.fields.Dict(
        required=True,
        metadata={"description": "per unit: available, used and withdrawn credits"},
    )
    deposits = ma.fields.List(ma.fields.Nested(_AccountDepositSchema), required=True)
    transfers = ma.fields.List(ma.fields.Nested(TransferViewSchema), required=True)


class ConsentCodeSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "shown once"})
    school = ma.fields.String(required=True)
    expires = ma.fields.String(required=True)


class _RuleSetDigestSchema(_RuleSetRefSchema):
    digest = ma.fields.String(required=True)


class _SourceCheckSchema(ma.Schema):
    """A deposit from another platform, verified again for this evaluation."""

    credential = ma.fields.String(required=True)
    digest = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "enum": ["active", "revoked", "suspended", "cannot-check", "invalid"],
            "description": "revoked: withdrawn now; suspended: given to the "
            "converter as revoked; cannot-check, invalid: held back",
        },
    )
    usable = ma.fields.Boolean(required=True)
    code = ma.fields.String(
        required=True, metadata={"description": "the verification line behind it"}
    )
    message = ma.fields.Dict(required=True, metadata={"description": "zh and en"})
    detail = ma.fields.String(required=True)


class PreviewSchema(ma.Schema):
    """The converter's decision with the inputs it was given (DESIGN §7)."""

    school = ma.fields.String(required=True)
    ruleSet = ma.fields.Nested(_RuleSetDigestSchema, required=True)
    on = ma.fields.String(required=True)
    inputs = ma.fields.List(ma.fields.Dict(), required=True)
    output = ma.fields.Dict(required=True)
    previewDigest = ma.fields.String(
        required=True, metadata={"description": "what the learner consents to"}
    )
    sourceChecks = ma.fields.List(
        ma.fields.Nested(_SourceCheckSchema),
        required=True,
        metadata={"description": "the deposits from other platforms, checked again"},
    )


SCHOOL_EXAMPLE: dict[str, Any] = {
    "id": "partner-university",
    "did": _SCHOOL_DID,
    "name": {"zh": "智慧物流职业技术大学", "en": "Partner University of Logistics"},
}

RULE_SET_SOURCE_EXAMPLE = f"""\
format: credit-rules/v1
id: beng-logistics-demo
school: {_SCHOOL_DID}
program: {{code: BENG-LOG, name: "BEng Logistics Engineering", total_credits: 120}}
target_unit: SCH
effective: {{from: "2025-01-01", until: "2030-12-31"}}
accepted_issuers: ["did:web:127.0.0.1%3A8000:issuers:demo-college"]
conversion: {{SCH: "1", ECTS: "1/2", CN_XF: "3/4"}}
rounding: {{mode: floor, step: "0.5"}}
rules:
  - id: R1
    target: {{course: LOG-210, slot: required}}
    credits: 3
    all_of: [{{achievement: "{_BASE}/achievements/ach-1a2b3c4d"}}]
"""

RULE_SET_EXAMPLE: dict[str, Any] = {
    "school": "partner-university",
    "id": "beng-logistics-demo",
    "version": 1,
    "digest": "4c0b2f6e1d7a9c3b5e8f0a2d4c6b8e0f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b",
    "publishedAt": "2026-12-01T09:30:00Z",
    "logIndex": 19,
    "summary": {"format": "credit-rules/v1", "id": "beng-logistics-demo"},
}

DEPOSIT_EXAMPLE: dict[str, Any] = {
    "id": "dep-7e6d5c4b",
    "credential": "urn:uuid:6f1d3f0e-8a52-4c55-9a36-2b1f0c6e7d41",
    "digest": "uEiD3iP2cz1mXkA9bXwCQ1d4kq1Z3mF0sQ0oV8dYk5q0pQw",
    "source": "issued",
    "achievement": f"{_BASE}/achievements/ach-1a2b3c4d",
    "issuer": "did:web:127.0.0.1%3A8000:issuers:demo-college",
    "credits": "4",
    "unit": "CN_XF",
    "eqfLevel": 5,
    "issued": "2026-12-01",
    "status": "available",
    "transfer": None,
    "logIndex": 12,
}

TRANSFER_EXAMPLE: dict[str, Any] = {
    "id": "tr-0c1d2e3f",
    "school": "partner-university",
    "ruleSet": {"id": "beng-logistics-demo", "version": 1},
    "on": "2026-12-01",
    "total": "3",
    "grants": [
        {
            "course": "LOG-210",
            "slot": "required",
            "credits": 3,
            "rule": "R1",
            "sources": ["uEiD3iP2cz1mXkA9bXwCQ1d4kq1Z3mF0sQ0oV8dYk5q0pQw"],
        }
    ],
    "statementId": "urn:uuid:0b9c8d7e-6f5a-4b3c-2d1e-0f9a8b7c6d5e",
    "committedAt": "2026-12-01T09:30:00Z",
    "logIndex": 23,
}

ACCOUNT_EXAMPLE: dict[str, Any] = {
    "learner": "lrn-4a3b2c1d",
    "balances": {"CN_XF": {"available": "2", "used": "4", "withdrawn": "0"}},
    "deposits": [
        {
            **DEPOSIT_EXAMPLE,
            "achievementName": {
                "zh": "智能仓储管理",
                "en": "Smart Warehouse Management",
            },
        }
    ],
    "transfers": [TRANSFER_EXAMPLE],
}

PREVIEW_EXAMPLE: dict[str, Any] = {
    "school": "partner-university",
    "ruleSet": {
        "id": "beng-logistics-demo",
        "version": 1,
        "digest": RULE_SET_EXAMPLE["digest"],
    },
    "on": "2026-12-01",
    "inputs": [
        {
            "id": DEPOSIT_EXAMPLE["credential"],
            "achievement": DEPOSIT_EXAMPLE["achievement"],
            "issuer": DEPOSIT_EXAMPLE["issuer"],
            "credits": "4",
            "unit": "CN_XF",
            "eqf_level": 5,
            "issued": "2026-12-01",
            "expires": None,
            "revoked": False,
            "score": "86",
        }
    ],
    "output": {"grants": TRANSFER_EXAMPLE["grants"], "total": 3, "unused": []},
    "previewDigest": "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c",
    "sourceChecks": [
        {
            "credential": "urn:uuid:2c4e6a80-1b3d-4f5a-8c7e-9d0b1a2c3e4f",
            "digest": "uEiB7q2wXkV0mS3pL9dR4tY6hN8cF1gJ5zA2xQ0oW3eK7uM",
            "status": "cannot-check",
            "usable": False,
            "code": "status.unreadable",
            "message": {
                "zh": "无法从来源平台读取其状态，本次不计入，可稍后重新预览",
                "en": "Its status could not be read from its home platform: "
                "not counted this time; preview again later",
            },
            "detail": "cannot fetch 'https://platform.example/status/3': timed out",
        }
    ],
}
