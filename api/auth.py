"""Bearer tokens and roles (RFC 6750).

A token is shown once, when created; only its SHA-256 is stored (tokens carry 256 bits
of randomness, so a slow hash would add nothing). Each token has one role and, for the
roles that act on something of their own, the id it is bound to: an issuer's slug, a
school's or learner's id, a reviewer's id.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import DateTime, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.apidoc import BEARER_SCHEME, add_problem_responses, add_security
from api.context import services
from credits.models import School
from issuers.errors import ForbiddenError, InvalidInputError, NotFoundError
from issuers.learners import Learner
from issuers.models import Issuer, Reviewer
from keys.database import Base
from keys.errors import CredbankError

__all__ = [
    "ADMIN",
    "BEARER_SCHEME",
    "ISSUER",
    "LEARNER",
    "REVIEWER",
    "ROLES",
    "SCHOOL",
    "ApiToken",
    "AuthenticationError",
    "Principal",
    "create_token",
    "current_principal",
    "optional_principal",
    "requires",
]

ADMIN, REVIEWER, ISSUER, SCHOOL, LEARNER = (
    "admin",
    "reviewer",
    "issuer",
    "school",
    "learner",
)
ROLES = (ADMIN, REVIEWER, ISSUER, SCHOOL, LEARNER)
_BOUND_ROLES = {REVIEWER, ISSUER, SCHOOL, LEARNER}

# Lets secret scanners recognise a leaked token; not a secret itself.
TOKEN_PREFIX = "cbt_"  # noqa: S105

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class AuthenticationError(CredbankError):
    """No token, or one that is unknown or revoked (401)."""


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id (never its secret), role and binding."""

    token_id: str
    role: str
    subject: str | None

    def owns(self, role: str, subject: str) -> bool:
        return self.role == role and self.subject == subject


def create_token(
    session: Session, *, role: str, subject: str | None, now: datetime
) -> tuple[ApiToken, str]:
    """Store a new token and return it with its secret, which is never stored."""
    if role not in ROLES:
        raise InvalidInputError({"role": f"expected one of {', '.join(ROLES)}"})
    if (role in _BOUND_ROLES) != (subject is not None):
        raise InvalidInputError(
            {"subject": f"a {role} token must be bound to exactly what it acts for"}
        )
    if role == ISSUER and session.get(Issuer, subject) is None:
        raise NotFoundError(f"no issuer {subject!r} to bind the token to")
    if role == REVIEWER and session.get(Reviewer, subject) is None:
        raise NotFoundError(f"no reviewer {subject!r} to bind the token to")
    if role == SCHOOL and session.get(School, subject) is None:
        raise NotFoundError(f"no school {subject!r} to bind the token to")
    if role == LEARNER:
        learner = session.get(Learner, subject)
        if learner is None:
            raise NotFoundError(f"no learner {subject!r} to bind the token to")
        if learner.erased_at is not None:
            raise NotFoundError(f"learner {subject} was erased: no token binds to it")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id="tok_" + secrets.token_hex(8),
        secret_hash=_digest(secret),
        role=role,
        subject=subject,
        created_at=now,
    )
    session.add(token)
    session.flush()
    logger.info("created %s token %s", role, token.id)
    return token, secret


def authenticate(session: Session, header: str | None) -> Principal:
    """Resolve an `Authorization: Bearer` header to a principal."""
    # RFC 9110 §11.1: the scheme name is case-insensitive.
    scheme, _, secret = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationError("expected an Authorization: Bearer token")
    secret = secret.strip()
    token = session.scalars(
        select(ApiToken).where(ApiToken.secret_hash == _digest(secret))
    ).first()
    if token is None or token.revoked_at is not None:
        raise AuthenticationError("the bearer token is unknown or revoked")
    return Principal(token.id, token.role, token.subject)


def requires(*roles: str) -> Callable[[F], F]:
    """Let only tokens of `roles` through; the principal lands in `flask.g`."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            with services().database.transaction() as session:
                principal = authenticate(session, request.headers.get("Authorization"))
            if principal.role not in roles:
                raise ForbiddenError(
                    f"expected a token with role {' or '.join(roles)}, "
                    f"got {principal.role}"
                )
            g.principal = principal
            return view(*args, **kwargs)

        guarded.__credbank_roles__ = roles  # type: ignore[attr-defined]
        # The OpenAPI operation names the bearer scheme and these roles, and
        # answers 401 and 403 (503 too: the token is looked up in the database).
        add_security(guarded, roles)
        add_problem_responses(guarded, (401, 403, 503))
        return guarded  # type: ignore[return-value]

    return decorate


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def optional_principal() -> Principal | None:
    """The caller if they sent a valid token; None for anonymous callers."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    with services().database.transaction() as session:
        return authenticate(session, header)
