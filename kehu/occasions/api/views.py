"""The occasions API: the year calendar, the monthly birthday calendar, life-cycle and
care rules, the invitation window, and life-cycle reminders. Thin: parse → access
(visible_to) → service → serialise."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.occasions import birthdays, calendar, services
from kehu.occasions.api import serializers as s
from kehu.occasions.filtersets import LifecycleReminderFilterSet
from kehu.occasions.models import (
    CareRule,
    InvitationSettings,
    LifecycleReminder,
    LifecycleRule,
    OccasionDate,
)
from kehu.occasions.querysets import parse_month
from kehu.occasions.sources import care_map


def calendar_body(raw: Any) -> dict[str, Any]:
    """The body of GET /api/v1/calendar/ for ``?year=`` (raises ValidationError)."""
    message = _("Give a year from %(first)d to %(last)d.") % {
        "first": calendar.FIRST_YEAR,
        "last": calendar.LAST_YEAR,
    }
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 4:
        raise ValidationError({"year": [message]})
    year = int(raw)
    try:
        days = calendar.year_days(year)
    except calendar.YearOutOfRange:
        raise ValidationError({"year": [message]}) from None
    first, last = calendar.holiday_coverage()
    body: dict[str, Any] = {
        "year": year,
        "days": days,
        "holidays_covered": calendar.is_covered(year),
        "holiday_coverage": [first, last],
    }
    if not body["holidays_covered"]:
        body["notice"] = _(
            "Public holidays and adjusted working days for %(year)d are not in the installed "
            "holiday data (it covers %(first)d-%(last)d): only the solar terms are listed. "
            "Update the chinesecalendar package when the State Council publishes the year."
        ) % {"year": year, "first": first, "last": last}
    return body


class CalendarView(APIView):
    """The 24 solar terms (Beijing time), mainland public holidays (days off) and
    adjusted working days of a year."""

    @extend_schema(
        parameters=[OpenApiParameter("year", OpenApiTypes.INT, required=True)],
        responses=s.CalendarSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(calendar_body(request.query_params.get("year")))


class BirthdayView(GenericAPIView):
    """Birthdays in a month of the customers you may see, on their solar day (lunar
    birthdays converted, their lunar date shown), optionally for one team's subtree."""

    serializer_class = s.BirthdaySerializer
    queryset = OccasionDate.objects.none()  # the schema's model; get() builds the real one
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, required=True, description="YYYY-MM"),
            OpenApiParameter("node", OpenApiTypes.INT, description="a team you can see"),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses=s.BirthdaySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        year, month = parse_month(request.query_params.get("month"), timezone.localdate())
        node = birthdays.team_for(request.user, request.query_params.get("node"))
        queryset = birthdays.month_queryset(request.user, year, month, node)
        page = self.paginate_queryset(queryset)
        care = care_map()
        rows = [birthdays.as_row(row, care) for row in page]
        return self.get_paginated_response(s.BirthdaySerializer(rows, many=True).data)


class LifecycleRuleViewSet(viewsets.ModelViewSet):
    """Product life-cycle rules: everyone reads them, administrators change them. A
    change rebuilds the rule's reminders in the background."""

    queryset = LifecycleRule.objects.all()
    serializer_class = s.LifecycleRuleSerializer
    filterset_fields = ["kind", "is_active"]
    ordering_fields = ["id", "name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _out(self, rule: LifecycleRule, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.LifecycleRuleSerializer(rule).data, status=code)

    @extend_schema(
        request=s.LifecycleRuleWriteSerializer, responses={201: s.LifecycleRuleSerializer}
    )
    def create(self, request: Request) -> Response:
        data = s.LifecycleRuleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.create_lifecycle_rule(actor=request.user, **data.validated_data)
        return self._out(rule, status.HTTP_201_CREATED)

    @extend_schema(request=s.LifecycleRuleWriteSerializer, responses=s.LifecycleRuleSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        rule = self.get_object()
        data = s.LifecycleRuleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.update_lifecycle_rule(actor=request.user, rule=rule, **data.validated_data)
        return self._out(rule)

    def destroy(self, request: Request, pk: Any = None) -> Response:
        services.delete_lifecycle_rule(actor=request.user, rule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CareRuleViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The care an occasion gets by relationship category: everyone reads, administrators
    change the care (``PATCH {"care": "visit_gift"}``)."""

    queryset = CareRule.objects.all()
    serializer_class = s.CareRuleSerializer
    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=s.CareRuleUpdateSerializer, responses=s.CareRuleSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rule = self.get_object()
        data = s.CareRuleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.set_care_rule(
            actor=request.user, relationship=rule.relationship, care=data.validated_data["care"]
        )
        return Response(s.CareRuleSerializer(rule).data)


class InvitationSettingsView(APIView):
    """How many days before an A customer's birthday the invitation is due."""

    @extend_schema(responses=s.InvitationSettingsSerializer)
    def get(self, request: Request) -> Response:
        row = InvitationSettings.objects.first() or InvitationSettings()
        return Response(s.InvitationSettingsSerializer(row).data)

    @extend_schema(
        request=s.InvitationSettingsUpdateSerializer, responses=s.InvitationSettingsSerializer
    )
    def patch(self, request: Request) -> Response:
        data = s.InvitationSettingsUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.set_invitation_window(actor=request.user, **data.validated_data)
        return Response(s.InvitationSettingsSerializer(row).data)


class LifecycleReminderViewSet(viewsets.ReadOnlyModelViewSet):
    """Life-cycle reminders of the customers you may see, soonest first. Filter with
    ``due_after`` / ``due_before`` (YYYY-MM-DD) and ``kind``."""

    queryset = LifecycleReminder.objects.all()
    serializer_class = s.LifecycleReminderSerializer
    filterset_class = LifecycleReminderFilterSet
    ordering_fields = ["due_on", "id"]

    def get_queryset(self) -> Any:
        return (
            LifecycleReminder.objects.visible_to(self.request.user)
            .select_related("customer", "purchase", "rule")
            .order_by("due_on", "id")
        )
