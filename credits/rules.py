"""Rule sets in the `credit-rules/v1` format (credit-rules.md "The rule set").

`load_rule_set` reads YAML, JSON or an already parsed mapping and checks every field;
the result is a tree of frozen dataclasses whose numbers are exact fractions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from math import lcm
from types import MappingProxyType
from typing import Any, Literal

from credits._fields import (
    Fields,
    boolean,
    day,
    exact,
    integer,
    items,
    join,
    load_yaml_or_json,
    shown,
    text,
)
from credits.errors import RuleSetError

__all__ = [
    "FORMAT",
    "Caps",
    "Conditions",
    "Defaults",
    "Effective",
    "Item",
    "ItemTerms",
    "Plan",
    "Program",
    "Rounding",
    "Rule",
    "RuleSet",
    "RuleTerms",
    "load_rule_set",
    "round_to_step",
]

FORMAT = "credit-rules/v1"
RoundingMode = Literal["floor", "half_up"]
FLOOR: RoundingMode = "floor"
HALF_UP: RoundingMode = "half_up"
ROUNDING_MODES: tuple[RoundingMode, ...] = (FLOOR, HALF_UP)
EQF_LOWEST, EQF_HIGHEST = 1, 8
# A century is far beyond any credential's useful life; the bound only keeps the
# date arithmetic of `too_old` inside the calendar.
MAX_AGE_YEARS = 100


@dataclass(frozen=True, slots=True)
class Program:
    code: str
    name: str | None
    total_credits: Fraction


@dataclass(frozen=True, slots=True)
class Effective:
    """The inclusive dates between which the rule set grants anything."""

    first_day: date
    last_day: date

    def covers(self, on: date) -> bool:
        return self.first_day <= on <= self.last_day


@dataclass(frozen=True, slots=True)
class Rounding:
    mode: RoundingMode = FLOOR
    step: Fraction = Fraction(1)


@dataclass(frozen=True, slots=True)
class Caps:
    max_credits: Fraction | None = None
    max_share: Fraction | None = None


@dataclass(frozen=True, slots=True)
class Defaults:
    min_score: Fraction | None = None
    max_age_years: int | None = None
    min_eqf: int | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One achievement a rule asks for, with its own score conditions."""

    achievement: str
    min_score: Fraction | None = None
    score_required: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule; `credits` is None exactly when `convert` is true.

    `all_of` rules have `min_count` equal to the number of items, so that "satisfied"
    is always "at least `min_count` items met".
    """

    id: str
    course: str
    slot: str
    credits: Fraction | None
    convert: bool
    max: Fraction | None
    partial: bool
    min_eqf: int | None
    max_age_years: int | None
    min_score: Fraction | None
    all_of: bool
    items: tuple[Item, ...]
    min_count: int


@dataclass(frozen=True, slots=True)
class Conditions:
    """A rule's step 5 conditions with the defaults applied (None: no such condition).

    `min_scores` has one entry per item: the item's own, else the rule's, else the
    default.
    """

    min_eqf: int | None
    max_age_years: int | None
    min_scores: tuple[Fraction | None, ...]


@dataclass(frozen=True, slots=True)
class ItemTerms:
    """One item of a rule as step 5 checks it, the default score applied.

    `min_score` is the threshold as a numerator and a denominator, which the
    converter compares by cross-multiplying. `first` says that this rule is the
    first to name the achievement: step 7 takes a refused credential's reason from
    that rule.
    """

    achievement: str
    min_score: tuple[int, int] | None  # numerator, denominator
    score_required: bool
    first: bool


@dataclass(frozen=True, slots=True)
class RuleTerms:
    """One rule as evaluation reads it: defaults applied, credits in whole units.

    `credits` (0 for a convert rule) and `max` count units of 1/`Plan.scale`.
    """

    rule: Rule
    number: int
    course: str
    convert: bool
    partial: bool
    min_count: int
    credits: int
    max: int | None
    min_eqf: int | None
    max_age_years: int | None
    items: tuple[ItemTerms, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """What evaluation reads of a rule set, worked out once, in integers.

    Every figure step 6 adds or compares (the cap, fixed credits, maxima, the
    rounding step, and so every grant and total) is a whole number of 1/`scale`
    target units: `scale` is the least common multiple of their denominators.
    A converted credit is the exact ratio `credits.numerator * factors[unit][0]`
    over `credits.denominator * factors[unit][1]` in those units. `first_naming`
    maps each achievement to the terms of the first rule naming it and its item.
    """

    scale: int
    cap: int | None
    step: int
    half_up: bool
    factors: Mapping[str, tuple[int, int]]
    rules: tuple[RuleTerms, ...]
    first_naming: Mapping[str, tuple[RuleTerms, ItemTerms]]
    ages: frozenset[int]


@dataclass(frozen=True)
class RuleSet:
    """A checked rule set, and what evaluation reads of it, worked out once.

    `cap` is the programme cap C of step 6 (None: no cap); `naming` maps each
    achievement to the numbers of the rules naming it, in rule order; `conditions`
    holds each rule's `Conditions`; `plan` is all of it in the integer form the
    converter runs on.
    """

    id: str
    school: str
    program: Program
    target_unit: str
    effective: Effective
    accepted_issuers: frozenset[str]
    conversion: Mapping[str, Fraction] = field(hash=False)
    rounding: Rounding
    caps: Caps
    defaults: Defaults
    rules: tuple[Rule, ...]
    cap: Fraction | None = field(init=False, compare=False)
    naming: Mapping[str, tuple[int, ...]] = field(
        init=False, compare=False, hash=False, repr=False
    )
    conditions: tuple[Conditions, ...] = field(
        init=False, compare=False, hash=False, repr=False
    )
    plan: Plan = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "conversion", MappingProxyType(dict(self.conversion)))
        object.__setattr__(self, "cap", _programme_cap(self))
        naming: dict[str, list[int]] = {}
        for number, rule in enumerate(self.rules):
            for item in rule.items:
                naming.setdefault(item.achievement, []).append(number)
        object.__setattr__(
            self,
            "naming",
            MappingProxyType({key: tuple(value) for key, value in naming.items()}),
        )
        object.__setattr__(
            self,
            "conditions",
            tuple(_conditions(rule, self.defaults) for rule in self.rules),
        )
        object.__setattr__(self, "plan", _plan(self))


def load_rule_set(source: str | bytes | Mapping[str, Any]) -> RuleSet:
    """Read and check a rule set given as YAML or JSON text, or already parsed.

    Raises:
        RuleSetError: naming the first field that breaks credit-rules.md.
    """
    document = (
        source
        if isinstance(source, Mapping)
        else load_yaml_or_json(source, RuleSetError)
    )
    return _rule_set(document)


def round_to_step(value: Fraction, rounding: Rounding) -> Fraction:
    """Round once to a multiple of the step (credit-rules.md step 6).

    floor: ⌊s/step⌋ * step; half_up: ⌊s/step + 1/2⌋ * step.
    """
    step = rounding.step
    # value / step as a fraction n/d, in integers (it runs once per convert rule).
    n = value.numerator * step.denominator
    d = value.denominator * step.numerator
    steps = (2 * n + d) // (2 * d) if rounding.mode == HALF_UP else n // d
    return steps * step


def _rule_set(document: object) -> RuleSet:
    fields = Fields(document, "", RuleSetError)

    found = fields.required("format")
    if found != FORMAT:
        raise RuleSetError("format", f"expected {FORMAT!r}, got {shown(found)}")
    rule_set = RuleSet(
        id=text(fields.required("id"), "id", RuleSetError),
        school=text(fields.required("school"), "school", RuleSetError),
        program=_program(fields.required("program")),
        target_unit=text(fields.required("target_unit"), "target_unit", RuleSetError),
        effective=_effective(fields.required("effective")),
        accepted_issuers=_issuers(fields.required("accepted_issuers")),
        conversion=_conversion(fields.required("conversion")),
        rounding=_rounding(fields.optional("rounding")),
        caps=_caps(fields.optional("caps")),
        defaults=_defaults(fields.optional("defaults")),
        rules=_rules(fields.required("rules")),
    )
    fields.finish()
    return rule_set


def _program(value: object) -> Program:
    fields = Fields(value, "program", RuleSetError)
    name = fields.optional("name")
    program = Program(
        code=text(fields.required("code"), fields.path("code"), RuleSetError),
        name=None if name is None else text(name, fields.path("name"), RuleSetError),
        total_credits=exact(
            fields.required("total_credits"),
            fields.path("total_credits"),
            RuleSetError,
            expected="a positive number",
            above_low=True,
        ),
    )
    fields.finish()
    return program


def _effective(value: object) -> Effective:
    fields = Fields(value, "effective", RuleSetError)
    first = day(fields.required("from"), fields.path("from"), RuleSetError)
    last = day(fields.required("until"), fields.path("until"), RuleSetError)
    fields.finish()
    if last < first:
        raise RuleSetError(
            "effective.until",
            f"expected a date on or after {first.isoformat()}, got {last.isoformat()}",
        )
    return Effective(first, last)


def _issuers(value: object) -> frozenset[str]:
    listed = items(value, "accepted_issuers", RuleSetError, empty=True)
    return frozenset(
        text(issuer, join("accepted_issuers", number), RuleSetError)
        for number, issuer in enumerate(listed)
    )


def _conversion(value: object) -> dict[str, Fraction]:
    fields = Fields(value, "conversion", RuleSetError)
    conversion = {
        text(unit, "conversion", RuleSetError): exact(
            fields.required(unit),
            fields.path(unit),
            RuleSetError,
            expected='a positive number or fraction such as "1/45"',
            above_low=True,
        )
        for unit in fields.names()
    }
    fields.finish()
    return conversion


def _rounding(value: object) -> Rounding:
    if value is None:
        return Rounding()
    fields = Fields(value, "rounding", RuleSetError)
    mode = fields.optional("mode")
    if mode is not None and mode not in ROUNDING_MODES:
        raise RuleSetError(
            "rounding.mode", f"expected floor or half_up, got {shown(mode)}"
        )
    step = fields.optional("step")
    rounding = Rounding(
        mode=FLOOR if mode is None else mode,
        step=Fraction(1)
        if step is None
        else exact(
            step,
            fields.path("step"),
            RuleSetError,
            expected="a positive number",
            above_low=True,
        ),
    )
    fields.finish()
    return rounding


def _caps(value: object) -> Caps:
    if value is None:
        return Caps()
    fields = Fields(value, "caps", RuleSetError)
    most, share = fields.optional("max_credits"), fields.optional("max_share")
    caps = Caps(
        max_credits=None
        if most is None
        else exact(
            most,
            fields.path("max_credits"),
            RuleSetError,
            expected="a number of at least 0",
        ),
        max_share=None
        if share is None
        else exact(
            share,
            fields.path("max_share"),
            RuleSetError,
            expected="a share 0-1",
            high=1,
        ),
    )
    fields.finish()
    return caps


def _defaults(value: object) -> Defaults:
    if value is None:
        return Defaults()
    fields = Fields(value, "defaults", RuleSetError)
    defaults = Defaults(*_thresholds(fields))
    fields.finish()
    return defaults


def _thresholds(fields: Fields) -> tuple[Fraction | None, int | None, int | None]:
    """min_score, max_age_years and min_eqf, each optional (defaults or a rule)."""
    score, age, level = (
        fields.optional("min_score"),
        fields.optional("max_age_years"),
        fields.optional("min_eqf"),
    )
    return (
        None if score is None else _score(score, fields.path("min_score")),
        None
        if age is None
        else integer(age, fields.path("max_age_years"), RuleSetError, 1, MAX_AGE_YEARS),
        None
        if level is None
        else integer(
            level, fields.path("min_eqf"), RuleSetError, EQF_LOWEST, EQF_HIGHEST
        ),
    )


def _score(value: object, path: str) -> Fraction:
    return exact(value, path, RuleSetError, expected="a number 0-100", high=100)


def _rules(value: object) -> tuple[Rule, ...]:
    listed = items(value, "rules", RuleSetError)
    rules: list[Rule] = []
    seen: set[str] = set()
    for number, entry in enumerate(listed):
        rule = _rule(entry, join("rules", number))
        if rule.id in seen:
            raise RuleSetError(
                join(join("rules", number), "id"),
                f"expected a rule id not used before, got {shown(rule.id)}",
            )
        seen.add(rule.id)
        rules.append(rule)
    return tuple(rules)


def _rule(value: object, path: str) -> Rule:
    fields = Fields(value, path, RuleSetError)
    rule_id = text(fields.required("id"), fields.path("id"), RuleSetError)
    course, slot = _target(fields.required("target"), fields.path("target"))
    credits, convert, most = _grant(fields, path)
    partial = fields.optional("partial")
    min_score, max_age_years, min_eqf = _thresholds(fields)
    all_of, listed, min_count = _bundle(fields, path)
    fields.finish()
    return Rule(
        id=rule_id,
        course=course,
        slot=slot,
        credits=credits,
        convert=convert,
        max=most,
        partial=False
        if partial is None
        else boolean(partial, fields.path("partial"), RuleSetError),
        min_eqf=min_eqf,
        max_age_years=max_age_years,
        min_score=min_score,
        all_of=all_of,
        items=listed,
        min_count=min_count,
    )


def _target(value: object, path: str) -> tuple[str, str]:
    fields = Fields(value, path, RuleSetError)
    course = text(fields.required("course"), fields.path("course"), RuleSetError)
    slot = text(fields.required("slot"), fields.path("slot"), RuleSetError)
    fields.finish()
    return course, slot


def _grant(fields: Fields, path: str) -> tuple[Fraction | None, bool, Fraction | None]:
    """`credits: N` or `convert: true` (with an optional `max`), never both."""
    credits, convert, most = (
        fields.optional("credits"),
        fields.optional("convert"),
        fields.optional("max"),
    )
    if credits is not None and convert is not None:
        raise RuleSetError(path, "expected credits or convert, got both")
    if credits is not None:
        if most is not None:
            raise RuleSetError(fields.path("max"), "expected only in a convert rule")
        return (
            exact(
                credits,
                fields.path("credits"),
                RuleSetError,
                expected="a positive number",
                above_low=True,
            ),
            False,
            None,
        )
    if convert is None:
        raise RuleSetError(path, "expected credits or convert, got neither")
    if convert is not True:
        raise RuleSetError(
            fields.path("convert"), f"expected true, got {shown(convert)}"
        )
    if most is None:
        return None, True, None
    return (
        None,
        True,
        exact(
            most,
            fields.path("max"),
            RuleSetError,
            expected="a positive number",
            above_low=True,
        ),
    )


def _bundle(fields: Fields, path: str) -> tuple[bool, tuple[Item, ...], int]:
    """`all_of: [items]` or `any_of: [items]` with `min_count`, exactly one of them."""
    all_of, any_of = fields.optional("all_of"), fields.optional("any_of")
    min_count = fields.optional("min_count")
    if all_of is not None and any_of is not None:
        raise RuleSetError(path, "expected all_of or any_of, got both")
    if all_of is None and any_of is None:
        raise RuleSetError(path, "expected all_of or any_of, got neither")
    key = "all_of" if all_of is not None else "any_of"
    listed = _items(all_of if all_of is not None else any_of, fields.path(key))
    if all_of is not None:
        if min_count is not None:
            raise RuleSetError(fields.path("min_count"), "expected only with any_of")
        return True, listed, len(listed)
    count = (
        1
        if min_count is None
        else integer(min_count, fields.path("min_count"), RuleSetError, 1, len(listed))
    )
    return False, listed, count


def _items(value: object, path: str) -> tuple[Item, ...]:
    listed: list[Item] = []
    for number, entry in enumerate(items(value, path, RuleSetError)):
        item_path = join(path, number)
        fields = Fields(entry, item_path, RuleSetError)
        achievement = text(
            fields.required("achievement"), fields.path("achievement"), RuleSetError
        )
        if any(earlier.achievement == achievement for earlier in listed):
            raise RuleSetError(
                fields.path("achievement"),
                f"expected an achievement not listed before in this rule, "
                f"got {shown(achievement)}",
            )
        score, required = (
            fields.optional("min_score"),
            fields.optional("score_required"),
        )
        listed.append(
            Item(
                achievement=achievement,
                min_score=None
                if score is None
                else _score(score, fields.path("min_score")),
                score_required=False
                if required is None
                else boolean(required, fields.path("score_required"), RuleSetError),
            )
        )
        fields.finish()
    return tuple(listed)


def _conditions(rule: Rule, defaults: Defaults) -> Conditions:
    def first(*values: Any) -> Any:
        return next((value for value in values if value is not None), None)

    return Conditions(
        min_eqf=first(rule.min_eqf, defaults.min_eqf),
        max_age_years=first(rule.max_age_years, defaults.max_age_years),
        min_scores=tuple(
            first(item.min_score, rule.min_score, defaults.min_score)
            for item in rule.items
        ),
    )


def _programme_cap(rule_set: RuleSet) -> Fraction | None:
    # NOTE: "the smaller of max_credits and max_share x total_credits rounded down
    # to the rounding step": the rounding belongs to the share's product, which is
    # the figure that can fall between steps; max_credits is taken as written.
    caps = rule_set.caps
    candidates: list[Fraction] = []
    if caps.max_credits is not None:
        candidates.append(caps.max_credits)
    if caps.max_share is not None:
        share = caps.max_share * rule_set.program.total_credits
        candidates.append(round_to_step(share, Rounding(FLOOR, rule_set.rounding.step)))
    return min(candidates) if candidates else None


def _plan(rule_set: RuleSet) -> Plan:
    step = rule_set.rounding.step
    figures = [step]
    if rule_set.cap is not None:
        figures.append(rule_set.cap)
    for rule in rule_set.rules:
        figures.extend(value for value in (rule.credits, rule.max) if value is not None)
    scale = lcm(*(figure.denominator for figure in figures))

    def whole(value: Fraction) -> int:
        # Exact: scale is a multiple of the value's denominator.
        return value.numerator * (scale // value.denominator)

    first_naming: dict[str, tuple[RuleTerms, ItemTerms]] = {}
    rules: list[RuleTerms] = []
    for number, (rule, conditions) in enumerate(
        zip(rule_set.rules, rule_set.conditions, strict=True)
    ):
        checks = tuple(
            ItemTerms(
                achievement=item.achievement,
                min_score=None
                if min_score is None
                else (min_score.numerator, min_score.denominator),
                score_required=item.score_required,
                # A rule names an achievement once (see `_items`).
                first=item.achievement not in first_naming,
            )
            for item, min_score in zip(rule.items, conditions.min_scores, strict=True)
        )
        terms = RuleTerms(
            rule=rule,
            number=number,
            course=rule.course,
            convert=rule.convert,
            partial=rule.partial,
            min_count=rule.min_count,
            credits=0 if rule.credits is None else whole(rule.credits),
            max=None if rule.max is None else whole(rule.max),
            min_eqf=conditions.min_eqf,
            max_age_years=conditions.max_age_years,
            items=checks,
        )
        for check in checks:
            if check.first:
                first_naming[check.achievement] = (terms, check)
        rules.append(terms)

    return Plan(
        scale=scale,
        cap=None if rule_set.cap is None else whole(rule_set.cap),
        step=whole(step),
        half_up=rule_set.rounding.mode == HALF_UP,
        factors=MappingProxyType(
            {
                unit: (factor.numerator * scale, factor.denominator)
                for unit, factor in rule_set.conversion.items()
            }
        ),
        rules=tuple(rules),
        first_naming=MappingProxyType(first_naming),
        ages=frozenset(
            terms.max_age_years for terms in rules if terms.max_age_years is not None
        ),
    )
