"""The converter against credit-rules.md "Evaluation", one rule of the page per test."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest

from credits import REASONS, json_number, load_rule_set
from tests.credits.builders import (
    ON,
    converting,
    credential,
    document,
    fixed,
    granted,
    reasons,
    run,
)

# Step 1: the effective dates.


def test_before_effective_from_everything_is_ruleset_not_in_effect() -> None:
    result = run(
        document(fixed("R1", 3, "a")),
        [credential("c1", "a"), credential("c2", "b", revoked=True)],
        on=date(2024, 12, 31),
    )

    assert result.grants == ()
    assert result.total == 0
    assert reasons(result) == {
        "c1": "ruleset_not_in_effect",
        "c2": "ruleset_not_in_effect",
    }


def test_after_effective_until_everything_is_ruleset_not_in_effect() -> None:
    result = run(
        document(fixed("R1", 3, "a")), [credential("c1", "a")], on=date(2028, 1, 1)
    )

    assert reasons(result) == {"c1": "ruleset_not_in_effect"}


@pytest.mark.parametrize("on", [date(2025, 1, 1), date(2027, 12, 31)])
def test_effective_from_and_until_days_are_in_effect(on: date) -> None:
    result = run(
        document(fixed("R1", 3, "a")),
        [credential("c1", "a", issued="2024-06-01")],
        on=on,
    )

    assert granted(result) == [("R1", 3, ["c1"])]


def test_out_of_effect_output_writes_total_zero_and_every_index() -> None:
    result = run(
        document(fixed("R1", 3, "a")),
        [credential("c1", "a"), credential("c1", "a")],
        on=date(2030, 1, 1),
    )

    assert result.to_json() == (
        '{"grants": [], "total": 0, "refused": ['
        '{"index": 0, "credential": "c1", "reason": "ruleset_not_in_effect"}, '
        '{"index": 1, "credential": "c1", "reason": "ruleset_not_in_effect"}]}'
    )


# Step 2: per-credential checks, the first failing one is the reason.


def test_second_credential_with_an_earlier_id_is_duplicate_credential() -> None:
    result = run(
        document(fixed("R1", 3, "a"), fixed("R2", 2, "b")),
        [credential("c1", "a"), credential("c1", "b")],
    )

    assert granted(result) == [("R1", 3, ["c1"])]
    assert [(r.index, r.reason) for r in result.refused] == [
        (1, "duplicate_credential")
    ]


def test_duplicate_of_a_refused_credential_is_still_duplicate_credential() -> None:
    result = run(
        document(fixed("R1", 3, "a")),
        [credential("c1", "a", revoked=True), credential("c1", "a")],
    )

    assert [(r.index, r.reason) for r in result.refused] == [
        (0, "revoked"),
        (1, "duplicate_credential"),
    ]


def test_revoked_credential_is_refused_revoked() -> None:
    result = run(document(fixed("R1", 3, "a")), [credential("c1", "a", revoked=True)])

    assert reasons(result) == {"c1": "revoked"}


def test_day_after_expiry_is_expired() -> None:
    expires = (ON - timedelta(days=1)).isoformat()

    result = run(
        document(fixed("R1", 3, "a")), [credential("c1", "a", expires=expires)]
    )

    assert reasons(result) == {"c1": "expired"}


def test_expiry_day_itself_is_still_valid() -> None:
    result = run(
        document(fixed("R1", 3, "a")), [credential("c1", "a", expires=ON.isoformat())]
    )

    assert granted(result) == [("R1", 3, ["c1"])]


def test_issuer_not_listed_is_issuer_not_accepted() -> None:
    result = run(
        document(fixed("R1", 3, "a")),
        [credential("c1", "a", issuer="did:web:elsewhere.example")],
    )

    assert reasons(result) == {"c1": "issuer_not_accepted"}


def test_step_2_checks_run_in_order() -> None:
    result = run(
        document(fixed("R1", 3, "a")),
        [
            credential("c1", "x", issuer="did:web:elsewhere.example"),
            credential("c1", "a", revoked=True),
            credential("c2", "a", revoked=True, expires="2020-01-01"),
            credential("c3", "a", expires="2020-01-01", issuer="did:web:no.example"),
        ],
    )

    assert [r.reason for r in result.refused] == [
        "issuer_not_accepted",
        "duplicate_credential",
        "revoked",
        "expired",
    ]


# Step 3: one credential per achievement.


def test_latest_issued_of_an_achievement_is_kept() -> None:
    result = run(
        document(fixed("R1", 3, "a")),
        [
            credential("old", "a", issued="2025-01-10"),
            credential("new", "a", issued="2025-09-10"),
        ],
    )

    assert granted(result) == [("R1", 3, ["new"])]
    assert reasons(result) == {"old": "duplicate_achievement"}


def test_issued_tie_keeps_the_earliest_in_input_order() -> None:
    result = run(
        document(fixed("R1", 3, "a")),
        [
            credential("first", "a"),
            credential("second", "a"),
            credential("third", "a"),
        ],
    )

    assert granted(result) == [("R1", 3, ["first"])]
    assert reasons(result) == {
        "second": "duplicate_achievement",
        "third": "duplicate_achievement",
    }


def test_a_credential_refused_in_step_2_does_not_displace_a_kept_one() -> None:
    result = run(
        document(fixed("R1", 3, "a")),
        [
            credential("kept", "a", issued="2025-01-10"),
            credential("later", "a", issued="2025-09-10", revoked=True),
        ],
    )

    assert granted(result) == [("R1", 3, ["kept"])]
    assert reasons(result) == {"later": "revoked"}


# Step 4.


def test_achievement_no_rule_names_is_no_matching_rule() -> None:
    result = run(
        document(fixed("R1", 3, "a")), [credential("c1", "a"), credential("c2", "z")]
    )

    assert reasons(result) == {"c2": "no_matching_rule"}


# Step 5: conditions.


def test_null_level_is_level_too_low() -> None:
    result = run(
        document(fixed("R1", 3, "a", min_eqf=1)),
        [credential("c1", "a", eqf_level=None)],
    )

    assert reasons(result) == {"c1": "level_too_low"}


def test_level_below_min_eqf_is_level_too_low() -> None:
    result = run(
        document(fixed("R1", 3, "a", min_eqf=6)), [credential("c1", "a", eqf_level=5)]
    )

    assert reasons(result) == {"c1": "level_too_low"}


def test_level_equal_to_min_eqf_meets_it() -> None:
    result = run(
        document(fixed("R1", 3, "a", min_eqf=5)), [credential("c1", "a", eqf_level=5)]
    )

    assert granted(result) == [("R1", 3, ["c1"])]


def test_rule_min_eqf_overrides_the_default() -> None:
    rules = document(
        fixed("R1", 3, "a", min_eqf=3), defaults={"min_eqf": 6, "min_score": 10}
    )

    result = run(rules, [credential("c1", "a", eqf_level=4)])

    assert granted(result) == [("R1", 3, ["c1"])]


def test_default_min_eqf_applies_to_a_rule_without_one() -> None:
    rules = document(fixed("R1", 3, "a"), defaults={"min_eqf": 6})

    result = run(rules, [credential("c1", "a", eqf_level=5)])

    assert reasons(result) == {"c1": "level_too_low"}


def test_no_min_eqf_anywhere_accepts_a_null_level() -> None:
    result = run(document(fixed("R1", 3, "a")), [credential("c1", "a", eqf_level=None)])

    assert granted(result) == [("R1", 3, ["c1"])]


@pytest.mark.parametrize(
    ("on", "years", "issued", "reason"),
    [
        # Issued on the day exactly max_age_years back is recent enough.
        ("2026-03-01", 3, "2023-03-01", None),
        ("2026-03-01", 3, "2023-02-28", "too_old"),
        # 29 February counts as 28 February, in a common year...
        ("2028-02-29", 3, "2025-02-28", None),
        ("2028-02-29", 3, "2025-02-27", "too_old"),
        # ...and in a leap year as well.
        ("2028-02-29", 4, "2024-02-28", None),
        ("2028-02-29", 4, "2024-02-27", "too_old"),
        # An issue date of 29 February is an ordinary day.
        ("2027-02-28", 3, "2024-02-29", None),
        ("2027-03-01", 3, "2024-02-29", "too_old"),
    ],
)
def test_max_age_years_boundaries(
    on: str, years: int, issued: str, reason: str | None
) -> None:
    rules = document(
        fixed("R1", 3, "a", max_age_years=years),
        effective={"from": "2020-01-01", "until": "2030-12-31"},
    )

    result = run(
        rules, [credential("c1", "a", issued=issued)], on=date.fromisoformat(on)
    )

    if reason is None:
        assert granted(result) == [("R1", 3, ["c1"])]
    else:
        assert reasons(result) == {"c1": reason}


def test_unit_missing_from_conversion_is_unit_not_convertible() -> None:
    result = run(document(converting("R1", "a")), [credential("c1", "a", unit="CN_XF")])

    assert reasons(result) == {"c1": "unit_not_convertible"}


def test_fixed_rule_grants_whatever_the_unit() -> None:
    result = run(document(fixed("R1", 3, "a")), [credential("c1", "a", unit="CN_XF")])

    assert granted(result) == [("R1", 3, ["c1"])]


def test_null_score_with_score_required_is_score_missing() -> None:
    rule = fixed("R1", 3, "a")
    rule["all_of"][0]["score_required"] = True

    result = run(document(rule), [credential("c1", "a", score=None)])

    assert reasons(result) == {"c1": "score_missing"}


def test_null_score_without_score_required_passes_min_score() -> None:
    rules = document(fixed("R1", 3, "a", min_score=90))

    result = run(rules, [credential("c1", "a", score=None)])

    assert granted(result) == [("R1", 3, ["c1"])]


def test_score_equal_to_min_score_meets_it() -> None:
    result = run(
        document(fixed("R1", 3, "a", min_score="60.5")),
        [credential("c1", "a", score=60.5)],
    )

    assert granted(result) == [("R1", 3, ["c1"])]


def test_score_below_min_score_is_below_min_score() -> None:
    result = run(
        document(fixed("R1", 3, "a", min_score=60)),
        [credential("c1", "a", score="59.99")],
    )

    assert reasons(result) == {"c1": "below_min_score"}


def test_item_min_score_overrides_rule_and_default() -> None:
    rule = fixed("R1", 3, "a", min_score=90)
    rule["all_of"][0]["min_score"] = 50
    rules = document(rule, defaults={"min_score": 95})

    result = run(rules, [credential("c1", "a", score=55)])

    assert granted(result) == [("R1", 3, ["c1"])]


def test_rule_min_score_overrides_the_default() -> None:
    rules = document(fixed("R1", 3, "a", min_score=50), defaults={"min_score": 95})

    result = run(rules, [credential("c1", "a", score=55)])

    assert granted(result) == [("R1", 3, ["c1"])]


def test_default_min_score_applies() -> None:
    rules = document(fixed("R1", 3, "a"), defaults={"min_score": 95})

    result = run(rules, [credential("c1", "a", score=94)])

    assert reasons(result) == {"c1": "below_min_score"}


def test_conditions_are_checked_in_the_order_of_step_5() -> None:
    rule = converting("R1", "a", min_eqf=6, max_age_years=1, min_score=99)
    rule["any_of"][0]["score_required"] = True
    checks = [
        ({"eqf_level": 5, "issued": "2020-01-01", "unit": "X"}, "level_too_low"),
        ({"issued": "2020-01-01", "unit": "X", "score": None}, "too_old"),
        ({"unit": "X", "score": None}, "unit_not_convertible"),
        ({"score": None}, "score_missing"),
        ({"score": 1}, "below_min_score"),
    ]
    for changes, reason in checks:
        base = {"eqf_level": 6, "issued": "2026-01-01", "score": 100}
        result = run(document(rule), [credential("c1", "a", **{**base, **changes})])

        assert reasons(result) == {"c1": reason}, changes


# Step 6: bundles.


def test_all_of_with_an_item_missing_is_bundle_incomplete() -> None:
    result = run(document(fixed("R1", 4, "a", "b")), [credential("c1", "a")])

    assert result.grants == ()
    assert reasons(result) == {"c1": "bundle_incomplete"}


def test_all_of_with_an_item_failing_leaves_the_others_bundle_incomplete() -> None:
    result = run(
        document(fixed("R1", 4, "a", "b", min_score=70)),
        [credential("c1", "a", score=80), credential("c2", "b", score=60)],
    )

    assert reasons(result) == {"c1": "bundle_incomplete", "c2": "below_min_score"}


def test_any_of_short_of_min_count_is_bundle_incomplete() -> None:
    rule = {**fixed("R1", 4, "a", "b", "c"), "min_count": 2}
    rule["any_of"] = rule.pop("all_of")

    result = run(document(rule), [credential("c1", "b")])

    assert reasons(result) == {"c1": "bundle_incomplete"}


def test_fixed_any_of_uses_the_first_min_count_met_items_in_list_order() -> None:
    rule = {**fixed("R1", 4, "a", "b", "c"), "min_count": 2}
    rule["any_of"] = rule.pop("all_of")

    result = run(
        document(rule),
        [credential("cc", "c"), credential("cb", "b"), credential("ca", "a")],
    )

    assert granted(result) == [("R1", 4, ["ca", "cb"])]
    assert reasons(result) == {"cc": "not_needed"}


def test_rule_whose_course_was_granted_is_skipped() -> None:
    result = run(
        document(fixed("R1", 3, "a", course="X"), fixed("R2", 5, "b", course="X")),
        [credential("c1", "a"), credential("c2", "b")],
    )

    assert granted(result) == [("R1", 3, ["c1"])]
    assert reasons(result) == {"c2": "not_needed"}


def test_a_later_rule_for_an_ungranted_course_still_runs() -> None:
    result = run(
        document(fixed("R1", 3, "a", "z", course="X"), fixed("R2", 5, "b", course="X")),
        [credential("c1", "a"), credential("c2", "b")],
    )

    assert granted(result) == [("R2", 5, ["c2"])]
    assert reasons(result) == {"c1": "bundle_incomplete"}


def test_a_consumed_credential_is_not_used_again() -> None:
    result = run(
        document(fixed("R1", 3, "a"), converting("R2", "a", "b")),
        [credential("c1", "a", credits=4), credential("c2", "b", credits=2)],
    )

    assert granted(result) == [("R1", 3, ["c1"]), ("R2", 2, ["c2"])]
    assert result.total == 5


# Step 6: caps.


def test_no_caps_grants_everything() -> None:
    rules = document(*(fixed(f"R{n}", 40, f"a{n}") for n in range(4)))

    result = run(rules, [credential(f"c{n}", f"a{n}") for n in range(4)])

    assert result.total == 160
    assert result.refused == ()


def test_max_credits_alone_is_the_cap() -> None:
    rules = document(fixed("R1", 6, "a"), fixed("R2", 6, "b"), caps={"max_credits": 10})

    result = run(rules, [credential("c1", "a"), credential("c2", "b")])

    assert load_cap(rules) == 10
    assert granted(result) == [("R1", 6, ["c1"])]
    assert reasons(result) == {"c2": "cap_reached"}


def test_max_share_alone_is_rounded_down_to_the_step() -> None:
    rules = document(caps={"max_share": "1/3"}, rules=[fixed("R1", 1, "a")])

    assert load_cap(rules) == 33  # 100/3 floored to step 1
    stepped = {**rules, "rounding": {"mode": "half_up", "step": "0.5"}}
    assert load_cap(stepped) == Fraction(33)  # 33.33 floored to 0.5, even in half_up
    assert load_cap({**rules, "rounding": {"step": "0.25"}}) == Fraction(133, 4)


def test_both_caps_take_the_smaller() -> None:
    rules = document(fixed("R1", 1, "a"), caps={"max_credits": 30, "max_share": "1/4"})

    assert load_cap(rules) == 25
    assert load_cap({**rules, "caps": {"max_credits": 20, "max_share": "1/4"}}) == 20


def test_max_credits_is_not_rounded_to_the_step() -> None:
    rules = document(fixed("R1", 1, "a"), caps={"max_credits": "10.25"})

    assert load_cap(rules) == Fraction(41, 4)


def test_fixed_rule_over_the_cap_is_cap_reached_unless_partial() -> None:
    rules = document(fixed("R1", 6, "a"), fixed("R2", 6, "b"), caps={"max_credits": 10})
    partial = document(
        fixed("R1", 6, "a"),
        fixed("R2", 6, "b", partial=True),
        caps={"max_credits": 10},
    )
    creds = [credential("c1", "a"), credential("c2", "b")]

    assert reasons(run(rules, creds)) == {"c2": "cap_reached"}
    assert granted(run(partial, creds)) == [("R1", 6, ["c1"]), ("R2", 4, ["c2"])]


def test_fixed_rule_exactly_filling_the_cap_is_granted() -> None:
    rules = document(fixed("R1", 6, "a"), fixed("R2", 4, "b"), caps={"max_credits": 10})

    result = run(rules, [credential("c1", "a"), credential("c2", "b")])

    assert result.total == 10
    assert result.refused == ()


def test_satisfied_rule_when_the_cap_is_full_is_cap_reached() -> None:
    rules = document(
        fixed("R1", 10, "a"),
        fixed("R2", 2, "b", partial=True),
        converting("R3", "c", partial=True),
        caps={"max_credits": 10},
    )

    result = run(rules, [credential(x, x) for x in "abc"])

    assert granted(result) == [("R1", 10, ["a"])]
    assert reasons(result) == {"b": "cap_reached", "c": "cap_reached"}


def test_cap_reached_names_only_the_credentials_the_rule_would_use() -> None:
    rule = {**fixed("R2", 2, "b", "c"), "min_count": 1}
    rule["any_of"] = rule.pop("all_of")
    rules = document(fixed("R1", 10, "a"), rule, caps={"max_credits": 10})

    result = run(rules, [credential(x, x) for x in "abc"])

    assert reasons(result) == {"b": "cap_reached", "c": "not_needed"}


# Step 6: convert rules.


def test_convert_rule_grants_the_converted_sum() -> None:
    result = run(
        document(converting("R1", "a", "b")),
        [
            credential("c1", "a", credits=50, unit="HOURS"),
            credential("c2", "b", credits=3, unit="SCH"),
        ],
    )

    assert granted(result) == [("R1", 8, ["c1", "c2"])]


def test_convert_stops_taking_items_once_the_sum_reaches_max() -> None:
    rules = document(converting("R1", "a", "b", "c", max=6))

    result = run(rules, [credential(x, x, credits=4) for x in "abc"])

    assert granted(result) == [("R1", 6, ["a", "b"])]
    assert reasons(result) == {"c": "not_needed"}


def test_convert_sum_exactly_at_the_limit_takes_no_more() -> None:
    rules = document(converting("R1", "a", "b", "c", max=8))

    result = run(rules, [credential(x, x, credits=4) for x in "abc"])

    assert granted(result) == [("R1", 8, ["a", "b"])]
    assert reasons(result) == {"c": "not_needed"}


def test_partial_convert_limit_is_the_room_under_the_cap() -> None:
    rules = document(
        fixed("R1", 7, "a"),
        converting("R2", "b", "c", "d", max=10, partial=True),
        caps={"max_credits": 10},
    )

    result = run(
        rules,
        [credential("a", "a")] + [credential(x, x, credits=2) for x in "bcd"],
    )

    # L = min(10, 10 - 7) = 3: b (2) then c (4 >= 3), d is never taken.
    assert granted(result) == [("R1", 7, ["a"]), ("R2", 3, ["b", "c"])]
    assert reasons(result) == {"d": "not_needed"}


def test_non_partial_convert_over_the_cap_is_cap_reached() -> None:
    rules = document(
        fixed("R1", 7, "a"),
        converting("R2", "b", "c"),
        caps={"max_credits": 10},
    )

    result = run(rules, [credential("a", "a"), credential("b", "b", credits=4)])

    assert granted(result) == [("R1", 7, ["a"])]
    assert reasons(result) == {"b": "cap_reached"}


def test_non_partial_convert_that_fits_is_granted_in_full() -> None:
    rules = document(
        fixed("R1", 7, "a"), converting("R2", "b"), caps={"max_credits": 10}
    )

    result = run(rules, [credential("a", "a"), credential("b", "b", credits=3)])

    assert granted(result) == [("R1", 7, ["a"]), ("R2", 3, ["b"])]


def test_convert_rounding_to_zero_is_zero_credit() -> None:
    result = run(
        document(converting("R1", "a")),
        [credential("c1", "a", credits=20, unit="HOURS")],
    )

    assert result.grants == ()
    assert reasons(result) == {"c1": "zero_credit"}


def test_rounding_happens_once_after_summing() -> None:
    rules = document(converting("R1", "a", "b"), rounding={"step": "0.5"})

    result = run(
        rules,
        [credential(x, x, credits="0.3") for x in "ab"],
    )

    # 0.3 + 0.3 = 0.6 -> 0.5; rounding each item would give 0.
    assert granted(result) == [("R1", Fraction(1, 2), ["a", "b"])]


@pytest.mark.parametrize(("mode", "expected"), [("floor", 5), ("half_up", 6)])
def test_exact_tie_at_one_half_step(mode: str, expected: int) -> None:
    rules = document(converting("R1", "a", "b", "c"), rounding={"mode": mode})

    result = run(
        rules,
        [
            credential("a", "a", credits="0.5", unit="QCH"),  # 1/3
            credential("b", "b", credits=7, unit="QCH"),  # 14/3
            credential("c", "c", credits="0.5"),  # 1/2
        ],
    )

    # 1/3 + 14/3 + 1/2 is exactly 5.5.
    assert granted(result) == [("R1", expected, ["a", "b", "c"])]


def test_half_up_just_below_the_tie_rounds_down() -> None:
    rules = document(converting("R1", "a"), rounding={"mode": "half_up"})

    result = run(rules, [credential("a", "a", credits="5.4999999999")])

    assert granted(result) == [("R1", 5, ["a"])]


def test_rounded_value_is_capped_by_max() -> None:
    rules = document(
        converting("R1", "a", max="2.2"), rounding={"mode": "half_up", "step": "0.5"}
    )

    result = run(rules, [credential("a", "a", credits="2.4")])

    assert granted(result) == [("R1", Fraction(11, 5), ["a"])]
    assert result.to_json().count('"credits": 2.2') == 1


# Step 7: one reason per refused credential, from the first rule naming it.


def test_reason_comes_from_the_first_rule_naming_the_achievement() -> None:
    rules = document(
        fixed("R1", 3, "a", "b"),
        fixed("R2", 3, "a", min_eqf=8),
    )
    reversed_rules = document(
        fixed("R2", 3, "a", min_eqf=8),
        fixed("R1", 3, "a", "b"),
    )
    creds = [credential("c1", "a")]

    assert reasons(run(rules, creds)) == {"c1": "bundle_incomplete"}
    assert reasons(run(reversed_rules, creds)) == {"c1": "level_too_low"}


def test_met_but_unused_credential_of_a_granting_rule_is_not_needed() -> None:
    rules = document(converting("R1", "a", "b", max=5))

    result = run(rules, [credential("a", "a"), credential("b", "b")])

    assert granted(result) == [("R1", 5, ["a"])]
    assert reasons(result) == {"b": "not_needed"}


# One smallest evaluation per reason: the table must cover them all.
_ONE_OF_EACH = {
    "ruleset_not_in_effect": (fixed("R1", 3, "a"), {}, {}, date(2030, 1, 1)),
    "duplicate_credential": (fixed("R1", 3, "a"), {}, {"id": "c0"}, ON),
    "revoked": (fixed("R1", 3, "a"), {}, {"revoked": True}, ON),
    "expired": (fixed("R1", 3, "a"), {}, {"expires": "2026-01-01"}, ON),
    "issuer_not_accepted": (fixed("R1", 3, "a"), {}, {"issuer": "did:web:x"}, ON),
    "duplicate_achievement": (fixed("R1", 3, "a"), {}, {"achievement": "a"}, ON),
    "no_matching_rule": (fixed("R1", 3, "a"), {}, {"achievement": "z"}, ON),
    "level_too_low": (fixed("R1", 3, "a", "b", min_eqf=6), {}, {}, ON),
    "too_old": (fixed("R1", 3, "a", "b", max_age_years=1), {}, {}, ON),
    "unit_not_convertible": (converting("R1", "a", "b"), {}, {"unit": "X"}, ON),
    "score_missing": (
        fixed("R1", 3, "a", "b", min_score=1),
        {"score_required": True},
        {},
        ON,
    ),
    "below_min_score": (fixed("R1", 3, "a", "b", min_score=1), {}, {"score": 0}, ON),
    "bundle_incomplete": (fixed("R1", 3, "b", "m"), {}, {}, ON),
    "not_needed": (fixed("R1", 3, "a", course="X"), {}, {}, ON),
    "cap_reached": (fixed("R1", 300, "a", "b"), {}, {}, ON),
    "zero_credit": (converting("R1", "b"), {}, {"credits": 0}, ON),
}


@pytest.mark.parametrize("reason", REASONS)
def test_every_refusal_reason_has_a_smallest_case(reason: str) -> None:
    rule, item_changes, changes, on = _ONE_OF_EACH[reason]
    items = rule.get("all_of") or rule["any_of"]
    items[-1].update(item_changes)
    later = fixed("R9", 1, "b", course="X") if reason == "not_needed" else None
    rules = document(rule, *([later] if later else []), caps={"max_credits": 100})

    result = run(
        rules,
        [
            credential("c0", "a", issued="2026-01-01", eqf_level=5),
            credential("c1", "b", **{"issued": "2024-01-01", "score": None, **changes}),
        ],
        on=on,
    )

    assert result.refused[-1].index == 1
    assert result.refused[-1].reason == reason


# Output.


def test_output_lists_grants_in_rule_order_and_refusals_in_input_order() -> None:
    rules = document(fixed("R1", 3, "a"), converting("R2", "b", "c"))

    result = run(
        rules,
        [
            credential("cc", "c", credits="1.25"),
            credential("x", "z"),
            credential("cb", "b", credits=5),
            credential("ca", "a"),
            credential("r", "a", revoked=True),
        ],
    )

    assert result.to_json() == (
        '{"grants": ['
        '{"rule": "R1", "course": "C-R1", "slot": "required", "credits": 3, '
        '"credentials": ["ca"]}, '
        '{"rule": "R2", "course": "C-R2", "slot": "elective", "credits": 6, '
        '"credentials": ["cb", "cc"]}], '
        '"total": 9, "refused": ['
        '{"index": 1, "credential": "x", "reason": "no_matching_rule"}, '
        '{"index": 4, "credential": "r", "reason": "revoked"}]}'
    )
    assert [grant.indexes for grant in result.grants] == [(3,), (2, 0)]


def test_output_escapes_text_to_ascii() -> None:
    result = run(document(fixed("R1", 3, "a")), [credential('学分"1', "a")])

    assert '"credentials": ["\\u5b66\\u5206\\"1"]' in result.to_json()
    assert result.to_json().isascii()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Fraction(0), "0"),
        (Fraction(3), "3"),
        (Fraction(1, 2), "0.5"),
        (Fraction(25, 4), "6.25"),
        (Fraction(1, 80), "0.0125"),
        (Fraction(1001, 1000), "1.001"),
        (Fraction(-3, 4), "-0.75"),
        (Fraction(1, 3), '"1/3"'),
        (Fraction(20, 3), '"20/3"'),
    ],
)
def test_json_number_is_exact(value: Fraction, written: str) -> None:
    assert json_number(value) == written


def test_value_with_no_finite_decimal_is_written_as_a_fraction_string() -> None:
    rules = document(converting("R1", "a"), rounding={"step": "1/3"})

    result = run(rules, [credential("a", "a", credits="0.4")])

    assert result.total == Fraction(1, 3)
    assert '"credits": "1/3"' in result.to_json()
    assert '"total": "1/3"' in result.to_json()


def load_cap(rules: dict[str, Any]) -> Fraction | None:
    return load_rule_set(rules).cap
