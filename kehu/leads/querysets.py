from __future__ import annotations

from typing import Any

from django.db.models import Q

from kehu.core.querysets import VisibleQuerySet


class RegistrationQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> RegistrationQuerySet:
        """Admins all; managers those by people in their subtree or on customers of their
        subtree; everyone their own."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.all()
        query = Q(registered_by=user)
        for path in user.managed_paths:
            query |= Q(registered_by__node__path__startswith=path)
            query |= Q(customer__node__path__startswith=path)
        return self.filter(query)

    def valid(self) -> RegistrationQuerySet:
        """Excludes registrations flagged as fraudulent: they count for nothing."""
        return self.filter(is_fraud=False)


class ConflictQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> ConflictQuerySet:
        """Managers see conflicts on customers of their subtree or raised by people of
        it; the claimant and the owner see their own."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.all()
        query = Q(claimant=user) | Q(owner=user)
        if user.has_role("broker") and not user.has_any_role("consultant", "manager"):
            # A broker is told "existing", never that a conflict was raised.
            query = Q(owner=user)
        for path in user.managed_paths:
            query |= Q(customer__node__path__startswith=path)
            query |= Q(claimant__node__path__startswith=path)
        return self.filter(query)

    def open(self) -> ConflictQuerySet:
        return self.filter(status="open")
