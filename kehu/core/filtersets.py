from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from kehu.core.models import AuditEvent


class AuditEventFilterSet(django_filters.FilterSet):
    actor = django_filters.NumberFilter(field_name="actor_id", label=_("Actor"))
    action = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", label=_("Action")
    )
    object_type = django_filters.CharFilter(label=_("Object type"))
    object_id = django_filters.CharFilter(label=_("Object id"))
    source = django_filters.ChoiceFilter(
        choices=[
            ("web", "web"),
            ("api", "api"),
            ("command", "command"),
            ("task", "task"),
            ("system", "system"),
        ],
        label=_("Source"),
    )
    since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("From")
    )
    until = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("To")
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "object_type", "object_id", "source"]
