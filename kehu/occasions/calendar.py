"""The year's calendar (pure): the 24 solar terms, mainland public holidays and the
adjusted working days, and the festival days greetings are sent on.

Sources, both well-kept libraries (DESIGN.md):

* ``lunar_python`` computes the solar terms (节气) in Beijing time for any year it knows;
  we accept 1901-2099 (:data:`FIRST_YEAR`, :data:`LAST_YEAR`).
* ``chinese_calendar`` carries the State Council's published arrangements: days off and
  the weekend days worked instead (调休). It only knows the years already announced
  (:func:`holiday_coverage`); for any other year we say so instead of guessing.

Festival days (the day a greeting is sent: 元旦 Jan 1, 春节 lunar 1/1, 清明 the solar
term, 劳动节 May 1, 端午 lunar 5/5, 中秋 lunar 8/15, 国庆 Oct 1) follow fixed rules, so
they are known for every year in range, covered or not.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import chinese_calendar
from lunar_python import Lunar

FIRST_YEAR = 1901
LAST_YEAR = 2099

#: chinese_calendar's English names → the names used in the interface and the API.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

SOLAR_TERMS = (
    "小寒 大寒 立春 雨水 惊蛰 春分 清明 谷雨 立夏 小满 芒种 夏至 "
    "小暑 大暑 立秋 处暑 白露 秋分 寒露 霜降 立冬 小雪 大雪 冬至"
).split()


class YearOutOfRange(ValueError):
    """The year is outside what the calendar can compute (1901-2099)."""


@dataclass(frozen=True)
class Festival:
    """A public holiday's own day: the day the greeting is for."""

    name: str
    day: datetime.date


def check_year(year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise YearOutOfRange(f"year must be from {FIRST_YEAR} to {LAST_YEAR}")
    return year


@lru_cache(maxsize=1)
def holiday_coverage() -> tuple[int, int]:
    """(first_year, last_year) the installed holiday data covers, whole years only."""
    days = list(chinese_calendar.holidays)
    return min(days).year, max(days).year


def is_covered(year: int) -> bool:
    first, last = holiday_coverage()
    return first <= year <= last


@lru_cache(maxsize=256)
def solar_terms(year: int) -> tuple[tuple[datetime.date, str], ...]:
    """The 24 solar terms of solar ``year`` with their Beijing-time dates, in order."""
    check_year(year)
    found: dict[str, datetime.date] = {}
    # A lunar year's table runs from the previous 冬至 to the next 大雪 or so: three
    # tables cover every term of the solar year. Keys in pinyin repeat the next cycle.
    for lunar_year in (year - 1, year, year + 1):
        for name, solar in Lunar.fromYmd(lunar_year, 6, 1).getJieQiTable().items():
            if not name.isascii() and solar.getYear() == year:
                found[name] = datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())
    return tuple(sorted((day, name) for name, day in found.items()))


def _lunar_day(year: int, month: int, day: int) -> datetime.date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=256)
def festivals(year: int) -> tuple[Festival, ...]:
    """The public holidays' own days in ``year`` (known for every year in range)."""
    check_year(year)
    qingming = next(day for day, name in solar_terms(year) if name == "清明")
    days = [
        Festival("元旦", datetime.date(year, 1, 1)),
        Festival("春节", _lunar_day(year, 1, 1)),
        Festival("清明节", qingming),
        Festival("劳动节", datetime.date(year, 5, 1)),
        Festival("端午节", _lunar_day(year, 5, 5)),
        Festival("中秋节", _lunar_day(year, 8, 15)),
        Festival("国庆节", datetime.date(year, 10, 1)),
    ]
    return tuple(sorted(days, key=lambda f: f.day))


def holidays(year: int) -> list[tuple[datetime.date, str]]:
    """Days off of ``year`` with the holiday's name; empty for a year not covered."""
    return sorted(
        (day, HOLIDAY_NAMES.get(name, name))
        for day, name in chinese_calendar.holidays.items()
        if day.year == year
    )


def adjusted_workdays(year: int) -> list[tuple[datetime.date, str]]:
    """Weekend days worked instead (调休上班), named after the holiday they pay for."""
    return sorted(
        (day, HOLIDAY_NAMES.get(name, name))
        for day, name in chinese_calendar.workdays.items()
        if day.year == year
    )


def is_day_off(day: datetime.date) -> bool:
    """A weekend day not worked, or a public holiday. For a year without holiday data the
    weekends alone (the best that can be said; callers say the year is not covered)."""
    if is_covered(day.year):
        return bool(chinese_calendar.is_holiday(day))
    return day.weekday() >= 5


def last_workday_before(day: datetime.date) -> datetime.date:
    """The last working day strictly before ``day``."""
    cursor = day - datetime.timedelta(days=1)
    while is_day_off(cursor):
        cursor -= datetime.timedelta(days=1)
    return cursor


def greeting_window(festival: Festival) -> tuple[datetime.date, datetime.date]:
    """When a holiday greeting is on the agenda: from the last working day before the
    break (the day the consultant is still at work) through the festival day itself.

    The break starts on the first day off of the run of days off that holds the
    festival. Spring Festival 2026: the break is Sun 15 - Mon 23 Feb and Sat 14 Feb is
    an adjusted working day, so the greeting is on the agenda from 14 Feb to 17 Feb."""
    start = festival.day
    while is_day_off(start - datetime.timedelta(days=1)):
        start -= datetime.timedelta(days=1)
    return last_workday_before(start), festival.day


def window_is_guessed(festival: Festival) -> bool:
    """Whether :func:`greeting_window` had to count weekends alone for ``festival``: the
    holiday data does not cover the festival's year (or the year the window starts in),
    so the real days off, and the last working day before them, are not known."""
    first, _last = greeting_window(festival)
    return not (is_covered(festival.day.year) and is_covered(first.year))


def festival_for(day: datetime.date) -> Festival | None:
    """The festival whose greeting window holds ``day`` (the nearest one if two do)."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    candidates = list(festivals(day.year))
    if day.year < LAST_YEAR:
        candidates += [f for f in festivals(day.year + 1) if f.day.month == 1]
    for festival in candidates:
        first, last = greeting_window(festival)
        if first <= day <= last:
            return festival
    return None


def solar_term_on(day: datetime.date) -> str | None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return next((name for d, name in solar_terms(day.year) if d == day), None)


def year_days(year: int) -> list[dict[str, Any]]:
    """Every marked day of ``year``: ``{"date", "kind", "name"}`` with kind
    ``solar_term``, ``holiday`` (a day off) or ``workday`` (an adjusted working day),
    sorted by date then kind. Raises :class:`YearOutOfRange`."""
    check_year(year)
    days = [(d, "solar_term", n) for d, n in solar_terms(year)]
    days += [(d, "holiday", n) for d, n in holidays(year)]
    days += [(d, "workday", n) for d, n in adjusted_workdays(year)]
    return [{"date": d.isoformat(), "kind": kind, "name": name} for d, kind, name in sorted(days)]
