"""Reads of occasions, each starting from ``visible_to(user)``: the rows of the
customers the user may see (kehu.customers.querysets)."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.core.querysets import VisibleQuerySet

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class OccasionDateQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> OccasionDateQuerySet:
        from kehu.customers.models import Customer

        return self.filter(customer__in=Customer.objects.visible_to(user).values("pk"))

    def birthdays(self) -> OccasionDateQuerySet:
        return self.filter(kind="birthday")

    def in_month(self, year: int, month: int) -> OccasionDateQuerySet:
        first = datetime.date(year, month, 1)
        last = datetime.date(year + month // 12, month % 12 + 1, 1)
        return self.filter(date__gte=first, date__lt=last)

    def in_subtree(self, node: Any) -> OccasionDateQuerySet:
        return self.filter(customer__node__path__startswith=node.path)


class LifecycleReminderQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> LifecycleReminderQuerySet:
        from kehu.customers.models import Customer

        return self.filter(customer__in=Customer.objects.visible_to(user).values("pk"))


def parse_month(value: Any, today: datetime.date) -> tuple[int, int]:
    """``YYYY-MM`` within the precomputed window (this year and next); raises a
    ValidationError on the ``month`` field saying what to send."""
    from kehu.occasions.occurrences import occasion_window

    first, last = occasion_window(today)
    match = MONTH.match(value or "") if isinstance(value, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError({"month": [_("Give a month as YYYY-MM, e.g. 2026-05.")]})
    year, month = int(match.group(1)), int(match.group(2))
    if not first.year <= year <= last.year:
        raise ValidationError(
            {
                "month": [
                    _("Birthday calendars cover %(first)d-01 to %(last)d-12.")
                    % {"first": first.year, "last": last.year}
                ]
            }
        )
    return year, month
