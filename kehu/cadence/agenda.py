"""Each person's agenda for a day: whom to call and why, plus what every registered
source (occasions, key-customer reviews…) adds. Never recomputes a due date: it reads
the CustomerCadence rows the services keep.

Order: overdue first (oldest first), then due today (call_due, callback), then the
occasions and reviews in the order of :data:`kehu.cadence.sources.KINDS`. The contact
items are capped at :data:`CONTACT_LIMIT` (the most overdue first) so a person back from
a long leave still gets a usable answer; occasions are not capped (sources keep them to
one item per customer, a holiday or solar term to one item in all).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from kehu.cadence import rules
from kehu.cadence.models import CadenceRule, CustomerCadence
from kehu.cadence.sources import KINDS, AgendaItem, sources

#: The roles whose people own customers and so have overdue follow-ups.
OWNER_ROLES = ("consultant", "manager")

#: At most this many call / overdue / callback items in one agenda.
CONTACT_LIMIT = 200

_GROUP = {"overdue": 0, "call_due": 1, "callback": 1}


def sort_key(item: AgendaItem) -> tuple[Any, ...]:
    return (
        _GROUP.get(item.kind, 2),
        KINDS.index(item.kind) if _GROUP.get(item.kind) is None else 0,
        item.due,
        item.customer or 0,
        item.title,
    )


def _intervals() -> tuple[dict[str, rules.Rule], int]:
    by_key = {r.grade: r for r in CadenceRule.objects.all()}
    callback = by_key.pop(rules.CALLBACK, None)
    callback_days = callback.interval_days if callback and callback.interval_days else 90
    return {g: r.as_rule() for g, r in by_key.items()}, callback_days


def contact_items(staff: Any, day: datetime.date) -> list[AgendaItem]:
    """The person's own customers due on or before ``day``: two queries (the rules for
    the reasons, then one range of the (owner, next_due) index joined to the customer
    for its name), whatever the number of customers."""
    if not getattr(staff, "pk", None):
        return []
    grade_rules, callback_days = _intervals()
    templates = rules.reason_templates()
    rows = due_rows(staff.pk, day)
    items = []
    for pk, next_due, due_kind, grade, last_contact, milestone, name, title, owner in rows:
        kind = rules.kind_on(next_due, due_kind, day)
        if kind is None or owner != staff.pk:  # pragma: no cover - the trigger keeps it
            continue
        items.append(
            AgendaItem(
                kind=kind,
                customer=pk,
                title=display_name(pk, name, title),
                reason=rules.reason(
                    grade,
                    due_kind,
                    last_contact,
                    grade_rules.get(grade),
                    milestone,
                    callback_days,
                    templates,
                ),
                due=next_due,
            )
        )
    return items


def display_name(pk: int, name: str, title: str) -> str:
    """As Customer.display_name, from the columns."""
    if title and name:
        return f"{name}{title}" if len(name) <= 1 else name
    return name or f"#{pk}"


ROW_FIELDS = (
    "customer_id",
    "next_due",
    "due_kind",
    "grade",
    "last_contact",
    "milestone",
    "customer__name",
    "customer__title",
    "customer__owner_id",  # checked: the copy never shows someone else's customer
)

# CustomerCadence.objects.owned_by(owner).due_by(day) ordered by (next_due, customer)
# with ROW_FIELDS, as plain SQL (the same on SQLite and PostgreSQL): among 1,000,000
# customers, building the ORM query cost more Python than the database spent on it
# (docs/cadence.md, Performance). test_api checks the two give the same rows. The
# customer's own owner is checked on the rows kept (contact_items), not in the WHERE:
# there it leads PostgreSQL to start from all the person's customers (2x slower).
_DUE_SQL = """
SELECT cc.customer_id, cc.next_due, cc.due_kind, cc.grade, cc.last_contact, cc.milestone,
       c.name, c.title, c.owner_id
  FROM cadence_customercadence cc
  JOIN customers_customer c ON c.id = cc.customer_id
 WHERE cc.owner_id = %s AND c.merged_into_id IS NULL
   AND cc.next_due IS NOT NULL AND cc.next_due <= %s
 ORDER BY cc.next_due, cc.customer_id
 LIMIT %s
"""


def due_rows(owner_id: int, day: datetime.date) -> list[tuple[Any, ...]]:
    """The owner's cadence rows due on or before ``day`` (ROW_FIELDS), most overdue
    first, at most CONTACT_LIMIT: one range of the (owner, next_due) index."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(_DUE_SQL, [owner_id, day, CONTACT_LIMIT])
        return list(cur.fetchall())


def build_agenda(staff: Any, day: datetime.date) -> list[AgendaItem]:
    """Everything ``staff`` should do on ``day``, sorted (see the module docstring). A
    fixed number of queries: two for the contact items plus each source's own."""
    items: list[AgendaItem] = []
    for source in sources():
        items.extend(source(staff, day))
    return sorted(dedupe(items), key=sort_key)


def dedupe(items: Iterable[AgendaItem]) -> list[AgendaItem]:
    seen: set[tuple[str, int | None, str]] = set()
    out = []
    for item in items:
        key = (item.kind, item.customer, item.title)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


# --- the managers' view ----------------------------------------------------------------------


@dataclass(frozen=True)
class PersonOverdue:
    staff_id: int
    name: str
    node: str
    overdue: int


def team_overdue(manager: Any, day: datetime.date) -> list[PersonOverdue]:
    """Overdue follow-ups per active person of the manager's subtree (everyone for an
    administrator), most overdue first: two queries (people, then one grouped count
    over their ranges of the (owner, next_due) index)."""
    from kehu.org.models import Staff, StaffRole

    people_query = Staff.objects.filter(
        is_active=True,
        node__isnull=False,
        # Those who own customers; a filter on an indexed subquery, not a join, so
        # nobody is listed twice.
        pk__in=StaffRole.objects.filter(role__in=OWNER_ROLES).values("staff_id"),
    )
    if not manager.is_admin:
        people_query = people_query.filter(node_id__in=manager.managed_node_ids)
    people = list(people_query.select_related("node").order_by("username"))
    by_owner = dict(
        # No join: a merged customer has no owner, and the trigger copies that.
        CustomerCadence.objects.filter(owner_id__in=[p.pk for p in people], next_due__lt=day)
        .values("owner_id")
        .annotate(n=Count("customer_id"))
        .values_list("owner_id", "n")
        .order_by()
    )
    rows = [
        PersonOverdue(
            staff_id=p.pk,
            name=str(p),
            node=p.node.name if p.node else "",
            overdue=by_owner.get(p.pk, 0),
        )
        for p in people
    ]
    return sorted(rows, key=lambda r: (-r.overdue, r.name, r.staff_id))


def can_see_team(user: Any) -> bool:
    return bool(user and user.is_authenticated and (user.is_admin or user.managed_paths))


def person_overdue(manager: Any, staff_id: int, day: datetime.date) -> tuple[Any, list[AgendaItem]]:
    """One person's overdue list for their manager; the person must be in the manager's
    subtree (else Http404, as missing)."""
    from django.http import Http404

    from kehu.org.models import Staff

    people = Staff.objects.select_related("node")
    if not manager.is_admin:
        people = people.filter(node_id__in=manager.managed_node_ids)
    person = people.filter(pk=staff_id).first()
    if person is None:
        raise Http404
    items = [i for i in contact_items(person, day) if i.kind == "overdue"]
    return person, items


def parse_day(raw: str | None, field: str = "date") -> datetime.date:
    """``YYYY-MM-DD`` from a query string (today in the configured time zone when
    absent); a ValidationError naming ``field`` for anything else (Feb 30, year 0…)."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from kehu.cadence.services import check_day

    if raw is None or raw == "":
        return timezone.localdate()
    day = None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
        try:
            day = datetime.date.fromisoformat(raw.strip())
        except ValueError:
            day = None
    if day is None:
        raise ValidationError(
            {
                field: [
                    _("Give a real date as YYYY-MM-DD (this was %(value)s).") % {"value": raw[:40]}
                ]
            }
        )
    check_day(day, field)
    return day
