"""Messaging (DOMAIN §6): templates, triggers, the outbox, consents and broadcasts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.messaging.choices import (
    BroadcastStatus,
    MessageChannel,
    MessageStatus,
    TemplateKind,
    TriggerEvent,
)
from kehu.messaging.querysets import (
    BroadcastQuerySet,
    ConsentQuerySet,
    MessageQuerySet,
    MessageTemplateQuerySet,
    TriggerRuleQuerySet,
)


class MessageTemplate(TimeStampedModel):
    """A body with placeholders (kehu.messaging.rendering). ``project`` says whose
    address and route ``{project_address}`` / ``{project_route}`` give; without it, the
    project nearest to the customer's team."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=16, choices=TemplateKind.choices, default=TemplateKind.TRANSACTIONAL
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=MessageChannel.choices, default=MessageChannel.SMS
    )
    body = models.TextField(_("body"), max_length=1000)
    project = models.ForeignKey(
        "org.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = MessageTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in TemplateKind]),
                name="messagetemplate_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in MessageChannel]),
                name="messagetemplate_channel_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TriggerRule(TimeStampedModel):
    """One automatic message per event: first call + 10 minutes, first visit + 30
    minutes, pledge and deal the same day (delay 0)."""

    event = models.CharField(_("event"), max_length=16, choices=TriggerEvent.choices, unique=True)
    delay_minutes = models.PositiveIntegerField(_("delay (minutes)"), default=0)
    template = models.ForeignKey(
        MessageTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)

    objects = TriggerRuleQuerySet.as_manager()

    class Meta:
        ordering = ["event"]
        verbose_name = _("message trigger")
        verbose_name_plural = _("message triggers")
        constraints = [
            models.CheckConstraint(
                condition=Q(delay_minutes__lte=7 * 24 * 60), name="triggerrule_delay_at_most_a_week"
            )
        ]

    def __str__(self) -> str:
        return self.get_event_display()


class Broadcast(TimeStampedModel):
    """A promotional send to opted-in customers chosen by tags and grades. The worker
    fans it out in batches (``cursor`` = the last customer id done, so a killed worker
    resumes where it stopped)."""

    name = models.CharField(_("name"), max_length=100)
    template = models.ForeignKey(
        MessageTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    tags = models.ManyToManyField("customers.Tag", verbose_name=_("tags"), blank=True)
    intent_grades = models.JSONField(_("intent grades"), default=list, blank=True)
    value_grades = models.JSONField(_("value grades"), default=list, blank=True)
    created_by = models.ForeignKey(
        "org.Staff", verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    # The creator's node, copied so a manager's "my subtree" filter is one prefix match.
    node_path = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=BroadcastStatus.choices, default=BroadcastStatus.QUEUED
    )
    audience_count = models.PositiveIntegerField(_("audience"), default=0)
    personal_count = models.PositiveIntegerField(_("for a personal message"), default=0)
    cursor = models.PositiveBigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = BroadcastQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    """One message in the outbox, from queued to its final status. ``idempotency_key``
    is unique: a trigger or a broadcast never makes two messages for one customer, and
    the gateway receives the same key on a retry, so it delivers once."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    sender = models.ForeignKey(
        "org.Staff",
        verbose_name=_("sender"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    template = models.ForeignKey(
        MessageTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    broadcast = models.ForeignKey(
        Broadcast, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    trigger_event = models.CharField(
        _("trigger"), max_length=16, choices=TriggerEvent.choices, blank=True
    )
    channel = models.CharField(_("channel"), max_length=16, choices=MessageChannel.choices)
    to = models.CharField(_("to"), max_length=254, blank=True)
    body = models.TextField(_("body"))
    kind = models.CharField(_("kind"), max_length=16, choices=TemplateKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    scheduled_at = models.DateTimeField(_("scheduled for"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider = models.CharField(_("provider"), max_length=32, blank=True)
    provider_ref = models.CharField(_("provider reference"), max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    # Who holds the message while it is SENDING (see services.claim_message).
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="message_newest"),
            models.Index(fields=["status", "scheduled_at"], name="message_due"),
            models.Index(fields=["customer", "-created_at"], name="message_customer"),
            models.Index(fields=["broadcast", "status"], name="message_broadcast"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in MessageStatus]),
                name="message_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in TemplateKind]), name="message_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.to or self.customer_id}"


class Consent(models.Model):
    """Whether a customer accepts promotional messages. Opted in = ``opted_in_at`` set
    and no ``unsubscribed_at``; checked when a broadcast picks its audience and again
    when each message is sent, so an unsubscribe is honoured at once."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="message_consent"
    )
    opted_in_at = models.DateTimeField(_("opted in at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["customer_id"]
        verbose_name = _("message consent")
        verbose_name_plural = _("message consents")

    def __str__(self) -> str:
        return f"{self.customer_id}: {'in' if self.is_opted_in else 'out'}"

    @property
    def is_opted_in(self) -> bool:
        return self.opted_in_at is not None and self.unsubscribed_at is None


class PromoSlot(models.Model):
    """One of a customer's promotional messages on a day. The unique constraint is the
    daily limit: a message that cannot take a free slot is suppressed."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    slot = models.PositiveSmallIntegerField()
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="promo_slot")

    class Meta:
        ordering = ["customer_id", "day", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "day", "slot"], name="promoslot_unique"),
            models.CheckConstraint(condition=Q(slot__gte=1), name="promoslot_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day} #{self.slot}"
