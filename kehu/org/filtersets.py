from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.filtersets import IdFilter
from kehu.org.choices import EmploymentType, NodeKind, Role
from kehu.org.models import OrgNode, Project, Staff


class OrgNodeFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=NodeKind.choices)
    parent = IdFilter(field_name="parent_id")
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = OrgNode
        fields = ["kind", "parent"]

    def search(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(name__icontains=value[:100])


class ProjectFilterSet(django_filters.FilterSet):
    node = IdFilter(method="in_node", label=_("Node (with its subtree)"))
    is_active = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Project
        fields = ["node", "is_active", "kind"]

    def in_node(self, queryset: Any, name: str, value: int) -> Any:
        node = OrgNode.objects.filter(pk=value).first()
        if node is None:
            return queryset.none()
        return queryset.filter(node__path__startswith=node.path)

    def search(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(Q(name__icontains=value[:100]) | Q(address__icontains=value[:100]))


class StaffFilterSet(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(
        choices=Role.choices, method="with_role", label=_("Role"), empty_label=_("All roles")
    )
    node = IdFilter(method="in_node", label=_("Node (with its subtree)"))
    is_active = django_filters.BooleanFilter(label=_("Active"))
    employment_type = django_filters.ChoiceFilter(choices=EmploymentType.choices)
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Staff
        fields = ["role", "node", "is_active", "employment_type"]

    def with_role(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(role_rows__role=value)

    def in_node(self, queryset: Any, name: str, value: int) -> Any:
        node = OrgNode.objects.filter(pk=value).first()
        if node is None:
            return queryset.none()
        return queryset.filter(node__path__startswith=node.path)

    def search(self, queryset: Any, name: str, value: str) -> Any:
        value = value[:100]
        return queryset.filter(
            Q(username__icontains=value) | Q(name__icontains=value) | Q(phone__contains=value)
        )
