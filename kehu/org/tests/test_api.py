"""API tests for the organisation: every write allowed and denied, token and session
authentication, pagination and filters, query counts, and the OpenAPI document.

Allowed writes assert the audit event they leave; denied ones assert that no row of
any table changed.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from kehu.core.models import AuditEvent
from kehu.org import services
from kehu.org.models import ApiToken, OrgNode, Project, Staff, StaffRole

DENIED = {
    "error": {
        "code": "permission_denied",
        "message": "You are not allowed to do this.",
        "fields": {},
    }
}
ADMIN_ONLY = {
    "error": {
        "code": "permission_denied",
        "message": "Only an administrator can grant the admin role.",
        "fields": {},
    }
}
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def unknown_id(field: str, pk: int) -> dict:
    return {
        "error": {
            "code": "invalid",
            "message": "Please correct the errors below.",
            "fields": {field: [f"Unknown id {pk}."]},
        }
    }


def everything() -> dict[str, list[dict]]:
    """Every row of every table the org API writes: equal before and after means that
    nothing changed."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (OrgNode, Project, Staff, StaffRole, ApiToken, AuditEvent)
    }


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-pk").first()


def assert_one_new_event(before_pk: int, **expected: Any) -> AuditEvent:
    events = list(AuditEvent.objects.filter(pk__gt=before_pk).order_by("pk"))
    assert [e.action for e in events] == [expected["action"]]
    event = events[0]
    for key, value in expected.items():
        assert getattr(event, key) == value, key
    assert event.source == "api"
    return event


def fresh(staff: Staff) -> Staff:
    """The persona as a new request would load it (nothing cached on the instance)."""
    return Staff.objects.get(pk=staff.pk)


@pytest.fixture
def projects(cast: Any) -> dict[str, Project]:
    return {
        "team": services.create_project(actor=None, name="一组项目", node=cast.team),
        "area": services.create_project(actor=None, name="区域项目", node=cast.area),
        "other_team": services.create_project(actor=None, name="二组项目", node=cast.other_team),
    }


# --- denied writes ------------------------------------------------------------------------

# (persona, method, url, body, status, error body); "{name}" is filled in from the cast.
# fmt: off
DENIED_WRITES = [
    # create a node
    ("manager", "post", "/api/v1/org-nodes/", {"name": "三组", "kind": "team", "parent": "{area}"}, 403, DENIED),
    ("consultant", "post", "/api/v1/org-nodes/", {"name": "三组", "kind": "team", "parent": "{area}"}, 403, DENIED),
    ("promoter", "post", "/api/v1/org-nodes/", {"name": "三组", "kind": "team", "parent": "{area}"}, 403, DENIED),
    ("region_manager", "post", "/api/v1/org-nodes/", {"name": "华南大区", "kind": "region", "parent": "{company}"}, 403, DENIED),
    ("other_manager", "post", "/api/v1/org-nodes/", {"name": "三组", "kind": "team", "parent": "{area}"}, 403, DENIED),
    ("broker", "post", "/api/v1/org-nodes/", {"name": "三组", "kind": "team", "parent": "{area}"}, 400, "unknown:parent:{area}"),
    # edit a node
    ("consultant", "patch", "/api/v1/org-nodes/{team}/", {"name": "改名"}, 403, DENIED),
    ("commissioner", "patch", "/api/v1/org-nodes/{team}/", {"name": "改名"}, 403, DENIED),
    ("other_manager", "patch", "/api/v1/org-nodes/{team}/", {"name": "改名"}, 404, NOT_FOUND),
    ("manager", "patch", "/api/v1/org-nodes/{area}/", {"name": "改名"}, 403, DENIED),
    ("region_manager", "patch", "/api/v1/org-nodes/{company}/", {"name": "改名"}, 403, DENIED),
    ("broker", "patch", "/api/v1/org-nodes/{team}/", {"name": "改名"}, 404, NOT_FOUND),
    # create a project
    ("consultant", "post", "/api/v1/projects/", {"name": "新项目", "node": "{team}"}, 403, DENIED),
    ("commissioner", "post", "/api/v1/projects/", {"name": "新项目", "node": "{team}"}, 403, DENIED),
    ("manager", "post", "/api/v1/projects/", {"name": "新项目", "node": "{area}"}, 403, DENIED),
    ("other_manager", "post", "/api/v1/projects/", {"name": "新项目", "node": "{team}"}, 400, "unknown:node:{team}"),
    ("broker", "post", "/api/v1/projects/", {"name": "新项目", "node": "{team}"}, 400, "unknown:node:{team}"),
    # edit a project
    ("consultant", "patch", "/api/v1/projects/{p_team}/", {"name": "改名"}, 403, DENIED),
    ("promoter", "patch", "/api/v1/projects/{p_team}/", {"is_active": False}, 403, DENIED),
    ("other_manager", "patch", "/api/v1/projects/{p_team}/", {"name": "改名"}, 404, NOT_FOUND),
    ("manager", "patch", "/api/v1/projects/{p_area}/", {"name": "改名"}, 403, DENIED),
    ("manager", "patch", "/api/v1/projects/{p_team}/", {"node": "{area}"}, 403, DENIED),
    ("manager", "patch", "/api/v1/projects/{p_team}/", {"node": "{other_team}"}, 400, "unknown:node:{other_team}"),
    # create a member of staff
    ("consultant", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["consultant"], "node": "{team}"}, 403, DENIED),
    ("commissioner", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["promoter"], "node": "{team}"}, 403, DENIED),
    ("promoter", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["promoter"], "node": "{team}"}, 403, DENIED),
    ("manager", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["admin"], "node": "{team}"}, 403, ADMIN_ONLY),
    ("manager", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["consultant", "admin"], "node": "{team}"}, 403, ADMIN_ONLY),
    ("region_manager", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["admin"], "node": "{team}"}, 403, ADMIN_ONLY),
    ("manager", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["consultant"]}, 403, DENIED),
    ("manager", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["consultant"], "node": "{area}"}, 403, DENIED),
    ("manager", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["consultant"], "node": "{other_team}"}, 400, "unknown:node:{other_team}"),
    ("broker", "post", "/api/v1/staff/", {"username": "newbie", "roles": ["broker"]}, 403, DENIED),
    # edit a member of staff
    ("manager", "patch", "/api/v1/staff/{other_consultant}/", {"capacity": 5}, 404, NOT_FOUND),
    ("manager", "patch", "/api/v1/staff/{region_manager}/", {"capacity": 5}, 404, NOT_FOUND),
    ("other_manager", "patch", "/api/v1/staff/{consultant}/", {"capacity": 5}, 404, NOT_FOUND),
    ("region_manager", "patch", "/api/v1/staff/{admin}/", {"capacity": 5}, 404, NOT_FOUND),
    ("consultant", "patch", "/api/v1/staff/{promoter}/", {"capacity": 5}, 403, DENIED),
    ("consultant", "patch", "/api/v1/staff/{consultant}/", {"capacity": 5}, 403, DENIED),
    ("manager", "patch", "/api/v1/staff/{manager}/", {"capacity": 5}, 403, DENIED),
    ("promoter", "patch", "/api/v1/staff/{promoter}/", {"capacity": 5}, 403, DENIED),
    ("broker", "patch", "/api/v1/staff/{consultant}/", {"capacity": 5}, 404, NOT_FOUND),
    # set roles
    ("manager", "put", "/api/v1/staff/{consultant}/roles/", {"roles": ["consultant", "admin"]}, 403, ADMIN_ONLY),
    ("region_manager", "put", "/api/v1/staff/{manager}/roles/", {"roles": ["admin"]}, 403, ADMIN_ONLY),
    ("manager", "put", "/api/v1/staff/{manager}/roles/", {"roles": ["manager", "consultant"]}, 403, DENIED),
    ("consultant", "put", "/api/v1/staff/{promoter}/roles/", {"roles": ["consultant"]}, 403, DENIED),
    ("commissioner", "put", "/api/v1/staff/{promoter}/roles/", {"roles": ["consultant"]}, 403, DENIED),
    ("other_manager", "put", "/api/v1/staff/{consultant}/roles/", {"roles": ["promoter"]}, 404, NOT_FOUND),
    ("region_manager", "put", "/api/v1/staff/{admin}/roles/", {"roles": ["manager"]}, 404, NOT_FOUND),
    # move
    ("manager", "post", "/api/v1/staff/{consultant}/move/", {"node": "{area}"}, 403, DENIED),
    ("manager", "post", "/api/v1/staff/{consultant}/move/", {"node": "{other_team}"}, 400, "unknown:node:{other_team}"),
    ("other_manager", "post", "/api/v1/staff/{consultant}/move/", {"node": "{other_team}"}, 404, NOT_FOUND),
    ("consultant", "post", "/api/v1/staff/{promoter}/move/", {"node": "{team}"}, 403, DENIED),
    ("manager", "post", "/api/v1/staff/{manager}/move/", {"node": "{team}"}, 403, DENIED),
    # leave
    ("other_manager", "post", "/api/v1/staff/{consultant}/leave/", {}, 404, NOT_FOUND),
    ("manager", "post", "/api/v1/staff/{region_manager}/leave/", {}, 404, NOT_FOUND),
    ("region_manager", "post", "/api/v1/staff/{admin}/leave/", {}, 404, NOT_FOUND),
    ("consultant", "post", "/api/v1/staff/{promoter}/leave/", {}, 403, DENIED),
    ("commissioner", "post", "/api/v1/staff/{promoter}/leave/", {}, 403, DENIED),
    ("manager", "post", "/api/v1/staff/{manager}/leave/", {}, 403, DENIED),
    ("promoter", "post", "/api/v1/staff/{promoter}/leave/", {}, 403, DENIED),
    # tokens: only one's own
    ("consultant", "delete", "/api/v1/tokens/{manager_token}/", None, 404, NOT_FOUND),
    ("admin", "delete", "/api/v1/tokens/{manager_token}/", None, 404, NOT_FOUND),
]
# fmt: on


def fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize(
    ("persona", "method", "url", "body", "status", "error"),
    DENIED_WRITES,
    ids=[f"{d[0]}-{d[1]}-{d[2]}-{json.dumps(d[3], ensure_ascii=False)}" for d in DENIED_WRITES],
)
def test_denied_write_changes_nothing(
    cast: Any,
    api: Any,
    projects: dict[str, Project],
    persona: str,
    method: str,
    url: str,
    body: Any,
    status: int,
    error: Any,
) -> None:
    token, _key = services.issue_api_token(actor=None, staff=cast.manager)
    ids = {
        key: getattr(cast, key).pk for key in ("company", "region", "area", "team", "other_team")
    }
    ids |= {name: staff.pk for name, staff in cast.all().items()}
    ids |= {f"p_{key}": project.pk for key, project in projects.items()}
    ids["manager_token"] = token.pk
    before = everything()

    response = getattr(api(cast.all()[persona]), method)(
        fill(url, ids), fill(body, ids), format="json"
    )

    assert response.status_code == status, response.content
    if isinstance(error, str):  # "unknown:<field>:{<id key>}"
        _, field, key = error.split(":")
        error = unknown_id(field, fill(key, ids))
    assert response.json() == error
    assert everything() == before


# --- allowed writes -----------------------------------------------------------------------


def test_admin_creates_a_region(cast: Any, api: Any) -> None:
    mark = last_event().pk
    response = api(cast.admin).post(
        "/api/v1/org-nodes/",
        {"name": "华南大区", "kind": "region", "parent": cast.company.pk},
        format="json",
    )
    assert response.status_code == 201
    node = OrgNode.objects.get(name="华南大区")
    assert response.json() == {
        "id": node.pk,
        "name": "华南大区",
        "kind": "region",
        "parent": cast.company.pk,
        "path": f"/{cast.company.pk}/{node.pk}/",
        "depth": 1,
        "manager": None,
        "created_at": response.json()["created_at"],
        "updated_at": response.json()["updated_at"],
    }
    assert_one_new_event(
        mark,
        action="org.node.create",
        actor=cast.admin,
        object_type="org.orgnode",
        object_id=str(node.pk),
        before=None,
        after={"name": "华南大区", "kind": "region", "parent": cast.company.pk, "manager": None},
    )


def test_region_manager_creates_an_area_in_their_region(cast: Any, api: Any) -> None:
    mark = last_event().pk
    response = api(cast.region_manager).post(
        "/api/v1/org-nodes/",
        {"name": "杭州区域", "kind": "area", "parent": cast.region.pk, "manager": cast.manager.pk},
        format="json",
    )
    assert response.status_code == 201
    node = OrgNode.objects.get(name="杭州区域")
    assert (node.parent_id, node.kind, node.manager_id) == (cast.region.pk, "area", cast.manager.pk)
    assert node.path == f"{cast.region.path}{node.pk}/"
    assert_one_new_event(
        mark,
        action="org.node.create",
        actor=cast.region_manager,
        before=None,
        after={
            "name": "杭州区域",
            "kind": "area",
            "parent": cast.region.pk,
            "manager": cast.manager.pk,
        },
    )


def test_manager_renames_their_team(cast: Any, api: Any) -> None:
    mark = last_event().pk
    response = api(cast.manager).patch(
        f"/api/v1/org-nodes/{cast.team.pk}/", {"name": "一组（精英）"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "一组（精英）"
    cast.team.refresh_from_db()
    assert cast.team.name == "一组（精英）"
    node_fields = {"kind": "team", "parent": cast.area.pk, "manager": cast.manager.pk}
    assert_one_new_event(
        mark,
        action="org.node.update",
        actor=cast.manager,
        object_id=str(cast.team.pk),
        before={"name": "一组", **node_fields},
        after={"name": "一组（精英）", **node_fields},
    )


def test_region_manager_moves_a_team_under_another_area(cast: Any, api: Any) -> None:
    new_area = services.create_node(actor=None, name="浦东区域", kind="area", parent=cast.region)
    mark = last_event().pk
    response = api(cast.region_manager).patch(
        f"/api/v1/org-nodes/{cast.other_team.pk}/", {"parent": new_area.pk}, format="json"
    )
    assert response.status_code == 200
    cast.other_team.refresh_from_db()
    assert cast.other_team.parent_id == new_area.pk
    assert cast.other_team.path == f"{new_area.path}{cast.other_team.pk}/"
    assert response.json()["path"] == cast.other_team.path
    fields = {"name": "二组", "kind": "team", "manager": cast.other_manager.pk}
    assert_one_new_event(
        mark,
        action="org.node.update",
        actor=cast.region_manager,
        before={**fields, "parent": cast.area.pk},
        after={**fields, "parent": new_area.pk},
    )
    # The people of the moved team are still in the region manager's subtree and now
    # under the new area.
    assert list(
        Staff.objects.in_subtree(new_area).order_by("username").values_list("username", flat=True)
    ) == ["other_consultant", "other_manager"]


def test_manager_creates_a_project_in_their_team(cast: Any, api: Any) -> None:
    mark = last_event().pk
    response = api(cast.manager).post(
        "/api/v1/projects/",
        {"name": "滨江花园", "node": cast.team.pk, "address": "滨江路 1 号"},
        format="json",
    )
    assert response.status_code == 201
    project = Project.objects.get(name="滨江花园")
    body = response.json()
    assert {
        k: body[k] for k in ("id", "name", "kind", "node", "address", "route", "is_active")
    } == {
        "id": project.pk,
        "name": "滨江花园",
        "kind": "housing",
        "node": cast.team.pk,
        "address": "滨江路 1 号",
        "route": "",
        "is_active": True,
    }
    assert_one_new_event(
        mark,
        action="org.project.create",
        actor=cast.manager,
        object_type="org.project",
        object_id=str(project.pk),
        before=None,
        after={
            "name": "滨江花园",
            "kind": "housing",
            "node": cast.team.pk,
            "address": "滨江路 1 号",
            "route": "",
            "is_active": True,
        },
    )


def test_manager_updates_a_project_of_their_team(
    cast: Any, api: Any, projects: dict[str, Project]
) -> None:
    project = projects["team"]
    mark = last_event().pk
    response = api(cast.manager).patch(
        f"/api/v1/projects/{project.pk}/",
        {"name": "一组新项目", "is_active": False, "kind": "club"},
        format="json",
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.name, project.is_active, project.kind) == ("一组新项目", False, "club")
    same = {"node": cast.team.pk, "address": "", "route": ""}
    assert_one_new_event(
        mark,
        action="org.project.update",
        actor=cast.manager,
        before={"name": "一组项目", "kind": "housing", "is_active": True, **same},
        after={"name": "一组新项目", "kind": "club", "is_active": False, **same},
    )


def test_region_manager_moves_a_project_between_teams(
    cast: Any, api: Any, projects: dict[str, Project]
) -> None:
    project = projects["team"]
    response = api(cast.region_manager).patch(
        f"/api/v1/projects/{project.pk}/", {"node": cast.other_team.pk}, format="json"
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.node_id == cast.other_team.pk
    event = last_event()
    assert (event.action, event.before["node"], event.after["node"]) == (
        "org.project.update",
        cast.team.pk,
        cast.other_team.pk,
    )


def staff_snapshot(**overrides: Any) -> dict[str, Any]:
    base = {
        "username": "",
        "name": "",
        "phone": None,
        "email": "",
        "node": None,
        "hire_date": None,
        "probation_end": None,
        "employment_type": "full_time",
        "is_active": True,
        "left_on": None,
        "capacity": 100,
    }
    return base | overrides


def test_manager_creates_a_consultant_in_their_team(cast: Any, api: Any) -> None:
    mark = last_event().pk
    response = api(cast.manager).post(
        "/api/v1/staff/",
        {
            "username": "xiaowang",
            "name": "王小明",
            "phone": "139 1234 5678",
            "node": cast.team.pk,
            "roles": ["consultant"],
            "hire_date": "2025-03-01",
            "probation_end": "2025-06-01",
            "employment_type": "part_time",
            "capacity": 50,
            "password": "a-long-enough-password-42",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    staff = Staff.objects.get(username="xiaowang")
    assert staff.check_password("a-long-enough-password-42")
    assert response.json() == {
        "id": staff.pk,
        "username": "xiaowang",
        "name": "王小明",
        "phone": "+8613912345678",
        "email": "",
        "node": cast.team.pk,
        "roles": ["consultant"],
        "hire_date": "2025-03-01",
        "probation_end": "2025-06-01",
        "employment_type": "part_time",
        "is_active": True,
        "left_on": None,
        "capacity": 50,
    }
    assert_one_new_event(
        mark,
        action="org.staff.create",
        actor=cast.manager,
        object_type="org.staff",
        object_id=str(staff.pk),
        before=None,
        after=staff_snapshot(
            username="xiaowang",
            name="王小明",
            phone="+8613912345678",
            node=cast.team.pk,
            hire_date="2025-03-01",
            probation_end="2025-06-01",
            employment_type="part_time",
            capacity=50,
        )
        | {"roles": ["consultant"]},
    )


def test_admin_creates_an_admin(cast: Any, api: Any) -> None:
    response = api(cast.admin).post(
        "/api/v1/staff/",
        {"username": "boss2", "roles": ["admin", "manager"], "node": cast.company.pk},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["roles"] == ["admin", "manager"]
    staff = Staff.objects.get(username="boss2")
    assert staff.is_admin
    assert not staff.has_usable_password()
    assert (last_event().action, last_event().actor_id) == ("org.staff.create", cast.admin.pk)


def test_manager_edits_a_member_of_their_team(cast: Any, api: Any) -> None:
    mark = last_event().pk
    response = api(cast.manager).patch(
        f"/api/v1/staff/{cast.consultant.pk}/",
        {
            "name": "顾问甲",
            "capacity": 80,
            "hire_date": "2024-01-02",
            "probation_end": "2024-04-02",
            "employment_type": "outsourced",
            "phone": "+86 139-0000-0005",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["capacity"], body["phone"]) == ("顾问甲", 80, "+8613900000005")
    cast.consultant.refresh_from_db()
    assert cast.consultant.employment_type == "outsourced"
    assert_one_new_event(
        mark,
        action="org.staff.update",
        actor=cast.manager,
        object_id=str(cast.consultant.pk),
        before=staff_snapshot(
            username="consultant", name="Consultant", phone="+8613800000005", node=cast.team.pk
        ),
        after=staff_snapshot(
            username="consultant",
            name="顾问甲",
            phone="+8613900000005",
            node=cast.team.pk,
            hire_date="2024-01-02",
            probation_end="2024-04-02",
            employment_type="outsourced",
            capacity=80,
        ),
    )


def test_region_manager_edits_someone_deep_in_their_subtree(cast: Any, api: Any) -> None:
    response = api(cast.region_manager).patch(
        f"/api/v1/staff/{cast.other_consultant.pk}/", {"capacity": 7}, format="json"
    )
    assert response.status_code == 200
    cast.other_consultant.refresh_from_db()
    assert cast.other_consultant.capacity == 7
    event = last_event()
    assert (event.action, event.actor_id, event.before["capacity"], event.after["capacity"]) == (
        "org.staff.update",
        cast.region_manager.pk,
        100,
        7,
    )


def test_manager_sets_roles_in_their_team(cast: Any, api: Any) -> None:
    mark = last_event().pk
    response = api(cast.manager).put(
        f"/api/v1/staff/{cast.consultant.pk}/roles/",
        {"roles": ["consultant", "commissioner"]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["roles"] == ["commissioner", "consultant"]
    assert sorted(fresh(cast.consultant).roles) == ["commissioner", "consultant"]
    assert_one_new_event(
        mark,
        action="org.staff.set_roles",
        actor=cast.manager,
        object_id=str(cast.consultant.pk),
        before={"roles": ["consultant"]},
        after={"roles": ["commissioner", "consultant"]},
    )


def test_admin_grants_admin(cast: Any, api: Any) -> None:
    mark = last_event().pk
    response = api(cast.admin).put(
        f"/api/v1/staff/{cast.region_manager.pk}/roles/",
        {"roles": ["manager", "admin"]},
        format="json",
    )
    assert response.status_code == 200
    assert fresh(cast.region_manager).is_admin
    assert_one_new_event(
        mark,
        action="org.staff.set_roles",
        actor=cast.admin,
        before={"roles": ["manager"]},
        after={"roles": ["admin", "manager"]},
    )


def test_region_manager_moves_a_consultant_to_another_team(cast: Any, api: Any) -> None:
    mark = last_event().pk
    response = api(cast.region_manager).post(
        f"/api/v1/staff/{cast.consultant.pk}/move/", {"node": cast.other_team.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"staff": cast.consultant.pk, "reassigned": {}}
    cast.consultant.refresh_from_db()
    assert cast.consultant.node_id == cast.other_team.pk
    common = {"username": "consultant", "name": "Consultant", "phone": "+8613800000005"}
    event = assert_one_new_event(
        mark,
        action="org.staff.move",
        actor=cast.region_manager,
        object_id=str(cast.consultant.pk),
        before=staff_snapshot(**common, node=cast.team.pk),
    )
    assert event.after == staff_snapshot(**common, node=cast.other_team.pk) | {"reassigned": {}}
    # Now the other team's manager sees them, and their old manager does not.
    assert (
        api(fresh(cast.other_manager)).get(f"/api/v1/staff/{cast.consultant.pk}/").status_code
        == 200
    )
    assert api(fresh(cast.manager)).get(f"/api/v1/staff/{cast.consultant.pk}/").status_code == 404


def test_moving_a_manager_without_their_records_hands_them_over(cast: Any, api: Any) -> None:
    """keep_records=false: the nodes they managed stay behind, with whom the caller
    names."""
    response = api(cast.region_manager).post(
        f"/api/v1/staff/{cast.manager.pk}/move/",
        {"node": cast.other_team.pk, "keep_records": False, "reassign_to": cast.consultant.pk},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["reassigned"]["org.managed_nodes"] == 1
    cast.team.refresh_from_db()
    assert cast.team.manager_id == cast.consultant.pk
    assert fresh(cast.manager).node_id == cast.other_team.pk


def test_manager_marks_a_member_of_their_team_left(cast: Any, api: Any) -> None:
    token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    mark = last_event().pk
    response = api(cast.manager).post(
        f"/api/v1/staff/{cast.consultant.pk}/leave/", {"left_on": "2025-05-31"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["staff"] == cast.consultant.pk
    consultant = fresh(cast.consultant)
    assert (consultant.is_active, consultant.left_on) == (False, datetime.date(2025, 5, 31))
    token.refresh_from_db()
    assert token.revoked_at is not None
    common = {"username": "consultant", "name": "Consultant", "phone": "+8613800000005"}
    event = assert_one_new_event(
        mark,
        action="org.staff.leave",
        actor=cast.manager,
        object_id=str(cast.consultant.pk),
        before=staff_snapshot(**common, node=cast.team.pk),
    )
    after = dict(event.after)
    assert after.pop("reassigned_to") == cast.manager.pk  # the team's manager, by default
    assert after.pop("reassigned")["org.managed_nodes"] == 0
    assert after.pop("revoked_tokens") == 1
    assert after == staff_snapshot(
        **common, node=cast.team.pk, is_active=False, left_on="2025-05-31"
    )
    # Nothing is deleted: the person is still there, and still visible to their manager.
    assert (
        api(fresh(cast.manager)).get(f"/api/v1/staff/{cast.consultant.pk}/").json()["is_active"]
        is False
    )


def test_a_leaving_managers_team_goes_to_the_chosen_successor(cast: Any, api: Any) -> None:
    response = api(cast.region_manager).post(
        f"/api/v1/staff/{cast.manager.pk}/leave/",
        {"reassign_to": cast.other_manager.pk},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["reassigned"]["org.managed_nodes"] == 1
    cast.team.refresh_from_db()
    assert cast.team.manager_id == cast.other_manager.pk
    assert list(
        AuditEvent.objects.filter(action__in=["org.node.reassign_manager", "org.staff.leave"])
        .order_by("pk")
        .values_list("action", "actor_id", "object_id")
    ) == [
        ("org.node.reassign_manager", cast.region_manager.pk, str(cast.team.pk)),
        ("org.staff.leave", cast.region_manager.pk, str(cast.manager.pk)),
    ]


def test_a_leaving_managers_team_goes_to_the_next_manager_up_by_default(
    cast: Any, api: Any
) -> None:
    response = api(cast.region_manager).post(
        f"/api/v1/staff/{cast.manager.pk}/leave/", {}, format="json"
    )
    assert response.status_code == 200
    cast.team.refresh_from_db()
    assert cast.team.manager_id == cast.region_manager.pk


def test_leaving_twice_is_refused(cast: Any, api: Any) -> None:
    services.mark_staff_left(actor=None, staff=cast.consultant)
    before = everything()
    response = api(cast.manager).post(
        f"/api/v1/staff/{cast.consultant.pk}/leave/", {}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Please correct the errors below.",
            "fields": {"left_on": ["This person has already left."]},
        }
    }
    assert everything() == before


def test_anyone_creates_and_revokes_their_own_token(cast: Any, api: Any) -> None:
    client = api(cast.promoter)
    mark = last_event().pk
    response = client.post("/api/v1/tokens/", {"name": "手机"}, format="json")
    assert response.status_code == 201
    body = response.json()
    token = ApiToken.objects.get(staff=cast.promoter)
    assert body == {
        "id": token.pk,
        "name": "手机",
        "prefix": token.prefix,
        "created_at": body["created_at"],
        "last_used_at": None,
        "revoked_at": None,
        "key": body["key"],
    }
    assert body["key"].startswith("kehu_")
    assert body["key"][:12] == token.prefix
    assert token.key_hash == services.hash_token(body["key"])
    assert body["key"] not in json.dumps(list(AuditEvent.objects.values()), default=str)
    assert_one_new_event(
        mark,
        action="org.token.issue",
        actor=cast.promoter,
        object_type="org.apitoken",
        object_id=str(token.pk),
        object_repr=f"promoter: {token}",
    )

    mark = last_event().pk
    response = client.delete(f"/api/v1/tokens/{token.pk}/")
    assert response.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_one_new_event(
        mark, action="org.token.revoke", actor=cast.promoter, object_id=str(token.pk)
    )
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [(t["id"], t["revoked_at"] is not None) for t in listed] == [(token.pk, True)]


# --- token and session authentication ------------------------------------------------------


def token_client(key: str, keyword: str = "Token", **kwargs: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", **kwargs)
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def auth_failed(message: str) -> dict:
    return {"error": {"code": "authentication_failed", "message": message, "fields": {}}}


@pytest.mark.parametrize("keyword", ["Token", "token", "Bearer"])
def test_a_token_authenticates(cast: Any, keyword: str) -> None:
    token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    response = token_client(key, keyword).get("/api/v1/staff/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "consultant"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_sees_what_its_owner_sees(cast: Any) -> None:
    _token, key = services.issue_api_token(actor=None, staff=cast.other_manager)
    rows = token_client(key).get("/api/v1/staff/").json()["results"]
    assert [r["username"] for r in rows] == ["other_consultant", "other_manager"]


def test_a_token_write_is_audited_as_its_owner_without_csrf(cast: Any) -> None:
    _token, key = services.issue_api_token(actor=None, staff=cast.manager)
    client = token_client(key, enforce_csrf_checks=True)
    response = client.patch(f"/api/v1/staff/{cast.consultant.pk}/", {"capacity": 9}, format="json")
    assert response.status_code == 200
    event = last_event()
    assert (event.action, event.actor_id, event.source) == (
        "org.staff.update",
        cast.manager.pk,
        "api",
    )


def test_a_revoked_token_is_refused(cast: Any) -> None:
    token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    services.revoke_api_token(actor=cast.consultant, token=token)
    response = token_client(key).get("/api/v1/staff/me/")
    assert response.status_code == 401
    assert response.json() == auth_failed("Invalid or revoked token.")
    assert response["WWW-Authenticate"] == "Token"


def test_the_token_of_someone_who_left_is_refused(cast: Any) -> None:
    _token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    services.mark_staff_left(actor=None, staff=cast.consultant)
    response = token_client(key).get("/api/v1/staff/me/")
    assert response.status_code == 401
    assert response.json() == auth_failed("Invalid or revoked token.")


def test_an_inactive_owners_token_is_refused_even_if_not_revoked(cast: Any) -> None:
    token, key = services.issue_api_token(actor=None, staff=cast.consultant)
    Staff.objects.filter(pk=cast.consultant.pk).update(is_active=False)
    token.refresh_from_db()
    assert token.revoked_at is None
    response = token_client(key).get("/api/v1/staff/me/")
    assert response.status_code == 401
    assert response.json() == auth_failed("Invalid or revoked token.")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Token", "Invalid Authorization header: use 'Token <key>'."),
        ("Token a b", "Invalid Authorization header: use 'Token <key>'."),
        ("Token kehu_not-a-real-key", "Invalid or revoked token."),
        ("Token not-even-the-prefix", "Invalid or revoked token."),
        ("Token kehu_" + "x" * 200, "Invalid or revoked token."),
        ("Token kehu_\u00e9\u00e9", "The token contains invalid characters."),
    ],
)
def test_a_malformed_authorization_header_is_401(cast: Any, header: str, message: str) -> None:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/staff/me/")
    assert response.status_code == 401
    assert response.json() == auth_failed(message)


def test_another_scheme_is_not_authenticated(cast: Any) -> None:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION="Basic YWRtaW46YWRtaW4=")
    response = client.get("/api/v1/staff/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_session_authenticates(cast: Any, web: Any) -> None:
    response = web(cast.manager).get("/api/v1/staff/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "manager"


def test_the_session_of_someone_who_left_no_longer_authenticates(cast: Any, web: Any) -> None:
    client = web(cast.consultant)
    assert client.get("/api/v1/staff/me/").status_code == 200
    services.mark_staff_left(actor=None, staff=cast.consultant)
    response = client.get("/api/v1/staff/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def session_client(staff: Staff) -> APIClient:
    client = APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_a_session_write_without_csrf_is_refused(cast: Any) -> None:
    client = session_client(cast.consultant)
    before = everything()
    response = client.post("/api/v1/tokens/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "CSRF Failed: CSRF cookie not set.",
            "fields": {},
        }
    }
    assert everything() == before


def test_a_session_write_with_csrf_goes_through(cast: Any) -> None:
    client = session_client(cast.consultant)
    page = client.get("/org/me/")
    assert page.status_code == 200
    csrf = page.cookies["csrftoken"].value
    response = client.post("/api/v1/tokens/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201
    assert ApiToken.objects.filter(staff=cast.consultant, name="x").count() == 1


def test_a_session_write_with_a_wrong_csrf_token_is_refused(cast: Any) -> None:
    client = session_client(cast.consultant)
    client.get("/org/me/")
    before = everything()
    response = client.post(
        "/api/v1/tokens/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN="x" * 32
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert response.json()["error"]["message"].startswith("CSRF Failed")
    assert everything() == before


# --- pagination, filters, ordering ----------------------------------------------------------


def usernames(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["username"] for row in response.json()["results"]]


def test_staff_pages(cast: Any, api: Any) -> None:
    client = api(cast.admin)
    first = client.get("/api/v1/staff/", {"page_size": 4})
    body = first.json()
    assert body["count"] == 9
    assert [r["username"] for r in body["results"]] == [
        "admin",
        "broker",
        "commissioner",
        "consultant",
    ]
    assert body["previous"] is None
    assert body["next"] == "http://testserver/api/v1/staff/?page=2&page_size=4"
    third = client.get("/api/v1/staff/", {"page_size": 4, "page": 3}).json()
    assert [r["username"] for r in third["results"]] == ["region_manager"]
    assert third["next"] is None
    assert client.get("/api/v1/staff/", {"page_size": 4, "page": 4}).json() == {
        "error": {"code": "not_found", "message": "Invalid page.", "fields": {}}
    }


def test_page_size_is_capped_at_200(cast: Any, api: Any) -> None:
    for index in range(201):
        services.create_staff(actor=None, username=f"bulk{index:03d}", roles=["promoter"])
    body = api(cast.admin).get("/api/v1/staff/", {"page_size": 1000}).json()
    assert (body["count"], len(body["results"])) == (210, 200)
    assert len(api(cast.admin).get("/api/v1/staff/").json()["results"]) == 50


@pytest.mark.parametrize(
    ("persona", "query", "expected"),
    [
        ("admin", {"role": "consultant"}, ["consultant", "other_consultant"]),
        ("manager", {"role": "consultant"}, ["consultant"]),
        ("admin", {"role": "manager"}, ["manager", "other_manager", "region_manager"]),
        ("admin", {"node": "{team}"}, ["commissioner", "consultant", "manager", "promoter"]),
        (
            "admin",
            {"node": "{area}"},
            [
                "commissioner",
                "consultant",
                "manager",
                "other_consultant",
                "other_manager",
                "promoter",
            ],
        ),
        (
            "admin",
            {"node": "{region}"},
            [
                "commissioner",
                "consultant",
                "manager",
                "other_consultant",
                "other_manager",
                "promoter",
                "region_manager",
            ],
        ),
        ("manager", {"node": "{other_team}"}, []),
        ("region_manager", {"node": "{other_team}"}, ["other_consultant", "other_manager"]),
        ("admin", {"q": "CONSULT"}, ["consultant", "other_consultant"]),
        ("admin", {"q": "13800000003"}, ["manager"]),
        ("admin", {"q": "nobody"}, []),
        ("admin", {"role": "consultant", "node": "{team}"}, ["consultant"]),
        (
            "admin",
            {"is_active": "true"},
            [
                "admin",
                "broker",
                "commissioner",
                "consultant",
                "manager",
                "other_consultant",
                "other_manager",
                "promoter",
                "region_manager",
            ],
        ),
        ("admin", {"is_active": "false"}, []),
        (
            "admin",
            {"employment_type": "full_time"},
            [
                "admin",
                "broker",
                "commissioner",
                "consultant",
                "manager",
                "other_consultant",
                "other_manager",
                "promoter",
                "region_manager",
            ],
        ),
        (
            "admin",
            {"ordering": "-username", "role": "manager"},
            ["region_manager", "other_manager", "manager"],
        ),
        (
            "admin",
            {"ordering": "id", "node": "{other_team}"},
            ["other_manager", "other_consultant"],
        ),
        (
            "admin",
            {"ordering": "password", "role": "consultant"},
            ["consultant", "other_consultant"],
        ),
    ],
)
def test_staff_filters(cast: Any, api: Any, persona: str, query: dict, expected: list) -> None:
    ids = {
        key: getattr(cast, key).pk for key in ("company", "region", "area", "team", "other_team")
    }
    query = {k: fill(v, ids) for k, v in query.items()}
    assert usernames(api(cast.all()[persona]).get("/api/v1/staff/", query)) == expected


def test_people_with_two_roles_are_listed_once(cast: Any, api: Any) -> None:
    services.set_roles(actor=None, staff=cast.consultant, roles=["consultant", "commissioner"])
    client = api(cast.admin)
    assert usernames(client.get("/api/v1/staff/", {"node": cast.team.pk})) == [
        "commissioner",
        "consultant",
        "manager",
        "promoter",
    ]
    assert usernames(client.get("/api/v1/staff/", {"role": "commissioner"})) == [
        "commissioner",
        "consultant",
    ]
    assert usernames(client.get("/api/v1/staff/", {"role": "consultant"})) == [
        "consultant",
        "other_consultant",
    ]
    assert client.get("/api/v1/staff/").json()["count"] == 9


def test_staff_filter_left(cast: Any, api: Any) -> None:
    services.mark_staff_left(actor=None, staff=cast.promoter)
    assert usernames(api(cast.manager).get("/api/v1/staff/", {"is_active": "false"})) == [
        "promoter"
    ]
    assert usernames(api(cast.manager).get("/api/v1/staff/", {"is_active": "true"})) == [
        "commissioner",
        "consultant",
        "manager",
    ]


def test_org_node_filters_and_ordering(cast: Any, api: Any) -> None:
    client = api(cast.admin)

    def names(query: dict) -> list[str]:
        response = client.get("/api/v1/org-nodes/", query)
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    assert names({}) == ["测试公司", "华东大区", "上海区域", "一组", "二组"]  # tree order
    assert names({"kind": "team"}) == ["一组", "二组"]
    assert names({"parent": cast.area.pk}) == ["一组", "二组"]
    assert names({"q": "区"}) == ["华东大区", "上海区域"]
    assert names({"ordering": "-id"}) == ["二组", "一组", "上海区域", "华东大区", "测试公司"]


def test_project_filters(cast: Any, api: Any, projects: dict[str, Project]) -> None:
    services.update_project(
        actor=None, project=projects["area"], is_active=False, address="人民路 8 号"
    )
    client = api(cast.admin)

    def names(query: dict) -> list[str]:
        response = client.get("/api/v1/projects/", query)
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    assert names({}) == ["一组项目", "二组项目", "区域项目"]
    assert names({"node": cast.area.pk}) == ["一组项目", "二组项目", "区域项目"]
    assert names({"node": cast.team.pk}) == ["一组项目"]
    assert names({"is_active": "false"}) == ["区域项目"]
    assert names({"q": "人民路"}) == ["区域项目"]
    assert names({"kind": "club"}) == []
    assert names({"ordering": "-id"}) == ["二组项目", "区域项目", "一组项目"]


# --- query counts --------------------------------------------------------------------------

# A request costs, beyond the rows: the persona's roles (1) and, for anyone but an
# admin, their node (1) for the visibility rule; then the count and the page; and the
# staff list one more for everybody's roles.
LIST_QUERIES = [
    ("admin", "/api/v1/staff/", 4),
    ("region_manager", "/api/v1/staff/", 5),
    ("consultant", "/api/v1/staff/", 4),
    ("admin", "/api/v1/org-nodes/", 3),
    ("region_manager", "/api/v1/org-nodes/", 4),
    ("admin", "/api/v1/projects/", 3),
    ("manager", "/api/v1/projects/", 4),
    ("admin", "/api/v1/audit-events/", 3),
    ("manager", "/api/v1/audit-events/", 4),
]


def grow(cast: Any) -> None:
    """Twenty more people, nodes, projects and audit events, all visible to the
    personas counted above."""
    for index in range(20):
        node = services.create_node(actor=None, name=f"组{index}", kind="team", parent=cast.area)
        services.create_project(actor=None, name=f"项目{index}", node=cast.team)
        staff = services.create_staff(
            actor=cast.region_manager,
            username=f"extra{index:02d}",
            roles=["consultant", "promoter"],
            node=cast.team if index % 2 else node,
            phone=f"1390000{index:04d}",
        )
        services.update_own_profile(actor=cast.consultant, name=f"Consultant {index}")
        assert staff.pk


@pytest.mark.parametrize(("persona", "url", "queries"), LIST_QUERIES)
def test_list_query_count_does_not_grow_with_rows(
    cast: Any,
    api: Any,
    projects: dict[str, Project],
    django_assert_num_queries: Any,
    persona: str,
    url: str,
    queries: int,
) -> None:
    services.update_own_profile(actor=cast.consultant, email="c@example.com")  # one event
    client = api(fresh(cast.all()[persona]))
    with django_assert_num_queries(queries):
        small = client.get(url, {"page_size": 200})
    grow(cast)
    client = api(fresh(cast.all()[persona]))
    with django_assert_num_queries(queries):
        large = client.get(url, {"page_size": 200})
    assert small.status_code == large.status_code == 200
    assert 0 < small.json()["count"] < large.json()["count"]


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/api/v1/staff/{consultant}/", 4),
        ("/api/v1/staff/me/", 3),
        ("/api/v1/org-nodes/{team}/", 3),
    ],
)
def test_object_query_count(
    cast: Any, api: Any, django_assert_num_queries: Any, url: str, queries: int
) -> None:
    url = url.format(consultant=cast.consultant.pk, team=cast.team.pk)
    client = api(fresh(cast.manager))
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200


# --- the OpenAPI document and the docs page ------------------------------------------------

ENDPOINTS = {
    "/api/v1/org-nodes/": ["get", "post"],
    "/api/v1/org-nodes/{id}/": ["get", "patch"],
    "/api/v1/projects/": ["get", "post"],
    "/api/v1/projects/{id}/": ["get", "patch"],
    "/api/v1/staff/": ["get", "post"],
    "/api/v1/staff/{id}/": ["get", "patch"],
    "/api/v1/staff/{id}/roles/": ["put"],
    "/api/v1/staff/{id}/move/": ["post"],
    "/api/v1/staff/{id}/leave/": ["post"],
    "/api/v1/staff/me/": ["get"],
    "/api/v1/tokens/": ["get", "post"],
    "/api/v1/tokens/{id}/": ["delete"],
    "/api/v1/roles/": ["get"],
    "/api/v1/audit-events/": ["get"],
    "/api/v1/audit-events/{id}/": ["get"],
}


def test_the_schema_is_a_valid_openapi_3_document(cast: Any, api: Any) -> None:
    response = api(None).get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    document = yaml.safe_load(response.content)
    validate_schema(document)  # raises on anything that is not OpenAPI 3
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Kehu API"
    paths = {path: sorted(ops) for path, ops in document["paths"].items()}
    assert {path: paths.get(path) for path in ENDPOINTS} == ENDPOINTS
    assert all(path.startswith("/api/v1/") for path in paths)
    assert document["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": document["components"]["securitySchemes"]["tokenAuth"]["description"],
    }
    assert "cookieAuth" in document["components"]["securitySchemes"]
    as_json = api(None).get("/api/schema/", {"format": "json"})
    assert json.loads(as_json.content)["paths"].keys() == document["paths"].keys()


def test_the_schema_generates_without_warnings(tmp_path: Any) -> None:
    """The same check as `manage.py spectacular --validate --fail-on-warn`."""
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert yaml.safe_load(target.read_text())["openapi"].startswith("3.")


def test_the_docs_page_uses_only_our_own_static_files(cast: Any, api: Any) -> None:
    response = api(None).get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html
    assert "https://" not in html
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets, html[:500]
    assert all(url.startswith("/static/") for url in assets), assets
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in assets
    assert '"/api/schema/"' in html or "'/api/schema/'" in html


def test_timestamps_are_iso_8601_in_the_configured_zone(cast: Any, api: Any) -> None:
    body = api(cast.admin).get(f"/api/v1/org-nodes/{cast.team.pk}/").json()
    created = datetime.datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() == datetime.timedelta(hours=8)  # Asia/Shanghai
    assert abs(timezone.now() - created) < datetime.timedelta(minutes=5)
