"""Filters of the customer list, shared by the page and the API. Every filter narrows a
queryset that already starts from ``visible_to(user)``."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from kehu.core.filtersets import IdFilter
from kehu.core.phones import national_digits, normalise_phone
from kehu.customers.choices import IntentGrade, Stage
from kehu.customers.models import Customer, CustomerPhone, CustomerTag, Tag
from kehu.org.models import OrgNode

SEARCH_SEPARATORS = " -()+\u3000"


def sleeping_days() -> int:
    """The configured number of days without follow-up that makes a customer sleep."""
    from kehu.leads.models import PoolSettings

    settings = PoolSettings.objects.filter(pk=1).only("sleeping_days").first()
    return settings.sleeping_days if settings is not None else 30


def masks_numbers_for(user: Any) -> bool:
    """Promoters and brokers see other people's numbers masked (``138****5678``)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.is_admin:
        return False
    return not user.has_any_role("manager", "consultant", "commissioner")


def number_digits(text: str) -> str:
    """The national digits a search term stands for ("+86 138-1234" → "1381234")."""
    try:
        return national_digits(normalise_phone(text))
    except ValidationError:
        pass
    cleaned = "".join(ch for ch in text if ch not in SEARCH_SEPARATORS)
    if cleaned.startswith("0086"):
        cleaned = cleaned[4:]
    return cleaned if cleaned.isascii() and cleaned.isdigit() else ""


def number_query(digits: str, user: Any) -> Q:
    """Customers with a number containing ``digits``. For a viewer who sees numbers
    masked, only the parts they can see count: the whole number, its first three digits
    or its last four (otherwise a search would reveal the hidden middle)."""
    phones = CustomerPhone.objects.filter(customer_id=OuterRef("pk"))
    if not masks_numbers_for(user):
        return Q(Exists(phones.filter(digits__contains=digits)))
    visible = Q(digits=digits)
    if len(digits) <= 3:
        visible |= Q(digits__startswith=digits)
    if len(digits) <= 4:
        visible |= Q(digits__endswith=digits)
    return Q(Exists(phones.filter(digits__contains=digits)), owner_id=user.pk) | Q(
        Exists(phones.filter(visible))
    )


class CustomerFilterSet(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id", label=_("Owner"))
    team = IdFilter(method="in_team", label=_("Team (with its subtree)"))
    stage = django_filters.ChoiceFilter(choices=Stage.choices, label=_("Stage"))
    intent_grade = django_filters.ChoiceFilter(choices=IntentGrade.choices, label=_("Intent grade"))
    tag = IdFilter(method="with_tag", label=_("Tag"))
    channel = django_filters.CharFilter(
        field_name="channel__code", max_length=32, label=_("Channel (code)")
    )
    sleeping = django_filters.BooleanFilter(method="is_sleeping", label=_("Sleeping"))
    below_completeness = django_filters.BooleanFilter(
        field_name="is_below_completeness", label=_("Below the completeness minimum")
    )
    q = django_filters.CharFilter(
        method="search", max_length=100, label=_("Name or any part of a number")
    )

    class Meta:
        model = Customer
        fields = [
            "owner",
            "team",
            "stage",
            "intent_grade",
            "tag",
            "channel",
            "sleeping",
            "below_completeness",
            "q",
        ]

    def in_team(self, queryset: Any, name: str, value: int) -> Any:
        node = OrgNode.objects.filter(pk=value).only("path").first()
        if node is None:
            return queryset.none()
        ids = list(OrgNode.objects.filter(path__startswith=node.path).values_list("pk", flat=True))
        return queryset.filter(node_id__in=ids)

    def with_tag(self, queryset: Any, name: str, value: int) -> Any:
        return queryset.filter(
            Exists(CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag_id=value))
        )

    def is_sleeping(self, queryset: Any, name: str, value: bool) -> Any:
        sleeping = Customer.objects.sleeping(sleeping_days()).values("pk")
        if value:
            return queryset.filter(pk__in=sleeping)
        return queryset.exclude(pk__in=sleeping)

    def search(self, queryset: Any, name: str, value: str) -> Any:
        value = value.strip()
        if not value:
            return queryset
        query = Q(name__icontains=value)
        digits = number_digits(value)
        if digits:
            user = getattr(self.request, "user", None)
            query |= number_query(digits, user)
        return queryset.filter(query)


class TagFilterSet(django_filters.FilterSet):
    dimension = django_filters.CharFilter(
        field_name="dimension__name", max_length=50, label=_("Dimension")
    )
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=50, label=_("Search")
    )

    class Meta:
        model = Tag
        fields = ["dimension", "q"]
