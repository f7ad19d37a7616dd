"""The organisation pages, persona by persona: what each one sees, what each one may
change through the pages, and what stays unchanged when they may not."""

from __future__ import annotations

import datetime
import hashlib
import re
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import Cast
from kehu.core.models import AuditEvent
from kehu.org import services
from kehu.org.models import ApiToken, OrgNode, Staff
from kehu.org.views import _display_phone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """These tests log in with force_login; argon2 (checked in core/tests/test_auth.py)
    would only slow building the cast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
EDITORS = ["admin", "region_manager", "manager", "other_manager"]
EVERYONE_ELSE = ["consultant", "other_consultant", "commissioner", "promoter", "broker"]
TEAM = ["commissioner", "consultant", "manager", "promoter"]
OTHER_TEAM = ["other_consultant", "other_manager"]

CSRF = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')


def listed(response: Any) -> list[str]:
    """The usernames on a staff-list page, as rendered (in order)."""
    return [row["staff"].username for row in response.context["rows"]]


def tree_names(response: Any) -> list[str]:
    """The node names in the rendered tree, depth first."""
    children = response.context["children"]
    names: list[str] = []

    def walk(nodes: list[OrgNode]) -> None:
        for node in nodes:
            names.append(node.name)
            walk(children.get(node.pk, []))

    walk(response.context["roots"])
    return names


def not_found_page(response: Any, url: str) -> str:
    """A 404 page with what legitimately differs (the CSRF token, the URL the language
    switch returns to) taken out, so a forbidden and a missing object compare equal."""
    assert response.status_code == 404
    return CSRF.sub(r"\1", response.content.decode()).replace(url, "URL")


def staff_form(staff: Staff, **changes: Any) -> dict[str, Any]:
    """The profile form of /org/staff/<id>/edit/ as the page would post it."""
    data = {
        "form": "profile",
        "name": staff.name,
        "phone": staff.phone or "",
        "email": staff.email,
        "hire_date": "",
        "probation_end": "",
        "employment_type": staff.employment_type,
        "capacity": staff.capacity,
    }
    data.update(changes)
    return data


def snapshot(staff: Staff) -> tuple[Any, ...]:
    staff = Staff.objects.get(pk=staff.pk)
    return (
        staff.name,
        staff.phone,
        staff.email,
        staff.node_id,
        staff.is_active,
        staff.left_on,
        staff.employment_type,
        staff.capacity,
        sorted(staff.roles),
    )


# --- the tree ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("admin", ["测试公司", "华东大区", "上海区域", "一组", "二组"]),
        ("region_manager", ["测试公司", "华东大区", "上海区域", "一组", "二组"]),
        ("manager", ["测试公司", "华东大区", "上海区域", "一组"]),
        ("other_manager", ["测试公司", "华东大区", "上海区域", "二组"]),
        ("consultant", ["测试公司", "华东大区", "上海区域", "一组"]),
        ("other_consultant", ["测试公司", "华东大区", "上海区域", "二组"]),
        ("commissioner", ["测试公司", "华东大区", "上海区域", "一组"]),
        ("promoter", ["测试公司", "华东大区", "上海区域", "一组"]),
        ("broker", []),
    ],
)
def test_tree_shows_the_visible_nodes(cast: Cast, web: Any, persona: str, expected: list[str]):
    response = web(getattr(cast, persona)).get("/org/")

    assert response.status_code == 200
    assert tree_names(response) == expected
    content = response.content.decode()
    for name in ["测试公司", "华东大区", "上海区域", "一组", "二组"]:
        assert (f">{name}</a>" in content) is (name in expected)


def test_tree_counts_active_members_and_names_managers(cast: Cast, web: Any):
    services.mark_staff_left(actor=cast.admin, staff=cast.promoter)

    response = web(cast.admin).get("/org/")

    counts = {}
    for nodes in response.context["children"].values():
        for node in nodes:
            counts[node.name] = (node.member_count, node.manager.username if node.manager else "")
    assert counts == {
        "测试公司": (1, ""),
        "华东大区": (1, "region_manager"),
        "上海区域": (0, ""),
        "一组": (3, "manager"),
        "二组": (2, "other_manager"),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_tree_offers_the_add_form_to_admins_and_managers_only(cast: Cast, web: Any, persona):
    response = web(getattr(cast, persona)).get("/org/")

    assert (response.context["form"] is not None) is (persona in EDITORS)
    assert ("Add a node" in response.content.decode()) is (persona in EDITORS)


def test_admin_adds_a_region_under_the_company(cast: Cast, web: Any):
    response = web(cast.admin).post("/org/", {"name": "华南大区", "parent": cast.company.pk})

    assert response.status_code == 302
    assert response["Location"] == "/org/"
    node = OrgNode.objects.get(name="华南大区")
    assert (node.kind, node.parent_id, node.path) == (
        "region",
        cast.company.pk,
        f"{cast.company.path}{node.pk}/",
    )
    event = AuditEvent.objects.get(action="org.node.create", object_id=str(node.pk))
    assert (event.actor_id, event.source) == (cast.admin.pk, "web")


def test_region_manager_adds_a_team_under_their_area(cast: Cast, web: Any):
    response = web(cast.region_manager).post("/org/", {"name": "三组", "parent": cast.area.pk})

    assert response.status_code == 302
    node = OrgNode.objects.get(name="三组")
    assert (node.kind, node.parent_id) == ("team", cast.area.pk)


@pytest.mark.parametrize("persona", ["manager", "consultant", "promoter"])
def test_adding_a_node_outside_ones_subtree_is_not_found(cast: Cast, web: Any, persona: str):
    """The area is visible to them (it is an ancestor), but not theirs to change."""
    before = list(OrgNode.objects.values_list("pk", "name", "parent_id"))

    response = web(getattr(cast, persona)).post("/org/", {"name": "三组", "parent": cast.area.pk})

    assert response.status_code == 404
    assert list(OrgNode.objects.values_list("pk", "name", "parent_id")) == before


def test_broker_cannot_add_a_node(cast: Cast, web: Any):
    count = OrgNode.objects.count()

    response = web(cast.broker).post("/org/", {"name": "三组", "parent": cast.company.pk})

    assert response.status_code == 404
    assert OrgNode.objects.count() == count


def test_adding_a_node_with_a_taken_name_shows_the_error(cast: Cast, web: Any):
    count = OrgNode.objects.count()

    response = web(cast.admin).post("/org/", {"name": "华东大区", "parent": cast.company.pk})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["There is already a node named 华东大区 here."]
    }
    assert "There is already a node named 华东大区 here." in response.content.decode()
    assert OrgNode.objects.count() == count


# --- the staff list -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("admin", sorted(PERSONAS)),
        ("region_manager", sorted(TEAM + OTHER_TEAM + ["region_manager"])),
        ("manager", TEAM),
        ("other_manager", OTHER_TEAM),
        ("consultant", TEAM),
        ("other_consultant", OTHER_TEAM),
        ("commissioner", TEAM),
        ("promoter", ["promoter"]),
        ("broker", ["broker"]),
    ],
)
def test_staff_list_shows_the_visible_people(
    cast: Cast, web: Any, persona: str, expected: list[str]
):
    response = web(getattr(cast, persona)).get("/org/staff/")

    assert response.status_code == 200
    assert sorted(listed(response)) == expected
    content = response.content.decode()
    for name, staff in cast.all().items():
        assert (f'href="/org/staff/{staff.pk}/"' in content) is (name in expected)


def test_staff_list_puts_people_without_a_node_last_on_every_database(cast: Cast, web: Any):
    response = web(cast.admin).get("/org/staff/")

    assert listed(response)[0] == "admin"
    assert listed(response)[-1] == "broker"


@pytest.mark.parametrize("persona", ["admin", "region_manager", "manager", "consultant"])
def test_staff_list_shows_full_numbers_to_managers_and_consultants(cast: Cast, web: Any, persona):
    response = web(getattr(cast, persona)).get("/org/staff/")

    phones = {row["staff"].username: row["phone"] for row in response.context["rows"]}
    assert phones["consultant"] == "+8613800000005"
    assert phones["promoter"] == "+8613800000008"
    assert "+8613800000005" in response.content.decode()
    assert "****" not in response.content.decode()


@pytest.mark.parametrize(("persona", "phone"), [("promoter", "08"), ("broker", "09")])
def test_promoters_and_brokers_see_their_own_number_in_full(cast: Cast, web: Any, persona, phone):
    response = web(getattr(cast, persona)).get("/org/staff/")

    assert [row["phone"] for row in response.context["rows"]] == [f"+86138000000{phone}"]


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("promoter", "138****0005"),
        ("broker", "138****0005"),
        ("consultant", "+8613800000005"),
        ("commissioner", "+8613800000005"),
        ("manager", "+8613800000005"),
        ("admin", "+8613800000005"),
    ],
)
def test_other_peoples_numbers_are_masked_for_promoters_and_brokers(
    cast: Cast, viewer: str, expected: str
):
    """Promoters and brokers only ever see themselves on the staff pages today, so the
    masking rule the pages use is checked on its own."""
    assert _display_phone(getattr(cast, viewer), cast.consultant) == expected


def test_staff_list_hides_people_who_left_unless_asked(cast: Cast, web: Any):
    services.mark_staff_left(actor=cast.admin, staff=cast.promoter)
    client = web(cast.manager)

    assert listed(client.get("/org/staff/")) == ["commissioner", "consultant", "manager"]
    assert listed(client.get("/org/staff/?is_active=false")) == ["promoter"]


def test_staff_list_filters_by_role_node_and_search(cast: Cast, web: Any):
    client = web(cast.admin)

    assert sorted(listed(client.get("/org/staff/?role=manager"))) == [
        "manager",
        "other_manager",
        "region_manager",
    ]
    assert sorted(listed(client.get(f"/org/staff/?node={cast.other_team.pk}"))) == OTHER_TEAM
    assert listed(client.get("/org/staff/?q=0000007")) == ["commissioner"]


def test_staff_list_with_htmx_returns_only_the_rows(cast: Cast, web: Any):
    client = web(cast.manager)

    partial = client.get("/org/staff/", HTTP_HX_REQUEST="true")
    full = client.get("/org/staff/")

    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert 'data-testid="staff-table"' in partial.content.decode()
    assert sorted(listed(partial)) == TEAM
    assert full.content.decode().lstrip().startswith("<!doctype html>")
    assert 'data-testid="staff-table"' in full.content.decode()


def test_staff_list_query_count_does_not_grow_with_the_list(
    cast: Cast, web: Any, django_assert_num_queries: Any
):
    client = web(cast.manager)
    # session, user, roles, the user's node, count, page, roles of the page
    with django_assert_num_queries(7):
        response = client.get("/org/staff/")
    assert len(response.context["rows"]) == 4

    for i in range(20):
        services.create_staff(
            actor=None,
            username=f"bee{i:02d}",
            roles=["promoter", "consultant"] if i % 2 else ["promoter"],
            node=cast.team,
            phone=f"139000000{i:02d}",
        )
    with django_assert_num_queries(7):
        response = client.get("/org/staff/")
    assert len(response.context["rows"]) == 24


def test_staff_list_query_count_for_admin(cast: Cast, web: Any, django_assert_num_queries: Any):
    client = web(cast.admin)
    # session, user, roles, count, page, roles of the page
    with django_assert_num_queries(6):
        client.get("/org/staff/")
    for i in range(20):
        services.create_staff(
            actor=None, username=f"bee{i:02d}", roles=["promoter"], node=cast.other_team
        )
    with django_assert_num_queries(6):
        response = client.get("/org/staff/?role=promoter")
    assert len(response.context["rows"]) == 21


def test_tree_query_count_does_not_grow_with_the_tree(
    cast: Cast, web: Any, django_assert_num_queries: Any
):
    client = web(cast.region_manager)
    # session, user, roles, the user's node, the nodes, the form's parent choices
    with django_assert_num_queries(6):
        client.get("/org/")
    for i in range(20):
        team = services.create_node(actor=None, name=f"{i}组", kind="team", parent=cast.area)
        boss = services.create_staff(
            actor=None, username=f"boss{i:02d}", roles=["manager"], node=team
        )
        services.update_node(actor=None, node=team, manager=boss)
        services.create_project(actor=None, name=f"项目{i}", node=team)
    with django_assert_num_queries(6):
        response = client.get("/org/")
    assert len(tree_names(response)) == 25


# --- staff detail ----------------------------------------------------------------------------


VISIBLE = {
    "admin": set(PERSONAS),
    "region_manager": set(TEAM + OTHER_TEAM + ["region_manager"]),
    "manager": set(TEAM),
    "other_manager": set(OTHER_TEAM),
    "consultant": set(TEAM),
    "other_consultant": set(OTHER_TEAM),
    "commissioner": set(TEAM),
    "promoter": {"promoter"},
    "broker": {"broker"},
}


@pytest.mark.parametrize("viewer", PERSONAS)
def test_staff_detail_is_found_only_within_visibility(cast: Cast, web: Any, viewer: str):
    client = web(getattr(cast, viewer))
    missing = not_found_page(client.get("/org/staff/999999/"), "/org/staff/999999/")

    for name, staff in cast.all().items():
        url = f"/org/staff/{staff.pk}/"
        response = client.get(url)
        if name in VISIBLE[viewer]:
            assert response.status_code == 200, name
            assert response.context["staff"] == staff
        else:
            assert not_found_page(response, url) == missing, name


def test_staff_detail_shows_the_profile(cast: Cast, web: Any):
    response = web(cast.consultant).get(f"/org/staff/{cast.manager.pk}/")

    assert response.context["node_label"] == "华东大区/上海区域/一组"
    assert response.context["phone"] == "+8613800000003"
    assert list(response.context["managed_nodes"]) == [cast.team]
    assert response.context["can_edit"] is False
    content = response.content.decode()
    assert "华东大区/上海区域/一组" in content
    assert "/edit/" not in content


def test_staff_detail_for_own_page_shows_own_number(cast: Cast, web: Any):
    response = web(cast.broker).get(f"/org/staff/{cast.broker.pk}/")

    assert response.context["phone"] == "+8613800000009"
    assert response.context["node_label"] == ""


def test_html_in_a_name_is_shown_escaped(cast: Cast, web: Any):
    staff = services.create_staff(
        actor=cast.admin,
        username="xss",
        roles=["consultant"],
        node=cast.team,
        name="<script>alert(1)</script>",
    )
    client = web(cast.admin)

    for url in ["/org/staff/", f"/org/staff/{staff.pk}/", f"/org/staff/{staff.pk}/edit/"]:
        content = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in content, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content, url


def test_html_in_a_node_name_is_shown_escaped(cast: Cast, web: Any):
    client = web(cast.admin)

    added = client.post("/org/", {"name": "<b>南区</b>", "parent": cast.company.pk}, follow=True)
    content = added.content.decode()

    assert OrgNode.objects.filter(name="<b>南区</b>").count() == 1
    assert "<b>南区</b>" not in content
    # the tree, the "Added" message and the form's parent choices
    assert content.count("&lt;b&gt;南区&lt;/b&gt;") == 3


# --- staff edit: who may open it --------------------------------------------------------------


EDITABLE = {
    "admin": set(PERSONAS),
    "region_manager": set(TEAM + OTHER_TEAM),
    "manager": {"consultant", "commissioner", "promoter"},
    "other_manager": {"other_consultant"},
    "consultant": set(),
    "other_consultant": set(),
    "commissioner": set(),
    "promoter": set(),
    "broker": set(),
}


@pytest.mark.parametrize("viewer", PERSONAS)
def test_staff_edit_opens_only_for_admin_or_the_manager_over_them(
    cast: Cast, web: Any, viewer: str
):
    client = web(getattr(cast, viewer))
    for name, staff in cast.all().items():
        response = client.get(f"/org/staff/{staff.pk}/edit/")
        assert response.status_code == (200 if name in EDITABLE[viewer] else 404), name
    assert client.get("/org/staff/999999/edit/").status_code == 404


@pytest.mark.parametrize("viewer", PERSONAS)
def test_staff_add_opens_for_admins_and_managers_only(cast: Cast, web: Any, viewer: str):
    response = web(getattr(cast, viewer)).get("/org/staff/add/")

    assert response.status_code == (200 if viewer in EDITORS else 404)


@pytest.mark.parametrize("viewer", PERSONAS)
def test_my_profile_opens_for_everyone(cast: Cast, web: Any, viewer: str):
    staff = getattr(cast, viewer)
    response = web(staff).get("/org/me/")

    assert response.status_code == 200
    assert response.context["form"].initial["phone"] == staff.phone


# --- adding a person ---------------------------------------------------------------------------


def new_person(node: OrgNode | None, roles: list[str], **changes: Any) -> dict[str, Any]:
    data = {
        "username": "newbie",
        "name": "新人",
        "roles": roles,
        "node": node.pk if node else "",
        "password": "a-long-initial-passphrase",
        "phone": "139 0000 0011",
        "email": "newbie@example.com",
        "hire_date": "2026-03-01",
        "probation_end": "2026-06-01",
        "employment_type": "part_time",
        "capacity": 80,
    }
    data.update(changes)
    return data


def test_manager_adds_a_person_to_their_team(cast: Cast, web: Any):
    response = web(cast.manager).post("/org/staff/add/", new_person(cast.team, ["consultant"]))

    staff = Staff.objects.get(username="newbie")
    assert response.status_code == 302
    assert response["Location"] == f"/org/staff/{staff.pk}/"
    assert (staff.name, staff.phone, staff.node_id, sorted(staff.roles)) == (
        "新人",
        "+8613900000011",
        cast.team.pk,
        ["consultant"],
    )
    assert (staff.hire_date, staff.probation_end, staff.employment_type, staff.capacity) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 6, 1),
        "part_time",
        80,
    )
    assert staff.check_password("a-long-initial-passphrase")
    assert AuditEvent.objects.filter(action="org.staff.create", actor=cast.manager).count() == 1


def test_admin_adds_an_administrator(cast: Cast, web: Any):
    response = web(cast.admin).post("/org/staff/add/", new_person(cast.company, ["admin"]))

    assert response.status_code == 302
    assert Staff.objects.get(username="newbie").is_admin


def test_manager_cannot_add_a_person_to_another_team(cast: Cast, web: Any):
    count = Staff.objects.count()

    response = web(cast.manager).post(
        "/org/staff/add/", new_person(cast.other_team, ["consultant"])
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["node"]
    assert Staff.objects.count() == count


def test_manager_cannot_add_an_administrator(cast: Cast, web: Any):
    count = Staff.objects.count()

    response = web(cast.manager).post("/org/staff/add/", new_person(cast.team, ["admin"]))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Only an administrator can grant the admin role."
    ]
    assert "Only an administrator can grant the admin role." in response.content.decode()
    assert Staff.objects.count() == count


def test_manager_cannot_add_a_person_without_a_node(cast: Cast, web: Any):
    count = Staff.objects.count()

    response = web(cast.manager).post("/org/staff/add/", new_person(None, ["broker"]))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["You are not allowed to do this."]
    assert Staff.objects.count() == count


def test_adding_a_person_with_a_bad_number_shows_the_error(cast: Cast, web: Any):
    count = Staff.objects.count()

    response = web(cast.admin).post(
        "/org/staff/add/", new_person(cast.team, ["consultant"], phone="1380000")
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "phone": ["A mainland mobile number has 11 digits; this one has 7."]
    }
    assert Staff.objects.count() == count


@pytest.mark.parametrize("persona", EVERYONE_ELSE)
def test_others_cannot_add_a_person(cast: Cast, web: Any, persona: str):
    count = Staff.objects.count()

    response = web(getattr(cast, persona)).post(
        "/org/staff/add/", new_person(cast.team, ["promoter"])
    )

    assert response.status_code == 404
    assert Staff.objects.count() == count


# --- editing a person ------------------------------------------------------------------------


def test_manager_edits_a_team_members_profile(cast: Cast, web: Any):
    response = web(cast.manager).post(
        f"/org/staff/{cast.consultant.pk}/edit/",
        staff_form(cast.consultant, name="新名字", phone="13900000077", capacity=50),
    )

    assert response.status_code == 302
    assert response["Location"] == f"/org/staff/{cast.consultant.pk}/"
    staff = Staff.objects.get(pk=cast.consultant.pk)
    assert (staff.name, staff.phone, staff.capacity) == ("新名字", "+8613900000077", 50)
    event = AuditEvent.objects.get(action="org.staff.update")
    assert (event.actor_id, event.before["name"], event.after["name"]) == (
        cast.manager.pk,
        "Consultant",
        "新名字",
    )


@pytest.mark.parametrize(
    ("editor", "target"),
    [
        ("manager", "other_consultant"),
        ("manager", "region_manager"),
        ("manager", "manager"),
        ("region_manager", "admin"),
        ("consultant", "promoter"),
        ("commissioner", "promoter"),
        ("promoter", "promoter"),
        ("broker", "broker"),
    ],
)
def test_editing_a_profile_one_may_not_edit_is_not_found(
    cast: Cast, web: Any, editor: str, target: str
):
    staff = getattr(cast, target)
    before = snapshot(staff)

    response = web(getattr(cast, editor)).post(
        f"/org/staff/{staff.pk}/edit/", staff_form(staff, name="Hacked")
    )

    assert response.status_code == 404
    assert snapshot(staff) == before


def test_editing_a_profile_with_a_bad_number_shows_the_error(cast: Cast, web: Any):
    before = snapshot(cast.consultant)

    response = web(cast.manager).post(
        f"/org/staff/{cast.consultant.pk}/edit/",
        staff_form(cast.consultant, name="新名字", phone="12345"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "phone": ["This number does not exist: check the prefix and the number of digits."]
    }
    assert snapshot(cast.consultant) == before


def test_manager_sets_roles_in_their_team(cast: Cast, web: Any):
    response = web(cast.manager).post(
        f"/org/staff/{cast.consultant.pk}/edit/",
        {"form": "roles", "roles-roles": ["consultant", "commissioner"]},
    )

    assert response.status_code == 302
    assert sorted(Staff.objects.get(pk=cast.consultant.pk).roles) == ["commissioner", "consultant"]


def test_manager_cannot_grant_admin(cast: Cast, web: Any):
    before = snapshot(cast.consultant)

    response = web(cast.manager).post(
        f"/org/staff/{cast.consultant.pk}/edit/",
        {"form": "roles", "roles-roles": ["consultant", "admin"]},
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "Only an administrator can grant the admin role."
    ]
    assert "Only an administrator can grant the admin role." in response.content.decode()
    assert snapshot(cast.consultant) == before
    assert not AuditEvent.objects.filter(action="org.staff.set_roles").exists()


def test_admin_grants_admin(cast: Cast, web: Any):
    response = web(cast.admin).post(
        f"/org/staff/{cast.manager.pk}/edit/",
        {"form": "roles", "roles-roles": ["manager", "admin"]},
    )

    assert response.status_code == 302
    assert sorted(Staff.objects.get(pk=cast.manager.pk).roles) == ["admin", "manager"]


def test_setting_no_roles_shows_the_error(cast: Cast, web: Any):
    before = snapshot(cast.consultant)

    response = web(cast.manager).post(f"/org/staff/{cast.consultant.pk}/edit/", {"form": "roles"})

    assert response.status_code == 200
    assert response.context["roles_form"].errors == {"roles": ["This field is required."]}
    assert snapshot(cast.consultant) == before


def test_consultant_cannot_set_roles(cast: Cast, web: Any):
    before = snapshot(cast.promoter)

    response = web(cast.consultant).post(
        f"/org/staff/{cast.promoter.pk}/edit/", {"form": "roles", "roles-roles": ["manager"]}
    )

    assert response.status_code == 404
    assert snapshot(cast.promoter) == before


# --- moving a person -----------------------------------------------------------------------------


def test_region_manager_moves_a_consultant_to_another_team(cast: Cast, web: Any):
    response = web(cast.region_manager).post(
        f"/org/staff/{cast.consultant.pk}/edit/",
        {"form": "move", "move-node": cast.other_team.pk, "move-keep_records": "on"},
    )

    assert response.status_code == 302
    assert Staff.objects.get(pk=cast.consultant.pk).node_id == cast.other_team.pk
    event = AuditEvent.objects.get(action="org.staff.move")
    assert (event.before["node"], event.after["node"]) == (cast.team.pk, cast.other_team.pk)


def test_moving_a_manager_without_their_records_hands_the_team_on(cast: Cast, web: Any):
    response = web(cast.admin).post(
        f"/org/staff/{cast.manager.pk}/edit/",
        {"form": "move", "move-node": cast.other_team.pk, "move-reassign_to": cast.consultant.pk},
    )

    assert response.status_code == 302
    assert Staff.objects.get(pk=cast.manager.pk).node_id == cast.other_team.pk
    assert OrgNode.objects.get(pk=cast.team.pk).manager_id == cast.consultant.pk


def test_manager_cannot_move_someone_to_a_team_they_cannot_see(cast: Cast, web: Any):
    before = snapshot(cast.consultant)

    response = web(cast.manager).post(
        f"/org/staff/{cast.consultant.pk}/edit/",
        {"form": "move", "move-node": cast.other_team.pk, "move-keep_records": "on"},
    )

    assert response.status_code == 200
    assert list(response.context["move_form"].errors) == ["node"]
    assert snapshot(cast.consultant) == before


def test_manager_cannot_move_someone_above_their_subtree(cast: Cast, web: Any):
    """The area is visible (an ancestor) but outside the manager's subtree."""
    before = snapshot(cast.consultant)

    response = web(cast.manager).post(
        f"/org/staff/{cast.consultant.pk}/edit/",
        {"form": "move", "move-node": cast.area.pk, "move-keep_records": "on"},
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["You are not allowed to do this."]
    assert snapshot(cast.consultant) == before
    assert not AuditEvent.objects.filter(action="org.staff.move").exists()


def test_consultant_cannot_move_anyone(cast: Cast, web: Any):
    before = snapshot(cast.promoter)

    response = web(cast.consultant).post(
        f"/org/staff/{cast.promoter.pk}/edit/",
        {"form": "move", "move-node": cast.team.pk, "move-keep_records": "on"},
    )

    assert response.status_code == 404
    assert snapshot(cast.promoter) == before


# --- marking a person left ---------------------------------------------------------------------


def test_marking_a_manager_left_hands_their_team_to_the_next_manager_up(cast: Cast, web: Any):
    services.issue_api_token(actor=None, staff=cast.manager)
    client = web(cast.admin)

    response = client.post(
        f"/org/staff/{cast.manager.pk}/edit/", {"form": "leave", "leave-left_on": "2026-05-04"}
    )

    assert response.status_code == 302
    staff = Staff.objects.get(pk=cast.manager.pk)
    assert (staff.is_active, staff.left_on) == (False, datetime.date(2026, 5, 4))
    assert OrgNode.objects.get(pk=cast.team.pk).manager_id == cast.region_manager.pk
    assert ApiToken.objects.get(staff=cast.manager).revoked_at is not None
    follow = client.get(response["Location"])
    assert [str(m) for m in follow.context["messages"]] == [
        "Manager has left; 1 records handed on."
    ]


def test_marking_a_person_left_hands_records_to_the_chosen_successor(cast: Cast, web: Any):
    response = web(cast.region_manager).post(
        f"/org/staff/{cast.manager.pk}/edit/",
        {"form": "leave", "leave-reassign_to": cast.consultant.pk},
    )

    assert response.status_code == 302
    staff = Staff.objects.get(pk=cast.manager.pk)
    assert (staff.is_active, staff.left_on) == (False, timezone.localdate())
    assert OrgNode.objects.get(pk=cast.team.pk).manager_id == cast.consultant.pk
    event = AuditEvent.objects.get(action="org.staff.leave")
    assert event.after["reassigned_to"] == cast.consultant.pk


def test_default_successor_is_the_nodes_manager(cast: Cast, web: Any):
    """A promoter who manages nothing: nothing to hand on, and the default successor
    recorded is the manager of their team."""
    response = web(cast.manager).post(f"/org/staff/{cast.promoter.pk}/edit/", {"form": "leave"})

    assert response.status_code == 302
    assert Staff.objects.get(pk=cast.promoter.pk).is_active is False
    event = AuditEvent.objects.get(action="org.staff.leave")
    assert event.after["reassigned_to"] == cast.manager.pk


def test_marking_left_cannot_hand_records_to_someone_out_of_sight(cast: Cast, web: Any):
    before = snapshot(cast.promoter)

    response = web(cast.manager).post(
        f"/org/staff/{cast.promoter.pk}/edit/",
        {"form": "leave", "leave-reassign_to": cast.other_consultant.pk},
    )

    assert response.status_code == 200
    assert list(response.context["leave_form"].errors) == ["reassign_to"]
    assert snapshot(cast.promoter) == before


@pytest.mark.parametrize(
    ("editor", "target"),
    [("consultant", "promoter"), ("manager", "other_consultant"), ("promoter", "promoter")],
)
def test_marking_left_by_someone_not_over_them_is_not_found(
    cast: Cast, web: Any, editor: str, target: str
):
    staff = getattr(cast, target)
    before = snapshot(staff)

    response = web(getattr(cast, editor)).post(f"/org/staff/{staff.pk}/edit/", {"form": "leave"})

    assert response.status_code == 404
    assert snapshot(staff) == before


# --- my profile --------------------------------------------------------------------------------


def test_anyone_edits_their_own_profile(cast: Cast, web: Any):
    response = web(cast.promoter).post(
        "/org/me/",
        {"form": "profile", "name": "小蜜蜂", "phone": "+86 139-0000-0099", "email": "b@ee.cn"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/org/me/"
    staff = Staff.objects.get(pk=cast.promoter.pk)
    assert (staff.name, staff.phone, staff.email) == ("小蜜蜂", "+8613900000099", "b@ee.cn")
    assert AuditEvent.objects.get(action="org.staff.update_profile").actor_id == cast.promoter.pk


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("12345", "This number does not exist: check the prefix and the number of digits."),
        ("1380000000x", "A phone number may contain only digits, spaces, dashes and a leading +."),
        ("1380000000", "A mainland mobile number has 11 digits; this one has 10."),
        ("13800000005", "Another staff member already has this number."),
    ],
)
def test_own_profile_with_a_bad_number_shows_the_error(
    cast: Cast, web: Any, phone: str, message: str
):
    before = snapshot(cast.promoter)

    response = web(cast.promoter).post(
        "/org/me/", {"form": "profile", "name": "小蜜蜂", "phone": phone, "email": ""}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"phone": [message]}
    assert message in response.content.decode()
    assert snapshot(cast.promoter) == before
    assert response.context["user"].phone == "+8613800000008"


# --- API tokens -------------------------------------------------------------------------------


def test_creating_a_token_shows_the_key_once_and_stores_only_its_hash(cast: Cast, web: Any):
    client = web(cast.consultant)

    response = client.post("/org/me/", {"form": "token", "token-name": "laptop"})

    assert response.status_code == 200
    key = response.context["new_key"]
    assert key.startswith("kehu_")
    assert key in response.content.decode()
    token = ApiToken.objects.get(staff=cast.consultant)
    assert (token.name, token.prefix, token.key_hash) == (
        "laptop",
        key[:12],
        hashlib.sha256(key.encode()).hexdigest(),
    )
    stored = [
        str(v)
        for v in ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.fields]).get()
    ]
    assert key not in stored
    assert key not in client.get("/org/me/").content.decode()

    api = APIClient().get("/api/v1/staff/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 200
    assert api.json()["username"] == "consultant"


def test_revoking_own_token_stops_it_working(cast: Cast, web: Any):
    token, key = services.issue_api_token(actor=None, staff=cast.consultant)

    response = web(cast.consultant).post(f"/org/me/tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    assert response["Location"] == "/org/me/"
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    api = APIClient().get("/api/v1/staff/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 401


@pytest.mark.parametrize("persona", ["consultant", "manager", "admin"])
def test_revoking_someone_elses_token_is_not_found(cast: Cast, web: Any, persona: str):
    token, key = services.issue_api_token(actor=None, staff=cast.promoter)

    response = web(getattr(cast, persona)).post(f"/org/me/tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    api = APIClient().get("/api/v1/staff/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 200


def test_revoking_needs_a_post(cast: Cast, web: Any):
    token, _key = services.issue_api_token(actor=None, staff=cast.consultant)

    response = web(cast.consultant).get(f"/org/me/tokens/{token.pk}/revoke/")

    assert response.status_code == 405
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
