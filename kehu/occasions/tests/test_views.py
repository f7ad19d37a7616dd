"""The occasion pages: what each persona sees, writes allowed and denied, query counts."""

from __future__ import annotations

import datetime

import pytest

from kehu.core.testing import actions_since, mark
from kehu.occasions import calendar
from kehu.occasions.models import CareRule, InvitationSettings, LifecycleRule
from kehu.occasions.tests.conftest import customer_of, db_state, soon

D = datetime.date


def month_of(day):
    return f"{day.year}-{day.month:02d}"


def test_the_birthday_calendar_shows_visible_birthdays_lunar_marked(cast, web):
    day = soon(10)
    customer_of(cast.consultant, name="甲先生", birthday=D(1980, day.month, day.day))
    customer_of(cast.other_consultant, name="乙女士", birthday=D(1980, day.month, day.day))
    lunar = customer_of(
        cast.consultant, name="丙", lunar_birthday={"month": 8, "day": 15, "is_leap": False}
    )
    lunar_day = lunar.occasion_dates.order_by("date").first().date
    page = web(cast.consultant).get(f"/occasions/?month={month_of(day)}").content.decode()
    assert "甲先生" in page
    assert "乙女士" not in page
    assert 'data-testid="birthday-grid"' in page
    assert 'data-testid="birthday-list"' in page
    page = web(cast.consultant).get(f"/occasions/?month={month_of(lunar_day)}").content.decode()
    assert "八月十五" in page
    page = (
        web(cast.region_manager)
        .get(f"/occasions/?month={month_of(day)}&node={cast.other_team.pk}")
        .content.decode()
    )
    assert "乙女士" in page
    assert "甲先生" not in page


def test_a_bad_month_or_team_is_said_not_a_500(cast, web):
    client = web(cast.manager)
    page = client.get("/occasions/?month=2026-13").content.decode()
    assert "Give a month as YYYY-MM" in page
    page = client.get(f"/occasions/?node={cast.other_team.pk}").content.decode()
    assert "Choose a team you can see" in page
    assert client.get("/occasions/?node=99999999999999999999999").status_code == 200


@pytest.mark.parametrize("n", [1, 4])
def test_the_birthday_calendar_costs_a_fixed_number_of_queries(
    cast, web, django_assert_num_queries, n
):
    day = soon(10)
    for i in range(n):
        customer_of(cast.consultant, name=f"客{i}", birthday=D(1980, day.month, day.day))
    client = web(cast.consultant)
    client.get("/occasions/")  # warm the session
    # session, user, roles and the base page's reads; birthdays; care rules; teams
    with django_assert_num_queries(7):
        page = client.get(f"/occasions/?month={month_of(day)}")
    assert page.status_code == 200
    assert page.content.decode().count('class="text-truncate"') == n


def test_the_year_calendar(cast, web):
    page = web(cast.broker).get("/occasions/calendar/?year=2026").content.decode()
    assert "清明" in page
    assert "春节" in page
    year = calendar.holiday_coverage()[1] + 1
    page = web(cast.broker).get(f"/occasions/calendar/?year={year}").content.decode()
    assert 'data-testid="calendar-notice"' in page
    page = web(cast.broker).get("/occasions/calendar/?year=3000").content.decode()
    assert "Give a year from 1901 to 2099." in page


def test_settings_pages_read_for_everyone_edit_for_admins(cast, web):
    page = web(cast.consultant).get("/occasions/lifecycle/").content.decode()
    assert "36/48/60" in page
    assert 'data-testid="add-rule"' not in page
    page = web(cast.admin).get("/occasions/lifecycle/").content.decode()
    assert 'data-testid="add-rule"' in page
    page = web(cast.consultant).get("/occasions/care/").content.decode()
    assert 'data-testid="invitation-form"' not in page
    assert web(cast.admin).get("/occasions/care/").status_code == 200


def test_an_admin_adds_and_edits_a_rule_from_the_page(cast, web):
    client = web(cast.admin)
    since = mark()
    data = {
        "new-name": "加装精品",
        "new-kind": "accessories",
        "new-months_after": "1",
        "new-km_per_month": "1250",
        "new-lead_days": "7",
        "new-ask_referral": "on",
        "new-is_active": "on",
    }
    assert client.post("/occasions/lifecycle/add/", data).status_code == 302
    rule = LifecycleRule.objects.get(name="加装精品")
    assert rule.months_after == 1
    edit = {k.replace("new-", "rule-"): v for k, v in data.items()} | {"rule-lead_days": "10"}
    assert client.post(f"/occasions/lifecycle/{rule.pk}/", edit).status_code == 302
    rule.refresh_from_db()
    assert rule.lead_days == 10
    assert actions_since(since) == [
        ("occasions.lifecycle_rule.create", "admin"),
        ("occasions.lifecycle_rule.update", "admin"),
    ]


def test_a_bad_rule_from_the_page_says_what_to_fix(cast, web):
    before = db_state()
    response = web(cast.admin).post(
        "/occasions/lifecycle/add/",
        {"new-name": "x", "new-kind": "service", "new-km_per_month": "1250", "new-lead_days": "7"},
    )
    assert response.status_code == 400
    assert (
        "Give months after the purchase, kilometres after it, or both." in response.content.decode()
    )
    assert db_state() == before


@pytest.mark.parametrize("persona", ["manager", "consultant"])
def test_others_may_not_change_settings_from_the_pages(cast, web, persona):
    client = web(getattr(cast, persona))
    rule = LifecycleRule.objects.first()
    before = db_state()
    client.post(
        "/occasions/lifecycle/add/",
        {
            "new-name": "x",
            "new-kind": "service",
            "new-months_after": "1",
            "new-km_per_month": "1",
            "new-lead_days": "1",
        },
    )
    client.post(
        f"/occasions/lifecycle/{rule.pk}/",
        {
            "rule-name": "x",
            "rule-kind": "service",
            "rule-months_after": "1",
            "rule-km_per_month": "1",
            "rule-lead_days": "1",
            "delete": "1",
        },
    )
    client.post("/occasions/care/", {"relationship": "VIP", "care": "message"})
    client.post("/occasions/care/", {"days_min": "3", "days_max": "5"})
    assert client.get(f"/occasions/lifecycle/{rule.pk}/").status_code == 404
    assert db_state() == before


def test_an_admin_changes_care_and_the_invitation_window(cast, web):
    client = web(cast.admin)
    assert (
        client.post("/occasions/care/", {"relationship": "VIP", "care": "message"}).status_code
        == 302
    )
    assert CareRule.objects.get(relationship="VIP").care == "message"
    assert client.post("/occasions/care/", {"days_min": "7", "days_max": "10"}).status_code == 302
    assert (
        InvitationSettings.objects.get().days_min,
        InvitationSettings.objects.get().days_max,
    ) == (7, 10)
    before = db_state()
    assert client.post("/occasions/care/", {"days_min": "10", "days_max": "7"}).status_code == 400
    assert db_state() == before
