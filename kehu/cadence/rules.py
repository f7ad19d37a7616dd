"""The call cadence as pure functions (STYLE rule 14): plain data in, plain data out.

Used by the activity hook (one customer), the nightly recompute (every customer, in
batches), the agenda (the kind of an item on a given day) and the tests, without a
database.

* Each intent grade has a rule: call every ``interval_days`` days after the last
  contact (A 1, B 3, C 12 by default), or, for D, at the next marketing milestone after
  the last contact.
* Every customer also gets a callback at least every ``CALLBACK`` days (90 by default);
  a customer with no grade has only the callback.
* A customer never contacted is due at once (on ``today``).
* On a given day: due before it → ``overdue``; due on it → ``call_due``, or ``callback``
  when the 3-month callback is what made it due.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

#: The row of CadenceRule holding the callback interval (not a grade).
CALLBACK = "callback"
GRADES = ("A", "B", "C", "D")
RULE_KEYS = (*GRADES, CALLBACK)

#: Defaults seeded by the data migration (DOMAIN §6).
DEFAULT_INTERVALS: dict[str, int | None] = {"A": 1, "B": 3, "C": 12, "D": None, CALLBACK: 90}
DEFAULT_USES_MILESTONES = {"A": False, "B": False, "C": False, "D": True, CALLBACK: False}

#: What the stored ``due_kind`` says made a customer due.
DUE_CALL = "call_due"
DUE_CALLBACK = "callback"

MIN_INTERVAL = 1
MAX_INTERVAL = 366


@dataclass(frozen=True)
class Rule:
    """One grade's cadence: every ``interval_days`` days, or at milestones."""

    interval_days: int | None = None
    uses_milestones: bool = False


@dataclass(frozen=True)
class MilestoneDate:
    date: datetime.date
    name: str


@dataclass(frozen=True)
class Due:
    """When a customer is next due and why (what the CustomerCadence row stores)."""

    next_due: datetime.date
    due_kind: str  # DUE_CALL or DUE_CALLBACK
    callback_due: datetime.date
    milestone: str = ""


def compute_due(
    grade: str,
    last_contact: datetime.date | None,
    rule: Rule | None,
    callback_days: int,
    milestones: Iterable[MilestoneDate],
    today: datetime.date,
) -> Due:
    """The next due date of one customer. ``milestones`` are those that apply to the
    customer (any order); ``today`` only matters for a customer never contacted."""
    base = last_contact or today
    callback_due = base + datetime.timedelta(days=callback_days) if last_contact else today
    grade_due: datetime.date | None = None
    milestone = ""
    if grade and rule is not None:
        if rule.uses_milestones:
            # The first milestone after the last contact (on or after today if never
            # contacted): a milestone passed without a call is overdue.
            after = [
                m
                for m in milestones
                if (m.date > last_contact if last_contact else m.date >= today)
            ]
            if after:
                first = min(after, key=lambda m: (m.date, m.name))
                grade_due, milestone = first.date, first.name
        elif rule.interval_days:
            grade_due = (
                base + datetime.timedelta(days=rule.interval_days) if last_contact else today
            )
    if grade_due is not None and grade_due <= callback_due:
        return Due(grade_due, DUE_CALL, callback_due, milestone)
    return Due(callback_due, DUE_CALLBACK, callback_due)


def kind_on(next_due: datetime.date, due_kind: str, day: datetime.date) -> str | None:
    """The agenda kind of a customer due on ``next_due`` seen on ``day`` (None: not yet)."""
    if next_due < day:
        return "overdue"
    if next_due == day:
        return DUE_CALLBACK if due_kind == DUE_CALLBACK else DUE_CALL
    return None


def next_due(
    grade: str,
    last_contact: datetime.date | None,
    rule: Rule | None,
    milestones: Sequence[MilestoneDate],
    today: datetime.date,
    *,
    callback_days: int = 90,
) -> tuple[datetime.date, str | None, str]:
    """``(due, kind, reason)``: when the customer is due, the agenda kind on ``today``
    (``overdue``, ``call_due``, ``callback``, or None when not yet due) and why."""
    due = compute_due(grade, last_contact, rule, callback_days, milestones, today)
    return (
        due.next_due,
        kind_on(due.next_due, due.due_kind, today),
        reason(grade, due.due_kind, last_contact, rule, due.milestone, callback_days),
    )


def reason_templates() -> dict[str, str]:
    """The reasons' sentences in the active language (looked up once per agenda)."""
    return {
        "never": _("Never contacted."),
        "callback": _("Callback at least every %(days)d days; last contact %(last)s."),
        "milestone": _("Grade %(grade)s: call at the milestone “%(name)s”; last contact %(last)s."),
        "interval": _("Grade %(grade)s: call every %(days)d days; last contact %(last)s."),
        "daily": _("Grade %(grade)s: call every day; last contact %(last)s."),
    }


def reason(
    grade: str,
    due_kind: str,
    last_contact: datetime.date | None,
    rule: Rule | None,
    milestone: str,
    callback_days: int,
    templates: dict[str, str] | None = None,
) -> str:
    """Why a customer is due, in the request's language."""
    t = templates or reason_templates()
    if last_contact is None:
        return t["never"]
    last = last_contact.isoformat()
    if due_kind == DUE_CALLBACK:
        return t["callback"] % {"days": callback_days, "last": last}
    if milestone:
        return t["milestone"] % {"grade": grade, "name": milestone, "last": last}
    days = rule.interval_days if rule else 0
    if days == 1:
        return t["daily"] % {"grade": grade, "last": last}
    return t["interval"] % {"grade": grade, "days": days or 0, "last": last}


def check_rule(key: str, interval_days: int | None, uses_milestones: bool) -> dict[str, list[str]]:
    """Errors of a rule edit, by field (empty when valid)."""
    errors: dict[str, list[str]] = {}
    if key not in RULE_KEYS:
        errors["grade"] = [_("Choose one of: %(valid)s.") % {"valid": ", ".join(RULE_KEYS)}]
        return errors
    if key == CALLBACK and uses_milestones:
        errors["uses_milestones"] = [_("The callback is a number of days, not milestones.")]
    if interval_days is None and not uses_milestones:
        errors["interval_days"] = [_("Give a number of days, or call at milestones.")]
    if interval_days is not None and not MIN_INTERVAL <= interval_days <= MAX_INTERVAL:
        errors["interval_days"] = [
            _("Between %(min)d and %(max)d days.") % {"min": MIN_INTERVAL, "max": MAX_INTERVAL}
        ]
    return errors
