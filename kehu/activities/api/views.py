"""The follow-up API. Thin: parse → access (visible_to) → service → serialise."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.activities import services
from kehu.activities.api import serializers as s
from kehu.activities.filtersets import ActivityFilterSet
from kehu.activities.models import Activity
from kehu.org.api.views import VisibleMixin


class ActivityViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """Follow-ups (calls, visits, messages, notes) on the customers you may see."""

    queryset = Activity.objects.all()
    serializer_class = s.ActivitySerializer
    filterset_class = ActivityFilterSet
    ordering_fields = ["occurred_at", "id"]

    @extend_schema(request=s.ActivityCreateSerializer, responses={201: s.ActivitySerializer})
    def create(self, request: Request) -> Response:
        """Record a follow-up: it resets sleeping, and a visit moves a lead to visited."""
        data = s.ActivityCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        activity = services.log_activity(actor=request.user, **data.validated_data)
        return Response(s.ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)
