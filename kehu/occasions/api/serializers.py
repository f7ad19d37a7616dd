"""Serializers of the occasions API. Validation of settings lives in the services (one
set of messages for the pages and the API); these only shape JSON."""

from __future__ import annotations

from rest_framework import serializers

from kehu.occasions.choices import CareKind, LifecycleKind
from kehu.occasions.models import CareRule, InvitationSettings, LifecycleRule

KIND_CHOICES = ["solar_term", "holiday", "workday"]


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    name = serializers.CharField()


class CalendarSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    days = CalendarDaySerializer(many=True)
    holidays_covered = serializers.BooleanField(
        help_text="False when the installed holiday data does not cover the year: then "
        "`days` holds the solar terms only and `notice` says so."
    )
    holiday_coverage = serializers.ListField(
        child=serializers.IntegerField(), help_text="[first_year, last_year] of holiday data"
    )
    notice = serializers.CharField(required=False)


class LunarSerializer(serializers.Serializer):
    month = serializers.IntegerField()
    day = serializers.IntegerField()
    is_leap = serializers.BooleanField()


class BirthdaySerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.IntegerField(allow_null=True)
    node = serializers.IntegerField(allow_null=True)
    date = serializers.DateField(help_text="the solar day of the birthday in that month")
    is_lunar = serializers.BooleanField()
    lunar = LunarSerializer(allow_null=True)
    lunar_label = serializers.CharField(help_text="e.g. 八月十五 (empty for a solar birthday)")
    relationship = serializers.CharField()
    care = serializers.ChoiceField(choices=CareKind.choices)


class LifecycleRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifecycleRule
        fields = [
            "id", "name", "kind", "product_contains", "months_after", "km_after",
            "km_per_month", "repeat_months", "occurrences", "lead_days", "ask_referral",
            "is_active", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]


class LifecycleRuleWriteSerializer(serializers.Serializer):
    """Fields of a rule; types are checked here, ranges and combinations by the service."""

    name = serializers.CharField(max_length=100, required=False)
    kind = serializers.ChoiceField(choices=LifecycleKind.choices, required=False)
    product_contains = serializers.CharField(max_length=200, required=False, allow_blank=True)
    months_after = serializers.IntegerField(required=False, allow_null=True)
    km_after = serializers.IntegerField(required=False, allow_null=True)
    km_per_month = serializers.IntegerField(required=False)
    repeat_months = serializers.IntegerField(required=False, allow_null=True)
    occurrences = serializers.IntegerField(required=False, allow_null=True)
    lead_days = serializers.IntegerField(required=False)
    ask_referral = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class CareRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = CareRule
        fields = ["id", "relationship", "care", "updated_at"]
        read_only_fields = ["id", "relationship", "updated_at"]


class CareRuleUpdateSerializer(serializers.Serializer):
    care = serializers.ChoiceField(choices=CareKind.choices)


class InvitationSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvitationSettings
        fields = ["days_min", "days_max", "updated_at"]
        read_only_fields = ["updated_at"]


class InvitationSettingsUpdateSerializer(serializers.Serializer):
    days_min = serializers.IntegerField()
    days_max = serializers.IntegerField()


class LifecycleReminderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.IntegerField(source="customer_id")
    customer_name = serializers.CharField(source="customer.name")
    purchase = serializers.IntegerField(source="purchase_id")
    product = serializers.CharField(source="purchase.product")
    purchased_on = serializers.DateField(source="purchase.purchased_on")
    rule = serializers.IntegerField(source="rule_id")
    rule_name = serializers.CharField(source="rule.name")
    kind = serializers.CharField(source="rule.kind")
    sequence = serializers.IntegerField()
    due_on = serializers.DateField()
    notify_on = serializers.DateField()
    ask_referral = serializers.BooleanField(source="rule.ask_referral")
