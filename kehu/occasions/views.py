"""Occasion pages: the monthly birthday calendar per team, the year calendar, and the
life-cycle and care settings. Thin: parse → access → service → render."""

from __future__ import annotations

import calendar as month_calendar
import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_service_errors
from kehu.occasions import birthdays, calendar, services
from kehu.occasions.api.views import calendar_body
from kehu.occasions.choices import CareKind
from kehu.occasions.forms import CareForm, InvitationForm, LifecycleRuleForm
from kehu.occasions.models import CareRule, InvitationSettings, LifecycleRule
from kehu.occasions.querysets import parse_month
from kehu.occasions.sources import care_map
from kehu.org.models import OrgNode

#: A month's calendar lists at most this many birthdays (a whole company's month can
#: hold thousands: pick a team).
MONTH_LIMIT = 500


def _first_error(exc: ValidationError) -> str:
    return next(iter(exc.messages), "")


@login_required
def birthday_calendar(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    error = ""
    raw_month = request.GET.get("month") or f"{today.year}-{today.month:02d}"
    try:
        year, month = parse_month(raw_month, today)
    except ValidationError as exc:
        error = _first_error(exc)
        year, month = today.year, today.month
    try:
        node = birthdays.team_for(user, request.GET.get("node"))
    except ValidationError as exc:
        error = _first_error(exc)
        node = None
    rows = list(birthdays.month_queryset(user, year, month, node)[: MONTH_LIMIT + 1])
    truncated = len(rows) > MONTH_LIMIT
    care = care_map()
    entries = [birthdays.as_row(r, care) for r in rows[:MONTH_LIMIT]]
    care_labels = dict(CareKind.choices)
    for entry in entries:
        entry["care_label"] = care_labels.get(entry["care"], entry["care"])
    by_day: dict[int, list[dict[str, Any]]] = {}
    for entry in entries:
        by_day.setdefault(entry["date"].day, []).append(entry)
    weeks = [
        [
            {
                "day": d,
                "items": by_day.get(d, []),
                "is_today": datetime.date(year, month, d) == today,
            }
            if d
            else None
            for d in week
        ]
        for week in month_calendar.Calendar(firstweekday=0).monthdayscalendar(year, month)
    ]
    first = datetime.date(year, month, 1)
    previous = first - datetime.timedelta(days=1)
    following = first + datetime.timedelta(days=32)
    context = {
        "year": year,
        "month": month,
        "month_value": f"{year}-{month:02d}",
        "previous": f"{previous.year}-{previous.month:02d}",
        "next": f"{following.year}-{following.month:02d}",
        "weeks": weeks,
        "entries": entries,
        "truncated": truncated,
        "limit": MONTH_LIMIT,
        "node": node,
        "teams": OrgNode.objects.visible_to(user).order_by("path"),
        "error": error,
    }
    if request.htmx:
        return render(request, "occasions/birthdays.html#month", context)
    return render(request, "occasions/birthdays.html", context)


@login_required
def year_calendar(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    raw = request.GET.get("year") or str(today.year)
    error = ""
    try:
        body = calendar_body(raw)
    except ValidationError as exc:
        error = _first_error(exc)
        body = calendar_body(str(today.year))
    months: dict[int, list[dict[str, Any]]] = {m: [] for m in range(1, 13)}
    for day in body["days"]:
        date = datetime.date.fromisoformat(day["date"])
        months[date.month].append({**day, "day": date})
    festivals = calendar.festivals(body["year"])
    return render(
        request,
        "occasions/calendar.html",
        {
            "body": body,
            "months": [(datetime.date(body["year"], m, 1), days) for m, days in months.items()],
            "festivals": festivals,
            "error": error,
            "previous": body["year"] - 1 if body["year"] > calendar.FIRST_YEAR else None,
            "next": body["year"] + 1 if body["year"] < calendar.LAST_YEAR else None,
        },
    )


# --- settings ----------------------------------------------------------------------------


@login_required
def lifecycle_settings(request: HttpRequest) -> HttpResponse:
    return _lifecycle_page(request, LifecycleRuleForm(prefix="new"))


def _lifecycle_page(
    request: HttpRequest, form: LifecycleRuleForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "occasions/lifecycle.html",
        {
            "rules": LifecycleRule.objects.order_by("id"),
            "form": form,
            "can_edit": request.user.is_admin,
        },
        status=status,
    )


def _rule_data(form: LifecycleRuleForm) -> dict[str, Any]:
    return dict(form.cleaned_data)


@login_required
@require_POST
def lifecycle_add(request: HttpRequest) -> HttpResponse:
    form = LifecycleRuleForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            services.create_lifecycle_rule(actor=request.user, **_rule_data(form))
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect("occasions:lifecycle")
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Rule added; its reminders are being computed."))
            return redirect("occasions:lifecycle")
    return _lifecycle_page(request, form, status=400)


@login_required
def lifecycle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = LifecycleRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404
    if request.method == "POST":
        form = LifecycleRuleForm(request.POST, prefix="rule")
        if form.is_valid():
            try:
                if request.POST.get("delete"):
                    services.delete_lifecycle_rule(actor=request.user, rule=rule)
                    messages.success(request, _("Rule deleted."))
                else:
                    services.update_lifecycle_rule(
                        actor=request.user, rule=rule, **_rule_data(form)
                    )
                    messages.success(request, _("Rule saved; its reminders are being recomputed."))
            except PermissionDenied as exc:
                messages.error(request, str(exc))
            except ValidationError as exc:
                apply_service_errors(form, exc)
                return render(
                    request, "occasions/rule_edit.html", {"rule": rule, "form": form}, status=400
                )
            return redirect("occasions:lifecycle")
        return render(request, "occasions/rule_edit.html", {"rule": rule, "form": form}, status=400)
    if not request.user.is_admin:
        raise Http404
    initial = {name: getattr(rule, name) for name in LifecycleRuleForm.base_fields}
    form = LifecycleRuleForm(initial=initial, prefix="rule")
    return render(request, "occasions/rule_edit.html", {"rule": rule, "form": form})


@login_required
def care_settings(request: HttpRequest) -> HttpResponse:
    invitation = InvitationSettings.objects.first() or InvitationSettings()
    form = InvitationForm(
        initial={"days_min": invitation.days_min, "days_max": invitation.days_max}
    )
    status = 200
    if request.method == "POST":
        try:
            if "relationship" in request.POST:
                care = CareForm(request.POST)
                if not care.is_valid():
                    raise ValidationError({"care": [_("Choose a kind of care.")]})
                services.set_care_rule(
                    actor=request.user,
                    relationship=request.POST["relationship"],
                    care=care.cleaned_data["care"],
                )
            else:
                form = InvitationForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(form.errors.as_data())
                services.set_invitation_window(actor=request.user, **form.cleaned_data)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 400
        else:
            messages.success(request, _("Saved."))
            return redirect("occasions:care")
    return render(
        request,
        "occasions/care.html",
        {
            "rules": CareRule.objects.order_by("id"),
            "care_choices": CareKind.choices,
            "form": form,
            "can_edit": request.user.is_admin,
        },
        status=status,
    )
