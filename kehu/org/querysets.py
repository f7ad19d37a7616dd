"""Reads of the organisation, each starting from ``visible_to(user)``.

Who sees what (docs/permissions.md):

* admin — everything;
* manager — the subtree of their node (and the ancestors, read-only, for context);
* commissioner, consultant — their own team's members, their node and its ancestors;
* promoter, broker — themselves only (and their node's ancestors).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import UserManager
from django.db.models import Q

from kehu.core.querysets import VisibleQuerySet


def ancestor_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


class OrgNodeQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> OrgNodeQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.all()
        query = Q(pk__in=ancestor_ids(user.node.path)) if user.node_id else Q(pk__in=[])
        for path in user.managed_paths:
            query |= Q(path__startswith=path)
        return self.filter(query)

    def subtree(self, node: Any) -> OrgNodeQuerySet:
        return self.filter(path__startswith=node.path)


class ProjectQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> ProjectQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.all()
        from kehu.org.models import OrgNode

        return self.filter(node__in=OrgNode.objects.visible_to(user).values("pk"))

    def active(self) -> ProjectQuerySet:
        return self.filter(is_active=True)


class StaffQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> StaffQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.all()
        query = Q(pk=user.pk)
        for path in user.managed_paths:
            query |= Q(node__path__startswith=path)
        if user.node_id and user.has_any_role("commissioner", "consultant"):
            query |= Q(node_id=user.node_id)
        return self.filter(query)

    def active(self) -> StaffQuerySet:
        return self.filter(is_active=True)

    def with_role(self, role: str) -> StaffQuerySet:
        return self.filter(role_rows__role=role)

    def in_subtree(self, node: Any) -> StaffQuerySet:
        return self.filter(node__path__startswith=node.path)


class StaffManager(UserManager.from_queryset(StaffQuerySet)):  # type: ignore[misc]
    pass
