"""Organisation pages: the tree, staff list/detail/edit, my profile and API tokens.
Thin: parse → access → service → render."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_service_errors
from kehu.core.phones import mask_phone
from kehu.core.querysets import get_visible_or_404
from kehu.org import services
from kehu.org.api.serializers import must_mask_for
from kehu.org.filtersets import StaffFilterSet
from kehu.org.forms import (
    LeaveForm,
    MoveForm,
    NodeForm,
    ProfileForm,
    RolesForm,
    StaffCreateForm,
    StaffForm,
    TokenForm,
)
from kehu.org.models import ApiToken, OrgNode, Staff, StaffRole


def _permission_message(exc: PermissionDenied) -> str:
    """The service's reason (e.g. "Only an administrator can grant the admin role."),
    or the generic one."""
    return str(exc) or _("You are not allowed to do this.")


def _display_phone(viewer: Staff, staff: Staff) -> str:
    if not staff.phone:
        return ""
    if must_mask_for(viewer) and viewer.pk != staff.pk:
        return mask_phone(staff.phone)
    return staff.phone


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    user = request.user
    nodes = list(
        OrgNode.objects.visible_to(user)
        .select_related("manager")
        .annotate(
            member_count=Count("members", filter=Q(members__is_active=True), distinct=True),
            project_count=Count("projects", distinct=True),
        )
        .order_by("path")
    )
    children: dict[int | None, list[OrgNode]] = defaultdict(list)
    ids = {n.pk for n in nodes}
    for node in nodes:
        children[node.parent_id if node.parent_id in ids else None].append(node)
    for siblings in children.values():
        siblings.sort(key=lambda n: n.name)
    can_edit = user.is_admin or user.is_manager
    form = None
    if request.method == "POST":
        if not can_edit:
            raise Http404
        form = NodeForm(request.POST, user=user)
        if form.is_valid():
            try:
                node = services.create_node(
                    actor=user,
                    name=form.cleaned_data["name"],
                    kind=_child_kind(form.cleaned_data["parent"]),
                    parent=form.cleaned_data["parent"],
                )
            except PermissionDenied as exc:
                raise Http404 from exc
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Added %(name)s.") % {"name": node.name})
                return redirect("org:tree")
    elif can_edit:
        form = NodeForm(user=user)
    return render(
        request,
        "org/tree.html",
        {
            "roots": children[None],
            "children": children,
            "form": form,
            "can_edit": can_edit,
        },
    )


def _child_kind(parent: OrgNode) -> str:
    return {"company": "region", "region": "area"}.get(parent.kind, "team")


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    queryset = (
        Staff.objects.visible_to(user)
        .select_related("node")
        .prefetch_related(Prefetch("role_rows", queryset=StaffRole.objects.order_by("role")))
    )
    if "is_active" not in request.GET:
        data = request.GET.copy()
        data["is_active"] = "true"
    else:
        data = request.GET
    filterset = StaffFilterSet(data, queryset=queryset, request=request)
    for field in filterset.form.fields.values():
        field.widget.attrs.setdefault(
            "class", "form-select" if hasattr(field, "choices") else "form-control"
        )
    # People without a node (brokers) go last on SQLite and PostgreSQL alike.
    ordering = (F("node__path").asc(nulls_last=True), "username")
    page = Paginator(filterset.qs.distinct().order_by(*ordering), 50).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "staff": s,
            "phone": _display_phone(user, s),
            "roles": [r.get_role_display() for r in s.role_rows.all()],
        }
        for s in page
    ]
    can_add = user.is_admin or user.is_manager
    template = "org/staff_list.html#rows" if request.htmx else "org/staff_list.html"
    return render(
        request, template, {"filter": filterset, "page": page, "rows": rows, "can_add": can_add}
    )


@login_required
def staff_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_admin or user.is_manager):
        raise Http404
    form = StaffCreateForm(
        request.POST or None, user=user, initial={"employment_type": "full_time", "capacity": 100}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            staff = services.create_staff(actor=user, **data)
        except PermissionDenied as exc:
            form.add_error(None, _permission_message(exc))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Added %(name)s.") % {"name": staff})
            return redirect("org:staff-detail", pk=staff.pk)
    return render(request, "org/staff_add.html", {"form": form})


@login_required
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    staff = get_visible_or_404(Staff.objects.select_related("node", "node__manager"), user, pk=pk)
    return render(
        request,
        "org/staff_detail.html",
        {
            "staff": staff,
            "phone": _display_phone(user, staff),
            "node_label": services.node_label(staff.node) if staff.node_id else "",
            "can_edit": services.can_edit_staff(user, staff),
            "managed_nodes": OrgNode.objects.filter(manager=staff).order_by("path"),
        },
    )


@login_required
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    staff = get_visible_or_404(Staff.objects.select_related("node"), user, pk=pk)
    if not services.can_edit_staff(user, staff):
        raise Http404
    initial = {f: getattr(staff, f) for f in StaffForm.base_fields}
    form = StaffForm(initial=initial)
    roles_form = RolesForm(initial={"roles": sorted(staff.roles)}, prefix="roles")
    move_form = MoveForm(user=user, prefix="move", initial={"node": staff.node_id})
    leave_form = LeaveForm(user=user, leaving=staff, prefix="leave")
    if request.method == "POST":
        which = request.POST.get("form")
        try:
            if which == "profile":
                form = StaffForm(request.POST)
                if form.is_valid():
                    services.update_staff(actor=user, staff=staff, **form.cleaned_data)
                    messages.success(request, _("Saved."))
                    return redirect("org:staff-detail", pk=staff.pk)
            elif which == "roles":
                roles_form = RolesForm(request.POST, prefix="roles")
                if roles_form.is_valid():
                    services.set_roles(
                        actor=user, staff=staff, roles=roles_form.cleaned_data["roles"]
                    )
                    messages.success(request, _("Roles saved."))
                    return redirect("org:staff-detail", pk=staff.pk)
            elif which == "move":
                move_form = MoveForm(request.POST, user=user, prefix="move")
                if move_form.is_valid():
                    services.move_staff(actor=user, staff=staff, **move_form.cleaned_data)
                    messages.success(request, _("Moved."))
                    return redirect("org:staff-detail", pk=staff.pk)
            elif which == "leave":
                leave_form = LeaveForm(request.POST, user=user, leaving=staff, prefix="leave")
                if leave_form.is_valid():
                    moved = services.mark_staff_left(
                        actor=user, staff=staff, **leave_form.cleaned_data
                    )
                    messages.success(
                        request,
                        _("%(name)s has left; %(count)d records handed on.")
                        % {"name": staff, "count": sum(moved.values())},
                    )
                    return redirect("org:staff-detail", pk=staff.pk)
        except PermissionDenied as exc:
            messages.error(request, _permission_message(exc))
        except ValidationError as exc:
            target = {
                "profile": form,
                "roles": roles_form,
                "move": move_form,
                "leave": leave_form,
            }.get(which or "", form)
            apply_service_errors(target, exc)
    return render(
        request,
        "org/staff_edit.html",
        {
            "staff": staff,
            "form": form,
            "roles_form": roles_form,
            "move_form": move_form,
            "leave_form": leave_form,
        },
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(initial={"name": user.name, "phone": user.phone or "", "email": user.email})
    token_form = TokenForm(prefix="token")
    new_key = None
    if request.method == "POST":
        which = request.POST.get("form")
        try:
            if which == "profile":
                form = ProfileForm(request.POST)
                if form.is_valid():
                    services.update_own_profile(actor=user, **form.cleaned_data)
                    messages.success(request, _("Saved."))
                    return redirect("org:profile")
            elif which == "token":
                token_form = TokenForm(request.POST, prefix="token")
                if token_form.is_valid():
                    _token, new_key = services.issue_api_token(
                        actor=user, staff=user, name=token_form.cleaned_data["name"]
                    )
                    token_form = TokenForm(prefix="token")
        except ValidationError as exc:
            apply_service_errors(form if which == "profile" else token_form, exc)
    tokens = ApiToken.objects.filter(staff=user)
    return render(
        request,
        "org/profile.html",
        {
            "form": form,
            "token_form": token_form,
            "tokens": tokens,
            "new_key": new_key,
            "node_label": services.node_label(user.node) if user.node_id else "",
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(staff=request.user, pk=pk).first()
    if token is None:
        raise Http404
    services.revoke_api_token(actor=request.user, token=token)
    messages.success(request, _("Token revoked."))
    return redirect("org:profile")
