"""Org services: the only writers of nodes, staff, roles and tokens.

Every write has an allowed case (exact result, exactly the audit events it documents)
and a denied case (PermissionDenied, nothing changed, no audit event).
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from kehu.core import ownership
from kehu.core.context import acting
from kehu.core.models import AuditEvent
from kehu.core.testing import mark
from kehu.org import services
from kehu.org.models import ApiToken, OrgNode, Staff, StaffRole
from kehu.org.ownership import reassign_managed_nodes

# Every app's reassignment handler, as registered when the apps loaded.
EVERY_HANDLER = dict(ownership._handlers)
ALL_ROLES = "admin, manager, commissioner, consultant, promoter, broker"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- helpers ------------------------------------------------------------------------------


def events_since(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=since).order_by("id"))


def summary(events: list[AuditEvent]) -> list[tuple[str, str, str, str]]:
    return [(e.action, e.actor_label, e.object_type, e.object_id) for e in events]


def db_state() -> dict[str, Any]:
    """Everything an org service can write, to prove a refused call changed nothing."""
    return {
        "nodes": list(OrgNode.objects.order_by("pk").values()),
        "staff": list(Staff.objects.order_by("pk").values()),
        "roles": list(StaffRole.objects.order_by("pk").values()),
        "tokens": list(ApiToken.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


def assert_denied(func, **kwargs) -> None:
    before = db_state()
    with pytest.raises(PermissionDenied):
        func(**kwargs)
    assert db_state() == before


def assert_invalid(func, field: str, messages: list[str], **kwargs) -> None:
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        func(**kwargs)
    assert exc.value.message_dict == {field: messages}
    assert db_state() == before


def fresh(obj):
    obj.refresh_from_db()
    obj.__dict__.pop("roles", None)
    return obj


# --- nodes: create ------------------------------------------------------------------------


def test_admin_creates_a_region_with_one_audit_event(cast):
    since = mark()
    node = services.create_node(
        actor=cast.admin, name=" 华南大区 ", kind="region", parent=cast.company
    )
    assert (node.name, node.kind, node.parent_id, node.depth) == (
        "华南大区",
        "region",
        cast.company.pk,
        1,
    )
    assert node.path == f"/{cast.company.pk}/{node.pk}/"
    [event] = events_since(since)
    assert (event.action, event.actor_id, event.actor_label, event.source) == (
        "org.node.create",
        cast.admin.pk,
        "admin",
        "system",
    )
    assert (event.object_type, event.object_id, event.object_repr) == (
        "org.orgnode",
        str(node.pk),
        "华南大区",
    )
    assert event.before is None
    assert event.after == {
        "name": "华南大区",
        "kind": "region",
        "parent": cast.company.pk,
        "manager": None,
    }
    assert event.actor_node_path == cast.company.path


def test_region_manager_creates_an_area_in_their_region(cast):
    node = services.create_node(
        actor=cast.region_manager, name="杭州区域", kind="area", parent=cast.region
    )
    assert node.path == f"{cast.region.path}{node.pk}/"


def test_manager_cannot_create_a_node_outside_their_subtree(cast):
    assert_denied(
        services.create_node, actor=cast.manager, name="新区域", kind="area", parent=cast.region
    )


@pytest.mark.parametrize("persona", ["consultant", "promoter", "broker", "commissioner"])
def test_non_managers_cannot_create_nodes(cast, persona):
    assert_denied(
        services.create_node,
        actor=getattr(cast, persona),
        name="新区域",
        kind="area",
        parent=cast.region,
    )


def test_only_an_admin_creates_a_second_top_level_node(cast):
    assert_denied(
        services.create_node,
        actor=cast.region_manager,
        name="别的公司",
        kind="company",
        parent=None,
    )


def test_there_is_only_one_company(cast):
    assert_invalid(
        services.create_node,
        "parent",
        ["There is already a company; add under it."],
        actor=cast.admin,
        name="别的公司",
        kind="company",
        parent=None,
    )


@pytest.mark.parametrize(
    ("kind", "parent", "message"),
    [
        ("team", "company", "A Team cannot be placed under a Company."),
        ("area", "company", "A Area cannot be placed under a Company."),
        ("region", "region", "A Region cannot be placed under a Region."),
        ("team", "region", "A Team cannot be placed under a Region."),
        ("region", "area", "A Region cannot be placed under a Area."),
        ("team", "team", "A Team cannot be placed under a Team."),
        ("company", "region", "A Company cannot be placed under a Region."),
    ],
)
def test_kind_rules_company_region_area_team(cast, kind, parent, message):
    assert_invalid(
        services.create_node,
        "kind",
        [message],
        actor=cast.admin,
        name="X",
        kind=kind,
        parent=getattr(cast, parent),
    )


def test_branch_under_region_and_team_under_branch_are_allowed(cast):
    branch = services.create_node(
        actor=cast.admin, name="苏州分部", kind="branch", parent=cast.region
    )
    team = services.create_node(actor=cast.admin, name="苏州一组", kind="team", parent=branch)
    assert (branch.depth, team.depth) == (2, 3)
    assert team.path == f"{branch.path}{team.pk}/"


def test_unknown_kind_is_rejected_with_the_valid_kinds(cast):
    assert_invalid(
        services.create_node,
        "kind",
        ["Unknown kind 'district'; choose one of: company, region, area, branch, team."],
        actor=cast.admin,
        name="X",
        kind="district",
        parent=cast.region,
    )


def test_duplicate_sibling_name_is_rejected(cast):
    assert_invalid(
        services.create_node,
        "name",
        ["There is already a node named 一组 here."],
        actor=cast.admin,
        name=" 一组 ",
        kind="team",
        parent=cast.area,
    )


def test_same_name_under_another_parent_is_fine(cast):
    area = services.create_node(actor=cast.admin, name="杭州区域", kind="area", parent=cast.region)
    team = services.create_node(actor=cast.admin, name="一组", kind="team", parent=area)
    assert team.parent_id == area.pk


def test_database_rejects_duplicate_sibling_names_without_the_service(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgNode.objects.create(name="一组", kind="team", parent=cast.area)
    assert OrgNode.objects.filter(parent=cast.area, name="一组").count() == 1


def test_database_rejects_an_unknown_kind_without_the_service(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgNode.objects.create(name="X", kind="district", parent=cast.area)


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "This field is required."), ("名" * 101, "At most 100 characters (this has 101).")],
)
def test_node_name_is_required_and_bounded(cast, name, message):
    assert_invalid(
        services.create_node,
        "name",
        [message],
        actor=cast.admin,
        name=name,
        kind="area",
        parent=cast.region,
    )


# --- nodes: add_node_path -----------------------------------------------------------------


def test_add_node_path_creates_the_missing_levels_with_their_kinds(cast):
    since = mark()
    team = services.add_node_path(actor=cast.admin, path="华南大区/广州区域/天河组")
    area = team.parent
    region = area.parent
    assert [(n.name, n.kind) for n in (region, area, team)] == [
        ("华南大区", "region"),
        ("广州区域", "area"),
        ("天河组", "team"),
    ]
    assert region.parent_id == cast.company.pk
    assert [e.action for e in events_since(since)] == ["org.node.create"] * 3


def test_add_node_path_is_idempotent(cast):
    first = services.add_node_path(actor=None, path="华南大区/广州区域/天河组")
    count, since = OrgNode.objects.count(), mark()
    again = services.add_node_path(actor=None, path=" 华南大区 / 广州区域 / 天河组 ")
    assert again.pk == first.pk
    assert OrgNode.objects.count() == count
    assert events_since(since) == []


def test_add_node_path_reuses_existing_levels(cast):
    since = mark()
    team = services.add_node_path(actor=None, path="华东大区/上海区域/三组")
    assert team.parent_id == cast.area.pk
    assert summary(events_since(since)) == [
        ("org.node.create", "system", "org.orgnode", str(team.pk))
    ]


def test_add_node_path_creates_the_company_on_an_empty_database(db):
    team = services.add_node_path(actor=None, path="华东/上海/一组", company_name="新公司")
    assert [n.name for n in OrgNode.objects.order_by("depth")] == ["新公司", "华东", "上海", "一组"]
    assert team.depth == 3


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "Give a path such as Region/Area/Team."),
        (" / / ", "Give a path such as Region/Area/Team."),
        ("a/b/c/d", "A path has at most three levels below the company: Region/Area/Team."),
    ],
)
def test_add_node_path_rejects_bad_paths(cast, path, message):
    assert_invalid(services.add_node_path, "path", [message], actor=None, path=path)


def test_add_node_path_checks_permission(cast):
    assert_denied(services.add_node_path, actor=cast.manager, path="华南大区")


def test_find_node_and_node_label(cast):
    assert services.find_node("华东大区/上海区域/一组") == cast.team
    assert services.find_node(" 华东大区 / 上海区域 ") == cast.area
    assert services.find_node("华东大区/上海区域/三组") is None
    assert services.node_label(cast.team) == "华东大区/上海区域/一组"


# --- nodes: move --------------------------------------------------------------------------


def test_moving_an_area_rewrites_the_paths_of_its_whole_subtree(cast):
    south = services.create_node(actor=None, name="华南大区", kind="region", parent=cast.company)
    untouched = services.add_node_path(actor=None, path="华东大区/杭州区域/西湖组")
    since = mark()
    services.update_node(actor=cast.admin, node=cast.area, parent=south)
    area, team, other_team = (fresh(n) for n in (cast.area, cast.team, cast.other_team))
    assert area.parent_id == south.pk
    assert area.path == f"{south.path}{area.pk}/"
    assert team.path == f"{south.path}{area.pk}/{team.pk}/"
    assert other_team.path == f"{south.path}{area.pk}/{other_team.pk}/"
    assert (area.depth, team.depth, other_team.depth) == (2, 3, 3)
    assert fresh(untouched).path.startswith(cast.region.path)
    assert set(
        OrgNode.objects.filter(path__startswith=south.path).values_list("pk", flat=True)
    ) == {
        south.pk,
        area.pk,
        team.pk,
        other_team.pk,
    }
    [event] = events_since(since)
    assert (event.action, event.actor_id) == ("org.node.update", cast.admin.pk)
    assert event.before == {
        "name": "上海区域",
        "kind": "area",
        "parent": cast.region.pk,
        "manager": None,
    }
    assert event.after == {"name": "上海区域", "kind": "area", "parent": south.pk, "manager": None}
    # The region manager no longer manages the team; the team manager still does.
    assert not fresh(cast.team).path.startswith(fresh(cast.region_manager).managed_paths[0])
    assert fresh(cast.manager).managed_paths == [team.path]


def test_region_manager_moves_a_team_between_their_areas(cast):
    area = services.create_node(actor=None, name="杭州区域", kind="area", parent=cast.region)
    services.update_node(actor=cast.region_manager, node=cast.team, parent=area)
    assert fresh(cast.team).path == f"{area.path}{cast.team.pk}/"


def test_manager_cannot_move_their_team_out_of_their_subtree(cast):
    area = services.create_node(actor=None, name="杭州区域", kind="area", parent=cast.region)
    assert_denied(services.update_node, actor=cast.manager, node=cast.team, parent=area)


def test_manager_cannot_move_someone_elses_team(cast):
    assert_denied(services.update_node, actor=cast.manager, node=cast.other_team, parent=cast.area)


@pytest.mark.parametrize("target", ["team", "area"])
def test_a_node_cannot_be_moved_under_itself(cast, target):
    assert_invalid(
        services.update_node,
        "parent",
        ["A node cannot be moved under itself."],
        actor=cast.admin,
        node=cast.area,
        parent=getattr(cast, target),
    )


def test_a_move_follows_the_kind_rules(cast):
    assert_invalid(
        services.update_node,
        "parent",
        ["A Team cannot be placed under a Region."],
        actor=cast.admin,
        node=cast.team,
        parent=cast.region,
    )


def test_a_node_cannot_become_a_second_top_level_node(cast):
    assert_invalid(
        services.update_node,
        "parent",
        ["Only a company can be at the top of the tree."],
        actor=cast.admin,
        node=cast.team,
        parent=None,
    )


def test_a_move_rejects_a_name_taken_in_the_new_parent(cast):
    area = services.add_node_path(actor=None, path="华东大区/杭州区域/一组").parent
    assert_invalid(
        services.update_node,
        "name",
        ["There is already a node named 一组 here."],
        actor=cast.admin,
        node=cast.team,
        parent=area,
    )


def test_rename_and_move_together_checks_the_name_in_the_new_parent(cast):
    area = services.add_node_path(actor=None, path="华东大区/杭州区域/西湖组").parent
    assert_invalid(
        services.update_node,
        "name",
        ["There is already a node named 西湖组 here."],
        actor=cast.admin,
        node=cast.team,
        name="西湖组",
        parent=area,
    )
    services.update_node(actor=cast.admin, node=cast.team, name="二组", parent=area)
    team = fresh(cast.team)
    assert (team.name, team.parent_id) == ("二组", area.pk)


def test_renaming_to_a_sibling_name_is_rejected(cast):
    assert_invalid(
        services.update_node,
        "name",
        ["There is already a node named 二组 here."],
        actor=cast.admin,
        node=cast.team,
        name="二组",
    )


def test_update_node_without_changes_writes_no_event(cast):
    since = mark()
    services.update_node(actor=cast.admin, node=cast.team, name="一组", parent=cast.area)
    assert events_since(since) == []


def test_manager_renames_their_own_team(cast):
    since = mark()
    services.update_node(actor=cast.manager, node=cast.team, name="一组（新）")
    [event] = events_since(since)
    assert (event.action, event.before["name"], event.after["name"]) == (
        "org.node.update",
        "一组",
        "一组（新）",
    )


def test_a_person_who_left_cannot_become_a_manager(cast):
    services.mark_staff_left(actor=None, staff=cast.promoter)
    assert_invalid(
        services.update_node,
        "manager",
        ["This person has left; choose an active one."],
        actor=cast.admin,
        node=cast.team,
        manager=fresh(cast.promoter),
    )


def test_admin_sets_a_nodes_manager(cast):
    since = mark()
    services.update_node(actor=cast.admin, node=cast.area, manager=cast.consultant)
    [event] = events_since(since)
    assert (event.before["manager"], event.after["manager"]) == (None, cast.consultant.pk)


# --- projects -----------------------------------------------------------------------------


def test_manager_creates_a_project_in_their_team(cast):
    since = mark()
    project = services.create_project(
        actor=cast.manager,
        name=" 滨江壹号院 ",
        node=cast.team,
        address="上海市浦东新区滨江大道 1888 号",
    )
    assert (project.name, project.node_id, project.kind, project.is_active) == (
        "滨江壹号院",
        cast.team.pk,
        "housing",
        True,
    )
    [event] = events_since(since)
    assert (event.action, event.actor_id, event.object_type) == (
        "org.project.create",
        cast.manager.pk,
        "org.project",
    )
    assert event.after == {
        "name": "滨江壹号院",
        "kind": "housing",
        "node": cast.team.pk,
        "address": "上海市浦东新区滨江大道 1888 号",
        "route": "",
        "is_active": True,
    }


def test_manager_cannot_create_a_project_in_another_team(cast):
    assert_denied(services.create_project, actor=cast.manager, name="X", node=cast.other_team)


def test_consultant_cannot_create_a_project(cast):
    assert_denied(services.create_project, actor=cast.consultant, name="X", node=cast.team)


def test_project_names_are_unique_per_node(cast):
    services.create_project(actor=None, name="滨江壹号院", node=cast.team)
    assert_invalid(
        services.create_project,
        "name",
        ["This node already has a project named 滨江壹号院."],
        actor=cast.admin,
        name="滨江壹号院",
        node=cast.team,
    )
    assert (
        services.create_project(actor=None, name="滨江壹号院", node=cast.other_team).node_id
        == cast.other_team.pk
    )


def test_project_kind_must_be_known(cast):
    assert_invalid(
        services.create_project,
        "kind",
        ["Unknown kind 'castle'; choose one of: housing, dealership, club, other."],
        actor=cast.admin,
        name="X",
        node=cast.team,
        kind="castle",
    )


def test_manager_updates_their_project_with_one_event(cast):
    project = services.create_project(actor=None, name="滨江壹号院", node=cast.team)
    since = mark()
    services.update_project(actor=cast.manager, project=project, name="滨江贰号院", is_active=False)
    project.refresh_from_db()
    assert (project.name, project.is_active) == ("滨江贰号院", False)
    [event] = events_since(since)
    assert (event.action, event.before["name"], event.after["name"], event.after["is_active"]) == (
        "org.project.update",
        "滨江壹号院",
        "滨江贰号院",
        False,
    )


def test_manager_cannot_move_a_project_out_of_their_team(cast):
    project = services.create_project(actor=None, name="滨江壹号院", node=cast.team)
    assert_denied(
        services.update_project, actor=cast.manager, project=project, node=cast.other_team
    )


def test_manager_cannot_update_another_teams_project(cast):
    project = services.create_project(actor=None, name="滨江壹号院", node=cast.other_team)
    assert_denied(services.update_project, actor=cast.manager, project=project, name="X")


# --- staff: create ------------------------------------------------------------------------


def test_admin_creates_staff_with_roles_and_a_normalised_phone(cast):
    since = mark()
    alice = services.create_staff(
        actor=cast.admin,
        username="alice",
        roles=["consultant", "promoter", "consultant"],
        node=cast.team,
        password="s3cret-pass-phrase",
        name=" 王芳 ",
        phone="138 1234 5678",
        email="alice@example.com",
        hire_date=datetime.date(2026, 1, 5),
        probation_end=datetime.date(2026, 4, 5),
    )
    alice = fresh(alice)
    assert alice.roles == frozenset({"consultant", "promoter"})
    assert (alice.name, alice.phone, alice.node_id, alice.is_active) == (
        "王芳",
        "+8613812345678",
        cast.team.pk,
        True,
    )
    assert alice.check_password("s3cret-pass-phrase")
    [event] = events_since(since)
    assert (event.action, event.actor_id, event.object_type, event.object_id) == (
        "org.staff.create",
        cast.admin.pk,
        "org.staff",
        str(alice.pk),
    )
    assert event.before is None
    assert event.after == {
        "username": "alice",
        "name": "王芳",
        "phone": "+8613812345678",
        "email": "alice@example.com",
        "node": cast.team.pk,
        "hire_date": "2026-01-05",
        "probation_end": "2026-04-05",
        "employment_type": "full_time",
        "is_active": True,
        "left_on": None,
        "capacity": 100,
        "roles": ["consultant", "promoter"],
    }


def test_staff_without_password_cannot_log_in(cast):
    bob = services.create_staff(actor=None, username="bob", roles=["broker"])
    assert not bob.has_usable_password()
    assert (bob.phone, bob.node_id) == (None, None)


def test_manager_creates_a_consultant_in_their_team(cast):
    alice = services.create_staff(
        actor=cast.manager, username="alice", roles=["consultant"], node=cast.team
    )
    assert fresh(alice).roles == frozenset({"consultant"})


def test_manager_cannot_grant_admin_when_creating(cast):
    assert_denied(
        services.create_staff, actor=cast.manager, username="alice", roles=["admin"], node=cast.team
    )


def test_manager_cannot_create_staff_in_another_team(cast):
    assert_denied(
        services.create_staff,
        actor=cast.manager,
        username="alice",
        roles=["consultant"],
        node=cast.other_team,
    )


def test_manager_cannot_create_staff_without_a_node(cast):
    assert_denied(
        services.create_staff, actor=cast.manager, username="alice", roles=["broker"], node=None
    )


@pytest.mark.parametrize("persona", ["consultant", "promoter", "broker", "commissioner"])
def test_non_managers_cannot_create_staff(cast, persona):
    assert_denied(
        services.create_staff,
        actor=getattr(cast, persona),
        username="alice",
        roles=["consultant"],
        node=cast.team,
    )


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (["boss"], f"Unknown role boss; valid roles are: {ALL_ROLES}."),
        (["consultant", "boss", "chef"], f"Unknown role boss, chef; valid roles are: {ALL_ROLES}."),
        ([], "Give at least one role."),
    ],
)
def test_create_staff_validates_roles_listing_the_valid_ones(cast, roles, message):
    assert_invalid(
        services.create_staff, "roles", [message], actor=cast.admin, username="alice", roles=roles
    )


def test_create_staff_rejects_a_taken_username(cast):
    assert_invalid(
        services.create_staff,
        "username",
        ["This username is taken."],
        actor=cast.admin,
        username="consultant",
        roles=["broker"],
    )


@pytest.mark.parametrize("username", ["", "   ", "has space", "a/b", "x" * 151])
def test_create_staff_rejects_bad_usernames(cast, username):
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        services.create_staff(actor=cast.admin, username=username, roles=["broker"])
    assert list(exc.value.message_dict) == ["username"]
    assert db_state() == before


@pytest.mark.parametrize("written", ["13800000005", "+86 138 0000 0005", "0086-138-0000-0005"])
def test_create_staff_rejects_a_phone_that_another_person_has(cast, written):
    assert_invalid(
        services.create_staff,
        "phone",
        ["Another staff member already has this number."],
        actor=cast.admin,
        username="alice",
        roles=["consultant"],
        phone=written,
    )


def test_create_staff_rejects_an_invalid_phone(cast):
    assert_invalid(
        services.create_staff,
        "phone",
        ["A mainland mobile number has 11 digits; this one has 10."],
        actor=cast.admin,
        username="alice",
        roles=["consultant"],
        phone="1381234567",
    )


def test_create_staff_rejects_probation_before_hire(cast):
    assert_invalid(
        services.create_staff,
        "probation_end",
        ["Probation cannot end before the hire date."],
        actor=cast.admin,
        username="alice",
        roles=["consultant"],
        hire_date=datetime.date(2026, 3, 1),
        probation_end=datetime.date(2026, 2, 1),
    )


def test_database_rejects_a_duplicate_phone_without_the_service(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.create(username="sneaky", phone=cast.consultant.phone)


def test_database_rejects_an_unknown_role_without_the_service(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffRole.objects.create(staff=cast.consultant, role="boss")


# --- staff: profile and password ---------------------------------------------------------


def test_manager_edits_a_consultants_profile_with_one_event(cast):
    since = mark()
    services.update_staff(
        actor=cast.manager,
        staff=cast.consultant,
        name="李娜",
        phone="139 0000 0001",
        capacity="150",
    )
    consultant = fresh(cast.consultant)
    assert (consultant.name, consultant.phone, consultant.capacity) == (
        "李娜",
        "+8613900000001",
        150,
    )
    [event] = events_since(since)
    assert event.action == "org.staff.update"
    changed = {
        k: (event.before[k], event.after[k])
        for k in event.after
        if event.before[k] != event.after[k]
    }
    assert changed == {
        "name": ("Consultant", "李娜"),
        "phone": ("+8613800000005", "+8613900000001"),
        "capacity": (100, 150),
    }


def test_update_staff_without_changes_writes_no_event(cast):
    since = mark()
    services.update_staff(actor=cast.manager, staff=cast.consultant, name="Consultant")
    assert events_since(since) == []


@pytest.mark.parametrize("capacity", [-1, 10001, "many", None])
def test_update_staff_rejects_a_bad_capacity(cast, capacity):
    assert_invalid(
        services.update_staff,
        "capacity",
        ["Capacity must be between 0 and 10000."],
        actor=cast.admin,
        staff=cast.consultant,
        capacity=capacity,
    )


def test_update_staff_cannot_move_or_promote(cast):
    assert_invalid(
        services.update_staff,
        "node",
        ["This field cannot be changed here."],
        actor=cast.admin,
        staff=cast.consultant,
        node=cast.other_team,
    )


def test_manager_cannot_edit_another_teams_consultant(cast):
    assert_denied(services.update_staff, actor=cast.manager, staff=cast.other_consultant, name="X")


def test_manager_cannot_edit_an_admin(cast):
    assert_denied(services.update_staff, actor=cast.manager, staff=cast.admin, name="X")


def test_consultant_cannot_edit_a_colleague(cast):
    assert_denied(services.update_staff, actor=cast.consultant, staff=cast.promoter, name="X")


def test_anyone_edits_their_own_profile(cast):
    since = mark()
    services.update_own_profile(actor=cast.promoter, name="赵敏", phone="", email="zm@example.com")
    promoter = fresh(cast.promoter)
    assert (promoter.name, promoter.phone, promoter.email) == ("赵敏", None, "zm@example.com")
    [event] = events_since(since)
    assert (event.action, event.actor_id, event.object_id) == (
        "org.staff.update_profile",
        cast.promoter.pk,
        str(cast.promoter.pk),
    )


def test_own_profile_cannot_change_capacity_or_node(cast):
    assert_invalid(
        services.update_own_profile,
        "capacity",
        ["This field cannot be changed here."],
        actor=cast.promoter,
        capacity=10000,
    )


def test_own_profile_rejects_a_colleagues_number(cast):
    assert_invalid(
        services.update_own_profile,
        "phone",
        ["Another staff member already has this number."],
        actor=cast.promoter,
        phone="13800000005",
    )


def test_set_password_audits_without_the_password(cast):
    since = mark()
    services.set_password(
        actor=cast.consultant, staff=cast.consultant, password="a-long-new-passphrase"
    )
    assert fresh(cast.consultant).check_password("a-long-new-passphrase")
    [event] = events_since(since)
    assert (event.action, event.before, event.after) == ("org.staff.set_password", None, None)


def test_set_password_validates_it(cast):
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        services.set_password(actor=None, staff=cast.consultant, password="123")
    assert list(exc.value.message_dict) == ["password"]
    assert db_state() == before


def test_consultant_cannot_set_a_colleagues_password(cast):
    assert_denied(
        services.set_password,
        actor=cast.consultant,
        staff=cast.promoter,
        password="a-long-new-passphrase",
    )


def test_manager_cannot_set_an_admins_password(cast):
    assert_denied(
        services.set_password,
        actor=cast.manager,
        staff=cast.admin,
        password="a-long-new-passphrase",
    )


# --- staff: roles -------------------------------------------------------------------------


def test_manager_changes_a_consultants_roles(cast):
    since = mark()
    services.set_roles(
        actor=cast.manager, staff=cast.consultant, roles=["commissioner", "consultant"]
    )
    assert fresh(cast.consultant).roles == frozenset({"commissioner", "consultant"})
    [event] = events_since(since)
    assert (event.action, event.actor_id, event.object_id) == (
        "org.staff.set_roles",
        cast.manager.pk,
        str(cast.consultant.pk),
    )
    assert (event.before, event.after) == (
        {"roles": ["consultant"]},
        {"roles": ["commissioner", "consultant"]},
    )


def test_replacing_roles_removes_the_old_ones(cast):
    services.set_roles(actor=cast.admin, staff=cast.consultant, roles=["promoter"])
    assert list(StaffRole.objects.filter(staff=cast.consultant).values_list("role", flat=True)) == [
        "promoter"
    ]


def test_setting_the_same_roles_writes_no_event(cast):
    since = mark()
    services.set_roles(actor=cast.manager, staff=cast.consultant, roles=["consultant"])
    assert events_since(since) == []


def test_manager_cannot_grant_admin(cast):
    assert_denied(
        services.set_roles, actor=cast.manager, staff=cast.consultant, roles=["consultant", "admin"]
    )


def test_manager_cannot_touch_an_admin_even_in_their_team(cast):
    insider = services.create_staff(
        actor=None, username="insider", roles=["admin", "consultant"], node=cast.team
    )
    assert_denied(services.set_roles, actor=cast.manager, staff=insider, roles=["consultant"])
    assert_denied(services.set_roles, actor=cast.manager, staff=cast.admin, roles=["consultant"])


def test_manager_cannot_change_their_own_roles(cast):
    assert_denied(
        services.set_roles, actor=cast.manager, staff=cast.manager, roles=["manager", "consultant"]
    )


def test_manager_cannot_change_roles_in_another_team(cast):
    assert_denied(
        services.set_roles, actor=cast.manager, staff=cast.other_consultant, roles=["promoter"]
    )


def test_consultant_cannot_change_roles(cast):
    assert_denied(
        services.set_roles, actor=cast.consultant, staff=cast.promoter, roles=["consultant"]
    )


def test_admin_grants_and_removes_admin(cast):
    services.set_roles(actor=cast.admin, staff=cast.consultant, roles=["admin"])
    assert fresh(cast.consultant).is_admin
    services.set_roles(actor=cast.admin, staff=cast.consultant, roles=["consultant"])
    assert not fresh(cast.consultant).is_admin


def test_set_roles_validates_roles(cast):
    assert_invalid(
        services.set_roles,
        "roles",
        [f"Unknown role boss; valid roles are: {ALL_ROLES}."],
        actor=cast.admin,
        staff=cast.consultant,
        roles=["boss"],
    )


# --- staff: move --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def org_handlers_only(monkeypatch):
    """The registry holds every app's handler; these tests pin it to the org app's own
    (managed nodes) so that their counts and events do not change as apps are added."""
    monkeypatch.setattr(ownership, "_handlers", {"org.managed_nodes": reassign_managed_nodes})


@pytest.fixture
def recorder(monkeypatch):
    """A stand-in app whose records follow their owner, registered with ownership."""
    calls: list[tuple[Any, Any, Any]] = []

    def handler(*, actor, from_staff, to_staff):
        calls.append((actor, from_staff, to_staff))
        return 3

    handler.count = lambda staff: 3  # type: ignore[attr-defined]
    monkeypatch.setitem(ownership._handlers, "test.things", handler)
    return calls


def test_move_keeping_records_moves_only_the_person(cast, recorder):
    since = mark()
    moved = services.move_staff(
        actor=cast.region_manager, staff=cast.consultant, node=cast.other_team
    )
    assert moved == {}
    assert recorder == []
    assert fresh(cast.consultant).node_id == cast.other_team.pk
    [event] = events_since(since)
    assert (event.action, event.actor_id, event.object_id) == (
        "org.staff.move",
        cast.region_manager.pk,
        str(cast.consultant.pk),
    )
    assert (event.before["node"], event.after["node"], event.after["reassigned"]) == (
        cast.team.pk,
        cast.other_team.pk,
        {},
    )


def test_move_without_records_hands_them_to_the_chosen_person(cast, recorder):
    since = mark()
    moved = services.move_staff(
        actor=cast.region_manager,
        staff=cast.manager,
        node=cast.other_team,
        keep_records=False,
        reassign_to=cast.consultant,
    )
    assert moved == {"org.managed_nodes": 1, "test.things": 3}
    assert recorder == [(cast.region_manager, cast.manager, cast.consultant)]
    assert fresh(cast.team).manager_id == cast.consultant.pk
    assert fresh(cast.manager).node_id == cast.other_team.pk
    assert [e.action for e in events_since(since)] == [
        "org.node.reassign_manager",
        "org.staff.move",
    ]
    reassign, move = events_since(since)
    assert (reassign.object_id, reassign.before, reassign.after) == (
        str(cast.team.pk),
        {"manager": cast.manager.pk},
        {"manager": cast.consultant.pk},
    )
    assert move.after["reassigned"] == {"org.managed_nodes": 1, "test.things": 3}


def test_move_without_records_defaults_to_the_nearest_managers(cast, recorder):
    services.move_staff(
        actor=cast.admin, staff=cast.consultant, node=cast.other_team, keep_records=False
    )
    assert recorder == [(cast.admin, cast.consultant, cast.manager)]
    # The team's own manager moving away: the next manager up (the region's) takes over.
    services.move_staff(
        actor=cast.admin, staff=cast.manager, node=cast.other_team, keep_records=False
    )
    assert fresh(cast.team).manager_id == cast.region_manager.pk


def test_leaving_runs_every_registered_app(cast, monkeypatch):
    monkeypatch.setattr(ownership, "_handlers", dict(EVERY_HANDLER))
    moved = services.mark_staff_left(actor=cast.admin, staff=cast.manager)
    assert sorted(moved) == sorted(EVERY_HANDLER)
    assert moved["org.managed_nodes"] == 1


def test_move_keeping_records_keeps_the_managed_node(cast):
    services.move_staff(actor=cast.admin, staff=cast.manager, node=cast.other_team)
    assert fresh(cast.team).manager_id == cast.manager.pk


def test_move_without_records_and_nobody_to_take_them_is_refused(cast, recorder):
    assert_invalid(
        services.move_staff,
        "reassign_to",
        ["Nobody to hand the records to: choose a person (the node has no manager)."],
        actor=cast.admin,
        staff=cast.broker,
        node=cast.team,
        keep_records=False,
    )
    assert recorder == []


def test_move_refuses_a_successor_who_has_left(cast, recorder):
    services.mark_staff_left(actor=None, staff=cast.promoter)
    recorder.clear()
    assert_invalid(
        services.move_staff,
        "reassign_to",
        ["This person has left; choose an active one."],
        actor=cast.admin,
        staff=cast.consultant,
        node=cast.other_team,
        keep_records=False,
        reassign_to=fresh(cast.promoter),
    )
    assert recorder == []


def test_manager_cannot_move_someone_out_of_their_subtree(cast):
    assert_denied(
        services.move_staff, actor=cast.manager, staff=cast.consultant, node=cast.other_team
    )


def test_manager_cannot_move_someone_from_another_team(cast):
    assert_denied(
        services.move_staff, actor=cast.manager, staff=cast.other_consultant, node=cast.team
    )


def test_consultant_cannot_move_anyone(cast, recorder):
    assert_denied(
        services.move_staff,
        actor=cast.consultant,
        staff=cast.promoter,
        node=cast.team,
        keep_records=False,
    )
    assert recorder == []


# --- staff: leave -------------------------------------------------------------------------


def test_consultant_leaves_records_and_tokens_go(cast, recorder):
    token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    since = mark()
    moved = services.mark_staff_left(
        actor=cast.manager, staff=cast.consultant, left_on=datetime.date(2026, 3, 31)
    )
    assert moved == {"org.managed_nodes": 0, "test.things": 3}
    assert recorder == [(cast.manager, cast.consultant, cast.manager)]
    consultant = fresh(cast.consultant)
    assert (consultant.is_active, consultant.left_on) == (False, datetime.date(2026, 3, 31))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.authenticate_token(key) is None
    [event] = events_since(since)
    assert (event.action, event.actor_id, event.object_id) == (
        "org.staff.leave",
        cast.manager.pk,
        str(cast.consultant.pk),
    )
    assert (event.before["is_active"], event.before["left_on"]) == (True, None)
    assert (event.after["is_active"], event.after["left_on"]) == (False, "2026-03-31")
    assert event.after["reassigned_to"] == cast.manager.pk
    assert event.after["reassigned"] == {"org.managed_nodes": 0, "test.things": 3}
    assert event.after["revoked_tokens"] == 1


def test_leaving_defaults_to_today(cast):
    services.mark_staff_left(actor=cast.admin, staff=cast.promoter)
    assert fresh(cast.promoter).left_on == timezone.localdate()


def test_a_leaving_manager_hands_their_team_to_the_nearest_manager_above(cast):
    since = mark()
    moved = services.mark_staff_left(actor=cast.region_manager, staff=cast.manager)
    assert moved == {"org.managed_nodes": 1}
    assert fresh(cast.team).manager_id == cast.region_manager.pk
    assert [e.action for e in events_since(since)] == [
        "org.node.reassign_manager",
        "org.staff.leave",
    ]


def test_a_leaving_manager_hands_their_team_to_the_chosen_person(cast):
    services.mark_staff_left(
        actor=cast.region_manager, staff=cast.manager, reassign_to=cast.consultant
    )
    assert fresh(cast.team).manager_id == cast.consultant.pk


def test_default_successor_skips_a_node_without_manager(cast):
    services.update_node(actor=None, node=cast.team, manager=None)
    assert services.default_successor(fresh(cast.consultant)) == cast.region_manager


def test_default_successor_of_someone_without_a_node_is_nobody(cast):
    assert services.default_successor(cast.broker) is None


def test_leaving_refuses_a_successor_who_left(cast):
    services.mark_staff_left(actor=None, staff=cast.promoter)
    assert_invalid(
        services.mark_staff_left,
        "reassign_to",
        ["This person has left; choose an active one."],
        actor=cast.admin,
        staff=cast.manager,
        reassign_to=fresh(cast.promoter),
    )


def test_leaving_refuses_the_leaver_as_successor(cast):
    assert_invalid(
        services.mark_staff_left,
        "reassign_to",
        ["Choose someone other than the person leaving."],
        actor=cast.admin,
        staff=cast.manager,
        reassign_to=cast.manager,
    )


def test_leaving_with_records_and_nobody_to_take_them_is_refused(cast):
    # The company has no manager, so nobody is above the region manager.
    assert_invalid(
        services.mark_staff_left,
        "reassign_to",
        ["Nobody to hand the records to: choose a person (the node has no manager)."],
        actor=cast.admin,
        staff=cast.region_manager,
    )


def test_leaving_with_nothing_to_hand_on_needs_no_successor(cast):
    assert services.mark_staff_left(actor=cast.admin, staff=cast.broker) == {}
    assert fresh(cast.broker).is_active is False


def test_leaving_twice_is_refused(cast):
    services.mark_staff_left(actor=cast.admin, staff=cast.promoter)
    assert_invalid(
        services.mark_staff_left,
        "left_on",
        ["This person has already left."],
        actor=cast.admin,
        staff=fresh(cast.promoter),
    )


def test_consultant_cannot_mark_anyone_left(cast, recorder):
    assert_denied(services.mark_staff_left, actor=cast.consultant, staff=cast.promoter)
    assert recorder == []


def test_manager_cannot_mark_an_admin_left(cast):
    assert_denied(services.mark_staff_left, actor=cast.manager, staff=cast.admin)


def test_manager_cannot_mark_themselves_left(cast):
    assert_denied(services.mark_staff_left, actor=cast.manager, staff=cast.manager)


def test_manager_cannot_mark_another_teams_consultant_left(cast):
    assert_denied(services.mark_staff_left, actor=cast.manager, staff=cast.other_consultant)


def test_database_rejects_left_on_for_an_active_person(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.filter(pk=cast.consultant.pk).update(left_on=datetime.date(2026, 1, 1))


# --- tokens -------------------------------------------------------------------------------


def test_issue_token_stores_only_a_sha256(cast):
    since = mark()
    token, key = services.issue_api_token(
        actor=cast.consultant, staff=cast.consultant, name="phone"
    )
    assert key.startswith("kehu_") and len(key) > 40
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["prefix"] == key[:12]
    assert key not in {str(v) for v in row.values()}
    [event] = events_since(since)
    assert (event.action, event.actor_id, event.object_type, event.object_id) == (
        "org.token.issue",
        cast.consultant.pk,
        "org.apitoken",
        str(token.pk),
    )
    assert event.object_repr == f"consultant: {key[:12]}… (phone)"
    assert key not in str((event.before, event.after, event.object_repr))


def test_two_tokens_have_different_keys(cast):
    _t1, k1 = services.issue_api_token(actor=None, staff=cast.consultant)
    _t2, k2 = services.issue_api_token(actor=None, staff=cast.consultant)
    assert k1 != k2


def test_admin_issues_a_token_for_someone_else(cast):
    token, key = services.issue_api_token(actor=cast.admin, staff=cast.consultant)
    assert services.authenticate_token(key) == cast.consultant


def test_manager_cannot_issue_a_token_for_their_consultant(cast):
    assert_denied(services.issue_api_token, actor=cast.manager, staff=cast.consultant)


def test_no_token_for_someone_who_left(cast):
    services.mark_staff_left(actor=None, staff=cast.promoter)
    assert_invalid(
        services.issue_api_token,
        "staff",
        ["This person has left; no token can be issued."],
        actor=None,
        staff=fresh(cast.promoter),
    )


def test_revoke_token_once_with_one_event(cast):
    token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    since = mark()
    services.revoke_api_token(actor=cast.consultant, token=token)
    services.revoke_api_token(actor=cast.consultant, token=token)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.authenticate_token(key) is None
    assert summary(events_since(since)) == [
        ("org.token.revoke", "consultant", "org.apitoken", str(token.pk))
    ]


def test_admin_revokes_someone_elses_token(cast):
    token, _key = services.issue_api_token(actor=None, staff=cast.consultant)
    services.revoke_api_token(actor=cast.admin, token=token)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_manager_cannot_revoke_their_consultants_token(cast):
    token, _key = services.issue_api_token(actor=None, staff=cast.consultant)
    assert_denied(services.revoke_api_token, actor=cast.manager, token=token)


@pytest.mark.parametrize("key", ["", "kehu_wrong", "not-a-kehu-key", "kehu_" + "x" * 200])
def test_authenticate_rejects_unknown_keys(cast, key):
    assert services.authenticate_token(key) is None


def test_authenticate_rejects_a_left_person_even_with_an_unrevoked_token(cast):
    token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    Staff.objects.filter(pk=cast.consultant.pk).update(is_active=False)
    assert services.authenticate_token(key) is None


def test_authenticate_touches_last_used_at_at_most_once_a_minute(cast, django_assert_num_queries):
    token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    with django_assert_num_queries(2):  # read + touch
        assert services.authenticate_token(key) == cast.consultant
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # read only
        assert services.authenticate_token(key) == cast.consultant
    token.refresh_from_db()
    assert token.last_used_at == first
    earlier = timezone.now() - datetime.timedelta(seconds=61)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    assert services.authenticate_token(key) == cast.consultant
    token.refresh_from_db()
    assert token.last_used_at > earlier + datetime.timedelta(seconds=60)


def test_authenticating_writes_no_audit_event(cast):
    _token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    since = mark()
    services.authenticate_token(key)
    assert events_since(since) == []


# --- the audit source ---------------------------------------------------------------------


def test_direct_calls_are_audited_as_system(cast):
    since = mark()
    services.add_node_path(actor=None, path="华南大区")
    [event] = events_since(since)
    assert (event.source, event.actor_id, event.actor_label) == ("system", None, "system")


def test_calls_inside_acting_take_its_source_and_request_id(cast):
    since = mark()
    with acting("task", request_id="job-42"):
        services.add_node_path(actor=None, path="华南大区")
    [event] = events_since(since)
    assert (event.source, event.request_id, event.actor_label) == ("task", "job-42", "task")


def test_management_commands_are_audited_as_command(cast):
    since = mark()
    call_command("org", "add", "华南大区/广州区域", stdout=open_null())
    assert [(e.action, e.source, e.actor_id, e.actor_label) for e in events_since(since)] == [
        ("org.node.create", "command", None, "command"),
        ("org.node.create", "command", None, "command"),
    ]


def test_api_requests_are_audited_as_api(cast, api):
    since = mark()
    response = api(cast.manager).put(
        f"/api/v1/staff/{cast.consultant.pk}/roles/",
        {"roles": ["consultant", "commissioner"]},
        format="json",
        HTTP_X_REQUEST_ID="req-123",
    )
    assert response.status_code == 200
    [event] = events_since(since)
    assert (event.action, event.source, event.actor_id, event.request_id, event.ip_address) == (
        "org.staff.set_roles",
        "api",
        cast.manager.pk,
        "req-123",
        "127.0.0.1",
    )


def test_denied_api_request_writes_nothing(cast, api):
    before = db_state()
    response = api(cast.manager).put(
        f"/api/v1/staff/{cast.consultant.pk}/roles/", {"roles": ["admin"]}, format="json"
    )
    assert response.status_code == 403
    assert db_state() == before


def test_web_requests_are_audited_as_web(cast, web):
    since = mark()
    response = web(cast.consultant).post(
        "/org/me/", {"form": "profile", "name": "新名字", "phone": "13800000005", "email": ""}
    )
    assert response.status_code == 302
    [event] = events_since(since)
    assert (event.action, event.source, event.actor_id) == (
        "org.staff.update_profile",
        "web",
        cast.consultant.pk,
    )
    assert (event.before["name"], event.after["name"]) == ("Consultant", "新名字")
    assert len(event.request_id) == 32


def open_null():
    import io

    return io.StringIO()
