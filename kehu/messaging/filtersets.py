"""Filters of the outbox and the broadcasts, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.filtersets import IdFilter
from kehu.messaging.choices import MessageChannel, MessageStatus, TemplateKind, TriggerEvent
from kehu.messaging.models import Broadcast, Message, MessageTemplate


class MessageFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=TemplateKind.choices, label=_("Kind"))
    channel = django_filters.ChoiceFilter(choices=MessageChannel.choices, label=_("Channel"))
    trigger = django_filters.ChoiceFilter(
        field_name="trigger_event", choices=TriggerEvent.choices, label=_("Trigger")
    )
    customer = IdFilter(field_name="customer_id", label=_("Customer"))
    broadcast = IdFilter(field_name="broadcast_id", label=_("Broadcast"))
    q = django_filters.CharFilter(method="search", max_length=50, label=_("Search"))

    class Meta:
        model = Message
        fields = ["status", "kind", "channel", "trigger", "customer", "broadcast"]

    def search(self, queryset, name, value):  # type: ignore[no-untyped-def]
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(customer__name__icontains=value) | Q(to__contains=value))


class MessageTemplateFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=TemplateKind.choices, label=_("Kind"))
    channel = django_filters.ChoiceFilter(choices=MessageChannel.choices, label=_("Channel"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = MessageTemplate
        fields = ["kind", "channel", "is_active"]


class BroadcastFilterSet(django_filters.FilterSet):
    class Meta:
        model = Broadcast
        fields = ["status"]
