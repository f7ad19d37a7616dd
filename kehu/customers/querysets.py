"""Reads of the customer archive, each starting from ``visible_to(user)``.

* admin — every customer;
* manager — customers whose team is in their subtree;
* consultant — the customers they own;
* commissioner — customers registered by people of their team, and their own;
* promoter, broker — only the customers they registered.

Merged-away customers are never listed.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from kehu.core.querysets import VisibleQuerySet


class CustomerQuerySet(VisibleQuerySet):
    def live(self) -> CustomerQuerySet:
        return self.filter(merged_into__isnull=True)

    def visible_to(self, user: Any) -> CustomerQuerySet:
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        live = self.live()
        if user.is_admin:
            return live
        from kehu.leads.models import Registration

        # A customer's team is its owner's team (the services keep it so), so a manager's
        # own customers are in their subtree: one indexed condition.
        query = Q(node_id__in=user.managed_node_ids) if user.managed_paths else Q(owner_id=user.pk)
        if user.has_any_role("promoter", "broker"):
            registered = Registration.objects.filter(customer_id=OuterRef("pk"), registered_by=user)
            if user.has_role("broker") and not user.has_any_role("consultant", "manager"):
                # A broker learns whether a referral was new or existing and nothing more
                # (leads.services.Judgement): they see the customers they brought in.
                registered = registered.filter(result="new")
            query |= Q(Exists(registered))
        if user.has_role("commissioner") and user.node_id:
            query |= Q(
                Exists(
                    Registration.objects.filter(
                        customer_id=OuterRef("pk"), registered_by__node_id=user.node_id
                    )
                )
            )
        return live.filter(query)

    def owned_by(self, staff: Any) -> CustomerQuerySet:
        return self.filter(owner=staff)

    def in_pool(self) -> CustomerQuerySet:
        return self.live().filter(owner__isnull=True)

    def sleeping(self, days: int = 30, now: datetime.datetime | None = None) -> CustomerQuerySet:
        """No follow-up recorded for more than ``days`` days (never followed counts from
        the registration)."""
        cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
        return self.exclude(stage__in=["lost", "owner"]).filter(
            Q(last_followup_at__lt=cutoff)
            | Q(last_followup_at__isnull=True, first_registered_at__lt=cutoff)
        )

    def below_completeness(self) -> CustomerQuerySet:
        return self.filter(is_below_completeness=True)

    def with_number_part(self, digits: str) -> CustomerQuerySet:
        from kehu.customers.models import CustomerPhone

        return self.filter(
            Exists(
                CustomerPhone.objects.filter(customer_id=OuterRef("pk"), digits__contains=digits)
            )
        )
