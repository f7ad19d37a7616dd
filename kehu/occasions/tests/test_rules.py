"""The pure rules of occasions (no database)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lunar_python import Lunar

from kehu.occasions import rules

D = datetime.date


def test_add_months_clamps_to_the_month_end():
    assert rules.add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert rules.add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert rules.add_months(D(2026, 11, 15), 2) == D(2027, 1, 15)
    assert rules.add_months(D(2026, 5, 1), 36) == D(2029, 5, 1)


def test_a_29_february_birthday_falls_on_28_february_in_a_common_year():
    assert rules.solar_occurrences(D(1992, 2, 29), D(2026, 1, 1), D(2028, 12, 31)) == [
        D(2026, 2, 28),
        D(2027, 2, 28),
        D(2028, 2, 29),
    ]


def test_a_lunar_birthday_lands_on_its_solar_day_each_year():
    mid_autumn = {"month": 8, "day": 15, "is_leap": False}
    assert rules.lunar_occurrences(mid_autumn, D(2026, 1, 1), D(2027, 12, 31)) == [
        D(2026, 9, 25),
        D(2027, 9, 15),
    ]


def test_a_twelfth_month_birthday_of_the_lunar_year_before_lands_in_january():
    laba = {"month": 12, "day": 8, "is_leap": False}
    solar = Lunar.fromYmd(2025, 12, 8).getSolar()
    assert (solar.getYear(), solar.getMonth()) == (2026, 1)
    next_one = Lunar.fromYmd(2026, 12, 8).getSolar()
    assert next_one.getYear() == 2027
    assert rules.lunar_occurrences(laba, D(2026, 1, 1), D(2026, 12, 31)) == [
        D(2026, 1, solar.getDay())
    ]


def test_a_leap_month_birthday_keeps_its_leap_month_when_the_year_has_it():
    # 2025 has a leap 6th month (闰六月); 2026 has none
    leap6 = {"month": 6, "day": 10, "is_leap": True}
    solar = Lunar.fromYmd(2025, -6, 10).getSolar()
    assert rules.lunar_occurrences(leap6, D(2025, 1, 1), D(2025, 12, 31)) == [
        D(solar.getYear(), solar.getMonth(), solar.getDay())
    ]
    ordinary = Lunar.fromYmd(2026, 6, 10).getSolar()
    assert rules.lunar_occurrences(leap6, D(2026, 1, 1), D(2026, 12, 31)) == [
        D(ordinary.getYear(), ordinary.getMonth(), ordinary.getDay())
    ]


def test_a_30th_in_a_29_day_month_falls_on_the_29th():
    # find a month of 2026 with 29 days and check the 30th falls on its 29th
    from lunar_python import LunarMonth

    month = next(m for m in range(1, 13) if LunarMonth.fromYm(2026, m).getDayCount() == 29)
    thirtieth = {"month": month, "day": 30, "is_leap": False}
    solar = Lunar.fromYmd(2026, month, 29).getSolar()
    expected = D(solar.getYear(), solar.getMonth(), solar.getDay())
    assert expected in rules.lunar_occurrences(thirtieth, D(2026, 1, 1), D(2027, 12, 31))


@given(
    st.integers(1, 12),
    st.integers(1, 30),
    st.booleans(),
    st.integers(1950, 2090),
)
def test_a_lunar_date_occurs_once_or_twice_a_solar_year(month, day, is_leap, year):
    dates = rules.lunar_occurrences(
        {"month": month, "day": day, "is_leap": is_leap}, D(year, 1, 1), D(year, 12, 31)
    )
    assert 0 <= len(dates) <= 2
    assert all(d.year == year for d in dates)


def test_occurrences_prefer_the_lunar_date():
    lunar = {"month": 8, "day": 15, "is_leap": False}
    assert rules.occurrences(D(1980, 3, 1), lunar, D(2026, 1, 1), D(2026, 12, 31)) == (
        [D(2026, 9, 25)],
        True,
    )
    assert rules.occurrences(D(1980, 3, 1), None, D(2026, 1, 1), D(2026, 12, 31)) == (
        [D(2026, 3, 1)],
        False,
    )
    assert rules.occurrences(None, None, D(2026, 1, 1), D(2026, 12, 31)) == ([], False)


@pytest.mark.parametrize(
    ("lunar", "label"),
    [
        ({"month": 8, "day": 15}, "八月十五"),
        ({"month": 1, "day": 1}, "正月初一"),
        ({"month": 12, "day": 30}, "腊月三十"),
        ({"month": 4, "day": 10, "is_leap": True}, "闰四月初十"),
        ({"month": 11, "day": 20}, "冬月二十"),
        ({"month": 5, "day": 21}, "五月廿一"),
    ],
)
def test_lunar_label(lunar, label):
    assert rules.lunar_label(lunar) == label


def test_product_matches():
    assert rules.product_matches("宝马 X3 2.0T", "")
    assert rules.product_matches("宝马 X3 2.0T", "奔驰, 宝马")
    assert rules.product_matches("BMW x3", "bmw")
    assert rules.product_matches("宝马", "奔驰，宝马")
    assert not rules.product_matches("理财产品", "宝马,奔驰")


def test_mileage_becomes_months_at_the_assumed_rate():
    assert rules.first_due_months(None, 5000, 1250) == 4
    assert rules.first_due_months(None, 5001, 1250) == 5
    assert rules.first_due_months(6, 5000, 1250) == 4
    assert rules.first_due_months(6, 50000, 1250) == 6
    with pytest.raises(ValueError):
        rules.first_due_months(None, None, 1250)


def test_callbacks_at_36_48_60_months():
    assert rules.due_dates(
        D(2020, 5, 10),
        months_after=36,
        km_after=None,
        km_per_month=1250,
        repeat_months=12,
        occurrences=3,
        until=D(2030, 1, 1),
    ) == [(1, D(2023, 5, 10)), (2, D(2024, 5, 10)), (3, D(2025, 5, 10))]


def test_repeats_stop_at_the_horizon():
    assert rules.due_dates(
        D(2026, 1, 31),
        months_after=12,
        km_after=None,
        km_per_month=1250,
        repeat_months=12,
        occurrences=None,
        until=D(2028, 6, 1),
    ) == [(1, D(2027, 1, 31)), (2, D(2028, 1, 31))]
    assert (
        rules.due_dates(
            D(2026, 1, 1),
            months_after=1,
            km_after=None,
            km_per_month=1250,
            repeat_months=None,
            occurrences=None,
            until=D(2026, 1, 15),
        )
        == []
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 30), st.booleans(), st.integers(1902, 2098))
def test_the_fast_conversion_agrees_with_the_archive_rule(month, day, is_leap, year):
    from kehu.customers.lunar import solar_day

    lunar = {"month": month, "day": day, "is_leap": is_leap}
    assert rules._lunar_in_year(month, day, is_leap, year) == solar_day(lunar, year)


# --- mileage readings -----------------------------------------------------------------------

FIRST_SERVICE = {"months_after": 6, "km_after": 5000, "km_per_month": 1250}


def test_without_a_reading_the_assumed_rate_applies_as_before():
    bought = D(2026, 1, 15)
    assert rules.first_due_on(bought, **FIRST_SERVICE) == D(2026, 5, 15)
    assert rules.first_due_on(bought, **FIRST_SERVICE, reading=None) == D(2026, 5, 15)
    # A reading does nothing to a rule counted in months only.
    assert rules.due_dates(
        bought,
        months_after=36,
        km_after=None,
        km_per_month=1250,
        repeat_months=12,
        occurrences=2,
        until=D(2030, 2, 1),
        reading=(90000, D(2026, 3, 1)),
    ) == [(1, D(2029, 1, 15)), (2, D(2030, 1, 15))]


def test_a_reading_showing_fast_driving_brings_the_service_forward():
    bought = D(2026, 1, 1)
    # 3,000 km in the first 31 days: 5,000 km after 31 * 5000 / 3000 = 51.67 → 52 days.
    assert rules.first_due_on(bought, **FIRST_SERVICE, reading=(3000, D(2026, 2, 1))) == D(
        2026, 2, 22
    )


def test_a_reading_showing_slow_driving_defers_to_the_months():
    bought = D(2026, 1, 1)
    # 500 km in 59 days: 5,000 km would take 590 days, so the 6 months come first.
    assert rules.first_due_on(bought, **FIRST_SERVICE, reading=(500, D(2026, 3, 1))) == D(
        2026, 7, 1
    )
    # A rule in kilometres only waits for the observed rate.
    assert rules.first_due_on(
        bought, months_after=None, km_after=5000, km_per_month=1250, reading=(500, D(2026, 3, 1))
    ) == D(2026, 1, 1) + datetime.timedelta(days=590)


def test_a_reading_already_past_the_mark_is_due_on_the_reading_date():
    bought = D(2026, 1, 1)
    assert rules.first_due_on(bought, **FIRST_SERVICE, reading=(5000, D(2026, 2, 10))) == D(
        2026, 2, 10
    )
    assert rules.first_due_on(bought, **FIRST_SERVICE, reading=(9000, D(2026, 3, 10))) == D(
        2026, 3, 10
    )


def test_an_early_reading_is_averaged_over_at_least_a_month():
    bought = D(2026, 1, 1)
    # 1,000 km on the day after delivery: counted over 30 days, 5,000 km at day 150.
    assert rules.km_due_on(bought, 5000, 1000, D(2026, 1, 2)) == D(2026, 5, 31)
    # On the day of the purchase itself: the same floor, no division by zero.
    assert rules.km_due_on(bought, 5000, 1000, bought) == D(2026, 5, 31)


def test_a_reading_of_zero_km_keeps_the_assumed_rate():
    bought = D(2026, 1, 1)
    assert rules.km_due_on(bought, 5000, 0, D(2026, 3, 1)) is None
    assert rules.first_due_on(bought, **FIRST_SERVICE, reading=(0, D(2026, 3, 1))) == D(2026, 5, 1)


def test_repeats_count_from_the_first_date_when_a_reading_sets_it():
    assert rules.due_dates(
        D(2026, 1, 1),
        months_after=12,
        km_after=15000,
        km_per_month=1250,
        repeat_months=12,
        occurrences=None,
        until=D(2028, 6, 1),
        reading=(6000, D(2026, 3, 2)),  # 60 days: 15,000 km after 150 days
    ) == [(1, D(2026, 5, 31)), (2, D(2027, 5, 31)), (3, D(2028, 5, 31))]


readings = st.tuples(
    st.dates(D(2000, 1, 1), D(2040, 12, 31)),
    st.integers(0, 3000),  # days from the purchase to the reading
    st.integers(0, 400_000),  # km
    st.integers(1, 200_000),  # km_after
    st.one_of(st.none(), st.integers(0, 240)),  # months_after
    st.integers(1, 50_000),  # km_per_month
)


@settings(max_examples=300, deadline=None)
@given(readings)
def test_reading_properties(case):
    bought, days, km, km_after, months_after, km_per_month = case
    read_on = bought + datetime.timedelta(days=days)
    with_reading = rules.first_due_on(
        bought,
        months_after=months_after,
        km_after=km_after,
        km_per_month=km_per_month,
        reading=(km, read_on),
    )
    assumed = rules.first_due_on(
        bought, months_after=months_after, km_after=km_after, km_per_month=km_per_month
    )
    by_months = None if months_after is None else rules.add_months(bought, months_after)
    # Never later than the months allow, never before the purchase.
    assert with_reading >= bought
    if by_months is not None:
        assert with_reading <= by_months
    if km == 0:
        assert with_reading == assumed  # no rate observed: as without a reading
        return
    observed = rules.km_due_on(bought, km_after, km, read_on)
    assert observed is not None and observed >= read_on  # never before the reading
    if km >= km_after:
        assert observed == read_on
    assert with_reading == (observed if by_months is None else min(observed, by_months))
    # More kilometres by the same day never make the reminder later.
    faster = rules.km_due_on(bought, km_after, km + 1000, read_on)
    assert faster is not None and faster <= observed
