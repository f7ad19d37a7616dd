"""The customer pages, persona by persona: the list (filters, search, htmx rows, query
counts, bulk assignment), the customer page and every write it offers (profile, numbers,
tags, relations, occasions, follow-ups, stage), and merging duplicates. Each write has an
allowed case and a denied case that proves nothing changed."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.utils import timezone

from conftest import Cast
from kehu.activities.models import Activity, StageChange
from kehu.core.models import AuditEvent
from kehu.customers import services
from kehu.customers.models import (
    Anniversary,
    Customer,
    CustomerPhone,
    CustomerTag,
    MileageReading,
    Purchase,
    Relation,
    Tag,
)
from kehu.leads.models import Assignment, Registration
from kehu.leads.services import register_lead

pytestmark = pytest.mark.django_db

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
CSRF = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def add(actor, phone: str, name: str, kind: str = "call", channel: str = "phone") -> Customer:
    return register_lead(actor=actor, phone=phone, kind=kind, channel=channel, name=name).customer


@pytest.fixture
def world(cast: Cast) -> dict[str, Customer]:
    """Four customers: the consultant's, the other team's, a promoter's field lead (owned
    by nobody, in team 一组) and a broker's referral (owned by nobody, no team)."""
    return {
        "mine": add(cast.consultant, "13900000001", "甲先生"),
        "theirs": add(cast.other_consultant, "13900000002", "乙女士"),
        "field": add(cast.promoter, "13900000003", "丙", kind="field", channel="flyer"),
        "referral": add(cast.broker, "13900000004", "丁", kind="broker", channel="broker"),
    }


VISIBLE = {
    "admin": ["referral", "field", "theirs", "mine"],
    "region_manager": ["field", "theirs", "mine"],
    "manager": ["field", "mine"],
    "other_manager": ["theirs"],
    "consultant": ["mine"],
    "other_consultant": ["theirs"],
    "commissioner": ["field", "mine"],
    "promoter": ["field"],
    "broker": ["referral"],
}
EDITORS = {"admin", "region_manager", "manager", "consultant"}  # of "mine"


def listed(response: Any) -> list[int]:
    return [row["customer"].pk for row in response.context["rows"]]


def page_text(response: Any, url: str) -> str:
    """A page without what differs between requests: the CSRF token and its own URL."""
    return CSRF.sub(r"\1", response.content.decode()).replace(url, "URL")


def db_state() -> dict[str, Any]:
    """Everything the customer pages can write, to prove a refused write changed nothing."""
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "phones": list(CustomerPhone.objects.order_by("pk").values()),
        "tags": list(CustomerTag.objects.order_by("pk").values()),
        "relations": list(Relation.objects.order_by("pk").values()),
        "anniversaries": list(Anniversary.objects.order_by("pk").values()),
        "purchases": list(Purchase.objects.order_by("pk").values()),
        "mileage": list(MileageReading.objects.order_by("pk").values()),
        "activities": list(Activity.objects.order_by("pk").values()),
        "stage_changes": list(StageChange.objects.order_by("pk").values()),
        "assignments": list(Assignment.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/customers/",
        "/customers/{pk}/",
        "/customers/{pk}/merge/",
    ],
)
def test_anonymous_visitors_are_sent_to_log_in(world, web: Any, url: str):
    url = url.format(pk=world["mine"].pk)

    response = web(None).get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize(
    "url",
    ["/customers/{pk}/edit/", "/customers/assign/", "/activities/customers/{pk}/log/"],
)
def test_anonymous_writes_are_sent_to_log_in_and_change_nothing(world, web: Any, url: str):
    url = url.format(pk=world["mine"].pk)
    before = db_state()

    response = web(None).post(url, {"form": "profile", "name": "x", "kind": "call"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert db_state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_shows_the_visible_customers(cast: Cast, world, web: Any, persona: str):
    response = web(getattr(cast, persona)).get("/customers/")

    assert response.status_code == 200
    assert listed(response) == [world[name].pk for name in VISIBLE[persona]]
    content = response.content.decode()
    for name, customer in world.items():
        assert (f'href="/customers/{customer.pk}/"' in content) is (name in VISIBLE[persona])


@pytest.mark.parametrize("persona", PERSONAS)
def test_customer_page_is_found_only_within_visibility(cast: Cast, world, web: Any, persona):
    client = web(getattr(cast, persona))
    missing = client.get("/customers/999999/")
    assert missing.status_code == 404

    for name, customer in world.items():
        url = f"/customers/{customer.pk}/"
        response = client.get(url)
        if name in VISIBLE[persona]:
            assert response.status_code == 200, name
            assert response.context["customer"] == customer
        else:
            assert response.status_code == 404, name
            assert page_text(response, url) == page_text(missing, "/customers/999999/")


@pytest.mark.parametrize("persona", PERSONAS)
def test_customer_page_offers_the_forms_to_those_who_may_edit(
    cast: Cast, world, web: Any, persona: str
):
    if "mine" not in VISIBLE[persona]:
        return
    response = web(getattr(cast, persona)).get(f"/customers/{world['mine'].pk}/")

    content = response.content.decode()
    assert response.context["can_edit"] is (persona in EDITORS)
    assert ('data-testid="followup-form"' in content) is (persona in EDITORS)
    assert ('data-testid="stage-form"' in content) is (persona in EDITORS)
    assert ('name="form" value="profile"' in content) is (persona in EDITORS)
    assert ('name="form" value="purchase"' in content) is (persona in EDITORS)


def test_promoters_see_numbers_masked_and_only_their_own_registrations(cast: Cast, world, web: Any):
    field = world["field"]
    register_lead(actor=cast.consultant, phone="13900000003", kind="call", channel="phone")
    client = web(cast.promoter)

    listing = client.get("/customers/")
    page = client.get(f"/customers/{field.pk}/")

    assert [row["phone"] for row in listing.context["rows"]] == ["139****0003"]
    assert [p["display"] for p in page.context["phones"]] == ["139****0003"]
    assert [e["obj"].registered_by_id for e in page.context["timeline"]] == [cast.promoter.pk]
    for content in (listing.content.decode(), page.content.decode()):
        assert "13900000003" not in content
        assert "139****0003" in content
    assert page.context["full"] is False
    assert "completeness" not in page.context


@pytest.mark.parametrize("persona", ["admin", "manager", "consultant", "commissioner"])
def test_the_sales_side_sees_numbers_in_full(cast: Cast, world, web: Any, persona: str):
    response = web(getattr(cast, persona)).get("/customers/")

    phones = {row["customer"].pk: row["phone"] for row in response.context["rows"]}
    assert phones[world["mine"].pk] == "+8613900000001"
    assert "****" not in response.content.decode()


# --- the list: filters and search -----------------------------------------------------------


@pytest.fixture
def crowd(cast: Cast) -> dict[str, Customer]:
    """The consultant's and the other team's customers in different states."""
    a = add(cast.consultant, "13911110001", "张三")
    b = add(cast.consultant, "13922220002", "李四", channel="walk_in")
    c = add(cast.other_consultant, "13933330003", "王五")
    Customer.objects.filter(pk=a.pk).update(intent_grade="A", stage="visited")
    Customer.objects.filter(pk=b.pk).update(
        last_followup_at=timezone.now() - datetime.timedelta(days=40)
    )
    services.set_tags(
        actor=cast.consultant,
        customer=b,
        tags=[services.ensure_tag(actor=cast.consultant, dimension="兴趣", name="高尔夫")],
    )
    Customer.objects.filter(pk=c.pk).update(is_below_completeness=False)
    Customer.objects.filter(pk__in=[a.pk, b.pk]).update(is_below_completeness=True)
    return {"a": a, "b": b, "c": c}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["c", "b", "a"]),
        ("owner={consultant}", ["b", "a"]),
        ("team={other_team}", ["c"]),
        ("team={area}", ["c", "b", "a"]),
        ("stage=visited", ["a"]),
        ("intent_grade=A", ["a"]),
        ("tag={tag}", ["b"]),
        ("channel=walk_in", ["b"]),
        ("sleeping=true", ["b"]),
        ("below_completeness=true", ["b", "a"]),
        ("below_completeness=false", ["c"]),
        ("q=李", ["b"]),
        ("q=2222", ["b"]),
        ("q=139 3333", ["c"]),
        ("q=%2B8613911110001", ["a"]),
        ("q=0003", ["c"]),
        ("q=nobody", []),
        ("owner={consultant}&stage=left_phone", ["b"]),
    ],
)
def test_list_filters_and_searches(cast: Cast, crowd, web: Any, query: str, expected: list[str]):
    tag = Tag.objects.get(name="高尔夫")
    query = query.format(
        consultant=cast.consultant.pk, other_team=cast.other_team.pk, area=cast.area.pk, tag=tag.pk
    )

    response = web(cast.admin).get(f"/customers/?{query}")

    assert response.status_code == 200
    assert listed(response) == [crowd[k].pk for k in expected]


def test_search_never_reaches_beyond_visibility(cast: Cast, crowd, web: Any):
    response = web(cast.consultant).get("/customers/?q=3333")

    assert listed(response) == []


def test_masked_viewers_search_numbers_only_by_the_parts_they_see(cast: Cast, world, web: Any):
    client = web(cast.promoter)

    assert listed(client.get("/customers/?q=139")) == [world["field"].pk]
    assert listed(client.get("/customers/?q=0003")) == [world["field"].pk]
    assert listed(client.get("/customers/?q=13900000003")) == [world["field"].pk]
    # The hidden middle digits find nothing.
    assert listed(client.get("/customers/?q=90000")) == []


def test_filters_offer_only_what_the_user_may_see(cast: Cast, world, web: Any):
    response = web(cast.manager).get("/customers/")

    assert sorted(s.username for s in response.context["owners"]) == [
        "commissioner",
        "consultant",
        "manager",
        "promoter",
    ]
    assert [n.name for n in response.context["teams"]] == [
        "测试公司",
        "华东大区",
        "上海区域",
        "一组",
    ]


def test_list_with_htmx_returns_only_the_rows(cast: Cast, world, web: Any):
    client = web(cast.manager)

    partial = client.get("/customers/?stage=left_phone", HTTP_HX_REQUEST="true")

    content = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in content
    assert 'data-testid="customer-filters"' not in content
    assert 'data-testid="customer-table"' in content
    assert listed(partial) == [world["field"].pk, world["mine"].pk]
    full = client.get("/customers/").content.decode()
    assert full.lstrip().startswith("<!doctype html>")
    assert 'data-testid="customer-filters"' in full and 'data-testid="customer-table"' in full


def test_list_paginates(cast: Cast, web: Any):
    for i in range(52):
        add(cast.consultant, f"139550000{i:02d}", f"客户{i:02d}")
    client = web(cast.consultant)

    first = client.get("/customers/")
    second = client.get("/customers/?page=2")

    assert len(first.context["rows"]) == 50
    assert [row["customer"].name for row in second.context["rows"]] == ["客户01", "客户00"]
    assert "Page 1 of 2" in first.content.decode()


def _more_customers(cast: Cast, count: int = 20) -> None:
    for i in range(count):
        customer = add(cast.consultant, f"139660000{i:02d}", f"多{i}")
        services.add_phone(actor=cast.consultant, customer=customer, phone=f"139770000{i:02d}")


@pytest.mark.parametrize(
    ("persona", "queries", "rows"),
    [
        # session, user, roles, count, page, phones, then the filters' choices: owners,
        # teams, tags, channels; the assign form's people for admins and managers; the
        # user's node for everyone else (their subtree, the staff they may see).
        ("admin", 11, 24),
        ("manager", 13, 22),
        ("consultant", 11, 21),
        ("promoter", 11, 1),
    ],
)
def test_list_query_count_does_not_grow_with_the_list(
    cast: Cast, world, web: Any, django_assert_num_queries: Any, persona: str, queries: int, rows
):
    client = web(getattr(cast, persona))
    client.get("/customers/")  # warm the session

    with django_assert_num_queries(queries):
        client.get("/customers/")
    _more_customers(cast)
    with django_assert_num_queries(queries):
        response = client.get("/customers/")
    assert len(response.context["rows"]) == rows


def test_htmx_rows_query_count(cast: Cast, world, web: Any, django_assert_num_queries: Any):
    client = web(cast.consultant)
    _more_customers(cast)
    client.get("/customers/")

    # session, user, roles, count, page, phones
    with django_assert_num_queries(6):
        response = client.get("/customers/?q=多", HTTP_HX_REQUEST="true")
    assert len(response.context["rows"]) == 20


def test_names_are_escaped_everywhere(cast: Cast, web: Any):
    customer = add(cast.consultant, "13988880000", XSS)
    services.update_customer(actor=cast.consultant, customer=customer, address=XSS)
    client = web(cast.admin)

    for url in ["/customers/", f"/customers/{customer.pk}/", f"/customers/{customer.pk}/merge/"]:
        content = client.get(url).content.decode()
        assert XSS not in content, url
        assert XSS_ESCAPED in content, url


# --- bulk assignment ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_assign_action_is_offered_to_admins_and_managers(cast: Cast, world, web: Any, persona):
    response = web(getattr(cast, persona)).get("/customers/")

    expected = persona in {"admin", "region_manager", "manager", "other_manager"}
    assert response.context["can_assign"] is expected
    assert ('data-testid="assign-form"' in response.content.decode()) is expected


def test_manager_assigns_customers_of_their_team(cast: Cast, world, web: Any):
    other = services_consultant(cast)
    mine, field = world["mine"], world["field"]

    client = web(cast.manager)
    response = client.post(
        "/customers/assign/",
        {
            "customers": [mine.pk, field.pk],
            "to_staff": other.pk,
            "reason_note": "请假",
            "next_query": "stage=left_phone",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/customers/?stage=left_phone"
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == ["2 customers assigned to 新人."]
    assert list(
        Customer.objects.filter(pk__in=[mine.pk, field.pk]).values_list("owner_id", flat=True)
    ) == [other.pk, other.pk]
    rows = Assignment.objects.filter(reason="manual").order_by("customer_id")
    assert [(a.customer_id, a.to_staff_id, a.actor_id) for a in rows] == [
        (mine.pk, other.pk, cast.manager.pk),
        (field.pk, other.pk, cast.manager.pk),
    ]


def services_consultant(cast: Cast):
    from kehu.org import services as org_services

    return org_services.create_staff(
        actor=None, username="newbie", roles=["consultant"], node=cast.team, name="新人"
    )


@pytest.mark.parametrize("persona", ["consultant", "commissioner", "promoter", "broker"])
def test_others_cannot_assign(cast: Cast, world, web: Any, persona: str):
    before = db_state()

    response = web(getattr(cast, persona)).post(
        "/customers/assign/", {"customers": [world["mine"].pk], "to_staff": cast.consultant.pk}
    )

    assert response.status_code == 404
    assert db_state() == before


def test_manager_cannot_assign_another_teams_customer(cast: Cast, world, web: Any):
    before = db_state()
    client = web(cast.manager)

    response = client.post(
        "/customers/assign/",
        {"customers": [world["theirs"].pk], "to_staff": cast.consultant.pk},
        follow=True,
    )

    assert db_state() == before
    assert [str(m) for m in response.context["messages"]] == [
        f"Select a valid choice. {world['theirs'].pk} is not one of the available choices."
    ]


# --- the customer page ------------------------------------------------------------------------


def test_customer_page_shows_completeness_and_what_is_missing(cast: Cast, world, web: Any):
    response = web(cast.consultant).get(f"/customers/{world['mine'].pk}/")

    assert response.context["completeness"] == {
        "score": 12,
        "minimum": 0,
        "is_below": True,
        "stage_label": "First call",
        "missing": ["Gender", "Consultation content"],
    }
    assert "Missing: Gender, Consultation content" in response.content.decode()


def test_timeline_merges_everything_newest_first(cast: Cast, world, web: Any):
    from kehu.activities.services import change_stage, log_activity

    mine = world["mine"]
    log_activity(actor=cast.consultant, customer=mine, kind="call", outcome="reached", note="问价")
    change_stage(actor=cast.consultant, customer=mine, stage="pledged")
    register_lead(actor=cast.consultant, phone="13900000001", kind="visit", channel="walk_in")

    response = web(cast.consultant).get(f"/customers/{mine.pk}/")

    kinds = [e["kind"] for e in response.context["timeline"]]
    assert kinds == ["registration", "stage", "activity", "assignment", "registration", "stage"]
    times = [e["at"] for e in response.context["timeline"]]
    assert times == sorted(times, reverse=True)
    content = response.content.decode()
    assert "Stage Left phone number → Pledged" in content
    assert "问价" in content


def test_profile_edit_is_saved_through_the_service(cast: Cast, world, web: Any):
    mine = world["mine"]

    response = web(cast.consultant).post(
        f"/customers/{mine.pk}/edit/",
        {
            "form": "profile",
            "kind": "person",
            "name": "甲",
            "title": "先生",
            "gender": "male",
            "age": "41",
            "birthday": "",
            "lunar_month": "8",
            "lunar_day": "15",
            "lunar_is_leap": "",
            "address": "上海",
            "wechat": "jia",
            "email": "",
            "relationship": "Y",
            "p_occupation": "医生",
            "p_consultation": "三房",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{mine.pk}/"
    mine.refresh_from_db()
    assert (mine.name, mine.title, mine.gender, mine.age, mine.address, mine.wechat) == (
        "甲",
        "先生",
        "male",
        41,
        "上海",
        "jia",
    )
    assert mine.lunar_birthday == {"month": 8, "day": 15, "is_leap": False}
    assert mine.profile == {"occupation": "医生", "consultation": "三房"}
    assert mine.relationship == "Y"
    assert (
        AuditEvent.objects.filter(action="customers.customer.update", actor=cast.consultant).count()
        == 1
    )


def test_profile_errors_are_shown_and_nothing_changes(cast: Cast, world, web: Any):
    before = db_state()

    response = web(cast.consultant).post(
        f"/customers/{world['mine'].pk}/edit/",
        {
            "form": "profile",
            "kind": "person",
            "name": "甲",
            "gender": "male",
            "relationship": "N",
            "lunar_month": "13",
            "email": "not-an-email",
        },
    )

    assert response.status_code == 200
    assert response.context["profile_form"].errors == {
        "lunar_month": ["Ensure this value is less than or equal to 12."],
        "email": ["Enter a valid email address."],
    }
    assert db_state() == before


@pytest.mark.parametrize(
    ("persona", "status"),
    [("commissioner", 403), ("other_consultant", 404), ("other_manager", 404), ("broker", 404)],
)
def test_profile_edit_denied_changes_nothing(cast: Cast, world, web: Any, persona, status):
    before = db_state()

    response = web(getattr(cast, persona)).post(
        f"/customers/{world['mine'].pk}/edit/",
        {"form": "profile", "kind": "person", "name": "改", "gender": "male", "relationship": "N"},
    )

    assert response.status_code == status
    assert db_state() == before
    if status == 403:
        assert "You are not allowed to do this." in response.content.decode()


def test_promoter_cannot_edit_the_customer_they_registered(cast: Cast, world, web: Any):
    before = db_state()

    response = web(cast.promoter).post(
        f"/customers/{world['field'].pk}/edit/", {"form": "phone-add", "phone": "13900000099"}
    )

    assert response.status_code == 403
    assert db_state() == before


def test_numbers_are_added_and_removed(cast: Cast, world, web: Any):
    mine = world["mine"]
    client = web(cast.consultant)

    added = client.post(
        f"/customers/{mine.pk}/edit/", {"form": "phone-add", "phone": "139 0000 0088"}
    )
    new = CustomerPhone.objects.get(number="+8613900000088")
    first = CustomerPhone.objects.get(number="+8613900000001")
    removed = client.post(
        f"/customers/{mine.pk}/edit/", {"form": "phone-remove", "phone": first.pk}
    )

    assert (added.status_code, removed.status_code) == (302, 302)
    assert list(mine.phones.values_list("number", "is_primary")) == [("+8613900000088", True)]
    assert new.customer_id == mine.pk


def test_a_number_of_another_customer_is_refused_with_why(cast: Cast, world, web: Any):
    before = db_state()

    response = web(cast.consultant).post(
        f"/customers/{world['mine'].pk}/edit/", {"form": "phone-add", "phone": "13900000002"}
    )

    assert response.status_code == 200
    assert response.context["phone_form"].errors == {
        "phone": ["This number already belongs to another customer."]
    }
    assert db_state() == before


def test_the_last_number_cannot_be_removed(cast: Cast, world, web: Any):
    mine = world["mine"]
    before = db_state()

    response = web(cast.consultant).post(
        f"/customers/{mine.pk}/edit/",
        {"form": "phone-remove", "phone": mine.phones.get().pk},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "A customer keeps at least one number."
    ]
    assert db_state() == before


def test_tags_are_added_and_removed(cast: Cast, world, web: Any):
    mine = world["mine"]
    client = web(cast.consultant)

    client.post(
        f"/customers/{mine.pk}/edit/", {"form": "tag-add", "dimension": "职业", "name": "医生"}
    )
    client.post(
        f"/customers/{mine.pk}/edit/", {"form": "tag-add", "dimension": "兴趣", "name": "茶"}
    )
    assert sorted(str(r.tag) for r in mine.tag_rows.select_related("tag__dimension")) == [
        "兴趣: 茶",
        "职业: 医生",
    ]
    tea = Tag.objects.get(name="茶")
    client.post(f"/customers/{mine.pk}/edit/", {"form": "tag-remove", "tag": tea.pk})
    assert [str(r.tag) for r in mine.tag_rows.select_related("tag__dimension")] == ["职业: 医生"]


def test_tag_add_denied_changes_nothing(cast: Cast, world, web: Any):
    before = db_state()

    response = web(cast.commissioner).post(
        f"/customers/{world['mine'].pk}/edit/",
        {"form": "tag-add", "dimension": "职业", "name": "医生"},
    )

    assert response.status_code == 403
    assert db_state() == before
    assert not Tag.objects.exists()


def test_relation_to_a_visible_customer_is_added(cast: Cast, world, web: Any):
    mine = world["mine"]
    friend = add(cast.consultant, "13900000011", "朋友")
    client = web(cast.consultant)

    by_number = client.post(
        f"/customers/{mine.pk}/edit/",
        {"form": "relation", "kind": "referred_by", "other": "13900000011"},
    )
    by_id = client.post(
        f"/customers/{friend.pk}/edit/",
        {"form": "relation", "kind": "family", "other": f"#{mine.pk}"},
    )

    assert (by_number.status_code, by_id.status_code) == (302, 302)
    assert sorted(
        Relation.objects.values_list("from_customer_id", "to_customer_id", "kind")
    ) == sorted([(mine.pk, friend.pk, "referred_by"), (friend.pk, mine.pk, "family")])
    page = client.get(f"/customers/{friend.pk}/")
    assert [(r["label"], r["other"].pk) for r in page.context["relations"]] == [
        ("Family", mine.pk),
        ("Referred", mine.pk),
    ]


@pytest.mark.parametrize("other", ["13900000002", "#{theirs}", "#999999"])
def test_relation_to_a_customer_one_cannot_see_is_refused(cast: Cast, world, web: Any, other: str):
    before = db_state()

    response = web(cast.consultant).post(
        f"/customers/{world['mine'].pk}/edit/",
        {"form": "relation", "kind": "colleague", "other": other.format(theirs=world["theirs"].pk)},
    )

    assert response.status_code == 200
    assert response.context["relation_form"].errors == {
        "other": ["No customer you can see matches this."]
    }
    assert db_state() == before


def test_occasions_are_added_solar_or_lunar(cast: Cast, world, web: Any):
    mine = world["mine"]
    client = web(cast.consultant)

    client.post(
        f"/customers/{mine.pk}/edit/",
        {"form": "anniversary", "label": "结婚纪念日", "date": "2015-10-01"},
    )
    client.post(
        f"/customers/{mine.pk}/edit/",
        {
            "form": "anniversary",
            "label": "母亲生日",
            "lunar_month": "4",
            "lunar_day": "8",
            "lunar_is_leap": "on",
        },
    )

    assert list(mine.anniversaries.values_list("label", "date", "lunar")) == [
        ("母亲生日", None, {"month": 4, "day": 8, "is_leap": True}),
        ("结婚纪念日", datetime.date(2015, 10, 1), None),
    ]
    content = client.get(f"/customers/{mine.pk}/").content.decode()
    assert "母亲生日: lunar month 4, day 8 (leap month)" in content


def test_an_occasion_without_a_date_is_refused(cast: Cast, world, web: Any):
    before = db_state()

    response = web(cast.consultant).post(
        f"/customers/{world['mine'].pk}/edit/", {"form": "anniversary", "label": "生日"}
    )

    assert response.context["anniversary_form"].errors == {
        "date": ["Give a solar date or a lunar one."]
    }
    assert db_state() == before


def _car(customer: Customer) -> Purchase:
    from decimal import Decimal

    return services.record_purchase(
        actor=None,
        customer=customer,
        product="宝马 X3",
        amount=Decimal("300000"),
        purchased_on=timezone.localdate() - datetime.timedelta(days=40),
    )


def test_the_mileage_is_recorded_on_the_customer_page(cast: Cast, world, web: Any):
    mine = world["mine"]
    purchase = _car(mine)
    client = web(cast.manager)
    today = timezone.localdate()

    response = client.post(
        f"/customers/{mine.pk}/edit/",
        {
            "form": "mileage",
            "purchase": str(purchase.pk),
            "km": "4000",
            "read_on": today.isoformat(),
        },
    )

    assert response.status_code == 302
    assert list(
        MileageReading.objects.values_list("purchase_id", "km", "read_on", "recorded_by_id")
    ) == [(purchase.pk, 4000, today, cast.manager.pk)]
    assert (
        AuditEvent.objects.order_by("-pk").values_list("action", flat=True)[0]
        == "customers.mileage.add"
    )
    content = client.get(f"/customers/{mine.pk}/").content.decode()
    assert f"4000 km on {today:%Y-%m-%d}" in content
    assert 'name="form" value="mileage"' in content


@pytest.mark.parametrize(
    ("post", "errors"),
    [
        ({"km": "-3", "read_on": "{today}"}, {"km": ["The kilometres are a whole number from 0 to 2000000."]}),
        ({"km": "100", "read_on": "{today}"}, {"km": ["An earlier reading already shows 500 km; a reading cannot be lower."]}),
        ({"km": "900", "read_on": "{tomorrow}"}, {"read_on": ["A reading cannot be dated in the future."]}),
        ({"km": "900", "read_on": "{before}"}, {"read_on": ["A reading cannot be dated before the purchase."]}),
        ({"km": "900", "read_on": "{today}", "purchase": "999999"}, {"purchase": ["Select a valid choice. 999999 is not one of the available choices."]}),
    ],
)  # fmt: skip
def test_a_bad_reading_is_refused_on_the_page(cast: Cast, world, web: Any, post, errors):
    mine = world["mine"]
    purchase = _car(mine)
    today = timezone.localdate()
    services.record_mileage(actor=None, purchase=purchase, km=500, read_on=today)
    days = {
        "today": today,
        "tomorrow": today + datetime.timedelta(days=1),
        "before": purchase.purchased_on - datetime.timedelta(days=1),
    }
    data = {"form": "mileage", "purchase": str(purchase.pk)} | {
        k: v.format(**{n: d.isoformat() for n, d in days.items()}) for k, v in post.items()
    }
    before = db_state()

    response = web(cast.consultant).post(f"/customers/{mine.pk}/edit/", data)

    assert response.status_code == 200
    assert response.context["mileage_form"].errors == errors
    assert db_state() == before


@pytest.mark.parametrize(
    ("persona", "status"),
    [("commissioner", 403), ("other_consultant", 404), ("other_manager", 404), ("promoter", 404)],
)
def test_the_mileage_denied_changes_nothing(cast: Cast, world, web: Any, persona, status):
    mine = world["mine"]
    purchase = _car(mine)
    before = db_state()

    response = web(getattr(cast, persona)).post(
        f"/customers/{mine.pk}/edit/",
        {
            "form": "mileage",
            "purchase": str(purchase.pk),
            "km": "1000",
            "read_on": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == status
    assert db_state() == before


def _sale(**changes: str) -> dict[str, str]:
    day = timezone.localdate() - datetime.timedelta(days=10)
    return {
        "form": "purchase",
        "product": "奔驰 C",
        "amount": "250000.00",
        "purchased_on": day.isoformat(),
    } | changes


@pytest.mark.parametrize("persona", ["consultant", "manager"])
def test_a_purchase_is_recorded_on_the_customer_page(cast: Cast, world, web: Any, persona: str):
    from decimal import Decimal

    from kehu.occasions.models import LifecycleReminder

    mine = world["mine"]
    client = web(getattr(cast, persona))
    page = client.get(f"/customers/{mine.pk}/").content.decode()
    assert 'name="form" value="purchase"' in page

    response = client.post(f"/customers/{mine.pk}/edit/", _sale())

    assert response.status_code == 302
    day = timezone.localdate() - datetime.timedelta(days=10)
    purchase = Purchase.objects.get()
    assert (purchase.customer_id, purchase.product, purchase.amount, purchase.purchased_on) == (
        mine.pk,
        "奔驰 C",
        Decimal("250000.00"),
        day,
    )
    assert LifecycleReminder.objects.filter(purchase=purchase).exists()
    assert (
        AuditEvent.objects.order_by("-pk").values_list("action", flat=True)[0]
        == "customers.purchase.add"
    )
    content = client.get(f"/customers/{mine.pk}/").content.decode()
    assert f"{day:%Y-%m-%d} · 奔驰 C · 250000.00" in content


@pytest.mark.parametrize(
    ("post", "errors"),
    [
        ({"product": ""}, {"product": ["Name the product (at most 100 characters)."]}),
        ({"product": "x" * 101}, {"product": ["Name the product (at most 100 characters)."]}),
        ({"amount": "-1"}, {"amount": ["The amount cannot be negative."]}),
        ({"amount": "abc"}, {"amount": ["Enter a number."]}),
        ({"amount": "1.234"}, {"amount": ["An amount is below 1,000,000,000,000 yuan, with at most 2 decimals."]}),
        ({"purchased_on": "{tomorrow}"}, {"purchased_on": ["A purchase cannot be dated in the future."]}),
        ({"purchased_on": "1899-12-31"}, {"purchased_on": ["A purchase cannot be dated before 1900."]}),
        ({"purchased_on": "yesterday"}, {"purchased_on": ["Enter a valid date."]}),
    ],
)  # fmt: skip
def test_a_bad_purchase_is_refused_on_the_page_with_why(cast: Cast, world, web: Any, post, errors):
    mine = world["mine"]
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    data = _sale(**{k: v.format(tomorrow=tomorrow) for k, v in post.items()})
    before = db_state()

    response = web(cast.consultant).post(f"/customers/{mine.pk}/edit/", data)

    assert response.status_code == 200
    assert response.context["purchase_form"].errors == errors
    content = response.content.decode()
    assert '<details open data-testid="purchase-add">' in content
    for message in errors.values():
        assert f'<div class="invalid-feedback d-block">{message[0]}</div>' in content
    assert db_state() == before


def test_the_purchase_form_speaks_chinese(cast: Cast, world, web: Any):
    mine = world["mine"]
    client = web(cast.consultant, language="zh-hans")
    assert "记录一笔购买" in client.get(f"/customers/{mine.pk}/").content.decode()

    response = client.post(f"/customers/{mine.pk}/edit/", _sale(amount="-1", product=""))

    assert response.context["purchase_form"].errors == {
        "product": ["请填写产品（最多 100 个字符）。"],
        "amount": ["金额不能为负数。"],
    }
    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("commissioner", 403), ("other_consultant", 404), ("other_manager", 404), ("promoter", 404)],
)
def test_a_purchase_denied_changes_nothing(cast: Cast, world, web: Any, persona, status):
    mine = world["mine"]
    client = web(getattr(cast, persona))
    before = db_state()

    response = client.post(f"/customers/{mine.pk}/edit/", _sale())

    assert response.status_code == status
    assert db_state() == before
    if status == 403:
        assert 'name="form" value="purchase"' not in response.content.decode()


def test_an_unknown_form_is_not_found(cast: Cast, world, web: Any):
    response = web(cast.consultant).post(f"/customers/{world['mine'].pk}/edit/", {"form": "nope"})

    assert response.status_code == 404


# --- follow-ups and stages (kehu.activities pages) -----------------------------------------------


def test_a_follow_up_is_logged(cast: Cast, world, web: Any):
    mine = world["mine"]

    response = web(cast.consultant).post(
        f"/activities/customers/{mine.pk}/log/",
        {"kind": "visit", "outcome": "interested", "note": "看了样板间"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{mine.pk}/"
    activity = Activity.objects.get()
    assert (
        activity.customer_id,
        activity.staff_id,
        activity.kind,
        activity.outcome,
        activity.note,
    ) == (
        mine.pk,
        cast.consultant.pk,
        "visit",
        "interested",
        "看了样板间",
    )
    mine.refresh_from_db()
    assert (mine.stage, mine.visit_count, mine.last_followup_at) == (
        "visited",
        1,
        activity.occurred_at,
    )


def test_a_follow_up_with_htmx_answers_the_form_timeline_and_summary(cast: Cast, world, web: Any):
    mine = world["mine"]

    response = web(cast.consultant).post(
        f"/activities/customers/{mine.pk}/log/",
        {"kind": "call", "outcome": "no_answer", "note": "<b>没人接</b>"},
        HTTP_HX_REQUEST="true",
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert 'data-testid="followup-form"' in content
    assert "Follow-up saved." in content
    assert 'id="customer-summary" class="card mb-3" hx-swap-oob="true"' in content
    assert 'id="timeline" hx-swap-oob="true"' in content
    assert 'id="stage-card" hx-swap-oob="true"' in content
    assert "&lt;b&gt;没人接&lt;/b&gt;" in content
    assert Activity.objects.count() == 1


def test_a_refused_follow_up_with_htmx_answers_the_form_with_its_errors(
    cast: Cast, world, web: Any
):
    before = db_state()

    response = web(cast.consultant).post(
        f"/activities/customers/{world['mine'].pk}/log/", {"kind": "fax"}, HTTP_HX_REQUEST="true"
    )

    content = response.content.decode()
    assert "<html" not in content and "hx-swap-oob" not in content
    assert "Select a valid choice. fax is not one of the available choices." in content
    assert db_state() == before


def test_a_follow_up_in_the_future_is_refused(cast: Cast, world, web: Any):
    before = db_state()
    later = timezone.localtime() + datetime.timedelta(days=2)

    response = web(cast.consultant).post(
        f"/activities/customers/{world['mine'].pk}/log/",
        {"kind": "call", "occurred_at": later.strftime("%Y-%m-%dT%H:%M")},
    )

    assert response.status_code == 200
    assert response.context["activity_form"].errors == {
        "occurred_at": ["A follow-up cannot be in the future."]
    }
    assert db_state() == before


@pytest.mark.parametrize(
    ("persona", "status"), [("commissioner", 403), ("other_consultant", 404), ("promoter", 404)]
)
def test_a_follow_up_denied_changes_nothing(cast: Cast, world, web: Any, persona: str, status):
    before = db_state()

    response = web(getattr(cast, persona)).post(
        f"/activities/customers/{world['mine'].pk}/log/", {"kind": "call"}
    )

    assert response.status_code == status
    assert db_state() == before


def test_stage_changes_and_lost_needs_a_reason(cast: Cast, world, web: Any):
    mine = world["mine"]
    client = web(cast.consultant)

    no_reason = client.post(f"/activities/customers/{mine.pk}/stage/", {"stage": "lost"})
    assert no_reason.status_code == 200
    assert list(no_reason.context["stage_form"].errors) == ["reason"]
    assert Customer.objects.get(pk=mine.pk).stage == "left_phone"

    lost = client.post(
        f"/activities/customers/{mine.pk}/stage/",
        {"stage": "lost", "lost_reason": "competitor", "reason": "买了隔壁"},
    )
    assert lost.status_code == 302
    mine.refresh_from_db()
    assert (mine.stage, mine.lost_reason) == ("lost", "competitor: 买了隔壁")
    change = StageChange.objects.filter(customer=mine).first()
    assert (change.from_stage, change.to_stage, change.actor_id) == (
        "left_phone",
        "lost",
        cast.consultant.pk,
    )


def test_stage_change_denied_changes_nothing(cast: Cast, world, web: Any):
    before = db_state()

    response = web(cast.commissioner).post(
        f"/activities/customers/{world['mine'].pk}/stage/", {"stage": "deal"}
    )

    assert response.status_code == 403
    assert db_state() == before


# --- merging duplicates ----------------------------------------------------------------------------


def test_merge_page_lists_visible_duplicates_and_counts_the_others(cast: Cast, world, web: Any):
    keep = add(cast.consultant, "13912345678", "周杰")
    twin = add(cast.consultant, "13912345679", "周杰")
    add(cast.other_consultant, "13912345670", "周杰")

    response = web(cast.consultant).get(f"/customers/{keep.pk}/merge/")

    assert response.status_code == 200
    assert [row["customer"].pk for row in response.context["candidates"]] == [twin.pk]
    assert response.context["hidden_message"] == (
        "1 more record you cannot see looks like this customer; ask your manager."
    )


def test_merge_moves_the_duplicate_into_the_customer(cast: Cast, world, web: Any):
    keep = world["mine"]
    twin = add(cast.consultant, "13900000005", "甲先生")

    response = web(cast.consultant).post(f"/customers/{keep.pk}/merge/", {"other": f"#{twin.pk}"})

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{keep.pk}/"
    twin.refresh_from_db()
    assert twin.merged_into_id == keep.pk
    assert sorted(keep.phones.values_list("number", flat=True)) == [
        "+8613900000001",
        "+8613900000005",
    ]
    assert Registration.objects.filter(customer=keep).count() == 2


@pytest.mark.parametrize(("persona", "status"), [("commissioner", 404), ("other_consultant", 404)])
def test_merge_denied_changes_nothing(cast: Cast, world, web: Any, persona: str, status: int):
    twin = add(cast.consultant, "13900000005", "甲先生")
    before = db_state()

    response = web(getattr(cast, persona)).post(
        f"/customers/{world['mine'].pk}/merge/", {"other": f"#{twin.pk}"}
    )

    assert response.status_code == status
    assert db_state() == before


def test_merge_of_a_customer_one_may_not_edit_is_refused(cast: Cast, world, web: Any):
    """The manager may edit both of theirs, not the region's other team's."""
    before = db_state()

    response = web(cast.consultant).post(
        f"/customers/{world['mine'].pk}/merge/", {"other": f"#{world['theirs'].pk}"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"other": ["No customer you can see matches this."]}
    assert db_state() == before
