from __future__ import annotations

from typing import Any

from kehu.core.querysets import VisibleQuerySet


class ActivityQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> ActivityQuerySet:
        """The activities of the customers the user may see."""
        from kehu.customers.models import Customer

        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.all()
        return self.filter(customer__in=Customer.objects.visible_to(user).values("pk"))


class StageChangeQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> StageChangeQuerySet:
        from kehu.customers.models import Customer

        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.all()
        return self.filter(customer__in=Customer.objects.visible_to(user).values("pk"))
