"""The year calendar, against known dates (no database)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.occasions import calendar

D = datetime.date


def days_of(year: int, kind: str) -> dict[str, str]:
    return {d["date"]: d["name"] for d in calendar.year_days(year) if d["kind"] == kind}


def test_2026_solar_terms_in_beijing_time():
    terms = days_of(2026, "solar_term")
    assert len(terms) == 24
    assert terms["2026-04-05"] == "清明"
    assert terms["2026-02-04"] == "立春"
    assert terms["2026-12-22"] == "冬至"
    assert terms["2026-01-05"] == "小寒"
    assert sorted(terms.values()) == sorted(calendar.SOLAR_TERMS)


def test_2026_holidays_and_adjusted_workdays():
    holidays = days_of(2026, "holiday")
    assert holidays["2026-02-17"] == "春节"
    assert [d for d, n in holidays.items() if n == "春节"] == [
        f"2026-02-{d}" for d in range(15, 24)
    ]
    assert holidays["2026-10-01"] == "国庆节"
    assert holidays["2026-09-25"] == "中秋节"
    assert holidays["2026-06-19"] == "端午节"
    workdays = days_of(2026, "workday")
    assert workdays == {
        "2026-01-04": "元旦",
        "2026-02-14": "春节",
        "2026-02-28": "春节",
        "2026-05-09": "劳动节",
        "2026-09-20": "国庆节",
        "2026-10-10": "国庆节",
    }


def test_days_are_sorted_and_shaped():
    days = calendar.year_days(2026)
    assert days == sorted(days, key=lambda d: (d["date"], d["kind"]))
    assert {tuple(sorted(d)) for d in days} == {("date", "kind", "name")}
    # 清明 is a solar term and a day off on the same date: two entries
    assert [d["kind"] for d in days if d["date"] == "2026-04-05"] == ["holiday", "solar_term"]


def test_coverage_is_what_the_library_knows():
    first, last = calendar.holiday_coverage()
    assert first == 2004
    assert last >= 2026
    assert calendar.is_covered(2026)
    assert not calendar.is_covered(2003)
    assert not calendar.is_covered(last + 1)
    assert days_of(last + 1, "holiday") == {}
    assert len(days_of(last + 1, "solar_term")) == 24


@pytest.mark.parametrize("year", [1900, 2100, 0, -1, 10000])
def test_years_out_of_range_are_refused(year):
    with pytest.raises(calendar.YearOutOfRange):
        calendar.year_days(year)


@given(st.integers(min_value=calendar.FIRST_YEAR, max_value=calendar.LAST_YEAR))
def test_every_year_in_range_has_24_terms_and_7_festivals(year):
    terms = calendar.solar_terms(year)
    assert len(terms) == 24
    assert all(day.year == year for day, _name in terms)
    festivals = calendar.festivals(year)
    assert [f.name for f in sorted(festivals, key=lambda f: f.name)] == sorted(
        ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"]
    )


def test_festival_days_follow_the_lunar_calendar():
    days = {f.name: f.day for f in calendar.festivals(2026)}
    assert days["春节"] == D(2026, 2, 17)
    assert days["中秋节"] == D(2026, 9, 25)
    assert days["端午节"] == D(2026, 6, 19)
    assert days["清明节"] == D(2026, 4, 5)
    assert {f.name: f.day for f in calendar.festivals(2027)}["春节"] == D(2027, 2, 6)


def test_greeting_window_runs_from_the_last_workday_before_the_break():
    spring = next(f for f in calendar.festivals(2026) if f.name == "春节")
    # the break is 15-23 Feb; Sat 14 Feb is an adjusted working day
    assert calendar.greeting_window(spring) == (D(2026, 2, 14), D(2026, 2, 17))
    national = next(f for f in calendar.festivals(2026) if f.name == "国庆节")
    assert calendar.greeting_window(national) == (D(2026, 9, 30), D(2026, 10, 1))
    assert calendar.festival_for(D(2026, 2, 13)) is None
    assert calendar.festival_for(D(2026, 2, 16)).name == "春节"
    assert calendar.festival_for(D(2025, 12, 31)).name == "元旦"
    assert calendar.festival_for(D(2026, 3, 10)) is None


def test_solar_term_on():
    assert calendar.solar_term_on(D(2026, 4, 5)) == "清明"
    assert calendar.solar_term_on(D(2026, 4, 6)) is None
    assert calendar.solar_term_on(D(1800, 4, 5)) is None
