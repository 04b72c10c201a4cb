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
from credits.rules import Rule, RuleSet, round_to_step

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
        grants = ", ".join(
            f'{{"rule": {_string(grant.rule)}, "course": {_string(grant.course)}, '
            f'"slot": {_string(grant.slot)}, "credits": {json_number(grant.credits)}, '
            f'"credentials": [{", ".join(map(_string, grant.credentials))}]}}'
            for grant in self.grants
        )
        refused = ", ".join(
            f'{{"index": {index}, "credential": {_string(credential)}, '
            f'"reason": "{reason}"}}'
            for index, credential, reason in self.refused
        )
        return (
            f'{{"grants": [{grants}], "total": {json_number(self.total)}, '
            f'"refused": [{refused}]}}'
        )


def evaluate(
    rule_set: RuleSet, credentials: Sequence[NormalisedCredential], on: date
) -> Evaluation:
    """Decide which courses `credentials` earn under `rule_set` on the day `on`."""
    # Step 1: outside its effective dates the rule set grants nothing.
    if not rule_set.effective.covers(on):
        return Evaluation(
            (),
            _ZERO,
            tuple(
                Refusal(index, credential.id, RULESET_NOT_IN_EFFECT)
                for index, credential in enumerate(credentials)
            ),
        )

    reasons: dict[int, str] = {}
    passed = _check_each(rule_set, credentials, on, reasons)
    kept = _keep_latest(credentials, passed, reasons)
    # Step 4.
    for achievement, index in list(kept.items()):
        if achievement not in rule_set.naming:
            reasons[index] = NO_MATCHING_RULE
            del kept[achievement]

    run = _Run(rule_set, credentials, on, kept)
    run.grant_in_order()
    run.explain_refusals(reasons)

    return Evaluation(
        tuple(run.grants),
        run.total,
        tuple(
            Refusal(index, credential.id, reasons[index])
            for index, credential in enumerate(credentials)
            if index in reasons
        ),
    )


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


def _check_each(
    rule_set: RuleSet,
    credentials: Sequence[NormalisedCredential],
    on: date,
    reasons: dict[int, str],
) -> list[int]:
    """Step 2: the first failing check of each credential, in input order."""
    passed: list[int] = []
    seen: set[str] = set()
    accepted = rule_set.accepted_issuers
    for index, credential in enumerate(credentials):
        if credential.id in seen:
            reasons[index] = DUPLICATE_CREDENTIAL
        elif credential.revoked:
            reasons[index] = REVOKED
        elif credential.expires is not None and on > credential.expires:
            # The expiry day itself is still valid.
            reasons[index] = EXPIRED
        elif credential.issuer not in accepted:
            reasons[index] = ISSUER_NOT_ACCEPTED
        else:
            passed.append(index)
        seen.add(credential.id)
    return passed


def _keep_latest(
    credentials: Sequence[NormalisedCredential],
    passed: list[int],
    reasons: dict[int, str],
) -> dict[str, int]:
    """Step 3: one credential per achievement, the latest issued, ties to the first."""
    kept: dict[str, int] = {}
    for index in passed:
        achievement = credentials[index].achievement
        holder = kept.get(achievement)
        if holder is None:
            kept[achievement] = index
        elif credentials[index].issued > credentials[holder].issued:
            reasons[holder] = DUPLICATE_ACHIEVEMENT
            kept[achievement] = index
        else:
            reasons[index] = DUPLICATE_ACHIEVEMENT
    return kept


def _is_less(left: Fraction, right: Fraction) -> bool:
    # The comparison Fraction.__lt__ makes, without its generic dispatch.
    return left.numerator * right.denominator < right.numerator * left.denominator


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
    """Steps 5-7 for one evaluation: the rules in order, then each refusal's reason."""

    def __init__(
        self,
        rule_set: RuleSet,
        credentials: Sequence[NormalisedCredential],
        on: date,
        kept: dict[str, int],
    ) -> None:
        self.rule_set = rule_set
        self.credentials = credentials
        self.on = on
        self.kept = kept
        self.consumed: set[int] = set()
        self.grants: list[Grant] = []
        self.total = _ZERO
        # Per rule: what became of it, and the credentials it used or would have used.
        self.outcomes: list[tuple[str, tuple[int, ...]]] = []
        self._cutoffs: dict[int, date] = {}
        self._failures: dict[tuple[int, int], str | None] = {}
        self._converted: dict[int, Fraction] = {}

    def failed_condition(self, index: int, number: int, position: int) -> str | None:
        """Step 5: the first condition of rule `number` and its item at `position`
        that credential `index` fails, or None."""
        key = (index, number)
        if key in self._failures:
            return self._failures[key]
        credential = self.credentials[index]
        rule = self.rule_set.rules[number]
        conditions = self.rule_set.conditions[number]
        reason: str | None = None
        min_eqf = conditions.min_eqf
        years = conditions.max_age_years
        threshold = conditions.min_scores[position]
        score = credential.score
        if min_eqf is not None and (
            credential.eqf_level is None or credential.eqf_level < min_eqf
        ):
            reason = LEVEL_TOO_LOW
        elif years is not None and credential.issued < self._cutoff(years):
            reason = TOO_OLD
        elif rule.convert and credential.unit not in self.rule_set.conversion:
            reason = UNIT_NOT_CONVERTIBLE
        elif score is None:
            reason = SCORE_MISSING if rule.items[position].score_required else None
        elif threshold is not None and _is_less(score, threshold):
            reason = BELOW_MIN_SCORE
        self._failures[key] = reason
        return reason

    def grant_in_order(self) -> None:
        """Step 6: each rule in order, on what earlier grants left."""
        cap = self.rule_set.cap
        granted_courses: set[str] = set()
        for number, rule in enumerate(self.rule_set.rules):
            if rule.course in granted_courses:
                self.outcomes.append((_SKIPPED, ()))
                continue
            met = self._met(number, rule)
            if len(met) < rule.min_count:
                self.outcomes.append((_UNSATISFIED, ()))
                continue

            room = None if cap is None else cap - self.total
            if rule.convert:
                reason, used, credits = self._convert(rule, met, room)
            else:
                reason, used, credits = self._fixed(rule, met, room)
            if reason is not None:
                self.outcomes.append((reason, used))
                continue

            self.outcomes.append((_GRANTED, used))
            self.grants.append(
                Grant(
                    rule=rule.id,
                    course=rule.course,
                    slot=rule.slot,
                    credits=credits,
                    credentials=tuple(self.credentials[i].id for i in used),
                    indexes=used,
                )
            )
            self.total += credits
            self.consumed.update(used)
            granted_courses.add(rule.course)

    def explain_refusals(self, reasons: dict[int, str]) -> None:
        """Step 7: why each kept credential that no grant consumed is refused."""
        rules = self.rule_set.rules
        for achievement, index in self.kept.items():
            if index in self.consumed:
                continue
            first = self.rule_set.naming[achievement][0]
            position = next(
                position
                for position, item in enumerate(rules[first].items)
                if item.achievement == achievement
            )
            reason = self.failed_condition(index, first, position)
            if reason is None:
                state, used = self.outcomes[first]
                if state == _UNSATISFIED:
                    reason = BUNDLE_INCOMPLETE
                elif state in (CAP_REACHED, ZERO_CREDIT) and index in used:
                    reason = state
                else:
                    reason = NOT_NEEDED
            reasons[index] = reason

    def _met(self, number: int, rule: Rule) -> list[int]:
        """The kept, unconsumed credentials meeting the rule's items, in item order."""
        met: list[int] = []
        for position, item in enumerate(rule.items):
            index = self.kept.get(item.achievement)
            if index is None or index in self.consumed:
                continue
            if self.failed_condition(index, number, position) is None:
                met.append(index)
        return met

    def _fixed(
        self, rule: Rule, met: list[int], room: Fraction | None
    ) -> tuple[str | None, tuple[int, ...], Fraction]:
        # all_of uses every item; any_of the first min_count met, in list order.
        used = tuple(met[: rule.min_count])
        credits = rule.credits
        assert credits is not None
        if room is not None and room <= 0:
            return CAP_REACHED, used, _ZERO
        if room is None or credits <= room:
            return None, used, credits
        if rule.partial:
            return None, used, room
        return CAP_REACHED, used, _ZERO

    def _convert(
        self, rule: Rule, met: list[int], room: Fraction | None
    ) -> tuple[str | None, tuple[int, ...], Fraction]:
        if room is not None and room <= 0:
            # Nothing is taken; the credentials the rule would take within its own
            # `max` are the ones the cap turned away.
            used, _ = self._take(met, rule.max)
            return CAP_REACHED, used, _ZERO

        limit = rule.max
        if rule.partial and room is not None:
            limit = room if limit is None else min(limit, room)
        used, total = self._take(met, limit)
        value = round_to_step(total, self.rule_set.rounding)
        if rule.max is not None:
            value = min(value, rule.max)
        if not rule.partial and room is not None and value > room:
            return CAP_REACHED, used, _ZERO
        if value == 0:
            return ZERO_CREDIT, used, _ZERO
        return None, used, value if room is None else min(value, room)

    def _take(
        self, met: list[int], limit: Fraction | None
    ) -> tuple[tuple[int, ...], Fraction]:
        """Converted credits in list order, stopping once the sum reaches `limit`."""
        conversion = self.rule_set.conversion
        total = _ZERO
        used: list[int] = []
        for index in met:
            if limit is not None and total >= limit:
                break
            converted = self._converted.get(index)
            if converted is None:
                credential = self.credentials[index]
                converted = credential.credits * conversion[credential.unit]
                self._converted[index] = converted
            total += converted
            used.append(index)
        return tuple(used), total

    def _cutoff(self, years: int) -> date:
        cutoff = self._cutoffs.get(years)
        if cutoff is None:
            cutoff = self._cutoffs[years] = _oldest_recent_enough(self.on, years)
        return cutoff
