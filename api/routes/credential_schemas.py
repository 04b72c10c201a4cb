"""Issuance's answers as the OpenAPI document describes them, with examples:
awards, VC-API issue, batches, status changes, credentials and status lists."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

__all__ = [
    "AWARD_EXAMPLE",
    "BATCH_CSV_EXAMPLE",
    "CREDENTIAL_EXAMPLE",
    "ISSUED_EXAMPLE",
    "STATUS_LIST_EXAMPLE",
    "BatchAnswerSchema",
    "IssueAnswerSchema",
    "IssuedSchema",
    "StatusAnswerSchema",
    "VerifiableCredentialSchema",
]

_BASE = "http://127.0.0.1:8000"
_ID = "urn:uuid:6f1d3f0e-8a52-4c55-9a36-2b1f0c6e7d41"
_DID = "did:web:127.0.0.1%3A8000:issuers:demo-college"


class _QRSchema(ma.Schema):
    svg = ma.fields.String(required=True)
    png = ma.fields.String(required=True)


class IssuedSchema(ma.Schema):
    """A credential as issued: its id, digest, log position and every form."""

    id = ma.fields.String(required=True)
    digest = ma.fields.String(
        required=True,
        metadata={"description": "multibase SHA-256 of the RFC 8785 form"},
    )
    logIndex = ma.fields.Integer(required=True)
    verificationUrl = ma.fields.String(required=True)
    qr = ma.fields.Nested(_QRSchema, required=True)
    credential = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        required=True,
        metadata={
            "description": "each secured form by name: a JSON-LD document for "
            "eddsa-rdfc-2022 and eddsa-jcs-2022, a compact JWS for vc+jwt"
        },
    )
    claimUrl = ma.fields.String(
        metadata={"description": "a link to the learner's page (single awards)"}
    )


class IssueAnswerSchema(IssuedSchema):
    """VC-API IssueCredentialResponse, with credbank's own members beside it."""

    verifiableCredential = ma.fields.Dict(required=True)


class _RowSchema(ma.Schema):
    row = ma.fields.Integer(required=True)
    status = ma.fields.String(metadata={"enum": ["issued", "existing"]})
    id = ma.fields.String()
    digest = ma.fields.String()
    verificationUrl = ma.fields.String()
    claimUrl = ma.fields.String(
        metadata={"description": "the learner's page, valid 90 days; shown once"}
    )
    error = ma.fields.Dict(metadata={"description": "an RFC 9457 problem"})


class BatchAnswerSchema(ma.Schema):
    issued = ma.fields.Integer(required=True)
    existing = ma.fields.Integer(required=True)
    failed = ma.fields.Integer(required=True)
    rows = ma.fields.List(ma.fields.Nested(_RowSchema), required=True)


class StatusAnswerSchema(ma.Schema):
    credentialId = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True, metadata={"enum": ["active", "suspended", "revoked"]}
    )


class VerifiableCredentialSchema(ma.Schema):
    """A W3C VC Data Model 2.0 credential secured with an embedded proof."""

    class Meta:
        # Documented, not enforced: a credential may carry any property its
        # contexts define (VC Data Model 2.0 §5.2, Extensibility).
        unknown = ma.INCLUDE

    context = ma.fields.List(ma.fields.Raw(), data_key="@context", required=True)
    id = ma.fields.String()
    type = ma.fields.Raw(required=True)
    issuer = ma.fields.Raw(required=True)
    credentialSubject = ma.fields.Raw(required=True)
    proof = ma.fields.Raw(required=True)


AWARD_EXAMPLE: dict[str, Any] = {
    "achievement": "ach-1a2b3c4d",
    "learner": {"email": "li.ming@learner.example.cn", "name": "李明"},
    "score": 86,
    "formats": ["eddsa-rdfc-2022", "vc+jwt"],
    "idempotencyKey": "2026-autumn-wms-0001",
}

CREDENTIAL_EXAMPLE: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "id": _ID,
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": _DID, "type": ["Profile"], "name": "Demo Vocational College"},
    "validFrom": "2026-12-01T09:30:00Z",
    "name": "智能仓储管理 Smart Warehouse Management",
    "credentialSubject": {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": "sha256$9f0c…",
                "identityType": "emailAddress",
                "hashed": True,
                "salt": "c1a5…",
            }
        ],
        "achievement": {"id": f"{_BASE}/achievements/ach-1a2b3c4d"},
    },
    "credentialStatus": [
        {
            "id": f"{_BASE}/status/demo-college-revocation-1#17",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "17",
            "statusListCredential": f"{_BASE}/status/demo-college-revocation-1",
        }
    ],
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "verificationMethod": f"{_DID}#key-1",
        "proofPurpose": "assertionMethod",
        "proofValue": "z5Yc…",
    },
}

ISSUED_EXAMPLE: dict[str, Any] = {
    "id": _ID,
    "digest": "uEiD3iP2cz1mXkA9bXwCQ1d4kq1Z3mF0sQ0oV8dYk5q0pQw",
    "logIndex": 42,
    "verificationUrl": f"{_BASE}/v/{_ID}",
    "qr": {
        "svg": f"{_BASE}/credentials/{_ID}/qr.svg",
        "png": f"{_BASE}/credentials/{_ID}/qr.png",
    },
    "credential": {
        "eddsa-rdfc-2022": CREDENTIAL_EXAMPLE,
        "vc+jwt": "eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCJ9.eyJAY29udGV4dCI6W119.c2ln",
    },
    "claimUrl": f"{_BASE}/me/Xb2-EXAMPLEonlyEXAMPLEonly",
}

BATCH_CSV_EXAMPLE = (
    "achievement,learner_did,learner_email,learner_name,score,credits_earned,"
    "awarded_date,evidence_url,formats,idempotency_key\r\n"
    "ach-1a2b3c4d,,li.ming@learner.example.cn,李明,86,,2026-11-28,,vc+jwt,row-1\r\n"
)

STATUS_LIST_EXAMPLE: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": f"{_BASE}/status/demo-college-revocation-1",
    "type": ["VerifiableCredential", "BitstringStatusListCredential"],
    "issuer": _DID,
    "validFrom": "2026-12-01T09:30:00Z",
    "credentialSubject": {
        "id": f"{_BASE}/status/demo-college-revocation-1#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAIC3AYbSVKsAQAAA",
        "ttl": 300000,
    },
    "proof": CREDENTIAL_EXAMPLE["proof"],
}
