"""Reads of the grading tables, each starting from ``visible_to(user)``.

Grades are the business of the people who sell to the customer: administrators see
all, managers those of customers in their subtree, consultants those of the customers
they own (assessments) or the key customers they submitted. Promoters, brokers and
commissioners see none (they do not see a customer's grades in the API either)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q

from kehu.core.querysets import VisibleQuerySet


def grading_customer_q(user: Any, prefix: str = "") -> Q | None:
    """The condition on customers whose grades ``user`` may see; None for all."""
    if user.is_admin:
        return None
    query = Q(**{f"{prefix}owner_id": user.pk})
    if user.managed_paths:
        query |= Q(**{f"{prefix}node_id__in": user.managed_node_ids})
    return query


class AssessmentQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> AssessmentQuerySet:
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        query = grading_customer_q(user, "customer__")
        qs = self.filter(customer__merged_into__isnull=True)
        return qs if query is None else qs.filter(query)


class KeyCustomerQuerySet(VisibleQuerySet):
    def visible_to(self, user: Any) -> KeyCustomerQuerySet:
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin:
            return self.all()
        query = Q(consultant_id=user.pk)
        if user.managed_paths:
            query |= Q(node_id__in=user.managed_node_ids)
        return self.filter(query)

    def open(self) -> KeyCustomerQuerySet:
        return self.filter(status="open")

    def of_week(self, week: datetime.date) -> KeyCustomerQuerySet:
        return self.filter(week=week)

    def to_review(self, day: datetime.date, start: datetime.datetime) -> KeyCustomerQuerySet:
        """Open key customers of ``day``'s week or earlier that nobody has reviewed since
        ``start`` (the beginning of ``day``): the managers' daily review list."""
        from kehu.grading.rules import week_start

        return self.open().filter(
            Q(reviewed_at__isnull=True) | Q(reviewed_at__lt=start), week__lte=week_start(day)
        )
