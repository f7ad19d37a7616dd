"""Duplicates and merge (DOMAIN §10: duplicates done right).

* :func:`find_duplicates` looks at **every** record, whatever the asker may read, and
  reveals only the ones they may see; the others are counted ("1 more record you cannot
  see"), so a consultant learns a duplicate exists and asks a manager, without learning
  whose it is.
* :func:`merge_customers` moves everything from one customer to another, keeps the
  merged record (hidden, ``merged_into`` set) as the trace of what happened, and writes
  one audit event saying what moved.

A number belongs to one customer (a database constraint), so two live records never
share a number; duplicates are found by what people mistype or record twice: the same
name with a number one digit off (one digit changed, or two neighbours swapped), the same
WeChat id, the same email.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kehu.core.audit import record
from kehu.customers import hooks
from kehu.customers.choices import FUNNEL_ORDER, Gender, RelationKind
from kehu.customers.models import (
    Anniversary,
    Customer,
    CustomerPhone,
    CustomerTag,
    Purchase,
    Relation,
)
from kehu.customers.services import can_edit_customer, refresh_completeness, refresh_contribution

# Why a record looks like a duplicate, in the order they are listed.
REASONS = {
    "name_and_number": gettext_lazy("Same name, number one digit apart"),
    "wechat": gettext_lazy("Same WeChat id"),
    "email": gettext_lazy("Same email"),
}

# Columns filled on the kept customer when it has none and the merged one has one.
FILLABLE = [
    "name",
    "title",
    "age",
    "birthday",
    "lunar_birthday",
    "address",
    "wechat",
    "email",
    "intent_grade",
    "channel",
    "registered_by",
    "first_registered_at",
]


# --- finding duplicates -------------------------------------------------------------------


def number_variants(digits: str) -> set[str]:
    """Every digit string one typo away from ``digits``: one digit changed, or two
    neighbouring digits swapped. The number itself is not included."""
    variants: set[str] = set()
    for i, ch in enumerate(digits):
        for other in "0123456789":
            if other != ch:
                variants.add(digits[:i] + other + digits[i + 1 :])
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            variants.add(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
    variants.discard(digits)
    return variants


def duplicate_reasons(customer: Customer) -> dict[int, list[str]]:
    """``{customer id: [reason codes]}`` for every live record that looks like
    ``customer``, over all records (no visibility applied here)."""
    found: dict[int, list[str]] = {}

    def add(ids: Iterable[int], reason: str) -> None:
        for pk in ids:
            if pk != customer.pk:
                found.setdefault(pk, []).append(reason)

    live = Customer.objects.live()
    name = (customer.name or "").strip()
    if name:
        variants: set[str] = set()
        for digits in customer.phones.values_list("digits", flat=True):
            variants |= number_variants(digits)
        if variants:
            near = CustomerPhone.objects.filter(digits__in=sorted(variants)).values("customer_id")
            add(
                live.filter(pk__in=near, name__iexact=name).values_list("pk", flat=True),
                "name_and_number",
            )
    wechat = (customer.wechat or "").strip()
    if wechat:
        add(live.filter(wechat__iexact=wechat).values_list("pk", flat=True), "wechat")
    email = (customer.email or "").strip()
    if email:
        add(live.filter(email__iexact=email).values_list("pk", flat=True), "email")
    return found


def find_duplicates(*, actor: Any, customer: Customer) -> dict[str, Any]:
    """Records that look like ``customer``, checked over all records.

    Returns ``{"candidates": [{"customer": Customer, "reasons": [code, …]}],
    "hidden_count": int, "hidden_message": str}``: candidates are only those ``actor``
    may see (ordered by id); the rest are counted, never shown.
    """
    if actor is not None and not (
        Customer.objects.visible_to(actor).filter(pk=customer.pk).exists()
    ):
        raise PermissionDenied(_("You are not allowed to do this."))
    found = duplicate_reasons(customer)
    visible = (
        Customer.objects.filter(pk__in=list(found))
        if actor is None
        else Customer.objects.visible_to(actor).filter(pk__in=list(found))
    )
    candidates = [
        {"customer": c, "reasons": found[c.pk]}
        for c in visible.order_by("pk").prefetch_related("phones")
    ]
    hidden = len(found) - len(candidates)
    message = (
        ngettext(
            "%(count)d more record you cannot see looks like this customer; ask your manager.",
            "%(count)d more records you cannot see look like this customer; ask your manager.",
            hidden,
        )
        % {"count": hidden}
        if hidden
        else ""
    )
    return {"candidates": candidates, "hidden_count": hidden, "hidden_message": message}


# --- merging ------------------------------------------------------------------------------


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _move_tags(keep: Customer, merge: Customer) -> int:
    has = set(keep.tag_rows.values_list("tag_id", flat=True))
    rows = CustomerTag.objects.filter(customer=merge)
    moved = rows.exclude(tag_id__in=has).update(customer=keep)
    rows.delete()  # the ones keep already had
    return moved


def _move_relations(keep: Customer, merge: Customer) -> tuple[int, int]:
    """Re-point merge's relations to keep; drop the ones that would become self-relations
    or repeat one keep already has. Returns (moved, dropped)."""
    moved = dropped = 0
    for rel in Relation.objects.filter(from_customer=merge).order_by("id"):
        duplicate = Relation.objects.filter(
            from_customer=keep, to_customer_id=rel.to_customer_id, kind=rel.kind
        ).exists()
        if rel.to_customer_id == keep.pk or duplicate:
            rel.delete()
            dropped += 1
        else:
            Relation.objects.filter(pk=rel.pk).update(from_customer=keep)
            moved += 1
    for rel in Relation.objects.filter(to_customer=merge).order_by("id"):
        duplicate = Relation.objects.filter(
            from_customer_id=rel.from_customer_id, to_customer=keep, kind=rel.kind
        ).exists()
        if rel.from_customer_id == keep.pk or duplicate:
            rel.delete()
            dropped += 1
        else:
            Relation.objects.filter(pk=rel.pk).update(to_customer=keep)
            moved += 1
    return moved, dropped


#: Relations the merge moves itself (above); every other model pointing at Customer (the
#: apps built on customers: grades, cadences, occasions, messages, incentives) is moved
#: by :func:`_move_other_apps_rows`.
HANDLED_HERE = {
    ("customers.customerphone", "customer"),
    ("customers.anniversary", "customer"),
    ("customers.customertag", "customer"),
    ("customers.relation", "from_customer"),
    ("customers.relation", "to_customer"),
    ("customers.purchase", "customer"),
    ("leads.registration", "customer"),
    ("leads.conflict", "customer"),
    ("leads.assignment", "customer"),
    ("leads.poolevent", "customer"),
    ("activities.activity", "customer"),
    ("activities.stagechange", "customer"),
}


def _move_other_apps_rows(keep: Customer, merge: Customer) -> dict[str, int]:
    """Every other app's rows follow the kept customer. Where the kept customer already
    has the one row it may have (a one-to-one such as its grades or its cadence, or a row
    unique per customer and week or day), the kept customer's row stays and the merged
    one's goes: the kept record is the one people chose to keep."""
    moved: dict[str, int] = {}
    for relation in Customer._meta.related_objects:
        model, field = relation.related_model, relation.field
        assert not isinstance(model, str)  # resolved once the apps are loaded
        key = (model._meta.label_lower, field.name)
        if key in HANDLED_HERE or model is Customer:
            continue
        rows = model._default_manager.filter(**{field.name: merge})
        if relation.one_to_one:
            kept = model._default_manager.filter(**{field.name: keep}).first()
            if kept is not None:
                merged = rows.first()
                # An unsubscribe on either record is honoured (DOMAIN §6).
                unsubscribed = getattr(merged, "unsubscribed_at", None)
                if unsubscribed and not getattr(kept, "unsubscribed_at", None):
                    model._default_manager.filter(pk=kept.pk).update(unsubscribed_at=unsubscribed)
                count, _detail = rows.delete()
                moved[f"{key[0]}.dropped"] = count
                continue
            moved[key[0]] = rows.update(**{field.name: keep})
            continue
        count = 0
        for pk in rows.values_list("pk", flat=True):
            try:
                with transaction.atomic():
                    count += model._default_manager.filter(pk=pk).update(**{field.name: keep})
            except IntegrityError:
                model._default_manager.filter(pk=pk).delete()
        moved[key[0]] = moved.get(key[0], 0) + count
    return {label: n for label, n in moved.items() if n}


@transaction.atomic
def merge_customers(*, actor: Any, keep: Customer, merge: Customer) -> Customer:
    """Merge ``merge`` into ``keep``: every number, registration, conflict, follow-up,
    stage change, assignment, pool event, tag, relation, occasion and purchase moves to
    ``keep``; ``keep``'s empty profile fields are filled from ``merge``; ``merge`` stays
    as a hidden record pointing at ``keep``. Only someone who may edit both may merge."""
    if not (can_edit_customer(actor, keep) and can_edit_customer(actor, merge)):
        raise PermissionDenied(_("You are not allowed to do this."))
    if keep.pk == merge.pk:
        raise ValidationError(
            {"merge": [_("Choose another customer: a record cannot be merged into itself.")]}
        )
    if keep.merged_into_id:
        raise ValidationError(
            {
                "keep": [
                    _("This customer was merged into #%(id)d; merge into that one.")
                    % {"id": keep.merged_into_id}
                ]
            }
        )
    # Claim the merge first (conditional UPDATE) so two people merging the same record
    # at once cannot both move its history.
    if not Customer.objects.filter(pk=merge.pk, merged_into__isnull=True).update(merged_into=keep):
        raise ValidationError({"merge": [_("This customer has already been merged.")]})
    from kehu.activities.models import Activity, StageChange
    from kehu.leads.choices import AssignmentReason
    from kehu.leads.models import Assignment, Conflict, PoolEvent, Registration

    keep.refresh_from_db()
    merge.refresh_from_db()
    keep_has_primary = keep.phones.filter(is_primary=True).exists()
    moved: dict[str, int] = {}
    moved["phones"] = CustomerPhone.objects.filter(customer=merge).update(
        customer=keep, **({"is_primary": False} if keep_has_primary else {})
    )
    for label, model in (
        ("registrations", Registration),
        ("conflicts", Conflict),
        ("activities", Activity),
        ("stage_changes", StageChange),
        ("assignments", Assignment),
        ("pool_events", PoolEvent),
        ("anniversaries", Anniversary),
        ("purchases", Purchase),
    ):
        moved[label] = model.objects.filter(customer=merge).update(customer=keep)
    moved["tags"] = _move_tags(keep, merge)
    moved["relations"], dropped_relations = _move_relations(keep, merge)
    moved.update(_move_other_apps_rows(keep, merge))
    # Records merged into ``merge`` earlier now point at ``keep`` (no chains).
    Customer.objects.filter(merged_into=merge).update(merged_into=keep)

    filled: list[str] = []
    for name in FILLABLE:
        field = Customer._meta.get_field(name)
        attname = getattr(field, "attname", name)
        if _is_empty(getattr(keep, attname)) and not _is_empty(getattr(merge, attname)):
            setattr(keep, attname, getattr(merge, attname))
            filled.append(name)
    if keep.gender == Gender.UNKNOWN and merge.gender != Gender.UNKNOWN:
        keep.gender = merge.gender
        filled.append("gender")
    profile = dict(keep.profile or {})
    for key, value in (merge.profile or {}).items():
        if _is_empty(profile.get(key)) and not _is_empty(value):
            profile[key] = value
            filled.append(f"profile.{key}")
    keep.profile = profile
    if (
        merge.first_registered_at
        and keep.first_registered_at
        and (merge.first_registered_at < keep.first_registered_at)
    ):
        keep.first_registered_at = merge.first_registered_at
    if merge.last_followup_at and (
        keep.last_followup_at is None or merge.last_followup_at > keep.last_followup_at
    ):
        keep.last_followup_at = merge.last_followup_at
    keep.visit_count += merge.visit_count
    stage_before = keep.stage
    funnel = [str(s) for s in FUNNEL_ORDER]
    if merge.stage in funnel and (
        keep.stage not in funnel or funnel.index(merge.stage) > funnel.index(keep.stage)
    ):
        # The merged record had gone further (or keep was lost): the customer is where
        # the furthest record stood.
        keep.stage, keep.lost_reason = merge.stage, ""
    previous_owner = keep.owner_id
    if keep.owner_id is None and merge.owner_id is not None:
        # Keep was in the pool; the merged record's owner carries on with it.
        keep.owner_id, keep.node_id, keep.pooled_at = merge.owner_id, merge.node_id, None
        keep.protected_until = keep.protected_until or merge.protected_until
        filled.append("owner")
    keep.save()
    if keep.stage != stage_before:
        from kehu.activities.services import record_stage_change

        record_stage_change(
            customer=keep,
            from_stage=stage_before,
            to_stage=keep.stage,
            actor=actor,
            reason=_("merged with #%(id)d") % {"id": merge.pk},
        )
        filled.append("stage")
    if keep.owner_id != previous_owner:
        Assignment.objects.create(
            customer=keep,
            from_staff_id=previous_owner,
            to_staff_id=keep.owner_id,
            reason=AssignmentReason.MERGE,
            actor=actor if getattr(actor, "pk", None) else None,
            explanation=_("Merged with #%(id)d, whose owner carries on.") % {"id": merge.pk},
        )
    # The merged record keeps its profile as it was, owned by nobody and hidden.
    Customer.objects.filter(pk=merge.pk).update(owner=None, previous_owner=merge.owner_id)

    refresh_completeness(keep)
    # Dates derived from the profile (birthdays, anniversaries) follow the kept record.
    hooks.occasions_changed(keep)
    refresh_contribution(keep)
    for rel in Relation.objects.filter(from_customer=keep, kind=RelationKind.REFERRED_BY):
        refresh_contribution(rel.to_customer)
    keep.refresh_from_db()
    # What follows the history (the next due date) is worked out again on the kept record.
    hooks.customer_merged(keep)
    record(
        actor=actor,
        action="customers.customer.merge",
        obj=keep,
        before={"merged": merge.pk, "merged_owner": merge.owner_id, "owner": previous_owner},
        after={
            "moved": moved,
            "dropped_relations": dropped_relations,
            "filled": filled,
            "owner": keep.owner_id,
        },
    )
    return keep
