"""Leads: channels, registrations (报备) and their attribution (判客), conflicts (撞单),
assignments, and the public pool (公海)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.leads.choices import (
    AssignmentReason,
    ConflictDecision,
    ConflictStatus,
    PoolEventKind,
    RegistrationKind,
    RegistrationResult,
)
from kehu.leads.querysets import ConflictQuerySet, RegistrationQuerySet


class Channel(TimeStampedModel):
    """Where a lead came from (拓客渠道), with its protection period."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)
    protection_days = models.PositiveSmallIntegerField(_("protection period (days)"), default=30)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.CheckConstraint(
                condition=Q(protection_days__lte=3650), name="channel_protection_sane"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The name in the interface language: the English name in English, when set."""
        from django.utils.translation import get_language

        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class Registration(models.Model):
    """One report of a lead by one person, through one channel. Every registration is
    kept, whatever its result: it is the evidence attribution rests on."""

    # Both indexed by the composite indexes below (customer / registrant, newest first).
    customer = models.ForeignKey(
        "customers.Customer",
        db_index=False,
        on_delete=models.CASCADE,
        related_name="registrations",
    )
    registered_by = models.ForeignKey(
        "org.Staff", db_index=False, on_delete=models.PROTECT, related_name="registrations"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=RegistrationKind.choices)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="registrations")
    result = models.CharField(_("result"), max_length=8, choices=RegistrationResult.choices)
    # The owner after this registration was judged, and until when they are protected.
    owner = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    protected_until = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    is_fraud = models.BooleanField(_("fraudulent"), default=False)
    # Not indexed: nothing reads registrations by who flagged them, and every
    # registration would add an entry.
    fraud_flagged_by = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fraud_flagged_at = models.DateTimeField(null=True, blank=True)
    fraud_reason = models.CharField(max_length=200, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        indexes = [
            models.Index(fields=["registered_by", "-created_at"], name="registration_by_time"),
            models.Index(fields=["customer", "-created_at"], name="registration_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in RegistrationKind]),
                name="registration_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="registration_location_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} by {self.registered_by_id} ({self.result})"


class Conflict(models.Model):
    """A second registration of a customer still protected for someone else, queued for
    a manager to decide (撞单)."""

    registration = models.OneToOneField(
        Registration, on_delete=models.CASCADE, related_name="conflict"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="conflicts"
    )
    claimant = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey("org.Staff", null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(
        max_length=8, choices=ConflictStatus.choices, default=ConflictStatus.OPEN, db_index=True
    )
    decision = models.CharField(max_length=16, choices=ConflictDecision.choices, blank=True)
    resolved_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConflictQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("conflict")
        verbose_name_plural = _("conflicts")

    def __str__(self) -> str:
        return f"conflict {self.pk} on {self.customer_id}"


class Assignment(models.Model):
    """Every change of owner, with why (DOMAIN §10: assignment says why)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="assignments"
    )
    # from_staff and actor are read only through the customer's history (indexed by
    # customer): no index of their own on a table every registration writes.
    from_staff = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_staff = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=AssignmentReason.choices)
    explanation = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_staff_id} → {self.to_staff_id}"


class PoolSettings(models.Model):
    """The public pool's rules (one row, id 1): editable by administrators."""

    # Days without follow-up before a customer returns to the pool, per intent grade
    # ("" = no grade yet). {"A": 30, "B": 20, "C": 15, "D": 10, "": 15}
    return_days = models.JSONField(default=dict)
    return_lost = models.BooleanField(default=True)
    claim_daily_quota = models.PositiveSmallIntegerField(default=10)
    no_reclaim_days = models.PositiveSmallIntegerField(default=30)
    ownership_cap = models.PositiveIntegerField(default=2000)
    sleeping_days = models.PositiveSmallIntegerField(default=30)

    class Meta:
        verbose_name = _("pool settings")

    def __str__(self) -> str:
        return "pool settings"


class PoolEvent(models.Model):
    """A customer going into the pool or being claimed from it."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="pool_events"
    )
    kind = models.CharField(max_length=8, choices=PoolEventKind.choices)
    staff = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # For claims: the day (local) it counts against the claimer's quota.
    day = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["staff", "kind", "day"], name="poolevent_quota")]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id}"


class RoundRobinCursor(models.Model):
    """Where weighted round-robin assignment stands in a node (one row per node)."""

    node = models.OneToOneField("org.OrgNode", on_delete=models.CASCADE, related_name="+")
    # {staff id: accumulated credit} for smooth weighted round-robin.
    credits = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"cursor {self.node_id}"
