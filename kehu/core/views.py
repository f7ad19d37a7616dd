from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.core.api.errors import json_error_response
from kehu.core.filtersets import AuditEventFilterSet
from kehu.core.models import AuditEvent


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Until the agenda exists: the sales side lands on its customers, promoters on the
    phone registration page, brokers on their portal, anyone else on their profile."""
    user = request.user
    if user.is_admin or user.has_any_role("manager", "consultant", "commissioner"):
        return redirect("customers:list")
    if user.has_role("promoter"):
        return redirect("leads:field")
    if user.has_role("broker"):
        return redirect("leads:broker")
    return redirect("org:profile")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_admin or user.is_manager):
        raise Http404
    queryset = AuditEvent.objects.visible_to(user).select_related("actor")
    filterset = AuditEventFilterSet(request.GET, queryset=queryset)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    template = "core/audit_log.html#rows" if request.htmx else "core/audit_log.html"
    return render(request, template, {"filter": filterset, "page": page})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error_response(request, 404, "not_found", _("Not found."))
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error_response(
            request, 500, "server_error", _("Something went wrong on our side; it was logged.")
        )
    return render(request, "500.html", status=500)
