"""Grades (DOMAIN §5): intent assessments and their history, each customer's current
value and referral grades, key customers (重点客户) and the grading settings."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.customers.choices import IntentGrade
from kehu.grading.choices import Horizon, KeyCustomerStatus, ReferralGrade, ValueGrade
from kehu.grading.querysets import AssessmentQuerySet, KeyCustomerQuerySet


class IntentAssessment(models.Model):
    """One intent assessment: the six judgements as the consultant recorded them, and
    the grade they gave. The newest is the customer's grade; the rows are its history."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="intent_assessments"
    )
    product = models.BooleanField(_("accepts the product"), default=False)
    price = models.BooleanField(_("accepts the price"), default=False)
    payment = models.BooleanField(_("can pay"), default=False)
    chosen_unit = models.BooleanField(_("has chosen a unit"), default=False)
    attention = models.BooleanField(_("visited or called 2-3+ times"), default=False)
    decision_makers = models.BooleanField(_("decision makers agree"), default=False)
    price_resistance = models.BooleanField(_("controllable price resistance"), default=False)
    deferred_down_payment = models.BooleanField(_("down payment partly deferred"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    grade = models.CharField(_("intent grade"), max_length=1, choices=IntentGrade.choices)
    explanation = models.JSONField(_("explanation"), default=dict)
    assessed_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("intent assessment")
        verbose_name_plural = _("intent assessments")
        indexes = [models.Index(fields=["customer", "-created_at"], name="intent_customer_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__in=[g.value for g in IntentGrade]), name="intent_grade_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.grade}"

    def judgements(self) -> dict[str, bool]:
        from kehu.grading.rules import ALLOWANCES, JUDGEMENTS

        return {key: getattr(self, key) for key in (*JUDGEMENTS, *ALLOWANCES)}


class ReferralAssessment(models.Model):
    """One referral-ability assessment (history); the newest is copied to CustomerGrade."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="referral_assessments"
    )
    loyalty = models.PositiveSmallIntegerField(_("loyalty"))
    network = models.PositiveSmallIntegerField(_("network"))
    willingness = models.PositiveSmallIntegerField(_("willingness"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    grade = models.CharField(_("referral grade"), max_length=1, choices=ReferralGrade.choices)
    explanation = models.JSONField(_("explanation"), default=dict)
    assessed_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("referral assessment")
        verbose_name_plural = _("referral assessments")
        indexes = [models.Index(fields=["customer", "-created_at"], name="referral_customer_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(loyalty__gte=1, loyalty__lte=5)
                & Q(network__gte=1, network__lte=5)
                & Q(willingness__gte=1, willingness__lte=5),
                name="referral_factors_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.grade}"


class CustomerGrade(models.Model):
    """A customer's current value and referral grades (read by other apps: the fixed
    interface is ``customer.grades.value_grade`` and friends). The intent grade lives
    on ``Customer.intent_grade``."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="grades"
    )
    value_grade = models.CharField(
        _("value grade"), max_length=1, choices=ValueGrade.choices, blank=True, db_index=True
    )
    # {"rule": agent|top|growth|rest|none, "sales": [this year, last, the year before],
    #  "threshold": top-share line, "top_share": %, "growth": %}; see rules.describe_value
    value_explanation = models.JSONField(_("value grade explanation"), default=dict, blank=True)
    value_computed_at = models.DateTimeField(_("value grade computed"), null=True, blank=True)
    referral_grade = models.CharField(
        _("referral grade"), max_length=1, choices=ReferralGrade.choices, blank=True
    )
    loyalty = models.PositiveSmallIntegerField(_("loyalty"), null=True, blank=True)
    network = models.PositiveSmallIntegerField(_("network"), null=True, blank=True)
    willingness = models.PositiveSmallIntegerField(_("willingness"), null=True, blank=True)
    referral_explanation = models.JSONField(default=dict, blank=True)
    referral_assessed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["customer_id"]
        verbose_name = _("customer grades")
        verbose_name_plural = _("customer grades")
        constraints = [
            models.CheckConstraint(
                condition=Q(value_grade__in=["", *ValueGrade.values]), name="value_grade_valid"
            ),
            models.CheckConstraint(
                condition=Q(referral_grade__in=["", *ReferralGrade.values]),
                name="referral_grade_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.value_grade or '-'}/{self.referral_grade or '-'}"

    @property
    def value_explanation_text(self) -> str:
        from kehu.grading.rules import describe_value

        return describe_value(self.value_explanation) if self.value_computed_at else ""

    @property
    def referral_explanation_text(self) -> str:
        from kehu.grading.rules import describe_referral

        return describe_referral(self.referral_explanation)


class GradingSettings(models.Model):
    """The grading configuration (one row, id 1), editable by administrators. The
    defaults are DOMAIN §5's."""

    horizon_h_days = models.PositiveSmallIntegerField(_("H horizon (days)"), default=7)
    horizon_a_days = models.PositiveSmallIntegerField(_("A horizon (days)"), default=15)
    horizon_b_days = models.PositiveSmallIntegerField(_("B horizon (days)"), default=30)
    horizon_c_days = models.PositiveSmallIntegerField(_("C horizon (days)"), default=90)
    weekly_minimum = models.PositiveSmallIntegerField(
        _("key customers per consultant per week"), default=3
    )
    value_top_share = models.PositiveSmallIntegerField(_("value A: top share (%)"), default=20)
    value_growth = models.PositiveSmallIntegerField(_("value B: yearly growth (%)"), default=10)
    agent_tag_dimension = models.CharField(
        _("agent tag dimension"), max_length=50, default="客户类型"
    )
    agent_tag_name = models.CharField(_("agent tag"), max_length=50, default="代理商")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("grading settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(value_top_share__lte=100), name="grading_top_share_percent"
            ),
            models.CheckConstraint(
                condition=Q(horizon_h_days__gte=1)
                & Q(horizon_a_days__gte=1)
                & Q(horizon_b_days__gte=1)
                & Q(horizon_c_days__gte=1),
                name="grading_horizons_positive",
            ),
        ]

    def __str__(self) -> str:
        return "grading settings"

    def horizons(self) -> dict[str, int]:
        return {
            Horizon.H: self.horizon_h_days,
            Horizon.A: self.horizon_a_days,
            Horizon.B: self.horizon_b_days,
            Horizon.C: self.horizon_c_days,
        }


class KeyCustomer(models.Model):
    """A key customer (重点客户, H-level list) a consultant submitted for a week: reviewed
    daily by their managers, closed as won or defeated with a reason."""

    week = models.DateField(_("week (Monday)"))
    consultant = models.ForeignKey(
        "org.Staff",
        verbose_name=_("consultant"),
        on_delete=models.PROTECT,
        related_name="key_customers",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="key_customer_rows",
    )
    # The consultant's team when submitted: what managers' visibility filters on.
    node = models.ForeignKey(
        "org.OrgNode", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    horizon = models.CharField(_("horizon"), max_length=1, choices=Horizon.choices)
    expected_by = models.DateField(_("expected by"))
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=KeyCustomerStatus.choices,
        default=KeyCustomerStatus.OPEN,
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    objects = KeyCustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-week", "consultant_id", "id"]
        verbose_name = _("key customer")
        verbose_name_plural = _("key customers")
        indexes = [
            models.Index(fields=["week", "consultant"], name="keycustomer_week_consultant"),
            models.Index(fields=["node", "status"], name="keycustomer_node_status"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["week", "customer"], name="keycustomer_once_a_week"),
            models.CheckConstraint(
                condition=Q(horizon__in=[h.value for h in Horizon]), name="keycustomer_horizon"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in KeyCustomerStatus]),
                name="keycustomer_status",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="keycustomer_closed_at_iff_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.customer_id} ({self.horizon})"
