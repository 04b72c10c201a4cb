"""Properties of every evaluation, over generated rule sets and credentials."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from credits import (
    REASONS,
    NormalisedCredential,
    RuleSet,
    evaluate,
    load_rule_set,
    read_credential,
)
from tests.credits.builders import BASE, ISSUER

ACHIEVEMENTS = ["a", "b", "c", "d", "e"]
NUMBERS = st.sampled_from([0, 1, 2, 3, "0.5", "1/3", "2.25", "7/4", 5, 10])
POSITIVE = st.sampled_from([1, 2, 3, "0.5", "1/3", "2.25", "7/4", 5, 10])
DAYS = st.dates(min_value=date(2019, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    number = draw(st.integers(0, 99))
    chosen = draw(
        st.lists(st.sampled_from(ACHIEVEMENTS), min_size=1, max_size=4, unique=True)
    )
    items: list[dict[str, Any]] = []
    for achievement in chosen:
        item: dict[str, Any] = {"achievement": achievement}
        if draw(st.booleans()):
            item["min_score"] = draw(st.sampled_from([0, 50, 70, "82.5"]))
        if draw(st.booleans()):
            item["score_required"] = draw(st.booleans())
        items.append(item)
    rule: dict[str, Any] = {
        "id": f"R{number}",
        "target": {"course": draw(st.sampled_from(["X", "Y", "Z", f"C{number}"])),
                   "slot": "required"},
        "partial": draw(st.booleans()),
    }  # fmt: skip
    if draw(st.booleans()):
        rule["convert"] = True
        if draw(st.booleans()):
            rule["max"] = draw(POSITIVE)
    else:
        rule["credits"] = draw(POSITIVE)
    if draw(st.booleans()):
        rule["all_of"] = items
    else:
        rule["any_of"] = items
        rule["min_count"] = draw(st.integers(1, len(items)))
    for key, values in (
        ("min_eqf", st.integers(1, 8)),
        ("max_age_years", st.integers(1, 6)),
        ("min_score", st.sampled_from([0, 40, 60])),
    ):
        if draw(st.booleans()):
            rule[key] = draw(values)
    return rule


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    document = dict(BASE)
    listed = draw(st.lists(rules(), min_size=1, max_size=6))
    document["rules"] = list({rule["id"]: rule for rule in listed}.values())
    document["rounding"] = {
        "mode": draw(st.sampled_from(["floor", "half_up"])),
        "step": draw(st.sampled_from(["1", "0.5", "0.25", "1/3"])),
    }
    caps: dict[str, Any] = {}
    if draw(st.booleans()):
        caps["max_credits"] = draw(NUMBERS)
    if draw(st.booleans()):
        caps["max_share"] = draw(st.sampled_from([0, "0.05", "1/8", "1/3", 1]))
    document["caps"] = caps
    if draw(st.booleans()):
        document["defaults"] = {"min_score": 50, "max_age_years": 4, "min_eqf": 3}
    return load_rule_set(document)


@st.composite
def credentials(draw: st.DrawFn) -> NormalisedCredential:
    issued = draw(DAYS)
    expires = draw(st.none() | st.integers(-400, 2000).map(timedelta))
    return read_credential(
        {
            "id": draw(st.sampled_from(["c0", "c1", "c2", "c3", "c4", "c5", "c6"])),
            "achievement": draw(st.sampled_from([*ACHIEVEMENTS, "zz"])),
            "issuer": draw(st.sampled_from([ISSUER, ISSUER, "did:web:other"])),
            "credits": draw(NUMBERS),
            "unit": draw(st.sampled_from(["ECTS", "HOURS", "QCH", "SCH", "CN_XF"])),
            "eqf_level": draw(st.none() | st.integers(1, 8)),
            "issued": issued.isoformat(),
            "expires": None if expires is None else (issued + expires).isoformat(),
            "revoked": draw(st.booleans()),
            "score": draw(st.none() | st.sampled_from([0, 49, 50, 60, "82.5", 100])),
        }
    )


CASE = given(
    rule_sets(),
    st.lists(credentials(), max_size=12),
    st.dates(min_value=date(2024, 12, 25), max_value=date(2028, 1, 5)),
)


@settings(max_examples=150, deadline=None)
@CASE
def test_every_input_is_used_once_or_refused_once(
    rule_set: RuleSet, listed: list[NormalisedCredential], on: date
) -> None:
    result = evaluate(rule_set, listed, on)

    used = [index for grant in result.grants for index in grant.indexes]
    refused = [refusal.index for refusal in result.refused]
    assert sorted(used + refused) == list(range(len(listed)))
    assert not set(used) & set(refused)
    assert all(refusal.reason in REASONS for refusal in result.refused)
    assert refused == sorted(refused)


@settings(max_examples=150, deadline=None)
@CASE
def test_total_is_the_sum_of_grants_and_within_the_cap(
    rule_set: RuleSet, listed: list[NormalisedCredential], on: date
) -> None:
    result = evaluate(rule_set, listed, on)

    assert result.total == sum(grant.credits for grant in result.grants)
    assert all(grant.credits > 0 for grant in result.grants)
    if rule_set.cap is not None:
        assert result.total <= rule_set.cap
    courses = [grant.course for grant in result.grants]
    assert len(courses) == len(set(courses))


@settings(max_examples=100, deadline=None)
@CASE
def test_output_is_deterministic(
    rule_set: RuleSet, listed: list[NormalisedCredential], on: date
) -> None:
    first = evaluate(rule_set, listed, on).to_json()

    assert evaluate(rule_set, list(listed), on).to_json() == first
    written_out = load_rule_set(_document_of(rule_set))
    assert written_out == rule_set
    assert evaluate(written_out, listed, on).to_json() == first


def _document_of(rule_set: RuleSet) -> dict[str, Any]:
    """The rule set written back out, its numbers as fraction strings."""

    def number(value: Any) -> Any:
        return None if value is None else f"{value.numerator}/{value.denominator}"

    def drop_none(members: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in members.items() if value is not None}

    return {
        "format": "credit-rules/v1",
        "id": rule_set.id,
        "school": rule_set.school,
        "program": drop_none(
            {
                "code": rule_set.program.code,
                "name": rule_set.program.name,
                "total_credits": number(rule_set.program.total_credits),
            }
        ),
        "target_unit": rule_set.target_unit,
        "effective": {
            "from": rule_set.effective.first_day,
            "until": rule_set.effective.last_day,
        },
        "accepted_issuers": sorted(rule_set.accepted_issuers),
        "conversion": {unit: number(f) for unit, f in rule_set.conversion.items()},
        "rounding": {
            "mode": rule_set.rounding.mode,
            "step": number(rule_set.rounding.step),
        },
        "caps": drop_none(
            {
                "max_credits": number(rule_set.caps.max_credits),
                "max_share": number(rule_set.caps.max_share),
            }
        ),
        "defaults": drop_none(
            {
                "min_score": number(rule_set.defaults.min_score),
                "max_age_years": rule_set.defaults.max_age_years,
                "min_eqf": rule_set.defaults.min_eqf,
            }
        ),
        "rules": [
            drop_none(
                {
                    "id": rule.id,
                    "target": {"course": rule.course, "slot": rule.slot},
                    "credits": number(rule.credits),
                    "convert": True if rule.convert else None,
                    "max": number(rule.max),
                    "partial": rule.partial,
                    "min_eqf": rule.min_eqf,
                    "max_age_years": rule.max_age_years,
                    "min_score": number(rule.min_score),
                    "all_of" if rule.all_of else "any_of": [
                        drop_none(
                            {
                                "achievement": item.achievement,
                                "min_score": number(item.min_score),
                                "score_required": item.score_required,
                            }
                        )
                        for item in rule.items
                    ],
                    "min_count": None if rule.all_of else rule.min_count,
                }
            )
            for rule in rule_set.rules
        ],
    }
