"""Pages: My day (the agenda, phone first, one tap to log a call), the managers' overdue
view with its drill-down, and the cadence settings. Thin: parse → access → service →
render."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.activities import services as activities
from kehu.activities.choices import ActivityKind
from kehu.cadence import rules, services
from kehu.cadence.agenda import (
    CONTACT_LIMIT,
    build_agenda,
    can_see_team,
    parse_day,
    person_overdue,
    team_overdue,
)
from kehu.cadence.models import CadenceRule, Milestone
from kehu.core.querysets import get_visible_or_404
from kehu.customers.models import Customer
from kehu.org.models import OrgNode

GROUPS = (
    ("overdue", ("overdue",)),
    ("due", ("call_due", "callback")),
    ("occasions", None),
)


def _day(request: HttpRequest) -> tuple[datetime.date, str]:
    """The requested day, or today with an error message for a bad one (a page never
    answers a bad date with an error page)."""
    try:
        return parse_day(request.GET.get("date")), ""
    except ValidationError as exc:
        return timezone.localdate(), " ".join(exc.messages)


def has_agenda(user: Any) -> bool:
    """Everyone who owns customers: consultants, managers, administrators."""
    return bool(
        user.is_authenticated and (user.is_admin or user.has_any_role("consultant", "manager"))
    )


def group_items(items: list[Any]) -> list[dict[str, Any]]:
    titles = {
        "overdue": _("Overdue"),
        "due": _("Due today"),
        "occasions": _("Occasions and reviews"),
    }
    groups = []
    for key, kinds in GROUPS:
        if kinds is None:
            chosen = [i for i in items if i.kind not in ("overdue", "call_due", "callback")]
        else:
            chosen = [i for i in items if i.kind in kinds]
        groups.append({"key": key, "title": titles[key], "items": chosen})
    return groups


KIND_LABELS = {
    "call_due": _("Call due"),
    "overdue": _("Overdue"),
    "callback": _("3-month callback"),
    "birthday": _("Birthday"),
    "anniversary": _("Anniversary"),
    "holiday": _("Holiday"),
    "solar_term": _("Solar term"),
    "lifecycle": _("Life-cycle reminder"),
    "invitation": _("Invitation"),
    "key_customer_review": _("Key customer review"),
}


def labelled(items: list[Any]) -> list[dict[str, Any]]:
    return [{"item": i, "label": KIND_LABELS.get(i.kind, i.kind)} for i in items]


@login_required
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    """The person's agenda for a day, grouped: overdue, due, occasions."""
    if not has_agenda(request.user):
        raise Http404
    day, error = _day(request)
    items = build_agenda(request.user, day)
    groups = group_items(items)
    for group in groups:
        group["rows"] = labelled(group["items"])
    contacts = sum(len(g["items"]) for g in groups[:2])
    return render(
        request,
        "cadence/my_day.html",
        {
            "day": day,
            "today": timezone.localdate(),
            "prev_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
            "groups": groups,
            "total": len(items),
            "capped": contacts >= CONTACT_LIMIT,
            "limit": CONTACT_LIMIT,
            "date_error": error,
            "sees_team": can_see_team(request.user),
        },
    )


@login_required
@require_POST
def log_call(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap: log a call on a customer from My day; the row says it is done."""
    customer = get_visible_or_404(Customer.objects.all(), request.user, pk=pk)
    try:
        activities.log_activity(actor=request.user, customer=customer, kind=ActivityKind.CALL)
    except PermissionDenied:
        raise Http404 from None
    if request.htmx:
        return render(request, "cadence/_logged.html", {"customer": customer})
    messages.success(request, _("Call logged: %(name)s.") % {"name": customer.display_name()})
    return redirect("cadence:my-day")


@login_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    """Managers: overdue follow-ups per person of their subtree, chart and table."""
    if not can_see_team(request.user):
        raise Http404
    day, error = _day(request)
    people = team_overdue(request.user, day)
    chart = {
        "names": [p.name for p in people[:30]],
        "values": [p.overdue for p in people[:30]],
        "label": _("Overdue"),
    }
    return render(
        request,
        "cadence/team.html",
        {
            "day": day,
            "people": people,
            "chart": chart,
            "total": sum(p.overdue for p in people),
            "date_error": error,
        },
    )


@login_required
@require_GET
def person(request: HttpRequest, staff_id: int) -> HttpResponse:
    """A manager's drill-down: one person's overdue customers."""
    if not can_see_team(request.user):
        raise Http404
    day, error = _day(request)
    staff, items = person_overdue(request.user, staff_id, day)
    return render(
        request,
        "cadence/person.html",
        {"day": day, "person": staff, "rows": labelled(items), "date_error": error},
    )


# --- settings --------------------------------------------------------------------------------


def _int_or_none(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1  # refused by the rule check with a message saying what to give


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Administrators edit the rules; managers and administrators the milestones."""
    user = request.user
    if not (has_agenda(user) or services.can_manage_milestones(user)):
        raise Http404
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "rule":
                grade = request.POST.get("grade", "")
                days = _int_or_none(request.POST.get("interval_days"))
                at_milestones = request.POST.get("uses_milestones") == "on"
                services.update_rule(
                    actor=user,
                    grade=grade,
                    interval_days=days,
                    uses_milestones=at_milestones,
                )
                messages.success(request, _("Cadence saved; due dates are being recomputed."))
            elif action == "milestone":
                day = parse_day(request.POST.get("date") or "", "date")
                node = None
                node_raw = _int_or_none(request.POST.get("node"))
                if node_raw is not None:
                    node = OrgNode.objects.filter(pk=node_raw).first()
                    if node is None:
                        raise ValidationError({"node": [_("Choose a node from the list.")]})
                services.create_milestone(
                    actor=user, date=day, name=request.POST.get("name", ""), node=node
                )
                messages.success(request, _("Milestone added."))
            elif action == "delete":
                pk = _int_or_none(request.POST.get("milestone"))
                milestone = get_visible_or_404(Milestone.objects.all(), user, pk=pk)
                services.delete_milestone(actor=user, milestone=milestone)
                messages.success(request, _("Milestone removed."))
            else:
                raise ValidationError(_("Unknown action."))
        except ValidationError as exc:
            errors = list(exc.messages)
        except PermissionDenied as exc:
            errors = [str(exc) or _("You are not allowed to do this.")]
        else:
            return redirect("cadence:settings")
    editable = set(Milestone.objects.editable_by(user).values_list("pk", flat=True))
    milestones = list(
        Milestone.objects.visible_to(user)
        .upcoming(timezone.localdate() - datetime.timedelta(days=30))
        .select_related("node", "project")[:200]
    )
    if user.is_admin:
        nodes = list(OrgNode.objects.order_by("path"))
    else:
        nodes = list(OrgNode.objects.filter(pk__in=user.managed_node_ids).order_by("path"))
    return render(
        request,
        "cadence/settings.html",
        {
            "rules": list(CadenceRule.objects.all()),
            "callback_key": rules.CALLBACK,
            "can_edit_rules": services.can_edit_rules(user),
            "can_manage_milestones": services.can_manage_milestones(user),
            "milestones": [{"m": m, "editable": m.pk in editable} for m in milestones],
            "nodes": nodes,
            "errors": errors,
            "status": 400 if errors else 200,
        },
        status=400 if errors else 200,
    )
