"""The only writers of messaging: templates, triggers, consents, the outbox, broadcasts.

Sending, exactly once
---------------------
A message is *claimed* with a conditional UPDATE (QUEUED → SENDING, with a fresh claim
token); whoever's UPDATE changed the row sends it, outside any transaction, and records
the result only while it still holds the token. A message left SENDING because its
worker died is claimed again after ``KEHU_MESSAGING_SENDING_STALE_SECONDS`` and sent
with the SAME idempotency key, which the gateway uses to deliver it once. Nothing here
relies on ``select_for_update`` (ignored on SQLite; STYLE rule 11).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.audit import record, snapshot
from kehu.core.phones import national_digits
from kehu.customers.models import Customer, CustomerPhone, CustomerTag
from kehu.customers.services import can_edit_customer
from kehu.messaging import providers
from kehu.messaging.choices import (
    BroadcastStatus,
    MessageChannel,
    MessageStatus,
    TemplateKind,
    TriggerEvent,
)
from kehu.messaging.models import (
    Broadcast,
    Consent,
    Message,
    MessageTemplate,
    PromoSlot,
    TriggerRule,
)
from kehu.messaging.rendering import MAX_BODY, PLACEHOLDERS, render, unknown_placeholders
from kehu.org.models import Project, Staff

TEMPLATE_FIELDS = ["code", "name", "kind", "channel", "body", "project", "is_active"]
TRIGGER_FIELDS = ["delay_minutes", "template", "is_enabled"]
BATCH_SIZE = 200


def _deny() -> PermissionDenied:
    return PermissionDenied(_("You are not allowed to do this."))


def can_edit_settings(actor: Any) -> bool:
    """Templates and triggers: administrators (managers read them)."""
    return actor is None or actor.is_admin


def can_broadcast(actor: Any) -> bool:
    return actor is not None and (actor.is_admin or actor.is_manager)


def is_important(customer: Customer) -> bool:
    """VIP or intent grade A: an individual message, never a group one (DOMAIN §6)."""
    return customer.relationship == "VIP" or customer.intent_grade == "A"


IMPORTANT = Q(relationship="VIP") | Q(intent_grade="A")


# --- templates --------------------------------------------------------------------------


def placeholder_error(body: str) -> ValidationError | None:
    unknown = unknown_placeholders(body)
    if not unknown:
        return None
    return ValidationError(
        {
            "body": [
                _("Unknown placeholder %(unknown)s. Use only: %(valid)s.")
                % {
                    "unknown": ", ".join(f"{{{name}}}" for name in unknown),
                    "valid": ", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
                }
            ]
        }
    )


def _clean_template(data: dict[str, Any], instance: MessageTemplate | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if "code" in data:
        code = (data["code"] or "").strip()
        if not code:
            errors["code"] = [_("Give the template a code (letters, digits, hyphens).")]
        elif MessageTemplate.objects.filter(code=code).exclude(pk=getattr(instance, "pk", None)):
            errors["code"] = [_("Another template already has the code %(code)s.") % {"code": code}]
        data["code"] = code
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = [_("Give the template a name.")]
    if "kind" in data and data["kind"] not in TemplateKind.values:
        errors["kind"] = [
            _("Choose one of: %(valid)s.") % {"valid": ", ".join(TemplateKind.values)}
        ]
    if "channel" in data and data["channel"] not in MessageChannel.values:
        errors["channel"] = [
            _("Choose one of: %(valid)s.") % {"valid": ", ".join(MessageChannel.values)}
        ]
    if "body" in data:
        body = (data["body"] or "").strip()
        data["body"] = body
        if not body:
            errors["body"] = [_("Write the message.")]
        elif len(body) > MAX_BODY:
            errors["body"] = [
                _("At most %(max)d characters (this has %(count)d).")
                % {"max": MAX_BODY, "count": len(body)}
            ]
        else:
            error = placeholder_error(body)
            if error is not None:
                errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def create_template(*, actor: Any, **data: Any) -> MessageTemplate:
    if not can_edit_settings(actor):
        raise _deny()
    data = _clean_template({k: v for k, v in data.items() if k in TEMPLATE_FIELDS}, None)
    for required in ("code", "name", "body"):
        if required not in data:
            raise ValidationError({required: [_("This field is required.")]})
    template = MessageTemplate.objects.create(**data)
    record(
        actor=actor,
        action="messaging.template.create",
        obj=template,
        after=snapshot(template, TEMPLATE_FIELDS),
    )
    return template


@transaction.atomic
def update_template(*, actor: Any, template: MessageTemplate, **changes: Any) -> MessageTemplate:
    if not can_edit_settings(actor):
        raise _deny()
    changes = _clean_template({k: v for k, v in changes.items() if k in TEMPLATE_FIELDS}, template)
    before = snapshot(template, TEMPLATE_FIELDS)
    for name, value in changes.items():
        setattr(template, name, value)
    after = snapshot(template, TEMPLATE_FIELDS)
    if after != before:
        template.save()
        record(
            actor=actor,
            action="messaging.template.update",
            obj=template,
            before=before,
            after=after,
        )
    return template


def project_for(customer: Customer, template: MessageTemplate | None = None) -> Project | None:
    """The template's project, else the active project nearest to the customer's team
    (its own node first, then up the tree)."""
    if template is not None and template.project_id:
        return template.project
    node = customer.node
    if node is None:
        return None
    ids = node.ancestor_ids or [node.pk]
    return (
        Project.objects.filter(node_id__in=ids, is_active=True)
        .order_by("-node__depth", "name", "id")
        .first()
    )


def context_for(
    customer: Customer, sender: Staff | None, template: MessageTemplate | None = None
) -> dict[str, str]:
    project = project_for(customer, template)
    return {
        "title": customer.title,
        "name": customer.name,
        "consultant": (sender.name or sender.username) if sender else "",
        "consultant_phone": national_digits(sender.phone) if sender and sender.phone else "",
        "project": project.name if project else "",
        "project_address": project.address if project else "",
        "project_route": project.route if project else "",
    }


def preview(
    *, template: MessageTemplate | None, customer: Customer, body: str | None = None
) -> str:
    """The body as this customer would receive it (nothing is written)."""
    text = body if body is not None else (template.body if template else "")
    if len(text) > MAX_BODY:
        raise ValidationError(
            {
                "body": [
                    _("At most %(max)d characters (this has %(count)d).")
                    % {"max": MAX_BODY, "count": len(text)}
                ]
            }
        )
    error = placeholder_error(text)
    if error is not None:
        raise error
    return render(text, context_for(customer, customer.owner, template))


# --- triggers ---------------------------------------------------------------------------


@transaction.atomic
def update_trigger(*, actor: Any, rule: TriggerRule, **changes: Any) -> TriggerRule:
    if not can_edit_settings(actor):
        raise _deny()
    changes = {k: v for k, v in changes.items() if k in TRIGGER_FIELDS}
    errors: dict[str, list[str]] = {}
    if "delay_minutes" in changes:
        delay = changes["delay_minutes"]
        if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= 7 * 24 * 60:
            errors["delay_minutes"] = [_("Give a whole number of minutes from 0 to 10080.")]
    if "template" in changes and not isinstance(changes["template"], MessageTemplate):
        errors["template"] = [_("Choose an existing template.")]
    if errors:
        raise ValidationError(errors)
    before = snapshot(rule, TRIGGER_FIELDS)
    for name, value in changes.items():
        setattr(rule, name, value)
    after = snapshot(rule, TRIGGER_FIELDS)
    if after != before:
        rule.save()
        record(actor=actor, action="messaging.trigger.update", obj=rule, before=before, after=after)
    return rule


# How late a trigger may still fire: a call recorded two days afterwards (a back-dated
# entry, an import) must not send "thanks for calling" now.
TRIGGER_WINDOW = datetime.timedelta(hours=24)


def fire_trigger(
    *, event: str, customer: Customer, actor: Any, at: datetime.datetime
) -> Message | None:
    """Queue the trigger's message for ``customer`` (inside the caller's transaction).
    At most one per event and customer: the idempotency key is unique."""
    rules = TriggerRule.objects.filter(event=event, is_enabled=True)
    rule = rules.select_related("template").first()
    if rule is None or not rule.template.is_active:
        return None
    now = timezone.now()
    if at < now - TRIGGER_WINDOW:
        return None
    key = f"trigger:{event}:{customer.pk}"
    if Message.objects.filter(idempotency_key=key).exists():
        return None
    sender = customer.owner or (actor if getattr(actor, "pk", None) else None)
    scheduled_at = max(at + datetime.timedelta(minutes=rule.delay_minutes), now)
    try:
        with transaction.atomic():
            message = _queue(
                customer=customer,
                sender=sender,
                template=rule.template,
                key=key,
                scheduled_at=scheduled_at,
                trigger_event=event,
            )
    except IntegrityError:
        return None  # a concurrent trigger queued it first
    # No audit event of its own: the follow-up or stage change that fired it is audited
    # in this transaction, and the message row (with its trigger) is the record.
    return message


# --- the outbox -------------------------------------------------------------------------


def recipient(customer: Customer, channel: str) -> str:
    if channel == MessageChannel.SMS:
        phone = (
            CustomerPhone.objects.filter(customer=customer)
            .order_by("-is_primary", "id")
            .values_list("number", flat=True)
            .first()
        )
        return phone or ""
    if channel == MessageChannel.EMAIL:
        return customer.email
    return customer.wechat


def _queue(
    *,
    customer: Customer,
    sender: Staff | None,
    template: MessageTemplate | None,
    key: str,
    scheduled_at: datetime.datetime,
    body: str | None = None,
    channel: str | None = None,
    kind: str | None = None,
    trigger_event: str = "",
    broadcast: Broadcast | None = None,
    to: str | None = None,
    schedule: bool = True,
) -> Message:
    """Create one message (and take a promotional slot); enqueue its send after commit
    (unless ``schedule`` is false: the broadcast enqueues one task per batch)."""
    channel = channel or (template.channel if template else MessageChannel.SMS)
    kind = kind or (template.kind if template else TemplateKind.TRANSACTIONAL)
    text = render(
        body if body is not None else template.body if template else "",
        context_for(customer, sender, template),
    )
    address = recipient(customer, channel) if to is None else to
    status, error = MessageStatus.QUEUED, ""
    if not address:
        status, error = MessageStatus.FAILED, _("The customer has no address on this channel.")
    message = Message.objects.create(
        customer=customer,
        sender=sender,
        template=template,
        broadcast=broadcast,
        trigger_event=trigger_event,
        channel=channel,
        to=address,
        body=text,
        kind=kind,
        status=status,
        error=error,
        scheduled_at=scheduled_at,
        idempotency_key=key,
    )
    promotional = kind == TemplateKind.PROMOTIONAL and status == MessageStatus.QUEUED
    if promotional and not take_promo_slot(message):
        message.status = MessageStatus.SUPPRESSED
        message.error = _("Over the daily limit of promotional messages.")
        message.save(update_fields=["status", "error", "updated_at"])
    if schedule and message.status == MessageStatus.QUEUED:
        schedule_send([message.pk], scheduled_at)
    return message


def take_promo_slot(message: Message) -> bool:
    """Take one of the customer's promotional slots on the message's day; the database
    refuses a third (unique customer, day, slot)."""
    day = timezone.localdate(message.scheduled_at)
    for slot in range(1, settings.KEHU_MESSAGING_PROMO_DAILY_LIMIT + 1):
        try:
            with transaction.atomic():
                PromoSlot.objects.create(
                    customer_id=message.customer_id, day=day, slot=slot, message=message
                )
        except IntegrityError:
            continue
        return True
    return False


def schedule_send(ids: list[int], when: datetime.datetime | None = None) -> None:
    """After commit, enqueue the worker task that sends ``ids`` when due. If this is
    lost (the process dies between commit and enqueue), the minute sweep sends them."""
    from kehu.messaging.tasks import send_messages_task

    def enqueue() -> None:
        task = send_messages_task
        if when is not None and when > timezone.now():
            task = task.using(run_after=when)
        task.enqueue(ids)

    transaction.on_commit(enqueue)


@transaction.atomic
def send_one_off(
    *,
    actor: Any,
    customer: Customer,
    template: MessageTemplate | None = None,
    body: str | None = None,
    channel: str | None = None,
    scheduled_at: datetime.datetime | None = None,
) -> Message:
    """A message a consultant writes (or picks) for one customer, sent as them."""
    if not can_edit_customer(actor, customer):
        raise _deny()
    errors: dict[str, list[str]] = {}
    if template is None and not (body or "").strip():
        errors["body"] = [_("Choose a template or write the message.")]
    if body is not None:
        body = body.strip()
        if len(body) > MAX_BODY:
            errors["body"] = [
                _("At most %(max)d characters (this has %(count)d).")
                % {"max": MAX_BODY, "count": len(body)}
            ]
        else:
            error = placeholder_error(body)
            if error is not None:
                errors.update(error.message_dict)
    if channel is not None and channel not in MessageChannel.values:
        errors["channel"] = [
            _("Choose one of: %(valid)s.") % {"valid": ", ".join(MessageChannel.values)}
        ]
    if template is not None and not template.is_active:
        errors["template"] = [_("This template is switched off.")]
    channel = channel or (template.channel if template else MessageChannel.SMS)
    if not errors and not recipient(customer, channel):
        errors["customer"] = [_("The customer has no address on this channel.")]
    if errors:
        raise ValidationError(errors)
    kind = template.kind if template else TemplateKind.TRANSACTIONAL
    if kind == TemplateKind.PROMOTIONAL and not is_opted_in(customer):
        raise ValidationError(
            {"customer": [_("The customer has not opted in to promotional messages.")]}
        )
    message = _queue(
        customer=customer,
        sender=actor if getattr(actor, "pk", None) else None,
        template=template,
        body=body if body else None,
        channel=channel,
        key=f"one-off:{uuid.uuid4().hex}",
        scheduled_at=scheduled_at or timezone.now(),
    )
    record(
        actor=actor,
        action="messaging.message.create",
        obj=message,
        after={"customer": customer.pk, "channel": channel, "status": message.status},
    )
    return message


@transaction.atomic
def retry_message(*, actor: Any, message: Message) -> Message:
    """Put a held or failed message back in the queue (a provider has been configured,
    the number was corrected). It keeps its key, so it is still delivered once.

    A promotional message obeys the same rules as a new one: the customer must still be
    opted in, and it needs one of today's promotional slots. It keeps the slot it holds
    for today; a slot of an earlier day (when it was not delivered) is given up for one
    of today's, and when today's are all taken the retry is refused, nothing changed."""
    if not (actor.is_admin or can_edit_customer(actor, message.customer)):
        raise _deny()
    if message.status not in (MessageStatus.HELD, MessageStatus.FAILED):
        raise ValidationError({"status": [_("Only held or failed messages can be sent again.")]})
    promotional = message.kind == TemplateKind.PROMOTIONAL
    if promotional and not is_opted_in(message.customer_id):
        raise ValidationError(
            {"customer": [_("The customer has not opted in to promotional messages.")]}
        )
    before = {"status": message.status}
    now = timezone.now()
    changed = Message.objects.filter(pk=message.pk, status=message.status).update(
        status=MessageStatus.QUEUED, scheduled_at=now, error="", updated_at=now
    )
    if changed and promotional:
        message.scheduled_at = now
        if not _promo_slot_for_retry(message):
            # Raised inside the atomic block: the status change above is rolled back.
            raise ValidationError(
                {
                    "customer": [
                        _(
                            "The customer already has %(limit)d promotional messages today: "
                            "send it again tomorrow."
                        )
                        % {"limit": settings.KEHU_MESSAGING_PROMO_DAILY_LIMIT}
                    ]
                }
            )
    if changed:
        schedule_send([message.pk])
        record(
            actor=actor,
            action="messaging.message.retry",
            obj=message,
            before=before,
            after={"status": MessageStatus.QUEUED},
        )
    message.refresh_from_db()
    return message


def _promo_slot_for_retry(message: Message) -> bool:
    """Make ``message`` hold one of its customer's promotional slots on the day of its
    (new) ``scheduled_at``: keep the one it has on that day, else give up the one of
    another day and take a free one (False when none is free)."""
    day = timezone.localdate(message.scheduled_at)
    held = PromoSlot.objects.filter(message=message).first()
    if held is not None and held.day == day:
        return True
    if held is not None:
        held.delete()
    return take_promo_slot(message)


def claim_message(message_id: int, now: datetime.datetime | None = None) -> str | None:
    """QUEUED and due (or SENDING and stale) → SENDING under a new token, which is
    returned; None when someone else holds it or there is nothing to send."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.KEHU_MESSAGING_SENDING_STALE_SECONDS)
    token = uuid.uuid4().hex
    claimable = Q(status=MessageStatus.QUEUED, scheduled_at__lte=now) | Q(
        status=MessageStatus.SENDING, claimed_at__lt=cutoff
    )
    changed = Message.objects.filter(claimable, pk=message_id).update(
        status=MessageStatus.SENDING,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    return token if changed else None


def _finish(message_id: int, token: str, **fields: Any) -> bool:
    fields["updated_at"] = timezone.now()
    return bool(
        Message.objects.filter(
            pk=message_id, status=MessageStatus.SENDING, claim_token=token
        ).update(**fields)
    )


def is_opted_in(customer: Customer | int) -> bool:
    customer_id = customer if isinstance(customer, int) else customer.pk
    return Consent.objects.opted_in().filter(customer_id=customer_id).exists()


def send_message(
    message_id: int,
    now: datetime.datetime | None = None,
    provider: providers.Provider | None = None,
) -> str | None:
    """Send one message if it is due and nobody else is sending it; the final status,
    or None when there was nothing to do. Idempotent: safe to run twice. ``provider``
    replaces the configured one (the demo's, which never sends anything anywhere)."""
    token = claim_message(message_id, now)
    if token is None:
        return None
    message = Message.objects.select_related("sender").get(pk=message_id)
    # An unsubscribe is honoured at once: checked again now, not only when queued.
    if message.kind == TemplateKind.PROMOTIONAL and not is_opted_in(message.customer_id):
        _finish(
            message_id,
            token,
            status=MessageStatus.SUPPRESSED,
            error=_("The customer unsubscribed from promotional messages."),
        )
        return MessageStatus.SUPPRESSED
    provider = provider or providers.provider_for(message.channel)
    sender = message.sender
    result = provider.send(
        providers.Outgoing(
            idempotency_key=message.idempotency_key,
            channel=message.channel,
            to=message.to,
            body=message.body,
            sender_name=(sender.name or sender.username) if sender else "",
            sender_phone=(sender.phone or "") if sender else "",
        )
    )
    done = timezone.now()
    if result.status == providers.SENT:
        status = MessageStatus.SENT
        fields: dict[str, Any] = {"sent_at": done, "provider_ref": result.ref, "error": ""}
    elif result.status == providers.HELD:
        status, fields = MessageStatus.HELD, {"error": result.error}
    elif (
        result.status == providers.RETRY and message.attempts < settings.KEHU_MESSAGING_MAX_ATTEMPTS
    ):
        # Back to the queue, later; the sweep picks it up. Same key next time.
        status = MessageStatus.QUEUED
        delay = datetime.timedelta(minutes=2 ** min(message.attempts, 6))
        fields = {"error": result.error, "scheduled_at": done + delay}
    else:
        status, fields = MessageStatus.FAILED, {"error": result.error}
    _finish(message_id, token, status=status, provider=result.provider, **fields)
    return status


def send_messages(ids: Iterable[int], now: datetime.datetime | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message_id in ids:
        status = send_message(message_id, now)
        if status is not None:
            counts[status] = counts.get(status, 0) + 1
    return counts


def send_due_messages(limit: int = 500, now: datetime.datetime | None = None) -> dict[str, int]:
    """The sweep: every due queued message, and every message left SENDING by a worker
    that died, oldest first."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.KEHU_MESSAGING_SENDING_STALE_SECONDS)
    ids = list(
        Message.objects.filter(
            Q(status=MessageStatus.QUEUED, scheduled_at__lte=now)
            | Q(status=MessageStatus.SENDING, claimed_at__lt=cutoff)
        )
        .order_by("scheduled_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return send_messages(ids, now)


# --- consents ---------------------------------------------------------------------------


@transaction.atomic
def set_consent(*, actor: Any, customer: Customer, opted_in: bool) -> Consent:
    """Opt a customer in (their owner, managers, admins) or unsubscribe them (anyone who
    sees the customer: an unsubscribe must never be refused)."""
    if opted_in and not can_edit_customer(actor, customer):
        raise _deny()
    now = timezone.now()
    consent, _created = Consent.objects.get_or_create(customer=customer)
    before = {"opted_in_at": consent.opted_in_at, "unsubscribed_at": consent.unsubscribed_at}
    if opted_in:
        if not consent.is_opted_in:
            consent.opted_in_at, consent.unsubscribed_at = now, None
    elif consent.unsubscribed_at is None:
        consent.unsubscribed_at = now
    after = {"opted_in_at": consent.opted_in_at, "unsubscribed_at": consent.unsubscribed_at}
    if after != before:
        consent.save()
        record(
            actor=actor,
            action="messaging.consent.opt_in" if opted_in else "messaging.consent.unsubscribe",
            obj=customer,
            before=before,
            after=after,
        )
    return consent


# --- broadcasts -------------------------------------------------------------------------


def value_grades_available() -> bool:
    try:
        model = apps.get_model("grading", "CustomerGrade")
    except LookupError:
        return False
    names = {f.name for f in model._meta.get_fields()}
    return {"value_grade", "customer"} <= names


def audience(
    *,
    actor: Any,
    tag_ids: list[int],
    intent_grades: list[str],
    value_grades: list[str],
) -> Any:
    """Every opted-in customer the actor sees with any of the tags and any of the
    grades, important ones included (callers split them off)."""
    customers = Customer.objects.visible_to(actor)
    if tag_ids:
        customers = customers.filter(
            Exists(CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag_id__in=tag_ids))
        )
    if intent_grades:
        customers = customers.filter(intent_grade__in=intent_grades)
    if value_grades and value_grades_available():
        grade = apps.get_model("grading", "CustomerGrade")
        customers = customers.filter(
            Exists(grade.objects.filter(customer_id=OuterRef("pk"), value_grade__in=value_grades))
        )
    return customers.filter(Exists(Consent.objects.opted_in().filter(customer_id=OuterRef("pk"))))


def audience_counts(**criteria: Any) -> dict[str, int]:
    """How many would get the broadcast, and how many are kept for a personal message."""
    counts = audience(**criteria).aggregate(
        total=Count("pk"), personal=Count("pk", filter=IMPORTANT)
    )
    return {"audience": counts["total"] - counts["personal"], "personal": counts["personal"]}


def _clean_broadcast(data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    name = (data.get("name") or "").strip()
    data["name"] = name
    if not name:
        errors["name"] = [_("Give the broadcast a name.")]
    template = data.get("template")
    if not isinstance(template, MessageTemplate):
        errors["template"] = [_("Choose a template.")]
    elif template.kind != TemplateKind.PROMOTIONAL or not template.is_active:
        errors["template"] = [_("Choose an active promotional template.")]
    grades = data.get("intent_grades") or []
    if any(g not in ("A", "B", "C", "D") for g in grades):
        errors["intent_grades"] = [_("Choose among A, B, C and D.")]
    values = data.get("value_grades") or []
    if any(g not in ("A", "B", "C") for g in values):
        errors["value_grades"] = [_("Choose among A, B and C.")]
    elif values and not value_grades_available():
        errors["value_grades"] = [_("Value grades are not available yet.")]
    if not (data.get("tags") or grades or values):
        errors["non_field_errors"] = [_("Choose at least one tag or grade for the audience.")]
    if errors:
        raise ValidationError(
            {("__all__" if k == "non_field_errors" else k): v for k, v in errors.items()}
        )


@transaction.atomic
def create_broadcast(
    *,
    actor: Any,
    name: str,
    template: MessageTemplate | None,
    tags: list[Any] | None = None,
    intent_grades: list[str] | None = None,
    value_grades: list[str] | None = None,
) -> Broadcast:
    """Queue a broadcast; the worker fans it out in batches (``fan_out_broadcast``)."""
    if not can_broadcast(actor):
        raise _deny()
    data: dict[str, Any] = {
        "name": name,
        "template": template,
        "tags": list(tags or []),
        "intent_grades": sorted(set(intent_grades or [])),
        "value_grades": sorted(set(value_grades or [])),
    }
    _clean_broadcast(data)
    counts = audience_counts(
        actor=actor,
        tag_ids=[t.pk for t in data["tags"]],
        intent_grades=data["intent_grades"],
        value_grades=data["value_grades"],
    )
    broadcast = Broadcast.objects.create(
        name=data["name"],
        template=data["template"],
        intent_grades=data["intent_grades"],
        value_grades=data["value_grades"],
        created_by=actor,
        node_path=actor.node.path if actor.node_id else "",
        audience_count=counts["audience"],
        personal_count=counts["personal"],
    )
    broadcast.tags.set(data["tags"])
    record(
        actor=actor,
        action="messaging.broadcast.create",
        obj=broadcast,
        after={
            "template": broadcast.template_id,
            "tags": [t.pk for t in data["tags"]],
            "intent_grades": broadcast.intent_grades,
            "value_grades": broadcast.value_grades,
            "audience": counts["audience"],
        },
    )
    from kehu.messaging.tasks import fan_out_broadcast_task

    transaction.on_commit(lambda: fan_out_broadcast_task.enqueue(broadcast.pk))
    return broadcast


def broadcast_audience(broadcast: Broadcast) -> Any:
    return audience(
        actor=broadcast.created_by,
        tag_ids=list(broadcast.tags.values_list("pk", flat=True)),
        intent_grades=broadcast.intent_grades,
        value_grades=broadcast.value_grades,
    )


def fan_out_batch(broadcast_id: int, batch_size: int = BATCH_SIZE) -> bool:
    """Queue the next batch of a broadcast's messages in one transaction; False when
    there is nothing left. Resumable: ``cursor`` moves with the batch, and a message's
    key (broadcast, customer) is unique, so a re-run never queues one twice."""
    with transaction.atomic():
        broadcast = Broadcast.objects.select_related("template", "created_by").get(pk=broadcast_id)
        if broadcast.status == BroadcastStatus.DONE:
            return False
        customers = list(
            broadcast_audience(broadcast)
            .exclude(IMPORTANT)
            .filter(pk__gt=broadcast.cursor)
            .select_related("owner", "node")
            .order_by("pk")[:batch_size]
        )
        if not customers:
            Broadcast.objects.filter(pk=broadcast.pk).update(
                status=BroadcastStatus.SENDING, updated_at=timezone.now()
            )
            return False
        now = timezone.now()
        queued: list[int] = []
        for customer in customers:
            key = f"broadcast:{broadcast.pk}:{customer.pk}"
            try:
                with transaction.atomic():
                    message = _queue(
                        customer=customer,
                        sender=customer.owner or broadcast.created_by,
                        template=broadcast.template,
                        key=key,
                        scheduled_at=now,
                        broadcast=broadcast,
                        schedule=False,
                    )
            except IntegrityError:
                continue  # queued by an earlier run of this batch
            if message.status == MessageStatus.QUEUED:
                queued.append(message.pk)
        if queued:
            schedule_send(queued)
        Broadcast.objects.filter(pk=broadcast.pk).update(
            cursor=customers[-1].pk, status=BroadcastStatus.FANNING_OUT, updated_at=now
        )
        record(
            actor=None,
            action="messaging.broadcast.fan_out",
            obj=broadcast,
            after={"customers": len(customers), "cursor": customers[-1].pk},
        )
    return True


def fan_out_broadcast(broadcast_id: int, batch_size: int = BATCH_SIZE) -> int:
    batches = 0
    while fan_out_batch(broadcast_id, batch_size):
        batches += 1
    return batches


def progress_of(broadcasts: list[Broadcast]) -> dict[int, dict[str, Any]]:
    """Counts per status of each broadcast's messages and the share done, for many
    broadcasts in one query."""
    rows = (
        Message.objects.filter(broadcast__in=[b.pk for b in broadcasts])
        .order_by()
        .values("broadcast_id", "status")
        .annotate(n=Count("id"))
    )
    counts: dict[int, dict[str, int]] = {
        b.pk: dict.fromkeys(MessageStatus.values, 0) for b in broadcasts
    }
    for row in rows:
        counts[row["broadcast_id"]][row["status"]] = row["n"]
    out = {}
    for b in broadcasts:
        c = counts[b.pk]
        queued = sum(c.values())
        finished = queued - c[MessageStatus.QUEUED] - c[MessageStatus.SENDING]
        total = max(b.audience_count, queued)
        state = b.status
        if state == BroadcastStatus.SENDING and finished == queued:
            state = BroadcastStatus.DONE
        out[b.pk] = {
            "status": state,
            "total": total,
            "queued": queued,
            "finished": finished,
            "percent": round(100 * finished / total) if total else 100,
            "counts": c,
        }
    return out


def progress(broadcast: Broadcast) -> dict[str, Any]:
    return progress_of([broadcast])[broadcast.pk]


def mark_broadcast_done(broadcast: Broadcast) -> None:
    if progress(broadcast)["status"] == BroadcastStatus.DONE and broadcast.status != "done":
        Broadcast.objects.filter(pk=broadcast.pk, status=BroadcastStatus.SENDING).update(
            status=BroadcastStatus.DONE, finished_at=timezone.now()
        )


def trigger_events() -> list[str]:
    return list(TriggerEvent.values)
