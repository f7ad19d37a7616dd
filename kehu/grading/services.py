"""The only writers of grades and key customers. Each service checks who may act, is
atomic (bad input leaves nothing behind) and writes its audit event.

Who may act: on a customer's grades, its owner, the managers over its team and
administrators (``can_edit_customer``); on a key customer, its consultant (submit,
close), the managers over its team (review, close) and administrators.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.audit import record
from kehu.customers import hooks as customer_hooks
from kehu.customers.choices import Stage
from kehu.customers.models import Customer
from kehu.customers.services import can_edit_customer, refresh_completeness
from kehu.grading import rules
from kehu.grading.choices import Horizon, KeyCustomerStatus
from kehu.grading.models import (
    CustomerGrade,
    GradingSettings,
    IntentAssessment,
    KeyCustomer,
    ReferralAssessment,
)

#: Stages at which a customer is still a prospect (may be graded for intent and be a
#: key customer).
PROSPECT_STAGES = [Stage.LEAD, Stage.LEFT_PHONE, Stage.VISITED, Stage.PLEDGED]
MAX_ITEMS = 50
MAX_NOTE = 500
MAX_REASON = 200


def deny() -> PermissionDenied:
    return PermissionDenied(_("You are not allowed to do this."))


def _too_long(limit: int, value: str) -> list[str]:
    return [
        _("At most %(max)d characters (this has %(count)d).") % {"max": limit, "count": len(value)}
    ]


def grading_settings() -> GradingSettings:
    """The one settings row (created with the defaults if a database lacks it)."""
    return GradingSettings.objects.get_or_create(pk=1)[0]


def can_grade(actor: Any, customer: Customer) -> bool:
    return can_edit_customer(actor, customer)


def manages_node(actor: Any, node_id: int | None) -> bool:
    if actor is None or actor.is_admin:
        return True
    return node_id is not None and node_id in actor.managed_node_ids


# --- intent -----------------------------------------------------------------------------


def clean_judgements(judgements: Any) -> dict[str, bool]:
    valid = (*rules.JUDGEMENTS, *rules.ALLOWANCES)
    if not isinstance(judgements, Mapping):
        raise ValidationError(
            {
                "judgements": [
                    _("Give the judgements as true/false: %(valid)s.") % {"valid": ", ".join(valid)}
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    for key, value in judgements.items():
        if key not in valid:
            errors[str(key)[:100]] = [
                _("Unknown judgement; valid: %(valid)s.") % {"valid": ", ".join(valid)}
            ]
        elif not isinstance(value, bool):
            errors[key] = [_("Must be true or false.")]
    if errors:
        raise ValidationError(errors)
    return {key: bool(judgements.get(key, False)) for key in valid}


@transaction.atomic
def assess_intent(
    *, actor: Any, customer: Customer, judgements: Mapping[str, Any], note: str = ""
) -> IntentAssessment:
    """Record the six judgements, set the customer's intent grade from them (DOMAIN §5)
    and keep the assessment as history. Unknown judgements are refused."""
    if not can_grade(actor, customer):
        raise deny()
    held = clean_judgements(judgements)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": _too_long(MAX_NOTE, note)})
    grade, explanation = rules.intent_grade(held)
    row = IntentAssessment.objects.create(
        customer=customer,
        note=note,
        grade=grade,
        explanation=explanation,
        assessed_by=actor if getattr(actor, "pk", None) else None,
        **held,
    )
    before = customer.intent_grade
    if before != grade:
        Customer.objects.filter(pk=customer.pk).update(intent_grade=grade)
        customer.intent_grade = grade
        refresh_completeness(customer)
    record(
        actor=actor,
        action="grading.intent.assess",
        obj=customer,
        before={"intent_grade": before},
        after={"intent_grade": grade, "assessment": row.pk, "rule": explanation["rule"]},
    )
    if before != grade:
        # The next call is due sooner or later (kehu.cadence registers the hook).
        customer_hooks.intent_grade_changed(customer)
    return row


# --- referral ability -------------------------------------------------------------------


def _grade_row(customer: Customer) -> CustomerGrade:
    return CustomerGrade.objects.get_or_create(customer=customer)[0]


@transaction.atomic
def assess_referral(
    *,
    actor: Any,
    customer: Customer,
    loyalty: Any,
    network: Any,
    willingness: Any,
    note: str = "",
) -> ReferralAssessment:
    """Grade a customer's ability to refer (转介绍能力) from loyalty, network and
    willingness, each 1 to 5; kept as history, the newest on CustomerGrade."""
    if not can_grade(actor, customer):
        raise deny()
    factors = {"loyalty": loyalty, "network": network, "willingness": willingness}
    errors = {
        name: [_("A whole number from 1 (low) to 5 (high).")]
        for name, value in factors.items()
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5
    }
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _too_long(MAX_NOTE, note)
    if errors:
        raise ValidationError(errors)
    grade, explanation = rules.referral_grade(loyalty, network, willingness)
    row = ReferralAssessment.objects.create(
        customer=customer,
        note=note,
        grade=grade,
        explanation=explanation,
        assessed_by=actor if getattr(actor, "pk", None) else None,
        **factors,
    )
    grades = _grade_row(customer)
    before = grades.referral_grade
    grades.referral_grade = grade
    grades.referral_explanation = explanation
    grades.referral_assessed_at = row.created_at
    grades.loyalty, grades.network, grades.willingness = loyalty, network, willingness
    grades.save()
    record(
        actor=actor,
        action="grading.referral.assess",
        obj=customer,
        before={"referral_grade": before},
        after={"referral_grade": grade, **factors},
    )
    return row


# --- value grades -----------------------------------------------------------------------


def can_recompute(actor: Any) -> bool:
    return actor is None or actor.is_admin or actor.is_manager


def recompute_value_grades(
    *, actor: Any, customer: Customer | None = None, today: datetime.date | None = None
) -> int:
    """Recompute the value grades: of every customer (the nightly job; managers and
    administrators on demand) or of one (anyone who may grade it). Each id batch
    commits on its own, so a run over a million customers holds no long transaction;
    running it again gives the same grades."""
    from kehu.grading.valuejob import compute_value_grades

    if customer is not None:
        if not can_grade(actor, customer):
            raise deny()
    elif not can_recompute(actor):
        raise deny()
    started = timezone.now()
    count = compute_value_grades(
        today=today, customer_id=customer.pk if customer is not None else None
    )
    record(
        actor=actor,
        action="grading.value.recompute",
        obj=customer,
        object_type="" if customer is not None else "grading.customergrade",
        after={
            "graded": count,
            "seconds": round((timezone.now() - started).total_seconds(), 3),
        },
    )
    return count


# --- key customers ----------------------------------------------------------------------


def _week_errors(week: Any, today: datetime.date) -> list[str]:
    this_week = rules.week_start(today)
    if not isinstance(week, datetime.date) or isinstance(week, datetime.datetime):
        return [_("Give the week as its Monday (YYYY-MM-DD).")]
    if week.weekday() != 0:
        return [
            _("A week is given by its Monday (%(monday)s).") % {"monday": rules.week_start(week)}
        ]
    if week not in (this_week, this_week + datetime.timedelta(days=7)):
        return [
            _("Key customers are submitted for this week (%(this)s) or the next (%(next)s).")
            % {"this": this_week, "next": this_week + datetime.timedelta(days=7)}
        ]
    return []


@transaction.atomic
def submit_key_customers(
    *,
    actor: Any,
    items: list[Mapping[str, Any]],
    week: datetime.date | None = None,
    today: datetime.date | None = None,
) -> list[KeyCustomer]:
    """Submit key customers (重点客户) for this week or the next, all or nothing. Each
    item: ``customer`` (a Customer), ``horizon`` H/A/B/C and optionally
    ``expected_by`` (default: today + the horizon's days). The consultant is the
    customer's owner; a customer is a key customer once a week, and only a prospect."""
    today = today or timezone.localdate()
    week = week if week is not None else rules.week_start(today)
    settings = grading_settings()
    horizons = settings.horizons()
    errors: dict[str, list[str]] = {}
    week_errors = _week_errors(week, today)
    if week_errors:
        errors["week"] = week_errors
    if not items:
        errors["items"] = [_("Submit at least one customer.")]
    elif len(items) > MAX_ITEMS:
        errors["items"] = [_("At most %(max)d customers at once.") % {"max": MAX_ITEMS}]
    if errors:
        raise ValidationError(errors)
    customers = [item["customer"] for item in items]
    if not all(can_grade(actor, c) for c in customers):
        raise deny()
    taken = set(
        KeyCustomer.objects.filter(week=week, customer__in=customers).values_list(
            "customer_id", flat=True
        )
    )
    seen: set[int] = set()
    rows = []
    for index, item in enumerate(items):
        customer = item["customer"]
        horizon = item.get("horizon")
        name = f"items.{index}"
        if horizon not in Horizon.values:
            errors[f"{name}.horizon"] = [
                _("Choose one of: %(valid)s.") % {"valid": ", ".join(Horizon.values)}
            ]
            continue
        if customer.pk in seen:
            errors[f"{name}.customer"] = [_("This customer is in the list twice.")]
        elif customer.pk in taken:
            errors[f"{name}.customer"] = [
                _("%(customer)s is already a key customer for the week of %(week)s.")
                % {"customer": customer, "week": week}
            ]
        elif customer.stage not in PROSPECT_STAGES:
            errors[f"{name}.customer"] = [
                _("%(customer)s is at stage “%(stage)s”: key customers are prospects.")
                % {"customer": customer, "stage": customer.get_stage_display()}
            ]
        elif customer.owner_id is None:
            errors[f"{name}.customer"] = [
                _("%(customer)s has no owner: claim or assign them first.") % {"customer": customer}
            ]
        seen.add(customer.pk)
        by = item.get("expected_by") or rules.expected_by(today, horizon, horizons)
        if by < today:
            errors[f"{name}.expected_by"] = [_("The expected date cannot be in the past.")]
        rows.append(
            KeyCustomer(
                week=week,
                consultant_id=customer.owner_id,
                customer=customer,
                node_id=customer.node_id,
                horizon=horizon,
                expected_by=by,
            )
        )
    if errors:
        raise ValidationError(errors)
    created = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError as exc:  # submitted concurrently by someone else
            raise ValidationError(
                {
                    "items": [
                        _("%(customer)s was just submitted for this week.")
                        % {"customer": row.customer}
                    ]
                }
            ) from exc
        record(
            actor=actor,
            action="grading.key_customer.submit",
            obj=row,
            after={
                "week": week,
                "customer": row.customer_id,
                "consultant": row.consultant_id,
                "horizon": row.horizon,
                "expected_by": row.expected_by,
            },
        )
        created.append(row)
    return created


@transaction.atomic
def review_key_customer(
    *, actor: Any, key_customer: KeyCustomer, note: str = "", now: datetime.datetime | None = None
) -> KeyCustomer:
    """A manager over the key customer's team reviews it (daily): who and when is kept,
    with an optional note."""
    if not manages_node(actor, key_customer.node_id):
        raise deny()
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": _too_long(MAX_NOTE, note)})
    if key_customer.status != KeyCustomerStatus.OPEN:
        raise ValidationError(
            {"non_field_errors": [_("This key customer is closed: there is nothing to review.")]}
        )
    now = now or timezone.now()
    key_customer.reviewed_by = actor if getattr(actor, "pk", None) else None
    key_customer.reviewed_at = now
    key_customer.review_note = note
    key_customer.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    record(
        actor=actor,
        action="grading.key_customer.review",
        obj=key_customer,
        after={"note": note},
    )
    return key_customer


@transaction.atomic
def close_key_customer(
    *,
    actor: Any,
    key_customer: KeyCustomer,
    status: str,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> KeyCustomer:
    """Close a key customer as won or defeated (战败, with a reason). The customer moves
    to the funnel stage that says so (deal, or lost with the reason) when the actor may
    move it and it is not there yet."""
    if not (
        actor is None
        or actor.pk == key_customer.consultant_id
        or manages_node(actor, key_customer.node_id)
    ):
        raise deny()
    errors: dict[str, list[str]] = {}
    if status not in (KeyCustomerStatus.WON, KeyCustomerStatus.DEFEATED):
        errors["status"] = [_("Choose one of: won, defeated.")]
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        errors["reason"] = _too_long(MAX_REASON, reason)
    elif status == KeyCustomerStatus.DEFEATED and not reason:
        errors["reason"] = [_("Say why the customer was defeated (bought elsewhere, price…).")]
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    # Conditional: of two people closing at once, one wins and the other is told.
    closed = KeyCustomer.objects.filter(pk=key_customer.pk, status=KeyCustomerStatus.OPEN).update(
        status=status, reason=reason, closed_at=now
    )
    if not closed:
        raise ValidationError({"status": [_("This key customer is already closed.")]})
    key_customer.refresh_from_db()
    record(
        actor=actor,
        action="grading.key_customer.close",
        obj=key_customer,
        before={"status": KeyCustomerStatus.OPEN},
        after={"status": status, "reason": reason},
    )
    customer = key_customer.customer
    if can_edit_customer(actor, customer) and customer.stage in PROSPECT_STAGES:
        from kehu.activities.services import change_stage

        target = Stage.DEAL if status == KeyCustomerStatus.WON else Stage.LOST
        change_stage(actor=actor, customer=customer, stage=target, reason=reason, at=now)
    return key_customer


def close_on_stage_change(
    customer: Customer, from_stage: str, to_stage: str, actor: Any, at: datetime.datetime
) -> None:
    """Activity hook: a key customer whose customer reaches a deal is won; one whose
    customer is lost is defeated with the customer's reason."""
    if to_stage in (Stage.DEAL, Stage.OWNER):
        status, reason = KeyCustomerStatus.WON, ""
    elif to_stage == Stage.LOST:
        status, reason = KeyCustomerStatus.DEFEATED, (customer.lost_reason or "")[:MAX_REASON]
    else:
        return
    open_ids = list(
        KeyCustomer.objects.filter(customer=customer, status=KeyCustomerStatus.OPEN).values_list(
            "pk", flat=True
        )
    )
    if not open_ids:
        return
    KeyCustomer.objects.filter(pk__in=open_ids, status=KeyCustomerStatus.OPEN).update(
        status=status, reason=reason, closed_at=at
    )
    record(
        actor=actor,
        action="grading.key_customer.close",
        obj=customer,
        after={"status": status, "reason": reason, "key_customers": open_ids, "stage": to_stage},
    )


# --- settings ---------------------------------------------------------------------------

SETTING_BOUNDS = {
    "horizon_h_days": (1, 365),
    "horizon_a_days": (1, 365),
    "horizon_b_days": (1, 365),
    "horizon_c_days": (1, 365),
    "weekly_minimum": (0, 50),
    "value_top_share": (0, 100),
    "value_growth": (0, 1000),
}
TEXT_SETTINGS = ("agent_tag_dimension", "agent_tag_name")
VALUE_SETTINGS = ("value_top_share", "value_growth", *TEXT_SETTINGS)


@transaction.atomic
def update_settings(*, actor: Any, **changes: Any) -> GradingSettings:
    """Administrators change the grading configuration. Changing the value-grade rule
    has the worker recompute every value grade after commit."""
    if actor is not None and not actor.is_admin:
        raise deny()
    errors: dict[str, list[str]] = {}
    for key, value in changes.items():
        if key in SETTING_BOUNDS:
            low, high = SETTING_BOUNDS[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors[key] = [
                    _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
                ]
        elif key in TEXT_SETTINGS:
            if not isinstance(value, str) or not value.strip() or len(value.strip()) > 50:
                errors[key] = [_("Text of 1 to 50 characters.")]
        else:
            errors[str(key)[:100]] = [_("This field cannot be changed here.")]
    if errors:
        raise ValidationError(errors)
    row = grading_settings()
    fields = [*SETTING_BOUNDS, *TEXT_SETTINGS]
    before = {f: getattr(row, f) for f in fields}
    for key, value in changes.items():
        setattr(row, key, value.strip() if isinstance(value, str) else value)
    days = [row.horizon_h_days, row.horizon_a_days, row.horizon_b_days, row.horizon_c_days]
    if days != sorted(days):
        raise ValidationError(
            {
                "non_field_errors": [
                    _(
                        "The horizons must not shrink from H to C "
                        "(now H %(h)d, A %(a)d, B %(b)d, C %(c)d)."
                    )
                    % dict(zip("habc", days, strict=True))
                ]
            }
        )
    row.save()
    after = {f: getattr(row, f) for f in fields}
    if before != after:
        record(actor=actor, action="grading.settings.update", obj=row, before=before, after=after)
        if any(before[f] != after[f] for f in VALUE_SETTINGS):
            from kehu.grading.tasks import recompute_value_grades_task

            transaction.on_commit(recompute_value_grades_task.enqueue)
    return row
