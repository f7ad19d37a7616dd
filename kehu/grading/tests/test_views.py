"""The grading pages: who may open them, what they show, htmx partials, and query
counts that do not grow with the rows."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.grading import services
from kehu.grading.models import GradingSettings, IntentAssessment, KeyCustomer
from kehu.grading.rules import week_start
from kehu.grading.tests.helpers import ALL_SIX, World, customer, state

TODAY = timezone.localdate()
WEEK = week_start(TODAY)


def submit(actor: Any, *customers: Customer) -> list[KeyCustomer]:
    return services.submit_key_customers(
        actor=actor, items=[{"customer": c, "horizon": "H"} for c in customers]
    )


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("manager", 200),
        ("consultant", 200),
        ("promoter", 404),
        ("broker", 404),
        ("commissioner", 404),
    ],
)
def test_who_opens_the_board(cast: Any, web: Any, persona: str, status: int) -> None:
    assert web(getattr(cast, persona)).get("/grading/key-customers/").status_code == status


def test_the_board_for_a_manager(
    cast: Any, web: Any, world: World, django_assert_num_queries: Any
) -> None:
    rows = submit(cast.consultant, world.mine)
    services.close_key_customer(
        actor=cast.consultant, key_customer=rows[0], status="defeated", reason="买了竞品"
    )
    submit(cast.consultant, world.mine2)
    client = web(cast.manager)
    client.get("/grading/key-customers/")  # warm the session
    # session, user, roles, node, node ids, settings, staff, submitted, prospects,
    # summary, trend, review list
    with django_assert_num_queries(12):
        page = client.get("/grading/key-customers/")
    html = page.content.decode()
    # Two submitted, and only two prospects left (张三 was defeated): not short.
    assert 'data-testid="short-count"' not in html
    assert 'data-testid="review-count">1<' in html
    assert "买了竞品" in html
    assert 'data-testid="kpi-defeat-rate">50.0%<' in html
    assert 'id="grading-chart"' in html
    for i in range(4):
        submit(cast.consultant, customer(cast.consultant, f"1350000{i:04d}", f"客{i}"))
    with django_assert_num_queries(12):
        page = client.get("/grading/key-customers/")
    assert 'data-testid="review-count">5<' in page.content.decode()


def test_the_board_for_a_consultant_submits_and_closes(
    cast: Any, web: Any, world: World, django_assert_num_queries: Any
) -> None:
    client = web(cast.consultant)
    client.get("/grading/key-customers/")
    # session, user, roles, settings, staff, submitted, prospects, summary, trend,
    # my key customers, my prospects
    with django_assert_num_queries(11):
        page = client.get("/grading/key-customers/")
    assert 'data-testid="submit-form"' in page.content.decode()
    response = client.post(
        "/grading/key-customers/submit/", {"customer": world.mine.pk, "horizon": "A"}
    )
    assert response.status_code == 302
    row = KeyCustomer.objects.get()
    assert (row.customer_id, row.horizon, row.week) == (world.mine.pk, "A", WEEK)
    before = state()
    client.post("/grading/key-customers/submit/", {"customer": world.theirs.pk, "horizon": "A"})
    client.post(f"/grading/key-customers/{row.pk}/close/", {"status": "defeated"})
    assert state() == before
    client.post(f"/grading/key-customers/{row.pk}/close/", {"status": "won"})
    row.refresh_from_db()
    assert row.status == "won"
    # Another consultant cannot even find it.
    assert (
        web(cast.other_consultant)
        .post(f"/grading/key-customers/{row.pk}/close/", {"status": "won"})
        .status_code
        == 404
    )


def test_review_with_htmx(cast: Any, web: Any, world: World) -> None:
    row = submit(cast.consultant, world.mine)[0]
    before = state()
    assert web(cast.consultant).post(f"/grading/key-customers/{row.pk}/review/").status_code == 404
    assert (
        web(cast.other_manager).post(f"/grading/key-customers/{row.pk}/review/").status_code == 404
    )
    assert state() == before
    response = web(cast.manager).post(
        f"/grading/key-customers/{row.pk}/review/", {"note": "好"}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="reviewed"' in response.content.decode()
    assert "<html" not in response.content.decode()
    row.refresh_from_db()
    assert (row.reviewed_by_id, row.review_note) == (cast.manager.pk, "好")


def test_the_customer_panel(
    cast: Any, web: Any, world: World, django_assert_num_queries: Any
) -> None:
    services.assess_intent(actor=cast.consultant, customer=world.mine, judgements=ALL_SIX)
    services.assess_referral(
        actor=cast.consultant, customer=world.mine, loyalty=4, network=4, willingness=4
    )
    client = web(cast.consultant)
    client.get(f"/grading/customers/{world.mine.pk}/panel/")
    # session, user, roles, customer, history, grades
    with django_assert_num_queries(6):
        response = client.get(f"/grading/customers/{world.mine.pk}/panel/")
    html = response.content.decode()
    assert "A: all six judgements hold." in html
    assert "A: loyalty, network and willingness all at least 4." in html
    assert 'data-testid="assess-link"' in html
    for _i in range(5):
        services.assess_intent(actor=cast.consultant, customer=world.mine, judgements={})
    with django_assert_num_queries(6):
        client.get(f"/grading/customers/{world.mine.pk}/panel/")
    for persona in ("other_consultant", "promoter", "broker"):
        assert (
            web(getattr(cast, persona))
            .get(f"/grading/customers/{world.mine.pk}/panel/")
            .status_code
            == 404
        )
    detail = client.get(f"/customers/{world.mine.pk}/").content.decode()
    assert f'hx-get="/grading/customers/{world.mine.pk}/panel/"' in detail


def test_assess_page_and_live_preview(cast: Any, web: Any, world: World) -> None:
    client = web(cast.consultant)
    page = client.get(f"/grading/customers/{world.mine.pk}/assess/")
    assert 'data-testid="intent-preview"' in page.content.decode()
    preview = client.get(
        "/grading/intent/preview/", {"product": "on", "price": "on", "payment": "on"}
    ).content.decode()
    assert "C: product, price and payment accepted, but no unit chosen" in preview
    assert "<html" not in preview
    response = client.post(
        f"/grading/customers/{world.mine.pk}/assess/",
        {"form": "intent", **dict.fromkeys(ALL_SIX, "on"), "note": "全家都满意"},
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=world.mine.pk).intent_grade == "A"
    assert IntentAssessment.objects.get().note == "全家都满意"
    client.post(
        f"/grading/customers/{world.mine.pk}/assess/",
        {"form": "referral", "loyalty": "5", "network": "2", "willingness": "3"},
    )
    assert world.mine.grades.referral_grade == "B"
    before = state()
    bad = client.post(
        f"/grading/customers/{world.mine.pk}/assess/",
        {"form": "referral", "loyalty": "9", "network": "2", "willingness": "3"},
    )
    assert bad.status_code == 200
    assert state() == before
    assert (
        web(cast.other_consultant).get(f"/grading/customers/{world.mine.pk}/assess/").status_code
        == 404
    )


def test_settings_page(cast: Any, web: Any) -> None:
    assert web(cast.manager).get("/grading/settings/").status_code == 404
    client = web(cast.admin)
    assert client.get("/grading/settings/").status_code == 200
    data = {
        "horizon_h_days": 5,
        "horizon_a_days": 15,
        "horizon_b_days": 30,
        "horizon_c_days": 90,
        "weekly_minimum": 4,
        "value_top_share": 20,
        "value_growth": 10,
        "agent_tag_dimension": "客户类型",
        "agent_tag_name": "代理商",
    }
    assert client.post("/grading/settings/", data).status_code == 302
    assert GradingSettings.objects.get().horizon_h_days == 5
    before = state()
    bad = client.post("/grading/settings/", {**data, "horizon_a_days": 2})
    assert "The horizons must not shrink" in bad.content.decode()
    assert state() == before


def test_nav_shows_key_customers_to_the_sales_side(cast: Any, web: Any) -> None:
    assert (
        'href="/grading/key-customers/"'
        in web(cast.consultant).get("/grading/key-customers/").content.decode()
    )
    assert (
        'href="/grading/key-customers/"'
        not in web(cast.promoter).get("/leads/field/").content.decode()
    )


def test_an_old_week_shows_no_submit_form(cast: Any, web: Any) -> None:
    old = WEEK - datetime.timedelta(days=7)
    page = web(cast.consultant).get("/grading/key-customers/", {"week": old.isoformat()})
    assert 'data-testid="submit-form"' not in page.content.decode()
    assert (
        web(cast.consultant).get("/grading/key-customers/", {"week": "2026-02-31"}).status_code
        == 200
    )
