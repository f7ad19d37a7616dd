"""Incentive pages: the scheme editor with its approval, the monthly run with all
statements, my statement, the pool ledger and the targets entry. Thin: parse → access →
service → render."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_service_errors
from kehu.core.querysets import get_visible_or_404
from kehu.incentives import services
from kehu.incentives.api.views import visible_statements, xlsx_response
from kehu.incentives.choices import SchemeStatus
from kehu.incentives.forms import (
    DecisionForm,
    FieldCampaignForm,
    RunForm,
    SchemeForm,
    TargetForm,
)
from kehu.incentives.models import (
    FieldCampaign,
    MonthlyRun,
    PoolEntry,
    RegionTarget,
    Scheme,
    Statement,
)
from kehu.org.models import OrgNode

KIND_LABELS = {
    "bonus": _lazy("Bonus"),
    "penalty": _lazy("Penalty"),
    "clawback": _lazy("Clawback"),
    "fraud_penalty": _lazy("Fraud penalty"),
    "field_pay": _lazy("Field pay"),
    "commission": _lazy("Commission"),
    "commission_clawback": _lazy("Commission clawed back"),
}


def can_read(user: Any) -> bool:
    """Schemes, runs, the pool and targets: managers and administrators."""
    return bool(user.is_admin or user.is_manager)


def _require_reader(user: Any) -> None:
    if not can_read(user):
        raise Http404


def _denied(request: HttpRequest, exc: PermissionDenied) -> None:
    messages.error(request, str(exc) or _("You are not allowed to do this."))


def _service_error(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# ---------------------------------------------------------------------------- schemes


@login_required
def schemes(request: HttpRequest) -> HttpResponse:
    """Every scheme version with its status; administrators copy one into a draft."""
    _require_reader(request.user)
    rows = Scheme.objects.visible_to(request.user).select_related("submitted_by", "approved_by")
    return render(request, "incentives/schemes.html", {"schemes": rows})


@login_required
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The editor: a form over the parameters, editable while the version is a draft;
    submit it, and another administrator approves or rejects it."""
    _require_reader(request.user)
    scheme = get_visible_or_404(Scheme.objects, request.user, pk=pk)
    editable = request.user.is_admin and scheme.status in (
        SchemeStatus.DRAFT,
        SchemeStatus.REJECTED,
    )
    form = SchemeForm(request.POST or None, scheme=scheme)
    if request.method == "POST":
        if not editable:
            raise Http404
        if form.is_valid():
            try:
                services.update_scheme(
                    actor=request.user,
                    scheme=scheme,
                    name=form.cleaned_data["name"],
                    valid_from=form.cleaned_data["valid_from"],
                    valid_to=form.cleaned_data["valid_to"],
                    params=form.params(),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except PermissionDenied as exc:
                _denied(request, exc)
            else:
                messages.success(request, _("The draft is saved."))
                return redirect("incentives:scheme", pk=scheme.pk)
    if not editable:
        for field in form.fields.values():
            field.disabled = True
    can_decide = (
        request.user.is_admin
        and scheme.status == SchemeStatus.PENDING
        and scheme.submitted_by_id != request.user.pk
    )
    return render(
        request,
        "incentives/scheme.html",
        {
            "scheme": scheme,
            "form": form,
            "editable": editable,
            "can_decide": can_decide,
            "decision_form": DecisionForm(),
            "funding_order": ", ".join(scheme.params.get("funding_order", [])),
        },
    )


@login_required
@require_POST
def scheme_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Copy, submit, approve or reject a version."""
    _require_reader(request.user)
    scheme = get_visible_or_404(Scheme.objects, request.user, pk=pk)
    note = DecisionForm(request.POST)
    note_text = note.cleaned_data["note"] if note.is_valid() else ""
    target = scheme
    try:
        if action == "copy":
            target = services.copy_scheme(actor=request.user, scheme=scheme)
            messages.success(request, _("Draft %(scheme)s created.") % {"scheme": target})
        elif action == "submit":
            services.submit_scheme(actor=request.user, scheme=scheme)
            messages.success(request, _("Submitted for approval by another administrator."))
        elif action == "approve":
            services.approve_scheme(actor=request.user, scheme=scheme, note=note_text)
            messages.success(request, _("Approved."))
        elif action == "reject":
            services.reject_scheme(actor=request.user, scheme=scheme, note=note_text)
            messages.success(request, _("Rejected."))
        else:
            raise Http404
    except ValidationError as exc:
        _service_error(request, exc)
    except PermissionDenied as exc:
        _denied(request, exc)
    return redirect("incentives:scheme", pk=target.pk)


# ---------------------------------------------------------------------------- runs


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    """The monthly runs; administrators run or re-run a month (the button shows progress
    while the month is computed)."""
    _require_reader(request.user)
    form = RunForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_admin:
            raise Http404
        if form.is_valid():
            try:
                run = services.run_month(actor=request.user, month=form.cleaned_data["month"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("%(month)s has been run.") % {"month": run.month})
                later = list(
                    MonthlyRun.objects.later_than(run.month).values_list("month", flat=True)
                )
                if later:
                    messages.info(
                        request,
                        _("The later months already run were re-run after it: %(months)s.")
                        % {"months": ", ".join(later)},
                    )
                url = reverse("incentives:run", args=[run.month])
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
        if request.htmx:
            return render(request, "incentives/runs.html#run-form", {"form": form})
    rows = MonthlyRun.objects.visible_to(request.user).select_related("scheme", "ran_by")
    return render(request, "incentives/runs.html", {"runs": rows, "form": form})


def _run_or_404(request: HttpRequest, month: str) -> MonthlyRun:
    _require_reader(request.user)
    return get_visible_or_404(
        MonthlyRun.objects.select_related("scheme", "ran_by", "pool_entry"),
        request.user,
        month=month,
    )


@login_required
def run_detail(request: HttpRequest, month: str) -> HttpResponse:
    """A run: the pool entry, a chart of the totals and every statement you may see."""
    run = _run_or_404(request, month)
    statements = list(visible_statements(request.user, run))
    chart = {
        "names": [str(s.staff) for s in statements],
        "values": [float(s.total) for s in statements],
    }
    total = sum((s.total for s in statements), Decimal(0))
    # Field pay and commissions are not funded by the pool (engine.FIELD_KINDS).
    field_total = run.field_total
    return render(
        request,
        "incentives/run.html",
        {
            "run": run,
            "statements": statements,
            "chart": chart,
            "total": total,
            "field_total": field_total,
            "pool": getattr(run, "pool_entry", None),
        },
    )


@login_required
def run_xlsx(request: HttpRequest, month: str) -> HttpResponse:
    """The statements you may see of a run, as an XLSX workbook."""
    run = _run_or_404(request, month)
    return xlsx_response(run, visible_statements(request.user, run))


# ---------------------------------------------------------------------------- statements


@login_required
def statement(request: HttpRequest) -> HttpResponse:
    """My statement: each person their own; managers pick a person of their subtree,
    administrators anyone. ``?month=YYYY-MM&staff=<id>``."""
    user = request.user
    visible = Statement.objects.visible_to(user)
    months = list(visible.order_by("-month").values_list("month", flat=True).distinct())
    month = request.GET.get("month") or (months[0] if months else "")
    if month and month not in months:
        raise Http404
    people = list(
        visible.filter(month=month).select_related("staff").order_by("staff_id") if month else []
    )
    chosen = None
    staff_id = request.GET.get("staff")
    if staff_id:
        chosen = next((s for s in people if str(s.staff_id) == staff_id), None)
        if chosen is None:
            raise Http404
    else:
        chosen = next((s for s in people if s.staff_id == user.pk), people[0] if people else None)
    lines = list(chosen.lines.select_related("customer").order_by("position")) if chosen else []
    for line in lines:
        line.kind_label = KIND_LABELS.get(line.kind, line.kind)  # type: ignore[attr-defined]
    return render(
        request,
        "incentives/statement.html",
        {
            "months": months,
            "month": month,
            "people": people,
            "chosen": chosen,
            "lines": lines,
        },
    )


# ---------------------------------------------------------------------------- pool


@login_required
def pool(request: HttpRequest) -> HttpResponse:
    """The penalty pool ledger (rule 10), month by month, with its balance over time."""
    _require_reader(request.user)
    entries = list(PoolEntry.objects.visible_to(request.user).order_by("month"))
    chart = {
        "names": [e.month for e in entries],
        "series": {
            str(_("Closing balance")): [float(e.closing) for e in entries],
            str(_("Penalties")): [float(e.penalties) for e in entries],
            str(_("Bonuses")): [float(e.bonuses) for e in entries],
            str(_("From the management fund")): [float(e.from_management_fund) for e in entries],
        },
    }
    return render(request, "incentives/pool.html", {"entries": entries[::-1], "chart": chart})


# ---------------------------------------------------------------------------- targets


@login_required
def targets(request: HttpRequest) -> HttpResponse:
    """Regions' monthly targets: entered by the managers over the region before 08:00 on
    the 6th (Asia/Shanghai); administrators may enter a late one."""
    _require_reader(request.user)
    user = request.user
    regions = (
        OrgNode.objects.all()
        if user.is_admin
        else OrgNode.objects.filter(pk__in=user.managed_node_ids)
    ).filter(kind="region")
    form = TargetForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_target(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except PermissionDenied as exc:
            _denied(request, exc)
        else:
            messages.success(request, _("The target is saved."))
            return redirect("incentives:targets")
    rows = (
        RegionTarget.objects.visible_to(user)
        .select_related("region", "submitted_by")
        .order_by("-month", "region__name")[:200]
    )
    return render(request, "incentives/targets.html", {"form": form, "targets": rows})


@login_required
def campaigns(request: HttpRequest) -> HttpResponse:
    """Field campaigns' own per-node pay for promoters: managers add them on their
    subtree, administrators anywhere (DOMAIN §7)."""
    _require_reader(request.user)
    user = request.user
    nodes = (
        OrgNode.objects.all()
        if user.is_admin
        else OrgNode.objects.filter(pk__in=user.managed_node_ids)
    )
    form = FieldCampaignForm(request.POST or None, nodes=nodes)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_field_campaign(actor=user, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except PermissionDenied as exc:
            _denied(request, exc)
        else:
            messages.success(request, _("The campaign is saved."))
            return redirect("incentives:campaigns")
    rows = FieldCampaign.objects.visible_to(user).select_related("node")[:200]
    return render(request, "incentives/campaigns.html", {"form": form, "campaigns": rows})
