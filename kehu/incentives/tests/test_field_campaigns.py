"""Field campaigns: a campaign's own per-node pay for the promoters working under it
(DOMAIN §7 "amounts configured per campaign", §8)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kehu.activities.services import change_stage
from kehu.core.testing import refuser
from kehu.incentives import services
from kehu.incentives.models import FieldCampaign, StatementLine
from kehu.incentives.months import month_of
from kehu.incentives.tests import factories as f
from kehu.leads.services import register_lead

URL = "/api/v1/field-campaigns/"
TODAY = datetime.date.today


def campaign(cast: Any, actor: Any = None, **changes: Any) -> FieldCampaign:
    today = timezone.localdate()
    values = {
        "name": "周末商场拦访",
        "node": cast.team,
        "starts_on": today - datetime.timedelta(days=1),
        "ends_on": today + datetime.timedelta(days=1),
        "amounts": {"left_phone": 30, "visit": 120},
        **changes,
    }
    return services.create_field_campaign(actor=actor or cast.manager, **values)


def promoter_lines(month: str) -> list[tuple[str, Decimal]]:
    return list(
        StatementLine.objects.filter(
            statement__month=month, statement__staff__username="promoter"
        ).values_list("code", "amount")
    )


def run_with_a_visited_field_lead(cast: Any, phone: str) -> str:
    month = month_of(timezone.localdate())
    f.profiles(cast)
    f.develop(cast, cast.manager, 8000, month=month)
    lead = register_lead(actor=cast.promoter, phone=phone, kind="field", channel="flyer")
    change_stage(actor=cast.admin, customer=lead.customer, stage="visited")
    services.run_month(actor=cast.admin, month=month)
    return month


def test_a_campaign_pays_its_own_amounts_node_by_node(cast):
    made = campaign(cast)
    assert made.amounts == {"left_phone": 30, "visit": 120}
    month = run_with_a_visited_field_lead(cast, "13955500011")
    assert promoter_lines(month) == [
        ("field.left_phone", Decimal("30.00")),
        ("field.visit", Decimal("120.00")),
    ]


def test_outside_its_days_or_its_node_the_scheme_pays(cast):
    today = timezone.localdate()
    campaign(
        cast,
        starts_on=today + datetime.timedelta(days=2),
        ends_on=today + datetime.timedelta(days=9),
    )
    campaign(cast, actor=cast.other_manager, node=cast.other_team, name="二组的活动")
    month = run_with_a_visited_field_lead(cast, "13955500012")
    assert promoter_lines(month) == [
        ("field.left_phone", Decimal("20.00")),
        ("field.visit", Decimal("50.00")),
    ]


def test_only_a_manager_over_the_node_or_an_admin_creates_one(cast):
    assert campaign(cast, actor=cast.admin).node == cast.team
    refused = refuser(lambda: list(FieldCampaign.objects.values_list("pk", flat=True)))
    for person in (cast.other_manager, cast.consultant, cast.promoter):
        refused(PermissionDenied, lambda p=person: campaign(cast, actor=p))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amounts": {"coffee": 5}}, "amounts"),
        ({"amounts": {}}, "amounts"),
        ({"amounts": {"visit": -1}}, "amounts"),
        ({"name": " "}, "name"),
        ({"ends_on": datetime.date(2000, 1, 1)}, "ends_on"),
    ],
)
def test_bad_campaigns_are_refused_and_nothing_is_written(cast, changes, field):
    with pytest.raises(ValidationError) as exc:
        campaign(cast, **changes)
    assert field in exc.value.message_dict
    assert FieldCampaign.objects.count() == 0


def test_the_api_lists_what_each_person_works_under(cast, api, django_assert_num_queries):
    campaign(cast)
    campaign(cast, actor=cast.other_manager, node=cast.other_team, name="二组的活动")
    for person, expected in (
        (cast.admin, ["二组的活动", "周末商场拦访"]),
        (cast.manager, ["周末商场拦访"]),
        (cast.promoter, ["周末商场拦访"]),
        (cast.broker, []),
    ):
        answer = api(person).get(URL)
        assert answer.status_code == 200
        assert sorted(row["name"] for row in answer.json()["results"]) == sorted(expected)
    with django_assert_num_queries(2):  # the count and the page
        api(cast.promoter).get(URL)


def test_the_api_creates_one_and_refuses_bad_input(cast, api):
    today = timezone.localdate()
    body = {
        "name": "国庆外拓",
        "node": cast.team.pk,
        "starts_on": str(today),
        "ends_on": str(today + datetime.timedelta(days=7)),
        "amounts": {"visit": "100", "deal": 800},
    }
    answer = api(cast.manager).post(URL, body, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["amounts"] == {"visit": 100, "deal": 800}
    bad = api(cast.manager).post(URL, {**body, "amounts": {"visit": -5}}, format="json")
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["amounts.visit"]
    denied = api(cast.other_manager).post(URL, body, format="json")
    assert denied.status_code == 400  # a node they cannot see is unknown to them
    assert FieldCampaign.objects.count() == 1


def test_the_page_lists_and_adds_campaigns(cast, web, django_assert_num_queries):
    campaign(cast)
    page = web(cast.manager).get("/incentives/campaigns/")
    assert page.status_code == 200
    assert "周末商场拦访" in page.content.decode()
    today = timezone.localdate()
    answer = web(cast.manager).post(
        "/incentives/campaigns/",
        {
            "name": "开盘外拓",
            "node": cast.team.pk,
            "starts_on": str(today),
            "ends_on": str(today),
            "visit": "90",
        },
    )
    assert answer.status_code == 302
    assert FieldCampaign.objects.get(name="开盘外拓").amounts == {"visit": 90}
    client = web(cast.manager)
    client.get("/incentives/campaigns/")
    campaign(cast, name="第三个")
    with django_assert_num_queries(7):
        client.get("/incentives/campaigns/")


def test_the_page_refuses_a_bad_campaign_and_people_it_is_not_for(cast, web):
    answer = web(cast.manager).post(
        "/incentives/campaigns/",
        {"name": "空", "node": cast.team.pk, "starts_on": "2026-01-02", "ends_on": "2026-01-01"},
    )
    assert answer.status_code == 200
    assert FieldCampaign.objects.count() == 0
    assert web(cast.consultant).get("/incentives/campaigns/").status_code == 404
