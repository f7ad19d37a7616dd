"""API tests for the audit trail, /api/v1/audit-events/: what an event says, who sees
it, filters, ordering, pages, and its query count."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from kehu.core.context import acting
from kehu.core.models import AuditEvent
from kehu.org import services


def results(response: Any) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_an_api_write_reads_back_as_one_event(cast: Any, api: Any) -> None:
    client = api(cast.manager)
    write = client.patch(
        f"/api/v1/staff/{cast.consultant.pk}/",
        {"capacity": 60},
        format="json",
        HTTP_X_REQUEST_ID="req-42",
    )
    assert write.status_code == 200
    assert write["X-Request-ID"] == "req-42"
    event = AuditEvent.objects.get(action="org.staff.update")

    body = client.get(f"/api/v1/audit-events/{event.pk}/").json()
    assert body == {
        "id": event.pk,
        "created_at": body["created_at"],
        "actor": cast.manager.pk,
        "actor_label": "manager",
        "action": "org.staff.update",
        "object_type": "org.staff",
        "object_id": str(cast.consultant.pk),
        "object_repr": "Consultant",
        "before": body["before"],
        "after": body["after"],
        "source": "api",
        "request_id": "req-42",
    }
    assert {k: v for k, v in body["after"].items() if body["before"][k] != v} == {"capacity": 60}
    assert body["before"]["capacity"] == 100
    created = datetime.datetime.fromisoformat(body["created_at"])
    assert abs(timezone.now() - created) < datetime.timedelta(minutes=5)
    assert "ip_address" not in body
    assert "actor_node_path" not in body


def test_a_command_and_the_system_are_told_apart(cast: Any, api: Any) -> None:
    with acting("command"):
        services.update_staff(actor=None, staff=cast.consultant, capacity=1)
    services.update_own_profile(actor=cast.admin, email="boss@example.com")
    rows = results(api(cast.admin).get("/api/v1/audit-events/", {"page_size": 2}))
    assert [(r["action"], r["source"], r["actor"], r["actor_label"]) for r in rows] == [
        ("org.staff.update_profile", "system", cast.admin.pk, "admin"),
        ("org.staff.update", "command", None, "command"),
    ]


# --- who sees what ---------------------------------------------------------------------------


@pytest.fixture
def edits(cast: Any) -> dict[str, AuditEvent]:
    """One profile edit by each persona, so each event's actor is known."""
    out = {}
    for name, staff in cast.all().items():
        services.update_own_profile(actor=staff, email=f"{name}@example.com")
        out[name] = AuditEvent.objects.get(action="org.staff.update_profile", actor=staff)
    return out


def seen_actors(client: Any) -> list[str]:
    rows = results(client.get("/api/v1/audit-events/", {"action": "org.staff.update_profile"}))
    return sorted(row["actor_label"] for row in rows)


def test_a_manager_sees_what_their_subtree_did(cast: Any, api: Any, edits: dict) -> None:
    assert seen_actors(api(cast.manager)) == ["commissioner", "consultant", "manager", "promoter"]
    assert seen_actors(api(cast.other_manager)) == ["other_consultant", "other_manager"]
    assert seen_actors(api(cast.region_manager)) == [
        "commissioner",
        "consultant",
        "manager",
        "other_consultant",
        "other_manager",
        "promoter",
        "region_manager",
    ]


def test_a_manager_does_not_see_what_the_system_or_the_admin_did(
    cast: Any, api: Any, edits: dict
) -> None:
    rows = results(api(cast.region_manager).get("/api/v1/audit-events/", {"page_size": 200}))
    assert all(row["actor"] is not None for row in rows)
    assert cast.admin.pk not in {row["actor"] for row in rows}
    assert AuditEvent.objects.filter(actor__isnull=True).count() > 0


@pytest.mark.parametrize(
    "persona", ["consultant", "other_consultant", "commissioner", "promoter", "broker"]
)
def test_people_who_manage_nobody_see_no_events(
    cast: Any, api: Any, edits: dict, persona: str
) -> None:
    client = api(cast.all()[persona])
    assert client.get("/api/v1/audit-events/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    # Not even the events they caused themselves.
    response = client.get(f"/api/v1/audit-events/{edits[persona].pk}/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }


def test_an_event_stays_where_its_actor_was_when_it_happened(
    cast: Any, api: Any, edits: dict
) -> None:
    """The actor's place is copied at write time: moving the person moves their future
    events into the new subtree, not their past ones."""
    services.move_staff(actor=None, staff=cast.consultant, node=cast.other_team)
    consultant = type(cast.consultant).objects.get(pk=cast.consultant.pk)
    services.update_own_profile(actor=consultant, name="Moved")
    new_event = AuditEvent.objects.filter(actor=consultant).latest("pk")

    manager = api(cast.manager)
    other = api(cast.other_manager)
    assert manager.get(f"/api/v1/audit-events/{edits['consultant'].pk}/").status_code == 200
    assert manager.get(f"/api/v1/audit-events/{new_event.pk}/").status_code == 404
    assert other.get(f"/api/v1/audit-events/{edits['consultant'].pk}/").status_code == 404
    assert other.get(f"/api/v1/audit-events/{new_event.pk}/").status_code == 200


def test_events_of_someone_who_left_stay_visible(cast: Any, api: Any, edits: dict) -> None:
    services.mark_staff_left(actor=cast.manager, staff=cast.promoter)
    assert seen_actors(api(cast.manager)) == ["commissioner", "consultant", "manager", "promoter"]
    leave = results(api(cast.manager).get("/api/v1/audit-events/", {"action": "org.staff.leave"}))
    assert [(r["actor_label"], r["object_id"]) for r in leave] == [
        ("manager", str(cast.promoter.pk))
    ]


# --- filters, ordering, pages ---------------------------------------------------------------


def test_filters(cast: Any, api: Any, edits: dict) -> None:
    with acting("command"):
        services.update_staff(actor=cast.admin, staff=cast.consultant, capacity=1)
    client = api(cast.admin)

    def actions(query: dict) -> list[tuple[str, str]]:
        return [
            (r["action"], r["actor_label"])
            for r in results(client.get("/api/v1/audit-events/", query))
        ]

    assert actions({"actor": cast.consultant.pk}) == [("org.staff.update_profile", "consultant")]
    assert actions({"action": "org.staff.update", "object_id": cast.consultant.pk}) == [
        ("org.staff.update", "admin"),
        ("org.staff.update_profile", "consultant"),
    ]
    assert actions({"source": "command"}) == [("org.staff.update", "admin")]
    assert actions({"object_type": "org.orgnode", "actor": cast.admin.pk}) == []
    assert (
        len(actions({"object_type": "org.orgnode"}))
        == AuditEvent.objects.filter(object_type="org.orgnode").count()
    )
    today = timezone.localdate()
    assert (
        len(actions({"since": today.isoformat(), "page_size": 200})) == AuditEvent.objects.count()
    )
    assert actions({"until": (today - datetime.timedelta(days=1)).isoformat()}) == []
    assert actions({"since": (today + datetime.timedelta(days=1)).isoformat()}) == []


def test_newest_first_and_ordering(cast: Any, api: Any, edits: dict) -> None:
    client = api(cast.manager)
    newest_first = [r["id"] for r in results(client.get("/api/v1/audit-events/"))]
    assert newest_first == sorted(newest_first, reverse=True)
    assert newest_first == [
        edits[name].pk for name in ("promoter", "commissioner", "consultant", "manager")
    ]
    oldest_first = [
        r["id"] for r in results(client.get("/api/v1/audit-events/", {"ordering": "id"}))
    ]
    assert oldest_first == list(reversed(newest_first))


def test_pages(cast: Any, api: Any, edits: dict) -> None:
    client = api(cast.region_manager)
    first = client.get("/api/v1/audit-events/", {"page_size": 3}).json()
    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["next"] == "http://testserver/api/v1/audit-events/?page=2&page_size=3"
    last = client.get("/api/v1/audit-events/", {"page_size": 3, "page": 3}).json()
    assert len(last["results"]) == 1
    assert last["next"] is None


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"since": "yesterday"}, {"since": ["Enter a valid date."]}),
        ({"until": "2025-13-01"}, {"until": ["Enter a valid date."]}),
        ({"actor": "me"}, {"actor": ["Enter a whole number."]}),
        ({"actor": "1e30"}, {"actor": ["Enter a whole number."]}),
        (
            {"source": "email"},
            {"source": ["Select a valid choice. email is not one of the available choices."]},
        ),
    ],
)
def test_bad_filters_are_400(cast: Any, api: Any, query: dict, fields: dict) -> None:
    response = api(cast.admin).get("/api/v1/audit-events/", query)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Please correct the errors below.",
            "fields": fields,
        }
    }


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_trail_cannot_be_written_through_the_api(
    cast: Any, api: Any, edits: dict, method: str
) -> None:
    before = list(AuditEvent.objects.order_by("pk").values())
    url = (
        f"/api/v1/audit-events/{edits['consultant'].pk}/"
        if method != "post"
        else "/api/v1/audit-events/"
    )
    response = getattr(api(cast.admin), method)(url, {"action": "forged"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert list(AuditEvent.objects.order_by("pk").values()) == before


def test_a_filtered_list_costs_the_same_however_many_events(
    cast: Any, api: Any, edits: dict, django_assert_num_queries: Any
) -> None:
    """Roles (1) and node (1) of the manager, the count, the page."""
    manager = type(cast.manager).objects.get(pk=cast.manager.pk)
    with django_assert_num_queries(4):
        small = api(manager).get("/api/v1/audit-events/", {"action": "org.staff"})
    for index in range(25):
        services.update_own_profile(actor=cast.consultant, name=f"C{index}")
    manager = type(cast.manager).objects.get(pk=cast.manager.pk)
    with django_assert_num_queries(4):
        large = api(manager).get("/api/v1/audit-events/", {"action": "org.staff"})
    assert (small.json()["count"], large.json()["count"]) == (4, 29)
