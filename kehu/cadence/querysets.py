"""Reads of cadences and milestones, each starting from ``visible_to(user)``."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q

from kehu.core.querysets import VisibleQuerySet


class CustomerCadenceQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> CustomerCadenceQuerySet:
        from kehu.customers.models import Customer

        return self.filter(customer__in=Customer.objects.visible_to(user))

    def owned_by(self, staff: Any) -> CustomerCadenceQuerySet:
        """Cadences of the live customers ``staff`` owns: one range of the copied
        owner's index (kept by a trigger; readers may check ``customer__owner_id`` on
        the rows they keep, as the agenda does)."""
        return self.filter(owner_id=staff.pk, customer__merged_into__isnull=True)

    def due_by(self, day: datetime.date) -> CustomerCadenceQuerySet:
        return self.filter(next_due__lte=day)

    def overdue_on(self, day: datetime.date) -> CustomerCadenceQuerySet:
        return self.filter(next_due__lt=day)


class MilestoneQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> MilestoneQuerySet:
        """Company-wide milestones, those of the nodes above and at one's own node, and
        those in the subtree one manages; administrators see all."""
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin:
            return self.all()
        query = Q(node__isnull=True)
        if user.node_id:
            query |= Q(node_id__in=user.node.ancestor_ids)
        if user.managed_node_ids:
            query |= Q(node_id__in=user.managed_node_ids)
        return self.filter(query)

    def editable_by(self, user: Any) -> MilestoneQuerySet:
        """Administrators edit every milestone; managers those in their subtree."""
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin:
            return self.all()
        if user.managed_node_ids:
            return self.filter(node_id__in=user.managed_node_ids)
        return self.none()

    def upcoming(self, day: datetime.date) -> MilestoneQuerySet:
        return self.filter(date__gte=day)
