"""The one visibility layer.

Every domain queryset subclasses :class:`VisibleQuerySet` and implements
``visible_to(user)``; every page and API list starts from it, and
:func:`get_visible_or_404` gives the same 404 for missing and forbidden objects.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


class VisibleQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> VisibleQuerySet:
        raise NotImplementedError  # pragma: no cover - every subclass defines it


def get_visible_or_404(queryset: VisibleQuerySet, user: Any, **lookup: Any) -> Any:
    """Fetch one object through the visibility layer; missing and forbidden look alike."""
    if not user or not user.is_authenticated:
        raise Http404
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


class AuditEventQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> AuditEventQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.all()
        paths = user.managed_paths
        if not paths:
            return self.none()
        query = models.Q()
        for path in paths:
            query |= models.Q(actor_node_path__startswith=path)
        return self.filter(query)
