"""Follow-ups and the funnel: the only writers of activities and stage changes."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities import hooks
from kehu.activities.choices import ActivityKind, LostReason, Outcome
from kehu.activities.models import Activity, StageChange
from kehu.core.audit import record
from kehu.customers.choices import FUNNEL_ORDER, Stage
from kehu.customers.models import Customer
from kehu.customers.services import can_edit_customer, refresh_completeness


def record_stage_change(
    *,
    customer: Customer,
    from_stage: str,
    to_stage: str,
    actor: Any,
    reason: str = "",
    at: datetime.datetime | None = None,
) -> StageChange:
    """Append one row to the stage history (no permission check: callers have done it)."""
    row = stage_change_row(
        customer=customer,
        from_stage=from_stage,
        to_stage=to_stage,
        actor=actor,
        reason=reason,
        at=at,
    )
    row.save(force_insert=True)
    return row


def stage_change_row(
    *,
    customer: Customer,
    from_stage: str,
    to_stage: str,
    actor: Any,
    reason: str = "",
    at: datetime.datetime | None = None,
) -> StageChange:
    """The unsaved stage-history row (the registration fast path inserts it together
    with the customer)."""
    return StageChange(
        customer=customer,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason[:200],
        actor=actor if getattr(actor, "pk", None) else None,
        node_id=customer.node_id,
        owner_id=customer.owner_id,
        channel_id=customer.channel_id,
        created_at=at or timezone.now(),
    )


def can_follow_up(actor: Any, customer: Customer) -> bool:
    return can_edit_customer(actor, customer)


@transaction.atomic
def change_stage(
    *,
    actor: Any,
    customer: Customer,
    stage: str,
    reason: str = "",
    at: datetime.datetime | None = None,
) -> Customer:
    """Move a customer through the funnel. Forward moves may skip stages; going back is
    allowed only to correct a mistake and needs a reason; LOST needs a reason too."""
    if not can_follow_up(actor, customer):
        raise PermissionDenied(_("You are not allowed to do this."))
    if stage not in Stage.values:
        raise ValidationError(
            {"stage": [_("Choose one of: %(valid)s.") % {"valid": ", ".join(Stage.values)}]}
        )
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationError(
            {
                "reason": [
                    _("At most %(max)d characters (this has %(count)d).")
                    % {"max": 200, "count": len(reason)}
                ]
            }
        )
    if stage == customer.stage:
        return customer
    if stage == Stage.LOST and not reason:
        raise ValidationError(
            {
                "reason": [
                    _("Say why the customer was lost (%(valid)s…).")
                    % {"valid": ", ".join(LostReason.values)}
                ]
            }
        )
    if (
        stage != Stage.LOST
        and customer.stage != Stage.LOST
        and FUNNEL_ORDER.index(Stage(stage)) < FUNNEL_ORDER.index(Stage(customer.stage))
        and not reason
    ):
        raise ValidationError({"reason": [_("Moving a customer back needs a reason.")]})
    before = customer.stage
    customer.stage = stage
    customer.lost_reason = reason if stage == Stage.LOST else ""
    customer.save(update_fields=["stage", "lost_reason", "updated_at"])
    refresh_completeness(customer)
    record_stage_change(
        customer=customer, from_stage=before, to_stage=stage, actor=actor, reason=reason, at=at
    )
    record(
        actor=actor,
        action="activities.stage.change",
        obj=customer,
        before={"stage": before},
        after={"stage": stage, "reason": reason},
    )
    hooks.stage_changed(customer, before, stage, actor, at or timezone.now())
    return customer


@transaction.atomic
def log_activity(
    *,
    actor: Any,
    customer: Customer,
    kind: str,
    outcome: str = "",
    note: str = "",
    occurred_at: datetime.datetime | None = None,
) -> Activity:
    """Record a follow-up. A visit moves a lead forward to VISITED and counts toward the
    visits that raise the completeness requirements; every activity resets sleeping."""
    if not can_follow_up(actor, customer):
        raise PermissionDenied(_("You are not allowed to do this."))
    errors: dict[str, list[str]] = {}
    if kind not in ActivityKind.values:
        errors["kind"] = [
            _("Choose one of: %(valid)s.") % {"valid": ", ".join(ActivityKind.values)}
        ]
    if outcome and outcome not in Outcome.values:
        errors["outcome"] = [_("Choose one of: %(valid)s.") % {"valid": ", ".join(Outcome.values)}]
    if len(note or "") > 4000:
        errors["note"] = [
            _("At most %(max)d characters (this has %(count)d).")
            % {"max": 4000, "count": len(note)}
        ]
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + datetime.timedelta(minutes=5):
        errors["occurred_at"] = [_("A follow-up cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    activity = Activity.objects.create(
        customer=customer,
        staff=actor,
        kind=kind,
        outcome=outcome or "",
        note=note or "",
        occurred_at=occurred_at,
    )
    updates: dict[str, Any] = {}
    if customer.last_followup_at is None or occurred_at > customer.last_followup_at:
        updates["last_followup_at"] = occurred_at
    if kind == ActivityKind.VISIT:
        updates["visit_count"] = F("visit_count") + 1
    if updates:
        Customer.objects.filter(pk=customer.pk).update(**updates)
        customer.refresh_from_db()
    if kind == ActivityKind.VISIT and customer.stage in (Stage.LEAD, Stage.LEFT_PHONE):
        change_stage(
            actor=actor, customer=customer, stage=Stage.VISITED, reason="visit", at=occurred_at
        )
    else:
        refresh_completeness(customer)
    record(
        actor=actor,
        action="activities.activity.log",
        obj=customer,
        after={"kind": kind, "outcome": outcome, "activity": activity.pk},
    )
    hooks.activity_logged(activity, customer)
    return activity
