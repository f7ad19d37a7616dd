"""Lunar dates (农历): validation, and the solar day a lunar birthday falls on in a year.

Rule for days a year lacks (documented in docs/users.md): a birthday on a leap month is
kept on that leap month in years that have it and falls on the ordinary month otherwise;
a 30th in a 29-day month falls on the 29th.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lunar_python import LunarMonth, LunarYear


def clean_lunar(value: Any, field: str = "lunar_birthday") -> dict[str, Any] | None:
    """Validate ``{"month", "day", "is_leap"}``; returns a clean dict or raises."""
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict):
        raise ValidationError(
            {
                field: [
                    _('A lunar date is an object: {"month": 1-12, "day": 1-30, "is_leap": false}.')
                ]
            }
        )
    unknown = set(value) - {"month", "day", "is_leap"}
    if unknown:
        raise ValidationError(
            {field: [_("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))}]}
        )
    month, day, is_leap = value.get("month"), value.get("day"), value.get("is_leap", False)
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        raise ValidationError({field: [_("The lunar month must be a whole number from 1 to 12.")]})
    if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 30:
        raise ValidationError({field: [_("The lunar day must be a whole number from 1 to 30.")]})
    if not isinstance(is_leap, bool):
        raise ValidationError({field: [_("is_leap must be true or false.")]})
    return {"month": month, "day": day, "is_leap": is_leap}


def solar_day(lunar: dict[str, Any], year: int) -> datetime.date:
    """The solar date of a lunar month/day in lunar year ``year`` (see the module rule)."""
    month = lunar["month"]
    if lunar.get("is_leap") and LunarYear.fromYear(year).getLeapMonth() == month:
        month = -month
    days = LunarMonth.fromYm(year, month).getDayCount()
    day = min(lunar["day"], days)
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, month, day).getSolar()
    return datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())
