"""Filters of the follow-up list, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from kehu.activities.choices import ActivityKind, Outcome
from kehu.activities.models import Activity
from kehu.core.filtersets import IdFilter


class ActivityFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=_("Customer"))
    staff = IdFilter(field_name="staff_id", label=_("By"))
    kind = django_filters.ChoiceFilter(choices=ActivityKind.choices, label=_("Kind"))
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label=_("Outcome"))
    since = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="date__gte", label=_("From")
    )
    until = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="date__lte", label=_("To")
    )

    class Meta:
        model = Activity
        fields = ["customer", "staff", "kind", "outcome"]
