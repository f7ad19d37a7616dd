"""The only writers of the customer archive. Each is atomic, takes a keyword-only
``actor``, checks access, and records an audit event."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, cast

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.audit import record, snapshot
from kehu.core.memo import Memo
from kehu.core.phones import national_digits, normalise_phone
from kehu.customers import completeness, hooks
from kehu.customers.choices import CustomerKind, Gender, RelationKind, RelationshipCategory
from kehu.customers.lunar import clean_lunar
from kehu.customers.models import (
    Anniversary,
    Customer,
    CustomerPhone,
    CustomerTag,
    MileageReading,
    Purchase,
    Relation,
    StageRequirement,
    Tag,
    TagDimension,
)

CUSTOMER_FIELDS = [
    "kind", "name", "title", "gender", "age", "birthday", "lunar_birthday", "address",
    "wechat", "email", "profile", "stage", "lost_reason", "intent_grade", "relationship",
    "owner", "node", "registered_by", "channel", "protected_until",
]  # fmt: skip
EDITABLE = {
    "kind", "name", "title", "gender", "age", "birthday", "lunar_birthday", "address",
    "wechat", "email", "profile", "relationship",
}  # fmt: skip
MAX_TEXT = {"name": 100, "title": 20, "address": 200, "wechat": 64, "email": 254}
MAX_PROFILE_VALUE = 500
#: The highest odometer reading accepted (more than any vehicle's life).
MAX_KM = 2_000_000
#: Purchases: amounts below this (Purchase.amount holds 12 digits before the point), and
#: dates from this day to today.
AMOUNT_LIMIT = Decimal("1000000000000")
EARLIEST_PURCHASE = datetime.date(1900, 1, 1)


def _deny() -> PermissionDenied:
    return PermissionDenied(_("You are not allowed to do this."))


def can_edit_customer(actor: Any, customer: Customer) -> bool:
    """The owner, managers over the customer's team, and admins."""
    if actor is None or actor.is_admin:
        return True
    if customer.owner_id == actor.pk:
        return True
    node = customer.node
    if node is None:
        return False
    return any(node.path.startswith(p) for p in actor.managed_paths)


# --- completeness -----------------------------------------------------------------------


REQUIREMENTS_CACHE_KEY = "kehu:completeness-requirements"
CONFIG_CACHE_SECONDS = 60


def _after_requirements_change() -> None:
    """Drop the cached requirements everywhere and have the worker recompute every
    customer's stored score (the list filters read the stored figures)."""
    from kehu.customers.tasks import recompute_completeness_task

    cache.delete(REQUIREMENTS_CACHE_KEY)
    _requirements_memo.forget()
    recompute_completeness_task.enqueue()


_requirements_memo = Memo()


def requirements() -> dict[str, tuple[list[str], int]]:
    """The configured requirements (StageRequirement rows), defaults where a row is missing.

    Read on every registration, so cached (the shared cache, Redis in production, for a
    minute; this process for a few seconds, kehu.core.memo) and dropped when an
    administrator changes them."""
    return cast(dict[str, tuple[list[str], int]], _requirements_memo.get(_shared_requirements))


def _shared_requirements() -> dict[str, tuple[list[str], int]]:
    cached = cache.get(REQUIREMENTS_CACHE_KEY)
    if cached is not None:
        return cached
    configured = {r.stage: (list(r.fields), r.minimum) for r in StageRequirement.objects.all()}
    result = {**completeness.DEFAULT_REQUIREMENTS, **configured}
    cache.set(REQUIREMENTS_CACHE_KEY, result, CONFIG_CACHE_SECONDS)
    return result


def profile_of(customer: Customer, has_phone: bool | None = None) -> dict[str, Any]:
    """The flat profile the completeness rule reads."""
    data: dict[str, Any] = dict(customer.profile or {})
    data.update(
        name=customer.name,
        title=customer.title,
        gender=customer.gender,
        age=customer.age or customer.birthday or customer.lunar_birthday,
        address=customer.address,
        wechat=customer.wechat,
        email=customer.email,
        source=customer.channel_id,
        recorder=customer.registered_by_id,
        intent_grade=customer.intent_grade,
        phone=has_phone if has_phone is not None else customer.phones.exists(),
    )
    return data


def refresh_completeness(
    customer: Customer, reqs: dict[str, tuple[list[str], int]] | None = None, save: bool = True
) -> completeness.Completeness:
    stage = completeness.completeness_stage(customer.stage, customer.visit_count)
    result = completeness.compute(profile_of(customer), stage, reqs or requirements())
    customer.completeness = result.score
    customer.completeness_missing = result.missing
    customer.is_below_completeness = result.is_below
    if save and customer.pk:
        Customer.objects.filter(pk=customer.pk).update(
            completeness=result.score,
            completeness_missing=result.missing,
            is_below_completeness=result.is_below,
        )
    return result


@transaction.atomic
def set_stage_requirement(
    *, actor: Any, stage: str, fields: list[str], minimum: int
) -> StageRequirement:
    if actor is not None and not actor.is_admin:
        raise _deny()
    if stage not in completeness.DEFAULT_REQUIREMENTS:
        raise ValidationError(
            {
                "stage": [
                    _("Unknown stage; choose one of: %(valid)s.")
                    % {"valid": ", ".join(completeness.DEFAULT_REQUIREMENTS)}
                ]
            }
        )
    unknown = [f for f in fields if f not in completeness.FIELDS]
    if unknown:
        raise ValidationError(
            {
                "fields": [
                    _("Unknown fields: %(fields)s; valid: %(valid)s.")
                    % {"fields": ", ".join(unknown), "valid": ", ".join(completeness.FIELDS)}
                ]
            }
        )
    if not 0 <= minimum <= 100:
        raise ValidationError({"minimum": [_("The minimum is a percentage from 0 to 100.")]})
    row, _created = StageRequirement.objects.get_or_create(stage=stage)
    before = {"fields": row.fields, "minimum": row.minimum}
    row.fields, row.minimum = list(dict.fromkeys(fields)), minimum
    row.save()
    cache.delete(REQUIREMENTS_CACHE_KEY)
    _requirements_memo.forget()
    transaction.on_commit(_after_requirements_change)
    record(
        actor=actor,
        action="customers.completeness.configure",
        obj=row,
        before=before,
        after={"fields": row.fields, "minimum": row.minimum},
    )
    return row


# --- the archive --------------------------------------------------------------------------


def clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate profile edits; raises one ValidationError naming every bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            errors[key] = [_("This field cannot be changed here.")]
            continue
        if key in MAX_TEXT:
            value = (value or "").strip() if isinstance(value, str) or value is None else value
            if not isinstance(value, str):
                errors[key] = [_("Expected text.")]
                continue
            if len(value) > MAX_TEXT[key]:
                errors[key] = [
                    _("At most %(max)d characters (this has %(count)d).")
                    % {"max": MAX_TEXT[key], "count": len(value)}
                ]
                continue
            if key == "email" and value:
                try:
                    validate_email(value)
                except ValidationError:
                    errors[key] = [_("Enter a valid email address.")]
                    continue
        elif key == "kind" and value not in CustomerKind.values:
            errors[key] = [
                _("Choose one of: %(valid)s.") % {"valid": ", ".join(CustomerKind.values)}
            ]
            continue
        elif key == "gender" and value not in Gender.values:
            errors[key] = [_("Choose one of: %(valid)s.") % {"valid": ", ".join(Gender.values)}]
            continue
        elif key == "relationship" and value not in RelationshipCategory.values:
            errors[key] = [
                _("Choose one of: %(valid)s.") % {"valid": ", ".join(RelationshipCategory.values)}
            ]
            continue
        elif (
            key == "age"
            and value is not None
            and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 150)
        ):
            errors[key] = [_("Age is a whole number from 0 to 150.")]
            continue
        elif key == "birthday" and value is not None:
            if not isinstance(value, datetime.date):
                errors[key] = [_("Enter a date as YYYY-MM-DD.")]
                continue
        elif key == "lunar_birthday":
            try:
                value = clean_lunar(value)
            except ValidationError as exc:
                errors.update(
                    {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}
                )
                continue
        elif key == "profile":
            if not isinstance(value, dict):
                errors[key] = [_("The profile is an object of fields.")]
                continue
            unknown = sorted(set(value) - set(completeness.PROFILE_KEYS))
            if unknown:
                errors[key] = [
                    _("Unknown profile fields: %(fields)s; valid: %(valid)s.")
                    % {"fields": ", ".join(unknown), "valid": ", ".join(completeness.PROFILE_KEYS)}
                ]
                continue
            too_long = [k for k, v in value.items() if len(str(v)) > MAX_PROFILE_VALUE]
            if too_long:
                errors[key] = [
                    _("At most %(max)d characters per field: %(fields)s.")
                    % {"max": MAX_PROFILE_VALUE, "fields": ", ".join(too_long)}
                ]
                continue
            value = {k: v for k, v in value.items() if v not in (None, "")}
        clean[key] = value
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def update_customer(*, actor: Any, customer: Customer, **changes: Any) -> Customer:
    """Edit the profile. ``profile`` is merged key by key (a key set to "" or None is
    removed); stage, owner and attribution change through their own services."""
    if not can_edit_customer(actor, customer):
        raise _deny()
    clean = clean_changes(changes)
    before = snapshot(customer, CUSTOMER_FIELDS)
    if "profile" in clean:
        merged = dict(customer.profile or {})
        for key, value in changes["profile"].items():
            if value in (None, ""):
                merged.pop(key, None)
            else:
                merged[key] = value
        clean["profile"] = merged
    for key, value in clean.items():
        setattr(customer, key, value)
    customer.save()
    refresh_completeness(customer)
    if "birthday" in clean or "lunar_birthday" in clean:
        hooks.occasions_changed(customer)
    after = snapshot(customer, CUSTOMER_FIELDS)
    if after != before:
        record(
            actor=actor,
            action="customers.customer.update",
            obj=customer,
            before=before,
            after=after,
        )
    return customer


def phone_taken_message() -> str:
    return _("This number already belongs to another customer.")


@transaction.atomic
def add_phone(*, actor: Any, customer: Customer, phone: str) -> CustomerPhone:
    if not can_edit_customer(actor, customer):
        raise _deny()
    try:
        number = normalise_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    if customer.phones.count() >= 10:
        raise ValidationError({"phone": [_("A customer has at most 10 numbers.")]})
    try:
        with transaction.atomic():
            row = CustomerPhone.objects.create(
                customer=customer,
                number=number,
                digits=national_digits(number),
                is_primary=not customer.phones.exists(),
            )
    except IntegrityError as exc:
        raise ValidationError({"phone": [phone_taken_message()]}) from exc
    refresh_completeness(customer)
    record(actor=actor, action="customers.phone.add", obj=customer, after={"phone": number})
    return row


@transaction.atomic
def remove_phone(*, actor: Any, customer: Customer, phone_id: int) -> None:
    if not can_edit_customer(actor, customer):
        raise _deny()
    row = customer.phones.filter(pk=phone_id).first()
    if row is None:
        raise ValidationError({"phone": [_("Unknown number.")]})
    if customer.phones.count() == 1:
        raise ValidationError({"phone": [_("A customer keeps at least one number.")]})
    row.delete()
    if row.is_primary:
        first = customer.phones.order_by("id").first()
        if first is not None:
            CustomerPhone.objects.filter(pk=first.pk).update(is_primary=True)
    record(actor=actor, action="customers.phone.remove", obj=customer, before={"phone": row.number})


# --- tags ---------------------------------------------------------------------------------


@transaction.atomic
def ensure_tag(*, actor: Any, dimension: str, name: str) -> Tag:
    """The tag ``name`` of ``dimension``, created if new (by those who tag customers:
    administrators, managers and consultants)."""
    if actor is not None and not (actor.is_admin or actor.has_any_role("manager", "consultant")):
        raise _deny()
    dimension, name = (dimension or "").strip()[:50], (name or "").strip()[:50]
    if not dimension or not name:
        raise ValidationError({"tags": [_("A tag needs a dimension and a name.")]})
    dim, _c = TagDimension.objects.get_or_create(name=dimension)
    tag, created = Tag.objects.get_or_create(dimension=dim, name=name)
    if created:
        record(actor=actor, action="customers.tag.create", obj=tag)
    return tag


@transaction.atomic
def set_tags(*, actor: Any, customer: Customer, tags: list[Tag]) -> list[Tag]:
    if not can_edit_customer(actor, customer):
        raise _deny()
    old = set(customer.tag_rows.values_list("tag_id", flat=True))
    new = {t.pk for t in tags}
    CustomerTag.objects.filter(customer=customer).exclude(tag_id__in=new).delete()
    CustomerTag.objects.bulk_create(
        [CustomerTag(customer=customer, tag_id=t) for t in new - old], ignore_conflicts=True
    )
    if old != new:
        record(
            actor=actor,
            action="customers.customer.tags",
            obj=customer,
            before={"tags": sorted(old)},
            after={"tags": sorted(new)},
        )
    return tags


# --- relations, occasions, purchases ------------------------------------------------------


@transaction.atomic
def add_relation(*, actor: Any, customer: Customer, other: Customer, kind: str) -> Relation:
    if not can_edit_customer(actor, customer):
        raise _deny()
    if kind not in RelationKind.values:
        raise ValidationError(
            {"kind": [_("Choose one of: %(valid)s.") % {"valid": ", ".join(RelationKind.values)}]}
        )
    if other.pk == customer.pk:
        raise ValidationError({"other": [_("A customer cannot be related to themselves.")]})
    relation, created = Relation.objects.get_or_create(
        from_customer=customer, to_customer=other, kind=kind
    )
    if created:
        record(
            actor=actor,
            action="customers.relation.add",
            obj=customer,
            after={"kind": kind, "other": other.pk},
        )
        if kind == RelationKind.REFERRED_BY:
            refresh_contribution(other)
    return relation


@transaction.atomic
def add_anniversary(
    *,
    actor: Any,
    customer: Customer,
    label: str,
    date: datetime.date | None = None,
    lunar: Any = None,
) -> Anniversary:
    if not can_edit_customer(actor, customer):
        raise _deny()
    label = (label or "").strip()
    if not label or len(label) > 50:
        raise ValidationError({"label": [_("Name the occasion (at most 50 characters).")]})
    lunar = clean_lunar(lunar, "lunar")
    if date is None and lunar is None:
        raise ValidationError({"date": [_("Give a solar date or a lunar one.")]})
    row = Anniversary.objects.create(customer=customer, label=label, date=date, lunar=lunar)
    hooks.occasions_changed(customer)
    record(
        actor=actor,
        action="customers.anniversary.add",
        obj=customer,
        after={"label": label, "date": date, "lunar": lunar},
    )
    return row


def refresh_contribution(customer: Customer) -> Decimal:
    """Contribution value = repeat purchases (all but the first) + purchases by the
    people this customer referred (DOMAIN §2)."""
    own = list(customer.purchases.order_by("purchased_on", "id").values_list("amount", flat=True))
    repeat = sum(own[1:], Decimal("0"))
    referred_ids = Relation.objects.filter(
        to_customer=customer, kind=RelationKind.REFERRED_BY
    ).values("from_customer")
    referred = Purchase.objects.filter(customer__in=referred_ids).aggregate(s=Sum("amount"))["s"]
    value = repeat + (referred or Decimal("0"))
    Customer.objects.filter(pk=customer.pk).update(contribution_value=value)
    customer.contribution_value = value
    return value


def _purchase_errors(product: Any, amount: Any, purchased_on: Any) -> dict[str, list[str]]:
    """What is wrong with a purchase, by field: the same messages for the page and the
    API, whatever checks of their own they made before."""
    errors: dict[str, list[str]] = {}
    if not isinstance(product, str) or not 1 <= len(product.strip()) <= 100:
        errors["product"] = [_("Name the product (at most 100 characters).")]
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        errors["amount"] = [_("Enter an amount in yuan, for example 7950.")]
    else:
        amount = Decimal(amount)
        if not amount.is_finite():
            errors["amount"] = [_("Enter an amount in yuan, for example 7950.")]
        elif amount < 0:
            errors["amount"] = [_("The amount cannot be negative.")]
        elif amount >= AMOUNT_LIMIT or amount != amount.quantize(Decimal("0.01")):
            errors["amount"] = [
                _("An amount is below 1,000,000,000,000 yuan, with at most 2 decimals.")
            ]
    if not isinstance(purchased_on, datetime.date) or isinstance(purchased_on, datetime.datetime):
        errors["purchased_on"] = [_("Give the date of the purchase.")]
    elif purchased_on > timezone.localdate():
        errors["purchased_on"] = [_("A purchase cannot be dated in the future.")]
    elif purchased_on < EARLIEST_PURCHASE:
        errors["purchased_on"] = [_("A purchase cannot be dated before 1900.")]
    return errors


@transaction.atomic
def record_purchase(
    *, actor: Any, customer: Customer, product: str, amount: Decimal, purchased_on: datetime.date
) -> Purchase:
    """Record a sale to the customer: whoever may edit the customer may. A product of 1
    to 100 characters, an amount from 0 (below 10^12, at most 2 decimals), a date from
    1900 to today. The contribution values (the customer's, and of whoever referred
    them) are refreshed and the life-cycle reminders built (kehu.customers.hooks)."""
    if not can_edit_customer(actor, customer):
        raise _deny()
    errors = _purchase_errors(product, amount, purchased_on)
    if errors:
        raise ValidationError(errors)
    amount = Decimal(amount).quantize(Decimal("0.01"))
    row = Purchase.objects.create(
        customer=customer, product=product.strip(), amount=amount, purchased_on=purchased_on
    )
    refresh_contribution(customer)
    hooks.purchase_recorded(row, customer)
    for rel in Relation.objects.filter(from_customer=customer, kind=RelationKind.REFERRED_BY):
        refresh_contribution(rel.to_customer)
    record(
        actor=actor,
        action="customers.purchase.add",
        obj=customer,
        after={"product": row.product, "amount": amount, "purchased_on": purchased_on},
    )
    return row


@transaction.atomic
def record_mileage(*, actor: Any, purchase: Purchase, km: Any, read_on: Any) -> MileageReading:
    """Record an odometer reading (km since the purchase) on a purchased vehicle; whoever
    may edit the customer may record it. The reading must be a whole number of km from 0,
    dated from the purchase to today, and fit the purchase's other readings (never fewer
    km than a reading on or before its date, nor more than one after it). The purchase's
    life-cycle reminders are then recomputed from its observed rate, through the same
    hook as a new purchase (kehu.customers.hooks)."""
    customer = purchase.customer
    if not can_edit_customer(actor, customer):
        raise _deny()
    errors: dict[str, list[str]] = {}
    if not isinstance(km, int) or isinstance(km, bool) or not 0 <= km <= MAX_KM:
        errors["km"] = [
            _("The kilometres are a whole number from 0 to %(high)d.") % {"high": MAX_KM}
        ]
    today = timezone.localdate()
    if not isinstance(read_on, datetime.date) or isinstance(read_on, datetime.datetime):
        errors["read_on"] = [_("Give the date of the reading.")]
    elif read_on < purchase.purchased_on:
        errors["read_on"] = [_("A reading cannot be dated before the purchase.")]
    elif read_on > today:
        errors["read_on"] = [_("A reading cannot be dated in the future.")]
    if errors:
        raise ValidationError(errors)
    # Serialise readings of one purchase (PostgreSQL; SQLite has one writer at a time).
    Purchase.objects.select_for_update().filter(pk=purchase.pk).first()
    readings = MileageReading.objects.filter(purchase=purchase)
    earlier = readings.filter(read_on__lte=read_on).order_by("-km").values_list("km", flat=True)
    later = readings.filter(read_on__gt=read_on).order_by("km").values_list("km", flat=True)
    highest_before, lowest_after = earlier.first(), later.first()
    if highest_before is not None and km < highest_before:
        raise ValidationError(
            {
                "km": [
                    _("An earlier reading already shows %(km)d km; a reading cannot be lower.")
                    % {"km": highest_before}
                ]
            }
        )
    if lowest_after is not None and km > lowest_after:
        raise ValidationError(
            {
                "km": [
                    _("A later reading shows only %(km)d km; a reading cannot be higher.")
                    % {"km": lowest_after}
                ]
            }
        )
    row = MileageReading.objects.create(
        purchase=purchase,
        km=km,
        read_on=read_on,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    hooks.purchase_recorded(purchase, customer)
    record(
        actor=actor,
        action="customers.mileage.add",
        obj=customer,
        after={"purchase": purchase.pk, "product": purchase.product, "km": km, "read_on": read_on},
    )
    return row
