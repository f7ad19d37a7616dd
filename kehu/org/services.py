"""The only writers of the organisation: nodes, projects, staff, roles and tokens.

Every function is atomic, takes a keyword-only ``actor`` (None for the system), checks
that the actor may do it, and records an audit event.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import ownership
from kehu.core.audit import record, snapshot
from kehu.core.phones import normalise_phone
from kehu.org.choices import ALLOWED_CHILDREN, EmploymentType, NodeKind, ProjectKind, Role
from kehu.org.models import ApiToken, OrgNode, Project, Staff, StaffRole

NODE_FIELDS = ["name", "kind", "parent", "manager"]
PROJECT_FIELDS = ["name", "kind", "node", "address", "route", "is_active"]
STAFF_FIELDS = [
    "username",
    "name",
    "phone",
    "email",
    "node",
    "hire_date",
    "probation_end",
    "employment_type",
    "is_active",
    "left_on",
    "capacity",
]
MAX_NAME = 100


# --- permission checks ------------------------------------------------------------------


def can_manage_node(actor: Staff | None, node: OrgNode | None) -> bool:
    """Admins manage everything; a manager manages their own subtree."""
    if actor is None:
        return True  # the system: commands and jobs, already authorised by the operator
    if actor.is_admin:
        return True
    if node is None:
        return False
    return any(node.path.startswith(path) for path in actor.managed_paths)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("You are not allowed to do this."))


def _clean_name(value: str, field: str = "name") -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [_("This field is required.")]})
    if len(text) > MAX_NAME:
        raise ValidationError(
            {
                field: [
                    _("At most %(max)d characters (this has %(count)d).")
                    % {"max": MAX_NAME, "count": len(text)}
                ]
            }
        )
    return text


def _no_successor_message() -> str:
    return _("Nobody to hand the records to: choose a person (the node has no manager).")


def _refresh_roles(staff: Staff) -> None:
    staff.__dict__.pop("roles", None)


# --- nodes ------------------------------------------------------------------------------


def _set_path(node: OrgNode) -> None:
    parent_path = node.parent.path if node.parent is not None else "/"
    node.path = f"{parent_path}{node.pk}/"
    node.depth = node.path.count("/") - 2


@transaction.atomic
def create_node(
    *,
    actor: Staff | None,
    name: str,
    kind: str,
    parent: OrgNode | None,
    manager: Staff | None = None,
) -> OrgNode:
    name = _clean_name(name)
    if kind not in NodeKind.values:
        raise ValidationError(
            {
                "kind": [
                    _("Unknown kind %(kind)r; choose one of: %(valid)s.")
                    % {"kind": kind, "valid": ", ".join(NodeKind.values)}
                ]
            }
        )
    if parent is None:
        _require(actor is None or actor.is_admin)
        if kind != NodeKind.COMPANY:
            raise ValidationError({"parent": [_("Only a company can be at the top of the tree.")]})
        if OrgNode.objects.filter(parent__isnull=True).exists():
            raise ValidationError({"parent": [_("There is already a company; add under it.")]})
    else:
        _require(can_manage_node(actor, parent))
        if kind not in ALLOWED_CHILDREN[NodeKind(parent.kind)]:
            raise ValidationError(
                {
                    "kind": [
                        _("A %(child)s cannot be placed under a %(parent)s.")
                        % {"child": NodeKind(kind).label, "parent": NodeKind(parent.kind).label}
                    ]
                }
            )
    if OrgNode.objects.filter(parent=parent, name=name).exists():
        raise ValidationError(
            {"name": [_("There is already a node named %(name)s here.") % {"name": name}]}
        )
    try:
        with transaction.atomic():
            node = OrgNode.objects.create(name=name, kind=kind, parent=parent, manager=manager)
    except IntegrityError as exc:
        raise ValidationError(
            {"name": [_("There is already a node named %(name)s here.") % {"name": name}]}
        ) from exc
    _set_path(node)
    node.save(update_fields=["path", "depth"])
    record(actor=actor, action="org.node.create", obj=node, after=snapshot(node, NODE_FIELDS))
    return node


def company() -> OrgNode | None:
    return OrgNode.objects.filter(parent__isnull=True).first()


@transaction.atomic
def ensure_company(*, actor: Staff | None, name: str = "Kehu") -> OrgNode:
    existing = company()
    if existing is not None:
        return existing
    return create_node(actor=actor, name=name, kind=NodeKind.COMPANY, parent=None)


def find_node(path: str) -> OrgNode | None:
    """Find ``"Region/Area/Team"`` below the company (names, slash-separated)."""
    node = company()
    if node is None:
        return None
    for part in [p.strip() for p in path.split("/") if p.strip()]:
        node = OrgNode.objects.filter(parent=node, name=part).first()
        if node is None:
            return None
    return node


def node_label(node: OrgNode) -> str:
    """The ``Region/Area/Team`` form of a node's place in the tree (company left out)."""
    ids = node.ancestor_ids
    names = dict(OrgNode.objects.filter(pk__in=ids).values_list("pk", "name"))
    return "/".join(names[i] for i in ids[1:])


@transaction.atomic
def add_node_path(*, actor: Staff | None, path: str, company_name: str = "Kehu") -> OrgNode:
    """Create every missing node of ``"Region/Area/Team"``; idempotent.

    Kinds follow the tree: region under the company, area under a region, team below.
    """
    parts = [p.strip() for p in (path or "").split("/") if p.strip()]
    if not parts:
        raise ValidationError({"path": [_("Give a path such as Region/Area/Team.")]})
    if len(parts) > 3:
        raise ValidationError(
            {"path": [_("A path has at most three levels below the company: Region/Area/Team.")]}
        )
    node = ensure_company(actor=actor, name=company_name)
    for index, part in enumerate(parts):
        child = OrgNode.objects.filter(parent=node, name=part).first()
        if child is None:
            kind = [NodeKind.REGION, NodeKind.AREA, NodeKind.TEAM][index]
            child = create_node(actor=actor, name=part, kind=kind, parent=node)
        node = child
    return node


@transaction.atomic
def update_node(
    *,
    actor: Staff | None,
    node: OrgNode,
    name: str | None = None,
    manager: Staff | None | object = ...,
    parent: OrgNode | None | object = ...,
) -> OrgNode:
    _require(can_manage_node(actor, node))
    before = snapshot(node, NODE_FIELDS)
    moving = parent is not ... and parent != node.parent
    if name is not None:
        name = _clean_name(name)
        node.name = name
    if name is not None and not moving:
        _check_sibling_name(node, node.parent_id)
    if manager is not ...:
        if isinstance(manager, Staff) and not manager.is_active:
            raise ValidationError({"manager": [_("This person has left; choose an active one.")]})
        node.manager = cast(Staff | None, manager)  # the ... sentinel is ruled out above
    if moving:
        _move_node(actor=actor, node=node, parent=cast(OrgNode | None, parent))
    try:
        with transaction.atomic():
            node.save()
    except IntegrityError as exc:  # a concurrent rename won the race
        raise ValidationError(
            {"name": [_("There is already a node named %(name)s here.") % {"name": node.name}]}
        ) from exc
    after = snapshot(node, NODE_FIELDS)
    if after != before:
        record(actor=actor, action="org.node.update", obj=node, before=before, after=after)
    return node


def _check_sibling_name(node: OrgNode, parent_id: int | None) -> None:
    if OrgNode.objects.filter(parent_id=parent_id, name=node.name).exclude(pk=node.pk).exists():
        raise ValidationError(
            {"name": [_("There is already a node named %(name)s here.") % {"name": node.name}]}
        )


def _move_node(*, actor: Staff | None, node: OrgNode, parent: OrgNode | None) -> None:
    if parent is None:
        raise ValidationError({"parent": [_("Only a company can be at the top of the tree.")]})
    _require(can_manage_node(actor, parent))
    if parent.path.startswith(node.path):
        raise ValidationError({"parent": [_("A node cannot be moved under itself.")]})
    if node.kind not in ALLOWED_CHILDREN[NodeKind(parent.kind)]:
        raise ValidationError(
            {
                "parent": [
                    _("A %(child)s cannot be placed under a %(parent)s.")
                    % {"child": NodeKind(node.kind).label, "parent": NodeKind(parent.kind).label}
                ]
            }
        )
    _check_sibling_name(node, parent.pk)
    old_path = node.path
    node.parent = parent
    _set_path(node)
    node.save(update_fields=["name", "parent", "path", "depth"])
    for child in OrgNode.objects.filter(path__startswith=old_path).exclude(pk=node.pk):
        child.path = node.path + child.path[len(old_path) :]
        child.depth = child.path.count("/") - 2
        child.save(update_fields=["path", "depth"])


# --- projects -----------------------------------------------------------------------------


@transaction.atomic
def create_project(
    *,
    actor: Staff | None,
    name: str,
    node: OrgNode,
    kind: str = ProjectKind.HOUSING,
    address: str = "",
    route: str = "",
) -> Project:
    _require(can_manage_node(actor, node))
    name = _clean_name(name)
    if kind not in ProjectKind.values:
        raise ValidationError(
            {
                "kind": [
                    _("Unknown kind %(kind)r; choose one of: %(valid)s.")
                    % {"kind": kind, "valid": ", ".join(ProjectKind.values)}
                ]
            }
        )
    if Project.objects.filter(node=node, name=name).exists():
        raise ValidationError(
            {"name": [_("This node already has a project named %(name)s.") % {"name": name}]}
        )
    try:
        with transaction.atomic():
            project = Project.objects.create(
                name=name, node=node, kind=kind, address=(address or "")[:200], route=route or ""
            )
    except IntegrityError as exc:  # a concurrent create won the race
        raise ValidationError(
            {"name": [_("This node already has a project named %(name)s.") % {"name": name}]}
        ) from exc
    record(
        actor=actor,
        action="org.project.create",
        obj=project,
        after=snapshot(project, PROJECT_FIELDS),
    )
    return project


@transaction.atomic
def update_project(*, actor: Staff | None, project: Project, **changes: Any) -> Project:
    _require(can_manage_node(actor, project.node))
    before = snapshot(project, PROJECT_FIELDS)
    if "name" in changes:
        changes["name"] = _clean_name(changes["name"])
    if "node" in changes:
        _require(can_manage_node(actor, changes["node"]))
    for key, value in changes.items():
        if key not in PROJECT_FIELDS:
            raise ValidationError({key: [_("This field cannot be changed.")]})
        setattr(project, key, value)
    project.full_clean(validate_unique=True)
    project.save()
    after = snapshot(project, PROJECT_FIELDS)
    if after != before:
        record(actor=actor, action="org.project.update", obj=project, before=before, after=after)
    return project


# --- staff --------------------------------------------------------------------------------


def _validate_roles(roles: Iterable[str]) -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationError(
            {
                "roles": [
                    _("Unknown role %(role)s; valid roles are: %(valid)s.")
                    % {"role": ", ".join(unknown), "valid": ", ".join(Role.values)}
                ]
            }
        )
    if not roles:
        raise ValidationError({"roles": [_("Give at least one role.")]})
    return roles


def _check_role_grant(actor: Staff | None, roles: Iterable[str], node: OrgNode | None) -> None:
    """Only admins grant admin; a manager grants the other roles within their subtree."""
    if actor is None or actor.is_admin:
        return
    if Role.ADMIN in roles:
        raise PermissionDenied(_("Only an administrator can grant the admin role."))
    _require(node is not None and can_manage_node(actor, node))


def _clean_staff_fields(data: dict[str, Any], instance: Staff | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if len(data["name"]) > MAX_NAME:
            errors["name"] = [
                _("At most %(max)d characters (this has %(count)d).")
                % {"max": MAX_NAME, "count": len(data["name"])}
            ]
    if data.get("phone"):
        try:
            data["phone"] = normalise_phone(data["phone"])
        except ValidationError as exc:
            errors["phone"] = list(exc.messages)
        else:
            clash = Staff.objects.filter(phone=data["phone"])
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors["phone"] = [_("Another staff member already has this number.")]
    elif "phone" in data:
        data["phone"] = None
    if "employment_type" in data and data["employment_type"] not in EmploymentType.values:
        errors["employment_type"] = [
            _("Unknown employment type; choose one of: %(valid)s.")
            % {"valid": ", ".join(EmploymentType.values)}
        ]
    hire = data.get("hire_date", instance.hire_date if instance else None)
    probation = data.get("probation_end", instance.probation_end if instance else None)
    if hire and probation and probation < hire:
        errors["probation_end"] = [_("Probation cannot end before the hire date.")]
    if "capacity" in data:
        try:
            data["capacity"] = int(data["capacity"])
        except (TypeError, ValueError):
            data["capacity"] = -1
        if not 0 <= data["capacity"] <= 10000:
            errors["capacity"] = [_("Capacity must be between 0 and 10000.")]
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def create_staff(
    *,
    actor: Staff | None,
    username: str,
    roles: Iterable[str],
    node: OrgNode | None = None,
    password: str | None = None,
    name: str = "",
    phone: str | None = None,
    email: str = "",
    hire_date: datetime.date | None = None,
    probation_end: datetime.date | None = None,
    employment_type: str = EmploymentType.FULL_TIME,
    capacity: int = 100,
) -> Staff:
    roles = _validate_roles(roles)
    _check_role_grant(actor, roles, node)
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": [_("This field is required.")]})
    field = Staff._meta.get_field("username")
    try:
        field.run_validators(username)
    except ValidationError as exc:
        raise ValidationError({"username": exc.messages}) from exc
    if len(username) > 150:
        raise ValidationError({"username": [_("At most 150 characters.")]})
    if Staff.objects.filter(username=username).exists():
        raise ValidationError({"username": [_("This username is taken.")]})
    data = _clean_staff_fields(
        {
            "name": name,
            "phone": phone,
            "email": email or "",
            "hire_date": hire_date,
            "probation_end": probation_end,
            "employment_type": employment_type,
            "capacity": capacity,
        }
    )
    staff = Staff(username=username, node=node, **data)
    if password:
        from django.contrib.auth.password_validation import validate_password

        try:
            validate_password(password, staff)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        staff.set_password(password)
    else:
        staff.set_unusable_password()
    try:
        with transaction.atomic():
            staff.save()
    except IntegrityError as exc:
        raise ValidationError({"username": [_("This username or number is taken.")]}) from exc
    StaffRole.objects.bulk_create([StaffRole(staff=staff, role=r) for r in roles])
    _refresh_roles(staff)
    after = snapshot(staff, STAFF_FIELDS) | {"roles": sorted(roles)}
    record(actor=actor, action="org.staff.create", obj=staff, after=after)
    return staff


def can_edit_staff(actor: Staff | None, staff: Staff) -> bool:
    if actor is None or actor.is_admin:
        return True
    if staff.is_admin:
        return False
    return staff.node is not None and can_manage_node(actor, staff.node) and staff.pk != actor.pk


@transaction.atomic
def update_staff(*, actor: Staff | None, staff: Staff, **changes: Any) -> Staff:
    """Edit profile fields. Moving to another node goes through :func:`move_staff`."""
    _require(can_edit_staff(actor, staff))
    allowed = {
        "name",
        "phone",
        "email",
        "hire_date",
        "probation_end",
        "employment_type",
        "capacity",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({k: [_("This field cannot be changed here.")] for k in unknown})
    before = snapshot(staff, STAFF_FIELDS)
    for key, value in _clean_staff_fields(dict(changes), instance=staff).items():
        setattr(staff, key, value)
    staff.save()
    after = snapshot(staff, STAFF_FIELDS)
    if after != before:
        record(actor=actor, action="org.staff.update", obj=staff, before=before, after=after)
    return staff


@transaction.atomic
def update_own_profile(*, actor: Staff, **changes: Any) -> Staff:
    """What anyone may change about themselves: name, mobile, email."""
    allowed = {"name", "phone", "email"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({k: [_("This field cannot be changed here.")] for k in unknown})
    before = snapshot(actor, STAFF_FIELDS)
    for key, value in _clean_staff_fields(dict(changes), instance=actor).items():
        setattr(actor, key, value)
    actor.save()
    after = snapshot(actor, STAFF_FIELDS)
    if after != before:
        record(
            actor=actor, action="org.staff.update_profile", obj=actor, before=before, after=after
        )
    return actor


@transaction.atomic
def set_roles(*, actor: Staff | None, staff: Staff, roles: Iterable[str]) -> Staff:
    roles = _validate_roles(roles)
    _require(can_edit_staff(actor, staff))
    old = sorted(staff.roles)
    added = set(roles) - set(old)
    _check_role_grant(actor, added | set(roles) if Role.ADMIN in added else added, staff.node)
    if actor is not None and not actor.is_admin and Role.ADMIN in old:
        raise PermissionDenied(_("Only an administrator can change an administrator's roles."))
    StaffRole.objects.filter(staff=staff).exclude(role__in=roles).delete()
    StaffRole.objects.bulk_create([StaffRole(staff=staff, role=r) for r in roles if r not in old])
    _refresh_roles(staff)
    if sorted(roles) != old:
        record(
            actor=actor,
            action="org.staff.set_roles",
            obj=staff,
            before={"roles": old},
            after={"roles": sorted(roles)},
        )
    return staff


def _check_successor(staff: Staff, successor: Staff) -> None:
    """Records go to someone else who still works here."""
    if successor.pk == staff.pk:
        raise ValidationError({"reassign_to": [_("Choose someone other than the person leaving.")]})
    if not successor.is_active:
        raise ValidationError({"reassign_to": [_("This person has left; choose an active one.")]})


def default_successor(staff: Staff) -> Staff | None:
    """The manager of the person's node, or of the nearest ancestor that has one."""
    if staff.node is None:
        return None
    ids = list(reversed(staff.node.ancestor_ids))
    managers = dict(
        OrgNode.objects.filter(pk__in=ids, manager__isnull=False, manager__is_active=True)
        .exclude(manager=staff)
        .values_list("pk", "manager")
    )
    for node_id in ids:
        if node_id in managers:
            return Staff.objects.get(pk=managers[node_id])
    return None


@transaction.atomic
def move_staff(
    *,
    actor: Staff | None,
    staff: Staff,
    node: OrgNode,
    reassign_to: Staff | None = None,
    keep_records: bool = True,
) -> dict[str, int]:
    """Move a person to another node.

    ``keep_records=True`` (the default) lets their records travel with them; with
    ``False`` their records stay in the old node, handed to ``reassign_to`` or to the old
    node's manager. Returns what was moved, per kind of record.
    """
    _require(can_edit_staff(actor, staff) and can_manage_node(actor, node))
    before = snapshot(staff, STAFF_FIELDS)
    moved: dict[str, int] = {}
    if not keep_records:
        successor = reassign_to or default_successor(staff)
        if successor is None:
            raise ValidationError({"reassign_to": [_no_successor_message()]})
        _check_successor(staff, successor)
        moved = ownership.reassign_all(actor=actor, from_staff=staff, to_staff=successor)
    staff.node = node
    staff.save(update_fields=["node"])
    # Records they keep follow them to the new node (customers' team = owner's team).
    followed = ownership.follow_all(actor=actor, staff=staff, node=node) if keep_records else {}
    after = snapshot(staff, STAFF_FIELDS) | {"reassigned": moved}
    if any(followed.values()):
        after["moved_with"] = {k: v for k, v in followed.items() if v}
    record(actor=actor, action="org.staff.move", obj=staff, before=before, after=after)
    return moved


@transaction.atomic
def mark_staff_left(
    *,
    actor: Staff | None,
    staff: Staff,
    left_on: datetime.date | None = None,
    reassign_to: Staff | None = None,
) -> dict[str, int]:
    """The person leaves: their records go to ``reassign_to`` (or the node's manager),
    their tokens are revoked, and they can no longer log in. Nothing is deleted."""
    _require(can_edit_staff(actor, staff))
    if not staff.is_active:
        raise ValidationError({"left_on": [_("This person has already left.")]})
    successor = reassign_to or default_successor(staff)
    if successor is not None:
        _check_successor(staff, successor)
    moved = ownership.owned_counts(staff)
    if successor is None and any(moved.values()):
        raise ValidationError({"reassign_to": [_no_successor_message()]})
    before = snapshot(staff, STAFF_FIELDS)
    moved = (
        ownership.reassign_all(actor=actor, from_staff=staff, to_staff=successor)
        if successor is not None
        else {}
    )
    staff.is_active = False
    staff.left_on = left_on or timezone.localdate()
    staff.save(update_fields=["is_active", "left_on"])
    revoked = ApiToken.objects.filter(staff=staff, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    record(
        actor=actor,
        action="org.staff.leave",
        obj=staff,
        before=before,
        after=snapshot(staff, STAFF_FIELDS)
        | {
            "reassigned_to": successor.pk if successor else None,
            "reassigned": moved,
            "revoked_tokens": revoked,
        },
    )
    return moved


@transaction.atomic
def set_password(*, actor: Staff | None, staff: Staff, password: str) -> Staff:
    _require(actor is None or actor.pk == staff.pk or can_edit_staff(actor, staff))
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, staff)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    staff.set_password(password)
    staff.save(update_fields=["password"])
    record(actor=actor, action="org.staff.set_password", obj=staff)
    return staff


# --- API tokens ---------------------------------------------------------------------------

TOKEN_PREFIX = "kehu_"


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_api_token(
    *, actor: Staff | None, staff: Staff, name: str = "default"
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the key, which is shown once and never stored."""
    _require(actor is None or actor.pk == staff.pk or (actor.is_admin))
    if not staff.is_active:
        raise ValidationError({"staff": [_("This person has left; no token can be issued.")]})
    name = _clean_name(name or "default")
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        staff=staff, name=name, prefix=key[:12], key_hash=hash_token(key)
    )
    record(
        actor=actor, action="org.token.issue", obj=token, object_repr=f"{staff.username}: {token}"
    )
    return token, key


@transaction.atomic
def revoke_api_token(*, actor: Staff | None, token: ApiToken) -> ApiToken:
    _require(actor is None or actor.pk == token.staff_id or actor.is_admin)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            action="org.token.revoke",
            obj=token,
            object_repr=f"{token.staff.username}: {token}",
        )
    return token


def authenticate_token(key: str) -> Staff | None:
    """The active staff member a key belongs to, or None. Touches ``last_used_at`` at
    most once a minute so that reads do not turn into writes."""
    if not key or not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    found = _token_staff(hash_token(key))
    if found is None:
        return None
    token_id, last_used_at, staff = found
    if not staff.is_active:
        return None
    now = timezone.now()
    if last_used_at is None or now - last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return staff


_TOKEN_SQL: dict[str, str] = {}


def _token_sql(vendor: str) -> str:
    """One statement for the token, its staff member, their node and their roles.

    Every API request authenticates, so this is the hottest read there is: the ORM
    equivalent (select_related plus the roles query) costs two round trips and about
    1 ms of query compilation a request (measured with the registration benchmark).
    The column lists come from the models' metadata, so the SQL follows the models.
    """
    if vendor not in _TOKEN_SQL:
        staff_cols = ", ".join(f's."{f.column}"' for f in Staff._meta.concrete_fields)
        node_cols = ", ".join(f'n."{f.column}"' for f in OrgNode._meta.concrete_fields)
        roles = (
            "ARRAY(SELECT r.role FROM org_staffrole r WHERE r.staff_id = s.id)"
            if vendor == "postgresql"
            else "(SELECT group_concat(r.role, ',') FROM org_staffrole r WHERE r.staff_id = s.id)"
        )
        _TOKEN_SQL[vendor] = (
            # Identifiers from model metadata only; the key hash is a parameter.
            f"SELECT t.id, t.last_used_at, {roles}, {staff_cols}, {node_cols} "  # noqa: S608
            f"FROM {ApiToken._meta.db_table} t "
            f"JOIN {Staff._meta.db_table} s ON s.id = t.staff_id "
            f"LEFT JOIN {OrgNode._meta.db_table} n ON n.id = s.node_id "
            "WHERE t.key_hash = %s AND t.revoked_at IS NULL"
        )
    return _TOKEN_SQL[vendor]


def _token_staff(key_hash: str) -> tuple[int, datetime.datetime | None, Staff] | None:
    from django.db import connection

    from kehu.core import prepared

    row = prepared.fetchone(_token_sql(connection.vendor), [key_hash])
    if row is None:
        return None
    token_id, last_used_at, roles = row[0], row[1], row[2]
    n_staff = len(Staff._meta.concrete_fields)
    staff_values = _from_db(connection, Staff, row[3 : 3 + n_staff])
    node_values = _from_db(connection, OrgNode, row[3 + n_staff :])
    last_used_at = _from_db(connection, ApiToken, [last_used_at], ["last_used_at"])[0]
    if isinstance(roles, str) or roles is None:  # SQLite's group_concat
        roles = roles.split(",") if roles else []
    staff = Staff.from_db("default", [f.attname for f in Staff._meta.concrete_fields], staff_values)
    if node_values[0] is not None:
        node = OrgNode.from_db(
            "default", [f.attname for f in OrgNode._meta.concrete_fields], node_values
        )
        Staff.node.field.set_cached_value(staff, node)
    staff.__dict__["roles"] = frozenset(roles)
    return token_id, last_used_at, staff


_CONVERTERS: dict[tuple[Any, ...], list[tuple[Any, list[Any]]]] = {}


def _from_db(connection: Any, model: Any, values: Any, names: list[str] | None = None) -> list[Any]:
    """Apply the converters the ORM applies to values read from the database (looked up
    once per model and backend: this runs on every API request)."""
    key = (connection.vendor, model, tuple(names) if names else None)
    converters = _CONVERTERS.get(key)
    if converters is None:
        fields = [model._meta.get_field(n) for n in names] if names else model._meta.concrete_fields
        converters = []
        for field in fields:
            col = _Col(field)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            converters.append((col, found))
        _CONVERTERS[key] = converters
    out = []
    for (col, found), value in zip(converters, values, strict=True):
        for converter in found:
            value = converter(value, col, connection)
        out.append(value)
    return out


class _Col:
    """The shape get_db_converters expects (an expression with an output field)."""

    def __init__(self, field: Any) -> None:
        self.output_field = field
        self.target = field
