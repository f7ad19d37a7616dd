"""Cadence rules per intent grade, marketing milestones, and each customer's next due
date (kept as activities are logged, so the agenda never recomputes it)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.cadence import rules
from kehu.cadence.querysets import CustomerCadenceQuerySet, MilestoneQuerySet
from kehu.core.models import TimeStampedModel


class CadenceRule(models.Model):
    """How often a grade is called; the row ``callback`` holds the callback interval."""

    grade = models.CharField(
        _("grade"),
        max_length=8,
        unique=True,
        choices=[(k, k) for k in rules.RULE_KEYS],
    )
    interval_days = models.PositiveSmallIntegerField(_("every (days)"), null=True, blank=True)
    uses_milestones = models.BooleanField(_("at marketing milestones"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["grade"]
        verbose_name = _("cadence rule")
        verbose_name_plural = _("cadence rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__in=list(rules.RULE_KEYS)), name="cadencerule_grade_valid"
            ),
            models.CheckConstraint(
                condition=Q(uses_milestones=True)
                | Q(interval_days__gte=rules.MIN_INTERVAL, interval_days__lte=rules.MAX_INTERVAL),
                name="cadencerule_interval_or_milestones",
            ),
        ]

    def __str__(self) -> str:
        return self.grade

    def as_rule(self) -> rules.Rule:
        return rules.Rule(interval_days=self.interval_days, uses_milestones=self.uses_milestones)


class Milestone(TimeStampedModel):
    """A marketing milestone (营销节点: an opening, a launch, an event). D customers are
    due on the next one; ``node`` empty = the whole company, else that subtree."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)
    project = models.ForeignKey(
        "org.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    node = models.ForeignKey(
        "org.OrgNode",
        verbose_name=_("organisation node"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        indexes = [models.Index(fields=["date"], name="milestone_date")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class CustomerCadence(models.Model):
    """When a customer is next due.

    ``owner`` copies the customer's owner so one person's agenda is one range of the
    index (owner, next_due): measured among 100,000 customers, the join through the
    customer's owner cost 15-45 ms for a consultant with 5,000 customers (it probes
    every one of them), the copy 1-2 ms. The copy is kept right by the database itself:
    a trigger on customers_customer (kehu.cadence.triggers) follows every change of
    owner, whichever code makes it (assignment, the pool, conflicts, merges, a person
    leaving, raw SQL); the agenda also joins the customer and checks the owner, so a
    row could never show a customer to someone else."""

    customer = models.OneToOneField(
        "customers.Customer",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="cadence",
    )
    owner = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # NULL: nothing due (a lost customer).
    next_due = models.DateField(_("next due"), null=True, blank=True)
    due_kind = models.CharField(max_length=16, default=rules.DUE_CALL)
    callback_due = models.DateField(_("callback due"), null=True, blank=True)
    # What the reason is built from (kept so the agenda reads one row per customer).
    grade = models.CharField(max_length=1, blank=True)
    last_contact = models.DateField(null=True, blank=True)
    milestone = models.CharField(max_length=100, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    objects = CustomerCadenceQuerySet.as_manager()

    class Meta:
        ordering = ["next_due", "customer_id"]
        verbose_name = _("customer cadence")
        verbose_name_plural = _("customer cadences")
        indexes = [
            models.Index(
                fields=["owner", "next_due", "customer"],
                name="cadence_owner_due",
                condition=Q(next_due__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_kind__in=[rules.DUE_CALL, rules.DUE_CALLBACK]),
                name="cadence_due_kind_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.next_due}"
