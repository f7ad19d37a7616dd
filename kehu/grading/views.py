"""Grading pages: the key-customer board (who is short, submissions per person, the
daily review list, the weekly summary), a customer's grades panel (loaded by htmx on
the customer page), the assessment page with its live intent preview, and the settings.
Thin: parse → access → service → render."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.core.forms import apply_service_errors
from kehu.core.querysets import get_visible_or_404
from kehu.customers.models import Customer
from kehu.grading import reports, rules, services
from kehu.grading.forms import CloseForm, IntentForm, ReferralForm, SettingsForm, SubmitForm
from kehu.grading.models import CustomerGrade, IntentAssessment, KeyCustomer
from kehu.grading.querysets import grading_customer_q
from kehu.org.models import Staff

HISTORY = 10
CHOICES = 200


def uses_board(user: Staff) -> bool:
    return user.is_admin or user.has_any_role("manager", "consultant")


def reviews(user: Staff) -> bool:
    return user.is_admin or user.is_manager


def _errors(exc: Exception) -> str:
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("You are not allowed to do this.")
    return " ".join(getattr(exc, "messages", [str(exc)]))


def _week(request: HttpRequest) -> datetime.date:
    day = parse_date(request.GET.get("week", "") or "") if request.GET.get("week") else None
    return rules.week_start(day or timezone.localdate())


def _board_url(week: datetime.date) -> str:
    return f"{reverse('grading:board')}?week={week.isoformat()}"


# --- the board ----------------------------------------------------------------------------


@login_required
def board(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not uses_board(user):
        raise Http404
    try:
        week = _week(request)
    except ValueError:
        week = rules.week_start(timezone.localdate())
    today = timezone.localdate()
    minimum = services.grading_settings().weekly_minimum
    rows = reports.board(user, week, minimum)
    summary = reports.summary(user, week)
    trend = reports.weekly_counts(user, 8, today)
    review = list(reports.review_list(user, today)) if reviews(user) else []
    mine: list[KeyCustomer] = []
    submit_form = None
    if user.has_role("consultant"):
        mine = list(
            KeyCustomer.objects.filter(consultant=user, week=week)
            .select_related("customer")
            .order_by("status", "expected_by", "id")
        )
        if week >= rules.week_start(today):
            taken = {k.customer_id for k in mine}
            prospects = [
                c
                for c in Customer.objects.live()
                .filter(owner=user, stage__in=services.PROSPECT_STAGES)
                .order_by("-last_followup_at", "-id")[:CHOICES]
                if c.pk not in taken
            ]
            submit_form = SubmitForm(customers=prospects)
    chart = {
        "names": [str(r.consultant) for r in rows],
        "submitted": [r.submitted for r in rows],
        "required": [r.required for r in rows],
        "minimum": minimum,
        "weeks": [w["week"].isoformat() for w in trend],
        "trend_submitted": [w["submitted"] for w in trend],
        "trend_won": [w["won"] for w in trend],
        "trend_defeated": [w["defeated"] for w in trend],
        "labels": {
            "submitted": _("Submitted"),
            "minimum": _("Minimum"),
            "won": _("Won"),
            "defeated": _("Defeated"),
        },
    }
    return render(
        request,
        "grading/board.html",
        {
            "week": week,
            "previous_week": week - datetime.timedelta(days=7),
            "next_week": week + datetime.timedelta(days=7),
            "is_this_week": week == rules.week_start(today),
            "minimum": minimum,
            "rows": rows,
            "short": [r for r in rows if r.short],
            "summary": summary,
            "review": review,
            "reviews": reviews(user),
            "mine": mine,
            "submit_form": submit_form,
            "close_form": CloseForm(),
            "chart": chart,
        },
    )


@login_required
@require_POST
def submit(request: HttpRequest) -> HttpResponse:
    """A consultant adds one of their customers to this week's key customers."""
    user = request.user
    if not user.has_role("consultant"):
        raise Http404
    week = rules.week_start(timezone.localdate())
    chosen = request.POST.get("customer", "")
    customers = (
        list(Customer.objects.live().filter(owner=user, pk=int(chosen)))
        if chosen.isascii() and chosen.isdigit() and len(chosen) < 19
        else []
    )
    form = SubmitForm(request.POST, customers=customers)
    if form.is_valid():
        customer = customers[0]
        try:
            services.submit_key_customers(
                actor=user,
                items=[{"customer": customer, "horizon": form.cleaned_data["horizon"]}],
                week=week,
            )
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(
                request, _("%(customer)s is a key customer this week.") % {"customer": customer}
            )
    else:
        messages.error(request, _("Choose one of your prospects and a horizon."))
    return redirect(_board_url(week))


@login_required
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    if not reviews(user):
        raise Http404
    row = get_visible_or_404(
        KeyCustomer.objects.select_related("customer", "consultant"), user, pk=pk
    )
    error = ""
    try:
        services.review_key_customer(
            actor=user, key_customer=row, note=request.POST.get("note", "")
        )
    except (PermissionDenied, ValidationError) as exc:
        error = _errors(exc)
    if request.htmx:
        return render(
            request, "grading/board.html#review-row", {"k": row, "done": not error, "error": error}
        )
    if error:
        messages.error(request, error)
    return redirect(reverse("grading:board"))


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    row = get_visible_or_404(KeyCustomer.objects.select_related("customer"), user, pk=pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.close_key_customer(actor=user, key_customer=row, **form.cleaned_data)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("Closed: %(customer)s.") % {"customer": row.customer})
    else:
        messages.error(request, _("Choose won or defeated."))
    return redirect(_board_url(row.week))


# --- a customer's grades ------------------------------------------------------------------


def _gradable(user: Staff, pk: int) -> Customer:
    if not user.is_authenticated:
        raise Http404
    query = grading_customer_q(user)
    customers = Customer.objects.live().select_related("node")
    if query is not None:
        customers = customers.filter(query)
    try:
        return customers.get(pk=pk)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


def _grades_context(customer: Customer) -> dict[str, Any]:
    history = list(
        IntentAssessment.objects.filter(customer=customer).select_related("assessed_by")[:HISTORY]
    )
    grades = CustomerGrade.objects.filter(customer=customer).first()
    return {
        "customer": customer,
        "history": [(a, rules.describe_intent(a.explanation)) for a in history],
        "latest": history[0] if history else None,
        "latest_text": rules.describe_intent(history[0].explanation) if history else "",
        "grades": grades,
    }


@login_required
@require_GET
def customer_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The grades card of the customer page (htmx): intent grade and why, its history,
    value grade and why, referral grade. 404 for people who do not see grades."""
    customer = _gradable(request.user, pk)
    context = _grades_context(customer)
    context["can_grade"] = services.can_grade(request.user, customer)
    return render(request, "grading/_panel.html", context)


@login_required
def assess(request: HttpRequest, pk: int) -> HttpResponse:
    """Assess a customer: the six judgements (the grade shows live as boxes are ticked),
    referral ability, and recomputing the value grade."""
    user = request.user
    customer = _gradable(user, pk)
    if not services.can_grade(user, customer):
        raise Http404
    latest = IntentAssessment.objects.filter(customer=customer).first()
    intent_form = IntentForm(initial=latest.judgements() if latest else None)
    referral_form = ReferralForm()
    if request.method == "POST":
        which = request.POST.get("form")
        try:
            if which == "intent":
                intent_form = IntentForm(request.POST)
                if intent_form.is_valid():
                    row = services.assess_intent(
                        actor=user,
                        customer=customer,
                        judgements=intent_form.judgements(),
                        note=intent_form.cleaned_data["note"],
                    )
                    messages.success(request, _("Intent grade: %(grade)s.") % {"grade": row.grade})
                    return redirect("customers:detail", customer.pk)
            elif which == "referral":
                referral_form = ReferralForm(request.POST)
                if referral_form.is_valid():
                    row = services.assess_referral(
                        actor=user, customer=customer, **referral_form.cleaned_data
                    )
                    messages.success(
                        request, _("Referral grade: %(grade)s.") % {"grade": row.grade}
                    )
                    return redirect("customers:detail", customer.pk)
            elif which == "value":
                services.recompute_value_grades(actor=user, customer=customer)
                messages.success(request, _("Value grade recomputed."))
                return redirect("customers:detail", customer.pk)
        except ValidationError as exc:
            apply_service_errors(referral_form if which == "referral" else intent_form, exc)
        except PermissionDenied as exc:
            messages.error(request, _errors(exc))
    grade, explanation = rules.intent_grade(
        latest.judgements()
        if latest and request.method != "POST"
        else (intent_form.judgements() if intent_form.is_bound and intent_form.is_valid() else {})
    )
    context = _grades_context(customer)
    context.update(
        {
            "intent_form": intent_form,
            "referral_form": referral_form,
            "preview_grade": grade,
            "preview_text": rules.describe_intent(explanation),
        }
    )
    return render(request, "grading/assess.html", context)


@login_required
@require_GET
def intent_preview(request: HttpRequest) -> HttpResponse:
    """The grade the ticked judgements give and why (pure: nothing is read or saved)."""
    form = IntentForm(request.GET)
    judgements = form.judgements() if form.is_valid() else {}
    grade, explanation = rules.intent_grade(judgements)
    return render(
        request,
        "grading/assess.html#preview",
        {"preview_grade": grade, "preview_text": rules.describe_intent(explanation)},
    )


# --- settings ----------------------------------------------------------------------------


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_admin:
        raise Http404
    row = services.grading_settings()
    fields = list(SettingsForm.base_fields)
    form = SettingsForm(initial={f: getattr(row, f) for f in fields})
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_settings(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Grading settings saved."))
                return redirect("grading:settings")
    return render(request, "grading/settings.html", {"form": form, "row": row})
