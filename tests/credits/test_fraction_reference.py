"""The converter's integer arithmetic against a plain Fraction reference.

`evaluate` counts credits in whole units of 1/scale (credits.rules.Plan) and
precomputes what it can per rule set. `_reference` below is credit-rules.md
"Evaluation" read literally, one step after another, with `Fraction` everywhere
and nothing precomputed; both must write the same bytes for any input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credits import (
    NormalisedCredential,
    RuleSet,
    evaluate,
    json_number,
    load_credentials,
    load_rule_set,
)
from tests.credits.builders import BASE, ISSUER, ON
from tests.credits.test_properties import credentials, rule_sets
from tests.credits.test_vectors import CASES


@settings(max_examples=400, deadline=None)
@given(
    rule_sets(),
    st.lists(credentials(), max_size=14),
    st.dates(min_value=date(2024, 12, 25), max_value=date(2028, 3, 1)),
)
def test_output_matches_the_fraction_reference(
    rule_set: RuleSet, listed: list[NormalisedCredential], on: date
) -> None:
    assert evaluate(rule_set, listed, on).to_json() == _reference(rule_set, listed, on)


@st.composite
def crowded_convert_rules(draw: st.DrawFn) -> tuple[RuleSet, list[Any]]:
    """Convert rules over the same few achievements and credentials that all pass
    steps 2-5: sums land on `max`, on the room under the cap and on the step's
    halfway points, where an off-by-one in integer arithmetic would show."""
    achievements = ["a", "b", "c", "d"]
    rules = []
    for number in range(draw(st.integers(1, 4))):
        rule: dict[str, Any] = {
            "id": f"R{number}",
            "target": {"course": f"C{number}", "slot": "elective"},
            "convert": True,
            "partial": draw(st.booleans()),
            "any_of": [
                {"achievement": achievement}
                for achievement in draw(st.permutations(achievements))
            ],
        }
        if draw(st.booleans()):
            rule["max"] = draw(st.sampled_from([1, 2, 3, "0.5", "5/2"]))
        rules.append(rule)
    document = dict(BASE) | {
        "rules": rules,
        "rounding": {
            "mode": draw(st.sampled_from(["floor", "half_up"])),
            "step": draw(st.sampled_from(["1", "0.5", "1/3"])),
        },
        "caps": {"max_credits": draw(st.sampled_from([0, 1, 2, "2.5", 4, 6]))},
    }
    listed = [
        {
            "id": f"c{number}",
            "achievement": achievement,
            "issuer": ISSUER,
            "credits": draw(st.sampled_from([0, "0.25", "0.5", 1, "1.5", 2])),
            "unit": draw(st.sampled_from(["ECTS", "SCH", "QCH", "HOURS"])),
            "eqf_level": 5,
            "issued": "2025-06-01",
            "expires": None,
            "revoked": False,
            "score": None,
        }
        for number, achievement in enumerate(achievements)
    ]
    return load_rule_set(document), listed


@settings(max_examples=300, deadline=None)
@given(crowded_convert_rules())
def test_convert_boundaries_match_the_fraction_reference(
    case: tuple[RuleSet, list[Any]],
) -> None:
    rule_set, documents = case
    listed = list(load_credentials(documents))

    assert evaluate(rule_set, listed, ON).to_json() == _reference(rule_set, listed, ON)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_reference_writes_the_worked_cases(case: dict[str, Any]) -> None:
    # The reference is only as good as its reading of the page: it must give
    # the worked cases byte for byte too.
    output = _reference(
        load_rule_set(case["ruleset"]),
        load_credentials(json.dumps(case["credentials"])),
        date.fromisoformat(case["evaluation_date"]),
    )

    assert output == json.dumps(case["expected"])


def _reference(
    rule_set: RuleSet, listed: Sequence[NormalisedCredential], on: date
) -> str:
    reasons: dict[int, str] = {}
    grants: list[tuple[str, str, str, Fraction, list[int]]] = []
    total = Fraction(0)

    if not rule_set.effective.first_day <= on <= rule_set.effective.last_day:
        reasons = dict.fromkeys(range(len(listed)), "ruleset_not_in_effect")
        return _document(listed, grants, total, reasons)

    # Step 2.
    passed: list[int] = []
    for index, credential in enumerate(listed):
        if any(earlier.id == credential.id for earlier in listed[:index]):
            reasons[index] = "duplicate_credential"
        elif credential.revoked:
            reasons[index] = "revoked"
        elif credential.expires is not None and on > credential.expires:
            reasons[index] = "expired"
        elif credential.issuer not in rule_set.accepted_issuers:
            reasons[index] = "issuer_not_accepted"
        else:
            passed.append(index)

    # Step 3: the latest issued; on a tie the earliest in input order.
    kept: dict[str, int] = {}
    for index in passed:
        achievement = listed[index].achievement
        rivals = [i for i in passed if listed[i].achievement == achievement]
        latest = max(listed[i].issued for i in rivals)
        chosen = min(i for i in rivals if listed[i].issued == latest)
        if index == chosen:
            kept[achievement] = index
        else:
            reasons[index] = "duplicate_achievement"

    # Step 4.
    named = {item.achievement for rule in rule_set.rules for item in rule.items}
    for achievement, index in list(kept.items()):
        if achievement not in named:
            reasons[index] = "no_matching_rule"
            del kept[achievement]

    def failure(index: int, number: int, position: int) -> str | None:
        credential, rule = listed[index], rule_set.rules[number]
        item, defaults = rule.items[position], rule_set.defaults
        min_eqf = rule.min_eqf if rule.min_eqf is not None else defaults.min_eqf
        years = (
            rule.max_age_years
            if rule.max_age_years is not None
            else defaults.max_age_years
        )
        scores = [item.min_score, rule.min_score, defaults.min_score]
        min_score = next((score for score in scores if score is not None), None)
        if min_eqf is not None and (
            credential.eqf_level is None or credential.eqf_level < min_eqf
        ):
            return "level_too_low"
        if years is not None:
            day = 28 if (on.month, on.day) == (2, 29) else on.day
            if credential.issued < date(on.year - years, on.month, day):
                return "too_old"
        if rule.convert and credential.unit not in rule_set.conversion:
            return "unit_not_convertible"
        if credential.score is None:
            return "score_missing" if item.score_required else None
        if min_score is not None and credential.score < min_score:
            return "below_min_score"
        return None

    def rounded(value: Fraction) -> Fraction:
        step = rule_set.rounding.step
        if rule_set.rounding.mode == "half_up":
            return int(value / step + Fraction(1, 2)) * step
        return int(value / step) * step

    # Step 6.
    cap = rule_set.cap
    consumed: set[int] = set()
    outcomes: list[tuple[str, list[int]]] = []
    for number, rule in enumerate(rule_set.rules):
        if any(grant[1] == rule.course for grant in grants):
            outcomes.append(("skipped", []))
            continue
        met = [
            kept[item.achievement]
            for position, item in enumerate(rule.items)
            if item.achievement in kept
            and kept[item.achievement] not in consumed
            and failure(kept[item.achievement], number, position) is None
        ]
        if len(met) < rule.min_count:
            outcomes.append(("unsatisfied", []))
            continue
        room = None if cap is None else cap - total
        state, used, credits = "granted", met[: rule.min_count], Fraction(0)
        if not rule.convert:
            assert rule.credits is not None
            if room is not None and room == 0:
                state = "cap_reached"
            elif room is None or rule.credits <= room:
                credits = rule.credits
            elif rule.partial:
                credits = room
            else:
                state = "cap_reached"
        else:
            limits = [rule.max, room if rule.partial else None]
            if room == 0:
                limits = [rule.max]
            limit = min((value for value in limits if value is not None), default=None)
            used, running = [], Fraction(0)
            for index in met:
                if limit is not None and running >= limit:
                    break
                credential = listed[index]
                running += credential.credits * rule_set.conversion[credential.unit]
                used.append(index)
            value = rounded(running)
            if rule.max is not None:
                value = min(value, rule.max)
            over = room is not None and not rule.partial and value > room
            if room == 0 or over:
                state = "cap_reached"
            elif value == 0:
                state = "zero_credit"
            else:
                credits = value if room is None else min(value, room)
        outcomes.append((state, used))
        if state == "granted":
            grants.append((rule.id, rule.course, rule.slot, credits, used))
            total += credits
            consumed.update(used)

    # Step 7.
    for achievement, index in kept.items():
        if index in consumed:
            continue
        number = next(
            number
            for number, rule in enumerate(rule_set.rules)
            if any(item.achievement == achievement for item in rule.items)
        )
        position = next(
            position
            for position, item in enumerate(rule_set.rules[number].items)
            if item.achievement == achievement
        )
        reason = failure(index, number, position)
        if reason is None:
            state, used = outcomes[number]
            if state == "unsatisfied":
                reason = "bundle_incomplete"
            elif state in ("cap_reached", "zero_credit") and index in used:
                reason = state
            else:
                reason = "not_needed"
        reasons[index] = reason

    return _document(listed, grants, total, reasons)


def _document(
    listed: Sequence[NormalisedCredential],
    grants: list[tuple[str, str, str, Fraction, list[int]]],
    total: Fraction,
    reasons: dict[int, str],
) -> str:
    quoted = json.dumps
    written_grants = [
        f'{{"rule": {quoted(rule)}, "course": {quoted(course)}, '
        f'"slot": {quoted(slot)}, "credits": {json_number(credits)}, '
        f'"credentials": [{", ".join(quoted(listed[i].id) for i in used)}]}}'
        for rule, course, slot, credits, used in grants
    ]
    written_refusals = [
        f'{{"index": {index}, "credential": {quoted(listed[index].id)}, '
        f'"reason": "{reasons[index]}"}}'
        for index in sorted(reasons)
    ]
    return (
        f'{{"grants": [{", ".join(written_grants)}], '
        f'"total": {json_number(total)}, '
        f'"refused": [{", ".join(written_refusals)}]}}'
    )
