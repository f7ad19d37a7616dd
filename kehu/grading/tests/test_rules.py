"""The grading rules, without the database (STYLE rule 14)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.grading import rules

ALL = dict.fromkeys(rules.JUDGEMENTS, True)


def grade(**judgements: bool) -> str:
    return rules.intent_grade(judgements)[0]


def test_all_six_is_a_and_says_so() -> None:
    assert rules.intent_grade(ALL) == (
        "A",
        {"rule": "all_six", "met": list(rules.JUDGEMENTS), "missing": [], "allowances": []},
    )
    assert rules.describe_intent(rules.intent_grade(ALL)[1]) == "A: all six judgements hold."


def test_b_needs_the_core_and_a_chosen_unit() -> None:
    assert grade(product=True, price=True, payment=True, chosen_unit=True) == "B"
    assert grade(product=True, price=True, payment=True, chosen_unit=True, attention=True) == "B"
    explanation = rules.intent_grade(
        {"product": True, "price": True, "payment": True, "chosen_unit": True}
    )[1]
    assert explanation == {
        "rule": "core_and_chosen_unit",
        "met": ["product", "price", "payment", "chosen_unit"],
        "missing": ["attention", "decision_makers"],
        "allowances": [],
    }
    assert rules.describe_intent(explanation) == (
        "B: product, price and payment accepted, and a unit chosen; missing: "
        "Visited or called 2-3+ times; All decision makers have visited and agree."
    )


def test_the_b_allowances_stand_in_for_price_and_payment_but_never_make_an_a() -> None:
    five = {**ALL, "price": False}
    assert grade(**five) == "D"
    assert grade(**five, price_resistance=True) == "B"
    assert grade(**{**ALL, "payment": False}, deferred_down_payment=True) == "B"
    both = {**ALL, "price": False, "payment": False}
    assert rules.intent_grade({**both, "price_resistance": True, "deferred_down_payment": True})[1][
        "allowances"
    ] == ["price_resistance", "deferred_down_payment"]
    # An allowance on a judgement that holds is not used.
    assert rules.intent_grade({**ALL, "price_resistance": True})[1]["allowances"] == []


def test_c_is_the_core_without_a_chosen_unit() -> None:
    assert grade(product=True, price=True, payment=True) == "C"
    assert grade(product=True, price=True, payment=True, attention=True) == "C"
    text = rules.describe_intent(
        rules.intent_grade({"product": True, "price": True, "payment": True})[1]
    )
    assert text.startswith("C: product, price and payment accepted, but no unit chosen")


def test_d_names_what_was_not_accepted() -> None:
    explanation = rules.intent_grade({"product": True, "chosen_unit": True})[1]
    assert explanation["rule"] == "core_not_accepted"
    assert rules.describe_intent(explanation) == "D: not accepted: Accepts the price; Can pay."


@given(st.fixed_dictionaries({k: st.booleans() for k in (*rules.JUDGEMENTS, *rules.ALLOWANCES)}))
def test_intent_grade_properties(judgements: dict[str, bool]) -> None:
    result, explanation = rules.intent_grade(judgements)
    assert result in "ABCD"
    assert sorted(explanation["met"] + explanation["missing"]) == sorted(rules.JUDGEMENTS)
    assert (result == "A") == all(judgements[k] for k in rules.JUDGEMENTS)
    if not judgements["product"]:
        assert result == "D"
    if result in "BC":
        assert not judgements["chosen_unit"] or result == "B"
    # Accepting more never lowers the grade.
    for key in rules.JUDGEMENTS:
        better = rules.intent_grade({**judgements, key: True})[0]
        assert better <= result
    assert rules.describe_intent(explanation)


# --- value grades -----------------------------------------------------------------------


def record(pk: int, s0: int, s1: int = 0, s2: int = 0, agent: bool = False) -> rules.SalesRecord:
    sales = (Decimal(s0), Decimal(s1), Decimal(s2))
    return rules.SalesRecord(pk, agent, sales, has_purchases=any(sales))


def test_top_share_is_rounded_up_and_counts_only_buyers() -> None:
    assert rules.top_count(0, 20) == 0
    assert rules.top_count(1, 20) == 1
    assert rules.top_count(5, 20) == 1
    assert rules.top_count(6, 20) == 2
    assert rules.top_threshold([Decimal(0), Decimal(5), Decimal(9), Decimal(1)], 20) == 9
    assert rules.top_threshold([Decimal(0)], 20) is None
    assert rules.top_threshold([Decimal(3)], 0) is None


def test_value_grades_a_b_c() -> None:
    records = [
        record(1, 1000),  # top of 6 buyers (2 are A)
        record(2, 900),
        record(3, 121, 110, 100),  # grew 10% twice
        record(4, 120, 110, 100),  # 9.09% this year: C
        record(5, 0, 0, 0, agent=True),  # an agent without sales
        record(6, 50),
        record(7, 10, 10, 0),
        rules.SalesRecord(8, False, (Decimal(0), Decimal(0), Decimal(0)), has_purchases=False),
    ]
    grades = {pk: g for pk, (g, _e) in rules.value_grades(records).items()}
    assert grades == {1: "A", 2: "A", 3: "B", 4: "C", 5: "A", 6: "C", 7: "C", 8: ""}
    explanation = rules.value_grades(records)[3][1]
    assert explanation == {
        "rule": "growth",
        "sales": [Decimal(121), Decimal(110), Decimal(100)],
        "threshold": Decimal(900),
        "top_share": 20,
        "growth": 10,
    }
    assert rules.describe_value(explanation) == (
        "B: sales grew at least 10% in each of the last two years (100 → 110 → 121)."
    )
    assert rules.describe_value(rules.value_grades(records)[1][1]) == (
        "A: this year's sales 1,000 are in the top 20% (at least 900)."
    )
    assert rules.describe_value(rules.value_grades(records)[5][1]) == "A: an agent."


def test_exactly_ten_percent_is_growth() -> None:
    assert rules.grew(Decimal("110"), Decimal("100"), 10)
    assert not rules.grew(Decimal("109.99"), Decimal("100"), 10)
    assert not rules.grew(Decimal("5"), Decimal("0"), 10)


def test_sales_windows_are_three_trailing_years() -> None:
    today = datetime.date(2026, 11, 25)
    assert rules.sales_windows(today) == [
        (datetime.date(2025, 11, 25), today),
        (datetime.date(2024, 11, 25), datetime.date(2025, 11, 25)),
        (datetime.date(2023, 11, 26), datetime.date(2024, 11, 25)),
    ]


# --- referral ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factors", "expected", "rule"),
    [
        ((4, 4, 4), "A", "all_high"),
        ((5, 5, 3), "B", "middle"),
        ((5, 5, 2), "C", "unwilling"),
        ((2, 3, 3), "C", "low_total"),
        ((3, 3, 3), "B", "middle"),
    ],
)
def test_referral_grade(factors: tuple[int, int, int], expected: str, rule: str) -> None:
    result, explanation = rules.referral_grade(*factors)
    assert (result, explanation["rule"]) == (expected, rule)
    assert rules.describe_referral(explanation).startswith(f"{expected}:")


@pytest.mark.parametrize("bad", [0, 6, True, "3", 2.5])
def test_referral_factors_are_whole_numbers_from_1_to_5(bad: object) -> None:
    with pytest.raises(ValueError, match="willingness"):
        rules.referral_grade(3, 3, bad)  # type: ignore[arg-type]


def test_key_customer_helpers() -> None:
    assert rules.week_start(datetime.date(2026, 11, 29)) == datetime.date(2026, 11, 23)
    horizons = {"H": 7, "A": 15, "B": 30, "C": 90}
    assert rules.expected_by(datetime.date(2026, 11, 25), "H", horizons) == datetime.date(
        2026, 12, 2
    )
    assert rules.required_submissions(3, 1) == 1
    assert rules.required_submissions(3, 10) == 3
    assert rules.rate(1, 3) == 33.3
    assert rules.rate(0, 0) is None
