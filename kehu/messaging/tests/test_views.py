"""The messaging pages: outbox, templates with live preview, triggers, broadcasts."""

from __future__ import annotations

import pytest

from kehu.customers.services import ensure_tag, set_tags
from kehu.messaging import services
from kehu.messaging.models import Broadcast, Message, MessageTemplate, TriggerRule
from kehu.messaging.tests.helpers import make_customer
from kehu.org.models import Staff


def fresh(staff: Staff) -> Staff:
    return Staff.objects.get(pk=staff.pk)


def templates() -> list[tuple]:
    return list(MessageTemplate.objects.order_by("id").values_list("code", "body"))


# --- outbox -------------------------------------------------------------------------------


def test_the_outbox_shows_what_you_may_see(cast, web):
    mine = make_customer(cast.consultant, name="张三")
    theirs = make_customer(cast.other_consultant, name="李四")
    a = services.send_one_off(actor=cast.consultant, customer=mine, body="你好{name}")
    b = services.send_one_off(actor=cast.other_consultant, customer=theirs, body="你好{name}")
    services.send_message(a.pk)
    page = web(cast.consultant).get("/messaging/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-testid="message-{a.pk}"' in html
    assert f'data-testid="message-{b.pk}"' not in html
    assert 'data-status="held"' in html
    assert "你好张三" in html
    assert web(cast.other_manager).get("/messaging/").content.decode().count("message-") == 1
    for persona in ("promoter", "broker", "commissioner"):
        assert web(getattr(cast, persona)).get("/messaging/").status_code == 404


def test_outbox_filters_and_htmx_partial(cast, web):
    mine = make_customer(cast.consultant, name="张三")
    queued = services.send_one_off(actor=cast.consultant, customer=mine, body="一")
    held = services.send_one_off(actor=cast.consultant, customer=mine, body="二")
    services.send_message(held.pk)
    client = web(cast.consultant)
    html = client.get("/messaging/", {"status": "held"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html
    assert f"message-{held.pk}" in html and f"message-{queued.pk}" not in html
    bad = client.get("/messaging/", {"status": "nope", "customer": "1.5"})
    assert bad.status_code == 200
    assert "message-" not in bad.content.decode().split("outbox-table")[1]


@pytest.mark.parametrize(("persona", "queries"), [("admin", 5), ("manager", 7), ("consultant", 5)])
def test_the_outbox_page_query_count_does_not_grow(
    cast, web, django_assert_num_queries, persona, queries
):
    def grow(n: int) -> None:
        for _ in range(n):
            customer = make_customer(cast.consultant)
            services.send_one_off(actor=cast.consultant, customer=customer, body="你好")

    grow(2)
    client = web(fresh(cast.all()[persona]))
    with django_assert_num_queries(queries):
        assert client.get("/messaging/").status_code == 200
    grow(10)
    with django_assert_num_queries(queries):
        assert client.get("/messaging/").status_code == 200


# --- templates ----------------------------------------------------------------------------


def test_admin_edits_a_template_an_unknown_placeholder_is_shown_and_nothing_saved(cast, web):
    deal = MessageTemplate.objects.get(code="deal")
    url = f"/messaging/templates/{deal.pk}/"
    client = web(cast.admin)
    assert client.get(url).status_code == 200
    before = templates()
    form = {"code": "deal", "name": "签约", "kind": "transactional", "channel": "sms"}
    page = client.post(url, {**form, "body": "恭喜{姓名}"})
    assert page.status_code == 200
    assert "Unknown placeholder {姓名}." in page.content.decode()
    assert templates() == before
    page = client.post(url, {**form, "body": "恭喜{name}{title}", "is_active": "on"})
    assert page.status_code == 302
    assert MessageTemplate.objects.get(pk=deal.pk).body == "恭喜{name}{title}"


def test_managers_read_templates_but_may_not_change_them(cast, web):
    deal = MessageTemplate.objects.get(code="deal")
    client = web(cast.manager)
    assert client.get("/messaging/templates/").status_code == 200
    page = client.get(f"/messaging/templates/{deal.pk}/")
    assert page.status_code == 200
    assert 'data-testid="template-form"' not in page.content.decode()
    before = templates()
    assert client.post(f"/messaging/templates/{deal.pk}/", {"body": "x"}).status_code == 404
    assert client.get("/messaging/templates/new/").status_code == 404
    assert templates() == before
    assert web(cast.promoter).get("/messaging/templates/").status_code == 404


def test_admin_adds_a_template(cast, web):
    page = web(cast.admin).post(
        "/messaging/templates/new/",
        {
            "code": "birthday",
            "name": "生日",
            "kind": "transactional",
            "channel": "sms",
            "body": "{name}{title}生日快乐",
            "is_active": "on",
        },
    )
    assert page.status_code == 302
    assert MessageTemplate.objects.get(code="birthday").name == "生日"


def test_the_live_preview(cast, web):
    customer = make_customer(cast.consultant, name="张三", title="先生")
    client = web(cast.consultant)
    page = client.post(
        "/messaging/templates/preview/", {"body": "{name}{title}您好", "customer": customer.pk}
    )
    assert page.status_code == 200
    assert "张三先生您好" in page.content.decode()
    page = client.post("/messaging/templates/preview/", {"body": "{nmae}"})
    assert "Unknown placeholder {nmae}." in page.content.decode()
    other = make_customer(cast.other_consultant, name="李四")
    page = client.post("/messaging/templates/preview/", {"body": "{name}", "customer": other.pk})
    assert "李四" not in page.content.decode()


# --- triggers -----------------------------------------------------------------------------


def test_triggers_page(cast, web):
    rule = TriggerRule.objects.get(event="first_visit")
    data = {
        "rule": rule.pk,
        f"r{rule.pk}-delay_minutes": "45",
        f"r{rule.pk}-template": rule.template_id,
        f"r{rule.pk}-is_enabled": "on",
    }
    assert web(cast.consultant).get("/messaging/triggers/").status_code == 404
    manager = web(cast.manager)
    assert manager.get("/messaging/triggers/").status_code == 200
    assert manager.post("/messaging/triggers/", data).status_code == 404
    assert TriggerRule.objects.get(pk=rule.pk).delay_minutes == 30
    bad = web(cast.admin).post("/messaging/triggers/", {**data, f"r{rule.pk}-delay_minutes": "-1"})
    assert bad.status_code == 200
    assert TriggerRule.objects.get(pk=rule.pk).delay_minutes == 30
    assert web(cast.admin).post("/messaging/triggers/", data).status_code == 302
    assert TriggerRule.objects.get(pk=rule.pk).delay_minutes == 45


# --- broadcasts ---------------------------------------------------------------------------


@pytest.fixture
def promo(cast):
    tag = ensure_tag(actor=cast.admin, dimension="意向产品", name="两居")
    for i in range(3):
        customer = make_customer(cast.consultant, name=f"客户{i}")
        set_tags(actor=cast.admin, customer=customer, tags=[tag])
        services.set_consent(actor=cast.admin, customer=customer, opted_in=True)
    template = services.create_template(
        actor=cast.admin, code="promo", name="促销", kind="promotional", body="{name}开放日"
    )
    return tag, template


def test_a_manager_queues_a_broadcast_and_watches_it(cast, web, promo):
    tag, template = promo
    client = web(cast.manager)
    page = client.post("/messaging/broadcasts/audience/", {"tags": [tag.pk]})
    assert "3 opted-in customers will get this broadcast" in page.content.decode()
    page = client.post(
        "/messaging/broadcasts/new/", {"name": "开放日", "template": template.pk, "tags": [tag.pk]}
    )
    broadcast = Broadcast.objects.get()
    assert page.status_code == 302 and page.url == f"/messaging/broadcasts/{broadcast.pk}/"
    services.fan_out_broadcast(broadcast.pk)
    page = client.get(page.url)
    assert page.status_code == 200
    assert 'hx-trigger="every 2s"' in page.content.decode()
    services.send_due_messages()
    partial = client.get(f"/messaging/broadcasts/{broadcast.pk}/", HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html and "every 2s" not in html and "100%" in html
    assert client.get("/messaging/broadcasts/").status_code == 200
    assert web(cast.other_manager).get(f"/messaging/broadcasts/{broadcast.pk}/").status_code == 404


def test_consultants_may_not_broadcast_and_an_empty_audience_is_refused(cast, web, promo):
    _tag, template = promo
    assert web(cast.consultant).get("/messaging/broadcasts/").status_code == 404
    data = {"name": "x", "template": template.pk}
    assert web(cast.consultant).post("/messaging/broadcasts/new/", data).status_code == 404
    page = web(cast.manager).post("/messaging/broadcasts/new/", data)
    assert page.status_code == 200
    assert "Choose at least one tag or grade for the audience." in page.content.decode()
    assert Broadcast.objects.count() == 0
    assert Message.objects.count() == 0
