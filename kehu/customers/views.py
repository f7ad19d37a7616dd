"""Customer pages: the list and the customer page (profile, numbers, completeness, tags,
relations, occasions, timeline). Thin: parse → access → service → render.

Visibility is ``Customer.objects.visible_to(user)``: a customer the user may not see is
"not found". Promoters and brokers see numbers masked (``138****5678``) and, on the
customer page, only the summary and their own registrations."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kehu.activities.forms import ActivityForm, StageForm
from kehu.core.forms import apply_service_errors
from kehu.core.phones import mask_phone
from kehu.core.querysets import get_visible_or_404
from kehu.customers import completeness, services
from kehu.customers.choices import CompletenessStage, IntentGrade, Stage
from kehu.customers.filtersets import CustomerFilterSet, masks_numbers_for
from kehu.customers.forms import (
    PAGE_SIZE,
    AnniversaryForm,
    AssignForm,
    MergeForm,
    MileageForm,
    PhoneForm,
    ProfileForm,
    PurchaseForm,
    RelationForm,
    TagForm,
    profile_label,
)
from kehu.customers.merge import REASONS, find_duplicates, merge_customers
from kehu.customers.models import Customer, CustomerPhone, MileageReading, Tag
from kehu.leads.assignment import assign_customers
from kehu.leads.models import Channel
from kehu.leads.services import allowed_kinds
from kehu.org.models import OrgNode, Staff

TIMELINE_LIMIT = 50


def shows_numbers(user: Staff) -> bool:
    """Promoters and brokers see customers' numbers masked; everyone else in full."""
    return not masks_numbers_for(user)


def display_phone(user: Staff, number: str) -> str:
    return number if shows_numbers(user) else mask_phone(number)


def _permission_message(exc: PermissionDenied) -> str:
    return str(exc) or _("You are not allowed to do this.")


def offers_assignment(user: Staff) -> bool:
    """Admins and managers get the list's "assign to…" action (the service checks each
    customer: kehu.leads.assignment.can_assign)."""
    return user.is_admin or user.is_manager


# --- the list -------------------------------------------------------------------------------


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    filterset = CustomerFilterSet(
        request.GET, queryset=Customer.objects.visible_to(user), request=request
    )
    queryset = (
        filterset.qs.select_related("owner", "node", "channel")
        .prefetch_related(
            Prefetch("phones", queryset=CustomerPhone.objects.order_by("-is_primary", "id"))
        )
        .order_by("-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for customer in page:
        phones = list(customer.phones.all())
        rows.append(
            {
                "customer": customer,
                "phone": display_phone(user, phones[0].number) if phones else "",
                "more_phones": len(phones) - 1,
            }
        )
    context: dict[str, Any] = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "can_assign": offers_assignment(user),
        "can_register": "call" in allowed_kinds(user),
        "query": request.GET.urlencode(),
    }
    if request.htmx:
        return render(request, "customers/list.html#rows", context)
    context.update(_filter_choices(user))
    if context["can_assign"]:
        context["assign_form"] = AssignForm(user=user)
    return render(request, "customers/list.html", context)


def _filter_choices(user: Staff) -> dict[str, Any]:
    """What the filters offer: only people, teams, tags and channels the user may see."""
    return {
        "owners": Staff.objects.visible_to(user).order_by("name", "username"),
        "teams": OrgNode.objects.visible_to(user).order_by("path"),
        "tags": Tag.objects.select_related("dimension"),
        "channels": Channel.objects.all(),
        "stages": Stage.choices,
        "grades": IntentGrade.choices,
    }


@login_required
@require_POST
def assign(request: HttpRequest) -> HttpResponse:
    """Bulk action of the list: assign the ticked customers to one person (managers)."""
    user = request.user
    if not offers_assignment(user):
        raise Http404
    form = AssignForm(request.POST, user=user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back_to_list(request))
    customers = list(form.cleaned_data["customers"])
    try:
        assign_customers(
            actor=user,
            customers=customers,
            to_staff=form.cleaned_data["to_staff"],
            reason_note=form.cleaned_data["reason_note"],
        )
    except PermissionDenied as exc:
        messages.error(request, _permission_message(exc))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d customer assigned to %(name)s.",
                "%(count)d customers assigned to %(name)s.",
                len(customers),
            )
            % {"count": len(customers), "name": form.cleaned_data["to_staff"]},
        )
    return redirect(_back_to_list(request))


def _back_to_list(request: HttpRequest) -> str:
    """The list with the filters it was posted from (re-encoded, so only a query)."""
    query = QueryDict(request.POST.get("next_query", "")).urlencode()
    url = reverse("customers:list")
    return f"{url}?{query}" if query else url


# --- the customer page ------------------------------------------------------------------------


def customer_for_page(request: HttpRequest, pk: int) -> Customer:
    return get_visible_or_404(
        Customer.objects.select_related(
            "owner", "node", "channel", "registered_by", "previous_owner"
        ),
        request.user,
        pk=pk,
    )


def timeline(customer: Customer, viewer: Staff, limit: int = TIMELINE_LIMIT) -> list[dict]:
    """Activities, stage changes, registrations and assignments, newest first. Promoters
    and brokers see only their own registrations."""
    entries: list[dict[str, Any]] = []
    registrations = customer.registrations.select_related("registered_by", "channel")
    if not shows_numbers(viewer):
        registrations = registrations.filter(registered_by=viewer)
    for reg in registrations[:limit]:
        entries.append({"kind": "registration", "at": reg.created_at, "obj": reg})
    if shows_numbers(viewer):
        for act in customer.activities.select_related("staff")[:limit]:
            entries.append({"kind": "activity", "at": act.occurred_at, "obj": act})
        stages = dict(Stage.choices)
        for change in customer.stage_changes.select_related("actor")[:limit]:
            entries.append(
                {
                    "kind": "stage",
                    "at": change.created_at,
                    "obj": change,
                    "from_label": stages.get(change.from_stage, change.from_stage),
                    "to_label": stages.get(change.to_stage, change.to_stage),
                }
            )
        for row in customer.assignments.select_related("from_staff", "to_staff", "actor")[:limit]:
            entries.append({"kind": "assignment", "at": row.created_at, "obj": row})
    entries.sort(key=itemgetter("at"), reverse=True)
    return entries[:limit]


def _completeness(customer: Customer, has_phone: bool) -> dict[str, Any]:
    stage = completeness.completeness_stage(customer.stage, customer.visit_count)
    result = completeness.compute(
        services.profile_of(customer, has_phone=has_phone), stage, services.requirements()
    )
    return {
        "score": result.score,
        "minimum": result.minimum,
        "is_below": result.is_below,
        "stage_label": dict(CompletenessStage.choices).get(stage, stage),
        "missing": [completeness.FIELDS.get(f, f) for f in result.missing],
    }


def detail_context(request: HttpRequest, customer: Customer, **forms: Any) -> dict[str, Any]:
    """Everything the customer page shows; ``forms`` replaces a blank form (with errors)."""
    user = request.user
    full = shows_numbers(user)
    can_edit = full and services.can_edit_customer(user, customer)
    phones = list(customer.phones.all())
    context: dict[str, Any] = {
        "customer": customer,
        "full": full,
        "can_edit": can_edit,
        "phones": [{"row": p, "display": display_phone(user, p.number)} for p in phones],
        "timeline": timeline(customer, user),
        "timeline_limit": TIMELINE_LIMIT,
        "can_merge": can_edit,
    }
    if not full:
        return context
    tags = list(customer.tag_rows.select_related("tag__dimension"))
    out = list(customer.relations_out.select_related("to_customer"))
    into = list(customer.relations_in.select_related("from_customer"))
    related_ids = {r.to_customer_id for r in out} | {r.from_customer_id for r in into}
    visible_ids = set(
        Customer.objects.visible_to(user).filter(pk__in=related_ids).values_list("pk", flat=True)
    )
    relations = [
        {
            "label": r.get_kind_display(),
            "other": r.to_customer,
            "visible": r.to_customer_id in visible_ids,
        }
        for r in out
    ] + [
        {
            "label": _("Referred") if r.kind == "referred_by" else r.get_kind_display(),
            "other": r.from_customer,
            "visible": r.from_customer_id in visible_ids,
        }
        for r in into
    ]
    profile = customer.profile or {}
    purchases = _purchases(customer)
    context.update(
        {
            "completeness": _completeness(customer, has_phone=bool(phones)),
            "tags": tags,
            "relations": relations,
            "anniversaries": list(customer.anniversaries.all()),
            "purchases": purchases,
            "profile_items": [
                (profile_label(k), profile[k])
                for k in completeness.PROFILE_KEYS
                if profile.get(k) not in (None, "")
            ],
        }
    )
    if can_edit:
        context.update(
            {
                "profile_form": forms.get("profile_form")
                or ProfileForm(initial=ProfileForm.initial_for(customer)),
                "phone_form": forms.get("phone_form") or PhoneForm(),
                "tag_form": forms.get("tag_form") or TagForm(),
                "relation_form": forms.get("relation_form") or RelationForm(user=user),
                "anniversary_form": forms.get("anniversary_form") or AnniversaryForm(),
                "purchase_form": forms.get("purchase_form") or PurchaseForm(),
                "mileage_form": forms.get("mileage_form") or MileageForm(purchases=purchases),
                "activity_form": forms.get("activity_form") or ActivityForm(),
                "stage_form": forms.get("stage_form")
                or StageForm(initial={"stage": customer.stage}),
            }
        )
    return context


def _purchases(customer: Customer) -> list[Any]:
    """The customer's 20 latest purchases, each with ``latest_reading`` (or None): two
    queries whatever the count."""
    purchases = list(customer.purchases.all()[:20])
    latest: dict[int, MileageReading] = {}
    for reading in MileageReading.objects.filter(purchase__in=[p.pk for p in purchases]):
        latest[reading.purchase_id] = reading  # ordered by date: the last one wins
    for purchase in purchases:
        purchase.latest_reading = latest.get(purchase.pk)
    return purchases


def render_detail(
    request: HttpRequest, customer: Customer, status: int = 200, **forms: Any
) -> HttpResponse:
    return render(
        request, "customers/detail.html", detail_context(request, customer, **forms), status=status
    )


def render_followup(
    request: HttpRequest, customer: Customer, saved: bool = False, **forms: Any
) -> HttpResponse:
    """The htmx answer to the follow-up form: the form (blank after a save, with its
    errors otherwise), and the summary, stage form and timeline swapped out of band (a
    visit moves a lead on to "visited")."""
    context = detail_context(request, customer, **forms)
    html = render_to_string(
        "customers/detail.html#followup", {**context, "saved": saved}, request=request
    )
    if saved:
        for part in ("summary", "stage", "timeline"):
            html += render_to_string(
                f"customers/detail.html#{part}", {**context, "oob": True}, request=request
            )
    return HttpResponse(html)


def denied(request: HttpRequest, customer: Customer, exc: PermissionDenied) -> HttpResponse:
    """A visible customer the user may not change: the page, with why, as 403."""
    messages.error(request, _permission_message(exc))
    return render_detail(request, customer, status=403)


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for_page(request, pk)
    return render_detail(request, customer)


@login_required
@require_POST
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Every write of the customer page, told apart by the ``form`` field."""
    user = request.user
    customer = customer_for_page(request, pk)
    which = request.POST.get("form", "")
    forms: dict[str, Any] = {}
    try:
        if not shows_numbers(user) or not services.can_edit_customer(user, customer):
            raise PermissionDenied
        if which == "profile":
            form = forms["profile_form"] = ProfileForm(request.POST)
            if form.is_valid():
                try:
                    services.update_customer(actor=user, customer=customer, **form.changes())
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        for message in errors:
                            form.add_service_error(field, message)
                else:
                    messages.success(request, _("Saved."))
                    return redirect("customers:detail", pk=customer.pk)
        elif which == "phone-add":
            form = forms["phone_form"] = PhoneForm(request.POST)
            if form.is_valid():
                try:
                    services.add_phone(
                        actor=user, customer=customer, phone=form.cleaned_data["phone"]
                    )
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                else:
                    messages.success(request, _("Number added."))
                    return redirect("customers:detail", pk=customer.pk)
        elif which == "phone-remove":
            try:
                phone_id = int(request.POST.get("phone", ""))
            except ValueError:
                phone_id = 0
            services.remove_phone(actor=user, customer=customer, phone_id=phone_id)
            messages.success(request, _("Number removed."))
            return redirect("customers:detail", pk=customer.pk)
        elif which == "tag-add":
            form = forms["tag_form"] = TagForm(request.POST)
            if form.is_valid():
                try:
                    tag = services.ensure_tag(actor=user, **form.cleaned_data)
                    current = [row.tag for row in customer.tag_rows.select_related("tag")]
                    services.set_tags(actor=user, customer=customer, tags=[*current, tag])
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                else:
                    messages.success(request, _("Tag added."))
                    return redirect("customers:detail", pk=customer.pk)
        elif which == "tag-remove":
            keep = [
                row.tag
                for row in customer.tag_rows.select_related("tag")
                if str(row.tag_id) != request.POST.get("tag", "")
            ]
            services.set_tags(actor=user, customer=customer, tags=keep)
            messages.success(request, _("Tag removed."))
            return redirect("customers:detail", pk=customer.pk)
        elif which == "relation":
            form = forms["relation_form"] = RelationForm(request.POST, user=user)
            if form.is_valid():
                try:
                    services.add_relation(
                        actor=user,
                        customer=customer,
                        other=form.cleaned_data["other"],
                        kind=form.cleaned_data["kind"],
                    )
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                else:
                    messages.success(request, _("Relation added."))
                    return redirect("customers:detail", pk=customer.pk)
        elif which == "anniversary":
            form = forms["anniversary_form"] = AnniversaryForm(request.POST)
            if form.is_valid():
                try:
                    services.add_anniversary(
                        actor=user,
                        customer=customer,
                        label=form.cleaned_data["label"],
                        date=form.cleaned_data["date"],
                        lunar=form.lunar(),
                    )
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                else:
                    messages.success(request, _("Occasion added."))
                    return redirect("customers:detail", pk=customer.pk)
        elif which == "purchase":
            form = forms["purchase_form"] = PurchaseForm(request.POST)
            if form.is_valid():
                try:
                    services.record_purchase(actor=user, customer=customer, **form.cleaned_data)
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                else:
                    messages.success(request, _("Purchase recorded."))
                    return redirect("customers:detail", pk=customer.pk)
        elif which == "mileage":
            form = forms["mileage_form"] = MileageForm(
                request.POST, purchases=list(customer.purchases.all()[:20])
            )
            if form.is_valid():
                try:
                    services.record_mileage(
                        actor=user,
                        purchase=form.purchases[form.cleaned_data["purchase"]],
                        km=form.cleaned_data["km"],
                        read_on=form.cleaned_data["read_on"],
                    )
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                else:
                    messages.success(request, _("Mileage recorded."))
                    return redirect("customers:detail", pk=customer.pk)
        else:
            raise Http404
    except PermissionDenied as exc:
        return denied(request, customer, exc)
    except ValidationError as exc:
        # Writes without a form of their own (removing a number or a tag).
        for message in exc.messages:
            messages.error(request, message)
        return redirect("customers:detail", pk=customer.pk)
    return render_detail(request, customer, **forms)


# --- merging duplicates --------------------------------------------------------------------------


@login_required
def customer_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge a duplicate into this customer: the candidates the duplicate check found
    (over all records, showing only the visible ones), or any visible customer named
    by number or #id."""
    user = request.user
    customer = customer_for_page(request, pk)
    if not (shows_numbers(user) and services.can_edit_customer(user, customer)):
        raise Http404
    form = MergeForm(request.POST or None, user=user, keep=customer)
    if request.method == "POST" and form.is_valid():
        other = form.cleaned_data["other"]
        try:
            merge_customers(actor=user, keep=customer, merge=other)
        except PermissionDenied as exc:
            form.add_error("other", _permission_message(exc))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("%(other)s merged into this customer.") % {"other": other})
            return redirect("customers:detail", pk=customer.pk)
    found = find_duplicates(actor=user, customer=customer)
    candidates = [
        {
            "customer": row["customer"],
            "reasons": [REASONS.get(r, r) for r in row["reasons"]],
            "phones": [display_phone(user, p.number) for p in row["customer"].phones.all()],
            "can_merge": services.can_edit_customer(user, row["customer"]),
        }
        for row in found["candidates"]
    ]
    return render(
        request,
        "customers/merge.html",
        {
            "customer": customer,
            "form": form,
            "candidates": candidates,
            "hidden_message": found["hidden_message"],
        },
    )
