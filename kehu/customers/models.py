"""The customer archive (客户档案): customers, their numbers, tags, relations, occasions,
and the completeness configuration."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.customers.choices import (
    CompletenessStage,
    CustomerKind,
    Gender,
    IntentGrade,
    RelationKind,
    RelationshipCategory,
    Stage,
)
from kehu.customers.querysets import CustomerQuerySet


class Customer(TimeStampedModel):
    kind = models.CharField(
        _("kind"), max_length=16, choices=CustomerKind.choices, default=CustomerKind.PERSON
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    title = models.CharField(_("title in messages"), max_length=20, blank=True)
    gender = models.CharField(
        _("gender"), max_length=8, choices=Gender.choices, default=Gender.UNKNOWN
    )
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    birthday = models.DateField(_("birthday (solar)"), null=True, blank=True)
    # {"month": 1-12, "day": 1-30, "is_leap": bool}; see kehu.customers.lunar
    lunar_birthday = models.JSONField(_("birthday (lunar)"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    # The long tail of the profile groups of DOMAIN §2 (completeness.PROFILE_KEYS).
    profile = models.JSONField(_("profile"), default=dict, blank=True)

    # Not indexed: seven values over a million rows; lists filter it beside an owner or
    # a team, whose indexes do the work. Every index is paid on every registration.
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.LEAD)
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True)
    visit_count = models.PositiveIntegerField(_("visits"), default=0)
    intent_grade = models.CharField(
        _("intent grade"), max_length=1, choices=IntentGrade.choices, blank=True
    )
    relationship = models.CharField(
        _("relationship category"),
        max_length=4,
        choices=RelationshipCategory.choices,
        default=RelationshipCategory.N,
    )
    contribution_value = models.DecimalField(
        _("contribution value"), max_digits=14, decimal_places=2, default=Decimal("0")
    )

    # Ownership and attribution.
    owner = models.ForeignKey(
        "org.Staff",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    node = models.ForeignKey(
        "org.OrgNode",
        verbose_name=_("team"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    registered_by = models.ForeignKey(
        "org.Staff",
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registered_customers",
    )
    channel = models.ForeignKey(
        "leads.Channel",
        verbose_name=_("channel"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    protected_until = models.DateTimeField(_("protected until"), null=True, blank=True)
    first_registered_at = models.DateTimeField(_("first registered"), null=True, blank=True)
    last_followup_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    pooled_at = models.DateTimeField(_("in the pool since"), null=True, blank=True)
    previous_owner = models.ForeignKey(
        "org.Staff",
        verbose_name=_("previous owner"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    completeness = models.PositiveSmallIntegerField(_("completeness"), default=0)
    completeness_missing = models.JSONField(default=list, blank=True)
    is_below_completeness = models.BooleanField(default=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, db_index=False, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            # Partial: lists only ever read live customers, so counts over a team are
            # index-only scans (measured: 110 ms with heap fetches, among 1M).
            models.Index(
                fields=["owner", "-id"],
                name="customer_owner_id",
                condition=Q(merged_into__isnull=True),
            ),
            models.Index(
                fields=["node", "-id"],
                name="customer_node_id",
                condition=Q(merged_into__isnull=True),
            ),
            models.Index(fields=["last_followup_at"], name="customer_last_followup"),
            # The rest are partial: a new customer has none of these, so registering one
            # writes no entry in them (the foreign keys above carry no index of their own
            # for the same reason: the owner and team indexes serve every list).
            models.Index(
                fields=["pooled_at"], name="customer_pooled", condition=Q(pooled_at__isnull=False)
            ),
            models.Index(
                fields=["merged_into"],
                name="customer_merged_into",
                condition=Q(merged_into__isnull=False),
            ),
            models.Index(
                fields=["previous_owner"],
                name="customer_previous_owner",
                condition=Q(previous_owner__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in CustomerKind]), name="customer_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=[s.value for s in Stage]), name="customer_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(completeness__lte=100), name="customer_completeness_percent"
            ),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__lte=150), name="customer_age_sane"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    def display_name(self) -> str:
        if self.title and self.name:
            return f"{self.name}{self.title}" if len(self.name) <= 1 else self.name
        return self.name or f"#{self.pk}"


class CustomerPhone(models.Model):
    """A customer's number in E.164 form. One number belongs to one customer: the unique
    constraint is what makes registration safe under concurrency."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number"), max_length=20)
    # The national digits ("13812345678"), for search by any part of the number.
    digits = models.CharField(max_length=20, db_index=True)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="customerphone_unique_number")
        ]

    def __str__(self) -> str:
        return self.number


class Anniversary(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="anniversaries")
    label = models.CharField(_("occasion"), max_length=50)
    date = models.DateField(_("date (solar)"), null=True, blank=True)
    lunar = models.JSONField(_("date (lunar)"), null=True, blank=True)

    class Meta:
        ordering = ["customer_id", "label", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date__isnull=False) | Q(lunar__isnull=False),
                name="anniversary_has_a_date",
            )
        ]

    def __str__(self) -> str:
        return self.label


class TagDimension(models.Model):
    """relationship, occupation, personality, income band, interest, intended product…"""

    name = models.CharField(_("dimension"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    dimension = models.ForeignKey(TagDimension, on_delete=models.PROTECT, related_name="tags")
    name = models.CharField(_("tag"), max_length=50)

    class Meta:
        ordering = ["dimension__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "name"], name="tag_unique_per_dimension")
        ]

    def __str__(self) -> str:
        return f"{self.dimension.name}: {self.name}"


class CustomerTag(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tag_rows")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="customer_rows")

    class Meta:
        ordering = ["customer_id", "tag_id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "tag"], name="customertag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.tag_id}"


class Relation(models.Model):
    """``from_customer`` is ``kind`` of ``to_customer``: A referred_by B means B referred A."""

    from_customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="relations_out"
    )
    to_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="relations_in")
    kind = models.CharField(_("relation"), max_length=16, choices=RelationKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_customer", "to_customer", "kind"], name="relation_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_customer=models.F("to_customer")), name="relation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_customer_id} {self.kind} {self.to_customer_id}"


class Purchase(models.Model):
    """A purchase by a customer (ours), the basis of the contribution value."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="purchases")
    product = models.CharField(_("product"), max_length=100)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    purchased_on = models.DateField(_("date"))

    class Meta:
        ordering = ["-purchased_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="purchase_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.amount}"


class MileageReading(models.Model):
    """An odometer reading of a purchased vehicle: ``km`` driven since the purchase (a
    purchase starts at 0 km), read on ``read_on``. Readings only go up with time
    (kehu.customers.services.record_mileage checks it); the latest one gives the
    purchase's observed rate, which the life-cycle reminders use (docs/occasions.md)."""

    purchase = models.ForeignKey(
        Purchase, on_delete=models.CASCADE, related_name="mileage_readings"
    )
    km = models.PositiveIntegerField(_("km since purchase"))
    read_on = models.DateField(_("read on"))
    recorded_by = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purchase_id", "read_on", "km", "id"]
        verbose_name = _("mileage reading")
        verbose_name_plural = _("mileage readings")
        indexes = [
            models.Index(
                fields=["purchase", "read_on", "km", "id"], name="mileage_purchase_read_on"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(km__gte=0), name="mileagereading_km_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.purchase_id} {self.km} km {self.read_on}"


class StageRequirement(models.Model):
    """Editable completeness configuration: the fields required at a stage and the
    minimum score (DOMAIN §2 defaults are loaded by a data migration)."""

    stage = models.CharField(max_length=16, choices=CompletenessStage.choices, unique=True)
    fields = models.JSONField(default=list)
    minimum = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(minimum__lte=100), name="stagerequirement_percent")
        ]

    def __str__(self) -> str:
        return self.stage
