"""The agenda source of grading: managers review their subtree's key customers daily."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.cadence.sources import AgendaItem
from kehu.grading.models import KeyCustomer

if TYPE_CHECKING:
    from kehu.org.models import Staff

#: At most this many items a day (a region manager over hundreds of consultants gets
#: the oldest ones first; the board lists them all).
LIMIT = 200


def start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def key_customer_reviews(staff: Staff, day: datetime.date) -> list[AgendaItem]:
    """One ``key_customer_review`` item per open key customer of the manager's subtree
    nobody has reviewed yet on ``day``. One query (plus the manager's node ids, which
    the request keeps); nothing for people who manage nobody."""
    if not staff.is_manager or not staff.managed_node_ids:
        return []
    rows = (
        KeyCustomer.objects.filter(node_id__in=staff.managed_node_ids)
        .to_review(day, start_of(day))
        .select_related("customer", "consultant")
        .order_by("week", "expected_by", "id")[:LIMIT]
    )
    return [
        AgendaItem(
            kind="key_customer_review",
            customer=row.customer_id,
            title=_("Review key customer %(customer)s") % {"customer": row.customer},
            reason=_("%(consultant)s's key customer (%(horizon)s, expected by %(date)s)")
            % {
                "consultant": row.consultant,
                "horizon": row.horizon,
                "date": row.expected_by.isoformat(),
            },
            due=day,
        )
        for row in rows
    ]
