"""Key-customer reads for the board page and the API: who is short this week, the daily
review list, the weekly summary of wins and defeats. Each is a fixed number of queries,
whatever the number of consultants and key customers."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from kehu.customers.models import Customer
from kehu.grading import rules
from kehu.grading.agenda import start_of
from kehu.grading.choices import KeyCustomerStatus
from kehu.grading.models import KeyCustomer
from kehu.grading.services import PROSPECT_STAGES, grading_settings
from kehu.org.models import Staff


def consultants_for(user: Any) -> Any:
    """Active consultants on the board of ``user``: everyone for administrators, the
    subtree for managers, themselves for a consultant."""
    staff = Staff.objects.active().with_role("consultant").select_related("node")
    if user.is_admin:
        return staff
    query = Q(pk=user.pk)
    if user.managed_paths:
        query |= Q(node_id__in=user.managed_node_ids)
    return staff.filter(query)


@dataclass
class BoardRow:
    consultant: Staff
    submitted: int
    minimum: int
    prospects: int

    @property
    def required(self) -> int:
        return rules.required_submissions(self.minimum, self.prospects)

    @property
    def short(self) -> bool:
        return self.submitted < self.required

    @property
    def has_prospects(self) -> bool:
        return self.prospects > 0

    def as_json(self) -> dict[str, Any]:
        return {
            "consultant": self.consultant.pk,
            "name": str(self.consultant),
            "node": self.consultant.node_id,
            "submitted": self.submitted,
            "minimum": self.minimum,
            "required": self.required,
            "short": self.short,
            "has_prospects": self.has_prospects,
        }


def board(user: Any, week: datetime.date, minimum: int | None = None) -> list[BoardRow]:
    """One row per consultant the viewer may see: short ones first. Three queries (and
    one for the settings unless ``minimum`` is given)."""
    if minimum is None:
        minimum = grading_settings().weekly_minimum
    people = list(consultants_for(user).distinct().order_by("node__path", "username"))
    ids = [p.pk for p in people]
    submitted = dict(
        KeyCustomer.objects.filter(week=week, consultant_id__in=ids)
        .values("consultant_id")
        .annotate(n=Count("id"))
        .values_list("consultant_id", "n")
    )
    prospects = dict(
        Customer.objects.live()
        .filter(owner_id__in=ids, stage__in=PROSPECT_STAGES)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    rows = [BoardRow(p, submitted.get(p.pk, 0), minimum, prospects.get(p.pk, 0)) for p in people]
    return sorted(rows, key=lambda r: not r.short)  # stable: team order within each


def review_list(user: Any, day: datetime.date) -> Any:
    """Open key customers the viewer reviews that nobody reviewed yet on ``day``
    (managers over their subtree, administrators everywhere)."""
    if not (user.is_admin or user.is_manager):
        return KeyCustomer.objects.none()
    return (
        KeyCustomer.objects.visible_to(user)
        .to_review(day, start_of(day))
        .select_related("customer", "consultant")
        .order_by("week", "expected_by", "id")
    )


@dataclass
class Summary:
    week: datetime.date
    submitted: int = 0
    won: int = 0
    defeated: int = 0
    open: int = 0
    wins: list[KeyCustomer] = field(default_factory=list)
    defeats: list[KeyCustomer] = field(default_factory=list)
    cycle_days: list[int] = field(default_factory=list)
    close_days: list[int] = field(default_factory=list)

    @property
    def close_rate(self) -> float | None:
        return rules.rate(self.won, self.submitted)

    @property
    def defeat_rate(self) -> float | None:
        return rules.rate(self.defeated, self.submitted)

    @property
    def average_cycle_days(self) -> float | None:
        return round(sum(self.cycle_days) / len(self.cycle_days), 1) if self.cycle_days else None

    @property
    def average_days_to_close(self) -> float | None:
        return round(sum(self.close_days) / len(self.close_days), 1) if self.close_days else None

    @property
    def defeat_reasons(self) -> list[tuple[str, int]]:
        return Counter(k.reason for k in self.defeats).most_common()

    def as_json(self) -> dict[str, Any]:
        def item(k: KeyCustomer) -> dict[str, Any]:
            return {
                "key_customer": k.pk,
                "customer": k.customer_id,
                "customer_name": str(k.customer),
                "consultant": k.consultant_id,
                "consultant_name": str(k.consultant),
                "horizon": k.horizon,
                "reason": k.reason,
                "closed_at": k.closed_at.isoformat() if k.closed_at else None,
            }

        return {
            "week": self.week.isoformat(),
            "submitted": self.submitted,
            "won": self.won,
            "defeated": self.defeated,
            "open": self.open,
            "close_rate": self.close_rate,
            "defeat_rate": self.defeat_rate,
            "average_cycle_days": self.average_cycle_days,
            "average_days_to_close": self.average_days_to_close,
            "wins": [item(k) for k in self.wins],
            "defeats": [item(k) for k in self.defeats],
            "defeat_reasons": [{"reason": r, "count": n} for r, n in self.defeat_reasons],
        }


def summary(user: Any, week: datetime.date) -> Summary:
    """The key customers submitted for ``week`` that the viewer may see: how many were
    won and defeated (with reasons), the close and defeat rates over all submitted, the
    sales cycle of the wins (first registration → win, DOMAIN §4) and the days from
    submission to closing. One query."""
    out = Summary(week=week)
    rows = (
        KeyCustomer.objects.visible_to(user)
        .filter(week=week)
        .select_related("customer", "consultant")
        .order_by("closed_at", "id")
    )
    for row in rows:
        out.submitted += 1
        if row.status == KeyCustomerStatus.OPEN or row.closed_at is None:
            out.open += 1
            continue
        out.close_days.append(max(0, (row.closed_at - row.created_at).days))
        if row.status == KeyCustomerStatus.WON:
            out.won += 1
            out.wins.append(row)
            start = row.customer.first_registered_at or row.customer.created_at
            out.cycle_days.append(max(0, (row.closed_at - start).days))
        else:
            out.defeated += 1
            out.defeats.append(row)
    return out


def weekly_counts(user: Any, weeks: int, today: datetime.date) -> list[dict[str, Any]]:
    """Submitted, won and defeated per week for the last ``weeks`` weeks (a chart)."""
    first = rules.week_start(today) - datetime.timedelta(days=7 * (weeks - 1))
    counts = {
        row["week"]: row
        for row in KeyCustomer.objects.visible_to(user)
        .filter(week__gte=first)
        .values("week")
        .annotate(
            submitted=Count("id"),
            won=Count("id", filter=Q(status=KeyCustomerStatus.WON)),
            defeated=Count("id", filter=Q(status=KeyCustomerStatus.DEFEATED)),
        )
        .order_by("week")
    }
    out = []
    for i in range(weeks):
        week = first + datetime.timedelta(days=7 * i)
        row = counts.get(week, {})
        out.append(
            {
                "week": week,
                "submitted": row.get("submitted", 0),
                "won": row.get("won", 0),
                "defeated": row.get("defeated", 0),
            }
        )
    return out
