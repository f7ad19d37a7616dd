"""Serializers of templates, triggers, the outbox, consents and broadcasts."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehu.core.api.fields import KnownChoiceField
from kehu.customers.api.serializers import (
    KnownIdsField,
    StrictBooleanField,
    StrictSerializer,
    TextField,
    WholeNumberField,
)
from kehu.customers.models import Customer, Tag
from kehu.messaging.choices import MessageChannel, TemplateKind
from kehu.messaging.models import Broadcast, Consent, Message, MessageTemplate, TriggerRule
from kehu.org.api.serializers import VisiblePrimaryKeyField
from kehu.org.models import Project


# Grades as plain letters, not enums: the same A-D / A-C sets are the customers' and the
# grading app's enums in the schema, and a second name for them is a schema warning.
def intent_grades_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.RegexField(
            r"^[ABCD]$", error_messages={"invalid": _("Choose among A, B, C and D.")}
        ),
        required=False,
        max_length=4,
        help_text=_("Intent grades, any of A, B, C, D."),
    )


def value_grades_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.RegexField(
            r"^[ABC]$", error_messages={"invalid": _("Choose among A, B and C.")}
        ),
        required=False,
        max_length=3,
        help_text=_("Value grades, any of A, B, C (once the grading app provides them)."),
    )


class MessageTemplateSerializer(serializers.ModelSerializer):
    placeholders = serializers.SerializerMethodField()

    class Meta:
        model = MessageTemplate
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "channel",
            "body",
            "project",
            "is_active",
            "placeholders",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_placeholders(self, obj: MessageTemplate) -> list[str]:
        from kehu.messaging.rendering import placeholders_in

        return placeholders_in(obj.body)


class MessageTemplateWriteSerializer(StrictSerializer):
    code = serializers.SlugField(max_length=50)
    name = TextField(max_length=100)
    kind = KnownChoiceField(choices=TemplateKind.choices, required=False)
    channel = KnownChoiceField(choices=MessageChannel.choices, required=False)
    body = TextField(
        max_length=1000,
        help_text=_(
            "Text with placeholders: {title} {name} {consultant} {consultant_phone} "
            "{project} {project_address} {project_route}."
        ),
    )
    project = VisiblePrimaryKeyField(
        queryset=Project.objects.all(), required=False, allow_null=True
    )
    is_active = StrictBooleanField(required=False)


class PreviewSerializer(StrictSerializer):
    customer = VisiblePrimaryKeyField(queryset=Customer.objects.all())
    body = TextField(
        max_length=1000,
        required=False,
        help_text=_("Preview this text instead of the template's saved body."),
    )


class PreviewResultSerializer(serializers.Serializer):
    body = serializers.CharField()
    placeholders = serializers.ListField(child=serializers.CharField())


class TriggerRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = TriggerRule
        fields = ["id", "event", "delay_minutes", "template", "is_enabled", "updated_at"]
        read_only_fields = fields


class TriggerRuleUpdateSerializer(StrictSerializer):
    delay_minutes = WholeNumberField(min_value=0, max_value=7 * 24 * 60, required=False)
    template = VisiblePrimaryKeyField(queryset=MessageTemplate.objects.all(), required=False)
    is_enabled = StrictBooleanField(required=False)


class MessageSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    sender_name = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "customer",
            "customer_name",
            "sender",
            "sender_name",
            "template",
            "broadcast",
            "trigger_event",
            "channel",
            "to",
            "body",
            "kind",
            "status",
            "scheduled_at",
            "sent_at",
            "attempts",
            "provider",
            "provider_ref",
            "error",
            "idempotency_key",
            "created_at",
        ]
        read_only_fields = fields

    def get_sender_name(self, obj: Message) -> str:
        sender = obj.sender
        return str(sender) if sender else ""


class MessageCreateSerializer(StrictSerializer):
    customer = VisiblePrimaryKeyField(queryset=Customer.objects.all())
    template = VisiblePrimaryKeyField(
        queryset=MessageTemplate.objects.all(), required=False, allow_null=True
    )
    body = TextField(
        max_length=1000,
        required=False,
        help_text=_("Your own text (placeholders allowed); or choose a template."),
    )
    channel = KnownChoiceField(choices=MessageChannel.choices, required=False)
    scheduled_at = serializers.DateTimeField(required=False)


class ConsentSerializer(serializers.ModelSerializer):
    is_opted_in = serializers.BooleanField(read_only=True)

    class Meta:
        model = Consent
        fields = ["customer", "is_opted_in", "opted_in_at", "unsubscribed_at", "updated_at"]
        read_only_fields = fields


class ConsentWriteSerializer(StrictSerializer):
    customer = VisiblePrimaryKeyField(queryset=Customer.objects.all())
    opted_in = StrictBooleanField(
        help_text=_("true to opt in to promotional messages, false to unsubscribe.")
    )


class ProgressSerializer(serializers.Serializer):
    status = serializers.CharField()
    total = serializers.IntegerField()
    queued = serializers.IntegerField()
    finished = serializers.IntegerField()
    percent = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())


class BroadcastSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Broadcast
        fields = [
            "id",
            "name",
            "template",
            "tags",
            "intent_grades",
            "value_grades",
            "created_by",
            "status",
            "audience_count",
            "personal_count",
            "progress",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_tags(self, obj: Broadcast) -> list[int]:
        return [t.pk for t in obj.tags.all()]

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, obj: Broadcast) -> dict[str, Any]:
        progress = self.context.get("progress", {})
        if obj.pk in progress:
            return progress[obj.pk]
        from kehu.messaging.services import progress as compute

        return compute(obj)


class PersonalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.CharField()


class BroadcastDetailSerializer(BroadcastSerializer):
    personal = serializers.SerializerMethodField()

    class Meta(BroadcastSerializer.Meta):
        fields = [*BroadcastSerializer.Meta.fields, "personal"]
        read_only_fields = fields

    @extend_schema_field(PersonalSerializer(many=True))
    def get_personal(self, obj: Broadcast) -> list[dict[str, Any]]:
        """Important customers of the audience (VIP, grade A), up to 100: they get an
        individual message from their consultant instead."""
        from kehu.messaging.services import IMPORTANT, broadcast_audience

        rows = broadcast_audience(obj).filter(IMPORTANT).order_by("pk")[:100]
        return [
            {
                "id": c.pk,
                "name": str(c),
                "reason": "VIP" if c.relationship == "VIP" else "A",
            }
            for c in rows
        ]


class BroadcastCreateSerializer(StrictSerializer):
    name = TextField(max_length=100)
    template = VisiblePrimaryKeyField(queryset=MessageTemplate.objects.all())
    tags = KnownIdsField(model=Tag, required=False)
    intent_grades = intent_grades_field()
    value_grades = value_grades_field()


class AudienceQuerySerializer(StrictSerializer):
    tags = KnownIdsField(model=Tag, required=False)
    intent_grades = intent_grades_field()
    value_grades = value_grades_field()


class AudienceSerializer(serializers.Serializer):
    audience = serializers.IntegerField()
    personal = serializers.IntegerField()
