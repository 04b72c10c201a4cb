"""Verifying a `credbank-wallet/v1` file with nothing but what it carries.

`WalletFacts` answers the procedure's questions (verify/facts.py) from the wallet:
status bits from the carried status list credentials, once their issuer's proof
verifies, dated by the wallet's `statusAsOf`; the log answer from the carried entry
bytes and tlog-proof, under a checkpoint signed by the log's key. The wallet says
nothing about the registry, so steps 7 and 8 are not applicable offline. How each
check is made is written down in docs/wallet-format.md §5.

No network and no database: a verifier that trusts the service pins its log key
(`log_key`); without it, the key the wallet carries is used and reported.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from credentials.data_integrity import verify_proof
from credentials.errors import CredentialError
from credentials.status_list import Bitstring
from keys.errors import CredbankError
from ledger import NoteVerifier, TLogProof, leaf_hash, open_checkpoint, parse_entry
from ledger.checkpoints import Checkpoint
from ledger.proofs import verify_tlog_proof
from verify.facts import (
    NO_FACTS,
    AchievementFacts,
    IssuerFacts,
    LogFacts,
    Questions,
    StatusReading,
    UnavailableFact,
)
from verify.presentation import verify_presentation
from verify.procedure import verify_credential
from verify.resolver import ResolutionError, Resolver
from verify.result import (
    CANNOT_CHECK,
    FAILED,
    INVALID,
    NOT_APPLICABLE,
    PASSED,
    VALID,
    VALID_WITH_WARNINGS,
    VerificationResult,
)
from wallet.export import presented_form
from wallet.format import FORMAT, check_wallet

__all__ = [
    "ItemResult",
    "WalletCheck",
    "WalletFacts",
    "WalletResult",
    "status_age_words",
    "verify_wallet",
]

# The entry kinds that log an item, and the member naming the item's id.
_LOGGED_AS = {"credential.issued": "credential", "transfer.committed": "statement"}

_AGE_WORDS = {
    "now": {"zh": "刚刚", "en": "just now"},
    "future": {
        "zh": "晚于当前时间（请检查本机时钟）",
        "en": "later than now (check this computer's clock)",
    },
    "unknown": {"zh": "时间不明", "en": "at an unknown time"},
    **{
        unit: {"zh": f"{{count}} {zh}前", "en": f"{{count}} {unit} ago"}
        for unit, zh in (
            ("minute", "分钟"),
            ("minutes", "分钟"),
            ("hour", "小时"),
            ("hours", "小时"),
            ("day", "天"),
            ("days", "天"),
        )
    },
}

_MESSAGES = {
    "wallet.checkpoint-valid": {
        "zh": "检查点的签名有效（日志共 {size} 条）",
        "en": "The checkpoint's signature is valid ({size} log entries)",
    },
    "wallet.checkpoint-invalid": {
        "zh": "检查点的签名无效",
        "en": "The checkpoint's signature is not valid",
    },
    "wallet.presentation-valid": {
        "zh": "持有者对出示的签名有效",
        "en": "The holder's signature on the presentation is valid",
    },
    "wallet.presentation-unsigned": {
        "zh": "出示未经持有者签名",
        "en": "The presentation is not signed by its holder",
    },
    "wallet.presentation-invalid": {
        "zh": "出示无效",
        "en": "The presentation is not valid",
    },
}


@dataclass(frozen=True)
class WalletCheck:
    """A line about the wallet as a whole (its checkpoint, its presentation)."""

    check: str
    outcome: str
    code: str
    detail: str = ""
    values: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        return _MESSAGES[self.code][lang].format_map(dict(self.values))

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "outcome": self.outcome,
            "code": self.code,
            "message": {"zh": self.message("zh"), "en": self.message("en")},
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ItemResult:
    """One credential or statement of the wallet: a result for each of its forms."""

    kind: str
    id: str
    forms: tuple[tuple[str, VerificationResult], ...]

    @property
    def verdict(self) -> str:
        return _worst(result.verdict for _, result in self.forms)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "verdict": self.verdict,
            "verified": self.verdict != INVALID,
            "forms": {form: result.to_json() for form, result in self.forms},
        }


@dataclass(frozen=True)
class WalletResult:
    checks: tuple[WalletCheck, ...]
    items: tuple[ItemResult, ...]
    exported_at: str
    status_as_of: str
    log_key: str
    log_key_pinned: bool
    checked_at: datetime

    def status_age(self, lang: str) -> str:
        """How old the status information was when checked, in plain words."""
        return status_age_words(self.status_as_of, self.checked_at, lang)

    @property
    def verdict(self) -> str:
        own = INVALID if any(c.outcome == FAILED for c in self.checks) else VALID
        return _worst([own, *(item.verdict for item in self.items)])

    @property
    def verified(self) -> bool:
        return self.verdict != INVALID

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "verified": self.verified,
            "verdict": self.verdict,
            "exportedAt": self.exported_at,
            "statusAsOf": self.status_as_of,
            "statusAge": {lang: self.status_age(lang) for lang in ("zh", "en")},
            "logKey": self.log_key,
            "logKeyPinned": self.log_key_pinned,
            "checks": [check.to_json() for check in self.checks],
            "items": [item.to_json() for item in self.items],
        }


class WalletFacts:
    """The procedure's facts for one item of a wallet, from what the wallet carries.

    `issuer` is the DID of the item's issuer: a status list counts only when that
    issuer signed it (Bitstring Status List §3.2 leaves this to the verifier; a
    list signed by anyone else says nothing about this issuer's credentials).
    """

    # The wallet's log entries are whatever the file holds (verify/facts.py).
    digests_are_canonical = False

    def __init__(self, carried: _Carried, issuer: str | None) -> None:
        self._carried = carried
        self._issuer = issuer

    def expect(self, questions: Questions) -> None:
        pass  # everything is in memory already

    def status_bit(self, list_url: str, index: int, purpose: str) -> StatusReading:
        found = self._carried.status_list(list_url)
        if found.issuer != self._issuer:
            raise UnavailableFact(
                f"the status list {list_url} is signed by {found.issuer}, "
                f"not by the credential's issuer"
            )
        if found.purpose != purpose:
            raise UnavailableFact(
                f"expected a {purpose} list at {list_url}, got a {found.purpose} list"
            )
        if not 0 <= index < len(found.bits):
            raise UnavailableFact(f"index {index} is outside the list {list_url}")
        return StatusReading(found.bits.get(index), as_of=self._carried.status_as_of)

    def issuer(self, did: str) -> IssuerFacts | None:
        return None

    def achievement(self, achievement_id: str) -> AchievementFacts | None:
        return None

    def log(self, credential_id: str | None, digest: str) -> LogFacts | None:
        logged = self._carried.entries.get(credential_id or "")
        if logged is None:
            return LogFacts(
                False, None, None, None, "the wallet carries no log entry for it"
            )
        data, proof_text = logged
        try:
            entry = parse_entry(data)
            proof = TLogProof.from_text(proof_text)
        except CredbankError as exc:
            return LogFacts(False, None, None, None, f"unreadable log proof: {exc}")
        # docs/wallet-format.md §2.2: one spelling of each proof, under the
        # wallet's own checkpoint.
        problem = self._carried.noncanonical(credential_id or "", proof)
        if problem:
            return LogFacts(False, None, None, None, problem)
        named = _LOGGED_AS.get(str(entry.get("kind")))
        if named is None or entry.get(named) != credential_id:
            return LogFacts(False, None, None, None, "the entry logs something else")
        if entry.get("digest") != digest:
            return LogFacts(
                False, None, None, None, "the log holds a different digest for this id"
            )
        # RFC 9162 §2.1.3.2 under a C2SP checkpoint signed by the log's key.
        try:
            checkpoint = verify_tlog_proof(
                proof, leaf_hash(data), self._carried.verifier
            )
        except CredbankError as exc:
            return LogFacts(False, None, None, None, f"inclusion proof failed: {exc}")
        return LogFacts(
            included=True,
            index=proof.index,
            logged_at=_moment(entry.get("at")),
            tree_size=checkpoint.size,
        )


def verify_wallet(
    wallet: Any, *, now: datetime, log_key: str | None = None
) -> WalletResult:
    """Verify every item of `wallet` offline, and the wallet's own checkpoint and
    presentation.

    `log_key` pins the log's verifier key (`name+hex8+base64`); without it the key
    the wallet carries is used.

    Raises:
        WalletFormatError: `wallet` does not have the shape of a wallet.
        ledger.FormatError: `log_key` (or the carried key) is no verifier key.
    """
    check_wallet(wallet)
    carried_key = wallet["log"]["verifierKey"]
    verifier = NoteVerifier.parse(log_key or carried_key)
    resolver = Resolver(carried=wallet["didDocuments"])
    carried = _Carried(wallet, verifier, resolver)
    checks = [_check_checkpoint(wallet["log"]["checkpoint"], verifier)]

    items = []
    for kind, group in (("credential", "credentials"), ("statement", "statements")):
        for item in wallet[group]:
            forms = tuple(
                (form, _verify_form(value, carried, resolver, now))
                for form, value in item["secured"].items()
            )
            items.append(ItemResult(kind, item["id"], forms))

    checks.append(_check_presentation(wallet, resolver, now))
    return WalletResult(
        tuple(checks),
        tuple(items),
        wallet["exportedAt"],
        wallet["statusAsOf"],
        str(verifier),
        log_key is not None,
        now,
    )


def status_age_words(status_as_of: str, now: datetime, lang: str) -> str:
    """The age of a wallet's status information at `now`, as a person says it
    ("12 days ago", "12 天前"): whole minutes, hours, then days, rounded down."""
    moment = _moment(status_as_of)
    if moment is None:
        return _AGE_WORDS["unknown"][lang]
    age = now - moment
    if age < timedelta(0):
        return _AGE_WORDS["future"][lang]
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return _AGE_WORDS["now"][lang]
    if minutes < 60:
        count, unit = minutes, "minute"
    elif minutes < 48 * 60:
        count, unit = minutes // 60, "hour"
    else:
        count, unit = minutes // (24 * 60), "day"
    if lang == "en" and count != 1:
        unit += "s"
    return _AGE_WORDS[unit][lang].format(count=count)


@dataclass(frozen=True)
class _StatusList:
    issuer: str
    purpose: str
    bits: Bitstring


class _Carried:
    """What a checked wallet carries, parsed once and shared by its items."""

    def __init__(
        self, wallet: Mapping[str, Any], verifier: NoteVerifier, resolver: Resolver
    ) -> None:
        self.verifier = verifier
        self.status_as_of = _moment(wallet["statusAsOf"])
        self.checkpoint: str = wallet["log"]["checkpoint"]
        self.entries: dict[str, tuple[bytes, str]] = {}
        self._encoded: dict[str, str] = {}
        for group in ("credentials", "statements"):
            for item in wallet[group]:
                data = base64.b64decode(item["logEntry"], validate=True)
                self.entries[item["id"]] = (data, item["tlogProof"])
                self._encoded[item["id"]] = item["logEntry"]
        self._lists: Mapping[str, Any] = wallet["statusLists"]
        self._resolver = resolver
        self._opened: dict[str, _StatusList | UnavailableFact] = {}

    def noncanonical(self, item_id: str, proof: TLogProof) -> str:
        """What makes an item's log entry or proof not the one spelling
        docs/wallet-format.md §2.2 allows, or "" when nothing does."""
        data, text = self.entries[item_id]
        # RFC 4648 §3.5: bits past the data in the last character must be zero.
        if base64.b64encode(data).decode() != self._encoded[item_id]:
            return "logEntry: expected base64 whose unused bits are zero"
        if proof.checkpoint_note != self.checkpoint:
            return "tlogProof: expected the checkpoint of log.checkpoint"
        if proof.to_text() != text:
            return "tlogProof: expected base64 whose unused bits are zero"
        return ""

    def status_list(self, url: str) -> _StatusList:
        """The carried list at `url`, its issuer's proof verified (once)."""
        if url not in self._opened:
            try:
                self._opened[url] = self._open_list(url)
            except UnavailableFact as exc:
                self._opened[url] = exc
        found = self._opened[url]
        if isinstance(found, UnavailableFact):
            raise found
        return found

    def _open_list(self, url: str) -> _StatusList:
        credential = self._lists.get(url)
        if credential is None:
            raise UnavailableFact(f"the wallet carries no status list {url}")
        proof = credential.get("proof")
        method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
        issuer = credential.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        try:
            key = self._resolver.key(str(method), "assertionMethod")
        except ResolutionError as exc:
            raise UnavailableFact(f"the status list's key: {exc}") from exc
        if key.controller != issuer_id:
            raise UnavailableFact("the status list is signed by someone else's key")

        def key_for(method_id: str) -> tuple[str, bytes]:
            if method_id != key.method_id:
                raise LookupError(method_id)
            return key.algorithm, key.public_key

        try:
            verify_proof(credential, key_for)
        except (CredentialError, ValueError, TypeError, RecursionError) as exc:
            raise UnavailableFact(f"the status list's proof fails: {exc}") from exc
        subject = credential.get("credentialSubject")
        if not isinstance(subject, Mapping):
            raise UnavailableFact("the status list has no credentialSubject")
        try:
            bits = Bitstring.decode(str(subject.get("encodedList")))
        except CredentialError as exc:
            raise UnavailableFact(f"the status list's bits: {exc}") from exc
        return _StatusList(str(issuer_id), str(subject.get("statusPurpose")), bits)


def _verify_form(
    value: Any, carried: _Carried, resolver: Resolver, now: datetime
) -> VerificationResult:
    facts = WalletFacts(carried, _issuer_of(value))
    return verify_credential(value, resolver=resolver, facts=facts, now=now)


def _issuer_of(value: Any) -> str | None:
    # The issuer as the credential names it, before any check; the procedure
    # insists the signing key is that issuer's (step 2), and the status lists are
    # then held to the same issuer.
    if isinstance(value, str):
        try:
            payload = value.split(".")[1]
            value = json.loads(
                base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            )
        except (IndexError, ValueError, binascii.Error):
            return None
    if not isinstance(value, Mapping):
        return None
    issuer = value.get("issuer")
    found = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    return found if isinstance(found, str) else None


def _check_checkpoint(note: str, verifier: NoteVerifier) -> WalletCheck:
    try:
        checkpoint = open_checkpoint(note, verifier)
    except CredbankError as exc:
        return WalletCheck("checkpoint", FAILED, "wallet.checkpoint-invalid", str(exc))
    if not _is_canonical_note(note, checkpoint):
        return WalletCheck(
            "checkpoint",
            FAILED,
            "wallet.checkpoint-invalid",
            "expected base64 whose unused bits are zero (RFC 4648 §3.5)",
        )
    return WalletCheck(
        "checkpoint",
        PASSED,
        "wallet.checkpoint-valid",
        f"{checkpoint.origin} at tree size {checkpoint.size}",
        {"size": str(checkpoint.size)},
    )


def _check_presentation(
    wallet: Mapping[str, Any], resolver: Resolver, now: datetime
) -> WalletCheck:
    presentation = wallet["presentation"]
    expected = [presented_form(item["secured"]) for item in wallet["credentials"]]
    if presentation.get("verifiableCredential") != expected:
        return WalletCheck(
            "presentation",
            FAILED,
            "wallet.presentation-invalid",
            "its credentials are not the wallet's credentials",
        )
    holder = presentation.get("holder")
    if holder != wallet["holder"]:
        return WalletCheck(
            "presentation",
            FAILED,
            "wallet.presentation-invalid",
            "its holder is not the wallet's holder",
        )
    if "proof" not in presentation:
        return WalletCheck(
            "presentation", NOT_APPLICABLE, "wallet.presentation-unsigned"
        )
    if holder is None:
        # A proof by a key that names no one says nothing about the learner.
        return WalletCheck(
            "presentation",
            FAILED,
            "wallet.presentation-invalid",
            "a signed presentation must name its holder's did:key",
        )
    # The credentials inside were verified above, item by item; only the holder's
    # lines of this answer are read.
    answer = verify_presentation(
        presentation,
        challenge=None,
        domain=None,
        resolver=resolver,
        facts=NO_FACTS,
        now=now,
    )
    own = answer.checks[0] if answer.checks else None
    if own is None or own.outcome != PASSED:
        outcome = own.outcome if own is not None else FAILED
        return WalletCheck(
            "presentation",
            FAILED if outcome != CANNOT_CHECK else CANNOT_CHECK,
            "wallet.presentation-invalid",
            own.detail if own is not None else "",
        )
    return WalletCheck("presentation", PASSED, "wallet.presentation-valid", own.detail)


def _is_canonical_note(note: str, checkpoint: Checkpoint) -> bool:
    """Whether the root hash and every signature of a checkpoint note that
    opened are written in canonical base64 (docs/wallet-format.md §2.2)."""
    text, _, signatures = note.rpartition("\n\n")
    # The body opened as this checkpoint: its root line must be the one spelling.
    if not (text + "\n").startswith(checkpoint.to_text()):
        return False
    for line in signatures.splitlines():
        encoded = line.rpartition(" ")[2]
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            return False
        if base64.b64encode(blob).decode() != encoded:
            return False
    return True


def _worst(verdicts: Any) -> str:
    found = set(verdicts)
    if INVALID in found:
        return INVALID
    return VALID_WITH_WARNINGS if VALID_WITH_WARNINGS in found else VALID


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
