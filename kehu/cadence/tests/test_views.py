"""My day, the managers' overdue view and the cadence settings page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.activities.models import Activity
from kehu.cadence.models import CadenceRule, Milestone
from kehu.cadence.tests.helpers import DAY, called, customer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(cast):
    """Around the fixed DAY (no solar term, no holiday window: see helpers.DAY)."""
    overdue = called(
        cast.consultant, customer_of(cast.consultant, "13912370001", "王先生", "B"), 5, DAY
    )
    theirs = called(
        cast.other_consultant,
        customer_of(cast.other_consultant, "13912370002", "赵先生", "A"),
        4,
        DAY,
    )
    return overdue, theirs


def test_my_day_lists_own_items_with_a_log_button(due, cast, web) -> None:
    overdue, theirs = due
    response = web(cast.consultant).get("/cadence/my-day/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "王先生" in html and "赵先生" not in html
    assert f'data-testid="log-call-{overdue.pk}"' in html
    assert 'href="/cadence/my-day/"' in html  # the nav item


def test_my_day_query_count_is_constant(due, cast, web) -> None:
    client = web(cast.consultant)
    url = f"/cadence/my-day/?date={DAY}"
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(5):
        called(cast.consultant, customer_of(cast.consultant, f"1391238000{n}", grade="A"), 3, DAY)
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert response.content.decode().count('data-testid="agenda-item"') == 6
    assert len(after) == len(before)


def test_my_day_bad_date_shows_today_with_a_message(due, cast, web) -> None:
    response = web(cast.consultant).get("/cadence/my-day/?date=2026-02-30")
    assert response.status_code == 200
    assert 'data-testid="date-error"' in response.content.decode()


def test_my_day_is_a_404_for_promoters(cast, web) -> None:
    assert web(cast.promoter).get("/cadence/my-day/").status_code == 404


def test_log_call_allowed_and_denied(due, cast, web) -> None:
    overdue, theirs = due
    before = Activity.objects.count()
    response = web(cast.consultant).post(f"/cadence/my-day/log/{theirs.pk}/")
    assert response.status_code == 404
    assert Activity.objects.count() == before
    response = web(cast.consultant).post(
        f"/cadence/my-day/log/{overdue.pk}/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'data-testid="logged-{overdue.pk}"' in response.content.decode()
    assert Activity.objects.count() == before + 1


def test_team_page_and_drill_down(due, cast, web, django_assert_num_queries) -> None:
    overdue, theirs = due
    client = web(cast.manager)
    response = client.get("/cadence/team/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="team-chart-data"' in html and "Other_Consultant" not in html
    person = client.get(f"/cadence/team/{cast.consultant.pk}/")
    assert "王先生" in person.content.decode()
    assert client.get(f"/cadence/team/{cast.other_consultant.pk}/").status_code == 404
    assert web(cast.consultant).get("/cadence/team/").status_code == 404


def test_settings_admin_edits_rules_others_cannot(cast, web) -> None:
    assert (
        web(cast.admin)
        .post("/cadence/settings/", {"action": "rule", "grade": "C", "interval_days": "10"})
        .status_code
        == 302
    )
    assert CadenceRule.objects.get(grade="C").interval_days == 10
    response = web(cast.manager).post(
        "/cadence/settings/", {"action": "rule", "grade": "C", "interval_days": "5"}
    )
    assert response.status_code == 400
    assert CadenceRule.objects.get(grade="C").interval_days == 10
    response = web(cast.admin).post(
        "/cadence/settings/", {"action": "rule", "grade": "C", "interval_days": "abc"}
    )
    assert response.status_code == 400
    assert CadenceRule.objects.get(grade="C").interval_days == 10


def test_settings_managers_add_milestones(cast, web) -> None:
    client = web(cast.manager)
    ok = client.post(
        "/cadence/settings/",
        {"action": "milestone", "date": "2026-12-20", "name": "开放日", "node": str(cast.team.pk)},
    )
    assert ok.status_code == 302
    bad = client.post(
        "/cadence/settings/",
        {"action": "milestone", "date": "2026-02-30", "name": "开放日", "node": str(cast.team.pk)},
    )
    assert bad.status_code == 400
    denied = web(cast.consultant).post(
        "/cadence/settings/", {"action": "milestone", "date": "2026-12-21", "name": "x"}
    )
    assert denied.status_code == 400
    assert list(Milestone.objects.values_list("name", flat=True)) == ["开放日"]
    assert "开放日" in web(cast.consultant).get("/cadence/settings/").content.decode()
