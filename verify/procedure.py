"""The verification procedure of DESIGN §6, written once.

Every caller (the VC-API, the page, `credbank verify`, the wallet) runs these steps;
the comments `Step N` mark where each happens:

 1. Parse; tell the securing mechanism apart; refuse anything malformed with a reason.
 2. Resolve the verification method (our registry, did:key, allowed did:web), and
    insist that its controller is the credential's issuer.
 3. Check the signature, with the algorithm the key implies.
 4. Check the data model (VC 2.0, and OB 3.0 where the credential claims to be one).
 5. Validity period.
 6. Status: revoked, suspended, or cannot check. An unreadable list never counts as
    "not revoked". Another issuer's list is read where it is served, from an
    allowed host only (verify/remote_status.py).
 7. Issuer accredited when it issued.
 8. Achievement active, or retired after issuance (a warning, distinct from revoked).
 9. Key not reported compromised before the credential's log entry.
10. Log: the digest is in the log under a signed checkpoint.

Nothing here writes, and nothing here raises for a bad credential: every finding is a
line of the result.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from credentials.data_integrity import VerifiedProof, verify_proof
from credentials.digest import credential_digest, digest_of
from credentials.errors import CredentialError, ProofVerificationError
from credentials.jose import DecodedJWS, decode_vc_jwt, verify_vc_jwt
from credentials.status_list import StatusEntry, parse_status_entry
from verify.facts import (
    NO_FACTS,
    AchievementFacts,
    Facts,
    LogFacts,
    Questions,
    StatusListNotHeld,
    StatusReading,
    UnavailableFact,
)
from verify.remote_status import HostNotAllowed, RemoteStatusLists
from verify.resolver import ResolutionError, ResolvedKey, Resolver
from verify.result import (
    CANNOT_CHECK,
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    Check,
    Summary,
    VerificationResult,
)

__all__ = [
    "DATA_INTEGRITY",
    "VC_JWT",
    "parse_input",
    "verify_credential",
]

DATA_INTEGRITY = "data-integrity"
VC_JWT = "vc+jwt"

VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
_OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
_ENVELOPE_PREFIX = "data:application/vc+jwt,"
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# XML Schema dateTimeStamp, as VC 2.0 §4.9 asks of validFrom and validUntil.
_DATE_TIME = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"
)


@dataclass
class _Run:
    """The state one verification builds up, step by step."""

    checks: list[Check] = field(default_factory=list)

    def add(
        self,
        step: int,
        check: str,
        outcome: str,
        code: str,
        detail: str = "",
        *,
        warning: bool = False,
        **values: str,
    ) -> None:
        self.checks.append(
            Check(step, check, outcome, code, detail[:500], warning, values)
        )


@dataclass(frozen=True)
class Parsed:
    """A credential told apart from its securing: the document and how it came.

    A vc+jwt whose parts all decode keeps them in `jws`, so that steps 2 and 3 do
    not decode the token again.
    """

    format: str
    credential: dict[str, Any]
    token: str | None = None
    jws: DecodedJWS | None = None


class ParseError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def parse_input(given: Any) -> Parsed:
    """Step 1: a secured credential as a JSON object, a JSON text, a compact JWT,
    or a VC 2.0 §4.13 EnvelopedVerifiableCredential carrying one."""
    if isinstance(given, bytes):
        try:
            given = given.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("format.malformed", "expected UTF-8 text") from exc
    if isinstance(given, str):
        text = given.strip()
        if _JWT.fullmatch(text):
            return _parse_jwt(text)
        try:
            given = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ParseError(
                "format.malformed", "expected a JSON credential or a JWT"
            ) from exc
    if not isinstance(given, dict):
        raise ParseError(
            "format.malformed",
            f"expected a credential object, got {type(given).__name__}",
        )
    if given.get("type") == "EnvelopedVerifiableCredential":
        envelope = given.get("id")
        if not isinstance(envelope, str) or not envelope.startswith(_ENVELOPE_PREFIX):
            raise ParseError(
                "format.malformed",
                f"expected an enveloped credential id {_ENVELOPE_PREFIX}<jwt>",
            )
        return _parse_jwt(envelope.removeprefix(_ENVELOPE_PREFIX))
    if "proof" not in given:
        raise ParseError("format.unsecured", "expected a proof, found none")
    return Parsed(DATA_INTEGRITY, given)


def _parse_jwt(token: str) -> Parsed:
    if not _JWT.fullmatch(token):
        raise ParseError("format.malformed", "expected a compact JWS")
    try:
        jws = decode_vc_jwt(token)
    except ProofVerificationError:
        pass  # read leniently below: step 3 says what is wrong with it
    else:
        return Parsed(VC_JWT, jws.payload, token, jws)
    try:
        payload = json.loads(_b64url(token.split(".")[1]))
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise ParseError("format.malformed", "expected a JSON payload") from exc
    if not isinstance(payload, dict):
        raise ParseError("format.malformed", "expected a JSON object payload")
    return Parsed(VC_JWT, payload, token)


def verify_credential(
    given: Any,
    *,
    resolver: Resolver,
    facts: Facts,
    now: datetime,
) -> VerificationResult:
    """Run the ten steps on `given` and answer every one of them."""
    run = _Run()

    # Step 1: parse and tell the securing mechanism apart.
    try:
        parsed = parse_input(given)
    except ParseError as exc:
        run.add(1, "format", FAILED, exc.code, str(exc))
        return VerificationResult(tuple(run.checks))
    credential = parsed.credential
    if parsed.format == VC_JWT:
        run.add(1, "format", PASSED, "format.vc-jwt")
    else:
        proof = credential.get("proof")
        suite = proof.get("cryptosuite", "") if isinstance(proof, dict) else ""
        if not isinstance(proof, dict):
            run.add(1, "format", FAILED, "format.malformed", "expected one proof")
            return VerificationResult(tuple(run.checks), credential, parsed.format)
        run.add(1, "format", PASSED, "format.data-integrity", suite=str(suite))

    # Everything steps 2 to 10 will ask, so that a database answers it at once.
    issuer_id = _issuer_id(credential)
    facts.expect(_questions(credential, issuer_id))

    # Step 2: the verification method, and whose it is.
    key = _resolve(run, parsed, issuer_id, resolver)

    # Step 3: the signature.
    _check_signature(run, parsed, key)

    # Step 4: the data model.
    _check_data_model(run, credential)

    # Step 5: the validity period.
    _check_validity(run, credential, now)

    # Step 6: status. A list served elsewhere must pass these same steps; with
    # NO_FACTS its own status entries are never fetched, so this goes one deep.
    remote = RemoteStatusLists(
        resolver,
        lambda found: verify_credential(
            found, resolver=resolver, facts=NO_FACTS, now=now
        ),
    )
    _check_status(run, credential, facts, remote, issuer_id)

    # Step 10 is read before 7-9: they need the log entry's time.
    logged = _log_facts(facts, parsed)
    issuer = facts.issuer(issuer_id) if issuer_id else None
    issued_at = _issued_at(logged, credential, ours=issuer is not None)

    # Step 7: the issuer's accreditation when it issued.
    _check_issuer(
        run,
        issuer,
        issued_at,
        logged.index if isinstance(logged, LogFacts) and logged.included else None,
    )

    # Step 8: the achievement.
    achievement = _check_achievement(
        run, credential, facts, issuer is not None, issued_at
    )

    # Step 9: the key's state when the credential was logged.
    _check_key_state(run, key, logged)

    # Step 10: the log.
    _check_log(run, logged, ours=issuer is not None)

    summary = _summary(credential, issuer, achievement, logged)
    return VerificationResult(tuple(run.checks), credential, parsed.format, summary)


def _questions(credential: Mapping[str, Any], issuer_id: str | None) -> Questions:
    lists = []
    for entry in _as_list(credential.get("credentialStatus")):
        try:
            lists.append(parse_status_entry(entry).list_url)
        except CredentialError:
            continue  # step 6 says what is wrong with it
    credential_id = credential.get("id")
    return Questions(
        issuer=issuer_id,
        achievement=_achievement_id(credential),
        credential_id=credential_id if isinstance(credential_id, str) else None,
        status_lists=tuple(lists),
    )


def _resolve(
    run: _Run, parsed: Parsed, issuer_id: str | None, resolver: Resolver
) -> ResolvedKey | None:
    method = _method_id(parsed)
    if method is None:
        run.add(2, "method", FAILED, "method.unknown", "the proof names no key")
        return None
    try:
        key = resolver.key(method, "assertionMethod")
    except ResolutionError as exc:
        outcome = FAILED if exc.code == "method.unknown" else CANNOT_CHECK
        run.add(2, "method", outcome, exc.code, str(exc))
        return None
    if issuer_id is None or key.controller != issuer_id:
        run.add(
            2,
            "method",
            FAILED,
            "method.unknown",
            f"the key belongs to {key.controller}, the issuer is {issuer_id}",
        )
        return None
    run.add(2, "method", PASSED, "method.resolved", key.method_id)
    return key


def _method_id(parsed: Parsed) -> str | None:
    if parsed.format == VC_JWT:
        assert parsed.token is not None
        if parsed.jws is not None:
            header: Any = parsed.jws.header
        else:
            try:
                header = json.loads(_b64url(parsed.token.split(".")[0]))
            except (ValueError, binascii.Error, RecursionError):
                return None
        kid = header.get("kid") if isinstance(header, dict) else None
        return kid if isinstance(kid, str) else None
    method = parsed.credential["proof"].get("verificationMethod")
    return method if isinstance(method, str) else None


def _check_signature(
    run: _Run, parsed: Parsed, key: ResolvedKey | None
) -> VerifiedProof | dict[str, Any] | None:
    if key is None:
        run.add(3, "signature", CANNOT_CHECK, "signature.not-checked", "no key")
        return None

    def key_for(method_id: str) -> tuple[str, bytes]:
        if method_id != key.method_id and method_id.split("#")[0] != key.method_id:
            raise LookupError(method_id)
        return key.algorithm, key.public_key

    try:
        if parsed.format == VC_JWT:
            assert parsed.token is not None
            signed: VerifiedProof | dict[str, Any] = verify_vc_jwt(
                parsed.jws or parsed.token, key_for
            )
        else:
            signed = verify_proof(parsed.credential, key_for)
    except ProofVerificationError as exc:
        run.add(3, "signature", FAILED, "signature.invalid", str(exc))
        return None
    except (CredentialError, ValueError, TypeError, RecursionError) as exc:
        run.add(3, "signature", FAILED, "signature.invalid", f"cannot verify: {exc}")
        return None
    run.add(3, "signature", PASSED, "signature.valid")
    return signed


def _check_data_model(run: _Run, credential: Mapping[str, Any]) -> None:
    problem = _data_model_problem(credential)
    if problem is not None:
        run.add(4, "data-model", FAILED, "data-model.invalid", problem, field=problem)
        return
    is_ob = bool(_OB_TYPES & set(_as_list(credential.get("type"))))
    run.add(
        4, "data-model", PASSED, "data-model.valid" if is_ob else "data-model.valid-vc"
    )


def _data_model_problem(credential: Mapping[str, Any]) -> str | None:
    # VC Data Model 2.0 §4.3 (contexts), §4.5 (types), §4.7 (issuer), §4.8 (subject),
    # §4.9 (validity), §4.4 (id).
    contexts = _as_list(credential.get("@context"))
    if not contexts or contexts[0] != VC2_CONTEXT:
        return f"@context must begin with {VC2_CONTEXT}"
    types = _as_list(credential.get("type"))
    if "VerifiableCredential" not in types:
        return "type must include VerifiableCredential"
    if "id" in credential and not _is_url(credential["id"]):
        return "id must be a URL"
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not _is_url(issuer_id):
        return "issuer must be a URL or an object with an id"
    subjects = _as_list(credential.get("credentialSubject"))
    if not subjects or not all(isinstance(s, Mapping) and s for s in subjects):
        return "credentialSubject must be a non-empty object"
    for name in ("validFrom", "validUntil"):
        value = credential.get(name)
        if value is not None and not (
            isinstance(value, str) and _DATE_TIME.fullmatch(value)
        ):
            return f"{name} must be an XML Schema dateTimeStamp"
    if not _OB_TYPES & set(types):
        return None
    # Open Badges 3.0 §B.1.1 (AchievementCredential), §B.1.2 (AchievementSubject),
    # §B.1.3 (Achievement), §B.1.7 (Profile).
    if OB3_CONTEXT not in contexts:
        return f"an Open Badges credential must name the context {OB3_CONTEXT}"
    if not isinstance(issuer, Mapping) or "Profile" not in _as_list(issuer.get("type")):
        return "issuer must be a Profile"
    if not isinstance(credential.get("name"), str):
        return "name is required"
    subject = subjects[0]
    if "AchievementSubject" not in _as_list(subject.get("type")):
        return "credentialSubject.type must include AchievementSubject"
    if "id" not in subject and not subject.get("identifier"):
        return "credentialSubject needs an id or an identifier"
    achievement = subject.get("achievement")
    if not isinstance(achievement, Mapping):
        return "credentialSubject.achievement is required"
    for name in ("id", "name", "description", "criteria"):
        if name not in achievement:
            return f"credentialSubject.achievement.{name} is required"
    if "Achievement" not in _as_list(achievement.get("type")):
        return "credentialSubject.achievement.type must include Achievement"
    return None


def _check_validity(run: _Run, credential: Mapping[str, Any], now: datetime) -> None:
    # VC Data Model 2.0 §4.9: valid from validFrom, until validUntil.
    start = _moment(credential.get("validFrom"))
    end = _moment(credential.get("validUntil"))
    if start is not None and now < start:
        run.add(5, "validity", FAILED, "validity.not-yet", date=_day(start))
    elif end is not None and now >= end:
        run.add(5, "validity", FAILED, "validity.expired", date=_day(end))
    else:
        run.add(5, "validity", PASSED, "validity.current")


def _check_status(
    run: _Run,
    credential: Mapping[str, Any],
    facts: Facts,
    remote: RemoteStatusLists,
    issuer_id: str | None,
) -> None:
    entries = _as_list(credential.get("credentialStatus"))
    if not entries:
        run.add(6, "status", NOT_APPLICABLE, "status.none")
        return
    found: dict[str, bool] = {}
    oldest: datetime | None = None
    unreadable: list[str] = []
    not_fetched: list[str] = []
    for entry in entries:
        try:
            parsed = parse_status_entry(entry)
        except CredentialError as exc:
            unreadable.append(str(exc))
            continue
        try:
            reading = _status_bit(facts, remote, parsed)
        except HostNotAllowed as exc:
            not_fetched.append(str(exc))
            continue
        except UnavailableFact as exc:
            unreadable.append(str(exc))
            continue
        if reading.issuer is not None and reading.issuer != issuer_id:
            # A list counts only for its own issuer's credentials, served here or
            # elsewhere: Bitstring Status List leaves whose list to believe to the
            # verifier, and another issuer's bit says nothing about this one.
            unreadable.append(_foreign_list(parsed.list_url, issuer_id, reading))
            continue
        found[parsed.status_purpose] = found.get(parsed.status_purpose, False) or (
            reading.set
        )
        if reading.as_of is not None:
            oldest = reading.as_of if oldest is None else min(oldest, reading.as_of)
    # A revocation outranks a suspension, and either outranks an unreadable list.
    if found.get("revocation"):
        run.add(6, "status", FAILED, "status.revoked")
    elif found.get("suspension"):
        run.add(6, "status", FAILED, "status.suspended")
    elif unreadable:
        details = "; ".join(unreadable + not_fetched)
        run.add(6, "status", CANNOT_CHECK, "status.unreadable", details)
    elif not_fetched:
        details = "; ".join(not_fetched)
        run.add(6, "status", CANNOT_CHECK, "status.not-allowed", details)
    elif oldest is not None:
        run.add(6, "status", PASSED, "status.stale", warning=True, date=_day(oldest))
    else:
        run.add(6, "status", PASSED, "status.active")


def _status_bit(
    facts: Facts, remote: RemoteStatusLists, entry: StatusEntry
) -> StatusReading:
    try:
        return facts.status_bit(entry.list_url, entry.index, entry.status_purpose)
    except StatusListNotHeld:
        # Another issuer's list: read where it is served, if its host is allowed.
        return remote.status_bit(entry.list_url, entry.index, entry.status_purpose)


def _foreign_list(url: str, issuer_id: str | None, reading: StatusReading) -> str:
    if issuer_id is None:
        return "the credential names no issuer to sign its status list"
    return (
        f"expected the status list {url!r} to be issued by {issuer_id}, "
        f"got {reading.issuer}: not the credential issuer's list"
    )


def _log_facts(facts: Facts, parsed: Parsed) -> LogFacts | UnavailableFact | None:
    credential, jws = parsed.credential, parsed.jws
    if jws is not None and facts.digests_are_canonical and "proof" not in credential:
        # credbank signs a vc+jwt payload in the RFC 8785 form of the credential
        # (credentials/jose.py), so the hash of the payload bytes is usually the
        # digest the log holds, and a match proves it: that digest hashes the
        # canonical form, and no other bytes have that hash. Any other answer is
        # asked again with the digest computed from the document.
        logged = _ask_log(facts, credential, digest_of(jws.payload_bytes))
        if isinstance(logged, LogFacts) and logged.included:
            return logged
    digest = _digest(credential)
    return None if digest is None else _ask_log(facts, credential, digest)


def _ask_log(
    facts: Facts, credential: Mapping[str, Any], digest: str
) -> LogFacts | UnavailableFact | None:
    credential_id = credential.get("id")
    try:
        return facts.log(
            credential_id if isinstance(credential_id, str) else None, digest
        )
    except UnavailableFact as exc:
        return exc


def _issued_at(
    logged: LogFacts | UnavailableFact | None,
    credential: Mapping[str, Any],
    *,
    ours: bool,
) -> datetime | None:
    """When the credential was issued: its log entry's time when the log vouches
    for it. For one of our issuers nothing else counts (validFrom is the issuer's
    word, and a credential we did not log is no credential of ours); elsewhere
    validFrom is all there is."""
    if isinstance(logged, LogFacts) and logged.included:
        return logged.logged_at
    return None if ours else _moment(credential.get("validFrom"))


def _check_issuer(
    run: _Run, issuer: Any, issued_at: datetime | None, log_index: int | None
) -> None:
    if issuer is None:
        run.add(7, "issuer", NOT_APPLICABLE, "issuer.external")
        return
    if issued_at is None:
        run.add(7, "issuer", CANNOT_CHECK, "issuer.time-unknown")
        return
    status = issuer.status_at(issued_at, log_index)
    if status != "accredited":
        run.add(7, "issuer", FAILED, "issuer.not-accredited", f"status: {status}")
    elif issuer.status != "accredited":
        run.add(7, "issuer", PASSED, "issuer.accredited-now-suspended", warning=True)
    else:
        run.add(7, "issuer", PASSED, "issuer.accredited")


def _check_achievement(
    run: _Run,
    credential: Mapping[str, Any],
    facts: Facts,
    ours: bool,
    issued_at: datetime | None,
) -> AchievementFacts | None:
    achievement_id = _achievement_id(credential)
    found = facts.achievement(achievement_id) if achievement_id else None
    if found is None:
        if ours and achievement_id:
            run.add(8, "achievement", FAILED, "achievement.unknown", achievement_id)
        else:
            run.add(8, "achievement", NOT_APPLICABLE, "achievement.external")
        return None
    if found.retired_at is not None:
        if issued_at is None:
            run.add(8, "achievement", CANNOT_CHECK, "achievement.time-unknown")
        elif found.retired_at <= issued_at:
            run.add(8, "achievement", FAILED, "achievement.retired-before")
        else:
            run.add(
                8,
                "achievement",
                PASSED,
                "achievement.retired",
                warning=True,
                date=_day(found.retired_at),
            )
    elif found.status != "approved":
        run.add(8, "achievement", FAILED, "achievement.unknown", found.status)
    else:
        run.add(8, "achievement", PASSED, "achievement.active")
    return found


def _check_key_state(
    run: _Run, key: ResolvedKey | None, logged: LogFacts | UnavailableFact | None
) -> None:
    if key is None:
        run.add(9, "key-state", CANNOT_CHECK, "key-state.not-checked", "no key")
        return
    if key.revoked is None:
        run.add(9, "key-state", PASSED, "key-state.good")
        return
    revoked = _aware(key.revoked)
    detail = f"reported compromised at {revoked.isoformat()}"
    when = logged.logged_at if isinstance(logged, LogFacts) else None
    if when is None or not (isinstance(logged, LogFacts) and logged.included):
        run.add(9, "key-state", FAILED, "key-state.unknown-time", detail)
    elif _aware(when) < revoked:
        run.add(9, "key-state", PASSED, "key-state.compromised-after", detail)
    else:
        run.add(9, "key-state", FAILED, "key-state.compromised-before", detail)


def _check_log(
    run: _Run, logged: LogFacts | UnavailableFact | None, *, ours: bool
) -> None:
    if logged is None and ours:
        # One of our issuers, and no entry: we log everything our issuers issue.
        run.add(10, "log", FAILED, "log.missing", "no entry for this credential")
    elif logged is None:
        run.add(10, "log", NOT_APPLICABLE, "log.external")
    elif isinstance(logged, UnavailableFact):
        run.add(10, "log", CANNOT_CHECK, "log.unavailable", str(logged))
    elif logged.included:
        run.add(
            10,
            "log",
            PASSED,
            "log.included",
            f"entry {logged.index} under a checkpoint of {logged.tree_size} entries",
            index=str(logged.index),
        )
    else:
        run.add(10, "log", FAILED, "log.missing", logged.detail)


def _summary(
    credential: Mapping[str, Any],
    issuer: Any,
    known: AchievementFacts | None,
    logged: Any,
) -> Summary:
    issuer_value = credential.get("issuer")
    issuer_name = issuer_value.get("name") if isinstance(issuer_value, Mapping) else ""
    subjects = _as_list(credential.get("credentialSubject"))
    subject = subjects[0] if subjects and isinstance(subjects[0], Mapping) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, Mapping) else {}
    unit = level = ""
    for alignment in _as_list(achievement.get("alignment")):
        if not isinstance(alignment, Mapping):
            continue
        if alignment.get("targetFramework") == "credit-unit":
            unit = _text(alignment.get("targetCode"))
        elif alignment.get("targetFramework") == "EQF":
            level = _text(alignment.get("targetCode"))
    credits = subject.get("creditsEarned", achievement.get("creditsAvailable", ""))
    return Summary(
        name=_text(credential.get("name")),
        # The registry keeps the names apart; the credential joins them.
        achievement=(known.name_en if known else "") or _text(achievement.get("name")),
        achievement_zh=(known.name_zh if known else "")
        or _text(achievement.get("name")),
        issuer=_text(issuer.name_en if issuer else issuer_name),
        issuer_zh=_text(issuer.name_zh if issuer else issuer_name),
        issuer_id=_text(_issuer_id(credential)),
        learner=logged.learner if isinstance(logged, LogFacts) else "",
        valid_from=_text(credential.get("validFrom")),
        valid_until=_text(credential.get("validUntil")),
        awarded=_text(credential.get("awardedDate")),
        credits=_text(credits),
        unit=unit,
        level=level,
    )


def _digest(credential: Mapping[str, Any]) -> str | None:
    try:
        return credential_digest(credential)
    except CredentialError:
        return None


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    value = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    return value if isinstance(value, str) else None


def _achievement_id(credential: Mapping[str, Any]) -> str | None:
    subjects = _as_list(credential.get("credentialSubject"))
    if not subjects or not isinstance(subjects[0], Mapping):
        return None
    achievement = subjects[0].get("achievement")
    if not isinstance(achievement, Mapping):
        return None
    value = achievement.get("id")
    return value if isinstance(value, str) else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and ":" in value and not value.startswith(":")


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        return None
    try:
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC datetimes.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).strftime("%Y-%m-%d")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
