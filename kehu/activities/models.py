"""Follow-ups (跟进) and the funnel's stage history."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.activities.choices import ActivityKind, Outcome
from kehu.activities.querysets import ActivityQuerySet, StageChangeQuerySet


class Activity(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="activities"
    )
    staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(_("kind"), max_length=8, choices=ActivityKind.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=4000)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="activity_customer_time"),
            models.Index(fields=["staff", "occurred_at"], name="activity_staff_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ActivityKind]), name="activity_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id}"


class StageChange(models.Model):
    """One row per move through the funnel: the history is kept, never overwritten."""

    # Indexed by stagechange_customer (customer, created_at) below.
    customer = models.ForeignKey(
        "customers.Customer",
        db_index=False,
        on_delete=models.CASCADE,
        related_name="stage_changes",
    )
    from_stage = models.CharField(max_length=16, blank=True)
    to_stage = models.CharField(max_length=16)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The team, owner and channel at the time, so the funnel counts without joins. Not
    # indexed on their own: every registration writes this row, no read looks one up by
    # them, and a report over them reads by time (created_at) first.
    node = models.ForeignKey(
        "org.OrgNode",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.ForeignKey(
        "leads.Channel",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = StageChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "created_at"], name="stagechange_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_stage} → {self.to_stage}"
