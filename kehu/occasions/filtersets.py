from __future__ import annotations

import django_filters

from kehu.occasions.choices import LifecycleKind
from kehu.occasions.models import LifecycleReminder


class LifecycleReminderFilterSet(django_filters.FilterSet):
    due_after = django_filters.DateFilter(field_name="due_on", lookup_expr="gte")
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")
    kind = django_filters.ChoiceFilter(field_name="rule__kind", choices=LifecycleKind.choices)
    customer = django_filters.NumberFilter(
        field_name="customer_id", min_value=1, max_value=2**63 - 1
    )

    class Meta:
        model = LifecycleReminder
        fields = ["due_after", "due_before", "kind", "customer"]
