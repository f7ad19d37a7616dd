"""Registration (报备), judging (判客) and attribution, conflicts and fraud.

The rules (DOMAIN §3):

* The first valid registration of a number creates the customer; its registrant owns it
  for the channel's protection period.
* A registration of an owned number by someone else while it is protected is a
  **conflict**: recorded, queued for a manager, the customer unchanged.
* After the protection period the customer is re-attributed to whoever registers it
  again, with a new protection period.
* The owner (or the first registrant) registering again is simply **existing**.
* A broker learns whether the customer is new or existing, and nothing more.

Concurrency: a number belongs to one customer by a unique constraint; fifty people
registering one number at once produce one customer: the losers of the insert race read
the winner and are judged against it. Re-attribution is a conditional UPDATE on the
protection the caller saw, so two people cannot both take an expired customer.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.audit import build_event, record
from kehu.core.inserts import Linked, insert_linked
from kehu.core.memo import Memo
from kehu.core.phones import national_digits, normalise_phone
from kehu.customers import completeness
from kehu.customers.choices import Gender
from kehu.customers.models import Customer, CustomerPhone
from kehu.customers.services import profile_of, requirements
from kehu.leads.choices import (
    AssignmentReason,
    ConflictDecision,
    ConflictStatus,
    RegistrationKind,
    RegistrationResult,
)
from kehu.leads.models import Assignment, Channel, Conflict, Registration

OWNER_ROLES = ("consultant", "manager", "admin")


@dataclass(frozen=True)
class Judgement:
    """What a registration answered: ``result`` is new, existing or conflict."""

    registration: Registration
    customer: Customer
    result: str
    owner_id: int | None
    protected_until: datetime.datetime | None

    def as_dict(self, viewer: Any) -> dict[str, Any]:
        """The API answer; a broker sees only the result for a customer not theirs."""
        hide = (
            viewer.has_role("broker")
            and not viewer.is_admin
            and not viewer.has_any_role(*OWNER_ROLES)
            and self.result != "new"
        )
        return {
            "customer": None if hide else self.customer.pk,
            # A conflict is the managers' business: the broker hears "existing".
            "result": "existing" if hide else str(self.result),
            "owner": None if hide else self.owner_id,
            "protected_until": None
            if hide or self.protected_until is None
            else timezone.localtime(self.protected_until).isoformat(),
        }


CHANNELS_CACHE_KEY = "kehu:active-channels"


_channels_memo = Memo()


def active_channels() -> dict[str, Channel]:
    """Active channels by code. Read on every registration, so cached (the shared cache,
    Redis in production, for a minute; this process for a few seconds, kehu.core.memo)
    and dropped whenever a channel changes."""
    return cast(dict[str, Channel], _channels_memo.get(_shared_channels))


def _shared_channels() -> dict[str, Channel]:
    cached = cache.get(CHANNELS_CACHE_KEY)
    if cached is None:
        cached = {c.code: c for c in Channel.objects.filter(is_active=True)}
        cache.set(CHANNELS_CACHE_KEY, cached, 60)
    return cast(dict[str, Channel], cached)


def forget_channels() -> None:
    def forget() -> None:
        cache.delete(CHANNELS_CACHE_KEY)
        _channels_memo.forget()

    forget()
    transaction.on_commit(forget)


def _can_own(staff: Any) -> bool:
    return staff.has_any_role(*OWNER_ROLES) or staff.is_admin


def allowed_kinds(staff: Any) -> list[str]:
    """Brokers register referrals; promoters field leads; the sales floor the rest."""
    if staff.is_admin:
        return [k for k in RegistrationKind.values if k != RegistrationKind.IMPORT]
    kinds: set[str] = set()
    if staff.has_role("broker"):
        kinds.add(RegistrationKind.BROKER)
    if staff.has_any_role("promoter", "commissioner"):
        kinds.add(RegistrationKind.FIELD)
    if staff.has_any_role("consultant", "manager"):
        kinds.update(
            [
                RegistrationKind.CALL,
                RegistrationKind.VISIT,
                RegistrationKind.WEB,
                RegistrationKind.BROKER,
                RegistrationKind.FIELD,
            ]
        )
    return sorted(kinds)


def _clean(
    *,
    actor: Any,
    phone: str,
    name: str,
    kind: str,
    channel: str,
    gender: str | None,
    note: str,
    location: dict[str, Any] | None,
) -> tuple[str, Channel, dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    number = ""
    try:
        number = normalise_phone(phone if isinstance(phone, str) else "")
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    kinds = allowed_kinds(actor) if actor is not None else RegistrationKind.values
    if kind not in RegistrationKind.values:
        errors["kind"] = [
            _("Unknown kind %(kind)r; choose one of: %(valid)s.")
            % {"kind": kind, "valid": ", ".join(kinds)}
        ]
    elif kind not in kinds:
        errors["kind"] = [
            _("You cannot register a lead of kind %(kind)s; you may use: %(valid)s.")
            % {"kind": kind, "valid": ", ".join(kinds) or "—"}
        ]
    channel_obj = active_channels().get(channel) if isinstance(channel, str) else None
    if channel_obj is None:
        codes = list(Channel.objects.filter(is_active=True).values_list("code", flat=True))
        errors["channel"] = [
            _("Unknown channel %(code)r; choose one of: %(valid)s.")
            % {"code": channel, "valid": ", ".join(codes)}
        ]
    name = (name or "").strip()
    if len(name) > 100:
        errors["name"] = [
            _("At most %(max)d characters (this has %(count)d).") % {"max": 100, "count": len(name)}
        ]
    if gender not in (None, "", *Gender.values):
        errors["gender"] = [_("Choose one of: %(valid)s.") % {"valid": ", ".join(Gender.values)}]
    if note and len(note) > 2000:
        errors["note"] = [
            _("At most %(max)d characters (this has %(count)d).")
            % {"max": 2000, "count": len(note)}
        ]
    extra: dict[str, Any] = {"name": name, "gender": gender or Gender.UNKNOWN, "note": note or ""}
    if location is not None:
        try:
            lat, lng = Decimal(str(location["lat"])), Decimal(str(location["lng"]))
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                raise ValueError
            extra["latitude"] = lat.quantize(Decimal("0.000001"))
            extra["longitude"] = lng.quantize(Decimal("0.000001"))
        except (KeyError, TypeError, ValueError, ArithmeticError):
            errors["location"] = [_('A location is {"lat": -90..90, "lng": -180..180}.')]
    if errors:
        raise ValidationError(errors)
    assert channel_obj is not None
    return number, channel_obj, extra


def register_lead(
    *,
    actor: Any,
    phone: str,
    kind: str,
    channel: str,
    name: str = "",
    gender: str | None = None,
    note: str = "",
    location: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Judgement:
    """Register a lead for ``actor`` and judge it. Fails whole or succeeds whole."""
    if actor is None or not actor.is_active:
        raise PermissionDenied(_("You are not allowed to do this."))
    number, channel_obj, extra = _clean(
        actor=actor,
        phone=phone,
        name=name,
        kind=kind,
        channel=channel,
        gender=gender,
        note=note,
        location=location,
    )
    now = now or timezone.now()
    protected_until = now + datetime.timedelta(days=channel_obj.protection_days)
    fast = connection.vendor == "postgresql" and FAST_PATH
    for _attempt in range(3):
        try:
            if fast:
                judgement = _register_new_in_one_statement(
                    actor, number, kind, channel_obj, extra, now, protected_until
                )
                if judgement is not None:
                    return judgement
            with transaction.atomic():
                return _register(actor, number, kind, channel_obj, extra, now, protected_until)
        except IntegrityError:
            # Lost the race to insert the number: the winner's customer now exists;
            # go round again and be judged against it.
            continue
    raise ValidationError({"phone": [_("This number is being registered right now; try again.")]})


#: The one-statement insert on PostgreSQL (kehu.core.inserts); tests switch it off to
#: compare both paths row by row.
FAST_PATH = True


@dataclass
class _NewRows:
    customer: Customer
    phone: CustomerPhone
    registration: Registration
    assignment: Assignment
    stage_change: Any
    audit: Any
    protected_until: datetime.datetime

    def judgement(self) -> Judgement:
        return Judgement(
            self.registration,
            self.customer,
            RegistrationResult.NEW,
            self.customer.owner_id,
            self.protected_until,
        )


def _new_customer_rows(
    actor: Any,
    number: str,
    kind: str,
    channel: Channel,
    extra: dict[str, Any],
    now: datetime.datetime,
    protected_until: datetime.datetime,
) -> _NewRows:
    """The six rows a first registration writes, unsaved: the customer, its number, the
    registration, the assignment, the first stage-history row and the audit event."""
    from kehu.activities.services import stage_change_row

    owner = actor if _can_own(actor) else None
    customer = Customer(
        name=extra["name"],
        gender=extra["gender"],
        owner=owner,
        node=actor.node if actor.node_id else None,
        registered_by=actor,
        channel=channel,
        protected_until=protected_until,
        first_registered_at=now,
        last_followup_at=None,
        stage="left_phone",
        profile={"consultation": extra["note"]} if extra["note"] else {},
    )
    # Completeness computed before the insert (the number is known to be there).
    result = completeness.compute(
        profile_of(customer, has_phone=True),
        completeness.completeness_stage(customer.stage, 0),
        requirements(),
    )
    customer.completeness = result.score
    customer.completeness_missing = result.missing
    customer.is_below_completeness = result.is_below
    phone = CustomerPhone(number=number, digits=national_digits(number), is_primary=True)
    registration = Registration(
        result=RegistrationResult.NEW,
        owner=owner,
        protected_until=protected_until,
        registered_by=actor,
        kind=kind,
        channel=channel,
        note=extra["note"],
        latitude=extra.get("latitude"),
        longitude=extra.get("longitude"),
    )
    assignment = Assignment(
        to_staff=owner,
        reason=AssignmentReason.REGISTRATION,
        actor=actor,
        explanation=_("First registration through %(channel)s.") % {"channel": channel.name},
    )
    stage_change = stage_change_row(
        customer=customer,
        from_stage="",
        to_stage="left_phone",
        actor=actor,
        reason="registration",
        at=now,
    )
    audit = build_event(
        actor=actor,
        action="leads.registration.new",
        object_type=Customer._meta.label_lower,
        object_repr=str(customer) if customer.name else "",
        after={"phone": number, "kind": kind, "channel": channel.code, "owner": customer.owner_id},
    )
    return _NewRows(customer, phone, registration, assignment, stage_change, audit, protected_until)


def _register_new_in_one_statement(
    actor: Any,
    number: str,
    kind: str,
    channel: Channel,
    extra: dict[str, Any],
    now: datetime.datetime,
    protected_until: datetime.datetime,
) -> Judgement | None:
    """PostgreSQL: a number nobody has registered is written in one statement (see
    kehu.core.inserts; the six rows are the ORM path's). None when the number exists:
    the caller then judges it the ordinary way."""
    rows = _new_customer_rows(actor, number, kind, channel, extra, now, protected_until)
    phone_table = connection.ops.quote_name(CustomerPhone._meta.db_table)
    ids = insert_linked(
        rows.customer,
        [
            Linked(rows.phone, "customer"),
            Linked(rows.registration, "customer"),
            Linked(rows.assignment, "customer"),
            Linked(rows.stage_change, "customer"),
            # The event names the customer by its new id (and "#id" when it has no name).
            Linked(
                rows.audit,
                expressions={"object_id": "h.id::text"}
                if rows.customer.name
                else {"object_id": "h.id::text", "object_repr": "'#' || h.id::text"},
            ),
        ],
        unless=(f"SELECT 1 FROM {phone_table} WHERE number = %s", [number]),  # noqa: S608
    )
    if ids is None:
        return None
    return rows.judgement()


def _register(
    actor: Any,
    number: str,
    kind: str,
    channel: Channel,
    extra: dict[str, Any],
    now: datetime.datetime,
    protected_until: datetime.datetime,
) -> Judgement:
    phone_row = CustomerPhone.objects.select_related("customer").filter(number=number).first()
    reg_fields = {
        "registered_by": actor,
        "kind": kind,
        "channel": channel,
        "note": extra["note"],
        "latitude": extra.get("latitude"),
        "longitude": extra.get("longitude"),
    }
    if phone_row is None:
        rows = _new_customer_rows(actor, number, kind, channel, extra, now, protected_until)
        rows.customer.save(force_insert=True)
        for obj in (rows.phone, rows.registration, rows.assignment, rows.stage_change):
            obj.customer = rows.customer  # type: ignore[attr-defined]
            obj.save(force_insert=True)
        rows.audit.object_id = str(rows.customer.pk)
        rows.audit.object_repr = str(rows.customer)[:200]
        rows.audit.save(force_insert=True)
        return rows.judgement()

    customer = phone_row.customer
    if customer.merged_into_id:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    mine = actor.pk in (customer.owner_id, customer.registered_by_id)
    protected = customer.protected_until is not None and customer.protected_until > now
    if mine:
        registration = Registration.objects.create(
            customer=customer,
            result=RegistrationResult.EXISTING,
            owner=customer.owner,
            protected_until=customer.protected_until,
            **reg_fields,
        )
        record(
            actor=actor,
            action="leads.registration.existing",
            obj=customer,
            after={"kind": kind, "channel": channel.code},
        )
        return Judgement(
            registration,
            customer,
            RegistrationResult.EXISTING,
            customer.owner_id,
            customer.protected_until,
        )
    if not protected:
        new_owner = actor if _can_own(actor) else customer.owner
        taken = Customer.objects.filter(
            pk=customer.pk,
            protected_until=customer.protected_until,
            owner=customer.owner_id,
        ).update(
            owner=new_owner,
            registered_by=actor,
            protected_until=protected_until,
            node=actor.node if (new_owner == actor and actor.node_id) else customer.node,
            channel=channel,
            updated_at=now,
        )
        if taken:
            previous = customer.owner_id
            customer.refresh_from_db()
            registration = Registration.objects.create(
                customer=customer,
                result=RegistrationResult.EXISTING,
                owner=customer.owner,
                protected_until=protected_until,
                **reg_fields,
            )
            if previous != customer.owner_id:
                Assignment.objects.create(
                    customer=customer,
                    from_staff_id=previous,
                    to_staff=customer.owner,
                    reason=AssignmentReason.REATTRIBUTED,
                    actor=actor,
                    explanation=_("Protection had expired; registered again by %(name)s.")
                    % {"name": actor},
                )
            record(
                actor=actor,
                action="leads.registration.reattributed",
                obj=customer,
                before={"owner": previous},
                after={
                    "owner": customer.owner_id,
                    "registered_by": actor.pk,
                    "protected_until": protected_until,
                },
            )
            return Judgement(
                registration,
                customer,
                RegistrationResult.EXISTING,
                customer.owner_id,
                protected_until,
            )
        customer.refresh_from_db()
    # Protected for someone else (or just taken by someone else): a conflict.
    registration = Registration.objects.create(
        customer=customer,
        result=RegistrationResult.CONFLICT,
        owner=customer.owner,
        protected_until=customer.protected_until,
        **reg_fields,
    )
    Conflict.objects.create(
        registration=registration, customer=customer, claimant=actor, owner=customer.owner
    )
    record(
        actor=actor,
        action="leads.registration.conflict",
        obj=customer,
        after={"kind": kind, "channel": channel.code, "owner": customer.owner_id},
    )
    return Judgement(
        registration,
        customer,
        RegistrationResult.CONFLICT,
        customer.owner_id,
        customer.protected_until,
    )


def can_resolve(actor: Any, conflict: Conflict) -> bool:
    if actor is None or actor.is_admin:
        return True
    paths = actor.managed_paths
    nodes = [n for n in (conflict.customer.node, conflict.claimant.node) if n is not None]
    return any(n.path.startswith(p) for n in nodes for p in paths)


@transaction.atomic
def resolve_conflict(
    *,
    actor: Any,
    conflict: Conflict,
    decision: str,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Conflict:
    """A manager decides: keep the owner, or give the customer to the claimant (with a
    new protection period). Every decision is logged."""
    if not can_resolve(actor, conflict):
        raise PermissionDenied(_("You are not allowed to do this."))
    if decision not in ConflictDecision.values:
        raise ValidationError(
            {
                "decision": [
                    _("Choose one of: %(valid)s.") % {"valid": ", ".join(ConflictDecision.values)}
                ]
            }
        )
    if len(note or "") > 2000:
        raise ValidationError(
            {
                "note": [
                    _("At most %(max)d characters (this has %(count)d).")
                    % {"max": 2000, "count": len(note)}
                ]
            }
        )
    now = now or timezone.now()
    claimed = Conflict.objects.filter(pk=conflict.pk, status=ConflictStatus.OPEN).update(
        status=ConflictStatus.RESOLVED,
        decision=decision,
        resolved_by=actor,
        resolved_at=now,
        note=note or "",
    )
    if not claimed:
        raise ValidationError({"decision": [_("This conflict has already been resolved.")]})
    conflict.refresh_from_db()
    customer = conflict.customer
    if decision == ConflictDecision.TRANSFER:
        claimant = conflict.claimant
        channel = conflict.registration.channel
        previous = customer.owner_id
        customer.owner = claimant if _can_own(claimant) else customer.owner
        customer.registered_by = claimant
        customer.protected_until = now + datetime.timedelta(days=channel.protection_days)
        if customer.owner == claimant and claimant.node_id:
            customer.node = claimant.node
        customer.save(
            update_fields=["owner", "registered_by", "protected_until", "node", "updated_at"]
        )
        Assignment.objects.create(
            customer=customer,
            from_staff_id=previous,
            to_staff=customer.owner,
            reason=AssignmentReason.CONFLICT,
            actor=actor,
            explanation=note[:300],
        )
    record(
        actor=actor,
        action="leads.conflict.resolve",
        obj=conflict,
        object_repr=f"{customer}",
        after={"decision": decision, "note": note, "owner": customer.owner_id},
    )
    return conflict


@transaction.atomic
def flag_fraud(
    *, actor: Any, registration: Registration, reason: str, is_fraud: bool = True
) -> Registration:
    """Mark a registration as proved false (or clear it). Fraudulent registrations are
    excluded from every count (``Registration.objects.valid()``)."""
    if actor is None or not (
        actor.is_admin
        or any(
            (registration.registered_by.node and registration.registered_by.node.path.startswith(p))
            or (registration.customer.node and registration.customer.node.path.startswith(p))
            for p in actor.managed_paths
        )
    ):
        raise PermissionDenied(_("You are not allowed to do this."))
    reason = (reason or "").strip()
    if is_fraud and not reason:
        raise ValidationError({"reason": [_("Say why the registration is false.")]})
    if len(reason) > 200:
        raise ValidationError(
            {
                "reason": [
                    _("At most %(max)d characters (this has %(count)d).")
                    % {"max": 200, "count": len(reason)}
                ]
            }
        )
    before = {"is_fraud": registration.is_fraud, "reason": registration.fraud_reason}
    registration.is_fraud = is_fraud
    registration.fraud_reason = reason if is_fraud else ""
    registration.fraud_flagged_by = actor
    registration.fraud_flagged_at = timezone.now()
    registration.save(
        update_fields=["is_fraud", "fraud_reason", "fraud_flagged_by", "fraud_flagged_at"]
    )
    record(
        actor=actor,
        action="leads.registration.fraud",
        obj=registration,
        before=before,
        after={"is_fraud": is_fraud, "reason": registration.fraud_reason},
    )
    return registration


def judge(*, actor: Any, phone: str) -> dict[str, Any]:
    """The duplicate check before saving (判客): looks at every record, whatever the
    asker may read, and reveals only what they may see."""
    try:
        number = normalise_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    row = CustomerPhone.objects.select_related("customer").filter(number=number).first()
    if row is None:
        return {"phone": number, "exists": False, "customer": None, "visible": False}
    customer = row.customer
    if customer.merged_into_id:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    if actor.has_role("broker") and not actor.is_admin and not actor.has_any_role(*OWNER_ROLES):
        return {"phone": number, "exists": True, "visible": False, "customer": None}
    visible = Customer.objects.visible_to(actor).filter(pk=customer.pk).exists()
    now = timezone.now()
    return {
        "phone": number,
        "exists": True,
        "visible": visible,
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "stage": customer.stage,
            "owner": customer.owner_id,
        }
        if visible
        else None,
        "is_mine": actor.pk in (customer.owner_id, customer.registered_by_id),
        "protected": bool(customer.protected_until and customer.protected_until > now),
    }


# --- channels ---------------------------------------------------------------------------

CHANNEL_FIELDS = ["code", "name", "name_en", "protection_days", "is_active", "sort_order"]
MAX_PROTECTION_DAYS = 3650


def _clean_channel(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate channel fields; raises one ValidationError naming every bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("name", "name_en"):
            text = value.strip() if isinstance(value, str) else value
            if not isinstance(text, str):
                errors[key] = [_("Expected text.")]
            elif key == "name" and not text:
                errors[key] = [_("This field is required.")]
            elif len(text) > 50:
                errors[key] = [
                    _("At most %(max)d characters (this has %(count)d).")
                    % {"max": 50, "count": len(text)}
                ]
            else:
                clean[key] = text
        elif key in ("protection_days", "sort_order"):
            top = MAX_PROTECTION_DAYS if key == "protection_days" else 32767
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
                errors[key] = [
                    _("A whole number from 0 to %(max)d.") % {"max": top},
                ]
            else:
                clean[key] = value
        elif key == "is_active":
            if not isinstance(value, bool):
                errors[key] = [_("Must be true or false.")]
            else:
                clean[key] = value
        else:
            errors[key] = [_("This field cannot be changed here.")]
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def create_channel(
    *,
    actor: Any,
    code: str,
    name: str,
    name_en: str = "",
    protection_days: int = 30,
    is_active: bool = True,
    sort_order: int = 100,
) -> Channel:
    """Add a channel (administrators). ``code`` is what registrations send as ``channel``
    and cannot change afterwards."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("You are not allowed to do this."))
    code = code.strip() if isinstance(code, str) else ""
    if not code or len(code) > 32 or not code.isascii() or not code.replace("_", "").isalnum():
        raise ValidationError(
            {"code": [_("A code is 1 to 32 letters, digits or underscores (e.g. walk_in).")]}
        )
    code = code.lower()
    clean = _clean_channel(
        {
            "name": name,
            "name_en": name_en,
            "protection_days": protection_days,
            "is_active": is_active,
            "sort_order": sort_order,
        }
    )
    if Channel.objects.filter(code=code).exists():
        raise ValidationError({"code": [_("A channel with this code already exists.")]})
    try:
        with transaction.atomic():
            channel = Channel.objects.create(code=code, **clean)
    except IntegrityError as exc:  # created by someone else just now
        raise ValidationError({"code": [_("A channel with this code already exists.")]}) from exc
    forget_channels()
    record(actor=actor, action="leads.channel.create", obj=channel, after=_channel_state(channel))
    return channel


@transaction.atomic
def update_channel(*, actor: Any, channel: Channel, **changes: Any) -> Channel:
    """Edit a channel (administrators): names, protection period, order, active. A new
    protection period applies to registrations made from now on."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("You are not allowed to do this."))
    clean = _clean_channel(changes)
    before = _channel_state(channel)
    for key, value in clean.items():
        setattr(channel, key, value)
    channel.save()
    forget_channels()
    after = _channel_state(channel)
    if after != before:
        record(actor=actor, action="leads.channel.update", obj=channel, before=before, after=after)
    return channel


def _channel_state(channel: Channel) -> dict[str, Any]:
    return {name: getattr(channel, name) for name in CHANNEL_FIELDS}
