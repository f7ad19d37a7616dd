"""Messaging pages: the outbox, templates (with a live preview), triggers and
broadcasts (with an audience count before sending and a progress bar while sending).
Thin: parse → access → service → render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_service_errors
from kehu.core.querysets import get_visible_or_404
from kehu.customers.models import Customer
from kehu.customers.views import display_phone
from kehu.messaging import services
from kehu.messaging.choices import BroadcastStatus, MessageChannel, MessageStatus, TemplateKind
from kehu.messaging.filtersets import MessageFilterSet
from kehu.messaging.forms import BroadcastForm, TemplateForm, TriggerForm
from kehu.messaging.models import Broadcast, Message, MessageTemplate, TriggerRule
from kehu.messaging.rendering import PLACEHOLDERS
from kehu.org.models import Staff

PAGE_SIZE = 50
STATUS_BADGES = {
    MessageStatus.QUEUED: "text-bg-secondary",
    MessageStatus.SENDING: "text-bg-info",
    MessageStatus.SENT: "text-bg-success",
    MessageStatus.FAILED: "text-bg-danger",
    MessageStatus.HELD: "text-bg-warning",
    MessageStatus.SUPPRESSED: "text-bg-dark",
}


def uses_messaging(user: Staff) -> bool:
    return user.is_admin or user.has_any_role("manager", "consultant")


def _require(allowed: bool) -> None:
    if not allowed:
        raise Http404


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    """Every message the user may see, newest first, with its status."""
    user = request.user
    _require(uses_messaging(user))
    filterset = MessageFilterSet(
        request.GET,
        queryset=Message.objects.visible_to(user).select_related("customer", "sender"),
        request=request,
    )
    queryset = filterset.qs if filterset.is_valid() else Message.objects.none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "message": m,
            "to": display_phone(user, m.to) if m.channel == MessageChannel.SMS else m.to,
            "badge": STATUS_BADGES.get(m.status, "text-bg-secondary"),
        }
        for m in page
    ]
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "statuses": MessageStatus.choices,
        "kinds": TemplateKind.choices,
        "channels": MessageChannel.choices,
    }
    template = "messaging/outbox.html#rows" if request.htmx else "messaging/outbox.html"
    return render(request, template, context)


# --- templates ----------------------------------------------------------------------------


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(uses_messaging(user))
    rows = MessageTemplate.objects.visible_to(user).select_related("project")
    return render(
        request,
        "messaging/templates.html",
        {"templates": rows, "can_edit": services.can_edit_settings(user)},
    )


def _sample_customer(user: Staff, pk: Any = None) -> Customer | None:
    customers = Customer.objects.visible_to(user).select_related("owner", "node")
    if pk:
        try:
            return customers.filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            return None
    return customers.exclude(name="").order_by("-id").first()


@login_required
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Administrators edit (or add) a template; managers and consultants read it."""
    user = request.user
    _require(uses_messaging(user))
    template = None
    if pk is not None:
        template = get_visible_or_404(MessageTemplate.objects.all(), user, pk=pk)
    elif not services.can_edit_settings(user):
        raise Http404
    can_edit = services.can_edit_settings(user)
    initial: dict[str, Any] = {"kind": "transactional", "channel": "sms", "is_active": True}
    if template is not None:
        initial = {f: getattr(template, f) for f in services.TEMPLATE_FIELDS}
    form = TemplateForm(request.POST or None, initial=initial, user=user)
    if request.method == "POST":
        if not can_edit:
            raise Http404
        if form.is_valid():
            try:
                if template is None:
                    template = services.create_template(actor=user, **form.cleaned_data)
                else:
                    services.update_template(actor=user, template=template, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Template %(name)s saved.") % {"name": template})
                return redirect("messaging:templates")
    customer = _sample_customer(user)
    sample = ""
    if template is not None and customer is not None:
        try:
            sample = services.preview(template=template, customer=customer)
        except ValidationError:
            sample = ""
    return render(
        request,
        "messaging/template_edit.html",
        {
            "form": form,
            "template": template,
            "can_edit": can_edit,
            "placeholders": PLACEHOLDERS,
            "customer": customer,
            "sample": sample,
        },
    )


@login_required
@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    """The htmx live preview: the body being typed, rendered for a sample customer."""
    user = request.user
    _require(uses_messaging(user))
    customer = _sample_customer(user, request.POST.get("customer"))
    body = request.POST.get("body", "")
    error, text = "", ""
    if customer is None:
        error = _("You have no customer to preview the message for.")
    else:
        try:
            text = services.preview(template=None, customer=customer, body=body)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(
        request,
        "messaging/_preview.html",
        {"text": text, "error": error, "customer": customer, "length": len(text)},
    )


# --- triggers -----------------------------------------------------------------------------


@login_required
def triggers(request: HttpRequest) -> HttpResponse:
    user = request.user
    rules = list(TriggerRule.objects.visible_to(user).select_related("template"))
    if not rules and not (user.is_admin or user.is_manager):
        raise Http404
    can_edit = services.can_edit_settings(user)
    forms_by_rule = {}
    if request.method == "POST":
        if not can_edit:
            raise Http404
        rule = next((r for r in rules if str(r.pk) == request.POST.get("rule")), None)
        if rule is None:
            raise Http404
        form = TriggerForm(request.POST, prefix=f"r{rule.pk}")
        if form.is_valid():
            try:
                services.update_trigger(actor=user, rule=rule, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Trigger %(event)s saved.") % {"event": rule})
                return redirect("messaging:triggers")
        forms_by_rule[rule.pk] = form
    rows = [
        {
            "rule": r,
            "form": forms_by_rule.get(r.pk)
            or TriggerForm(
                prefix=f"r{r.pk}",
                initial={
                    "delay_minutes": r.delay_minutes,
                    "template": r.template_id,
                    "is_enabled": r.is_enabled,
                },
            ),
        }
        for r in rules
    ]
    return render(request, "messaging/triggers.html", {"rows": rows, "can_edit": can_edit})


# --- broadcasts ---------------------------------------------------------------------------


@login_required
def broadcast_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(services.can_broadcast(user))
    page = Paginator(
        Broadcast.objects.visible_to(user).select_related("template", "created_by"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rows = list(page)
    progress = services.progress_of(rows)
    return render(
        request,
        "messaging/broadcasts.html",
        {"page": page, "rows": [{"b": b, "p": progress[b.pk]} for b in rows]},
    )


def _criteria(form: BroadcastForm, user: Staff) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "actor": user,
        "tag_ids": [t.pk for t in data.get("tags") or []],
        "intent_grades": list(data.get("intent_grades") or []),
        "value_grades": [],
    }


@login_required
def broadcast_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(services.can_broadcast(user))
    form = BroadcastForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            broadcast = services.create_broadcast(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Broadcast %(name)s queued.") % {"name": broadcast})
            return redirect("messaging:broadcast", pk=broadcast.pk)
    return render(request, "messaging/broadcast_new.html", {"form": form})


@login_required
@require_POST
def broadcast_audience(request: HttpRequest) -> HttpResponse:
    """The htmx audience count beside the new-broadcast form."""
    user = request.user
    _require(services.can_broadcast(user))
    form = BroadcastForm(request.POST)
    form.is_valid()  # only the audience fields matter here
    counts = None
    valid = "tags" not in form.errors and "intent_grades" not in form.errors
    if valid and (form.cleaned_data.get("tags") or form.cleaned_data.get("intent_grades")):
        counts = services.audience_counts(**_criteria(form, user))
    return render(request, "messaging/_audience.html", {"counts": counts})


@login_required
def broadcast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(services.can_broadcast(user))
    broadcast = get_visible_or_404(
        Broadcast.objects.select_related("template", "created_by"), user, pk=pk
    )
    progress = services.progress(broadcast)
    context = {
        "b": broadcast,
        "p": progress,
        "running": progress["status"] != BroadcastStatus.DONE,
        "statuses": [
            (value, label, progress["counts"][value], STATUS_BADGES[MessageStatus(value)])
            for value, label in MessageStatus.choices
        ],
    }
    if request.htmx:
        return render(request, "messaging/broadcast.html#progress", context)
    personal = list(
        services.broadcast_audience(broadcast)
        .filter(services.IMPORTANT)
        .select_related("owner")
        .order_by("pk")[:100]
    )
    context["personal"] = personal
    context["tags"] = list(broadcast.tags.select_related("dimension"))
    return render(request, "messaging/broadcast.html", context)
