"""Filters shared by the pages and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _

from kehu.core.filtersets import IdFilter
from kehu.grading import rules
from kehu.grading.choices import Horizon, KeyCustomerStatus
from kehu.grading.models import IntentAssessment, KeyCustomer, ReferralAssessment


class IntentAssessmentFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=_("Customer"))

    class Meta:
        model = IntentAssessment
        fields = ["customer"]


class ReferralAssessmentFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=_("Customer"))

    class Meta:
        model = ReferralAssessment
        fields = ["customer"]


class KeyCustomerFilterSet(django_filters.FilterSet):
    week = django_filters.DateFilter(
        method="filter_week", label=_("Week (any day of it: YYYY-MM-DD)")
    )
    consultant = IdFilter(field_name="consultant_id", label=_("Consultant"))
    customer = IdFilter(field_name="customer_id", label=_("Customer"))
    status = django_filters.ChoiceFilter(choices=KeyCustomerStatus.choices, label=_("Status"))
    horizon = django_filters.ChoiceFilter(choices=Horizon.choices, label=_("Horizon"))

    class Meta:
        model = KeyCustomer
        fields = ["week", "consultant", "customer", "status", "horizon"]

    def filter_week(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset.filter(week=rules.week_start(value))
