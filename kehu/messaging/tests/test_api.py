"""The messaging API: /api/v1/message-templates/, message-triggers/, messages/,
message-consents/ and broadcasts/."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.customers.models import Customer
from kehu.customers.services import ensure_tag, set_tags
from kehu.messaging import services
from kehu.messaging.models import Broadcast, Consent, Message, MessageTemplate, TriggerRule
from kehu.messaging.tests.helpers import make_customer
from kehu.org.models import Staff


def fresh(staff: Staff) -> Staff:
    return Staff.objects.get(pk=staff.pk)


def templates() -> list[tuple]:
    return list(MessageTemplate.objects.order_by("id").values_list("code", "body", "is_active"))


def outbox() -> list[tuple]:
    return list(Message.objects.order_by("id").values_list("customer_id", "status", "body"))


# --- templates ----------------------------------------------------------------------------


def test_a_template_with_an_unknown_placeholder_is_a_400_and_nothing_changes(cast, api):
    before = templates()
    answer = api(cast.admin).post(
        "/api/v1/message-templates/",
        {"code": "hi", "name": "问候", "body": "{name}{nmae}您好"},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": {
            "code": "invalid",
            "message": "Please correct the errors below.",
            "fields": {
                "body": [
                    "Unknown placeholder {nmae}. Use only: {title}, {name}, {consultant}, "
                    "{consultant_phone}, {project}, {project_address}, {project_route}."
                ]
            },
        }
    }
    deal = MessageTemplate.objects.get(code="deal")
    answer = api(cast.admin).patch(
        f"/api/v1/message-templates/{deal.pk}/", {"body": "{姓名}"}, format="json"
    )
    assert answer.status_code == 400
    assert "{姓名}" in answer.json()["error"]["fields"]["body"][0]
    assert templates() == before


def test_admin_creates_and_edits_templates_others_may_not(cast, api):
    answer = api(cast.admin).post(
        "/api/v1/message-templates/",
        {"code": "hi", "name": "问候", "body": "{name}{title}您好", "kind": "promotional"},
        format="json",
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["code"], body["kind"], body["placeholders"]) == (
        "hi",
        "promotional",
        ["name", "title"],
    )
    before = templates()
    for persona in ("manager", "consultant"):
        answer = api(getattr(cast, persona)).patch(
            f"/api/v1/message-templates/{body['id']}/", {"body": "改"}, format="json"
        )
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "permission_denied"
    assert api(cast.promoter).get(f"/api/v1/message-templates/{body['id']}/").status_code == 404
    assert templates() == before


def test_preview_renders_for_a_visible_customer_only(cast, api):
    mine = make_customer(cast.consultant, name="张三", title="先生")
    theirs = make_customer(cast.other_consultant, name="李四")
    deal = MessageTemplate.objects.get(code="deal")
    url = f"/api/v1/message-templates/{deal.pk}/preview/"
    answer = api(cast.consultant).post(url, {"customer": mine.pk}, format="json")
    assert answer.status_code == 200
    assert (
        answer.json()["body"] == "恭喜张三先生成功签约，欢迎成为我们的业主！Consultant 13800000005"
    )
    answer = api(cast.consultant).post(
        url, {"customer": mine.pk, "body": "{title}{nope}"}, format="json"
    )
    assert answer.status_code == 400
    assert list(answer.json()["error"]["fields"]) == ["body"]
    answer = api(cast.consultant).post(url, {"customer": theirs.pk}, format="json")
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"] == {"customer": [f"Unknown id {theirs.pk}."]}


# --- triggers -----------------------------------------------------------------------------


def test_triggers_read_by_managers_edited_by_admins(cast, api):
    answer = api(cast.manager).get("/api/v1/message-triggers/")
    assert [(r["event"], r["delay_minutes"]) for r in answer.json()] == [
        ("deal", 0),
        ("first_call", 10),
        ("first_visit", 30),
        ("pledge", 0),
    ]
    assert api(cast.consultant).get("/api/v1/message-triggers/").json() == []
    rule = TriggerRule.objects.get(event="first_call")
    url = f"/api/v1/message-triggers/{rule.pk}/"
    assert api(cast.manager).patch(url, {"delay_minutes": 5}, format="json").status_code == 403
    answer = api(cast.admin).patch(url, {"delay_minutes": -5}, format="json")
    assert answer.status_code == 400
    assert TriggerRule.objects.get(pk=rule.pk).delay_minutes == 10
    answer = api(cast.admin).patch(url, {"delay_minutes": 5, "is_enabled": False}, format="json")
    assert (answer.status_code, answer.json()["delay_minutes"]) == (200, 5)


# --- the outbox ---------------------------------------------------------------------------


def test_post_a_one_off_message(cast, api):
    mine = make_customer(cast.consultant, name="张三", title="先生")
    theirs = make_customer(cast.other_consultant)
    answer = api(cast.consultant).post(
        "/api/v1/messages/", {"customer": mine.pk, "body": "{name}{title}，明天见"}, format="json"
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["status"], body["body"], body["kind"], body["sender"]) == (
        "queued",
        "张三先生，明天见",
        "transactional",
        cast.consultant.pk,
    )
    before = outbox()
    for payload in (
        {"customer": theirs.pk, "body": "x"},
        {"customer": mine.pk, "body": "{nmae}"},
        {"customer": mine.pk},
        {"customer": mine.pk, "body": "x", "channel": "fax"},
        {"customer": mine.pk, "body": "x", "colour": "red"},
    ):
        answer = api(cast.consultant).post("/api/v1/messages/", payload, format="json")
        assert answer.status_code == 400, payload
        assert answer.json()["error"]["code"] == "invalid"
    assert outbox() == before


def test_the_outbox_is_filtered_and_kept_to_what_you_see(cast, api):
    mine = make_customer(cast.consultant)
    theirs = make_customer(cast.other_consultant)
    services.send_one_off(actor=cast.consultant, customer=mine, body="a")
    services.send_one_off(actor=cast.other_consultant, customer=theirs, body="b")
    held = services.send_one_off(actor=cast.consultant, customer=mine, body="c")
    services.send_message(held.pk)

    def customers(persona: str, **params: Any) -> list[int]:
        answer = api(getattr(cast, persona)).get("/api/v1/messages/", params)
        assert answer.status_code == 200
        return [row["customer"] for row in answer.json()["results"]]

    assert customers("consultant") == [mine.pk, mine.pk]
    assert customers("manager") == [mine.pk, mine.pk]
    assert customers("other_manager") == [theirs.pk]
    assert sorted(customers("admin")) == sorted([mine.pk, mine.pk, theirs.pk])
    assert customers("promoter") == []
    assert customers("admin", status="held") == [mine.pk]
    assert customers("admin", customer=theirs.pk) == [theirs.pk]
    answer = api(cast.admin).get("/api/v1/messages/", {"status": "lost"})
    assert answer.status_code == 400
    other = Message.objects.get(customer=theirs)
    assert api(cast.consultant).get(f"/api/v1/messages/{other.pk}/").status_code == 404


@pytest.mark.parametrize(("persona", "queries"), [("admin", 4), ("manager", 6), ("consultant", 4)])
def test_the_outbox_list_query_count_does_not_grow(
    cast, api, django_assert_num_queries, persona, queries
):
    def grow(n: int) -> None:
        for _ in range(n):
            customer = make_customer(cast.consultant)
            services.send_one_off(actor=cast.consultant, customer=customer, body="你好")

    grow(2)
    staff = cast.all()[persona]
    with django_assert_num_queries(queries):
        small = api(fresh(staff)).get("/api/v1/messages/", {"page_size": 200})
    grow(10)
    with django_assert_num_queries(queries):
        large = api(fresh(staff)).get("/api/v1/messages/", {"page_size": 200})
    assert large.json()["count"] == small.json()["count"] + 10


def test_retry_a_held_message(cast, api):
    customer = make_customer(cast.consultant)
    message = services.send_one_off(actor=cast.consultant, customer=customer, body="你好")
    services.send_message(message.pk)
    url = f"/api/v1/messages/{message.pk}/retry/"
    assert api(cast.other_consultant).post(url).status_code == 404
    answer = api(cast.consultant).post(url)
    assert (answer.status_code, answer.json()["status"]) == (200, "queued")
    answer = api(cast.consultant).post(url)
    assert answer.status_code == 400


# --- consents and broadcasts --------------------------------------------------------------


def test_consents_opt_in_and_unsubscribe(cast, api):
    mine = make_customer(cast.consultant)
    answer = api(cast.other_consultant).post(
        "/api/v1/message-consents/", {"customer": mine.pk, "opted_in": True}, format="json"
    )
    assert answer.status_code == 400
    assert Consent.objects.count() == 0
    answer = api(cast.consultant).post(
        "/api/v1/message-consents/", {"customer": mine.pk, "opted_in": True}, format="json"
    )
    assert (answer.status_code, answer.json()["is_opted_in"]) == (200, True)
    answer = api(cast.consultant).post(
        "/api/v1/message-consents/", {"customer": mine.pk, "opted_in": "no"}, format="json"
    )
    assert answer.status_code == 400
    answer = api(cast.manager).post(
        "/api/v1/message-consents/", {"customer": mine.pk, "opted_in": False}, format="json"
    )
    assert (answer.status_code, answer.json()["is_opted_in"]) == (200, False)
    listed = api(cast.consultant).get("/api/v1/message-consents/", {"customer": mine.pk}).json()
    assert [r["customer"] for r in listed["results"]] == [mine.pk]
    assert api(cast.other_consultant).get("/api/v1/message-consents/").json()["count"] == 0


@pytest.fixture
def audience(cast):
    tag = ensure_tag(actor=cast.admin, dimension="意向产品", name="两居")
    people = [make_customer(cast.consultant, name=f"客户{i}") for i in range(3)]
    for customer in people:
        set_tags(actor=cast.admin, customer=customer, tags=[tag])
        services.set_consent(actor=cast.admin, customer=customer, opted_in=True)
    Customer.objects.filter(pk=people[0].pk).update(relationship="VIP")
    template = services.create_template(
        actor=cast.admin, code="promo", name="促销", kind="promotional", body="{name}开放日"
    )
    return tag, people, template


def test_a_broadcast_is_created_fanned_out_and_shows_progress(cast, api, audience):
    tag, people, template = audience
    answer = api(cast.manager).post(
        "/api/v1/broadcasts/audience/", {"tags": [tag.pk]}, format="json"
    )
    assert answer.json() == {"audience": 2, "personal": 1}
    answer = api(cast.manager).post(
        "/api/v1/broadcasts/",
        {"name": "开放日", "template": template.pk, "tags": [tag.pk]},
        format="json",
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["status"], body["audience_count"], body["personal_count"]) == ("queued", 2, 1)
    assert body["personal"] == [{"id": people[0].pk, "name": "客户0", "reason": "VIP"}]
    services.fan_out_broadcast(body["id"])
    progress = api(cast.manager).get(f"/api/v1/broadcasts/{body['id']}/").json()["progress"]
    assert (progress["status"], progress["queued"], progress["percent"]) == ("sending", 2, 0)
    services.send_due_messages()
    progress = api(cast.manager).get(f"/api/v1/broadcasts/{body['id']}/").json()["progress"]
    assert (progress["status"], progress["finished"], progress["percent"]) == ("done", 2, 100)
    assert api(cast.other_manager).get(f"/api/v1/broadcasts/{body['id']}/").status_code == 404
    assert api(cast.region_manager).get(f"/api/v1/broadcasts/{body['id']}/").status_code == 200


def test_broadcasts_are_for_managers_and_need_an_audience(cast, api, audience):
    tag, _people, template = audience
    answer = api(cast.consultant).post(
        "/api/v1/broadcasts/", {"name": "x", "template": template.pk, "tags": [tag.pk]},
        format="json",
    )  # fmt: skip
    assert answer.status_code == 403
    answer = api(cast.manager).post(
        "/api/v1/broadcasts/", {"name": "x", "template": template.pk}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "Choose at least one tag or grade for the audience."
    )
    answer = api(cast.manager).post(
        "/api/v1/broadcasts/",
        {"name": "x", "template": template.pk, "intent_grades": ["Z"]},
        format="json",
    )
    assert answer.status_code == 400
    assert Broadcast.objects.count() == 0


@pytest.mark.parametrize(("persona", "queries"), [("admin", 6), ("manager", 7)])
def test_the_broadcast_list_query_count_does_not_grow(
    cast, api, audience, django_assert_num_queries, persona, queries
):
    tag, _people, template = audience

    def grow(n: int) -> None:
        for i in range(n):
            broadcast = services.create_broadcast(
                actor=cast.manager, name=f"b{i}", template=template, tags=[tag]
            )
            services.fan_out_broadcast(broadcast.pk)

    grow(1)
    staff = cast.all()[persona]
    with django_assert_num_queries(queries):
        small = api(fresh(staff)).get("/api/v1/broadcasts/")
    grow(3)
    with django_assert_num_queries(queries):
        large = api(fresh(staff)).get("/api/v1/broadcasts/")
    assert large.json()["count"] == small.json()["count"] + 3


def test_the_schema_documents_the_messaging_api(cast, api):
    schema = api(cast.admin).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/message-templates/",
        "/api/v1/message-templates/{id}/preview/",
        "/api/v1/message-triggers/{id}/",
        "/api/v1/messages/",
        "/api/v1/messages/{id}/retry/",
        "/api/v1/message-consents/",
        "/api/v1/broadcasts/",
        "/api/v1/broadcasts/{id}/",
        "/api/v1/broadcasts/audience/",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/messages/"]) == {"get", "post"}
    statuses = schema["components"]["schemas"]["MessageStatusEnum"]["enum"]
    assert statuses == ["queued", "sending", "sent", "failed", "held", "suppressed"]
