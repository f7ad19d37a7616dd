"""Serializers of the incentives API: schemes, runs, statements, the pool and the facts.
Inputs are strict (unknown keys are named); outputs are plain."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kehu.customers.api.serializers import (
    StrictBooleanField,
    StrictSerializer,
    TextField,
    WholeNumberField,
)
from kehu.customers.models import Customer
from kehu.incentives.choices import IncentiveRole
from kehu.incentives.models import (
    DevelopedCustomer,
    FieldCampaign,
    IncentiveProfile,
    Market,
    MonthlyRun,
    PoolEntry,
    RegionTarget,
    Scheme,
    Statement,
    StatementLine,
)
from kehu.org.api.serializers import VisiblePrimaryKeyField
from kehu.org.models import OrgNode, Staff

MONTH_HELP = _("A month as YYYY-MM, for example 2026-03.")


class MonthField(serializers.RegexField):
    default_error_messages = {"invalid": _("Give the month as YYYY-MM, for example 2026-03.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", MONTH_HELP)
        super().__init__(r"^\d{4}-(0[1-9]|1[0-2])$", max_length=7, **kwargs)


class AmountField(serializers.DecimalField):
    """A non-negative amount in yuan, as a JSON number or a decimal string."""

    default_error_messages = {"invalid": _("Enter an amount in yuan, for example 7950.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("error_messages", {"min_value": _("The amount must not be negative.")})
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool | list | dict):
            self.fail("invalid")
        return super().to_internal_value(data)


class StaffIdField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": _("Unknown staff id {pk_value}."),
        "incorrect_type": _("Expected a staff id (a whole number), got {data_type}."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Staff.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return Staff.objects.visible_to(request.user if request else None)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= 2**31 - 1:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


# --- schemes ----------------------------------------------------------------------------


class SchemeSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)
    submitted_by = serializers.CharField(source="submitted_by.username", default=None)
    approved_by = serializers.CharField(source="approved_by.username", default=None)

    class Meta:
        model = Scheme
        fields = [
            "id",
            "code",
            "version",
            "name",
            "valid_from",
            "valid_to",
            "status",
            "is_builtin",
            "params",
            "created_by",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "decided_at",
            "decision_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SchemeUpdateSerializer(StrictSerializer):
    name = TextField(required=False, max_length=100)
    valid_from = serializers.DateField(required=False)
    valid_to = serializers.DateField(required=False, allow_null=True)
    params = serializers.DictField(required=False, help_text=_("The scheme's parameters."))


class SchemeCopySerializer(StrictSerializer):
    code = TextField(required=False, max_length=50)
    name = TextField(required=False, max_length=100)


class SchemeDecisionSerializer(StrictSerializer):
    note = TextField(required=False, allow_blank=True, max_length=300, default="")


# --- runs and statements ----------------------------------------------------------------


class StatementLineSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", allow_null=True)

    class Meta:
        model = StatementLine
        fields = ["kind", "code", "amount", "customer", "rule", "month", "reason", "message"]
        read_only_fields = fields


class StatementSerializer(serializers.ModelSerializer):
    staff_name = serializers.CharField(source="staff.__str__")
    lines = StatementLineSerializer(many=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "run",
            "month",
            "staff",
            "staff_name",
            "role",
            "assessed",
            "effective",
            "note",
            "total",
            "lines",
        ]
        read_only_fields = fields


class PoolEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PoolEntry
        fields = [
            "month",
            "opening",
            "penalties",
            "bonuses",
            "from_management_fund",
            "closing",
        ]
        read_only_fields = fields


class MonthlyRunSerializer(serializers.ModelSerializer):
    scheme = serializers.CharField(source="scheme.code")
    scheme_version = serializers.IntegerField(source="scheme.version")
    ran_by = serializers.CharField(source="ran_by.username", default=None)

    class Meta:
        model = MonthlyRun
        fields = ["id", "month", "scheme", "scheme_version", "ran_at", "ran_by", "total"]
        read_only_fields = fields


class MonthlyRunDetailSerializer(MonthlyRunSerializer):
    statements = serializers.SerializerMethodField()
    pool = serializers.SerializerMethodField()

    class Meta(MonthlyRunSerializer.Meta):
        fields = [*MonthlyRunSerializer.Meta.fields, "statements", "pool"]
        read_only_fields = fields

    def get_statements(self, run: MonthlyRun) -> list[dict[str, Any]]:
        return StatementSerializer(self.context["statements"], many=True).data

    def get_pool(self, run: MonthlyRun) -> dict[str, Any] | None:
        entry = getattr(run, "pool_entry", None)
        return PoolEntrySerializer(entry).data if entry is not None else None


class RunCreateSerializer(StrictSerializer):
    month = MonthField()
    scheme = TextField(required=False, max_length=50, default="default")


# --- facts ------------------------------------------------------------------------------


class RegionTargetSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)
    submitted_by = serializers.CharField(source="submitted_by.username", default=None)

    class Meta:
        model = RegionTarget
        fields = [
            "id",
            "region",
            "region_name",
            "month",
            "target",
            "submitted_by",
            "submitted_at",
            "is_late",
        ]
        read_only_fields = fields


class RegionTargetCreateSerializer(StrictSerializer):
    region = VisiblePrimaryKeyField(queryset=OrgNode.objects.all())
    month = MonthField()
    target = WholeNumberField(min_value=0, max_value=10000)


class IncentiveProfileSerializer(serializers.ModelSerializer):
    staff_name = serializers.CharField(source="staff.__str__", read_only=True)

    class Meta:
        model = IncentiveProfile
        fields = [
            "id",
            "staff",
            "staff_name",
            "role",
            "region",
            "threshold",
            "performance_pay",
            "is_active",
        ]
        read_only_fields = fields


class IncentiveProfileCreateSerializer(StrictSerializer):
    staff = StaffIdField()
    role = serializers.ChoiceField(choices=IncentiveRole.choices)
    region = VisiblePrimaryKeyField(queryset=OrgNode.objects.all())
    threshold = WholeNumberField(min_value=1, max_value=2, default=2)
    performance_pay = AmountField(default=0)
    is_active = StrictBooleanField(default=True)


class DevelopedCustomerSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.__str__", read_only=True)
    market = serializers.CharField(source="market.name", default=None)
    market_approved = serializers.SerializerMethodField()

    class Meta:
        model = DevelopedCustomer
        fields = [
            "id",
            "customer",
            "customer_name",
            "developed_by",
            "region",
            "developed_in",
            "reported_order",
            "market",
            "market_approved",
            "is_fraud",
            "fraud_reason",
        ]
        read_only_fields = fields

    def get_market_approved(self, obj: DevelopedCustomer) -> bool:
        if obj.market is None or obj.market.on_list:
            return True
        return hasattr(obj, "market_approval")


class DevelopedCustomerCreateSerializer(StrictSerializer):
    customer = VisiblePrimaryKeyField(queryset=Customer.objects.all())
    developed_by = StaffIdField()
    region = VisiblePrimaryKeyField(queryset=OrgNode.objects.all())
    developed_in = MonthField()
    reported_order = WholeNumberField(min_value=1, max_value=100000, required=False)
    market = serializers.SlugRelatedField(
        slug_field="name", queryset=Market.objects.all(), required=False, allow_null=True
    )


class DevelopedPaymentSerializer(StrictSerializer):
    month = MonthField()
    amount = AmountField()


class DevelopedActiveMonthSerializer(StrictSerializer):
    month = MonthField()


class DevelopedFraudSerializer(StrictSerializer):
    reason = TextField(max_length=200, allow_blank=True, default="")
    is_fraud = StrictBooleanField(default=True)


class FieldCampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = FieldCampaign
        fields = ["id", "name", "node", "starts_on", "ends_on", "amounts"]
        read_only_fields = fields


class FieldCampaignCreateSerializer(StrictSerializer):
    name = TextField(max_length=100)
    node = VisiblePrimaryKeyField(queryset=OrgNode.objects.all())
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    amounts = serializers.DictField(
        child=serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0),
        help_text=_('Per node: any of left_phone, visit, pledge, deal, e.g. {"visit": 80}.'),
    )
