"""Reads with business names; every list starts from ``visible_to(user)``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from kehu.core.querysets import VisibleQuerySet


def _can_read_all(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_admin)


class SchemeQuerySet(VisibleQuerySet):
    """Schemes are company configuration: administrators edit them, managers read them
    (a statement names its scheme)."""

    def visible_to(self, user: Any) -> SchemeQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin or user.is_manager:
            return self.all()
        return self.none()

    def approved(self) -> SchemeQuerySet:
        return self.filter(status="approved")

    def valid_in(self, month: str) -> SchemeQuerySet:
        """Versions whose validity covers any day of ``month`` (``YYYY-MM``)."""
        from kehu.incentives.months import first_day, last_day

        return self.filter(valid_from__lte=last_day(month)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=first_day(month))
        )


class MonthlyRunQuerySet(VisibleQuerySet):
    """A run holds everyone's statements: administrators and managers see the run (its
    statements are filtered again by StatementQuerySet)."""

    def visible_to(self, user: Any) -> MonthlyRunQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin or user.is_manager:
            return self.all()
        return self.none()

    def later_than(self, month: str) -> MonthlyRunQuerySet:
        """The runs of the months after ``month``, oldest first (re-run after it)."""
        return self.filter(month__gt=month).order_by("month")


class StatementQuerySet(VisibleQuerySet):
    """Each person their own; a manager their subtree (by the node the person had when
    the month was run); an administrator all."""

    def visible_to(self, user: Any) -> StatementQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if _can_read_all(user):
            return self.all()
        ids = user.managed_node_ids
        if ids:
            return self.filter(Q(staff_id=user.pk) | Q(node_id__in=ids))
        return self.filter(staff_id=user.pk)


class PoolEntryQuerySet(VisibleQuerySet):
    """The pool ledger: managers and administrators read it (rule 10)."""

    def visible_to(self, user: Any) -> PoolEntryQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin or user.is_manager:
            return self.all()
        return self.none()


class RegionFactsQuerySet(VisibleQuerySet):
    """Facts of a region (developed customers, targets, profiles): administrators all,
    managers those of regions in their subtree."""

    region_field = "region_id"

    def visible_to(self, user: Any) -> RegionFactsQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_admin:
            return self.all()
        ids = user.managed_node_ids
        if not ids:
            return self.none()
        return self.filter(**{f"{self.region_field}__in": ids})


class FieldCampaignQuerySet(VisibleQuerySet):
    """Administrators see every campaign; managers those on their subtree; everyone else
    (promoters above all) the campaigns on their own node or the nodes above it."""

    def visible_to(self, user: Any) -> FieldCampaignQuerySet:
        if not user or not user.is_authenticated:
            return self.none()
        if _can_read_all(user):
            return self.all()
        ids = set(user.managed_node_ids)
        node = user.node if user.node_id else None
        above = [int(part) for part in node.path.strip("/").split("/")] if node else []
        return self.filter(node_id__in=ids | set(above))

    def for_lead(self, node_path: str, day: Any) -> FieldCampaignQuerySet:
        """Campaigns paying a lead registered on ``day`` by someone at ``node_path``."""
        above = [int(part) for part in node_path.strip("/").split("/") if part]
        return self.filter(node_id__in=above, starts_on__lte=day, ends_on__gte=day)
