"""Serializers of registrations (报备), channels and conflicts. The registration input is a
plain Serializer: it is the hot path of the sales floor and of brokers' apps."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehu.core.api.fields import KnownChoiceField
from kehu.customers.api.serializers import (
    NumberField,
    StrictBooleanField,
    StrictSerializer,
    TextField,
    VisibleIdsField,
    WholeNumberField,
)
from kehu.customers.choices import Gender
from kehu.customers.models import Customer
from kehu.leads.choices import ConflictDecision, RegistrationKind, RegistrationResult
from kehu.leads.models import Channel, Conflict, PoolSettings, Registration
from kehu.leads.services import MAX_PROTECTION_DAYS, Judgement
from kehu.org.api.serializers import VisiblePrimaryKeyField
from kehu.org.models import OrgNode, Staff

# What the API takes: every kind but imports, which come through the importer.
API_KINDS = [(k.value, k.label) for k in RegistrationKind if k != RegistrationKind.IMPORT]


# --- registration -------------------------------------------------------------------------


class LocationSerializer(StrictSerializer):
    lat = NumberField(min_value=-90, max_value=90)
    lng = NumberField(min_value=-180, max_value=180)


class RegistrationCreateSerializer(StrictSerializer):
    phone = TextField(
        max_length=32,
        help_text=_("A mainland mobile (11 digits, +86/0086 optional) or another valid number."),
    )
    name = TextField(max_length=100, allow_blank=True)
    kind = KnownChoiceField(choices=API_KINDS)
    channel = TextField(max_length=32, help_text=_("A channel's code (GET /api/v1/channels/)."))
    gender = KnownChoiceField(choices=Gender.choices, required=False, allow_null=True)
    note = TextField(max_length=2000, required=False, allow_blank=True, default="")
    location = LocationSerializer(required=False, allow_null=True, default=None)


_PLAIN_TEXT = {"phone": 32, "name": 100, "kind": 32, "channel": 32, "note": 2000}
_PLAIN_KINDS = frozenset(value for value, _label in API_KINDS)
_PLAIN_GENDERS = frozenset(Gender.values)
_PLAIN_KEYS = frozenset(RegistrationCreateSerializer._declared_fields)
_PLAIN_REQUIRED = frozenset(("phone", "name", "kind", "channel"))


def plain_registration(data: Any) -> dict[str, Any] | None:
    """The validated fields of a registration body that needs no conversion, or None.

    A registration is the hottest write there is, and building a DRF serializer costs a
    deep copy of its fields on every request (measured with ``make bench``: about a tenth
    of the request). Most bodies are plain text that the serializer would pass through
    unchanged; those are accepted here with exactly what the serializer would answer
    (checked by a property test against it). Anything else (a missing or unknown key, a
    non-text value, surrounding blanks, a location) returns None and goes through
    :class:`RegistrationCreateSerializer` for its conversion or its error message. The
    values themselves (the number, the channel, lengths) are checked by the service.
    """
    if type(data) is not dict or not _PLAIN_REQUIRED <= data.keys() <= _PLAIN_KEYS:
        return None
    fields: dict[str, Any] = {"note": ""}
    for key, value in data.items():
        if key in _PLAIN_TEXT:
            if (
                type(value) is not str
                or len(value) > _PLAIN_TEXT[key]
                or value != value.strip()
                or "\x00" in value
                or (not value and key != "name" and key != "note")
            ):
                return None
        elif key == "gender":
            if value is not None and (type(value) is not str or value not in _PLAIN_GENDERS):
                return None
        else:  # a location: converted (and range-checked) by the serializer
            return None
        fields[key] = value
    if fields["kind"] not in _PLAIN_KINDS:
        return None
    return fields


class JudgementSerializer(serializers.Serializer):
    """What a registration answers. A broker learns only new or existing: for a customer
    that is not new, customer, owner and protected_until are null."""

    customer = serializers.IntegerField(allow_null=True)
    result = serializers.ChoiceField(choices=RegistrationResult.choices)
    owner = serializers.IntegerField(allow_null=True)
    protected_until = serializers.DateTimeField(allow_null=True)


class LocationOutSerializer(serializers.Serializer):
    lat = serializers.FloatField()
    lng = serializers.FloatField()


class RegistrationSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    location = serializers.SerializerMethodField()

    class Meta:
        model = Registration
        fields = [
            "id",
            "customer",
            "registered_by",
            "kind",
            "channel",
            "result",
            "owner",
            "protected_until",
            "note",
            "location",
            "created_at",
            "is_fraud",
            "fraud_reason",
            "fraud_flagged_by",
            "fraud_flagged_at",
        ]

    @extend_schema_field(LocationOutSerializer(allow_null=True))
    def get_location(self, obj: Registration) -> dict[str, float] | None:
        if obj.latitude is None or obj.longitude is None:
            return None
        return {"lat": float(obj.latitude), "lng": float(obj.longitude)}

    def to_representation(self, instance: Registration) -> dict[str, Any]:
        """A broker sees of a registration what they were told when they made it."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        judged = Judgement(
            instance,
            Customer(pk=instance.customer_id),
            instance.result,
            instance.owner_id,
            instance.protected_until,
        ).as_dict(request.user)
        if judged["customer"] is None:
            data.update(customer=None, result=judged["result"], owner=None, protected_until=None)
        return data


class FraudSerializer(StrictSerializer):
    reason = TextField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Why the registration is false (required when flagging)."),
    )
    is_fraud = StrictBooleanField(required=False, default=True)


# --- channels -----------------------------------------------------------------------------


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "protection_days",
            "is_active",
            "sort_order",
            "created_at",
            "updated_at",
        ]


class ChannelUpdateSerializer(StrictSerializer):
    name = TextField(max_length=50, required=False)
    name_en = TextField(max_length=50, required=False, allow_blank=True)
    protection_days = WholeNumberField(min_value=0, max_value=MAX_PROTECTION_DAYS, required=False)
    is_active = StrictBooleanField(required=False)
    sort_order = WholeNumberField(min_value=0, max_value=32767, required=False)


class ChannelCreateSerializer(ChannelUpdateSerializer):
    code = TextField(
        max_length=32, help_text=_("Letters, digits and underscores; cannot change later.")
    )
    name = TextField(max_length=50)


# --- conflicts ----------------------------------------------------------------------------


class ConflictSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="registration.kind", read_only=True)
    channel = serializers.CharField(source="registration.channel.code", read_only=True)

    class Meta:
        model = Conflict
        fields = [
            "id",
            "customer",
            "registration",
            "kind",
            "channel",
            "claimant",
            "owner",
            "status",
            "decision",
            "resolved_by",
            "resolved_at",
            "note",
            "created_at",
        ]


class ResolveSerializer(StrictSerializer):
    decision = KnownChoiceField(choices=ConflictDecision.choices)
    note = TextField(max_length=2000, allow_blank=True)


# --- assignment and the pool --------------------------------------------------------------


class AssignSerializer(StrictSerializer):
    customers = VisibleIdsField(help_text=_("One or many customers (at most 500)."))
    to_staff = VisiblePrimaryKeyField(queryset=Staff.objects.all())
    reason_note = TextField(max_length=200, required=False, allow_blank=True, default="")


class RoundRobinSerializer(StrictSerializer):
    customers = VisibleIdsField(help_text=_("Unowned customers to share out (at most 500)."))
    node = VisiblePrimaryKeyField(
        queryset=OrgNode.objects.all(),
        help_text=_("Share among the active consultants of this node's subtree."),
    )


class AssignmentResultSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    to = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(required=False, help_text=_("Why it went to them."))
    why_not = serializers.CharField(required=False, help_text=_("Why it was not assigned."))


class PoolSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = PoolSettings
        fields = [
            "return_days",
            "return_lost",
            "claim_daily_quota",
            "no_reclaim_days",
            "ownership_cap",
            "sleeping_days",
        ]


class PoolSettingsUpdateSerializer(StrictSerializer):
    return_days = serializers.DictField(
        child=WholeNumberField(min_value=1, max_value=3650),
        required=False,
        help_text=_('Days without follow-up per intent grade; "" is for no grade.'),
    )
    return_lost = StrictBooleanField(required=False)
    claim_daily_quota = WholeNumberField(min_value=0, max_value=1000, required=False)
    no_reclaim_days = WholeNumberField(min_value=0, max_value=3650, required=False)
    ownership_cap = WholeNumberField(min_value=1, max_value=1_000_000, required=False)
    sleeping_days = WholeNumberField(min_value=1, max_value=3650, required=False)
