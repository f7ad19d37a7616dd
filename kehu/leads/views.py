"""Registration pages (报备): the sales floor, the promoter's phone page and the broker
portal; the duplicate check before saving (判客); the managers' conflict queue (撞单);
the public pool (公海). Thin: parse → access → service → render.

After a registration the page redirects to itself with ``?done=<registration id>`` and
shows that registration's answer, read back for its registrant only, so reloading the
page never registers twice."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.core.forms import apply_service_errors
from kehu.core.querysets import get_visible_or_404
from kehu.customers.filtersets import CustomerFilterSet
from kehu.customers.models import Customer, CustomerPhone
from kehu.customers.views import display_phone
from kehu.leads import pool, services
from kehu.leads.choices import ConflictStatus, RegistrationKind
from kehu.leads.forms import BrokerForm, FieldForm, RegisterForm, ResolveForm
from kehu.leads.models import Channel, Conflict, Registration
from kehu.org.models import Staff

PAGE_SIZE = 50

PHONES = Prefetch("customer__phones", queryset=CustomerPhone.objects.order_by("-is_primary", "id"))


def _permission_message(exc: PermissionDenied) -> str:
    return str(exc) or _("You are not allowed to do this.")


def can_register_calls(user: Staff) -> bool:
    return RegistrationKind.CALL in services.allowed_kinds(user)


def can_register_field(user: Staff) -> bool:
    return RegistrationKind.FIELD in services.allowed_kinds(user)


def uses_broker_portal(user: Staff) -> bool:
    return user.is_admin or user.has_role("broker")


def resolves_conflicts(user: Staff) -> bool:
    return user.is_admin or user.is_manager


def primary_phone(user: Staff, customer: Customer) -> str:
    """The customer's main number as ``user`` may see it (needs ``customer__phones``
    prefetched, main number first)."""
    phones = list(customer.phones.all())
    return display_phone(user, phones[0].number) if phones else ""


# --- registering ----------------------------------------------------------------------------


def answer_for(user: Staff, registration: Registration) -> dict[str, Any]:
    """What the registrant is told about one of their registrations: the service's
    public answer (a broker hears new or existing, nothing more), with the customer's
    link when they may open it."""
    judgement = services.Judgement(
        registration=registration,
        customer=registration.customer,
        result=registration.result,
        owner_id=registration.owner_id,
        protected_until=registration.protected_until,
    )
    public = judgement.as_dict(user)
    visible = (
        public["customer"] is not None
        and Customer.objects.visible_to(user).filter(pk=registration.customer_id).exists()
    )
    return {
        "result": public["result"],
        "customer": registration.customer if visible else None,
        "owner": registration.owner if public["owner"] is not None else None,
        "is_mine": public["owner"] is not None and registration.owner_id == user.pk,
        "protected_until": registration.protected_until if public["protected_until"] else None,
        "registration": registration,
    }


def _done(request: HttpRequest) -> dict[str, Any] | None:
    """The answer of ``?done=<id>``: the user's own registration, or nothing."""
    try:
        pk = int(request.GET.get("done", ""))
    except ValueError:
        return None
    registration = (
        Registration.objects.filter(pk=pk, registered_by=request.user)
        .select_related("customer", "owner", "channel")
        .first()
    )
    return answer_for(request.user, registration) if registration else None


def _register(request: HttpRequest, form: Any, url_name: str) -> HttpResponse | None:
    """Run register_lead for a valid form; the redirect to the answer, or None with the
    service's errors put on the form."""
    if not form.is_valid():
        return None
    try:
        judgement = services.register_lead(actor=request.user, **form.arguments())
    except PermissionDenied as exc:
        form.add_error(None, _permission_message(exc))
    except ValidationError as exc:
        apply_service_errors(form, exc)
    else:
        return redirect(f"{reverse(url_name)}?done={judgement.registration.pk}")
    return None


@login_required
def register(request: HttpRequest) -> HttpResponse:
    """The sales-floor form: a call or a visit, the duplicate answer shown as the number
    is typed, the judgement after saving."""
    user = request.user
    if not can_register_calls(user):
        raise Http404
    if request.method == "POST":
        form = RegisterForm(request.POST)
        response = _register(request, form, "leads:register")
        if response is not None:
            return response
    else:
        kind = request.GET.get("kind") or RegistrationKind.CALL
        form = RegisterForm(
            initial={"kind": kind, "channel": "walk_in" if kind == "visit" else "phone"}
        )
    return render(request, "leads/register.html", {"form": form, "done": _done(request)})


@login_required
@require_GET
def check(request: HttpRequest) -> HttpResponse:
    """The duplicate check before saving (htmx): new, existing and whose, protected
    until when, or why the number is wrong; only what the asker may see."""
    user = request.user
    if not services.allowed_kinds(user):
        raise Http404
    phone = request.GET.get("phone", "").strip()
    context: dict[str, Any] = {"phone": phone, "broker": uses_only_broker_answers(user)}
    if len(phone) >= 3:
        try:
            answer = services.judge(actor=user, phone=phone)
        except ValidationError as exc:
            context["errors"] = exc.message_dict.get("phone", exc.messages)
        else:
            context["answer"] = answer
            if answer["exists"] and not answer["visible"] and not context["broker"]:
                context["protected_until"] = _protected_until(answer["phone"])
            if answer.get("visible"):
                context["customer_id"] = answer["customer"]["id"]
                context["customer_name"] = answer["customer"]["name"]
    return render(request, "leads/_check.html", context)


def uses_only_broker_answers(user: Staff) -> bool:
    """Brokers (who are nothing else) are told new or existing and nothing more."""
    return (
        user.has_role("broker")
        and not user.is_admin
        and not user.has_any_role(*services.OWNER_ROLES)
    )


def _protected_until(number: str) -> datetime.datetime | None:
    """Until when the customer holding ``number`` is protected (what a registration by
    this asker would answer too)."""
    row = CustomerPhone.objects.select_related("customer").filter(number=number).first()
    if row is None:
        return None
    customer = row.customer
    if customer.merged_into_id:
        customer = Customer.objects.filter(pk=customer.merged_into_id).first() or customer
    protected = customer.protected_until
    return protected if protected and protected > timezone.now() else None


def _today_range() -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


@login_required
def field(request: HttpRequest) -> HttpResponse:
    """The promoter's phone-first page: big inputs, a channel chooser, the position if
    the phone gives it, and today's registrations with their results."""
    user = request.user
    if not can_register_field(user):
        raise Http404
    if request.method == "POST":
        form = FieldForm(request.POST)
        response = _register(request, form, "leads:field")
        if response is not None:
            return response
    else:
        form = FieldForm(initial={"channel": request.GET.get("channel") or None})
    start, end = _today_range()
    today = (
        Registration.objects.filter(
            registered_by=user,
            kind=RegistrationKind.FIELD,
            created_at__gte=start,
            created_at__lt=end,
        )
        .select_related("customer", "channel")
        .prefetch_related(PHONES)
        .order_by("-created_at", "-id")
    )
    rows = [
        {
            "registration": r,
            "phone": primary_phone(user, r.customer),
            "answer": answer_for_list(user, r),
        }
        for r in today
    ]
    return render(
        request,
        "leads/field.html",
        {"form": form, "done": _done(request), "rows": rows},
    )


def answer_for_list(user: Staff, registration: Registration) -> str:
    """The result word of a registration in the registrant's own list."""
    if uses_only_broker_answers(user) and registration.result != "new":
        return "existing"
    return registration.result


@login_required
def broker(request: HttpRequest) -> HttpResponse:
    """The broker portal: refer a customer (told at once new or existing), and my
    referrals with where they stand; numbers masked."""
    user = request.user
    if not uses_broker_portal(user):
        raise Http404
    if request.method == "POST":
        form = BrokerForm(request.POST)
        response = _register(request, form, "leads:broker")
        if response is not None:
            return response
    else:
        form = BrokerForm()
    referrals = (
        Registration.objects.filter(registered_by=user, kind=RegistrationKind.BROKER)
        .select_related("customer")
        .prefetch_related(PHONES)
        .order_by("-created_at", "-id")
    )
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for registration in page:
        result = answer_for_list(user, registration)
        rows.append(
            {
                "registration": registration,
                "phone": primary_phone(user, registration.customer),
                "result": result,
                # Where a referral stands is shown for the ones that were new (theirs).
                "stage": registration.customer.get_stage_display() if result == "new" else "",
                "name": registration.customer.name if result == "new" else "",
            }
        )
    return render(
        request,
        "leads/broker.html",
        {"form": form, "done": _done(request), "page": page, "rows": rows},
    )


# --- the conflict queue ----------------------------------------------------------------------


def _conflicts(user: Staff) -> Any:
    return Conflict.objects.visible_to(user).select_related(
        "customer",
        "customer__node",
        "customer__owner",
        "claimant",
        "claimant__node",
        "owner",
        "owner__node",
        "resolved_by",
        "registration__channel",
    )


@login_required
def conflicts(request: HttpRequest) -> HttpResponse:
    """Open conflicts to decide, and the decisions taken (newest first)."""
    user = request.user
    if not resolves_conflicts(user):
        raise Http404
    open_rows = list(_conflicts(user).filter(status=ConflictStatus.OPEN).prefetch_related(PHONES))
    history = Paginator(
        _conflicts(user).filter(status=ConflictStatus.RESOLVED).order_by("-resolved_at", "-id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    ids = {c.customer_id for c in open_rows} | {c.customer_id for c in history}
    visible = set(Customer.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    rows = [
        {
            "conflict": c,
            "phone": primary_phone(user, c.customer),
            "visible": c.customer_id in visible,
            "can_resolve": services.can_resolve(user, c),
            "form": ResolveForm(prefix=f"c{c.pk}"),
        }
        for c in open_rows
    ]
    return render(
        request,
        "leads/conflicts.html",
        {"rows": rows, "history": history, "visible": visible},
    )


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    if not resolves_conflicts(user):
        raise Http404
    conflict = get_visible_or_404(_conflicts(user), user, pk=pk)
    form = ResolveForm(request.POST, prefix=f"c{conflict.pk}")
    if form.is_valid():
        try:
            services.resolve_conflict(actor=user, conflict=conflict, **form.cleaned_data)
        except PermissionDenied as exc:
            messages.error(request, _permission_message(exc))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("Conflict on %(customer)s resolved: %(decision)s.")
                % {
                    "customer": conflict.customer,
                    "decision": conflict.get_decision_display(),
                },
            )
    else:
        messages.error(request, _("Choose a decision: keep the owner or give to the claimant."))
    return redirect("leads:conflicts")


# --- the pool -------------------------------------------------------------------------------


def can_use_pool(user: Staff) -> bool:
    """Consultants, managers and administrators: the people who may own customers."""
    return pool.can_own(user)


@login_required
def pool_list(request: HttpRequest) -> HttpResponse:
    """The customers in the pool the user may claim, and their quota today."""
    user = request.user
    if not can_use_pool(user):
        raise Http404
    filterset = CustomerFilterSet(request.GET, queryset=pool.pool_visible_to(user), request=request)
    queryset = (
        filterset.qs.select_related("node", "channel", "previous_owner")
        .prefetch_related(
            Prefetch("phones", queryset=CustomerPhone.objects.order_by("-is_primary", "id"))
        )
        .order_by("-pooled_at", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"customer": c, "phone": primary_phone(user, c)} for c in page]
    settings = pool.pool_settings()
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "claimed": pool.claimed_today(user),
        "quota": settings.claim_daily_quota,
        "channels": Channel.objects.all(),
    }
    template = "leads/pool.html#rows" if request.htmx else "leads/pool.html"
    return render(request, template, context)


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    if not can_use_pool(user):
        raise Http404
    customer = pool.pool_visible_to(user).filter(pk=pk).first()
    if customer is None:
        raise Http404
    try:
        pool.claim_from_pool(actor=user, customer=customer)
    except PermissionDenied as exc:
        messages.error(request, _permission_message(exc))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(name)s is yours now.") % {"name": customer})
        return redirect("customers:detail", pk=customer.pk)
    return redirect("leads:pool")
