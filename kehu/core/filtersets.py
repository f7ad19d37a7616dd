from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core.models import AuditEvent

MAX_ID = 2**63 - 1  # the largest BigAutoField value


class IdField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdFilter(django_filters.NumberFilter):
    """A filter on an id: a whole number in the database's range. (``NumberFilter``
    takes decimals, so ``?node=1.5`` meant node 1 and ``?actor=1e30`` overflowed
    SQLite's integers into a 500.)"""

    field_class = IdField


class AuditEventFilterSet(django_filters.FilterSet):
    actor = IdFilter(field_name="actor_id", label=_("Actor"))
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
