"""The pure rules of occasions and life-cycle reminders (STYLE rule 14): plain data in,
plain data out, tested without a database.

Birthdays (documented in docs/occasions.md):

* a solar birthday on 29 February falls on 28 February in a common year;
* a lunar birthday follows kehu.customers.lunar: a leap-month birthday stays on the leap
  month in years that have it and falls on the ordinary month otherwise; a 30th in a
  29-day month falls on the 29th. A lunar date of lunar year Y can fall in solar year
  Y+1 (the 11th and 12th months), so every lunar year that can touch the window is tried.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from lunar_python import LunarYear, Solar


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus whole months; the 31st of a shorter month is its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def solar_occurrences(
    birthday: datetime.date, first: datetime.date, last: datetime.date
) -> list[datetime.date]:
    """Each anniversary of a solar date between ``first`` and ``last`` (inclusive)."""
    out = []
    for year in range(first.year, last.year + 1):
        day = min(birthday.day, calendar.monthrange(year, birthday.month)[1])
        date = datetime.date(year, birthday.month, day)
        if first <= date <= last:
            out.append(date)
    return out


@lru_cache(maxsize=512)
def _month_table(lunar_year: int) -> dict[int, tuple[int, int]]:
    """Lunar month (negative for the leap month) → (Julian day of its 1st, days)."""
    return {
        m.getMonth(): (int(m.getFirstJulianDay()), m.getDayCount())
        for m in LunarYear.fromYear(lunar_year).getMonthsInYear()
    }


@lru_cache(maxsize=8192)
def _lunar_in_year(month: int, day: int, is_leap: bool, lunar_year: int) -> datetime.date:
    """kehu.customers.lunar.solar_day, from a per-year table of month starts.

    Measured: lunar_python keeps one LunarYear cached, so converting customers whose
    dates alternate between years recomputed the year's new moons on every call (60 s
    for 100k customers); the table makes it a dictionary look-up. A property test
    checks it against solar_day."""
    table = _month_table(lunar_year)
    key = -month if is_leap and -month in table else month
    first, days = table[key]
    solar = Solar.fromJulianDay(first + min(day, days) - 1)
    return datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())


def lunar_occurrences(
    lunar: dict[str, Any], first: datetime.date, last: datetime.date
) -> list[datetime.date]:
    """The solar days a lunar month/day falls on between ``first`` and ``last``."""
    out = []
    for lunar_year in range(first.year - 1, last.year + 1):
        date = _lunar_in_year(
            int(lunar["month"]), int(lunar["day"]), bool(lunar.get("is_leap")), lunar_year
        )
        if first <= date <= last:
            out.append(date)
    return out


def occurrences(
    solar: datetime.date | None,
    lunar: dict[str, Any] | None,
    first: datetime.date,
    last: datetime.date,
) -> tuple[list[datetime.date], bool]:
    """The dates of an occasion in the window and whether they come from the lunar date.
    A lunar date wins when both are known: people who keep one keep it on purpose."""
    if lunar:
        return lunar_occurrences(lunar, first, last), True
    if solar:
        return solar_occurrences(solar, first, last), False
    return [], False


def lunar_label(lunar: dict[str, Any]) -> str:
    """农历 month/day in Chinese (``闰四月初八``, ``八月十五``)."""
    months = "正二三四五六七八九十冬腊"
    tens = ["初", "十", "廿", "三"]
    digits = "一二三四五六七八九十"
    month = ("闰" if lunar.get("is_leap") else "") + months[int(lunar["month"]) - 1] + "月"
    day = int(lunar["day"])
    if day == 10:
        text = "初十"
    elif day == 20:
        text = "二十"
    elif day == 30:
        text = "三十"
    else:
        text = tens[day // 10] + digits[day % 10 - 1]
    return month + text


def product_matches(product: str, keywords: str) -> bool:
    """Whether ``product`` contains one of the comma-separated ``keywords`` (any product
    when there are none); case-insensitive."""
    words = [w.strip().lower() for w in keywords.replace("，", ",").split(",") if w.strip()]
    if not words:
        return True
    text = (product or "").lower()
    return any(w in text for w in words)


def first_due_months(months_after: int | None, km_after: int | None, km_per_month: int) -> int:
    """Months from the purchase to the first reminder: the earlier of the two when both
    are set (a car driven fast needs its service sooner), mileage by the assumed rate
    rounded up."""
    candidates = []
    if months_after is not None:
        candidates.append(months_after)
    if km_after is not None:
        candidates.append(min(MAX_MONTHS, max(1, -(-km_after // max(1, km_per_month)))))
    if not candidates:
        raise ValueError("a rule needs months_after or km_after")
    return min(candidates)


#: The shortest time a reading's rate is averaged over: 200 km on the day after delivery
#: is not 6,000 km a month.
MIN_READING_DAYS = 30
#: Mileage further away than a century is capped there (far beyond every horizon), so
#: an extreme rule or rate gives a date, not an overflow.
MAX_MONTHS = 1200


def km_due_on(
    purchased_on: datetime.date, km_after: int, km: int, read_on: datetime.date
) -> datetime.date | None:
    """When ``km_after`` kilometres since the purchase are reached at the rate a reading
    of ``km`` on ``read_on`` shows (km since purchase / time since purchase, that time
    counted as at least :data:`MIN_READING_DAYS`), rounded up to a whole day.

    Never before ``read_on``: a reading already at or past ``km_after`` means the
    reminder is due on the reading's date (when exactly the mark was passed is unknown;
    the day we learn it is the first day we can act). ``None`` for a reading of 0 km,
    which shows no rate (the caller keeps the rule's assumed rate)."""
    if km <= 0:
        return None
    if km >= km_after:
        return read_on
    days = max(MIN_READING_DAYS, (read_on - purchased_on).days)
    days_to_mark = min(MAX_MONTHS * 31, -(-km_after * days // km))
    return max(read_on, purchased_on + datetime.timedelta(days=days_to_mark))


def first_due_on(
    purchased_on: datetime.date,
    *,
    months_after: int | None,
    km_after: int | None,
    km_per_month: int,
    reading: tuple[int, datetime.date] | None = None,
) -> datetime.date:
    """The first reminder's date: the earlier of ``months_after`` and ``km_after``, the
    kilometres turned into time by the purchase's own ``reading`` ``(km, read_on)`` when
    there is one with a rate, by the rule's assumed ``km_per_month`` otherwise."""
    observed = None
    if reading is not None and km_after is not None:
        observed = km_due_on(purchased_on, km_after, reading[0], reading[1])
    if observed is None:
        return add_months(purchased_on, first_due_months(months_after, km_after, km_per_month))
    if months_after is None:
        return observed
    return min(observed, add_months(purchased_on, months_after))


def due_dates(
    purchased_on: datetime.date,
    *,
    months_after: int | None,
    km_after: int | None,
    km_per_month: int,
    repeat_months: int | None,
    occurrences: int | None,
    until: datetime.date,
    reading: tuple[int, datetime.date] | None = None,
) -> list[tuple[int, datetime.date]]:
    """``(sequence, due date)`` of a rule's reminders for one purchase, up to ``until``:
    the first (:func:`first_due_on`), then every ``repeat_months`` after it.

    Without a usable ``reading`` the dates are whole months from the purchase, as they
    always were; with one, the repeats count from the first date."""
    if reading is not None and km_after is not None and reading[0] > 0:
        first = first_due_on(
            purchased_on,
            months_after=months_after,
            km_after=km_after,
            km_per_month=km_per_month,
            reading=reading,
        )

        def nth(extra_months: int) -> datetime.date:
            return add_months(first, extra_months)
    else:
        start = first_due_months(months_after, km_after, km_per_month)

        def nth(extra_months: int) -> datetime.date:
            return add_months(purchased_on, start + extra_months)

    out: list[tuple[int, datetime.date]] = []
    sequence = 1
    while occurrences is None or sequence <= occurrences:
        due = nth((sequence - 1) * (repeat_months or 0))
        if due > until:
            break
        out.append((sequence, due))
        if not repeat_months:
            break
        sequence += 1
    return out


def in_window(days: Iterable[datetime.date], first: datetime.date, last: datetime.date) -> bool:
    return any(first <= d <= last for d in days)
