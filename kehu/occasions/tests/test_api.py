"""The occasions API: contracts, visibility, bad input and query counts."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kehu.core.testing import actions_since, mark
from kehu.occasions import calendar
from kehu.occasions.models import CareRule, LifecycleRule
from kehu.occasions.tests.conftest import customer_of, db_state, soon

D = datetime.date
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def invalid(fields, message="Please correct the errors below."):
    return {"error": {"code": "invalid", "message": message, "fields": fields}}


# --- the calendar ---------------------------------------------------------------------------


def test_the_calendar_of_a_covered_year(cast, api, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api(cast.consultant).get("/api/v1/calendar/?year=2026")
    assert response.status_code == 200
    body = response.json()
    assert body["year"] == 2026
    assert body["holidays_covered"] is True
    assert "notice" not in body
    assert {"date": "2026-04-05", "kind": "solar_term", "name": "清明"} in body["days"]
    assert {"date": "2026-02-17", "kind": "holiday", "name": "春节"} in body["days"]
    assert {"date": "2026-02-14", "kind": "workday", "name": "春节"} in body["days"]


def test_a_year_without_holiday_data_says_so(cast, api):
    year = calendar.holiday_coverage()[1] + 1
    body = api(cast.broker).get(f"/api/v1/calendar/?year={year}").json()
    assert body["holidays_covered"] is False
    assert {d["kind"] for d in body["days"]} == {"solar_term"}
    assert len(body["days"]) == 24
    assert f"for {year} are not in the installed holiday data" in body["notice"]


@pytest.mark.parametrize("year", ["", "abc", "1900", "2100", "-1", "20260", "2026.5"])
def test_a_bad_year_is_a_400(cast, api, year):
    response = api(cast.consultant).get(f"/api/v1/calendar/?year={year}")
    assert response.status_code == 400
    assert response.json() == invalid({"year": ["Give a year from 1901 to 2099."]})


def test_the_calendar_needs_a_login(cast, api):
    assert api(None).get("/api/v1/calendar/?year=2026").status_code in (401, 403)


# --- birthdays ---------------------------------------------------------------------------------


@pytest.fixture
def birthdays(cast):
    day = soon(10)
    born = D(1980, day.month, day.day)
    return {
        "day": day,
        "mine": customer_of(cast.consultant, name="甲", birthday=born),
        "theirs": customer_of(cast.other_consultant, name="乙", birthday=born, relationship="VIP"),
    }


def month_of(day):
    return f"{day.year}-{day.month:02d}"


def test_a_consultant_sees_their_customers_birthdays(cast, api, birthdays):
    day = birthdays["day"]
    body = api(cast.consultant).get(f"/api/v1/birthdays/?month={month_of(day)}").json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "customer": birthdays["mine"].pk,
            "name": "甲",
            "owner": cast.consultant.pk,
            "node": cast.team.pk,
            "date": day.isoformat(),
            "is_lunar": False,
            "lunar": None,
            "lunar_label": "",
            "relationship": "N",
            "care": "message",
        }
    ]


def test_a_manager_picks_a_team(cast, api, birthdays):
    day = birthdays["day"]
    client = api(cast.region_manager)
    body = client.get(f"/api/v1/birthdays/?month={month_of(day)}").json()
    assert {r["customer"] for r in body["results"]} == {
        birthdays["mine"].pk,
        birthdays["theirs"].pk,
    }
    body = client.get(f"/api/v1/birthdays/?month={month_of(day)}&node={cast.other_team.pk}").json()
    assert [(r["customer"], r["care"]) for r in body["results"]] == [
        (birthdays["theirs"].pk, "visit_gift")
    ]


def test_a_team_you_cannot_see_is_refused(cast, api, birthdays):
    response = api(cast.manager).get(
        f"/api/v1/birthdays/?month={month_of(birthdays['day'])}&node={cast.other_team.pk}"
    )
    assert response.status_code == 400
    assert response.json() == invalid({"node": ["Choose a team you can see (its id)."]})


def test_a_lunar_birthday_is_listed_with_its_lunar_date(cast, api):
    customer = customer_of(
        cast.consultant, name="丙", lunar_birthday={"month": 8, "day": 15, "is_leap": False}
    )
    day = customer.occasion_dates.order_by("date").first().date
    (row,) = api(cast.consultant).get(f"/api/v1/birthdays/?month={month_of(day)}").json()["results"]
    assert row["lunar"] == {"month": 8, "day": 15, "is_leap": False}
    assert row["lunar_label"] == "八月十五"
    assert row["is_lunar"] is True


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("", "Give a month as YYYY-MM, e.g. 2026-05."),
        ("2026-13", "Give a month as YYYY-MM, e.g. 2026-05."),
        ("2026-00", "Give a month as YYYY-MM, e.g. 2026-05."),
        ("2026-2", "Give a month as YYYY-MM, e.g. 2026-05."),
        ("1999-01", None),
    ],
)
def test_a_bad_month_is_a_400(cast, api, month, message):
    year = timezone.localdate().year
    message = message or f"Birthday calendars cover {year}-01 to {year + 1}-12."
    response = api(cast.consultant).get(f"/api/v1/birthdays/?month={month}")
    assert response.status_code == 400
    assert response.json() == invalid({"month": [message]})


@pytest.mark.parametrize("n", [1, 5])
def test_birthdays_cost_a_fixed_number_of_queries(cast, api, django_assert_num_queries, n):
    day = soon(10)
    for i in range(n):
        customer_of(cast.consultant, name=f"客{i}", birthday=D(1980, day.month, day.day))
    from kehu.org.models import Staff

    client = api(Staff.objects.get(pk=cast.manager.pk))
    # the manager's roles, team and subtree; count, page, care rules
    with django_assert_num_queries(6):
        assert client.get(f"/api/v1/birthdays/?month={month_of(day)}").json()["count"] == n
    client = api(Staff.objects.get(pk=cast.manager.pk))
    # + the team
    with django_assert_num_queries(7):
        assert (
            client.get(f"/api/v1/birthdays/?month={month_of(day)}&node={cast.team.pk}").json()[
                "count"
            ]
            == n
        )


# --- rules -----------------------------------------------------------------------------


RULE = {"name": "轮胎更换", "kind": "service", "product_contains": "宝马", "km_after": 40000}


def test_an_admin_creates_changes_and_deletes_a_lifecycle_rule(cast, api):
    client = api(cast.admin)
    since = mark()
    response = client.post("/api/v1/lifecycle-rules/", RULE, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["km_after"] == 40000
    assert body["km_per_month"] == 1250
    assert body["ask_referral"] is True
    response = client.patch(
        f"/api/v1/lifecycle-rules/{body['id']}/", {"lead_days": 30}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["lead_days"] == 30
    assert client.delete(f"/api/v1/lifecycle-rules/{body['id']}/").status_code == 204
    assert actions_since(since) == [
        ("occasions.lifecycle_rule.create", "admin"),
        ("occasions.lifecycle_rule.update", "admin"),
        ("occasions.lifecycle_rule.delete", "admin"),
    ]


@pytest.mark.parametrize("persona", ["manager", "consultant", "broker"])
def test_others_read_but_may_not_write_rules(cast, api, persona):
    client = api(getattr(cast, persona))
    rule = LifecycleRule.objects.first()
    assert client.get("/api/v1/lifecycle-rules/").status_code == 200
    before = db_state()
    assert client.post("/api/v1/lifecycle-rules/", RULE, format="json").status_code == 403
    assert (
        client.patch(
            f"/api/v1/lifecycle-rules/{rule.pk}/", {"lead_days": 3}, format="json"
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/lifecycle-rules/{rule.pk}/").status_code == 403
    care = CareRule.objects.first()
    assert (
        client.patch(
            f"/api/v1/care-rules/{care.pk}/", {"care": "message"}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.patch(
            "/api/v1/invitation-settings/", {"days_min": 7, "days_max": 10}, format="json"
        ).status_code
        == 403
    )
    assert db_state() == before


def test_bad_rules_say_what_to_fix(cast, api):
    client = api(cast.admin)
    before = db_state()
    response = client.post(
        "/api/v1/lifecycle-rules/", {"name": "x", "kind": "service"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == invalid(
        {"months_after": ["Give months after the purchase, kilometres after it, or both."]}
    )
    response = client.post(
        "/api/v1/lifecycle-rules/", {**RULE, "km_per_month": 0, "kind": "wash"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"kind"}
    response = client.post("/api/v1/lifecycle-rules/", {**RULE, "km_per_month": 0}, format="json")
    assert response.json() == invalid({"km_per_month": ["A whole number from 1 to 50000."]})
    assert db_state() == before


def test_care_rules_and_the_invitation_window(cast, api):
    client = api(cast.admin)
    rows = client.get("/api/v1/care-rules/").json()
    assert {r["relationship"]: r["care"] for r in rows} == {
        "VIP": "visit_gift",
        "O": "call_card",
        "M": "call_card",
        "Y": "message",
        "N": "message",
    }
    vip = next(r for r in rows if r["relationship"] == "VIP")
    assert (
        client.patch(
            f"/api/v1/care-rules/{vip['id']}/", {"care": "call_card"}, format="json"
        ).json()["care"]
        == "call_card"
    )
    before = db_state()
    response = client.patch(f"/api/v1/care-rules/{vip['id']}/", {"care": "dinner"}, format="json")
    assert response.status_code == 400
    assert client.get("/api/v1/invitation-settings/").json()["days_min"] == 14
    response = client.patch(
        "/api/v1/invitation-settings/", {"days_min": 21, "days_max": 14}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == invalid(
        {"days_min": ["The window starts no later than it ends (at least ≤ at most)."]}
    )
    assert db_state() == before
    response = client.patch(
        "/api/v1/invitation-settings/", {"days_min": 10, "days_max": 20}, format="json"
    )
    assert response.json()["days_max"] == 20


# --- reminders --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_reminders_are_visible_ones_only(cast, api, django_assert_num_queries, n):
    from decimal import Decimal

    from kehu.customers.services import record_purchase

    bought = timezone.localdate() - datetime.timedelta(days=100)
    for i in range(n):
        c = customer_of(cast.consultant, name=f"客{i}")
        record_purchase(
            actor=cast.consultant,
            customer=c,
            product="车",
            amount=Decimal("1"),
            purchased_on=bought,
        )
    other = customer_of(cast.other_consultant, name="别")
    record_purchase(
        actor=cast.other_consultant,
        customer=other,
        product="车",
        amount=Decimal("1"),
        purchased_on=bought,
    )
    client = api(cast.consultant)
    with django_assert_num_queries(2):
        body = client.get("/api/v1/lifecycle-reminders/?kind=service").json()
    assert body["count"] == 2 * n  # first service and periodic service
    assert {r["customer"] for r in body["results"]} <= set(
        cast.consultant.owned_customers.values_list("pk", flat=True)
    )
    first = body["results"][0]
    assert set(first) == {
        "id",
        "customer",
        "customer_name",
        "purchase",
        "product",
        "purchased_on",
        "rule",
        "rule_name",
        "kind",
        "sequence",
        "due_on",
        "notify_on",
        "ask_referral",
    }
    other_id = other.lifecycle_reminders.first().pk
    assert client.get(f"/api/v1/lifecycle-reminders/{other_id}/").json() == NOT_FOUND
    assert client.get("/api/v1/lifecycle-reminders/?due_after=bad").status_code == 400
