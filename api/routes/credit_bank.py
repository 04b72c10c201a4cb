"""The credit bank over HTTP: schools, rule sets, accounts, transfers, exports.

DESIGN §7 and §9. Schools are registered by an admin and publish rule sets with
their own token; learners see their account and give consent; a transfer is
previewed without side effects and committed with the learner's consent (their
token, or a one-time code they gave the school). Before either, the learner's
deposits from other platforms are verified again (credits/sources.py): one found
revoked there is withdrawn, which is the only change a preview may make.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma
from flask import Response, jsonify, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import ADMIN, LEARNER, SCHOOL, create_token, current_principal, requires
from api.context import services
from api.pages import render_page, wants_html
from api.problems import problem
from api.routes.credential_schemas import CREDENTIAL_EXAMPLE
from api.routes.credit_bank_schemas import (
    ACCOUNT_EXAMPLE,
    DEPOSIT_EXAMPLE,
    PREVIEW_EXAMPLE,
    RULE_SET_EXAMPLE,
    RULE_SET_SOURCE_EXAMPLE,
    SCHOOL_EXAMPLE,
    TRANSFER_EXAMPLE,
    AccountSchema,
    CommittedTransferSchema,
    ConsentCodeSchema,
    DepositSchema,
    PreviewSchema,
    PublishedRuleSetSchema,
    RuleSetSourceSchema,
    SchoolAnswerSchema,
    SchoolViewSchema,
    TransferPageSchema,
)
from api.routes.credit_bank_text import CREDITS_TEXT
from api.routes.registry_schemas import DID_DOCUMENT_EXAMPLE, DIDDocumentSchema
from api.routes.verification import BadBody, read_json_body
from api.services import Services
from api.smorest import HTML_PAGE, TEXT, Blueprint, html_example
from api.statements import service_document, statement_signer
from api.verification import verify_here
from credits.bank import Holder
from credits.models import WITHDRAWN, Deposit, PublishedRuleSet, School, Transfer
from credits.schools import (
    SCHOOL_ID,
    get_school,
    publish_rule_set,
    published_rule_set,
    register_school,
)
from credits.sources import REVOKED, SourceCheck, check_source, sources_of
from credits.transfers import (
    Evaluated,
    check_consent,
    commit_transfer,
    create_consent_code,
    evaluate_for,
)
from issuers.catalogue import achievement_url
from issuers.errors import ForbiddenError, InvalidInputError, NotFoundError
from issuers.learners import Learner, learner_profile
from issuers.models import Achievement
from issuers.standard import CleanString

__all__ = ["blp"]

blp = Blueprint("credit_bank", __name__, description="Credit bank and transfers")

PSEUDONYM_KEY_OWNER = "pseudonyms"
MAX_PER_PAGE = 200
_RULE_SET_TYPES = {"application/json", "application/yaml", "text/yaml", "text/plain"}
# Versions are 32-bit integers in the database; a bigger one is no version (404).
_MAX_VERSION = 2**31 - 1

_TRANSFER_REQUEST_EXAMPLE = {
    "school": "partner-university",
    "ruleSet": "beng-logistics-demo",
    "learner": "lrn-4a3b2c1d",
    "on": "2026-12-01",
}


class NamesSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    zh = CleanString(max_length=200)
    en = CleanString(max_length=200)


class SchoolSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    id = ma.fields.String(
        required=True, validate=ma.validate.Regexp(SCHOOL_ID, error="a-z, 0-9, '-'")
    )
    did = CleanString(max_length=500, required=True)
    name = ma.fields.Nested(NamesSchema, required=True)

    @ma.validates("did")
    def _did(self, value: str, **_: Any) -> None:
        if not value.startswith("did:"):
            raise ma.ValidationError("expected a DID")


class ConsentSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    school = CleanString(max_length=64, required=True)


class TransferSchema(ma.Schema):
    """Which rules, for whom, on which day; and the learner's consent."""

    class Meta:
        unknown = ma.RAISE

    school = CleanString(max_length=64, required=True)
    ruleSet = CleanString(max_length=200, required=True)
    version = ma.fields.Integer(validate=ma.validate.Range(min=1, max=_MAX_VERSION))
    learner = CleanString(max_length=40, required=True)
    on = ma.fields.Date()
    consentCode = CleanString(max_length=100)
    previewDigest = CleanString(max_length=64)


class PageSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    perPage = ma.fields.Integer(
        load_default=50, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE)
    )


# Schools and rule sets


@blp.route("/schools", methods=["POST"])
@requires(ADMIN)
@blp.arguments(SchoolSchema, example=SCHOOL_EXAMPLE)
@blp.response(
    201,
    SchoolAnswerSchema,
    example={
        "id": SCHOOL_EXAMPLE["id"],
        "did": SCHOOL_EXAMPLE["did"],
        "token": "cbt_Lq8-EXAMPLEonlyEXAMPLEonlyEXAMPLEonly4Tz",
        "tokenId": "tok_1b2c3d4e5f6a7b8c",
    },
)
@blp.problems(409)
def register(data: dict[str, Any]) -> dict[str, Any]:
    """Register a partner school; the answer holds its school token, shown once."""
    app = services()
    now = _now()
    with app.database.transaction(write=True) as session:
        school = register_school(
            session,
            app.log,
            school_id=data["id"],
            did=data["did"],
            names=data["name"],
            now=now,
        )
        token, secret = create_token(session, role=SCHOOL, subject=school.id, now=now)
        return {
            "id": school.id,
            "did": school.did,
            "token": secret,
            "tokenId": token.id,
        }


@blp.route("/schools/<school_id>")
@blp.response(
    200, SchoolViewSchema, example={**SCHOOL_EXAMPLE, "ruleSets": [RULE_SET_EXAMPLE]}
)
@blp.problems(404, 503)
def show_school(school_id: str) -> dict[str, Any]:
    """A school and the rule sets it published (latest version of each)."""
    app = services()
    with app.database.transaction() as session:
        school = get_school(session, school_id)
        return {**_school_json(school), "ruleSets": _rule_sets(session, school.id)}


@blp.route("/schools/<school_id>/rule-sets", methods=["POST"])
@requires(SCHOOL)
@blp.doc(
    requestBody={
        "required": True,
        "description": "A credit-rules/v1 rule set, as YAML or JSON text",
        "content": {
            "application/yaml": {"schema": TEXT, "example": RULE_SET_SOURCE_EXAMPLE},
            "application/json": {
                "schema": {"type": "object"},
                "example": {"format": "credit-rules/v1", "id": "beng-logistics-demo"},
            },
        },
    }
)
@blp.response(201, PublishedRuleSetSchema, example=RULE_SET_EXAMPLE)
@blp.problems(400, 404, 409)
def publish(school_id: str) -> tuple[dict[str, Any], int]:
    """Publish a credit-rules/v1 rule set (YAML or JSON body) as its next version."""
    _check_own(SCHOOL, school_id)
    if request.mimetype not in _RULE_SET_TYPES:
        raise InvalidInputError(
            {"body": "expected application/yaml or application/json"}
        )
    source = _body_text()
    app = services()
    with app.database.transaction(write=True) as session:
        school = get_school(session, school_id)
        published = publish_rule_set(session, app.log, school, source, now=_now())
        return _rule_set_json(published), 201


@blp.route("/schools/<school_id>/rule-sets/<rule_set_id>")
@blp.route(
    "/schools/<school_id>/rule-sets/<rule_set_id>/versions"
    f"/<int(max={_MAX_VERSION}):version>"
)
@blp.response(
    200,
    RuleSetSourceSchema,
    example={**RULE_SET_EXAMPLE, "source": RULE_SET_SOURCE_EXAMPLE},
)
@blp.problems(404, 503)
def show_rule_set(
    school_id: str, rule_set_id: str, version: int | None = None
) -> dict[str, Any]:
    """A published rule set (the latest, or one version), with its source text."""
    app = services()
    with app.database.transaction() as session:
        published = published_rule_set(session, school_id, rule_set_id, version)
        return {**_rule_set_json(published), "source": published.source}


@blp.route("/.well-known/did.json")
@blp.route("/did.json")
@blp.response(
    200,
    DIDDocumentSchema,
    content_type="application/did+json",
    example={**DID_DOCUMENT_EXAMPLE, "id": "did:web:127.0.0.1%3A8000"},
)
@blp.problems(404, 503)
def service_did_document() -> Response:
    """The service's own DID document (it signs credit-transfer statements)."""
    app = services()
    with app.database.transaction() as session:
        document = service_document(app, session)
    if document is None:
        raise NotFoundError("the service has signed nothing yet")
    response = jsonify(document)
    response.content_type = "application/did+json"
    return response


# Accounts and consent


@blp.route("/learners/<learner_id>/credits")
@requires(LEARNER, ADMIN)
@blp.response(200, AccountSchema, example=ACCOUNT_EXAMPLE)
@blp.alt_response(
    200,
    schema=HTML_PAGE,
    content_type="text/html",
    example=html_example("学分银行账户"),
    success=True,
)
@blp.problems(404)
def account(learner_id: str) -> Any:
    """The learner's deposits, balances per unit and transfers (JSON or a page)."""
    _check_own(LEARNER, learner_id)
    app = services()
    with app.database.transaction() as session:
        _learner(session, learner_id)
        view = app.bank.account(session, learner_id)
        names = _achievement_names(session, app, view.deposits)
        body = {
            "learner": learner_id,
            "balances": view.balances(),
            "deposits": [
                {**_deposit_json(d), "achievementName": names.get(d.achievement)}
                for d in view.deposits
            ],
            "transfers": [_transfer_json(t) for t in view.transfers],
        }
    if wants_html():
        return render_page("credits.html", text=CREDITS_TEXT, account=body)
    return jsonify(body)


@blp.route("/learners/<learner_id>/deposits", methods=["POST"])
@requires(LEARNER)
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["verifiableCredential"],
                    "properties": {"verifiableCredential": {"type": "object"}},
                },
                "example": {"verifiableCredential": CREDENTIAL_EXAMPLE},
            }
        },
    }
)
@blp.response(201, DepositSchema, example={**DEPOSIT_EXAMPLE, "source": "external"})
@blp.problems(400, 404, 409, 413)
def deposit(learner_id: str) -> Any:
    """Deposit a credential from a trusted platform: verified first, then logged."""
    _check_own(LEARNER, learner_id)
    try:
        body = read_json_body()
    except BadBody as exc:
        return problem(exc.status, str(exc))
    given = body.get("verifiableCredential") if isinstance(body, dict) else None
    if not isinstance(given, dict):
        raise InvalidInputError({"verifiableCredential": "expected a credential"})
    app = services()
    result = verify_here(app, given, learner_names=False)
    if result.verdict == "invalid":
        failed = ", ".join(c.code for c in result.failures()) or "not verifiable"
        raise InvalidInputError({"verifiableCredential": f"does not verify: {failed}"})
    issuer = result.summary.issuer_id
    with app.database.transaction(write=True) as session:
        learner = _learner(session, learner_id)
        profile = learner_profile(session, app.keystore, learner)
        holder = Holder(learner.did, profile.email if profile else None)
        made = app.bank.deposit_external(
            session, learner_id, given, issuer_id=issuer, holder=holder, now=_now()
        )
        return _deposit_json(made), 201


@blp.route("/learners/<learner_id>/consent-codes", methods=["POST"])
@requires(LEARNER)
@blp.arguments(ConsentSchema, example={"school": "partner-university"})
@blp.response(
    201,
    ConsentCodeSchema,
    example={
        "code": "K7QX-M2PD-9WZR",
        "school": "partner-university",
        "expires": "2026-12-08T09:30:00Z",
    },
)
@blp.problems(404)
def consent(data: dict[str, Any], learner_id: str) -> dict[str, Any]:
    """A one-time code that lets one school preview and commit a transfer."""
    _check_own(LEARNER, learner_id)
    app = services()
    with app.database.transaction(write=True) as session:
        _learner(session, learner_id)
        get_school(session, data["school"])
        code, expires = create_consent_code(
            session, learner_id, data["school"], now=_now()
        )
        return {"code": code, "school": data["school"], "expires": _stamp(expires)}


# Transfers


@blp.route("/transfers/preview", methods=["POST"])
@requires(LEARNER, SCHOOL)
@blp.arguments(TransferSchema, example=_TRANSFER_REQUEST_EXAMPLE)
@blp.response(200, PreviewSchema, example=PREVIEW_EXAMPLE)
@blp.problems(404)
def preview(data: dict[str, Any]) -> dict[str, Any]:
    """Evaluate: the converter's output with its inputs, and what verifying the
    deposits from other platforms again found. Nothing changes but the withdrawal
    of a deposit found revoked on its platform."""
    app = services()
    checks = _check_sources(app, data)
    with app.database.transaction() as session:
        evaluated = _evaluate(app, session, data, checks, consume=False)
        return evaluated.to_json()


@blp.route("/transfers", methods=["POST"])
@requires(LEARNER, SCHOOL)
@blp.arguments(
    TransferSchema,
    example={
        **_TRANSFER_REQUEST_EXAMPLE,
        "previewDigest": PREVIEW_EXAMPLE["previewDigest"],
    },
)
@blp.response(
    201,
    CommittedTransferSchema,
    example={
        **TRANSFER_EXAMPLE,
        "statement": {"type": ["VerifiableCredential", "CreditTransferStatement"]},
    },
)
@blp.problems(404, 409)
def commit(data: dict[str, Any]) -> dict[str, Any]:
    """Commit: consume the deposits used, sign the statement, log it."""
    app = services()
    checks = _check_sources(app, data)
    now = _now()
    with app.database.transaction(write=True) as session:
        evaluated = _evaluate(app, session, data, checks, consume=True)
        transfer = commit_transfer(
            session,
            app.log,
            evaluated,
            statement_signer(app, session, now=now),
            app.keystore.data_key(session, PSEUDONYM_KEY_OWNER, now=now),
            expected_digest=data.get("previewDigest"),
            now=now,
        )
        return {**_transfer_json(transfer), "statement": transfer.statement}


@blp.route("/schools/<school_id>/transfers")
@requires(SCHOOL, ADMIN)
@blp.arguments(PageSchema, location="query")
@blp.response(
    200,
    TransferPageSchema,
    example={
        "page": 1,
        "perPage": 50,
        "total": 1,
        "links": {
            "self": "/schools/partner-university/transfers?page=1&perPage=50",
            "first": "/schools/partner-university/transfers?page=1&perPage=50",
            "last": "/schools/partner-university/transfers?page=1&perPage=50",
            "prev": None,
            "next": None,
        },
        "transfers": [
            {
                **TRANSFER_EXAMPLE,
                "learnerRef": "psn-5e4d3c2b1a",
                "statement": {"type": ["VerifiableCredential"]},
                "withdrawnSources": [],
            }
        ],
    },
)
@blp.problems(404)
def school_transfers(query: dict[str, Any], school_id: str) -> dict[str, Any]:
    """The school's committed transfers, newest last, a page at a time."""
    _check_own(SCHOOL, school_id)
    app = services()
    page, per_page = query["page"], query["perPage"]
    with app.database.transaction() as session:
        get_school(session, school_id)
        total = session.scalar(
            select(func.count())
            .select_from(Transfer)
            .where(Transfer.school_id == school_id)
        )
        transfers = session.scalars(
            select(Transfer)
            .where(Transfer.school_id == school_id)
            .order_by(Transfer.committed_at, Transfer.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        withdrawn = _withdrawn_sources(session, [t.id for t in transfers])
        return {
            "page": page,
            "perPage": per_page,
            "total": total,
            "links": _page_links(school_id, page, per_page, total or 0),
            "transfers": [
                {
                    **_transfer_json(t),
                    "learnerRef": t.learner_ref,
                    "statement": t.statement,
                    "withdrawnSources": sorted(withdrawn.get(t.id, ())),
                }
                for t in transfers
            ],
        }


@blp.route("/schools/<school_id>/transfers.csv")
@requires(SCHOOL, ADMIN)
@blp.response(
    200,
    TEXT,
    content_type="text/csv",
    description="RFC 4180 CSV, one row per granted course",
    example=(
        "learner_ref,course,slot,credits,unit,source_credentials,statement_id,"
        "date,source_withdrawn\r\n"
        "psn-5e4d3c2b1a,LOG-210,required,3,SCH,uEiD3iP2cz1mXkA9bXwCQ1d4kq1Z3mF0sQ0,"
        "urn:uuid:0b9c8d7e-6f5a-4b3c-2d1e-0f9a8b7c6d5e,2026-12-01,no\r\n"
    ),
)
@blp.problems(404)
def school_transfers_csv(school_id: str) -> Response:
    """One row per granted course, ready for a student information system."""
    _check_own(SCHOOL, school_id)
    app = services()
    with app.database.transaction() as session:
        get_school(session, school_id)
        transfers = session.scalars(
            select(Transfer)
            .where(Transfer.school_id == school_id)
            .order_by(Transfer.committed_at, Transfer.id)
        ).all()
        withdrawn = _withdrawn_sources(session, [t.id for t in transfers])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 §2
    writer.writerow(CSV_COLUMNS)
    for transfer in transfers:
        subject = transfer.statement["credentialSubject"]
        for grant in subject["grants"]:
            flagged = withdrawn.get(transfer.id, set()) & set(grant["sources"])
            writer.writerow(
                [
                    _csv_cell(transfer.learner_ref),
                    _csv_cell(grant["course"]),
                    _csv_cell(grant["slot"]),
                    grant["credits"],
                    _csv_cell(subject["unit"]),
                    " ".join(grant["sources"]),
                    transfer.statement_id,
                    transfer.committed_at.date().isoformat(),
                    "yes" if flagged else "no",
                ]
            )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{school_id}-transfers.csv"'
        },
    )


CSV_COLUMNS = [
    "learner_ref",
    "course",
    "slot",
    "credits",
    "unit",
    "source_credentials",
    "statement_id",
    "date",
    "source_withdrawn",
]


def _evaluate(
    app: Services,
    session: Session,
    data: dict[str, Any],
    checks: dict[str, SourceCheck],
    *,
    consume: bool,
) -> Evaluated:
    school, published = _transfer_target(session, data, consume=consume)
    on: date = data.get("on") or _now().date()
    return evaluate_for(
        session, app.bank, school, published, data["learner"], on, checks
    )


def _transfer_target(
    session: Session, data: dict[str, Any], *, consume: bool
) -> tuple[School, PublishedRuleSet]:
    """The school and rule set a transfer request names, once the caller may act
    for the learner; with `consume`, a school's consent code is used up."""
    principal = current_principal()
    learner_id = data["learner"]
    if principal.role == LEARNER:
        if principal.subject != learner_id:
            raise ForbiddenError("a learner's token acts for that learner only")
    else:
        if principal.subject != data["school"]:
            raise ForbiddenError("a school's token acts for that school only")
        code = data.get("consentCode")
        if code is None:
            raise ForbiddenError("a school needs the learner's consent code")
        check_consent(
            session, code, learner_id, data["school"], now=_now(), consume=consume
        )
    _learner(session, learner_id)
    school = get_school(session, data["school"])
    published = published_rule_set(
        session, school.id, data["ruleSet"], data.get("version")
    )
    return school, published


def _check_sources(app: Services, data: dict[str, Any]) -> dict[str, SourceCheck]:
    """Verify the learner's deposits from other platforms again, by the procedure
    their deposit ran (credits/sources.py), by deposit id.

    The request is checked first, so that no one else makes this service fetch
    anything. The checks run outside the write transaction (each verification
    reads in one of its own): fetching a status list may take seconds, and must
    hold no lock. A deposit found revoked is withdrawn at
    once, in a transaction of its own: that stands whatever becomes of this
    request, and the evaluation then no longer sees it.
    """
    with app.database.transaction() as session:
        _transfer_target(session, data, consume=False)
        pending = sources_of(app.bank.available(session, data["learner"]))
    if not pending:
        return {}
    now = _now()
    checks = {
        source.deposit: check_source(
            source,
            None
            if source.document is None
            else verify_here(app, source.document, now=now, learner_names=False),
        )
        for source in pending
    }
    revoked = [c.deposit for c in checks.values() if c.state == REVOKED]
    if revoked:
        with app.database.transaction(write=True) as session:
            app.bank.withdraw_revoked(session, revoked, now)
    return checks


def _page_links(
    school_id: str, page: int, per_page: int, total: int
) -> dict[str, str | None]:
    """Where this page, its neighbours and the ends of the list are (relative
    references, RFC 3986 §4.2); no neighbour past either end."""
    last = max(1, math.ceil(total / per_page))

    def at(number: int) -> str:
        return url_for(
            "credit_bank.school_transfers",
            school_id=school_id,
            page=number,
            perPage=per_page,
        )

    return {
        "self": at(page),
        "first": at(1),
        "last": at(last),
        "prev": at(min(page - 1, last)) if page > 1 else None,
        "next": at(page + 1) if page < last else None,
    }


def _withdrawn_sources(
    session: Session, transfer_ids: list[str]
) -> dict[str, set[str]]:
    """Per transfer, the digests of its source credentials revoked since."""
    if not transfer_ids:
        return {}
    rows = session.execute(
        select(Deposit.transfer_id, Deposit.digest).where(
            Deposit.transfer_id.in_(transfer_ids), Deposit.status == WITHDRAWN
        )
    ).all()
    found: dict[str, set[str]] = {}
    for transfer_id, digest in rows:
        found.setdefault(transfer_id, set()).add(digest)
    return found


def _achievement_names(
    session: Session, app: Services, deposits: Sequence[Deposit]
) -> dict[str, dict[str, str]]:
    """The names of the courses behind deposits issued here, by achievement URL."""
    prefix = achievement_url(app.config.base_url, "")
    ids = {
        d.achievement.removeprefix(prefix)
        for d in deposits
        if d.achievement.startswith(prefix)
    }
    if not ids:
        return {}
    rows = session.execute(
        select(Achievement.id, Achievement.definition).where(Achievement.id.in_(ids))
    ).all()
    return {
        prefix + achievement_id: {
            lang: str(text)
            for lang, text in definition.get("name", {}).items()
            if lang in ("zh", "en")
        }
        for achievement_id, definition in rows
    }


def _check_own(role: str, subject: str) -> None:
    principal = current_principal()
    if principal.role == role and principal.subject != subject:
        raise ForbiddenError(f"this {role} token acts for another {role}")


def _learner(session: Session, learner_id: str) -> Learner:
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFoundError(f"no learner {learner_id!r}")
    return learner


def _body_text() -> str:
    data = request.get_data(cache=False)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError({"body": "expected UTF-8 text"}) from exc


def _school_json(school: School) -> dict[str, Any]:
    return {
        "id": school.id,
        "did": school.did,
        "name": {"zh": school.name_zh, "en": school.name_en},
    }


def _rule_sets(session: Session, school_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PublishedRuleSet)
        .where(PublishedRuleSet.school_id == school_id)
        .order_by(PublishedRuleSet.rule_set_id, PublishedRuleSet.version)
    ).all()
    latest = {row.rule_set_id: row for row in rows}
    return [_rule_set_json(row) for row in latest.values()]


def _rule_set_json(published: PublishedRuleSet) -> dict[str, Any]:
    return {
        "school": published.school_id,
        "id": published.rule_set_id,
        "version": published.version,
        "digest": published.digest,
        "publishedAt": _stamp(published.published_at),
        "logIndex": published.log_index,
        "summary": published.document,
    }


def _deposit_json(deposit: Deposit) -> dict[str, Any]:
    return {
        "id": deposit.id,
        "credential": deposit.credential_id,
        "digest": deposit.digest,
        "source": deposit.source,
        "achievement": deposit.achievement,
        "issuer": deposit.issuer,
        "credits": deposit.credits,
        "unit": deposit.unit,
        "eqfLevel": deposit.eqf_level,
        "issued": deposit.issued.isoformat(),
        "status": deposit.status,
        "transfer": deposit.transfer_id,
        "logIndex": deposit.log_index,
    }


def _transfer_json(transfer: Transfer) -> dict[str, Any]:
    return {
        "id": transfer.id,
        "school": transfer.school_id,
        "ruleSet": {"id": transfer.rule_set_id, "version": transfer.version},
        "on": transfer.evaluated_on.isoformat(),
        "total": transfer.total,
        "grants": transfer.output.get("grants", []),
        "statementId": transfer.statement_id,
        "committedAt": _stamp(transfer.committed_at),
        "logIndex": transfer.log_index,
    }


def _csv_cell(value: str) -> str:
    # A cell that a spreadsheet would run as a formula is written as text
    # (OWASP's advice on CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(UTC)
