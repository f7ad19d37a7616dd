"""Serializers of intent and referral assessments, key customers, value grades and the
grading settings. Inputs are strict: an unknown key (a misspelt judgement, an unknown
grade or kind) is a 400 naming what is valid."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehu.core.api.fields import KnownChoiceField
from kehu.customers.api.serializers import (
    StrictBooleanField,
    StrictSerializer,
    TextField,
    WholeNumberField,
)
from kehu.customers.models import Customer
from kehu.grading import rules
from kehu.grading.choices import Horizon
from kehu.grading.models import (
    CustomerGrade,
    GradingSettings,
    IntentAssessment,
    KeyCustomer,
    ReferralAssessment,
)
from kehu.grading.querysets import grading_customer_q
from kehu.org.api.serializers import VisiblePrimaryKeyField


class GradableCustomerField(VisiblePrimaryKeyField):
    """A customer whose grades the requesting user may see and set (the owner, the
    managers over its team, administrators); others look unknown."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return Customer.objects.none()
        query = grading_customer_q(user)
        live = Customer.objects.live().select_related("node")
        return live if query is None else live.filter(query)


# --- intent -----------------------------------------------------------------------------


class IntentAssessmentCreateSerializer(StrictSerializer):
    customer = GradableCustomerField(queryset=Customer.objects.all())
    product = StrictBooleanField(help_text=str(rules.JUDGEMENT_HELP["product"]))
    price = StrictBooleanField(help_text=str(rules.JUDGEMENT_HELP["price"]))
    payment = StrictBooleanField(help_text=str(rules.JUDGEMENT_HELP["payment"]))
    chosen_unit = StrictBooleanField(help_text=str(rules.JUDGEMENT_HELP["chosen_unit"]))
    attention = StrictBooleanField(help_text=str(rules.JUDGEMENT_HELP["attention"]))
    decision_makers = StrictBooleanField(help_text=str(rules.JUDGEMENT_HELP["decision_makers"]))
    price_resistance = StrictBooleanField(
        required=False, default=False, help_text=str(rules.JUDGEMENT_HELP["price_resistance"])
    )
    deferred_down_payment = StrictBooleanField(
        required=False,
        default=False,
        help_text=str(rules.JUDGEMENT_HELP["deferred_down_payment"]),
    )
    note = TextField(max_length=500, required=False, allow_blank=True, default="")


class JudgementsSerializer(serializers.Serializer):
    product = serializers.BooleanField()
    price = serializers.BooleanField()
    payment = serializers.BooleanField()
    chosen_unit = serializers.BooleanField()
    attention = serializers.BooleanField()
    decision_makers = serializers.BooleanField()
    price_resistance = serializers.BooleanField()
    deferred_down_payment = serializers.BooleanField()


class IntentExplanationSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(
        choices=["all_six", "core_not_accepted", "core_and_chosen_unit", "core_without_chosen_unit"]
    )
    met = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())
    allowances = serializers.ListField(child=serializers.CharField())


class IntentAssessmentSerializer(serializers.ModelSerializer):
    # Plain text, not an enum: the schema would name A-D and the A-C grades alike.
    grade = serializers.CharField(read_only=True, help_text=_("The intent grade: A, B, C or D."))
    judgements = serializers.SerializerMethodField()
    explanation = IntentExplanationSerializer()
    explanation_text = serializers.SerializerMethodField()

    class Meta:
        model = IntentAssessment
        fields = [
            "id",
            "customer",
            "grade",
            "judgements",
            "explanation",
            "explanation_text",
            "note",
            "assessed_by",
            "created_at",
        ]

    @extend_schema_field(JudgementsSerializer)
    def get_judgements(self, obj: IntentAssessment) -> dict[str, bool]:
        return obj.judgements()

    def get_explanation_text(self, obj: IntentAssessment) -> str:
        return rules.describe_intent(obj.explanation)


# --- referral ---------------------------------------------------------------------------


def factor(name: str) -> WholeNumberField:
    return WholeNumberField(
        min_value=1, max_value=5, help_text=str(rules.REFERRAL_LABELS[name]) + " (1-5)"
    )


class ReferralAssessmentCreateSerializer(StrictSerializer):
    customer = GradableCustomerField(queryset=Customer.objects.all())
    loyalty = factor("loyalty")
    network = factor("network")
    willingness = factor("willingness")
    note = TextField(max_length=500, required=False, allow_blank=True, default="")


class ReferralAssessmentSerializer(serializers.ModelSerializer):
    grade = serializers.CharField(read_only=True, help_text=_("The referral grade: A, B or C."))
    explanation_text = serializers.SerializerMethodField()

    class Meta:
        model = ReferralAssessment
        fields = [
            "id",
            "customer",
            "loyalty",
            "network",
            "willingness",
            "grade",
            "explanation",
            "explanation_text",
            "note",
            "assessed_by",
            "created_at",
        ]

    def get_explanation_text(self, obj: ReferralAssessment) -> str:
        return rules.describe_referral(obj.explanation)


# --- key customers ----------------------------------------------------------------------


class KeyCustomerItemSerializer(StrictSerializer):
    customer = GradableCustomerField(queryset=Customer.objects.all())
    horizon = KnownChoiceField(choices=Horizon.choices)
    expected_by = serializers.DateField(required=False, allow_null=True, default=None)


class KeyCustomerSubmitSerializer(StrictSerializer):
    week = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The Monday of this week or the next; this week when left out."),
    )
    items = KeyCustomerItemSerializer(many=True, allow_empty=False, max_length=50)


class KeyCustomerSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.__str__", read_only=True)
    consultant_name = serializers.CharField(source="consultant.__str__", read_only=True)

    class Meta:
        model = KeyCustomer
        fields = [
            "id",
            "week",
            "consultant",
            "consultant_name",
            "customer",
            "customer_name",
            "horizon",
            "expected_by",
            "status",
            "reason",
            "closed_at",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "created_at",
        ]


class ReviewSerializer(StrictSerializer):
    note = TextField(max_length=500, required=False, allow_blank=True, default="")


class CloseSerializer(StrictSerializer):
    status = KnownChoiceField(choices=[("won", _("Won")), ("defeated", _("Defeated"))])
    reason = TextField(max_length=200, required=False, allow_blank=True, default="")


class WeekQuerySerializer(StrictSerializer):
    week = serializers.DateField(
        required=False, help_text=_("Any day of the week; this week by default.")
    )


class BoardRowSerializer(serializers.Serializer):
    consultant = serializers.IntegerField()
    name = serializers.CharField()
    node = serializers.IntegerField(allow_null=True)
    submitted = serializers.IntegerField()
    minimum = serializers.IntegerField()
    required = serializers.IntegerField(
        help_text=_("The minimum, or the number of prospects if fewer.")
    )
    short = serializers.BooleanField()
    has_prospects = serializers.BooleanField()


class BoardSerializer(serializers.Serializer):
    week = serializers.DateField()
    minimum = serializers.IntegerField()
    results = BoardRowSerializer(many=True)


class SummaryItemSerializer(serializers.Serializer):
    key_customer = serializers.IntegerField()
    customer = serializers.IntegerField()
    customer_name = serializers.CharField()
    consultant = serializers.IntegerField()
    consultant_name = serializers.CharField()
    horizon = serializers.CharField()
    reason = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    week = serializers.DateField()
    submitted = serializers.IntegerField()
    won = serializers.IntegerField()
    defeated = serializers.IntegerField()
    open = serializers.IntegerField()
    close_rate = serializers.FloatField(allow_null=True, help_text=_("Won / submitted, in %."))
    defeat_rate = serializers.FloatField(
        allow_null=True, help_text=_("Defeated / submitted, in %.")
    )
    average_cycle_days = serializers.FloatField(
        allow_null=True, help_text=_("Days from first registration to the win.")
    )
    average_days_to_close = serializers.FloatField(
        allow_null=True, help_text=_("Days from submission to won or defeated.")
    )
    wins = SummaryItemSerializer(many=True)
    defeats = SummaryItemSerializer(many=True)
    defeat_reasons = ReasonCountSerializer(many=True)


# --- value grades, settings -------------------------------------------------------------


class RecomputeSerializer(StrictSerializer):
    customer = GradableCustomerField(
        queryset=Customer.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("One customer, at once; leave out to queue every customer."),
    )


class CustomerGradeSerializer(serializers.ModelSerializer):
    value_grade = serializers.CharField(
        read_only=True, help_text=_('A, B, C, or "" when not graded.')
    )
    referral_grade = serializers.CharField(
        read_only=True, help_text=_('A, B, C, or "" when not assessed.')
    )
    value_explanation_text = serializers.CharField(read_only=True)
    referral_explanation_text = serializers.CharField(read_only=True)

    class Meta:
        model = CustomerGrade
        fields = [
            "customer",
            "value_grade",
            "value_explanation",
            "value_explanation_text",
            "value_computed_at",
            "referral_grade",
            "loyalty",
            "network",
            "willingness",
            "referral_explanation_text",
            "referral_assessed_at",
        ]


class QueuedSerializer(serializers.Serializer):
    queued = serializers.BooleanField()


class GradingSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = GradingSettings
        fields = [
            "horizon_h_days",
            "horizon_a_days",
            "horizon_b_days",
            "horizon_c_days",
            "weekly_minimum",
            "value_top_share",
            "value_growth",
            "agent_tag_dimension",
            "agent_tag_name",
            "updated_at",
        ]


class GradingSettingsUpdateSerializer(StrictSerializer):
    horizon_h_days = WholeNumberField(required=False)
    horizon_a_days = WholeNumberField(required=False)
    horizon_b_days = WholeNumberField(required=False)
    horizon_c_days = WholeNumberField(required=False)
    weekly_minimum = WholeNumberField(required=False)
    value_top_share = WholeNumberField(required=False)
    value_growth = WholeNumberField(required=False)
    agent_tag_dimension = TextField(required=False, max_length=50)
    agent_tag_name = TextField(required=False, max_length=50)
