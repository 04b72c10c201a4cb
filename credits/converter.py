"""The credit converter: credit-rules.md "Evaluation", steps 1-7, and its "Output".

`evaluate` is a pure function of a rule set, a list of normalised credentials and a
date. Invariants of its result: every input index is either used by exactly one
grant or refused exactly once; the total is the sum of the grants and never exceeds
the programme cap; all arithmetic is on exact fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from json.encoder import encode_basestring_ascii
from typing import NamedTuple

from credits.normalise import NormalisedCredential
from credits.rules import ItemTerms, Plan, RuleSet, RuleTerms

__all__ = [
    "REASONS",
    "Evaluation",
    "Grant",
    "Refusal",
    "evaluate",
    "json_number",
]

RULESET_NOT_IN_EFFECT = "ruleset_not_in_effect"
DUPLICATE_CREDENTIAL = "duplicate_credential"
REVOKED = "revoked"
EXPIRED = "expired"
ISSUER_NOT_ACCEPTED = "issuer_not_accepted"
DUPLICATE_ACHIEVEMENT = "duplicate_achievement"
NO_MATCHING_RULE = "no_matching_rule"
LEVEL_TOO_LOW = "level_too_low"
TOO_OLD = "too_old"
UNIT_NOT_CONVERTIBLE = "unit_not_convertible"
SCORE_MISSING = "score_missing"
BELOW_MIN_SCORE = "below_min_score"
BUNDLE_INCOMPLETE = "bundle_incomplete"
NOT_NEEDED = "not_needed"
CAP_REACHED = "cap_reached"
ZERO_CREDIT = "zero_credit"
REASONS = (
    RULESET_NOT_IN_EFFECT,
    DUPLICATE_CREDENTIAL,
    REVOKED,
    EXPIRED,
    ISSUER_NOT_ACCEPTED,
    DUPLICATE_ACHIEVEMENT,
    NO_MATCHING_RULE,
    LEVEL_TOO_LOW,
    TOO_OLD,
    UNIT_NOT_CONVERTIBLE,
    SCORE_MISSING,
    BELOW_MIN_SCORE,
    BUNDLE_INCOMPLETE,
    NOT_NEEDED,
    CAP_REACHED,
    ZERO_CREDIT,
)

# What became of each rule in step 6; step 7 reads it.
_SKIPPED = "skipped"
_UNSATISFIED = "unsatisfied"
_GRANTED = "granted"
_ZERO = Fraction(0)


@dataclass(frozen=True, slots=True)
class Grant:
    """A course granted; `credentials` and `indexes` in the order the rule used them."""

    rule: str
    course: str
    slot: str
    credits: Fraction
    credentials: tuple[str, ...]
    indexes: tuple[int, ...]


class Refusal(NamedTuple):
    """A credential refused, by its position in the input, and why."""

    # NOTE: a named tuple rather than a frozen dataclass: an evaluation makes one
    # per refused credential, and a frozen dataclass costs three times as much to
    # make (bench/credits.py). The field `index` hides tuple.index, on purpose: it
    # is the output document's name.
    index: int  # type: ignore[assignment]
    credential: str
    reason: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Grants in rule order, refusals in input order (credit-rules.md "Output")."""

    grants: tuple[Grant, ...]
    total: Fraction
    refused: tuple[Refusal, ...]

    def to_json(self) -> str:
        """The output document, the same bytes for the same evaluation.

        Members in the order of credit-rules.md, `", "` and `": "` between them, no
        newline, ASCII only (other characters escaped). Credits are exact JSON
        numbers (`json_number`).
        """
        # List comprehensions, not generators: str.join makes a list of either,
        # and the generator's frame costs a third more per refusal.
        grants = ", ".join(
            [
                f'{{"rule": {_string(grant.rule)}, "course": {_string(grant.course)}, '
                f'"slot": {_string(grant.slot)}, '
                f'"credits": {json_number(grant.credits)}, '
                f'"credentials": [{", ".join(map(_string, grant.credentials))}]}}'
                for grant in self.grants
            ]
        )
        refused = ", ".join(
            [
                f'{{"index": {index}, "credential": {_string(credential)}, '
                f'"reason": "{reason}"}}'
                for index, credential, reason in self.refused
            ]
        )
        return (
            f'{{"grants": [{grants}], "total": {json_number(self.total)}, '
            f'"refused": [{refused}]}}'
        )


def evaluate(
    rule_set: RuleSet, credentials: Sequence[NormalisedCredential], on: date
) -> Evaluation:
    """Decide which courses `credentials` earn under `rule_set` on the day `on`."""
    reasons: list[str | None]
    # Step 1: outside its effective dates the rule set grants nothing.
    if not rule_set.effective.covers(on):
        reasons = [RULESET_NOT_IN_EFFECT] * len(credentials)
        return Evaluation((), _ZERO, _refusals(credentials, reasons))

    reasons = [None] * len(credentials)
    kept = _keep(rule_set, credentials, on, reasons)
    run = _Run(rule_set.plan, credentials, on, kept)
    run.grant_in_order()
    run.explain_refusals(reasons)

    return Evaluation(tuple(run.grants), run.total(), _refusals(credentials, reasons))


def json_number(value: Fraction) -> str:
    """An exact JSON number: `3`, `0.5`, `6.25`; an integer when whole.

    A fraction with no finite decimal expansion (a third, after rounding with a step
    of "1/3") cannot be a JSON number without losing exactness; it is written as the
    JSON string "n/d" in lowest terms, the notation rule sets use for factors.
    """
    numerator, denominator = value.numerator, value.denominator
    if denominator == 1:
        return str(numerator)
    twos = fives = 0
    rest = denominator
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return f'"{numerator}/{denominator}"'
    places = max(twos, fives)
    digits = str(abs(numerator) * 10**places // denominator).rjust(places + 1, "0")
    sign = "-" if numerator < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


# NOTE: the C function json.dumps itself uses for a string with ensure_ascii,
# called directly: json.dumps costs several times more for one string.
_string = encode_basestring_ascii
_new_tuple = tuple.__new__


def _keep(
    rule_set: RuleSet,
    credentials: Sequence[NormalisedCredential],
    on: date,
    reasons: list[str | None],
) -> dict[str, int]:
    """Steps 2-4: the credentials the rules may use, one per achievement, by index.

    Step 3 looks only at credentials that passed step 2, in input order, so both
    run in one pass; step 4 then drops the achievements no rule names.
    """
    seen: set[str] = set()
    kept: dict[str, int] = {}
    accepted = rule_set.accepted_issuers
    for index, credential in enumerate(credentials):
        # Step 2: the first failing check is the reason.
        identifier = credential.id
        if identifier in seen:
            reasons[index] = DUPLICATE_CREDENTIAL
            continue
        seen.add(identifier)
        if credential.revoked:
            reasons[index] = REVOKED
        elif credential.expires is not None and on > credential.expires:
            # The expiry day itself is still valid.
            reasons[index] = EXPIRED
        elif credential.issuer not in accepted:
            reasons[index] = ISSUER_NOT_ACCEPTED
        else:
            # Step 3: the latest issued, ties to the first in input order.
            holder = kept.setdefault(credential.achievement, index)
            if holder == index:
                continue
            if credential.issued > credentials[holder].issued:
                reasons[holder] = DUPLICATE_ACHIEVEMENT
                kept[credential.achievement] = index
            else:
                reasons[index] = DUPLICATE_ACHIEVEMENT

    # Step 4.
    named: dict[str, int] = {}
    naming = rule_set.naming
    for achievement, index in kept.items():
        if achievement in naming:
            named[achievement] = index
        else:
            reasons[index] = NO_MATCHING_RULE
    return named


def _refusals(
    credentials: Sequence[NormalisedCredential], reasons: list[str | None]
) -> tuple[Refusal, ...]:
    """A refusal for each credential with a reason, in input order."""
    # NOTE: tuple.__new__ is what Refusal._make calls, without the Python frames
    # of _make or Refusal(...): it halves the cost of a refusal.
    return tuple(
        [
            _new_tuple(Refusal, (index, credential.id, reason))
            for index, (credential, reason) in enumerate(
                zip(credentials, reasons, strict=True)
            )
            if reason is not None
        ]
    )


def _oldest_recent_enough(on: date, years: int) -> date:
    """The evaluation date minus `years` calendar years; issued on it is recent enough.

    29 February counts as 28 February (credit-rules.md step 5), whether or not the
    earlier year is a leap year.
    """
    year = on.year - years
    if year < date.min.year:
        return date.min
    day = 28 if (on.month, on.day) == (2, 29) else on.day
    return date(year, on.month, day)


class _Run:
    """Steps 5-7 for one evaluation: the rules in order, then each refusal's reason.

    Credits are counted in whole units of 1/`plan.scale` (see `Plan`): the total,
    the room under the cap and every grant are integers until `Grant` and `total`
    turn them back into fractions.
    """

    def __init__(
        self,
        plan: Plan,
        credentials: Sequence[NormalisedCredential],
        on: date,
        kept: dict[str, int],
    ) -> None:
        self.plan = plan
        self.credentials = credentials
        self.kept = kept
        self.consumed: set[int] = set()
        self.grants: list[Grant] = []
        self.granted = 0
        # Per rule: what became of it, and the credentials it used or would have used.
        self.outcomes: list[tuple[str, tuple[int, ...]]] = []
        # Step 5's finding for a credential under the first rule naming it, kept
        # from step 6 for step 7.
        self.first_findings: dict[int, str | None] = {}
        self.cutoffs = {years: _oldest_recent_enough(on, years) for years in plan.ages}

    def total(self) -> Fraction:
        return Fraction(self.granted, self.plan.scale)

    def failed_condition(
        self, index: int, terms: RuleTerms, item: ItemTerms
    ) -> str | None:
        """Step 5: the first condition of a rule and one of its items that
        credential `index` fails, or None."""
        credential = self.credentials[index]
        min_eqf = terms.min_eqf
        years = terms.max_age_years
        if min_eqf is not None and (
            credential.eqf_level is None or credential.eqf_level < min_eqf
        ):
            return LEVEL_TOO_LOW
        if years is not None and credential.issued < self.cutoffs[years]:
            return TOO_OLD
        if terms.convert and credential.unit not in self.plan.factors:
            return UNIT_NOT_CONVERTIBLE
        score = credential.score
        if score is None:
            return SCORE_MISSING if item.score_required else None
        if item.min_score is not None:
            numerator, denominator = item.min_score
            if score.numerator * denominator < numerator * score.denominator:
                return BELOW_MIN_SCORE
        return None

    def grant_in_order(self) -> None:
        """Step 6: each rule in order, on what earlier grants left."""
        cap = self.plan.cap
        granted_courses: set[str] = set()
        for terms in self.plan.rules:
            if terms.course in granted_courses:
                self.outcomes.append((_SKIPPED, ()))
                continue
            met = self._met(terms)
            if len(met) < terms.min_count:
                self.outcomes.append((_UNSATISFIED, ()))
                continue

            room = None if cap is None else cap - self.granted
            if terms.convert:
                reason, used, credits = self._convert(terms, met, room)
            else:
                reason, used, credits = self._fixed(terms, met, room)
            if reason is not None:
                self.outcomes.append((reason, used))
                continue

            self.outcomes.append((_GRANTED, used))
            self._grant(terms, used, credits)
            self.granted += credits
            self.consumed.update(used)
            granted_courses.add(terms.course)

    def explain_refusals(self, reasons: list[str | None]) -> None:
        """Step 7: why each kept credential that no grant consumed is refused."""
        first_naming = self.plan.first_naming
        for achievement, index in self.kept.items():
            if index in self.consumed:
                continue
            terms, item = first_naming[achievement]
            if index in self.first_findings:
                reason = self.first_findings[index]
            else:  # The rule was skipped before step 5 looked at it.
                reason = self.failed_condition(index, terms, item)
            if reason is None:
                state, used = self.outcomes[terms.number]
                if state == _UNSATISFIED:
                    reason = BUNDLE_INCOMPLETE
                elif state in (CAP_REACHED, ZERO_CREDIT) and index in used:
                    reason = state
                else:
                    reason = NOT_NEEDED
            reasons[index] = reason

    def _met(self, terms: RuleTerms) -> list[int]:
        """The kept, unconsumed credentials meeting the rule's items, in item order."""
        met: list[int] = []
        kept, consumed = self.kept, self.consumed
        for item in terms.items:
            index = kept.get(item.achievement)
            if index is None or index in consumed:
                continue
            reason = self.failed_condition(index, terms, item)
            if item.first:
                self.first_findings[index] = reason
            if reason is None:
                met.append(index)
        return met

    def _fixed(
        self, terms: RuleTerms, met: list[int], room: int | None
    ) -> tuple[str | None, tuple[int, ...], int]:
        # all_of uses every item; any_of the first min_count met, in list order.
        used = tuple(met[: terms.min_count])
        credits = terms.credits
        if room is None or credits <= room:
            return None, used, credits
        if room > 0 and terms.partial:
            return None, used, room
        return CAP_REACHED, used, 0

    def _convert(
        self, terms: RuleTerms, met: list[int], room: int | None
    ) -> tuple[str | None, tuple[int, ...], int]:
        if room is not None and room <= 0:
            # Nothing is taken; the credentials the rule would take within its own
            # `max` are the ones the cap turned away.
            used, _, _ = self._take(met, terms.max)
            return CAP_REACHED, used, 0

        limit = terms.max
        if terms.partial and room is not None:
            limit = room if limit is None else min(limit, room)
        used, numerator, denominator = self._take(met, limit)
        # Round the sum numerator/denominator once to a multiple of the step.
        step = self.plan.step
        if self.plan.half_up:
            steps = (2 * numerator + denominator * step) // (2 * denominator * step)
        else:
            steps = numerator // (denominator * step)
        value = steps * step
        if terms.max is not None:
            value = min(value, terms.max)
        if not terms.partial and room is not None and value > room:
            return CAP_REACHED, used, 0
        if value == 0:
            return ZERO_CREDIT, used, 0
        return None, used, value if room is None else min(value, room)

    def _take(
        self, met: list[int], limit: int | None
    ) -> tuple[tuple[int, ...], int, int]:
        """Converted credits in list order, stopping once the sum reaches `limit`.

        The sum is the exact ratio numerator/denominator, in units of 1/scale.
        """
        factors = self.plan.factors
        numerator, denominator = 0, 1
        used: list[int] = []
        for index in met:
            if limit is not None and numerator >= limit * denominator:
                break
            credential = self.credentials[index]
            factor_numerator, factor_denominator = factors[credential.unit]
            credits = credential.credits
            part = credits.denominator * factor_denominator
            numerator = (
                numerator * part + credits.numerator * factor_numerator * denominator
            )
            denominator *= part
            used.append(index)
        return tuple(used), numerator, denominator

    def _grant(self, terms: RuleTerms, used: tuple[int, ...], credits: int) -> None:
        rule = terms.rule
        self.grants.append(
            Grant(
                rule=rule.id,
                course=rule.course,
                slot=rule.slot,
                credits=rule.credits
                if rule.credits is not None and credits == terms.credits
                else Fraction(credits, self.plan.scale),
                credentials=tuple([self.credentials[i].id for i in used]),
                indexes=used,
            )
        )
