"""What the procedure needs to know beyond the credential itself (steps 6 to 10).

A `Facts` answers from somewhere: this service's database (verify/local.py), what a
wallet carries (issue 7), or nothing at all (`NO_FACTS`, for `--offline` on a bare
credential). Each question has three kinds of answer: a fact; None, meaning "this is
not ours to say" (the check is not applicable); or an `UnavailableFact`, meaning the
answer exists but could not be had (the check cannot be made). A status list a
source does not hold is a `StatusListNotHeld`: the procedure may then read it where
it is served, from an allowed host (verify/remote_status.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = [
    "NO_FACTS",
    "AchievementFacts",
    "Facts",
    "IssuerFacts",
    "LogFacts",
    "NoFacts",
    "Questions",
    "StatusListNotHeld",
    "StatusReading",
    "UnavailableFact",
]


class UnavailableFact(Exception):
    """The answer exists somewhere but could not be read."""


class StatusListNotHeld(UnavailableFact):
    """The status list is not one this source holds (another issuer's list)."""


@dataclass(frozen=True)
class StatusReading:
    """One bit of a status list, how fresh the list was (None: live), and the DID
    of the issuer whose list it is, where the source knows it."""

    set: bool
    as_of: datetime | None = None
    issuer: str | None = None


@dataclass(frozen=True)
class IssuerFacts:
    """An issuer registered here: its accreditation history, oldest first, each
    change with its time and the index of its log entry."""

    name_zh: str
    name_en: str
    history: tuple[tuple[str, datetime, int | None], ...]
    status: str
    learner_display: str = "masked"

    def status_at(self, moment: datetime, log_index: int | None = None) -> str | None:
        """The issuer's status when the log held `log_index` entries (exact: the
        log orders every decision), else at `moment`; None before it applied.

        Log entry times have whole seconds, so an accreditation and an issuance
        in the same second compare by index, not by time.
        """
        found = None
        for status, since, index in self.history:
            if log_index is not None and index is not None:
                if index < log_index:
                    found = status
            elif since <= moment:
                found = status
        return found


@dataclass(frozen=True)
class AchievementFacts:
    status: str
    retired_at: datetime | None
    name_zh: str = ""
    name_en: str = ""


@dataclass(frozen=True)
class LogFacts:
    """The credential's entry in the log, checked against a signed checkpoint.

    `included` is True only when an entry for this credential id holds this very
    digest and its inclusion proof verified under a checkpoint whose signature
    verified. `logged_at` is the entry's time.
    """

    included: bool
    index: int | None
    logged_at: datetime | None
    tree_size: int | None
    detail: str = ""
    learner: str = ""


@dataclass(frozen=True)
class Questions:
    """What the procedure is about to ask of its facts about one credential: the
    issuer's DID (its registration and keys), the achievement, the credential's id
    (its log entry) and the URLs of the status lists its entries name."""

    issuer: str | None
    achievement: str | None
    credential_id: str | None
    status_lists: tuple[str, ...]


class Facts(Protocol):
    # True only when every digest `log` compares with was made by
    # `credential_digest` (this service's own log). Then a vc+jwt payload whose
    # own hash is the logged digest is that canonical form, and step 10 need not
    # canonicalise the credential again; from a log someone else wrote, it must.
    digests_are_canonical: bool

    def expect(self, questions: Questions) -> None:
        """A hint, before any question is asked: a source may read the answers
        together (a database in one round trip). Answers must not change by it."""
        ...

    def status_bit(self, list_url: str, index: int, purpose: str) -> StatusReading:
        """Raises UnavailableFact when the list cannot be read, StatusListNotHeld
        when it is someone else's to serve."""
        ...

    def issuer(self, did: str) -> IssuerFacts | None: ...

    def achievement(self, achievement_id: str) -> AchievementFacts | None: ...

    def log(self, credential_id: str | None, digest: str) -> LogFacts | None:
        """None when the credential is not one this service logged."""
        ...


class NoFacts:
    """Knows nothing: status lists are unreadable, nothing is registered here."""

    digests_are_canonical = False

    def expect(self, questions: Questions) -> None:
        pass

    def status_bit(self, list_url: str, index: int, purpose: str) -> StatusReading:
        raise UnavailableFact(f"offline: the status list {list_url} was not read")

    def issuer(self, did: str) -> IssuerFacts | None:
        return None

    def achievement(self, achievement_id: str) -> AchievementFacts | None:
        return None

    def log(self, credential_id: str | None, digest: str) -> LogFacts | None:
        return None


NO_FACTS = NoFacts()
