"""Permission tests: which rows of every API list and which objects each persona sees.

The rules (DOMAIN.md §1, kehu/org/querysets.py): admins see everything; a manager sees
the subtree of their node (and, for nodes and projects, the ancestors for context);
consultants and commissioners see their own team's members and their node with its
ancestors; promoters and brokers see only themselves. The audit trail: admins all of
it, managers what people in their subtree did, everybody else nothing. An object
outside a persona's view answers exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kehu.core.models import AuditEvent
from kehu.org import services
from kehu.org.models import ApiToken, OrgNode, Project, Staff

PERSONAS = [
    "admin",
    "region_manager",
    "manager",
    "other_manager",
    "consultant",
    "other_consultant",
    "commissioner",
    "promoter",
    "broker",
]
NODE_KEYS = ["company", "region", "area", "team", "other_team"]
ALL_NODES = set(NODE_KEYS)
TEAM_LINE = {"company", "region", "area", "team"}
OTHER_TEAM_LINE = {"company", "region", "area", "other_team"}
TEAM = {"manager", "consultant", "commissioner", "promoter"}
OTHER_TEAM = {"other_manager", "other_consultant"}
REGION = {"region_manager", *TEAM, *OTHER_TEAM}

# persona → the node keys it sees (projects hang one on each node, so the same keys).
NODES_SEEN = {
    "admin": ALL_NODES,
    "region_manager": ALL_NODES,
    "manager": TEAM_LINE,
    "other_manager": OTHER_TEAM_LINE,
    "consultant": TEAM_LINE,
    "other_consultant": OTHER_TEAM_LINE,
    "commissioner": TEAM_LINE,
    "promoter": TEAM_LINE,
    "broker": set(),
}
STAFF_SEEN = {
    "admin": set(PERSONAS),
    "region_manager": REGION,
    "manager": TEAM,
    "other_manager": OTHER_TEAM,
    "consultant": TEAM,
    "other_consultant": OTHER_TEAM,
    "commissioner": TEAM,
    "promoter": {"promoter"},
    "broker": {"broker"},
}
# persona → whose audit events it sees (None: every event, the system's included).
AUDIT_ACTORS_SEEN: dict[str, set[str] | None] = {
    "admin": None,
    "region_manager": REGION,
    "manager": TEAM,
    "other_manager": OTHER_TEAM,
    "consultant": set(),
    "other_consultant": set(),
    "commissioner": set(),
    "promoter": set(),
    "broker": set(),
}

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
NOT_AUTHENTICATED = {
    "error": {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }
}


@dataclass
class World:
    nodes: dict[str, OrgNode]
    projects: dict[str, Project]
    tokens: dict[str, ApiToken]
    events: dict[str, AuditEvent]  # persona → an event that persona caused


@pytest.fixture
def world(cast: Any) -> World:
    nodes = {key: getattr(cast, key) for key in NODE_KEYS}
    projects = {
        key: services.create_project(actor=None, name=f"{key} 项目", node=node)
        for key, node in nodes.items()
    }
    tokens = {
        name: services.issue_api_token(actor=None, staff=staff, name=f"{name} token")[0]
        for name, staff in cast.all().items()
    }
    events = {}
    for name, staff in cast.all().items():
        services.update_own_profile(actor=staff, email=f"{name}@example.com")
        events[name] = AuditEvent.objects.get(action="org.staff.update_profile", actor=staff)
    return World(nodes=nodes, projects=projects, tokens=tokens, events=events)


def list_ids(client: Any, url: str) -> list[int]:
    response = client.get(url, {"page_size": 200})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return [row["id"] for row in body["results"]]


def missing_id(model: Any) -> int:
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


# --- lists ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_org_node_list(cast: Any, api: Any, world: World, persona: str) -> None:
    ids = list_ids(api(cast.all()[persona]), "/api/v1/org-nodes/")
    assert sorted(ids) == sorted(world.nodes[k].pk for k in NODES_SEEN[persona])


@pytest.mark.parametrize("persona", PERSONAS)
def test_project_list(cast: Any, api: Any, world: World, persona: str) -> None:
    ids = list_ids(api(cast.all()[persona]), "/api/v1/projects/")
    assert sorted(ids) == sorted(world.projects[k].pk for k in NODES_SEEN[persona])


@pytest.mark.parametrize("persona", PERSONAS)
def test_staff_list(cast: Any, api: Any, world: World, persona: str) -> None:
    ids = list_ids(api(cast.all()[persona]), "/api/v1/staff/")
    assert sorted(ids) == sorted(cast.all()[name].pk for name in STAFF_SEEN[persona])


@pytest.mark.parametrize("persona", PERSONAS)
def test_audit_event_list(cast: Any, api: Any, world: World, persona: str) -> None:
    ids = list_ids(api(cast.all()[persona]), "/api/v1/audit-events/")
    actors = AUDIT_ACTORS_SEEN[persona]
    if actors is None:
        # Everything: the cast's own set-up (actor: the system) and each persona's edit.
        expected = set(AuditEvent.objects.values_list("pk", flat=True))
        assert len(expected) > len(PERSONAS)
        assert {e.pk for e in world.events.values()} <= expected
        assert AuditEvent.objects.filter(actor__isnull=True).exists()
    else:
        expected = {world.events[name].pk for name in actors}
    assert sorted(ids) == sorted(expected)


@pytest.mark.parametrize("persona", PERSONAS)
def test_token_list_shows_only_ones_own(cast: Any, api: Any, world: World, persona: str) -> None:
    response = api(cast.all()[persona]).get("/api/v1/tokens/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [world.tokens[persona].pk]
    assert body["results"][0]["name"] == f"{persona} token"
    assert "key" not in body["results"][0]
    assert "key_hash" not in body["results"][0]


@pytest.mark.parametrize("persona", PERSONAS)
def test_role_list_is_the_same_for_everyone(cast: Any, api: Any, persona: str) -> None:
    response = api(cast.all()[persona]).get("/api/v1/roles/")
    assert response.status_code == 200
    assert response.json() == [
        {"code": "admin", "label": "Administrator"},
        {"code": "manager", "label": "Manager"},
        {"code": "commissioner", "label": "Commissioner / team lead"},
        {"code": "consultant", "label": "Consultant"},
        {"code": "promoter", "label": "Promoter"},
        {"code": "broker", "label": "Broker"},
    ]


# --- objects --------------------------------------------------------------------------


def assert_visible_exactly(
    client: Any, prefix: str, objects: dict[str, Any], seen: set[str], model: Any
) -> None:
    """GET every object: the ones in ``seen`` answer 200 with their id, every other one
    answers byte-for-byte what a missing id answers."""
    missing = client.get(f"{prefix}{missing_id(model)}/")
    assert missing.status_code == 404
    assert missing.json() == NOT_FOUND
    for key, obj in objects.items():
        response = client.get(f"{prefix}{obj.pk}/")
        if key in seen:
            assert response.status_code == 200, (key, response.content)
            assert response.json()["id"] == obj.pk
        else:
            assert response.status_code == 404, key
            assert response.content == missing.content, key


@pytest.mark.parametrize("persona", PERSONAS)
def test_org_node_objects(cast: Any, api: Any, world: World, persona: str) -> None:
    assert_visible_exactly(
        api(cast.all()[persona]), "/api/v1/org-nodes/", world.nodes, NODES_SEEN[persona], OrgNode
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_project_objects(cast: Any, api: Any, world: World, persona: str) -> None:
    assert_visible_exactly(
        api(cast.all()[persona]),
        "/api/v1/projects/",
        world.projects,
        NODES_SEEN[persona],
        Project,
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_staff_objects(cast: Any, api: Any, world: World, persona: str) -> None:
    assert_visible_exactly(
        api(cast.all()[persona]), "/api/v1/staff/", cast.all(), STAFF_SEEN[persona], Staff
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_audit_event_objects(cast: Any, api: Any, world: World, persona: str) -> None:
    actors = AUDIT_ACTORS_SEEN[persona]
    seen = set(PERSONAS) if actors is None else actors
    assert_visible_exactly(
        api(cast.all()[persona]), "/api/v1/audit-events/", world.events, seen, AuditEvent
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_someone_elses_token_is_not_found(cast: Any, api: Any, world: World, persona: str) -> None:
    """Tokens have no detail view; revoking is the one object action, and another
    person's token answers like a missing one (and stays active)."""
    client = api(cast.all()[persona])
    missing = client.delete(f"/api/v1/tokens/{missing_id(ApiToken)}/")
    assert missing.status_code == 404
    assert missing.json() == NOT_FOUND
    for name, token in world.tokens.items():
        if name == persona:
            continue
        response = client.delete(f"/api/v1/tokens/{token.pk}/")
        assert response.status_code == 404, name
        assert response.content == missing.content
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == len(PERSONAS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_me_is_oneself(cast: Any, api: Any, persona: str) -> None:
    staff = cast.all()[persona]
    response = api(staff).get("/api/v1/staff/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == staff.pk
    assert body["username"] == persona
    assert body["phone"] == staff.phone  # one's own number is never masked


def test_numbers_are_shown_in_full_to_those_who_see_them(cast: Any, api: Any) -> None:
    """Consultants and managers see full numbers of the people they see; the promoter
    sees only themselves, in full."""
    rows = api(cast.consultant).get("/api/v1/staff/").json()["results"]
    assert {r["username"]: r["phone"] for r in rows} == {
        "commissioner": "+8613800000007",
        "consultant": "+8613800000005",
        "manager": "+8613800000003",
        "promoter": "+8613800000008",
    }
    rows = api(cast.promoter).get("/api/v1/staff/").json()["results"]
    assert [(r["username"], r["phone"]) for r in rows] == [("promoter", "+8613800000008")]


# --- unauthenticated --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/org-nodes/"),
        ("get", "/api/v1/org-nodes/{node}/"),
        ("post", "/api/v1/org-nodes/"),
        ("patch", "/api/v1/org-nodes/{node}/"),
        ("get", "/api/v1/projects/"),
        ("get", "/api/v1/projects/{project}/"),
        ("post", "/api/v1/projects/"),
        ("patch", "/api/v1/projects/{project}/"),
        ("get", "/api/v1/staff/"),
        ("get", "/api/v1/staff/{staff}/"),
        ("get", "/api/v1/staff/me/"),
        ("post", "/api/v1/staff/"),
        ("patch", "/api/v1/staff/{staff}/"),
        ("put", "/api/v1/staff/{staff}/roles/"),
        ("post", "/api/v1/staff/{staff}/move/"),
        ("post", "/api/v1/staff/{staff}/leave/"),
        ("get", "/api/v1/tokens/"),
        ("post", "/api/v1/tokens/"),
        ("delete", "/api/v1/tokens/{token}/"),
        ("get", "/api/v1/roles/"),
        ("get", "/api/v1/audit-events/"),
        ("get", "/api/v1/audit-events/{event}/"),
    ],
)
def test_unauthenticated_is_401_with_the_error_body(
    cast: Any, api: Any, world: World, method: str, url: str
) -> None:
    url = url.format(
        node=cast.team.pk,
        project=world.projects["team"].pk,
        staff=cast.consultant.pk,
        token=world.tokens["consultant"].pk,
        event=world.events["consultant"].pk,
    )
    events = AuditEvent.objects.count()
    response = getattr(api(None), method)(url, {"name": "x"}, format="json")
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response["WWW-Authenticate"] == "Token"
    assert AuditEvent.objects.count() == events
