"""Filters for registrations, conflicts and channels, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from kehu.core.filtersets import IdFilter
from kehu.leads.choices import ConflictStatus, RegistrationKind, RegistrationResult
from kehu.leads.models import Channel, Conflict, Registration


class RegistrationFilterSet(django_filters.FilterSet):
    result = django_filters.ChoiceFilter(choices=RegistrationResult.choices, label=_("Result"))
    kind = django_filters.ChoiceFilter(choices=RegistrationKind.choices, label=_("Kind"))
    channel = django_filters.CharFilter(
        field_name="channel__code", max_length=32, label=_("Channel (code)")
    )
    registered_by = IdFilter(field_name="registered_by_id", label=_("Registered by"))
    customer = IdFilter(field_name="customer_id", label=_("Customer"))
    is_fraud = django_filters.BooleanFilter(label=_("Fraudulent"))

    class Meta:
        model = Registration
        fields = ["result", "kind", "channel", "registered_by", "customer", "is_fraud"]


class ConflictFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ConflictStatus.choices, label=_("Status"))
    customer = IdFilter(field_name="customer_id", label=_("Customer"))
    claimant = IdFilter(field_name="claimant_id", label=_("Claimant"))

    class Meta:
        model = Conflict
        fields = ["status", "customer", "claimant"]


class ChannelFilterSet(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Channel
        fields = ["is_active"]
