"""The only writers of cadence rules, milestones and next-due dates.

Next-due dates are maintained as work happens, never recomputed on a read:

* an activity logged (kehu.activities hook) or a stage change to or from LOST →
  :func:`refresh_due` for that customer, in the same transaction;
* an intent grade changed (the grading app calls :func:`refresh_due`);
* a rule or a milestone changed → :func:`recompute_all` after commit (a task), and
  nightly (the ``cadence-recompute`` ScheduledJob) to catch new customers and
  milestones that have passed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.cadence import rules
from kehu.cadence.models import CadenceRule, CustomerCadence, Milestone
from kehu.core.audit import record
from kehu.customers.choices import Stage
from kehu.customers.models import Customer
from kehu.org.models import OrgNode, Project

BATCH = 5000
MIN_YEAR = 2000
MAX_YEAR = 2100
FIELDS = ["next_due", "due_kind", "callback_due", "grade", "last_contact", "milestone"]


def check_day(value: datetime.date, field: str = "date") -> None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            {
                field: [
                    _("Give a year from %(min)d to %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR}
                ]
            }
        )


# --- computing -------------------------------------------------------------------------------


class Rulebook:
    """The rules and the upcoming milestones, read once for a batch of customers."""

    def __init__(self, today: datetime.date, since: datetime.date | None = None) -> None:
        self.today = today
        by_key = {r.grade: r for r in CadenceRule.objects.all()}
        self.rules = {g: by_key[g].as_rule() for g in rules.GRADES if g in by_key}
        callback = by_key.get(rules.CALLBACK)
        self.callback_days = (
            callback.interval_days
            if callback and callback.interval_days
            else rules.DEFAULT_INTERVALS[rules.CALLBACK] or 90
        )
        self.uses_milestones = any(r.uses_milestones for r in self.rules.values())
        self._milestones: list[tuple[int | None, rules.MilestoneDate]] | None = None
        self._since = since
        self._by_node: dict[int | None, list[rules.MilestoneDate]] = {}
        self._paths: dict[int, list[int]] = {}

    def milestones_for(self, node_id: int | None) -> list[rules.MilestoneDate]:
        if not self.uses_milestones:
            return []
        if self._milestones is None:
            query = Milestone.objects.all()
            if self._since is not None:
                query = query.filter(date__gte=self._since)
            self._milestones = [
                (node, rules.MilestoneDate(date, name))
                for node, date, name in query.values_list("node_id", "date", "name")
            ]
            if any(node is not None for node, _m in self._milestones):
                self._paths = {
                    pk: [int(p) for p in path.strip("/").split("/") if p]
                    for pk, path in OrgNode.objects.values_list("pk", "path")
                }
        if node_id not in self._by_node:
            above = set(self._paths.get(node_id, [])) if node_id else set()
            self._by_node[node_id] = [
                m for node, m in self._milestones if node is None or node in above
            ]
        return self._by_node[node_id]

    def compute(
        self,
        *,
        grade: str,
        stage: str,
        last_followup_at: datetime.datetime | None,
        node_id: int | None,
    ) -> dict[str, Any]:
        last = timezone.localdate(last_followup_at) if last_followup_at else None
        values: dict[str, Any] = {"grade": grade or "", "last_contact": last, "milestone": ""}
        if stage == Stage.LOST:
            values.update(next_due=None, due_kind=rules.DUE_CALL, callback_due=None)
            return values
        rule = self.rules.get(grade) if grade else None
        milestones = self.milestones_for(node_id) if rule and rule.uses_milestones else []
        due = rules.compute_due(grade, last, rule, self.callback_days, milestones, self.today)
        values.update(
            next_due=due.next_due,
            due_kind=due.due_kind,
            callback_due=due.callback_due,
            milestone=due.milestone,
        )
        return values


def refresh_due(customer: Customer, *, today: datetime.date | None = None) -> CustomerCadence:
    """Recompute one customer's next due date (after a call, a grade or stage change).
    Three queries at most; the grading app calls it after changing an intent grade."""
    book = Rulebook(today or timezone.localdate())
    values = book.compute(
        grade=customer.intent_grade,
        stage=customer.stage,
        last_followup_at=customer.last_followup_at,
        node_id=customer.node_id,
    )
    values["owner_id"] = customer.owner_id
    row, _created = CustomerCadence.objects.update_or_create(customer=customer, defaults=values)
    return row


def on_activity_logged(activity: Any, customer: Customer) -> None:
    refresh_due(customer)


def on_customer_merged(customer: Customer) -> None:
    refresh_due(customer)


def on_intent_grade_changed(customer: Customer) -> None:
    refresh_due(customer)


def on_stage_changed(
    customer: Customer, from_stage: str, to_stage: str, actor: Any, at: datetime.datetime
) -> None:
    if Stage.LOST in (from_stage, to_stage):
        refresh_due(customer)


def recompute_all(
    *, today: datetime.date | None = None, batch: int = BATCH, grades: Iterable[str] | None = None
) -> int:
    """Recompute every live customer's row (or only those of ``grades``), in batches by
    primary key, each batch one SELECT and one upsert (which also re-copies the owner).
    Idempotent; returns the count."""
    today = today or timezone.localdate()
    book = Rulebook(today, since=today - datetime.timedelta(days=400))
    query = Customer.objects.filter(merged_into__isnull=True)
    if grades is not None:
        query = query.filter(intent_grade__in=list(grades))
    done = 0
    after = 0
    while True:
        rows = list(
            query.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", "intent_grade", "stage", "last_followup_at", "node_id", "owner_id")[
                :batch
            ]
        )
        if not rows:
            break
        objs = [
            CustomerCadence(
                customer_id=pk,
                owner_id=owner,
                **book.compute(grade=grade, stage=stage, last_followup_at=last, node_id=node),
            )
            for pk, grade, stage, last, node, owner in rows
        ]
        with transaction.atomic():
            CustomerCadence.objects.bulk_create(
                objs,
                update_conflicts=True,
                unique_fields=["customer"],
                update_fields=[*FIELDS, "owner", "computed_at"],
            )
        done += len(rows)
        after = rows[-1][0]
    return done


def _recompute_later(grades: Iterable[str] | None = None) -> None:
    from kehu.cadence.tasks import recompute_cadences_task

    grade_list = sorted(grades) if grades is not None else None
    transaction.on_commit(lambda: recompute_cadences_task.enqueue(grades=grade_list))


# --- rules -----------------------------------------------------------------------------------


def can_edit_rules(actor: Any) -> bool:
    return bool(actor and getattr(actor, "is_authenticated", False) and actor.is_admin)


@transaction.atomic
def update_rule(
    *,
    actor: Any,
    grade: str,
    interval_days: int | None = None,
    uses_milestones: bool | None = None,
) -> CadenceRule:
    """Change one grade's cadence (administrators). Every customer of that grade is
    recomputed after commit (all customers when the callback changes)."""
    if not can_edit_rules(actor):
        raise PermissionDenied(_("Only an administrator can change the cadence rules."))
    if grade not in rules.RULE_KEYS:
        raise ValidationError(
            {"grade": [_("Choose one of: %(valid)s.") % {"valid": ", ".join(rules.RULE_KEYS)}]}
        )
    rule = CadenceRule.objects.select_for_update().filter(grade=grade).first()
    if rule is None:
        rule = CadenceRule(grade=grade, interval_days=rules.DEFAULT_INTERVALS[grade])
        rule.uses_milestones = rules.DEFAULT_USES_MILESTONES[grade]
    before = {"interval_days": rule.interval_days, "uses_milestones": rule.uses_milestones}
    new_interval = interval_days if interval_days is not None else rule.interval_days
    new_milestones = rule.uses_milestones if uses_milestones is None else uses_milestones
    if uses_milestones is False and interval_days is None and rule.interval_days is None:
        new_interval = None
    errors = rules.check_rule(grade, new_interval, new_milestones)
    if errors:
        raise ValidationError(errors)
    rule.interval_days = new_interval
    rule.uses_milestones = new_milestones
    rule.save()
    after = {"interval_days": rule.interval_days, "uses_milestones": rule.uses_milestones}
    record(actor=actor, action="cadence.rule.update", obj=rule, before=before, after=after)
    if before != after:
        _recompute_later(None if grade == rules.CALLBACK else [grade])
    return rule


# --- milestones ------------------------------------------------------------------------------


def can_manage_milestones(actor: Any) -> bool:
    return bool(
        actor
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
        and (actor.is_admin or actor.is_manager)
    )


def _check_milestone(
    actor: Any, date: datetime.date, name: str, node: OrgNode | None, project: Project | None
) -> str:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the milestone a name (an opening, a launch, an event).")]
    elif len(name) > 100:
        errors["name"] = [
            _("At most %(max)d characters (this has %(count)d).") % {"max": 100, "count": len(name)}
        ]
    if not MIN_YEAR <= date.year <= MAX_YEAR:
        errors["date"] = [
            _("Give a year from %(min)d to %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR}
        ]
    if not actor.is_admin and (node is None or node.pk not in actor.managed_node_ids):
        errors["node"] = [_("Choose a node in the part of the company you manage.")]
    if (
        project is not None
        and node is not None
        and not project.node.path.startswith(node.path)
        and not node.path.startswith(project.node.path)
    ):
        errors["project"] = [_("Choose a project of that node.")]
    if errors:
        raise ValidationError(errors)
    return name


@transaction.atomic
def create_milestone(
    *,
    actor: Any,
    date: datetime.date,
    name: str,
    node: OrgNode | None = None,
    project: Project | None = None,
) -> Milestone:
    """Add a marketing milestone: administrators anywhere (or company-wide), managers
    in their subtree. D customers are recomputed after commit."""
    if not can_manage_milestones(actor):
        raise PermissionDenied(_("Only managers and administrators manage milestones."))
    if node is None and project is not None and not actor.is_admin:
        node = project.node
    name = _check_milestone(actor, date, name, node, project)
    milestone = Milestone.objects.create(
        date=date, name=name, node=node, project=project, created_by=actor
    )
    record(
        actor=actor,
        action="cadence.milestone.create",
        obj=milestone,
        after={"date": date.isoformat(), "name": name, "node": node.pk if node else None},
    )
    _recompute_later(rules.GRADES)
    return milestone


@transaction.atomic
def update_milestone(
    *,
    actor: Any,
    milestone: Milestone,
    date: datetime.date | None = None,
    name: str | None = None,
) -> Milestone:
    if not Milestone.objects.editable_by(actor).filter(pk=milestone.pk).exists():
        raise PermissionDenied(_("You may only change milestones of the part you manage."))
    before = {"date": milestone.date.isoformat(), "name": milestone.name}
    new_date = date if date is not None else milestone.date
    new_name = _check_milestone(
        actor,
        new_date,
        name if name is not None else milestone.name,
        milestone.node,
        milestone.project,
    )
    milestone.date, milestone.name = new_date, new_name
    milestone.save(update_fields=["date", "name", "updated_at"])
    record(
        actor=actor,
        action="cadence.milestone.update",
        obj=milestone,
        before=before,
        after={"date": new_date.isoformat(), "name": new_name},
    )
    _recompute_later(rules.GRADES)
    return milestone


@transaction.atomic
def delete_milestone(*, actor: Any, milestone: Milestone) -> None:
    if not Milestone.objects.editable_by(actor).filter(pk=milestone.pk).exists():
        raise PermissionDenied(_("You may only change milestones of the part you manage."))
    record(
        actor=actor,
        action="cadence.milestone.delete",
        obj=milestone,
        before={"date": milestone.date.isoformat(), "name": milestone.name},
    )
    milestone.delete()
    _recompute_later(rules.GRADES)
