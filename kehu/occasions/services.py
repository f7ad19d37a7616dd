"""The only writers of occasions' settings: life-cycle rules, care rules and the
invitation window. Administrators only; each is atomic and audited. The derived rows
(reminders of a changed rule) are rebuilt by the worker after commit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.core.audit import record, snapshot
from kehu.customers.choices import RelationshipCategory
from kehu.occasions.choices import CareKind, LifecycleKind
from kehu.occasions.models import CareRule, InvitationSettings, LifecycleRule

RULE_FIELDS = [
    "name", "kind", "product_contains", "months_after", "km_after", "km_per_month",
    "repeat_months", "occurrences", "lead_days", "ask_referral", "is_active",
]  # fmt: skip
LIMITS = {
    "months_after": (0, 240),
    "km_after": (1, 1_000_000),
    "km_per_month": (1, 50_000),
    "repeat_months": (1, 120),
    "occurrences": (1, 100),
    "lead_days": (0, 90),
}


def _require_admin(actor: Any) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("Only an administrator can change occasion settings."))


def clean_rule(data: dict[str, Any], partial_of: LifecycleRule | None = None) -> dict[str, Any]:
    """Validate a rule's fields (all of them, or the changed ones of ``partial_of``);
    raises one ValidationError naming every bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key not in RULE_FIELDS:
            errors[key] = [_("Unknown field.")]
        elif key == "name":
            value = (value or "").strip() if isinstance(value, str) else value
            if not isinstance(value, str) or not value or len(value) > 100:
                errors[key] = [_("Name the rule (at most 100 characters).")]
        elif key == "product_contains":
            if not isinstance(value, str) or len(value) > 200:
                errors[key] = [_("Words separated by commas, at most 200 characters.")]
            value = value.strip() if isinstance(value, str) else value
        elif key == "kind":
            if value not in LifecycleKind.values:
                errors[key] = [
                    _("Choose one of: %(valid)s.") % {"valid": ", ".join(LifecycleKind.values)}
                ]
        elif key in ("ask_referral", "is_active"):
            if not isinstance(value, bool):
                errors[key] = [_("Expected true or false.")]
        elif key in LIMITS:
            low, high = LIMITS[key]
            nullable = key not in ("km_per_month", "lead_days")
            if value is None and nullable:
                pass
            elif not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors[key] = [
                    _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
                ]
        clean[key] = value
    if not errors:
        merged = {k: getattr(partial_of, k) for k in RULE_FIELDS} if partial_of else {}
        merged.update(clean)
        if partial_of is None:
            for key in ("name", "kind"):
                if key not in merged:
                    errors[key] = [_("This field is required.")]
        if merged.get("months_after") is None and merged.get("km_after") is None:
            errors["months_after"] = [
                _("Give months after the purchase, kilometres after it, or both.")
            ]
    if errors:
        raise ValidationError(errors)
    return clean


def _after_rule_change(rule_id: int) -> None:
    from kehu.occasions.tasks import rebuild_rule_task

    rebuild_rule_task.enqueue(rule_id)


@transaction.atomic
def create_lifecycle_rule(*, actor: Any, **fields: Any) -> LifecycleRule:
    _require_admin(actor)
    clean = clean_rule(fields)
    rule = LifecycleRule.objects.create(**clean)
    record(
        actor=actor,
        action="occasions.lifecycle_rule.create",
        obj=rule,
        after=snapshot(rule, RULE_FIELDS),
    )
    transaction.on_commit(lambda: _after_rule_change(rule.pk))
    return rule


@transaction.atomic
def update_lifecycle_rule(*, actor: Any, rule: LifecycleRule, **fields: Any) -> LifecycleRule:
    _require_admin(actor)
    clean = clean_rule(fields, partial_of=rule)
    before = snapshot(rule, RULE_FIELDS)
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.save()
    after = snapshot(rule, RULE_FIELDS)
    if after != before:
        record(
            actor=actor,
            action="occasions.lifecycle_rule.update",
            obj=rule,
            before=before,
            after=after,
        )
        transaction.on_commit(lambda: _after_rule_change(rule.pk))
    return rule


@transaction.atomic
def delete_lifecycle_rule(*, actor: Any, rule: LifecycleRule) -> None:
    _require_admin(actor)
    before = snapshot(rule, RULE_FIELDS)
    record(actor=actor, action="occasions.lifecycle_rule.delete", obj=rule, before=before)
    rule.delete()  # its reminders go with it (CASCADE)


@transaction.atomic
def set_care_rule(*, actor: Any, relationship: str, care: str) -> CareRule:
    _require_admin(actor)
    errors = {}
    if relationship not in RelationshipCategory.values:
        errors["relationship"] = [
            _("Choose one of: %(valid)s.") % {"valid": ", ".join(RelationshipCategory.values)}
        ]
    if care not in CareKind.values:
        errors["care"] = [_("Choose one of: %(valid)s.") % {"valid": ", ".join(CareKind.values)}]
    if errors:
        raise ValidationError(errors)
    row, _created = CareRule.objects.get_or_create(
        relationship=relationship, defaults={"care": care}
    )
    before = {"care": None if _created else row.care}
    if row.care != care:
        row.care = care
        row.save()
    if before["care"] != care:
        record(
            actor=actor,
            action="occasions.care_rule.set",
            obj=row,
            before=before,
            after={"care": care},
        )
    return row


@transaction.atomic
def set_invitation_window(*, actor: Any, days_min: Any, days_max: Any) -> InvitationSettings:
    _require_admin(actor)
    errors = {}
    for key, value in (("days_min", days_min), ("days_max", days_max)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 60:
            errors[key] = [_("A whole number of days from 1 to 60.")]
    if not errors and days_min > days_max:
        errors["days_min"] = [_("The window starts no later than it ends (at least ≤ at most).")]
    if errors:
        raise ValidationError(errors)
    row, _created = InvitationSettings.objects.get_or_create(pk=1)
    before = {"days_min": row.days_min, "days_max": row.days_max}
    row.days_min, row.days_max = days_min, days_max
    row.save()
    after = {"days_min": days_min, "days_max": days_max}
    if before != after or _created:
        record(actor=actor, action="occasions.invitation.set", obj=row, before=before, after=after)
    return row
