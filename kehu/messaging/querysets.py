"""Reads of messaging, each starting from ``visible_to(user)``.

* messages and consents — those of the customers the user sees: admin all, a manager
  their subtree's customers, a consultant their own customers (and what they sent);
* templates — admins, managers and consultants read them (consultants send one-offs);
* triggers — admins and managers read them;
* broadcasts — admin all, a manager those created in their subtree.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from kehu.core.querysets import VisibleQuerySet


def _active(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def customer_condition(user: Any, prefix: str = "customer__") -> Q | None:
    """The condition on a customer relation for ``user``; None means everything."""
    if user.is_admin:
        return None
    if user.managed_paths:
        return Q(**{f"{prefix}node_id__in": user.managed_node_ids})
    return Q(**{f"{prefix}owner_id": user.pk})


class MessageQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> MessageQuerySet:
        if not _active(user):
            return self.none()
        condition = customer_condition(user)
        if condition is None:
            return self.all()
        return self.filter(condition | Q(sender_id=user.pk))

    def due(self, now: Any = None) -> MessageQuerySet:
        return self.filter(status="queued", scheduled_at__lte=now or timezone.now())

    def stuck_sending(self, cutoff: Any) -> MessageQuerySet:
        return self.filter(status="sending", claimed_at__lt=cutoff)


class ConsentQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> ConsentQuerySet:
        if not _active(user):
            return self.none()
        condition = customer_condition(user)
        return self.all() if condition is None else self.filter(condition)

    def opted_in(self) -> ConsentQuerySet:
        return self.filter(opted_in_at__isnull=False, unsubscribed_at__isnull=True)


class MessageTemplateQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> MessageTemplateQuerySet:
        if not _active(user):
            return self.none()
        if user.is_admin or user.has_any_role("manager", "consultant"):
            return self.all()
        return self.none()

    def active(self) -> MessageTemplateQuerySet:
        return self.filter(is_active=True)


class TriggerRuleQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> TriggerRuleQuerySet:
        if not _active(user):
            return self.none()
        if user.is_admin or user.is_manager:
            return self.all()
        return self.none()


class BroadcastQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> BroadcastQuerySet:
        if not _active(user):
            return self.none()
        if user.is_admin:
            return self.all()
        paths = user.managed_paths
        query = Q(created_by_id=user.pk)
        for path in paths:
            query |= Q(node_path__startswith=path)
        return self.filter(query) if paths else self.none()
