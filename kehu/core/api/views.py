"""API-wide views: the audit trail, and JSON 404s for /api/ paths no route matches."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework import viewsets

from kehu.core.api.errors import json_error_response
from kehu.core.api.serializers import AuditEventSerializer
from kehu.core.filtersets import AuditEventFilterSet
from kehu.core.models import AuditEvent


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_error_response(request, 404, "not_found", _("Not found."))


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail: admins see all of it, managers what people in their subtree did."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> Any:
        return AuditEvent.objects.visible_to(self.request.user)
