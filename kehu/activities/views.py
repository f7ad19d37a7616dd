"""Follow-ups and stage changes, posted from the customer page. Thin: parse → access →
service → answer (the customer page, or its follow-up part for htmx)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.activities import services
from kehu.activities.forms import ActivityForm, StageForm
from kehu.core.forms import apply_service_errors
from kehu.customers.views import (
    customer_for_page,
    denied,
    render_detail,
    render_followup,
    shows_numbers,
)


@login_required
@require_POST
def log(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a follow-up (call, visit, message, note) on a customer."""
    user = request.user
    customer = customer_for_page(request, pk)
    form = ActivityForm(request.POST)
    try:
        if not shows_numbers(user):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.log_activity(actor=user, customer=customer, **form.arguments())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                customer = customer_for_page(request, pk)
                if request.htmx:
                    return render_followup(request, customer, saved=True)
                messages.success(request, _("Follow-up saved."))
                return redirect("customers:detail", pk=customer.pk)
    except PermissionDenied as exc:
        return denied(request, customer, exc)
    if request.htmx:
        return render_followup(request, customer, activity_form=form)
    return render_detail(request, customer, activity_form=form)


@login_required
@require_POST
def stage(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a customer through the funnel (lost and moving back need a reason)."""
    user = request.user
    customer = customer_for_page(request, pk)
    form = StageForm(request.POST)
    try:
        if not shows_numbers(user):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.change_stage(
                    actor=user,
                    customer=customer,
                    stage=form.cleaned_data["stage"],
                    reason=form.reason_text(),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Stage changed."))
                return redirect("customers:detail", pk=customer.pk)
    except PermissionDenied as exc:
        return denied(request, customer, exc)
    return render_detail(request, customer, stage_form=form)
