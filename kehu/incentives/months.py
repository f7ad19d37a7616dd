"""Months as ``YYYY-MM`` strings: parsing and arithmetic (pure)."""

from __future__ import annotations

import calendar
import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(value: object) -> str:
    """``value`` if it is a ``YYYY-MM`` month, else ValidationError naming the problem."""
    if not isinstance(value, str) or not MONTH_RE.match(value):
        raise ValidationError(
            {
                "month": _("Give the month as YYYY-MM, for example 2026-03 (got %(value)s).")
                % {"value": str(value)[:20]}
            }
        )
    return value


def first_day(month: str) -> datetime.date:
    year, mon = int(month[:4]), int(month[5:7])
    return datetime.date(year, mon, 1)


def last_day(month: str) -> datetime.date:
    year, mon = int(month[:4]), int(month[5:7])
    return datetime.date(year, mon, calendar.monthrange(year, mon)[1])


def add_months(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_of(day: datetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
