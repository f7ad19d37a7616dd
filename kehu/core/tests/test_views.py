"""The shared pages: home, the audit log, the language switch and the error pages."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Any

import pytest

from conftest import Cast
from kehu.core.models import AuditEvent
from kehu.org import services

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
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
AUDIT_READERS = ["admin", "region_manager", "manager", "other_manager"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """These tests log in with force_login; argon2 (checked in test_auth.py) would only
    slow building the cast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def heading(response: Any) -> str:
    match = re.search(r"<h1[^>]*>\s*(.*?)\s*</h1>", response.content.decode(), re.S)
    assert match is not None
    return match.group(1)


def shown(response: Any) -> list[tuple[str, str]]:
    """(actor, action) of the audit rows on the page, newest first."""
    return [(e.actor_label, e.action) for e in response.context["page"]]


# --- home ---------------------------------------------------------------------------------


START_PAGES = {
    "admin": "/customers/",
    "region_manager": "/customers/",
    "manager": "/customers/",
    "other_manager": "/customers/",
    "consultant": "/customers/",
    "other_consultant": "/customers/",
    "commissioner": "/customers/",
    "promoter": "/leads/field/",
    "broker": "/leads/broker/",
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_home_sends_each_persona_to_their_start_page(cast: Cast, web: Any, persona: str):
    client = web(getattr(cast, persona))

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == START_PAGES[persona]
    assert client.get(response["Location"]).status_code == 200


def test_healthz_answers_without_login(db: Any, client: Any):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_page_gets_the_not_found_page(cast: Cast, web: Any):
    response = web(cast.admin).get("/no-such-page/")

    assert response.status_code == 404
    assert [t.name for t in response.templates][0] == "404.html"
    assert "This page does not exist, or you may not see it." in response.content.decode()


# --- the audit log: who may read it, and what they see --------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_audit_log_opens_for_admins_and_managers_only(cast: Cast, web: Any, persona: str):
    response = web(getattr(cast, persona)).get("/audit/")

    assert response.status_code == (200 if persona in AUDIT_READERS else 404)
    nav_link = 'href="/audit/"' in web(getattr(cast, persona)).get("/org/me/").content.decode()
    assert nav_link is (persona in AUDIT_READERS)


@pytest.fixture
def events(cast: Cast) -> dict[str, AuditEvent]:
    """One event by each persona, through the services, oldest first."""
    services.update_own_profile(actor=cast.admin, name="Admin A")
    services.create_node(actor=cast.region_manager, name="三组", kind="team", parent=cast.area)
    services.issue_api_token(actor=cast.manager, staff=cast.manager, name="laptop")
    services.update_own_profile(actor=cast.consultant, name="Consultant C")
    services.update_staff(actor=cast.other_manager, staff=cast.other_consultant, capacity=50)
    services.update_own_profile(actor=cast.promoter, name="Promoter P")
    services.update_own_profile(actor=cast.broker, name="Broker B")
    mine = AuditEvent.objects.exclude(actor=None).order_by("id")
    return {event.actor_label: event for event in mine}


def test_audit_events_are_recorded_one_per_persona(events: dict[str, AuditEvent]):
    assert {name: e.action for name, e in events.items()} == {
        "admin": "org.staff.update_profile",
        "region_manager": "org.node.create",
        "manager": "org.token.issue",
        "consultant": "org.staff.update_profile",
        "other_manager": "org.staff.update",
        "promoter": "org.staff.update_profile",
        "broker": "org.staff.update_profile",
    }


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        (
            "region_manager",
            [
                ("promoter", "org.staff.update_profile"),
                ("other_manager", "org.staff.update"),
                ("consultant", "org.staff.update_profile"),
                ("manager", "org.token.issue"),
                ("region_manager", "org.node.create"),
            ],
        ),
        (
            "manager",
            [
                ("promoter", "org.staff.update_profile"),
                ("consultant", "org.staff.update_profile"),
                ("manager", "org.token.issue"),
            ],
        ),
        ("other_manager", [("other_manager", "org.staff.update")]),
    ],
)
def test_managers_see_only_events_by_people_in_their_subtree(
    cast: Cast, web: Any, events: dict[str, AuditEvent], persona: str, expected: list
):
    response = web(getattr(cast, persona)).get("/audit/")

    assert shown(response) == expected
    content = response.content.decode()
    assert ("Admin A" in content) is False
    assert ("Broker B" in content) is False


def test_admin_sees_every_event(cast: Cast, web: Any, events: dict[str, AuditEvent]):
    response = web(cast.admin).get("/audit/")

    assert response.context["page"].paginator.count == AuditEvent.objects.count()
    assert shown(response)[:7] == [
        ("broker", "org.staff.update_profile"),
        ("promoter", "org.staff.update_profile"),
        ("other_manager", "org.staff.update"),
        ("consultant", "org.staff.update_profile"),
        ("manager", "org.token.issue"),
        ("region_manager", "org.node.create"),
        ("admin", "org.staff.update_profile"),
    ]


def test_audit_log_filters_by_action_prefix(cast: Cast, web: Any, events: dict[str, AuditEvent]):
    client = web(cast.manager)

    assert shown(client.get("/audit/?action=org.staff")) == [
        ("promoter", "org.staff.update_profile"),
        ("consultant", "org.staff.update_profile"),
    ]
    assert shown(client.get("/audit/?action=org.token")) == [("manager", "org.token.issue")]
    assert shown(client.get("/audit/?action=staff")) == []


def test_audit_log_filters_by_object_type(cast: Cast, web: Any, events: dict[str, AuditEvent]):
    client = web(cast.region_manager)

    assert shown(client.get("/audit/?object_type=org.apitoken")) == [("manager", "org.token.issue")]
    assert shown(client.get("/audit/?object_type=org.orgnode")) == [
        ("region_manager", "org.node.create")
    ]


def test_audit_log_filters_by_local_date(cast: Cast, web: Any, events: dict[str, AuditEvent]):
    """Dates are Shanghai dates: 23:30 on the 10th and 00:30 on the 11th fall on
    different days here, though both are the 10th in UTC."""

    def at(name: str, day: int, hour: int, minute: int) -> None:
        when = datetime.datetime(2026, 1, day, hour, minute, tzinfo=SHANGHAI)
        AuditEvent.objects.filter(pk=events[name].pk).update(created_at=when)

    at("consultant", 10, 23, 30)
    at("promoter", 11, 0, 30)
    at("manager", 12, 10, 0)
    client = web(cast.manager)

    assert shown(client.get("/audit/?since=2026-01-11&until=2026-01-11")) == [
        ("promoter", "org.staff.update_profile")
    ]
    assert shown(client.get("/audit/?until=2026-01-10")) == [
        ("consultant", "org.staff.update_profile")
    ]
    assert shown(client.get("/audit/?since=2026-01-11")) == [
        ("manager", "org.token.issue"),
        ("promoter", "org.staff.update_profile"),
    ]


def test_audit_log_says_when_a_date_is_invalid(cast: Cast, web: Any, events: dict[str, Any]):
    response = web(cast.manager).get("/audit/?since=yesterday")

    assert response.status_code == 200
    assert response.context["filter"].errors == {"since": ["Enter a valid date."]}
    assert "Enter a valid date." in response.content.decode()


def test_audit_log_escapes_what_it_shows(cast: Cast, web: Any):
    services.update_own_profile(actor=cast.manager, name="<script>alert(1)</script>")

    content = web(cast.manager).get("/audit/").content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_audit_log_with_htmx_returns_only_the_rows(
    cast: Cast, web: Any, events: dict[str, AuditEvent]
):
    client = web(cast.manager)

    partial = client.get("/audit/?action=org.token", HTTP_HX_REQUEST="true")
    full = client.get("/audit/?action=org.token")

    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert 'data-testid="audit-table"' in partial.content.decode()
    assert shown(partial) == [("manager", "org.token.issue")]
    assert full.content.decode().lstrip().startswith("<!doctype html>")
    assert 'data-testid="audit-table"' in full.content.decode()


@pytest.mark.parametrize(
    ("persona", "queries"),
    # session, user, roles, (the manager's node), count, page
    [("admin", 5), ("manager", 6)],
)
def test_audit_log_query_count_does_not_grow_with_the_log(
    cast: Cast,
    web: Any,
    events: dict[str, AuditEvent],
    django_assert_num_queries: Any,
    persona: str,
    queries: int,
):
    client = web(getattr(cast, persona))
    with django_assert_num_queries(queries):
        first = client.get("/audit/").context["page"].paginator.count

    for i in range(20):
        services.update_own_profile(actor=cast.consultant, name=f"Consultant {i}")
    with django_assert_num_queries(queries):
        response = client.get("/audit/")
    assert response.context["page"].paginator.count == first + 20


# --- language --------------------------------------------------------------------------------


def test_accept_language_en_gives_english_pages(cast: Cast, web: Any):
    response = web(cast.manager, language="en").get("/org/staff/")

    assert heading(response) == "Staff"
    assert '<html lang="en">' in response.content.decode()


def test_accept_language_zh_gives_chinese_pages(cast: Cast, web: Any):
    response = web(cast.manager, language="zh-hans").get("/org/staff/")

    assert heading(response) == "员工"
    assert '<html lang="zh-CN">' in response.content.decode()


def test_the_language_switch_changes_the_page_language(cast: Cast, web: Any):
    client = web(cast.manager, language="zh-hans")

    to_en = client.post("/i18n/setlang/", {"language": "en", "next": "/org/staff/"})
    assert to_en.status_code == 302
    assert to_en["Location"] == "/org/staff/"
    assert heading(client.get("/org/staff/")) == "Staff"

    to_zh = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/org/staff/"})
    assert to_zh["Location"] == "/org/staff/"
    assert heading(client.get("/org/staff/")) == "员工"


def test_the_language_switch_ignores_unknown_languages(cast: Cast, web: Any):
    client = web(cast.manager, language="en")

    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/org/staff/"})

    assert response.status_code == 302
    assert heading(client.get("/org/staff/")) == "Staff"


def test_the_language_switch_returns_to_the_same_page(cast: Cast, web: Any):
    content = web(cast.manager).get("/org/staff/?role=manager").content.decode()

    assert '<input name="next" type="hidden" value="/org/staff/?role=manager">' in content
    assert 'name="language" value="zh-hans"' in content
