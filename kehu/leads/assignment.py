"""Assignment (分配): by hand, one or many, and weighted round-robin (DOMAIN §10:
fair, explainable assignment).

Every change of owner writes an ``Assignment`` row saying why, and an audit event. A
customer that could not be assigned says why not.

Round-robin is nginx's *smooth weighted round-robin*: at each pick every eligible
consultant gains their weight (``Staff.capacity``) in credit, the one with the most
credit gets the customer and pays back the total weight. Over any run of picks each
person's share is as close to ``weight / total`` as whole customers allow (capacities
100/100/50 give 2, 2, 1 in every five), and picks are spread out rather than in
bursts. The credits live in ``RoundRobinCursor`` (one row per node), so fairness holds
across calls, and ties go to the lowest staff id, so the order is deterministic.
Consultants with capacity 0 are skipped, and so is anyone at the ownership cap.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.audit import record
from kehu.customers.models import Customer
from kehu.leads.choices import AssignmentReason
from kehu.leads.models import Assignment, RoundRobinCursor
from kehu.leads.pool import owned_count, pool_settings, pool_visible_to

RECEIVER_ROLES = ("consultant", "manager")
MAX_NOTE = 200


def _manages(actor: Any, node: Any) -> bool:
    if actor is None or actor.is_admin:
        return True
    if node is None:
        return False
    return any(node.path.startswith(p) for p in actor.managed_paths)


def can_assign(actor: Any, customer: Customer) -> bool:
    """Administrators; managers over the customer's team; and managers for unowned
    customers they see in the pool (of their region, or of no team)."""
    if actor is None or actor.is_admin:
        return True
    if not actor.is_active or not actor.is_manager:
        return False
    if _manages(actor, customer.node):
        return True
    return customer.owner_id is None and pool_visible_to(actor).filter(pk=customer.pk).exists()


def _fresh(customers: Iterable[Customer]) -> list[Customer]:
    """The customers as the database has them now, in the order given, once each."""
    ids = list(dict.fromkeys(c.pk for c in customers))
    rows = Customer.objects.select_related("node", "owner", "channel").in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


def _protection(customer: Customer, now: datetime.datetime) -> datetime.datetime:
    """A new owner is protected like a registrant: the channel's period from now,
    unless the customer is already protected for longer."""
    days = customer.channel.protection_days if customer.channel is not None else 30
    until = now + datetime.timedelta(days=days)
    if customer.protected_until and customer.protected_until > until:
        return customer.protected_until
    return until


def _give(
    *,
    actor: Any,
    customer: Customer,
    to_staff: Any,
    reason: str,
    explanation: str,
    now: datetime.datetime,
) -> bool:
    """Move one customer to ``to_staff`` if its owner is still the one we read."""
    old = customer.owner_id
    taken = Customer.objects.filter(pk=customer.pk, owner_id=old, merged_into__isnull=True).update(
        owner=to_staff,
        node_id=to_staff.node_id or customer.node_id,
        previous_owner_id=old if old is not None else customer.previous_owner_id,
        pooled_at=None,
        protected_until=_protection(customer, now),
        updated_at=now,
    )
    if not taken:
        return False
    Assignment.objects.create(
        customer=customer,
        from_staff_id=old,
        to_staff=to_staff,
        reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
        explanation=explanation[:300],
    )
    record(
        actor=actor,
        action="leads.customer.assign",
        obj=customer,
        before={"owner": old},
        after={"owner": to_staff.pk, "reason": reason, "explanation": explanation[:300]},
    )
    return True


def _check_receiver(actor: Any, to_staff: Any) -> None:
    if not _manages(actor, to_staff.node):
        raise PermissionDenied(_("You are not allowed to do this."))
    if not to_staff.is_active:
        raise ValidationError({"to_staff": [_("This person has left; choose an active one.")]})
    if not to_staff.has_any_role(*RECEIVER_ROLES):
        raise ValidationError(
            {"to_staff": [_("Customers go to a consultant or a manager; choose one of them.")]}
        )


@transaction.atomic
def assign_customers(
    *, actor: Any, customers: Iterable[Customer], to_staff: Any, reason_note: str = ""
) -> list[dict[str, Any]]:
    """Give one or many customers to ``to_staff``; all or nothing. Returns one
    ``{"customer", "to", "reason"}`` per customer (those already theirs are unchanged)."""
    rows = _fresh(customers)
    if not all(can_assign(actor, c) for c in rows):
        raise PermissionDenied(_("You are not allowed to do this."))
    _check_receiver(actor, to_staff)
    note = (reason_note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(
            {
                "reason_note": [
                    _("At most %(max)d characters (this has %(count)d).")
                    % {"max": MAX_NOTE, "count": len(note)}
                ]
            }
        )
    if not rows:
        raise ValidationError({"customers": [_("Choose at least one customer.")]})
    merged = [c.pk for c in rows if c.merged_into_id]
    if merged:
        raise ValidationError(
            {
                "customers": [
                    _("Merged into another record, choose that one instead: %(ids)s.")
                    % {"ids": ", ".join(f"#{pk}" for pk in merged)}
                ]
            }
        )
    new = [c for c in rows if c.owner_id != to_staff.pk]
    cap = pool_settings().ownership_cap
    owned = owned_count(to_staff)
    if owned + len(new) > cap:
        raise ValidationError(
            {
                "to_staff": [
                    _(
                        "%(name)s owns %(owned)d customers and the ownership cap is %(cap)d: "
                        "%(count)d more would exceed it. Choose someone else or fewer customers."
                    )
                    % {"name": to_staff, "owned": owned, "cap": cap, "count": len(new)}
                ]
            }
        )
    now = timezone.now()
    who = str(actor) if actor is not None else _("the system")
    results: list[dict[str, Any]] = []
    for customer in rows:
        if customer.owner_id == to_staff.pk:
            results.append(
                {
                    "customer": customer,
                    "to": to_staff,
                    "reason": _("Already owned by %(name)s; unchanged.") % {"name": to_staff},
                }
            )
            continue
        explanation = _("Assigned by %(actor)s to %(name)s.") % {"actor": who, "name": to_staff}
        if note:
            explanation = f"{explanation} {note}"
        if not _give(
            actor=actor,
            customer=customer,
            to_staff=to_staff,
            reason=AssignmentReason.MANUAL,
            explanation=explanation,
            now=now,
        ):
            raise ValidationError(
                {
                    "customers": [
                        _("#%(id)d changed meanwhile; reload and retry.") % {"id": customer.pk}
                    ]
                }
            )
        customer.refresh_from_db()
        results.append({"customer": customer, "to": to_staff, "reason": explanation[:300]})
    return results


def weighted_pick(weights: dict[int, int], credits: dict[int, int]) -> int:
    """One step of smooth weighted round-robin (a pure function but for ``credits``,
    updated in place): everyone gains their weight, the richest (first of equals, in
    ``weights`` order) is chosen and pays back the total."""
    total = sum(weights.values())
    for pk, weight in weights.items():
        credits[pk] = credits.get(pk, 0) + weight
    best = max(weights, key=lambda pk: credits[pk])
    credits[best] -= total
    return best


def _cursor(node: Any) -> RoundRobinCursor:
    RoundRobinCursor.objects.get_or_create(node=node)
    # Locks the row for this call on PostgreSQL; SQLite serialises writers anyway. Only
    # fairness depends on it: each customer is taken by a conditional UPDATE.
    return RoundRobinCursor.objects.select_for_update().get(node=node)


def _nobody_message(node: Any, consultants: int, with_capacity: int, cap: int) -> str:
    if not consultants:
        return _("Nobody to assign to in %(node)s: it has no active consultant.") % {"node": node}
    if not with_capacity:
        return _("Nobody to assign to in %(node)s: every consultant has capacity 0.") % {
            "node": node
        }
    return _(
        "Nobody to assign to in %(node)s: every consultant with capacity is at the "
        "ownership cap of %(cap)d."
    ) % {"node": node, "cap": cap}


@transaction.atomic
def assign_round_robin(
    *, actor: Any, customers: Iterable[Customer], node: Any
) -> list[dict[str, Any]]:
    """Share unowned customers among the active consultants of ``node``'s subtree by
    smooth weighted round-robin. Returns, in order, ``{"customer", "to", "reason"}`` for
    each assigned customer and ``{"customer", "to": None, "why_not"}`` for the others."""
    from kehu.org.models import Staff

    rows = _fresh(customers)
    if not _manages(actor, node) or not all(can_assign(actor, c) for c in rows):
        raise PermissionDenied(_("You are not allowed to do this."))
    if not rows:
        raise ValidationError({"customers": [_("Choose at least one customer.")]})
    consultants = list(
        Staff.objects.active().with_role("consultant").in_subtree(node).order_by("pk").distinct()
    )
    weights = {s.pk: s.capacity for s in consultants if s.capacity > 0}
    people = {s.pk: s for s in consultants}
    cap = pool_settings().ownership_cap
    owned = dict(
        Customer.objects.live()
        .filter(owner_id__in=list(weights))
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    cursor = _cursor(node)
    credits = {int(k): int(v) for k, v in (cursor.credits or {}).items() if int(k) in weights}
    now = timezone.now()
    results: list[dict[str, Any]] = []
    for position, customer in enumerate(rows, start=1):
        if customer.merged_into_id:
            why = _("Merged into #%(id)d; assign that one.") % {"id": customer.merged_into_id}
            results.append({"customer": customer, "to": None, "why_not": why})
            continue
        if customer.owner_id is not None:
            why = _("Already owned by %(name)s; reassign it by hand if needed.") % {
                "name": customer.owner
            }
            results.append({"customer": customer, "to": None, "why_not": why})
            continue
        eligible = [pk for pk in weights if owned.get(pk, 0) < cap]
        if not eligible:
            why = _nobody_message(node, len(consultants), len(weights), cap)
            results.append({"customer": customer, "to": None, "why_not": why})
            continue
        total = sum(weights[pk] for pk in eligible)
        best = weighted_pick({pk: weights[pk] for pk in eligible}, credits)
        chosen = people[best]
        explanation = _(
            "Round-robin in %(node)s: weight %(weight)d of %(total)d; no. %(position)d of "
            "%(count)d in this batch."
        ) % {
            "node": node,
            "weight": weights[best],
            "total": total,
            "position": position,
            "count": len(rows),
        }
        if not _give(
            actor=actor,
            customer=customer,
            to_staff=chosen,
            reason=AssignmentReason.ROUND_ROBIN,
            explanation=explanation,
            now=now,
        ):
            # Someone took it meanwhile: undo this pick so the credits stay fair.
            credits[best] += total
            for pk in eligible:
                credits[pk] -= weights[pk]
            why = _("Someone took this customer meanwhile.")
            results.append({"customer": customer, "to": None, "why_not": why})
            continue
        owned[best] = owned.get(best, 0) + 1
        customer.refresh_from_db()
        results.append({"customer": customer, "to": chosen, "reason": explanation})
    cursor.credits = {str(pk): value for pk, value in sorted(credits.items())}
    cursor.save(update_fields=["credits", "updated_at"])
    return results
