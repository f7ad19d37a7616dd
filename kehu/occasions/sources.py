"""The agenda sources of occasions (kehu.cadence.sources): birthday, anniversary,
invitation, holiday, solar_term and lifecycle. Each reads precomputed rows by index for
the customers ``staff`` owns and costs a fixed number of queries (tests assert them):

=============  ==========================================================
birthday       1 (today's birthdays), 2 when there are some (the care rules)
anniversary    1 (today's anniversaries), 2 when there are some (the care rules)
invitation     2 (the invitation window; A/VIP birthdays in it)
holiday        0, or 1 in a greeting window (how many customers to greet)
solar_term     0, or 1 on a solar term's day (how many customers to greet)
lifecycle      1 (reminders whose agenda window holds the day)
=============  ==========================================================
"""

from __future__ import annotations

import datetime
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from kehu.cadence.sources import AgendaItem
from kehu.occasions import calendar, rules
from kehu.occasions.choices import CareKind, OccasionKind

if TYPE_CHECKING:
    from kehu.org.models import Staff


def _display(name: str, title: str, pk: int) -> str:
    if title and name and len(name) <= 1:
        return f"{name}{title}"
    return name or f"#{pk}"


def care_map() -> dict[str, str]:
    from kehu.occasions.models import CareRule

    return dict(CareRule.objects.values_list("relationship", "care"))


def care_text(relationship: str, care: dict[str, str]) -> str:
    kind = care.get(relationship, CareKind.MESSAGE)
    return str(CareKind(kind).label)


@lru_cache(maxsize=1)
def _grade_model() -> Any:
    """kehu.grading's CustomerGrade when it has a value grade (looked up once)."""
    try:
        grade = apps.get_model("grading", "CustomerGrade")
        grade._meta.get_field("value_grade")
        grade._meta.get_field("customer")
    except Exception:  # the grading app may not have the model yet  # noqa: BLE001
        return None
    return grade


def grade_a_condition(prefix: str = "customer") -> Q:
    """ "A customer" for invitations: value grade A (kehu.grading, when installed) or a
    VIP relationship."""
    condition = Q(**{f"{prefix}__relationship": "VIP"})
    grade = _grade_model()
    if grade is None:
        return condition
    pk = f"{prefix}_id" if prefix else "pk"
    return condition | Q(Exists(grade.objects.filter(customer_id=OuterRef(pk), value_grade="A")))


def _owned(staff: Staff) -> Q:
    """The rows of ``staff``'s customers: one range of the (owner, …) index of the row's
    copy of the owner (kehu.occasions.triggers), then the customer checked by its key
    (still its owner, not merged), so a stale copy could never show it to someone else."""
    return Q(owner_id=staff.pk, customer__owner_id=staff.pk, customer__merged_into__isnull=True)


# The hot reads are plain SQL through Django's connection (the same on SQLite and
# PostgreSQL): measured among 1,000,000 customers, building each ORM query cost 1.5-2 ms
# of Python, more than the database spent answering it (docs/cadence.md, Performance).
# Each reads one range of an (owner, …) index, then the customer by its key, checking
# that it is still the person's and not merged (as _owned does for querysets).

_OCCASION_SQL = """
SELECT o.customer_id, o.date, o.is_lunar, o.label, c.name, c.title, c.relationship,
       c.lunar_birthday, a.lunar
  FROM occasions_occasiondate o
  JOIN customers_customer c ON c.id = o.customer_id
  LEFT JOIN customers_anniversary a ON a.id = o.anniversary_id
 WHERE o.owner_id = %s AND c.owner_id = %s AND c.merged_into_id IS NULL
   AND o.kind = %s AND o.date = %s
 ORDER BY o.date, o.customer_id, o.id
"""

_LIFECYCLE_SQL = """
SELECT r.customer_id, r.due_on, r.sequence, c.name, c.title, u.name, u.ask_referral,
       p.product, p.purchased_on
  FROM occasions_lifecyclereminder r
  JOIN customers_customer c ON c.id = r.customer_id
  JOIN occasions_lifecyclerule u ON u.id = r.rule_id
  JOIN customers_purchase p ON p.id = r.purchase_id
 WHERE r.owner_id = %s AND c.owner_id = %s AND c.merged_into_id IS NULL
   AND r.due_on >= %s AND r.notify_on <= %s
 ORDER BY r.due_on, r.id
"""


_INVITATION_VIP_SQL = """
SELECT o.customer_id, o.date, c.name, c.title
  FROM occasions_occasiondate o
  JOIN customers_customer c ON c.id = o.customer_id
 WHERE o.owner_id = %s AND c.owner_id = %s AND c.merged_into_id IS NULL
   AND o.kind = %s AND o.date >= %s AND o.date <= %s AND (c.relationship = 'VIP')
 ORDER BY o.date, o.customer_id
"""
# With kehu.grading: value grade A as well (grade_a_condition).
_INVITATION_SQL = _INVITATION_VIP_SQL.replace(
    "(c.relationship = 'VIP')",
    "(c.relationship = 'VIP' OR EXISTS (SELECT 1 FROM grading_customergrade g"
    " WHERE g.customer_id = o.customer_id AND g.value_grade = 'A'))",
)


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _json(value: Any) -> Any:
    """A JSON column read by plain SQL: text on SQLite (and from Django's psycopg
    setup), already decoded elsewhere."""
    return json.loads(value) if isinstance(value, str) else value


def _occasion_rows(staff: Staff, kind: str, day: datetime.date) -> list[dict[str, Any]]:
    rows = _fetch(_OCCASION_SQL, [staff.pk, staff.pk, kind, day])
    return [
        {
            "customer_id": customer_id,
            "date": date,
            "is_lunar": bool(is_lunar),
            "label": label,
            "customer__name": name,
            "customer__title": title,
            "customer__relationship": relationship,
            "customer__lunar_birthday": _json(lunar_birthday),
            "anniversary__lunar": _json(lunar),
        }
        for (
            customer_id,
            date,
            is_lunar,
            label,
            name,
            title,
            relationship,
            lunar_birthday,
            lunar,
        ) in rows
    ]


def birthday_source(staff: Staff, day: datetime.date) -> list[AgendaItem]:
    rows = _occasion_rows(staff, OccasionKind.BIRTHDAY, day)
    if not rows:
        return []
    care = care_map()
    lunar, solar = _("lunar birthday, %(date)s"), _("birthday")
    heading, text = (
        _("%(name)s's birthday"),
        _("Today is their %(when)s. Care (%(rel)s): %(care)s."),
    )
    items = []
    for row in rows:
        name = _display(row["customer__name"], row["customer__title"], row["customer_id"])
        when = (
            lunar % {"date": rules.lunar_label(row["customer__lunar_birthday"])}
            if row["is_lunar"]
            else solar
        )
        items.append(
            AgendaItem(
                kind="birthday",
                customer=row["customer_id"],
                title=heading % {"name": name},
                reason=text
                % {
                    "when": when,
                    "rel": row["customer__relationship"],
                    "care": care_text(row["customer__relationship"], care),
                },
                due=day,
            )
        )
    return items


def anniversary_source(staff: Staff, day: datetime.date) -> list[AgendaItem]:
    rows = _occasion_rows(staff, OccasionKind.ANNIVERSARY, day)
    if not rows:
        return []
    care = care_map()
    items = []
    for row in rows:
        name = _display(row["customer__name"], row["customer__title"], row["customer_id"])
        lunar = (
            _(" (lunar %(date)s)") % {"date": rules.lunar_label(row["anniversary__lunar"])}
            if row["is_lunar"] and row["anniversary__lunar"]
            else ""
        )
        items.append(
            AgendaItem(
                kind="anniversary",
                customer=row["customer_id"],
                title=_("%(name)s: %(label)s") % {"name": name, "label": row["label"]},
                reason=_("Anniversary today%(lunar)s. Care (%(rel)s): %(care)s.")
                % {
                    "lunar": lunar,
                    "rel": row["customer__relationship"],
                    "care": care_text(row["customer__relationship"], care),
                },
                due=day,
            )
        )
    return items


def invitation_source(staff: Staff, day: datetime.date) -> list[AgendaItem]:
    """A customers (value grade A or VIP) whose birthday is ``days_min``-``days_max``
    days ahead: invite them to a birthday event (due ``days_min`` days before)."""
    from kehu.occasions.models import InvitationSettings

    settings = InvitationSettings.objects.values_list("days_min", "days_max").first()
    low, high = settings if settings else (14, 21)
    rows = _fetch(
        _INVITATION_SQL if _grade_model() is not None else _INVITATION_VIP_SQL,
        [
            staff.pk,
            staff.pk,
            OccasionKind.BIRTHDAY.value,
            day + datetime.timedelta(days=low),
            day + datetime.timedelta(days=high),
        ],
    )
    return [
        AgendaItem(
            kind="invitation",
            customer=customer_id,
            title=_("Invite %(name)s to a birthday event")
            % {"name": _display(name, title, customer_id)},
            reason=_(
                "An A customer's birthday is on %(date)s: invite them %(low)d-%(high)d days ahead."
            )
            % {"date": date.isoformat(), "low": low, "high": high},
            due=date - datetime.timedelta(days=low),
        )
        for customer_id, date, name, title in rows
    ]


def _greeting_count(staff: Staff) -> int:
    from kehu.customers.models import Customer

    return (
        Customer.objects.filter(owner_id=staff.pk, merged_into__isnull=True)
        .exclude(stage="lost")
        .count()
    )


def holiday_source(staff: Staff, day: datetime.date) -> list[AgendaItem]:
    """ONE item for all the person's customers, from the last working day before the
    break through the festival day (kehu.occasions.calendar.greeting_window). For a
    year the holiday data does not cover, the window counts weekends only and the
    item's reason says so (never a silent guess)."""
    festival = calendar.festival_for(day)
    if festival is None:
        return []
    count = _greeting_count(staff)
    if not count:
        return []
    reason = _("%(name)s is on %(date)s: send the greeting to your %(count)d customers.") % {
        "name": festival.name,
        "date": festival.day.isoformat(),
        "count": count,
    }
    if calendar.window_is_guessed(festival):
        first, last = calendar.holiday_coverage()
        reason += " " + _(
            "The holiday data does not cover %(year)d (it covers %(first)d-%(last)d): the "
            "days off are not known, so this reminder counts weekends only. Check the "
            "official arrangement."
        ) % {"year": festival.day.year, "first": first, "last": last}
    return [
        AgendaItem(
            kind="holiday",
            customer=None,
            title=_("%(name)s greetings") % {"name": festival.name},
            reason=reason,
            due=festival.day,
        )
    ]


def solar_term_source(staff: Staff, day: datetime.date) -> list[AgendaItem]:
    """ONE item on the day of a solar term: a health greeting to the person's customers."""
    term = calendar.solar_term_on(day)
    if term is None:
        return []
    count = _greeting_count(staff)
    if not count:
        return []
    return [
        AgendaItem(
            kind="solar_term",
            customer=None,
            title=_("Solar term %(name)s") % {"name": term},
            reason=_("Today is %(name)s: send a health greeting to your %(count)d customers.")
            % {"name": term, "count": count},
            due=day,
        )
    ]


def lifecycle_source(staff: Staff, day: datetime.date) -> list[AgendaItem]:
    rows = _fetch(_LIFECYCLE_SQL, [staff.pk, staff.pk, day, day])
    # The sentences are looked up once, not once per item (a consultant with many
    # owners of cars can have a hundred and more of these on a day).
    text = _("%(rule)s for %(product)s bought on %(bought)s, due %(due)s.")
    ask = " " + _("Ask for a referral.")
    heading = _("%(rule)s: %(name)s")
    items = []
    for customer_id, due, _seq, name, title, rule, referral, product, bought in rows:
        reason = text % {
            "rule": rule,
            "product": product,
            "bought": bought.isoformat(),
            "due": due.isoformat(),
        }
        items.append(
            AgendaItem(
                kind="lifecycle",
                customer=customer_id,
                title=heading % {"rule": rule, "name": _display(name, title, customer_id)},
                reason=reason + ask if referral else reason,
                due=due,
            )
        )
    return items


ALL = (
    birthday_source,
    anniversary_source,
    invitation_source,
    holiday_source,
    solar_term_source,
    lifecycle_source,
)
