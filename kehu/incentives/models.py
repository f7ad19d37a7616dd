"""Incentive schemes (DOMAIN §8), the monthly facts they are run on, and what a run
leaves behind: statements with their lines and the penalty pool ledger.

Months are stored as ``"YYYY-MM"`` text: the unit every rule speaks in, sortable, and
the same string the engine and the API use. Money is ``Decimal`` with two places."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.incentives.choices import IncentiveRole, SchemeStatus
from kehu.incentives.querysets import (
    FieldCampaignQuerySet,
    MonthlyRunQuerySet,
    PoolEntryQuerySet,
    RegionFactsQuerySet,
    SchemeQuerySet,
    StatementQuerySet,
)


class Scheme(TimeStampedModel):
    """One version of a rule set. ``params`` is the engine's parameter dict, checked by
    ``kehu.incentives.schemes.validate_scheme`` before it is stored. A change is a new
    version (a copy), submitted by one administrator and approved by another."""

    code = models.SlugField(_("code"), max_length=50)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=100)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    params = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT
    )
    is_builtin = models.BooleanField(_("built-in"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=300, blank=True)

    objects = SchemeQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = _("incentive scheme")
        verbose_name_plural = _("incentive schemes")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="scheme_unique_version"),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | Q(submitted_by__isnull=True)
                | ~Q(approved_by=F("submitted_by")),
                name="scheme_second_person_approves",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="scheme_valid_to_after_from",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in SchemeStatus]),
                name="scheme_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class IncentiveProfile(TimeStampedModel):
    """Who is assessed, as what: an area manager with a threshold of 1 or 2, or a region
    manager; the region they are counted in and their monthly performance pay (the cap
    of a threshold penalty). Hire, probation and leaving dates come from ``org.Staff``."""

    staff = models.OneToOneField(
        "org.Staff", on_delete=models.CASCADE, related_name="incentive_profile"
    )
    role = models.CharField(_("incentive role"), max_length=16, choices=IncentiveRole.choices)
    region = models.ForeignKey(
        "org.OrgNode", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    threshold = models.PositiveSmallIntegerField(_("monthly threshold"), default=2)
    performance_pay = models.DecimalField(
        _("performance pay"), default=0, max_digits=12, decimal_places=2
    )
    is_active = models.BooleanField(_("assessed"), default=True)

    objects = RegionFactsQuerySet.as_manager()

    class Meta:
        ordering = ["region_id", "role", "staff_id"]
        verbose_name = _("incentive profile")
        verbose_name_plural = _("incentive profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__in=[1, 2]), name="incentiveprofile_threshold_1_or_2"
            ),
            models.CheckConstraint(
                condition=Q(performance_pay__gte=0), name="incentiveprofile_pay_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in IncentiveRole]),
                name="incentiveprofile_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} · {self.get_role_display()}"


class Market(TimeStampedModel):
    """A market (a district, a trade, a channel) a region develops customers in. Markets
    ``on_list`` form the approved development list; a customer developed in any other
    market counts only once the general manager (an administrator) approves it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    on_list = models.BooleanField(_("on the approved list"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("market")
        verbose_name_plural = _("markets")

    def __str__(self) -> str:
        return self.name


class FieldCampaign(TimeStampedModel):
    """A field campaign's pay (DOMAIN §7): from ``starts_on`` to ``ends_on`` the leads that
    promoters working under ``node`` register are paid these per-node ``amounts``
    (``{"left_phone", "visit", "pledge", "deal"}``, any subset) instead of the scheme's."""

    name = models.CharField(_("name"), max_length=100)
    node = models.ForeignKey(
        "org.OrgNode", verbose_name=_("where"), on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    amounts = models.JSONField(_("amounts per node"), default=dict)
    created_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = FieldCampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("field campaign")
        verbose_name_plural = _("field campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="fieldcampaign_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.name


class DevelopedCustomer(TimeStampedModel):
    """A new customer a person developed, in the order the region reported it."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.PROTECT, related_name="development"
    )
    developed_by = models.ForeignKey(
        "org.Staff", verbose_name=_("developed by"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        "org.OrgNode", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    developed_in = models.CharField(_("developed in"), max_length=7, db_index=True)
    reported_order = models.PositiveIntegerField(_("reported order"))
    market = models.ForeignKey(
        Market, null=True, blank=True, on_delete=models.PROTECT, related_name="customers"
    )
    is_fraud = models.BooleanField(_("fraudulent"), default=False)
    fraud_flagged_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fraud_flagged_at = models.DateTimeField(null=True, blank=True)
    fraud_reason = models.CharField(_("fraud reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RegionFactsQuerySet.as_manager()

    class Meta:
        ordering = ["developed_in", "region_id", "reported_order", "id"]
        verbose_name = _("developed customer")
        verbose_name_plural = _("developed customers")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "developed_in", "reported_order"],
                name="developedcustomer_unique_report_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} ({self.developed_in})"


class MarketApproval(models.Model):
    """The general manager's approval for a customer developed outside the approved
    development list: until it exists, that customer does not count."""

    developed = models.OneToOneField(
        DevelopedCustomer, on_delete=models.CASCADE, related_name="market_approval"
    )
    approved_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-approved_at", "-id"]
        verbose_name = _("market approval")
        verbose_name_plural = _("market approvals")

    def __str__(self) -> str:
        return f"{self.developed} ✓ {self.approved_by}"


class CustomerPayment(models.Model):
    """A payment a developed customer made in a month (several add up)."""

    developed = models.ForeignKey(
        DevelopedCustomer, on_delete=models.CASCADE, related_name="payments"
    )
    month = models.CharField(_("month"), max_length=7, db_index=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    recorded_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["month", "id"]
        verbose_name = _("customer payment")
        verbose_name_plural = _("customer payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="customerpayment_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.developed_id} {self.month} {self.amount}"


class ActiveMonth(models.Model):
    """A month in which a developed customer was active (shipped or bought): rule 8."""

    developed = models.ForeignKey(
        DevelopedCustomer, on_delete=models.CASCADE, related_name="active_months"
    )
    month = models.CharField(_("month"), max_length=7)

    class Meta:
        ordering = ["month", "id"]
        constraints = [
            models.UniqueConstraint(fields=["developed", "month"], name="activemonth_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.developed_id} {self.month}"


class RegionTarget(models.Model):
    """A region's target for a month (effective customers), due before 08:00 on the 6th
    (Asia/Shanghai). Administrators may still enter one afterwards; it is then marked
    late."""

    region = models.ForeignKey(
        "org.OrgNode", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.CharField(_("month"), max_length=7)
    target = models.PositiveIntegerField(_("target"))
    submitted_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    is_late = models.BooleanField(_("late"), default=False)

    objects = RegionFactsQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "region_id"]
        verbose_name = _("region target")
        verbose_name_plural = _("region targets")
        constraints = [
            models.UniqueConstraint(fields=["region", "month"], name="regiontarget_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.month}: {self.target}"


class MonthlyRun(models.Model):
    """The stored result of running a month: the facts it was run on, the scheme version,
    and the engine's output. Re-running replaces it (and its statements and pool entry)."""

    month = models.CharField(_("month"), max_length=7, unique=True)
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="runs")
    ran_at = models.DateTimeField(_("ran at"))
    ran_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    facts = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    # The field force's pay (promoters per node, brokers' commissions): the events read
    # from the funnel and the lines the engine paid for them.
    field = models.JSONField(default=dict)
    total = models.DecimalField(_("total"), default=0, max_digits=12, decimal_places=2)

    objects = MonthlyRunQuerySet.as_manager()

    class Meta:
        ordering = ["-month"]
        verbose_name = _("monthly run")
        verbose_name_plural = _("monthly runs")

    def __str__(self) -> str:
        return self.month

    @property
    def field_total(self) -> Decimal:
        """The field force's pay of the month (promoters' node pay, brokers' commissions
        less clawbacks): in ``total`` but not funded by the penalty pool."""
        total = sum(
            (Decimal(str(s["total"])) for s in (self.field or {}).get("statements", ())),
            Decimal(0),
        )
        return total.quantize(Decimal("0.01"))


class Statement(models.Model):
    """One person's statement for a run. ``node`` is the person's node when the month was
    run, so a manager's "my subtree" stays what it was."""

    run = models.ForeignKey(MonthlyRun, on_delete=models.CASCADE, related_name="statements")
    staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey(
        "org.OrgNode", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    month = models.CharField(_("month"), max_length=7, db_index=True)
    role = models.CharField(_("incentive role"), max_length=16, blank=True)
    assessed = models.BooleanField(_("assessed"), default=True)
    effective = models.PositiveIntegerField(_("effective customers"), default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)
    total = models.DecimalField(_("total"), default=0, max_digits=12, decimal_places=2)

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "staff_id"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [
            models.UniqueConstraint(fields=["run", "staff"], name="statement_unique_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.month}"


class StatementLine(models.Model):
    """One line of a statement: its kind, amount, the rule it applies, the customer it is
    about (if any) and the reason in words."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=32)
    code = models.CharField(_("code"), max_length=64, blank=True)
    month = models.CharField(_("month"), max_length=7, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.CharField(_("rule"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # The reason in the language of the run (the worker's: the site's default language).
    message = models.CharField(_("message"), max_length=500, blank=True)

    class Meta:
        ordering = ["statement_id", "position"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class PoolEntry(models.Model):
    """The penalty pool for a month (rule 10): bonuses are paid from the month's
    penalties, then from the pool, then from the management fund."""

    month = models.CharField(_("month"), max_length=7, unique=True)
    run = models.OneToOneField(
        MonthlyRun, null=True, blank=True, on_delete=models.CASCADE, related_name="pool_entry"
    )
    opening = models.DecimalField(_("opening balance"), max_digits=12, decimal_places=2)
    penalties = models.DecimalField(_("penalties"), max_digits=12, decimal_places=2)
    bonuses = models.DecimalField(_("bonuses"), max_digits=12, decimal_places=2)
    from_management_fund = models.DecimalField(
        _("from the management fund"), max_digits=12, decimal_places=2
    )
    closing = models.DecimalField(_("closing balance"), max_digits=12, decimal_places=2)

    objects = PoolEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-month"]
        verbose_name = _("pool entry")
        verbose_name_plural = _("pool entries")

    def __str__(self) -> str:
        return f"{self.month}: {self.closing}"
