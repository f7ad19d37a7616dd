"""The grading API: intent and referral assessments, key customers (submit, review,
close, the board and the weekly summary), value grades and the settings. Thin: parse →
access (visible_to) → service → serialise."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.grading import reports, rules, services
from kehu.grading.api import serializers as s
from kehu.grading.filtersets import (
    IntentAssessmentFilterSet,
    KeyCustomerFilterSet,
    ReferralAssessmentFilterSet,
)
from kehu.grading.models import CustomerGrade, IntentAssessment, KeyCustomer, ReferralAssessment
from kehu.org.api.views import VisibleMixin

WEEK = OpenApiParameter(
    "week", str, description="Any day of the week (YYYY-MM-DD); this week by default."
)


def week_of(request: Request) -> Any:
    data = s.WeekQuerySerializer(data=request.query_params.dict())
    data.is_valid(raise_exception=True)
    day = data.validated_data.get("week") or timezone.localdate()
    return rules.week_start(day)


class IntentAssessmentViewSet(VisibleMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Intent assessments (意向客户分级): the six judgements, the grade A/B/C/D they give
    and why. The newest sets the customer's intent grade; the list is the history
    (filter ``?customer=``)."""

    queryset = IntentAssessment.objects.all()
    serializer_class = s.IntentAssessmentSerializer
    filterset_class = IntentAssessmentFilterSet
    ordering_fields = ["created_at", "id"]

    @extend_schema(
        request=s.IntentAssessmentCreateSerializer, responses={201: s.IntentAssessmentSerializer}
    )
    def create(self, request: Request) -> Response:
        data = s.IntentAssessmentCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        customer, note = fields.pop("customer"), fields.pop("note")
        row = services.assess_intent(
            actor=request.user, customer=customer, judgements=fields, note=note
        )
        return Response(s.IntentAssessmentSerializer(row).data, status=status.HTTP_201_CREATED)


class ReferralAssessmentViewSet(
    VisibleMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Referral-ability assessments (转介绍能力): loyalty, network and willingness, each
    1-5, give A/B/C. The list is the history (filter ``?customer=``)."""

    queryset = ReferralAssessment.objects.all()
    serializer_class = s.ReferralAssessmentSerializer
    filterset_class = ReferralAssessmentFilterSet
    ordering_fields = ["created_at", "id"]

    @extend_schema(
        request=s.ReferralAssessmentCreateSerializer,
        responses={201: s.ReferralAssessmentSerializer},
    )
    def create(self, request: Request) -> Response:
        data = s.ReferralAssessmentCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        row = services.assess_referral(actor=request.user, **data.validated_data)
        return Response(s.ReferralAssessmentSerializer(row).data, status=status.HTTP_201_CREATED)


class KeyCustomerViewSet(VisibleMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Key customers (重点客户): each consultant submits at least the weekly minimum;
    managers review them daily; each ends won or defeated with a reason. Consultants
    see their own, managers their subtree's, administrators all."""

    queryset = KeyCustomer.objects.all()
    serializer_class = s.KeyCustomerSerializer
    filterset_class = KeyCustomerFilterSet
    ordering_fields = ["week", "expected_by", "created_at", "id"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("customer", "consultant")

    @extend_schema(
        request=s.KeyCustomerSubmitSerializer, responses={201: s.KeyCustomerSerializer(many=True)}
    )
    def create(self, request: Request) -> Response:
        """Submit key customers for this week (or the next), all or nothing."""
        data = s.KeyCustomerSubmitSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        rows = services.submit_key_customers(
            actor=request.user,
            week=data.validated_data["week"],
            items=[dict(item) for item in data.validated_data["items"]],
        )
        return Response(
            s.KeyCustomerSerializer(rows, many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.ReviewSerializer, responses=s.KeyCustomerSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: Any = None) -> Response:
        """A manager over the consultant's team reviews the key customer (daily)."""
        row = self.get_object()
        data = s.ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.review_key_customer(
            actor=request.user, key_customer=row, **data.validated_data
        )
        return Response(s.KeyCustomerSerializer(row).data)

    @extend_schema(request=s.CloseSerializer, responses=s.KeyCustomerSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: Any = None) -> Response:
        """Won, or defeated with a reason; the customer's stage follows (deal / lost)."""
        row = self.get_object()
        data = s.CloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.close_key_customer(
            actor=request.user, key_customer=row, **data.validated_data
        )
        return Response(s.KeyCustomerSerializer(row).data)

    @extend_schema(parameters=[WEEK], responses=s.BoardSerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def board(self, request: Request) -> Response:
        """Per consultant you may see: key customers submitted this week, the minimum,
        whether they are short (fewer than the minimum, or than their prospects if they
        have fewer) and whether they have any prospect at all."""
        week = week_of(request)
        minimum = services.grading_settings().weekly_minimum
        rows = reports.board(request.user, week, minimum)
        return Response(
            {
                "week": week.isoformat(),
                "minimum": minimum,
                "results": [row.as_json() for row in rows],
            }
        )

    @extend_schema(parameters=[WEEK], responses=s.SummarySerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def summary(self, request: Request) -> Response:
        """The week's key customers: wins and defeats with their reasons, close and
        defeat rates over all submitted, average sales cycle of the wins."""
        return Response(reports.summary(request.user, week_of(request)).as_json())


class ValueGradeViewSet(viewsets.GenericViewSet):
    """Value grades (客户分类) A/B/C from sales: the nightly job, or on demand."""

    queryset = CustomerGrade.objects.none()  # nothing is listed here; for the schema
    serializer_class = s.RecomputeSerializer
    pagination_class = None

    @extend_schema(
        request=s.RecomputeSerializer,
        responses={200: s.CustomerGradeSerializer, 202: s.QueuedSerializer},
    )
    @action(detail=False, methods=["post"])
    def recompute(self, request: Request) -> Response:
        """One customer (its owner, managers, administrators): recomputed at once and
        answered. Every customer (managers and administrators): queued for the worker,
        202."""
        data = s.RecomputeSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        customer = data.validated_data["customer"]
        if customer is None:
            if not services.can_recompute(request.user):
                raise services.deny()
            from kehu.grading.tasks import recompute_value_grades_task

            recompute_value_grades_task.enqueue()
            return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)
        services.recompute_value_grades(actor=request.user, customer=customer)
        grades = CustomerGrade.objects.filter(customer=customer).first() or CustomerGrade(
            customer=customer
        )
        return Response(s.CustomerGradeSerializer(grades).data)


class GradingSettingsView(APIView):
    """The grading configuration: everyone reads it, administrators change it."""

    @extend_schema(responses=s.GradingSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.GradingSettingsSerializer(services.grading_settings()).data)

    @extend_schema(request=s.GradingSettingsUpdateSerializer, responses=s.GradingSettingsSerializer)
    def patch(self, request: Request) -> Response:
        if not request.user.is_admin:
            raise services.deny()
        data = s.GradingSettingsUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.update_settings(actor=request.user, **data.validated_data)
        return Response(s.GradingSettingsSerializer(row).data)
