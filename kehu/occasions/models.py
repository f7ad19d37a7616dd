"""Occasions (birthdays, anniversaries) precomputed as solar dates, care rules, and
product life-cycle rules with their precomputed reminders.

The agenda reads :class:`OccasionDate` and :class:`LifecycleReminder` by index: the lunar
arithmetic and the rule matching happen when a birthday, an anniversary, a purchase or a
rule changes, and in the nightly job, never while someone waits for their agenda."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kehu.customers.choices import RelationshipCategory
from kehu.occasions.choices import CareKind, LifecycleKind, OccasionKind
from kehu.occasions.querysets import LifecycleReminderQuerySet, OccasionDateQuerySet


class CareRule(models.Model):
    """The care an occasion gets for customers of one relationship category."""

    relationship = models.CharField(
        _("relationship category"),
        max_length=4,
        choices=RelationshipCategory.choices,
        unique=True,
    )
    care = models.CharField(_("care"), max_length=16, choices=CareKind.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("care rule")
        verbose_name_plural = _("care rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(care__in=[c.value for c in CareKind]), name="carerule_care_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.relationship}: {self.care}"


class InvitationSettings(models.Model):
    """One row: how many days before an A customer's birthday the invitation is due."""

    days_min = models.PositiveSmallIntegerField(_("at least days before"), default=14)
    days_max = models.PositiveSmallIntegerField(_("at most days before"), default=21)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("invitation settings")
        verbose_name_plural = _("invitation settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(days_min__gte=1) & Q(days_min__lte=F("days_max")) & Q(days_max__lte=60),
                name="invitationsettings_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.days_min}-{self.days_max}"


class OccasionDate(models.Model):
    """One occurrence of a customer's birthday or anniversary as a solar date, this year
    and next (kehu.occasions.occurrences keeps them)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="occasion_dates"
    )
    kind = models.CharField(max_length=16, choices=OccasionKind.choices)
    anniversary = models.ForeignKey(
        "customers.Anniversary", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    date = models.DateField(_("date"))
    is_lunar = models.BooleanField(default=False)
    label = models.CharField(max_length=50, blank=True)
    # The customer's owner, copied by the database (kehu.occasions.triggers): one
    # person's occasions are one range of occasiondate_owner_kind_date.
    owner = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        editable=False,
    )

    objects = OccasionDateQuerySet.as_manager()

    class Meta:
        ordering = ["date", "customer_id", "id"]
        indexes = [
            models.Index(fields=["date", "customer"], name="occasiondate_date_customer"),
            models.Index(fields=["customer", "date"], name="occasiondate_customer_date"),
            models.Index(
                fields=["owner", "kind", "date", "customer"], name="occasiondate_owner_kind_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.date}"


class LifecycleRule(models.Model):
    """When a purchase calls for a reminder: ``months_after`` the purchase, or when
    ``km_after`` kilometres are driven (at the purchase's observed rate once it has a
    mileage reading, at the assumed ``km_per_month`` until then), then every
    ``repeat_months`` up to ``occurrences`` times."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=LifecycleKind.choices)
    product_contains = models.CharField(
        _("product contains"),
        max_length=200,
        blank=True,
        help_text=_(
            "Comma-separated words; a purchase matches if its product contains one. "
            "Empty: every product."
        ),
    )
    months_after = models.PositiveSmallIntegerField(
        _("months after purchase"), null=True, blank=True
    )
    km_after = models.PositiveIntegerField(_("km after purchase"), null=True, blank=True)
    km_per_month = models.PositiveIntegerField(_("assumed km per month"), default=1250)
    repeat_months = models.PositiveSmallIntegerField(
        _("repeat every N months"), null=True, blank=True
    )
    occurrences = models.PositiveSmallIntegerField(
        _("times"),
        null=True,
        blank=True,
        help_text=_("Empty: repeat for as long as the customer is ours."),
    )
    lead_days = models.PositiveSmallIntegerField(_("days ahead on the agenda"), default=7)
    ask_referral = models.BooleanField(_("ask for a referral"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("life-cycle rule")
        verbose_name_plural = _("life-cycle rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(months_after__isnull=False) | Q(km_after__isnull=False),
                name="lifecyclerule_has_a_start",
            ),
            models.CheckConstraint(
                condition=Q(km_per_month__gte=1), name="lifecyclerule_km_per_month_positive"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in LifecycleKind]),
                name="lifecyclerule_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LifecycleReminder(models.Model):
    """The ``sequence``-th reminder of ``rule`` for ``purchase``, due on ``due_on``; on
    the owner's agenda from ``notify_on`` (``due_on`` - the rule's lead days)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="lifecycle_reminders"
    )
    purchase = models.ForeignKey(
        "customers.Purchase", on_delete=models.CASCADE, related_name="lifecycle_reminders"
    )
    rule = models.ForeignKey(LifecycleRule, on_delete=models.CASCADE, related_name="reminders")
    sequence = models.PositiveSmallIntegerField(default=1)
    due_on = models.DateField(_("due"))
    notify_on = models.DateField(_("on the agenda from"))
    # The customer's owner, copied by the database (kehu.occasions.triggers).
    owner = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        editable=False,
    )

    objects = LifecycleReminderQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["customer", "due_on"], name="lcreminder_customer_due"),
            models.Index(fields=["due_on", "id"], name="lcreminder_due"),
            models.Index(fields=["owner", "notify_on", "due_on"], name="lcreminder_owner_notify"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase", "rule", "sequence"], name="lcreminder_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.due_on}"
