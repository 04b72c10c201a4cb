"""The converter's input: one normalised credential (credit-rules.md "Input").

A list may hold normalised credentials or Open Badges 3.0 credentials; an object
with a `credentialSubject` is taken for the latter and normalised by
`from_open_badge`, following the table of credit-rules.md and the way credbank
itself writes achievements (credentials/achievements.py) and results
(issuers/issuance.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from credits._fields import (
    Fields,
    boolean,
    day,
    exact,
    integer,
    items,
    join,
    load_json,
    shown,
    text,
)
from credits.errors import CreditInputError

__all__ = [
    "NormalisedCredential",
    "from_open_badge",
    "load_credentials",
    "read_credential",
]

EQF_LOWEST, EQF_HIGHEST = 1, 8
CREDIT_UNIT_FRAMEWORK = "credit-unit"
EQF_FRAMEWORK = "EQF"
_TIMESTAMP_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T.*)?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class NormalisedCredential:
    """What the converter knows of a credential; `score` None means pass/fail."""

    id: str
    achievement: str
    issuer: str
    credits: Fraction
    unit: str
    eqf_level: int | None
    issued: date
    expires: date | None
    revoked: bool
    score: Fraction | None


def load_credentials(
    source: str | bytes | Sequence[Any],
) -> tuple[NormalisedCredential, ...]:
    """Read a JSON list of normalised or Open Badges 3.0 credentials.

    Open Badges credentials are taken as not revoked: the list carries no status
    check's outcome for them (see `from_open_badge`).

    Raises:
        CreditInputError: naming the field, as in `credentials[3].issued`.
    """
    document = (
        load_json(source, CreditInputError)
        if isinstance(source, str | bytes)
        else source
    )
    listed = items(document, "credentials", CreditInputError, empty=True)
    return tuple(
        from_open_badge(entry, False, path=join("credentials", number))
        if isinstance(entry, Mapping) and "credentialSubject" in entry
        else read_credential(entry, join("credentials", number))
        for number, entry in enumerate(listed)
    )


def read_credential(value: object, path: str = "credential") -> NormalisedCredential:
    """Check one normalised credential; every field must be written, even as null."""
    fields = Fields(value, path, CreditInputError)
    level, expires, score = (
        fields.present("eqf_level"),
        fields.present("expires"),
        fields.present("score"),
    )
    credential = NormalisedCredential(
        id=text(fields.required("id"), fields.path("id"), CreditInputError),
        achievement=text(
            fields.required("achievement"), fields.path("achievement"), CreditInputError
        ),
        issuer=text(fields.required("issuer"), fields.path("issuer"), CreditInputError),
        credits=_credits(fields.required("credits"), fields.path("credits")),
        unit=text(fields.required("unit"), fields.path("unit"), CreditInputError),
        eqf_level=None if level is None else _level(level, fields.path("eqf_level")),
        issued=day(fields.required("issued"), fields.path("issued"), CreditInputError),
        expires=None
        if expires is None
        else day(expires, fields.path("expires"), CreditInputError),
        revoked=boolean(
            fields.required("revoked"), fields.path("revoked"), CreditInputError
        ),
        score=None
        if score is None
        else exact(
            score,
            fields.path("score"),
            CreditInputError,
            expected="a number 0-100",
            high=100,
        ),
    )
    fields.finish()
    return credential


def from_open_badge(
    credential: Mapping[str, Any], revoked: bool, *, path: str = ""
) -> NormalisedCredential:
    """Normalise an Open Badges 3.0 credential (credit-rules.md "Input").

    `revoked` is the outcome of the credential's status check, which is not this
    module's to make. Unknown members are ignored, as OB 3.0 allows extensions; the
    members the table names are checked as strictly as a normalised credential's.
    """
    subject_path = join(path, "credentialSubject")
    subject = _subject(credential.get("credentialSubject"), subject_path)
    achievement_path = join(subject_path, "achievement")
    achievement = _object(subject.get("achievement"), achievement_path)
    alignments = _alignments(achievement, join(achievement_path, "alignment"))

    if subject.get("creditsEarned") is not None:
        credits = _credits(
            subject["creditsEarned"], join(subject_path, "creditsEarned")
        )
    else:
        credits = _credits(
            achievement.get("creditsAvailable"),
            join(achievement_path, "creditsAvailable"),
        )
    unit = alignments.get(CREDIT_UNIT_FRAMEWORK)
    if unit is None:
        raise CreditInputError(
            join(achievement_path, "alignment"),
            f"expected an alignment with targetFramework {CREDIT_UNIT_FRAMEWORK!r}",
        )
    level = alignments.get(EQF_FRAMEWORK)
    issued_key = (
        "awardedDate" if credential.get("awardedDate") is not None else ("validFrom")
    )
    expires = credential.get("validUntil")

    return NormalisedCredential(
        id=text(credential.get("id"), join(path, "id"), CreditInputError),
        achievement=text(
            achievement.get("id"), join(achievement_path, "id"), CreditInputError
        ),
        issuer=_issuer(credential.get("issuer"), join(path, "issuer")),
        credits=credits,
        unit=text(unit[0], unit[1], CreditInputError),
        eqf_level=None if level is None else _level(_integer_text(level[0]), level[1]),
        issued=_date_part(credential.get(issued_key), join(path, issued_key)),
        expires=None
        if expires is None
        else _date_part(expires, join(path, "validUntil")),
        revoked=revoked,
        score=_open_badge_score(subject, achievement, subject_path, achievement_path),
    )


def _credits(value: object, path: str) -> Fraction:
    return exact(value, path, CreditInputError, expected="a number of at least 0")


def _level(value: object, path: str) -> int:
    return integer(value, path, CreditInputError, EQF_LOWEST, EQF_HIGHEST)


def _integer_text(value: object) -> object:
    # credbank writes the EQF level as targetCode "5" (credentials/achievements.py).
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CreditInputError(path, f"expected an object, got {shown(value)}")
    return value


def _subject(value: object, path: str) -> Mapping[str, Any]:
    # VC Data Model 2.0 allows a list of subjects; an OB 3.0 credential has one.
    if isinstance(value, list) and len(value) == 1:
        return _object(value[0], join(path, 0))
    return _object(value, path)


def _issuer(value: object, path: str) -> str:
    if isinstance(value, Mapping):
        return text(value.get("id"), join(path, "id"), CreditInputError)
    return text(value, path, CreditInputError)


def _alignments(
    achievement: Mapping[str, Any], path: str
) -> dict[str, tuple[object, str]]:
    """The first targetCode of each targetFramework, with the code's path."""
    found: dict[str, tuple[object, str]] = {}
    listed = achievement.get("alignment")
    if listed is None:
        return found
    for number, alignment in enumerate(
        items(listed, path, CreditInputError, empty=True)
    ):
        alignment_path = join(path, number)
        members = _object(alignment, alignment_path)
        framework = members.get("targetFramework")
        if isinstance(framework, str) and framework not in found:
            found[framework] = (
                members.get("targetCode"),
                join(alignment_path, "targetCode"),
            )
    return found


def _date_part(value: object, path: str) -> date:
    """The date of a VC timestamp, as written (its own offset, not UTC)."""
    matched = _TIMESTAMP_DATE.fullmatch(value) if isinstance(value, str) else None
    if matched is None:
        raise CreditInputError(
            path, f"expected a date-time YYYY-MM-DDThh:mm:ssZ, got {shown(value)}"
        )
    return day(matched.group(1), path, CreditInputError)


def _open_badge_score(
    subject: Mapping[str, Any],
    achievement: Mapping[str, Any],
    subject_path: str,
    achievement_path: str,
) -> Fraction | None:
    """The first result with a value, on a 0-100 scale.

    A value is scaled from its ResultDescription's [valueMin, valueMax] when the
    achievement describes both (credbank writes 0 and 100); without them it must
    already be 0-100. No result with a value is a pass/fail credential (null).
    """
    results = subject.get("result")
    if results is None:
        return None
    results_path = join(subject_path, "result")
    for number, result in enumerate(
        items(results, results_path, CreditInputError, empty=True)
    ):
        result_path = join(results_path, number)
        members = _object(result, result_path)
        if members.get("value") is None:
            continue
        value_path = join(result_path, "value")
        value = exact(
            members["value"], value_path, CreditInputError, expected="a number"
        )
        bounds = _value_bounds(
            achievement, members.get("resultDescription"), achievement_path
        )
        if bounds is None:
            return exact(
                value, value_path, CreditInputError, expected="a number 0-100", high=100
            )
        low, high = bounds
        if not low <= value <= high:
            raise CreditInputError(
                value_path,
                f"expected a number {_plain(low)}-{_plain(high)}, "
                f"got {shown(members['value'])}",
            )
        return (value - low) / (high - low) * 100
    return None


def _value_bounds(
    achievement: Mapping[str, Any], reference: object, achievement_path: str
) -> tuple[Fraction, Fraction] | None:
    descriptions = achievement.get("resultDescription")
    if not isinstance(reference, str) or descriptions is None:
        return None
    listed_path = join(achievement_path, "resultDescription")
    for number, entry in enumerate(
        items(descriptions, listed_path, CreditInputError, empty=True)
    ):
        path = join(listed_path, number)
        members = _object(entry, path)
        if members.get("id") != reference:
            continue
        if members.get("valueMin") is None or members.get("valueMax") is None:
            return None
        low = exact(
            members["valueMin"],
            join(path, "valueMin"),
            CreditInputError,
            expected="a number",
        )
        high = exact(
            members["valueMax"],
            join(path, "valueMax"),
            CreditInputError,
            expected=f"a number above valueMin {_plain(low)}",
            low=low,
            above_low=True,
        )
        return low, high
    return None


def _plain(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))
