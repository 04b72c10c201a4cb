"""Partner schools and the rule sets they publish (DESIGN §7, credit-rules.md).

A school is registered by an admin under the DID its rule sets name as `school`.
Each publication of a rule set is a new version, a log entry with the digest of the
exact text published; earlier versions stay readable, so a transfer can always be
traced to the rules it ran under.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, select
from sqlalchemy.orm import Session

from credentials.multibase import encode_base64url
from credits.errors import RuleSetError
from credits.models import PublishedRuleSet, School
from credits.rules import RuleSet, load_rule_set
from issuers.errors import ConflictError, InvalidInputError, NotFoundError
from ledger import TransparencyLog, make_entry

__all__ = [
    "SCHOOL_ID",
    "get_school",
    "publish_rule_set",
    "published_rule_set",
    "register_school",
    "rule_set_of",
]

_RULE_SET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
SCHOOL_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_MAX_SOURCE_BYTES = 256 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def register_school(
    session: Session,
    log: TransparencyLog,
    *,
    school_id: str,
    did: str,
    names: Mapping[str, str],
    now: datetime,
) -> School:
    if not SCHOOL_ID.fullmatch(school_id):
        raise InvalidInputError({"id": "expected lower-case letters, digits, '-'"})
    if session.get(School, school_id) is not None:
        raise ConflictError(f"school {school_id} is already registered")
    if session.scalars(select(School).where(School.did == did)).first() is not None:
        raise ConflictError(f"another school is registered as {did}")
    school = School(
        id=school_id,
        did=did,
        name_zh=names.get("zh"),
        name_en=names.get("en"),
        registered_at=now,
        log_index=-1,
    )
    session.add(school)
    (school.log_index,) = log.append(
        session,
        [make_entry("school.registered", now, school=school_id, did=did)],
        now=now,
    )
    session.flush()
    return school


def get_school(session: Session, school_id: str) -> School:
    school = session.get(School, school_id)
    if school is None:
        raise NotFoundError(f"no school {school_id!r}")
    return school


def publish_rule_set(
    session: Session,
    log: TransparencyLog,
    school: School,
    source: str,
    *,
    now: datetime,
) -> PublishedRuleSet:
    """Validate `source` (YAML or JSON) and publish it as the next version."""
    if len(source.encode("utf-8")) > _MAX_SOURCE_BYTES:
        raise RuleSetError("", f"expected at most {_MAX_SOURCE_BYTES} bytes")
    rule_set = load_rule_set(source)
    _check_id(rule_set.id)
    if rule_set.school != school.did:
        raise RuleSetError(
            "school",
            f"expected this school's DID {school.did!r}, got {rule_set.school!r}",
        )
    latest = session.scalar(
        select(func.max(PublishedRuleSet.version)).where(
            PublishedRuleSet.school_id == school.id,
            PublishedRuleSet.rule_set_id == rule_set.id,
        )
    )
    digest = encode_base64url(hashlib.sha256(source.encode("utf-8")).digest())
    published = PublishedRuleSet(
        school_id=school.id,
        rule_set_id=rule_set.id,
        version=(latest or 0) + 1,
        source=source,
        document=_summary(rule_set),
        digest=digest,
        published_at=now,
        log_index=-1,
    )
    session.add(published)
    (published.log_index,) = log.append(
        session,
        [
            make_entry(
                "ruleset.published",
                now,
                school=school.id,
                ruleset=rule_set.id,
                version=published.version,
                digest=digest,
            )
        ],
        now=now,
    )
    session.flush()
    return published


def published_rule_set(
    session: Session, school_id: str, rule_set_id: str, version: int | None = None
) -> PublishedRuleSet:
    """A version of a school's rule set; the latest when `version` is None."""
    query = select(PublishedRuleSet).where(
        PublishedRuleSet.school_id == school_id,
        PublishedRuleSet.rule_set_id == rule_set_id,
    )
    if version is not None:
        query = query.where(PublishedRuleSet.version == version)
    found = session.scalars(
        query.order_by(PublishedRuleSet.version.desc()).limit(1)
    ).first()
    if found is None:
        which = f" version {version}" if version is not None else ""
        raise NotFoundError(
            f"school {school_id} has no rule set {rule_set_id!r}{which}"
        )
    return found


def rule_set_of(published: PublishedRuleSet) -> RuleSet:
    """The parsed rule set of a publication (versions never change: cached)."""
    return _parsed(published.digest, published.source)


@functools.lru_cache(maxsize=64)
def _parsed(digest: str, source: str) -> RuleSet:
    del digest  # part of the cache key only
    return load_rule_set(source)


def _check_id(rule_set_id: str) -> None:
    """Refuse an id the rule_sets table cannot hold: PostgreSQL fails an insert
    longer than the column or holding NUL, where SQLite would keep it as given."""
    column = PublishedRuleSet.__table__.c.rule_set_id.type
    limit = column.length if isinstance(column, String) else None
    if limit is not None and len(rule_set_id) > limit:
        raise RuleSetError(
            "id", f"expected at most {limit} characters, got {len(rule_set_id)}"
        )
    if _CONTROL.search(rule_set_id):
        raise RuleSetError("id", "expected no control characters")
    # The id is a path segment of /schools/<id>/rule-sets/<id> and is named in
    # transfer requests: letters, digits, '.', '_' and '-' keep both unambiguous.
    if not _RULE_SET_ID.fullmatch(rule_set_id):
        raise RuleSetError(
            "id",
            "expected letters, digits, '.', '_' or '-', starting with one of "
            f"the first two, got {rule_set_id!r}",
        )


def _summary(rule_set: RuleSet) -> dict[str, Any]:
    return {
        "id": rule_set.id,
        "school": rule_set.school,
        "program": {
            "code": rule_set.program.code,
            "name": rule_set.program.name,
        },
        "targetUnit": rule_set.target_unit,
        "effective": {
            "from": rule_set.effective.first_day.isoformat(),
            "until": rule_set.effective.last_day.isoformat(),
        },
        "rules": len(rule_set.rules),
    }
