"""The only writers of the incentives app: schemes and their approval, the monthly facts,
and the monthly run (DOMAIN §8).

* **Schemes** are versioned. Administrators copy a version into a draft, edit it, and
  submit it; a *second* administrator approves or rejects it (the database refuses an
  approval by the submitter). Only approved versions are run; :func:`find_scheme` picks
  the newest approved version valid in a month.
* **Facts**: incentive profiles (who is assessed as what), developed customers in the
  order their region reported them, payments per month, active months, fraud flags,
  region targets (due before 08:00 on the 6th, Asia/Shanghai) and the approved market
  list. :func:`build_facts` turns them into the engine's plain facts.
* **The run**: :func:`run_month` computes the month with the pure engine and stores the
  result (statements, lines, pool entry) in one transaction. Re-running a month replaces
  what the previous run stored and gives the same result on the same facts.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.audit import record
from kehu.incentives.choices import IncentiveRole, SchemeStatus
from kehu.incentives.models import (
    ActiveMonth,
    CustomerPayment,
    DevelopedCustomer,
    FieldCampaign,
    IncentiveProfile,
    Market,
    MarketApproval,
    MonthlyRun,
    PoolEntry,
    RegionTarget,
    Scheme,
    Statement,
    StatementLine,
)
from kehu.incentives.months import add_months, first_day, last_day, parse_month
from kehu.org.models import OrgNode, Staff

DEFAULT_CODE = "default"
TARGET_TZ = ZoneInfo("Asia/Shanghai")
TARGET_DEADLINE_DAY = 6
TARGET_DEADLINE_HOUR = 8
CARRY_FORWARD_MONTHS = 12
# Staff without a hire date on file are treated as employed long before any month run.
UNKNOWN_HIRE_DATE = datetime.date(2000, 1, 1)


# ---------------------------------------------------------------------------- helpers


def _require_admin(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only an administrator can do this."))


def _manages(actor: Any, node: OrgNode | None) -> bool:
    """The actor is an administrator or manages ``node``'s subtree."""
    if actor is None:
        return False
    if actor.is_admin:
        return True
    return node is not None and node.pk in actor.managed_node_ids


def _require_manages(actor: Any, node: OrgNode | None) -> None:
    if not _manages(actor, node):
        raise PermissionDenied(_("You are not allowed to do this."))


def _money(value: Any, field: str) -> Decimal:
    """A non-negative amount with at most two decimals, or ValidationError on ``field``."""
    if isinstance(value, bool):
        value = None
    try:
        amount = Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unparsable input is the same user error
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError({field: [_("Enter an amount in yuan, for example 7950.")]})
    if amount < 0:
        raise ValidationError({field: [_("The amount must not be negative.")]})
    if amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e10"):
        raise ValidationError(
            {field: [_("Enter an amount below 10,000,000,000 with at most two decimals.")]}
        )
    return amount


def _plain_number(value: Decimal) -> int | float:
    """Decimal → the JSON number the engine reads (whole yuan stay integers)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _scheme_snapshot(scheme: Scheme) -> dict[str, Any]:
    return {
        "code": scheme.code,
        "version": scheme.version,
        "name": scheme.name,
        "valid_from": scheme.valid_from,
        "valid_to": scheme.valid_to,
        "status": scheme.status,
        "params": scheme.params,
    }


def _params_of(scheme: Scheme) -> dict[str, Any]:
    """The scheme row as the engine's parameter dict (identity fields from the row)."""
    params = dict(scheme.params)
    params.update(
        code=scheme.code,
        version=scheme.version,
        name=scheme.name,
        valid_from=scheme.valid_from.isoformat(),
        valid_to=scheme.valid_to.isoformat() if scheme.valid_to else None,
    )
    return params


# ---------------------------------------------------------------------------- schemes


def scheme_for(code: str, month: str) -> Scheme | None:
    """The newest approved version of scheme ``code`` whose validity covers ``month``."""
    parse_month(month)
    return Scheme.objects.approved().valid_in(month).filter(code=code).order_by("-version").first()


def find_scheme(code: str, month: str) -> dict[str, Any] | None:
    """The approved version of stored scheme ``code`` valid in ``month``, as the engine's
    parameter dict; None when there is none (an unknown code, or none approved for the
    month). An invalid month raises ValidationError."""
    scheme = scheme_for(code, month)
    return _params_of(scheme) if scheme is not None else None


def _validated_params(
    params: Any, *, code: str, version: int, name: str, valid_from: Any, valid_to: Any
) -> dict[str, Any]:
    from kehu.incentives.schemes import validate_scheme

    if not isinstance(params, dict):
        raise ValidationError({"params": [_("Expected an object of scheme parameters.")]})
    data = dict(params)
    data.update(
        code=code,
        version=version,
        name=name,
        valid_from=valid_from.isoformat() if valid_from else None,
        valid_to=valid_to.isoformat() if valid_to else None,
    )
    try:
        return validate_scheme(data)
    except ValidationError as exc:
        raise ValidationError(
            {
                (
                    f"params.{key}"
                    if key not in ("code", "name", "valid_from", "valid_to")
                    else key
                ): messages
                for key, messages in exc.message_dict.items()
            }
        ) from exc


def _check_dates(valid_from: Any, valid_to: Any) -> None:
    if not isinstance(valid_from, datetime.date):
        raise ValidationError({"valid_from": [_("Enter a date as YYYY-MM-DD.")]})
    if valid_to is not None and not isinstance(valid_to, datetime.date):
        raise ValidationError({"valid_to": [_("Enter a date as YYYY-MM-DD, or leave it empty.")]})
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": [_("The validity must not end before it starts.")]})


@transaction.atomic
def copy_scheme(
    *,
    actor: Any,
    scheme: Scheme,
    code: str | None = None,
    name: str | None = None,
) -> Scheme:
    """A new draft from ``scheme``: the next version of the same code, or version 1 of a
    new ``code``. Administrators only."""
    _require_admin(actor)
    from kehu.incentives.schemes import CODE_RE

    code = (code or scheme.code).strip()
    if not CODE_RE.match(code):
        raise ValidationError(
            {"code": [_("Use 1-50 lower-case letters, digits, hyphens or underscores.")]}
        )
    name = (name or scheme.name).strip()[:100]
    version = (Scheme.objects.filter(code=code).aggregate(m=Max("version"))["m"] or 0) + 1
    params = _validated_params(
        scheme.params,
        code=code,
        version=version,
        name=name,
        valid_from=scheme.valid_from,
        valid_to=scheme.valid_to,
    )
    try:
        with transaction.atomic():
            new = Scheme.objects.create(
                code=code,
                version=version,
                name=name,
                valid_from=scheme.valid_from,
                valid_to=scheme.valid_to,
                params=params,
                status=SchemeStatus.DRAFT,
                created_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError(
            _("Someone copied this scheme at the same moment; try again.")
        ) from exc
    record(
        actor=actor,
        action="incentives.scheme.copy",
        obj=new,
        after={"from": str(scheme), **_scheme_snapshot(new)},
    )
    return new


@transaction.atomic
def update_scheme(
    *,
    actor: Any,
    scheme: Scheme,
    name: str | None = None,
    valid_from: datetime.date | None = None,
    valid_to: datetime.date | None | str = "unchanged",
    params: dict[str, Any] | None = None,
) -> Scheme:
    """Edit a draft (or a rejected version, which becomes a draft again). Approved and
    pending versions are never edited: copy them."""
    _require_admin(actor)
    if scheme.status not in (SchemeStatus.DRAFT, SchemeStatus.REJECTED):
        raise ValidationError(_("Only a draft can be edited; copy this version to change it."))
    before = _scheme_snapshot(scheme)
    new_name = scheme.name if name is None else name.strip()
    if not new_name or len(new_name) > 100:
        raise ValidationError({"name": [_("Enter a name of at most 100 characters.")]})
    new_from = scheme.valid_from if valid_from is None else valid_from
    new_to = scheme.valid_to if valid_to == "unchanged" else valid_to
    _check_dates(new_from, new_to)
    scheme.params = _validated_params(
        scheme.params if params is None else params,
        code=scheme.code,
        version=scheme.version,
        name=new_name,
        valid_from=new_from,
        valid_to=new_to,
    )
    scheme.name, scheme.valid_from, scheme.valid_to = new_name, new_from, new_to
    scheme.status = SchemeStatus.DRAFT
    scheme.save()
    record(
        actor=actor,
        action="incentives.scheme.update",
        obj=scheme,
        before=before,
        after=_scheme_snapshot(scheme),
    )
    return scheme


@transaction.atomic
def submit_scheme(*, actor: Any, scheme: Scheme) -> Scheme:
    """Ask for approval: a draft becomes pending; another administrator decides."""
    _require_admin(actor)
    if scheme.status not in (SchemeStatus.DRAFT, SchemeStatus.REJECTED):
        raise ValidationError(_("Only a draft can be submitted for approval."))
    before = {"status": scheme.status}
    scheme.status = SchemeStatus.PENDING
    scheme.submitted_by = actor
    scheme.submitted_at = timezone.now()
    scheme.approved_by = None
    scheme.decided_at = None
    scheme.decision_note = ""
    scheme.save()
    record(
        actor=actor,
        action="incentives.scheme.submit",
        obj=scheme,
        before=before,
        after={"status": scheme.status},
    )
    return scheme


def _decide(actor: Any, scheme: Scheme, status: str, note: str, action: str) -> Scheme:
    _require_admin(actor)
    if scheme.status != SchemeStatus.PENDING:
        raise ValidationError(_("Only a version pending approval can be approved or rejected."))
    if scheme.submitted_by_id == actor.pk:
        raise PermissionDenied(
            _("A second administrator must decide: you submitted this version yourself.")
        )
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": [_("At most 300 characters.")]})
    if status == SchemeStatus.REJECTED and not note:
        raise ValidationError({"note": [_("Say why the version is rejected.")]})
    before = {"status": scheme.status}
    scheme.status = status
    scheme.approved_by = actor if status == SchemeStatus.APPROVED else None
    scheme.decided_at = timezone.now()
    scheme.decision_note = note
    scheme.save()
    record(
        actor=actor,
        action=action,
        obj=scheme,
        before=before,
        after={"status": scheme.status, "note": note},
    )
    return scheme


@transaction.atomic
def approve_scheme(*, actor: Any, scheme: Scheme, note: str = "") -> Scheme:
    """Approve a pending version: an administrator other than its submitter."""
    return _decide(actor, scheme, SchemeStatus.APPROVED, note, "incentives.scheme.approve")


@transaction.atomic
def reject_scheme(*, actor: Any, scheme: Scheme, note: str) -> Scheme:
    """Reject a pending version with a reason: an administrator other than its submitter."""
    return _decide(actor, scheme, SchemeStatus.REJECTED, note, "incentives.scheme.reject")


# ---------------------------------------------------------------------------- facts


@transaction.atomic
def set_profile(
    *,
    actor: Any,
    staff: Staff,
    role: str,
    region: OrgNode,
    threshold: int = 2,
    performance_pay: Any = 0,
    is_active: bool = True,
) -> IncentiveProfile:
    """Say who is assessed as what (administrators only)."""
    _require_admin(actor)
    if role not in IncentiveRole.values:
        raise ValidationError({"role": [_("Choose area_manager or region_manager.")]})
    if threshold not in (1, 2):
        raise ValidationError({"threshold": [_("The monthly threshold is 1 or 2.")]})
    pay = _money(performance_pay, "performance_pay")
    profile = IncentiveProfile.objects.filter(staff=staff).first()
    before = (
        {
            "role": profile.role,
            "region": profile.region_id,
            "threshold": profile.threshold,
            "performance_pay": profile.performance_pay,
            "is_active": profile.is_active,
        }
        if profile
        else None
    )
    profile, _created = IncentiveProfile.objects.update_or_create(
        staff=staff,
        defaults={
            "role": role,
            "region": region,
            "threshold": threshold,
            "performance_pay": pay,
            "is_active": is_active,
        },
    )
    record(
        actor=actor,
        action="incentives.profile.set",
        obj=profile,
        before=before,
        after={
            "role": role,
            "region": region.pk,
            "threshold": threshold,
            "performance_pay": pay,
            "is_active": is_active,
        },
    )
    return profile


@transaction.atomic
def add_market(*, actor: Any, name: str, on_list: bool = True) -> Market:
    """Add a market to the development list (or record one outside it)."""
    _require_admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": [_("Enter a market name of at most 100 characters.")]})
    if Market.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("A market with this name already exists.")]})
    market = Market.objects.create(name=name, on_list=on_list)
    record(actor=actor, action="incentives.market.add", obj=market, after={"on_list": on_list})
    return market


@transaction.atomic
def develop_customer(
    *,
    actor: Any,
    customer: Any,
    developed_by: Staff,
    region: OrgNode,
    developed_in: str,
    reported_order: int | None = None,
    market: Market | None = None,
) -> DevelopedCustomer:
    """Record a newly developed customer as its region reported it (managers over the
    region and administrators). Without ``reported_order`` it goes last in the month."""
    _require_manages(actor, region)
    parse_month(developed_in)
    if DevelopedCustomer.objects.filter(customer=customer).exists():
        raise ValidationError({"customer": [_("This customer is already recorded as developed.")]})
    if reported_order is None:
        reported_order = (
            DevelopedCustomer.objects.filter(region=region, developed_in=developed_in).aggregate(
                m=Max("reported_order")
            )["m"]
            or 0
        ) + 1
    elif (
        isinstance(reported_order, bool)
        or not isinstance(reported_order, int)
        or reported_order < 1
    ):
        raise ValidationError(
            {"reported_order": [_("The reported order is a whole number from 1.")]}
        )
    try:
        with transaction.atomic():
            developed = DevelopedCustomer.objects.create(
                customer=customer,
                developed_by=developed_by,
                region=region,
                developed_in=developed_in,
                reported_order=reported_order,
                market=market,
                recorded_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {
                "reported_order": [
                    _(
                        "Another customer of this region and month has this reported order, "
                        "or the customer was just recorded by someone else."
                    )
                ]
            }
        ) from exc
    record(
        actor=actor,
        action="incentives.customer.develop",
        obj=developed,
        after={
            "customer": customer.pk,
            "developed_by": developed_by.pk,
            "region": region.pk,
            "developed_in": developed_in,
            "reported_order": reported_order,
            "market": market.pk if market else None,
        },
    )
    return developed


@transaction.atomic
def record_payment(
    *, actor: Any, developed: DevelopedCustomer, month: str, amount: Any
) -> CustomerPayment:
    """Record a payment of a developed customer in a month (payments in a month add up)."""
    _require_manages(actor, developed.region)
    parse_month(month)
    value = _money(amount, "amount")
    payment = CustomerPayment.objects.create(
        developed=developed, month=month, amount=value, recorded_by=actor
    )
    record(
        actor=actor,
        action="incentives.payment.record",
        obj=payment,
        after={"developed": developed.pk, "month": month, "amount": value},
    )
    return payment


@transaction.atomic
def mark_active_month(*, actor: Any, developed: DevelopedCustomer, month: str) -> ActiveMonth:
    """Record that a developed customer was active (shipped or bought) in a month."""
    _require_manages(actor, developed.region)
    parse_month(month)
    row, created = ActiveMonth.objects.get_or_create(developed=developed, month=month)
    if created:
        record(
            actor=actor,
            action="incentives.customer.active",
            obj=developed,
            after={"month": month},
        )
    return row


@transaction.atomic
def flag_fraud(
    *, actor: Any, developed: DevelopedCustomer, reason: str, is_fraud: bool = True
) -> DevelopedCustomer:
    """Mark a developed customer as fabricated (rule 9), or clear the flag."""
    _require_manages(actor, developed.region)
    reason = (reason or "").strip()
    if is_fraud and not reason:
        raise ValidationError({"reason": [_("Say why the customer is fabricated.")]})
    if len(reason) > 200:
        raise ValidationError({"reason": [_("At most 200 characters.")]})
    before = {"is_fraud": developed.is_fraud, "reason": developed.fraud_reason}
    developed.is_fraud = is_fraud
    developed.fraud_reason = reason if is_fraud else ""
    developed.fraud_flagged_by = actor
    developed.fraud_flagged_at = timezone.now()
    developed.save(
        update_fields=["is_fraud", "fraud_reason", "fraud_flagged_by", "fraud_flagged_at"]
    )
    record(
        actor=actor,
        action="incentives.customer.fraud",
        obj=developed,
        before=before,
        after={"is_fraud": is_fraud, "reason": developed.fraud_reason},
    )
    return developed


def general_manager_id() -> int | None:
    """The general manager (总经理, DOMAIN §8 rule 12): the manager of the company's root
    node. None when the company has none set (org has no separate notion of it)."""
    from kehu.org.services import company

    root = company()
    return root.manager_id if root is not None else None


def is_general_manager(actor: Any) -> bool:
    """``actor`` may decide as the general manager: the root node's manager; while the
    company has no manager set, an administrator acts for them."""
    if actor is None or not getattr(actor, "pk", None):
        return False
    gm = general_manager_id()
    return actor.pk == gm if gm is not None else bool(actor.is_admin)


@transaction.atomic
def approve_market(*, actor: Any, developed: DevelopedCustomer, note: str = "") -> MarketApproval:
    """The general manager lets a customer developed outside the approved development list
    count (rule 12): the manager of the company's root node — not any administrator — or,
    while the company has no manager set, an administrator."""
    if not is_general_manager(actor):
        raise PermissionDenied(
            _("Only the general manager can approve a market outside the approved list.")
        )
    if developed.market is None or developed.market.on_list:
        raise ValidationError(
            _("This customer's market is on the approved list; it needs no approval.")
        )
    approval, created = MarketApproval.objects.get_or_create(
        developed=developed, defaults={"approved_by": actor, "note": (note or "").strip()[:200]}
    )
    if created:
        record(
            actor=actor,
            action="incentives.market.approve",
            obj=developed,
            after={"market": developed.market_id},
        )
    return approval


def target_deadline(month: str) -> datetime.datetime:
    """08:00 on the 6th of ``month``, Asia/Shanghai (rule 11)."""
    day = first_day(month).replace(day=TARGET_DEADLINE_DAY)
    return datetime.datetime.combine(day, datetime.time(TARGET_DEADLINE_HOUR), tzinfo=TARGET_TZ)


@transaction.atomic
def submit_target(
    *,
    actor: Any,
    region: OrgNode,
    month: str,
    target: Any,
    now: datetime.datetime | None = None,
) -> RegionTarget:
    """A region's target for a month (rule 11). Managers over the region submit or change
    it until 08:00 on the 6th (Asia/Shanghai); after that it is refused, except that an
    administrator may still enter it, and it is then marked late."""
    _require_manages(actor, region)
    parse_month(month)
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= 10000:
        raise ValidationError({"target": [_("The target is a whole number from 0 to 10000.")]})
    now = now or timezone.now()
    late = now >= target_deadline(month)
    if late and not actor.is_admin:
        raise ValidationError(
            {
                "month": [
                    _(
                        "Targets for %(month)s were due before 08:00 on the 6th; ask an "
                        "administrator to enter a late one."
                    )
                    % {"month": month}
                ]
            }
        )
    existing = RegionTarget.objects.filter(region=region, month=month).first()
    before = {"target": existing.target, "is_late": existing.is_late} if existing else None
    row, _created = RegionTarget.objects.update_or_create(
        region=region,
        month=month,
        defaults={"target": target, "submitted_by": actor, "submitted_at": now, "is_late": late},
    )
    record(
        actor=actor,
        action="incentives.target.submit",
        obj=row,
        before=before,
        after={"target": target, "is_late": late},
    )
    return row


# ---------------------------------------------------------------------------- build facts


def effective_count(amount: Decimal, params: dict[str, Any]) -> int:
    """Rule 1: 0, 1 or 2 for a customer's payments in the month it was developed."""
    rule = params.get("effective", {})
    if amount >= Decimal(str(rule.get("count_two_from", 50000))):
        return 2
    if amount >= Decimal(str(rule.get("count_one_from", 7950))):
        return 1
    return 0


def _region_targets(month: str, params: dict[str, Any]) -> dict[int, int]:
    """Each region's effective target for ``month``: the submitted one; a target of 0
    carries the previous month's unmet target forward (rule 11). Regions without a
    submitted target are absent (their threshold is the area managers' sum)."""
    start = add_months(month, -CARRY_FORWARD_MONTHS)
    targets: dict[tuple[int, str], int] = {
        (t.region_id, t.month): t.target
        for t in RegionTarget.objects.filter(month__gte=start, month__lte=month)
    }
    regions = {region for region, m in targets if m == month}
    if not regions:
        return {}
    developed = DevelopedCustomer.objects.filter(
        region_id__in=regions, developed_in__gte=start, developed_in__lt=month, is_fraud=False
    ).select_related("market")
    approved = set(
        MarketApproval.objects.filter(developed__in=developed).values_list(
            "developed_id", flat=True
        )
    )
    counted = {
        d.pk: d for d in developed if d.market is None or d.market.on_list or d.pk in approved
    }
    paid: dict[int, Decimal] = {}
    for payment in CustomerPayment.objects.filter(developed_id__in=counted):
        if payment.month == counted[payment.developed_id].developed_in:
            paid[payment.developed_id] = paid.get(payment.developed_id, Decimal(0)) + payment.amount
    count: dict[tuple[int, str], int] = {}
    for pk, d in counted.items():
        key = (d.region_id, d.developed_in)
        count[key] = count.get(key, 0) + effective_count(paid.get(pk, Decimal(0)), params)

    result: dict[int, int] = {}
    for region in regions:
        unmet = 0
        for offset in range(CARRY_FORWARD_MONTHS, 0, -1):
            m = add_months(month, -offset)
            if (region, m) not in targets:
                unmet = 0
                continue
            goal = targets[(region, m)] or unmet
            unmet = max(0, goal - count.get((region, m), 0))
        result[region] = targets[(region, month)] or unmet
    return result


def build_facts(month: str, *, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored facts of ``month`` in the engine's shape (the simulate body without
    ``"scheme"``). Customers developed in the activity-check window before the month are
    included with their payments and active months, so the engine can void a
    development (rule 8). A customer developed outside the approved market list counts
    only once approved (rule 12). ``pool_opening`` is the latest earlier pool entry's
    closing balance. A month with people assessed runs even when nobody developed
    anything; a month without anybody assessed, or one that has not started and has
    nothing recorded, is a ValidationError (no facts)."""
    parse_month(month)
    if params is None:
        from kehu.incentives.schemes import default_scheme

        params = default_scheme()
    window = int(params.get("activity_check", {}).get("window_months", 3))
    start = add_months(month, -(window - 1))
    first, last = first_day(month), last_day(month)

    profiles = list(
        IncentiveProfile.objects.filter(is_active=True)
        .select_related("staff")
        .order_by("region_id", "role", "staff_id")
    )
    profiles = [p for p in profiles if p.staff.left_on is None or p.staff.left_on >= first]
    profiles = [p for p in profiles if p.staff.hire_date is None or p.staff.hire_date <= last]

    developed = list(
        DevelopedCustomer.objects.filter(developed_in__gte=start, developed_in__lte=month)
        .select_related("market")
        .order_by("developed_in", "region_id", "reported_order", "id")
    )
    approved = set(
        MarketApproval.objects.filter(
            developed__developed_in__gte=start, developed__developed_in__lte=month
        ).values_list("developed_id", flat=True)
    )
    developed_this_month = any(d.developed_in == month for d in developed)
    developed = [d for d in developed if d.market is None or d.market.on_list or d.pk in approved]
    ids = [d.pk for d in developed]
    payments: dict[int, dict[str, Decimal]] = {}
    for developed_id, pay_month, amount in CustomerPayment.objects.filter(
        developed_id__in=ids, month__lte=month
    ).values_list("developed_id", "month", "amount"):
        by_month = payments.setdefault(developed_id, {})
        by_month[pay_month] = by_month.get(pay_month, Decimal(0)) + amount
    active: dict[int, list[str]] = {}
    for developed_id, active_month in (
        ActiveMonth.objects.filter(developed_id__in=ids, month__lte=month)
        .order_by("month")
        .values_list("developed_id", "month")
    ):
        active.setdefault(developed_id, []).append(active_month)

    # A month with people assessed in it always runs (its threshold penalties and the
    # activity check apply even when nobody developed anything). A month without anybody
    # on duty has no facts; neither has a month that has not started and where nothing
    # is recorded yet.
    has_facts = (
        developed_this_month
        or any(month in by_month for by_month in payments.values())
        or RegionTarget.objects.filter(month=month).exists()
    )
    if not profiles:
        raise ValidationError(
            {
                "month": [
                    _(
                        "There are no facts for %(month)s: record the people assessed, "
                        "developed customers, payments or targets first."
                    )
                    % {"month": month}
                ]
            }
        )
    if first > timezone.localdate() and not has_facts:
        raise ValidationError(
            {
                "month": [
                    _(
                        "There are no facts for %(month)s: the month has not started and "
                        "nothing is recorded for it yet."
                    )
                    % {"month": month}
                ]
            }
        )

    targets = _region_targets(month, params)
    previous = PoolEntry.objects.filter(month__lt=month).order_by("-month").first()
    facts: dict[str, Any] = {
        "month": month,
        "pool_opening": _plain_number(previous.closing) if previous else 0,
        "staff": [
            {
                "id": p.staff_id,
                "role": p.role,
                "region": p.region_id,
                "threshold": p.threshold,
                "monthly_target": targets.get(p.region_id)
                if p.role == IncentiveRole.REGION_MANAGER
                else None,
                "hired_on": (p.staff.hire_date or UNKNOWN_HIRE_DATE).isoformat(),
                "probation_until": p.staff.probation_end.isoformat()
                if p.staff.probation_end
                else None,
                "left_on": p.staff.left_on.isoformat() if p.staff.left_on else None,
                "performance_pay": _plain_number(p.performance_pay),
            }
            for p in profiles
        ],
        "customers": [
            {
                "id": d.customer_id,
                "developed_by": d.developed_by_id,
                "region": d.region_id,
                "developed_in": d.developed_in,
                "reported_order": d.reported_order,
                "payments": {
                    m: _plain_number(v) for m, v in sorted(payments.get(d.pk, {}).items())
                },
                "active_months": active.get(d.pk, []),
                "fraud": d.is_fraud,
            }
            for d in developed
        ],
    }
    recompute = _recompute_block(month, params)
    if recompute is not None:
        facts["recompute"] = recompute
    return facts


def _recompute_block(month: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The facts of the month the activity check recomputes when ``month`` is run (rule
    8: the month its customers were developed in), as that month was run and stored:
    its staff (their performance pay and region target then, people who have left since)
    and the customers developed in it. None when the check is off or that month was not
    run (the engine then recomputes it with ``month``'s facts)."""
    check = params.get("activity_check", {})
    if not check.get("enabled", True):
        return None
    then = add_months(month, -(int(check.get("window_months", 3)) - 1))
    if then >= month:
        return None
    run = MonthlyRun.objects.filter(month=then).select_related("scheme").first()
    stored = run.facts if run is not None else None
    if not stored:
        return None
    assert run is not None
    return {
        "month": then,
        # The month is recomputed under the scheme version it was run with.
        "scheme": _params_of(run.scheme),
        "staff": stored.get("staff", []),
        "customers": [c for c in stored.get("customers", []) if c.get("developed_in") == then],
    }


# ---------------------------------------------------------------------------- field pay

FIELD_STAGES = {"left_phone": "left_phone", "visited": "visit", "pledged": "pledge", "deal": "deal"}


def _month_end(month: str) -> datetime.datetime:
    """The first instant after ``month`` in the site's time zone."""
    return timezone.make_aware(
        datetime.datetime.combine(first_day(add_months(month, 1)), datetime.time())
    )


def _local_month(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.year:04d}-{local.month:02d}"


@transaction.atomic
def create_field_campaign(
    *,
    actor: Any,
    name: str,
    node: OrgNode,
    starts_on: datetime.date,
    ends_on: datetime.date,
    amounts: Any,
) -> FieldCampaign:
    """A field campaign's own per-node pay for promoters under ``node`` (managers over
    the node, administrators). ``amounts`` names any of left_phone, visit, pledge, deal."""
    from kehu.incentives.schemes import FIELD_NODES

    _require_manages(actor, node)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        errors["name"] = [_("Enter a campaign name of at most 100 characters.")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("The campaign cannot end before it starts.")]
    clean: dict[str, Any] = {}
    if not isinstance(amounts, dict) or not amounts:
        errors["amounts"] = [
            _("Give amounts per node, e.g. %(example)s.") % {"example": '{"visit": 80}'}
        ]
    else:
        for key, value in amounts.items():
            if key not in FIELD_NODES:
                errors["amounts"] = [
                    _("Unknown node %(node)r; choose among: %(valid)s.")
                    % {"node": key, "valid": ", ".join(FIELD_NODES)}
                ]
                break
            try:
                clean[key] = _plain_number(_money(value, f"amounts.{key}"))
            except ValidationError as exc:
                errors["amounts"] = [str(m) for m in exc.messages]
                break
    if errors:
        raise ValidationError(errors)
    campaign = FieldCampaign.objects.create(
        name=name,
        node=node,
        starts_on=starts_on,
        ends_on=ends_on,
        amounts=clean,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    record(
        actor=actor,
        action="incentives.field_campaign.create",
        obj=campaign,
        after={
            "node": node.pk,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "amounts": clean,
        },
    )
    return campaign


def _campaign_for(
    staff_id: int, created_at: datetime.datetime, paths: dict[int, str], cache: dict[Any, Any]
) -> FieldCampaign | None:
    """The campaign that pays a field lead: on the promoter's node or above it, running
    on the day of the registration; the most recently started one when several do."""
    day = timezone.localtime(created_at).date()
    key = (paths.get(staff_id, ""), day)
    if key not in cache:
        cache[key] = (
            FieldCampaign.objects.for_lead(key[0], day).order_by("-starts_on", "-id").first()
        )
    return cache[key]


def field_facts(month: str) -> dict[str, list[dict[str, Any]]]:
    """The field force's facts up to the end of ``month`` (DOMAIN §7, §8):

    * ``events``: for each customer a promoter registered first (a new, valid field
      registration), the registration itself (the customer left a phone number) and
      every later move to visited, pledged and deal, oldest first;
    * ``deals``: for each customer a broker referred first, its first deal, the deal
      amount (the customer's purchases so far), whether it was cancelled (moved from
      deal to lost afterwards) or the referral proved false, and what was already paid
      for it in earlier months."""
    from kehu.activities.models import StageChange
    from kehu.customers.models import Purchase
    from kehu.leads.models import Registration

    end = _month_end(month)
    firsts = (
        Registration.objects.filter(kind__in=["field", "broker"], result="new", created_at__lt=end)
        .order_by("created_at", "id")
        .values_list("customer_id", "registered_by_id", "kind", "created_at", "is_fraud")
    )
    promoter_of: dict[int, int] = {}
    broker_of: dict[int, tuple[int, bool]] = {}
    events: list[dict[str, Any]] = []
    # The campaign a lead was registered under pays every node that lead reaches.
    paths = dict(
        Staff.objects.filter(role_rows__role__in=["promoter", "commissioner"])
        .exclude(node__isnull=True)
        .values_list("pk", "node__path")
    )
    has_campaigns = FieldCampaign.objects.exists()
    campaigns: dict[Any, Any] = {}
    campaign_of: dict[int, dict[str, Any]] = {}
    for customer_id, staff_id, kind, created_at, is_fraud in firsts:
        if kind == "field":
            if is_fraud or customer_id in promoter_of:
                continue
            promoter_of[customer_id] = staff_id
            campaign = (
                _campaign_for(staff_id, created_at, paths, campaigns) if has_campaigns else None
            )
            campaign_of[customer_id] = (
                {"campaign": campaign.pk, "amounts": campaign.amounts}
                if campaign
                else {"campaign": None}
            )
            events.append(
                {
                    "promoter": staff_id,
                    "customer": customer_id,
                    "node": "left_phone",
                    "month": _local_month(created_at),
                    **campaign_of[customer_id],
                }
            )
        elif customer_id not in broker_of:
            broker_of[customer_id] = (staff_id, is_fraud)
    changes = (
        StageChange.objects.filter(customer_id__in=[*promoter_of, *broker_of], created_at__lt=end)
        .order_by("created_at", "id")
        .values_list("customer_id", "from_stage", "to_stage", "created_at")
    )
    deal_at: dict[int, str] = {}
    cancelled: set[int] = set()
    for customer_id, from_stage, to_stage, created_at in changes:
        if customer_id in promoter_of and to_stage in FIELD_STAGES:
            events.append(
                {
                    "promoter": promoter_of[customer_id],
                    "customer": customer_id,
                    "node": FIELD_STAGES[to_stage],
                    "month": _local_month(created_at),
                    **campaign_of[customer_id],
                }
            )
        if customer_id in broker_of:
            if to_stage == "deal" and customer_id not in deal_at:
                deal_at[customer_id] = _local_month(created_at)
            elif from_stage == "deal" and to_stage == "lost":
                cancelled.add(customer_id)
    amounts: dict[int, Decimal] = {}
    for customer_id, amount in Purchase.objects.filter(
        customer_id__in=list(deal_at), purchased_on__lte=last_day(month)
    ).values_list("customer_id", "amount"):
        amounts[customer_id] = amounts.get(customer_id, Decimal(0)) + amount
    paid: dict[tuple[int, int], Decimal] = {}
    for staff_id, customer_id, amount in StatementLine.objects.filter(
        rule="broker", statement__month__lt=month, customer_id__in=list(deal_at)
    ).values_list("statement__staff_id", "customer_id", "amount"):
        key = (staff_id, customer_id)
        paid[key] = paid.get(key, Decimal(0)) + amount
    deals = []
    for customer_id, deal_month in deal_at.items():
        broker, referral_false = broker_of[customer_id]
        already = paid.get((broker, customer_id))
        deals.append(
            {
                "broker": broker,
                "customer": customer_id,
                "deal": customer_id,
                "amount": _plain_number(amounts.get(customer_id, Decimal(0))),
                "month": month if already is None else deal_month,
                "status": "cancelled" if customer_id in cancelled else "signed",
                "referral_false": referral_false,
                "commission_paid": _plain_number(already) if already else None,
            }
        )
    return {"events": events, "deals": deals}


def field_statements(params: dict[str, Any], month: str) -> dict[str, Any]:
    """The field force's statements for ``month``: promoters' node pay reached in the
    month and brokers' commissions settled in it, computed by the engine."""
    from kehu.incentives.engine import broker_commissions, field_pay, to_json

    facts = field_facts(month)
    lines = [line for line in field_pay(params, facts["events"]) if line["month"] == month] + list(
        broker_commissions(params, facts["deals"])
    )
    by_staff: dict[int, list[dict[str, Any]]] = {}
    for line in lines:
        by_staff.setdefault(line["staff"], []).append(line)
    statements = [
        {
            "staff": staff,
            "role": "broker" if all(line["rule"] == "broker" for line in rows) else "promoter",
            "assessed": True,
            "total": sum((Decimal(str(line["amount"])) for line in rows), Decimal(0)),
            "lines": rows,
        }
        for staff, rows in sorted(by_staff.items())
    ]
    return to_json({"facts": facts, "statements": statements})


# ---------------------------------------------------------------------------- the run


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@transaction.atomic
def run_month(*, actor: Any, month: str, scheme: str = DEFAULT_CODE) -> MonthlyRun:
    """Run ``month`` with the approved version of scheme ``scheme`` valid in it, and
    store the statements and the pool entry. Idempotent: re-running replaces the month's
    run in this one transaction and, on the same facts, stores the same result.
    Administrators (and the worker, ``actor=None``) only.

    Re-running a month changes its pool closing balance (and the statements the activity
    check of later months recomputes), so every later month already run is re-run after
    it, oldest first, each with the scheme code it was run with, in the same
    transaction: the ledger stays a chain (each opening = the previous closing). If a
    later month can no longer be run, nothing is stored and the error names it."""
    if actor is not None:
        _require_admin(actor)
    parse_month(month)
    run = _run_one(actor=actor, month=month, scheme=scheme)
    for later, code in MonthlyRun.objects.later_than(month).values_list("month", "scheme__code"):
        try:
            _run_one(actor=actor, month=later, scheme=code, after=month)
        except ValidationError as exc:
            raise ValidationError(
                {
                    "month": [
                        _(
                            "Re-running %(month)s re-runs the later months already run, and "
                            "%(later)s cannot be run: %(reason)s"
                        )
                        % {"month": month, "later": later, "reason": " ".join(exc.messages)}
                    ]
                }
            ) from exc
    return run


def _run_one(*, actor: Any, month: str, scheme: str, after: str | None = None) -> MonthlyRun:
    """Compute and store one month (see run_month); ``after`` names the month whose
    re-run caused this one (recorded in the audit event)."""
    from kehu.incentives.engine import compute

    version = scheme_for(scheme, month)
    if version is None:
        raise ValidationError(
            {
                "scheme": [
                    _("There is no approved version of scheme “%(code)s” valid in %(month)s.")
                    % {"code": scheme, "month": month}
                ]
            }
        )
    params = _params_of(version)
    facts = build_facts(month, params=params)
    result = compute(params, facts)
    field = field_statements(params, month)

    previous = MonthlyRun.objects.filter(month=month).first()
    before = {"scheme": str(previous.scheme_id), "total": previous.total} if previous else None
    if previous is not None:
        PoolEntry.objects.filter(month=month).delete()
        previous.delete()

    rows = [dict(s, lines=list(s["lines"])) for s in result["statements"]]
    by_staff = {s["staff"]: s for s in rows}
    for s in field["statements"]:
        if s["staff"] in by_staff:  # a person both assessed and paid in the field
            merged = by_staff[s["staff"]]
            merged["lines"] += s["lines"]
            merged["total"] = _decimal(merged["total"]) + _decimal(s["total"])
        else:
            rows.append(s)
    staff_nodes = dict(
        Staff.objects.filter(pk__in=[s["staff"] for s in rows]).values_list("pk", "node_id")
    )
    total = sum((_decimal(s["total"]) for s in rows), Decimal(0))
    try:
        with transaction.atomic():
            run = MonthlyRun.objects.create(
                month=month,
                scheme=version,
                ran_at=timezone.now(),
                ran_by=actor if actor is not None and actor.pk else None,
                facts=facts,
                result=result,
                field=field,
                total=total,
            )
    except IntegrityError as exc:
        raise ValidationError(
            _("%(month)s is being run by someone else right now; try again in a moment.")
            % {"month": month}
        ) from exc
    statements = Statement.objects.bulk_create(
        [
            Statement(
                run=run,
                staff_id=s["staff"],
                node_id=staff_nodes[s["staff"]],
                month=month,
                role=str(s.get("role", ""))[:16],
                assessed=bool(s.get("assessed", True)),
                effective=int(s.get("effective") or 0),
                note=str((s.get("not_assessed") or {}).get("message", ""))[:300],
                total=_decimal(s["total"]),
            )
            for s in rows
        ]
    )
    customer_ids = {
        line["customer"] for s in rows for line in s["lines"] if line.get("customer") is not None
    }
    from kehu.customers.models import Customer

    existing = set(Customer.objects.filter(pk__in=customer_ids).values_list("pk", flat=True))
    StatementLine.objects.bulk_create(
        [
            StatementLine(
                statement_id=statement.pk,
                position=index,
                kind=str(line.get("kind", ""))[:32],
                code=str(line.get("code", ""))[:64],
                month=str(line.get("month", ""))[:7],
                message=str(line.get("message", ""))[:500],
                amount=_decimal(line.get("amount")),
                customer_id=line["customer"] if line.get("customer") in existing else None,
                rule=str(line.get("rule", ""))[:64],
                reason=str(line.get("reason", ""))[:500],
            )
            for statement, s in zip(statements, rows, strict=True)
            for index, line in enumerate(s["lines"])
        ]
    )
    pool = result["pool"]
    PoolEntry.objects.create(
        month=month,
        run=run,
        opening=_decimal(pool["opening"]),
        penalties=_decimal(pool["penalties"]),
        bonuses=_decimal(pool["bonuses"]),
        from_management_fund=_decimal(pool["from_management_fund"]),
        closing=_decimal(pool["closing"]),
    )
    record(
        actor=actor,
        action="incentives.run",
        obj=run,
        before=before,
        after={
            "scheme": str(version),
            "total": total,
            "statements": len(statements),
            **({"rerun_after": after} if after else {}),
        },
    )
    return run
