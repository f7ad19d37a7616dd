"""Serializers of follow-ups (跟进)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kehu.activities.choices import ActivityKind, Outcome
from kehu.activities.models import Activity
from kehu.core.api.fields import KnownChoiceField
from kehu.customers.api.serializers import StrictSerializer, TextField
from kehu.customers.models import Customer
from kehu.org.api.serializers import VisiblePrimaryKeyField

EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


class OccurredAtField(serializers.DateTimeField):
    """DRF's date-time field, where a time at the very edge of the calendar (year 1 or
    9999 with an offset) is an error to fix instead of an OverflowError (a 500)."""

    def to_internal_value(self, value: Any) -> datetime.datetime:
        try:
            return super().to_internal_value(value)
        except OverflowError as exc:
            if str(value)[:4] < "2000":
                raise serializers.ValidationError(_("A follow-up cannot be before 2000.")) from exc
            raise serializers.ValidationError(_("A follow-up cannot be in the future.")) from exc


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "customer", "staff", "kind", "outcome", "note", "occurred_at", "created_at"]


class ActivityCreateSerializer(StrictSerializer):
    customer = VisiblePrimaryKeyField(queryset=Customer.objects.all())
    kind = KnownChoiceField(choices=ActivityKind.choices)
    outcome = KnownChoiceField(
        choices=Outcome.choices, required=False, allow_blank=True, default=""
    )
    note = TextField(max_length=4000, required=False, allow_blank=True, default="")
    occurred_at = OccurredAtField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("When it happened (default: now); not in the future."),
    )

    def validate_occurred_at(self, value: datetime.datetime | None) -> datetime.datetime | None:
        if value is not None and value < EARLIEST:
            raise serializers.ValidationError(_("A follow-up cannot be before 2000."))
        if value is not None and value > timezone.now() + datetime.timedelta(minutes=5):
            raise serializers.ValidationError(_("A follow-up cannot be in the future."))
        return value
