"""The public pool (公海, DOMAIN §10).

* **Returning.** :func:`run_pool_rules` (daily, ``kehu.leads.tasks``) returns to the pool
  every owned customer not followed up for ``PoolSettings.return_days[grade]`` days,
  counted from the last follow-up, or from the first registration when there was none,
  and never from before the owner received the customer (an assignment or claim starts
  the clock again). Lost customers go back too when ``return_lost`` is set. Customers
  who signed (deal, owner) never go back. Staff leaving hands customers to a successor
  (``kehu.customers.ownership``), not to the pool.
* **Claiming.** :func:`claim_from_pool`: only customers the claimer sees in the pool
  (:func:`pool_visible_to`), at most ``claim_daily_quota`` a day, not by the previous
  owner within ``no_reclaim_days`` of the return, never beyond ``ownership_cap``. The
  claim is a conditional UPDATE on "nobody owns it", so of two simultaneous claims
  exactly one wins, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kehu.core.audit import record
from kehu.customers.choices import IntentGrade, Stage
from kehu.customers.models import Customer
from kehu.customers.querysets import CustomerQuerySet
from kehu.customers.services import can_edit_customer
from kehu.leads.choices import AssignmentReason, PoolEventKind
from kehu.leads.models import Assignment, PoolEvent, PoolSettings

POOL_ROLES = ("consultant", "manager")
# Customers who signed stay with their consultant whatever the rules say.
NEVER_RETURNED = (Stage.DEAL, Stage.OWNER)
DEFAULT_RETURN_DAYS = {"A": 30, "B": 20, "C": 15, "D": 10, "": 15}


def pool_settings() -> PoolSettings:
    """The one settings row (created with the defaults if a database lacks it)."""
    row, _created = PoolSettings.objects.get_or_create(
        pk=1, defaults={"return_days": dict(DEFAULT_RETURN_DAYS)}
    )
    return row


# Editable settings and their bounds (inclusive).
SETTING_BOUNDS = {
    "claim_daily_quota": (0, 1000),
    "no_reclaim_days": (0, 3650),
    "ownership_cap": (1, 1_000_000),
    "sleeping_days": (1, 3650),
}


@transaction.atomic
def update_pool_settings(*, actor: Any, **changes: Any) -> PoolSettings:
    """Administrators change the pool rules: ``return_days`` ({grade or "": days}),
    ``return_lost``, ``claim_daily_quota``, ``no_reclaim_days``, ``ownership_cap``,
    ``sleeping_days``."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("You are not allowed to do this."))
    errors: dict[str, list[str]] = {}
    for key, value in changes.items():
        if key in SETTING_BOUNDS:
            low, high = SETTING_BOUNDS[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors[key] = [
                    _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
                ]
        elif key == "return_lost":
            if not isinstance(value, bool):
                errors[key] = [_("Must be true or false.")]
        elif key == "return_days":
            grades = [*IntentGrade.values, ""]
            if not isinstance(value, dict) or set(value) - set(grades):
                errors[key] = [
                    _(
                        'Days per intent grade, e.g. {"A": 30, "B": 20, "C": 15, "D": 10, "": 15} '
                        '("" is for customers without a grade).'
                    )
                ]
            elif any(
                not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 3650
                for v in value.values()
            ):
                errors[key] = [_("Each number of days is a whole number from 1 to 3650.")]
        else:
            errors[key] = [_("This field cannot be changed here.")]
    if errors:
        raise ValidationError(errors)
    row = pool_settings()
    fields = ["return_days", *SETTING_BOUNDS, "return_lost"]
    before = {f: getattr(row, f) for f in fields}
    for key, value in changes.items():
        setattr(row, key, dict(value) if key == "return_days" else value)
    row.save()
    after = {f: getattr(row, f) for f in fields}
    if after != before:
        record(actor=actor, action="leads.pool.settings", obj=row, before=before, after=after)
    return row


def owned_count(staff: Any) -> int:
    """How many live customers ``staff`` owns: what the ownership cap limits."""
    return Customer.objects.live().filter(owner=staff).count()


def can_own(staff: Any) -> bool:
    return bool(staff.is_active and (staff.is_admin or staff.has_any_role(*POOL_ROLES)))


def region_path(staff: Any) -> str:
    """The path of the region (second level of the tree) ``staff`` works in; their own
    node's path when they sit at the top; "" when they have no node."""
    if not staff.node_id:
        return ""
    ids = staff.node.ancestor_ids[:2]
    return "/" + "/".join(str(i) for i in ids) + "/"


def pool_visible_to(user: Any) -> CustomerQuerySet:
    """The pool as ``user`` sees it: unowned customers of their region or of no node;
    administrators see all of it. Only people who may own customers (consultants,
    managers, administrators) see the pool at all."""
    qs = Customer.objects.in_pool()
    if not user or not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_admin:
        return qs
    if not user.has_any_role(*POOL_ROLES):
        return qs.none()
    query = Q(node__isnull=True)
    region = region_path(user)
    if region:
        query |= Q(node__path__startswith=region)
    return qs.filter(query)


def _grade_label(grade: str) -> str:
    return grade or _("no grade")


# --- returning ----------------------------------------------------------------------------


def _return(
    customer: Customer, *, actor: Any, reason: str, now: datetime.datetime, **still: Any
) -> PoolEvent | None:
    """Put one customer back in the pool if it is still as the caller saw it (``still``:
    extra conditions, e.g. the follow-up date the rule judged). None when it changed."""
    owner_id = customer.owner_id
    taken = Customer.objects.filter(pk=customer.pk, owner_id=owner_id, **still).update(
        owner=None, previous_owner_id=owner_id, pooled_at=now, protected_until=None
    )
    if not taken:
        return None
    actor_obj = actor if getattr(actor, "pk", None) else None
    event = PoolEvent.objects.create(
        customer_id=customer.pk,
        kind=PoolEventKind.RETURNED,
        staff_id=owner_id,
        reason=reason[:200],
        day=timezone.localdate(now),
    )
    Assignment.objects.create(
        customer_id=customer.pk,
        from_staff_id=owner_id,
        to_staff=None,
        reason=AssignmentReason.POOL,
        actor=actor_obj,
        explanation=reason[:300],
    )
    record(
        actor=actor,
        action="leads.pool.return",
        object_type="customers.customer",
        object_id=customer.pk,
        object_repr=str(customer),
        before={"owner": owner_id},
        after={"owner": None, "reason": reason},
    )
    return event


def run_pool_rules(*, now: datetime.datetime | None = None) -> list[PoolEvent]:
    """Return every customer the rules say nobody follows; the events written, by
    customer id. Idempotent: a second run at the same moment returns nothing more."""
    now = now or timezone.now()
    settings = pool_settings()
    return_days = settings.return_days or {}
    owned = Customer.objects.live().filter(owner__isnull=False)
    events: list[PoolEvent] = []
    for grade in [*IntentGrade.values, ""]:
        days = return_days.get(grade, return_days.get(""))
        if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
            continue
        cutoff = now - datetime.timedelta(days=days)
        recently_received = Assignment.objects.filter(
            customer_id=OuterRef("pk"), to_staff_id=OuterRef("owner_id"), created_at__gte=cutoff
        )
        due = (
            owned.filter(intent_grade=grade)
            .exclude(stage__in=[*NEVER_RETURNED, Stage.LOST])
            .filter(
                Q(last_followup_at__lt=cutoff)
                | Q(last_followup_at__isnull=True, first_registered_at__lt=cutoff)
                | Q(
                    last_followup_at__isnull=True,
                    first_registered_at__isnull=True,
                    created_at__lt=cutoff,
                )
            )
            .exclude(Exists(recently_received))
            .order_by("pk")
        )
        for customer in due:
            since = customer.last_followup_at or customer.first_registered_at or customer.created_at
            reason = _(
                "No follow-up for %(days)d days (grade %(grade)s returns after %(limit)d)."
            ) % {"days": (now - since).days, "grade": _grade_label(grade), "limit": days}
            with transaction.atomic():
                event = _return(
                    customer,
                    actor=None,
                    reason=reason,
                    now=now,
                    last_followup_at=customer.last_followup_at,
                    stage=customer.stage,
                )
            if event is not None:
                events.append(event)
    if settings.return_lost:
        for customer in owned.filter(stage=Stage.LOST).order_by("pk"):
            reason = _("Lost (%(reason)s); back to the pool for someone else to try.") % {
                "reason": customer.lost_reason or _("no reason given")
            }
            with transaction.atomic():
                event = _return(customer, actor=None, reason=reason, now=now, stage=Stage.LOST)
            if event is not None:
                events.append(event)
    events.sort(key=lambda e: e.customer_id)
    return events


@transaction.atomic
def return_to_pool(
    *, actor: Any, customer: Customer, reason: str, now: datetime.datetime | None = None
) -> PoolEvent:
    """The owner gives a customer up, or a manager over it takes it away, with a reason."""
    if actor is None or not can_edit_customer(actor, customer):
        raise PermissionDenied(_("You are not allowed to do this."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the customer goes back to the pool.")]})
    if len(reason) > 200:
        raise ValidationError(
            {
                "reason": [
                    _("At most %(max)d characters (this has %(count)d).")
                    % {"max": 200, "count": len(reason)}
                ]
            }
        )
    customer.refresh_from_db()
    if customer.merged_into_id or customer.owner_id is None:
        raise ValidationError({"customer": [_("This customer is already in the pool.")]})
    if customer.stage in NEVER_RETURNED:
        raise ValidationError(
            {
                "customer": [
                    _(
                        "A customer who signed stays with a consultant; assign it to "
                        "someone else instead."
                    )
                ]
            }
        )
    event = _return(customer, actor=actor, reason=reason, now=now or timezone.now())
    if event is None:
        raise ValidationError({"customer": [_("The owner changed meanwhile; reload and retry.")]})
    customer.refresh_from_db()
    return event


# --- claiming -----------------------------------------------------------------------------


def claimed_today(staff: Any, now: datetime.datetime | None = None) -> int:
    """Claims ``staff`` made on the local day of ``now``: what the daily quota limits."""
    day = timezone.localdate(now or timezone.now())
    return PoolEvent.objects.filter(staff=staff, kind=PoolEventKind.CLAIMED, day=day).count()


@transaction.atomic
def claim_from_pool(
    *, actor: Any, customer: Customer, now: datetime.datetime | None = None
) -> Customer:
    """``actor`` takes a customer from the pool. Refusals say what to do instead."""
    if actor is None or not can_own(actor):
        raise PermissionDenied(_("You are not allowed to do this."))
    now = now or timezone.now()
    current = Customer.objects.live().filter(pk=customer.pk).select_related("channel").first()
    if current is None:
        raise ValidationError({"customer": [_("This customer no longer exists; pick another.")]})
    # Owned first: a claim may have moved the customer to the winner's team meanwhile.
    if current.owner_id is not None:
        raise ValidationError(
            {
                "customer": [
                    _("This customer is not in the pool any more (someone has it); pick another.")
                ]
            }
        )
    region = region_path(actor)
    in_region = (
        actor.is_admin
        or current.node_id is None
        or (bool(region) and current.node.path.startswith(region))
    )
    if not in_region:
        raise PermissionDenied(_("You are not allowed to do this."))
    settings = pool_settings()
    count = claimed_today(actor, now)
    if count >= settings.claim_daily_quota:
        raise ValidationError(
            {
                "customer": [
                    _(
                        "You have claimed %(count)d customers today, your daily quota of "
                        "%(quota)d; claim more tomorrow or ask your manager to assign one."
                    )
                    % {"count": count, "quota": settings.claim_daily_quota}
                ]
            }
        )
    if current.previous_owner_id == actor.pk and current.pooled_at is not None:
        allowed_from = current.pooled_at + datetime.timedelta(days=settings.no_reclaim_days)
        if now < allowed_from:
            raise ValidationError(
                {
                    "customer": [
                        _(
                            "You had this customer until %(pooled)s; you may claim it again "
                            "from %(date)s (after %(days)d days), or ask your manager to "
                            "assign it to you."
                        )
                        % {
                            "pooled": date_format(timezone.localdate(current.pooled_at)),
                            "date": date_format(timezone.localdate(allowed_from)),
                            "days": settings.no_reclaim_days,
                        }
                    ]
                }
            )
    owned = owned_count(actor)
    if owned >= settings.ownership_cap:
        raise ValidationError(
            {
                "customer": [
                    _(
                        "You own %(count)d customers, the cap of %(cap)d; return some to the "
                        "pool before claiming more."
                    )
                    % {"count": owned, "cap": settings.ownership_cap}
                ]
            }
        )
    protection = current.channel.protection_days if current.channel is not None else 30
    won = Customer.objects.filter(
        pk=current.pk, owner__isnull=True, merged_into__isnull=True
    ).update(
        owner=actor,
        node=actor.node if actor.node_id else current.node,
        pooled_at=None,
        protected_until=now + datetime.timedelta(days=protection),
        updated_at=now,
    )
    if not won:
        raise ValidationError(
            {"customer": [_("Someone claimed this customer a moment ago; pick another.")]}
        )
    PoolEvent.objects.create(
        customer_id=current.pk,
        kind=PoolEventKind.CLAIMED,
        staff=actor,
        day=timezone.localdate(now),
    )
    Assignment.objects.create(
        customer_id=current.pk,
        from_staff=None,
        to_staff=actor,
        reason=AssignmentReason.CLAIM,
        actor=actor,
        explanation=_("Claimed from the pool (%(count)d of %(quota)d today).")
        % {"count": count + 1, "quota": settings.claim_daily_quota},
    )
    record(
        actor=actor,
        action="leads.pool.claim",
        obj=current,
        before={"owner": None, "previous_owner": current.previous_owner_id},
        after={"owner": actor.pk},
    )
    customer.refresh_from_db()
    return customer
