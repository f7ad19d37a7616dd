"""The agenda API: one person's day, the managers' overdue view, the cadence rules and
the marketing milestones. Thin: parse → access → service → serialise."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.cadence import rules, services
from kehu.cadence.agenda import build_agenda, can_see_team, parse_day, team_overdue
from kehu.cadence.api import serializers as s
from kehu.cadence.models import CadenceRule, Milestone
from kehu.cadence.sources import KINDS
from kehu.org.api.views import VisibleMixin

DATE = OpenApiParameter(
    "date",
    OpenApiTypes.DATE,
    description="YYYY-MM-DD; today (Asia/Shanghai) when absent.",
)


class AgendaView(APIView):
    """Your agenda for a day: customers overdue or due (call_due, callback) and the
    occasions and reviews of that day, overdue first."""

    @extend_schema(
        parameters=[
            DATE,
            OpenApiParameter(
                "kind", OpenApiTypes.STR, description="Only items of this kind.", enum=KINDS
            ),
        ],
        responses=s.AgendaSerializer,
    )
    def get(self, request: Request) -> Response:
        day = parse_day(request.query_params.get("date"))
        kind = request.query_params.get("kind")
        if kind is not None and kind not in KINDS:
            raise ValidationError(
                {"kind": [_("Choose one of: %(valid)s.") % {"valid": ", ".join(KINDS)}]}
            )
        items = build_agenda(request.user, day)
        if kind:
            items = [i for i in items if i.kind == kind]
        return Response({"date": day.isoformat(), "items": [i.as_json() for i in items]})


class TeamAgendaView(APIView):
    """Managers and administrators: overdue follow-ups per person of the subtree."""

    @extend_schema(parameters=[DATE], responses=s.TeamAgendaSerializer)
    def get(self, request: Request) -> Response:
        if not can_see_team(request.user):
            raise Http404
        day = parse_day(request.query_params.get("date"))
        people = team_overdue(request.user, day)
        return Response(
            {
                "date": day.isoformat(),
                "people": [
                    {"staff": p.staff_id, "name": p.name, "node": p.node, "overdue": p.overdue}
                    for p in people
                ],
            }
        )


class CadenceRuleViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The cadence per intent grade (A, B, C, D) and the callback interval: everyone
    reads them, administrators change them (PATCH /cadence-rules/{grade}/)."""

    queryset = CadenceRule.objects.all()
    serializer_class = s.CadenceRuleSerializer
    pagination_class = None
    lookup_field = "grade"
    lookup_value_regex = "[^/]+"

    @extend_schema(request=s.CadenceRuleUpdateSerializer, responses=s.CadenceRuleSerializer)
    def partial_update(self, request: Request, grade: str = "") -> Response:
        if grade not in rules.RULE_KEYS:
            raise ValidationError(
                {"grade": [_("Choose one of: %(valid)s.") % {"valid": ", ".join(rules.RULE_KEYS)}]}
            )
        data = s.CadenceRuleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "interval_days" in fields and fields["interval_days"] is None:
            fields.pop("interval_days")
            fields.setdefault("uses_milestones", True)
        rule = services.update_rule(actor=request.user, grade=grade, **fields)
        return Response(s.CadenceRuleSerializer(rule).data)


class MilestoneViewSet(
    VisibleMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Marketing milestones (营销节点): D customers are due on the next one. Everyone
    reads those that concern them; managers manage those of their subtree,
    administrators all."""

    queryset = Milestone.objects.all()
    serializer_class = s.MilestoneSerializer
    ordering_fields = ["date", "id"]
    filterset_fields = ["node", "project"]

    @extend_schema(request=s.MilestoneCreateSerializer, responses={201: s.MilestoneSerializer})
    def create(self, request: Request) -> Response:
        data = s.MilestoneCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        milestone = services.create_milestone(actor=request.user, **data.validated_data)
        return Response(s.MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MilestoneUpdateSerializer, responses=s.MilestoneSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        milestone = self.get_object()
        data = s.MilestoneUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        milestone = services.update_milestone(
            actor=request.user, milestone=milestone, **data.validated_data
        )
        return Response(s.MilestoneSerializer(milestone).data)

    def perform_destroy(self, instance: Milestone) -> None:
        services.delete_milestone(actor=self.request.user, milestone=instance)
