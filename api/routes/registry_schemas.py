"""The registry's answers as the OpenAPI document describes them, with examples:
issuers, keys, DID documents, achievements, the committee and credit units.

The request schemas are the admission standard's (issuers/standard.py); these
describe what the routes in issuers.py, achievements.py, committee.py and
units.py send back.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

__all__ = [
    "ACHIEVEMENT_EXAMPLE",
    "APPLICATION_EXAMPLE",
    "DID_DOCUMENT_EXAMPLE",
    "JWKS_EXAMPLE",
    "PROFILE_EXAMPLE",
    "ApplicationAnswerSchema",
    "CatalogueEntrySchema",
    "DIDDocumentSchema",
    "IssuerProfileSchema",
    "IssuerStateSchema",
    "JWKSetSchema",
    "KeySchema",
    "OBAchievementSchema",
    "PendingSchema",
    "PrivacyAnswerSchema",
    "ReviewerAnswerSchema",
    "TokenAnswerSchema",
    "TrustListSchema",
    "UnitSchema",
]

_DID = "did:web:127.0.0.1%3A8000:issuers:demo-college"
_BASE = "http://127.0.0.1:8000"


class ApplicationAnswerSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    did = ma.fields.String(required=True)
    token = ma.fields.String(
        required=True, metadata={"description": "the issuer's token, shown once"}
    )
    tokenId = ma.fields.String(required=True)


class IssuerStateSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True,
        metadata={"enum": ["applied", "accredited", "rejected", "suspended"]},
    )


class KeySchema(ma.Schema):
    id = ma.fields.String(required=True)
    algorithm = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    verificationMethod = ma.fields.String(required=True)
    compromisedAt = ma.fields.String(metadata={"description": "RFC 3339"})


class PrivacyAnswerSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    learnerDisplay = ma.fields.String(required=True)


class _StatusEventSchema(ma.Schema):
    status = ma.fields.String(required=True)
    at = ma.fields.String(required=True, allow_none=True)
    reason = ma.fields.String(required=True, allow_none=True)
    logIndex = ma.fields.Integer(required=True, allow_none=True)


class _IssuerAchievementsSchema(ma.Schema):
    active = ma.fields.List(ma.fields.Dict(), required=True)
    retired = ma.fields.List(ma.fields.Dict(), required=True)


class IssuerProfileSchema(ma.Schema):
    """An issuer's public profile: no contact details, no legal id."""

    slug = ma.fields.String(required=True)
    did = ma.fields.String(required=True)
    name = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), required=True
    )
    kind = ma.fields.String(required=True)
    website = ma.fields.String(required=True, allow_none=True)
    status = ma.fields.String(required=True)
    statusHistory = ma.fields.List(ma.fields.Nested(_StatusEventSchema), required=True)
    didDocument = ma.fields.String(required=True)
    jwks = ma.fields.String(required=True)
    achievements = ma.fields.Nested(_IssuerAchievementsSchema, required=True)


class TrustListSchema(ma.Schema):
    issuers = ma.fields.List(ma.fields.Nested(IssuerProfileSchema), required=True)


class DIDDocumentSchema(ma.Schema):
    """A DID document (DID Core §5): the issuer's keys as verification methods."""

    context = ma.fields.List(ma.fields.Raw(), data_key="@context", required=True)
    id = ma.fields.String(required=True)
    verificationMethod = ma.fields.List(ma.fields.Dict(), required=True)
    assertionMethod = ma.fields.List(ma.fields.Raw(), required=True)


class JWKSetSchema(ma.Schema):
    """RFC 7517 §5: a JWK Set."""

    keys = ma.fields.List(ma.fields.Dict(), required=True)


class OBAchievementSchema(ma.Schema):
    """An Open Badges 3.0 Achievement (§B.1.1), with its JSON-LD context."""

    class Meta:
        # Only the properties every achievement has are named; §B.1.1 defines
        # many more (description, criteria, fieldOfStudy...).
        unknown = ma.INCLUDE

    context = ma.fields.List(ma.fields.String(), data_key="@context", required=True)
    id = ma.fields.String(required=True)
    type = ma.fields.Raw(required=True)
    name = ma.fields.Raw(required=True)
    creator = ma.fields.Dict()
    alignment = ma.fields.List(ma.fields.Dict())


class CatalogueEntrySchema(ma.Schema):
    id = ma.fields.String(required=True)
    url = ma.fields.String(required=True)
    issuer = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True,
        metadata={"enum": ["submitted", "approved", "rejected", "retired"]},
    )


class ReviewerAnswerSchema(ma.Schema):
    id = ma.fields.String(required=True)
    token = ma.fields.String(
        required=True, metadata={"description": "the reviewer's token, shown once"}
    )
    tokenId = ma.fields.String(required=True)


class TokenAnswerSchema(ma.Schema):
    id = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    subject = ma.fields.String(required=True, allow_none=True)
    token = ma.fields.String(required=True, metadata={"description": "shown once"})


class _PendingIssuerSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.Dict(required=True)
    legalId = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    website = ma.fields.String(required=True, allow_none=True)


class _PendingAchievementSchema(ma.Schema):
    id = ma.fields.String(required=True)
    issuer = ma.fields.String(required=True)
    definition = ma.fields.Dict(required=True)


class PendingSchema(ma.Schema):
    issuers = ma.fields.List(ma.fields.Nested(_PendingIssuerSchema), required=True)
    achievements = ma.fields.List(
        ma.fields.Nested(_PendingAchievementSchema), required=True
    )


class UnitSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.Dict(required=True)
    description = ma.fields.String(required=True)


APPLICATION_EXAMPLE: dict[str, Any] = {
    "name": {"zh": "智慧职教示范学院", "en": "Demo Vocational College"},
    "legalId": "12100000DEMO00001X",
    "kind": "school",
    "website": "https://demo-college.example.cn",
    "contact": {"name": "Demo Registrar", "email": "registrar@demo-college.example.cn"},
    "slug": "demo-college",
}

ACHIEVEMENT_EXAMPLE: dict[str, Any] = {
    "name": {"zh": "智能仓储管理", "en": "Smart Warehouse Management"},
    "description": {"en": "Plan and run an automated warehouse."},
    "criteria": {"en": "Pass the practical assessment in a training warehouse."},
    "achievementType": "MicroCredential",
    "credits": 3,
    "unit": "ECTS",
    "eqfLevel": 5,
    "fieldOfStudy": "Logistics",
    "learningHours": 80,
    "alignments": [
        {
            "targetName": "Warehouse operations",
            "targetUrl": "https://competencies.example.org/wms",
        }
    ],
    "validityMonths": 36,
    "nextReviewDate": "2027-06-30",
}

PROFILE_EXAMPLE: dict[str, Any] = {
    "slug": "demo-college",
    "did": _DID,
    "name": {"zh": "智慧职教示范学院", "en": "Demo Vocational College"},
    "kind": "school",
    "website": "https://demo-college.example.cn",
    "status": "accredited",
    "statusHistory": [
        {
            "status": "applied",
            "at": "2026-12-01T09:30:00Z",
            "reason": None,
            "logIndex": 2,
        },
        {
            "status": "accredited",
            "at": "2026-12-01T09:31:00Z",
            "reason": None,
            "logIndex": 5,
        },
    ],
    "didDocument": f"{_BASE}/issuers/demo-college/did.json",
    "jwks": f"{_BASE}/issuers/demo-college/jwks.json",
    "achievements": {
        "active": [
            {
                "id": f"{_BASE}/achievements/ach-1a2b3c4d",
                "name": {"zh": "智能仓储管理", "en": "Smart Warehouse Management"},
                "achievementType": "MicroCredential",
                "credits": 4,
                "unit": "CN_XF",
                "eqfLevel": 5,
                "status": "approved",
                "reviewDue": "2027-12-01",
                "reviewOverdue": False,
            }
        ],
        "retired": [],
    },
}

DID_DOCUMENT_EXAMPLE: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/jwk/v1",
    ],
    "id": _DID,
    "verificationMethod": [
        {
            "id": f"{_DID}#key-1",
            "type": "Multikey",
            "controller": _DID,
            "publicKeyMultibase": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        }
    ],
    "assertionMethod": [f"{_DID}#key-1"],
}

JWKS_EXAMPLE: dict[str, Any] = {
    "keys": [
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            "kid": f"{_DID}#key-1-jwk",
            "alg": "EdDSA",
            "use": "sig",
        }
    ]
}
