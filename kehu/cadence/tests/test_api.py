"""GET /api/v1/agenda/ (a public contract), the team view, rules and milestones."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.cadence import sources as sources_module
from kehu.cadence.agenda import build_agenda, contact_items
from kehu.cadence.models import CadenceRule, Milestone
from kehu.cadence.sources import AgendaItem, agenda_source
from kehu.cadence.tests.helpers import DAY, called, customer_of
from kehu.occasions import calendar

pytestmark = pytest.mark.django_db


def make_agenda_cast(cast, today):
    """consultant: one overdue (B, 5 days before ``today``), one due (A, the day before),
    one callback (no grade, 90 days before), one not due; other_consultant: one overdue."""
    overdue = called(
        cast.consultant, customer_of(cast.consultant, "13912350001", "王先生", "B"), 5, today
    )
    due = called(
        cast.consultant, customer_of(cast.consultant, "13912350002", "张女士", "A"), 1, today
    )
    callback = called(
        cast.consultant, customer_of(cast.consultant, "13912350003", "刘先生"), 90, today
    )
    called(cast.consultant, customer_of(cast.consultant, "13912350004", "陈女士", "C"), 0, today)
    theirs = called(
        cast.other_consultant,
        customer_of(cast.other_consultant, "13912350005", "赵先生", "A"),
        4,
        today,
    )
    return cast, {"overdue": overdue, "due": due, "callback": callback, "theirs": theirs}


@pytest.fixture
def agenda_cast(cast):
    """The cast's calls around the fixed :data:`DAY` (not today: see helpers.DAY)."""
    return make_agenda_cast(cast, DAY)


def test_the_fixed_day_has_no_occasion_of_its_own() -> None:
    """The premise of the exact assertions below: DAY is not a solar term's day nor in a
    holiday's greeting window, and the holiday data covers its year."""
    assert calendar.solar_term_on(DAY) is None
    assert calendar.festival_for(DAY) is None
    assert calendar.is_covered(DAY.year)


def test_agenda_shape_and_order(agenda_cast, api) -> None:
    cast, c = agenda_cast
    today = DAY
    body = api(cast.consultant).get(f"/api/v1/agenda/?date={today.isoformat()}").json()
    assert body == {
        "date": today.isoformat(),
        "items": [
            {
                "kind": "overdue",
                "customer": c["overdue"].pk,
                "title": "王先生",
                "reason": "Grade B: call every 3 days; last contact "
                f"{(today - datetime.timedelta(days=5)).isoformat()}.",
                "due": (today - datetime.timedelta(days=2)).isoformat(),
            },
            {
                "kind": "call_due",
                "customer": c["due"].pk,
                "title": "张女士",
                "reason": "Grade A: call every day; last contact "
                f"{(today - datetime.timedelta(days=1)).isoformat()}.",
                "due": today.isoformat(),
            },
            {
                "kind": "callback",
                "customer": c["callback"].pk,
                "title": "刘先生",
                "reason": "Callback at least every 90 days; last contact "
                f"{(today - datetime.timedelta(days=90)).isoformat()}.",
                "due": today.isoformat(),
            },
        ],
    }


def test_agenda_default_date_is_today_and_kind_filter(cast, api) -> None:
    cast, c = make_agenda_cast(cast, timezone.localdate())
    body = api(cast.consultant).get("/api/v1/agenda/?kind=overdue").json()
    assert body["date"] == timezone.localdate().isoformat()
    assert [i["customer"] for i in body["items"]] == [c["overdue"].pk]


def test_agenda_follows_the_owner_after_reassignment(agenda_cast, api) -> None:
    cast, c = agenda_cast
    from kehu.customers.models import Customer

    Customer.objects.filter(pk=c["theirs"].pk).update(owner=cast.consultant, node=cast.team)
    items = api(cast.consultant).get(f"/api/v1/agenda/?date={DAY}").json()["items"]
    assert c["theirs"].pk in [i["customer"] for i in items]
    items = api(cast.other_consultant).get(f"/api/v1/agenda/?date={DAY}").json()["items"]
    assert items == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date=2026-02-30", "date"),
        ("date=26-1-1", "date"),
        ("date=2026-W48-3", "date"),
        ("date=1899-01-01", "date"),
        ("date=9999-12-31", "date"),
        ("date=%F0%9F%98%80", "date"),
        ("kind=meeting", "kind"),
    ],
)
def test_agenda_bad_input_is_a_400_naming_the_field(agenda_cast, api, query, field) -> None:
    cast, _c = agenda_cast
    response = api(cast.consultant).get(f"/api/v1/agenda/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert list(body["error"]["fields"]) == [field]


def test_agenda_needs_authentication(api, cast) -> None:
    assert api(None).get("/api/v1/agenda/").status_code in (401, 403)


def test_agenda_query_count_is_constant(
    agenda_cast, api, django_assert_num_queries, monkeypatch
) -> None:
    cast, _c = agenda_cast
    client = api(cast.consultant)
    url = f"/api/v1/agenda/?date={DAY}"
    with CaptureQueriesContext(connection) as everything:
        client.get(url)
    # Our own items alone: the rules, then the joined cadence rows (auth is forced: no
    # session or token lookup).
    monkeypatch.setattr(sources_module, "_sources", [contact_items])
    with django_assert_num_queries(2):
        assert len(client.get(url).json()["items"]) == 3
    for n in range(6):
        called(cast.consultant, customer_of(cast.consultant, f"1391236000{n}", grade="B"), 4, DAY)
    with django_assert_num_queries(2):
        assert len(client.get(url).json()["items"]) == 9
    monkeypatch.undo()
    # With every registered source (occasions, grading…): still constant.
    with django_assert_num_queries(len(everything)):
        client.get(url)


def test_the_due_rows_sql_is_the_querysets(agenda_cast) -> None:
    """contact_items reads plain SQL for speed: the same rows as the business queryset."""
    from kehu.cadence.agenda import ROW_FIELDS, due_rows
    from kehu.cadence.models import CustomerCadence

    cast, c = agenda_cast
    for staff in (cast.consultant, cast.other_consultant, cast.manager):
        expected = list(
            CustomerCadence.objects.owned_by(staff)
            .due_by(DAY)
            .order_by("next_due", "customer_id")
            .values_list(*ROW_FIELDS)
        )
        assert due_rows(staff.pk, DAY) == expected
    assert [row[0] for row in due_rows(cast.consultant.pk, DAY)] == [
        c["overdue"].pk,
        c["due"].pk,
        c["callback"].pk,
    ]


def test_sources_are_composed_and_sorted(agenda_cast, monkeypatch) -> None:
    cast, c = agenda_cast
    today = DAY

    def holiday(staff, day):
        return [
            AgendaItem("holiday", None, "冬至", "Send a greeting", day),
            AgendaItem("birthday", c["due"].pk, "张女士", "Birthday", day),
        ]

    monkeypatch.setattr(sources_module, "_sources", [contact_items])
    agenda_source(holiday)
    kinds = [i.kind for i in build_agenda(cast.consultant, today)]
    assert kinds == ["overdue", "call_due", "callback", "birthday", "holiday"]


def test_team_view_counts_overdue_per_person(agenda_cast, api, django_assert_num_queries) -> None:
    cast, _c = agenda_cast
    client = api(cast.region_manager)
    # roles, node, managed node ids, one grouped count, people
    with django_assert_num_queries(5):
        body = client.get(f"/api/v1/agenda/team/?date={DAY}").json()
    counts = {p["name"]: p["overdue"] for p in body["people"]}
    assert counts["Consultant"] == 1
    assert counts["Other_Consultant"] == 1
    assert body["people"][0]["overdue"] == 1
    assert "Promoter" not in counts and "Commissioner" not in counts  # own no customers
    mine = {
        p["name"]: p["overdue"]
        for p in api(cast.manager).get(f"/api/v1/agenda/team/?date={DAY}").json()["people"]
    }
    assert "Other_Consultant" not in mine
    assert mine["Consultant"] == 1


@pytest.mark.parametrize("persona", ["consultant", "promoter", "broker"])
def test_team_view_is_a_404_for_non_managers(cast, api, persona) -> None:
    response = api(getattr(cast, persona)).get("/api/v1/agenda/team/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_rules_read_by_all_patched_by_admin(cast, api) -> None:
    body = api(cast.consultant).get("/api/v1/cadence-rules/").json()
    assert [r["grade"] for r in body] == ["A", "B", "C", "D", "callback"]
    denied = api(cast.manager).patch(
        "/api/v1/cadence-rules/A/", {"interval_days": 2}, format="json"
    )
    assert denied.status_code == 403
    assert CadenceRule.objects.get(grade="A").interval_days == 1
    ok = api(cast.admin).patch("/api/v1/cadence-rules/A/", {"interval_days": 2}, format="json")
    assert ok.status_code == 200
    assert ok.json()["interval_days"] == 2


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("/api/v1/cadence-rules/E/", {"interval_days": 2}, "grade"),
        ("/api/v1/cadence-rules/A/", {"interval_days": 0}, "interval_days"),
        ("/api/v1/cadence-rules/A/", {"interval_days": "x"}, "interval_days"),
        ("/api/v1/cadence-rules/callback/", {"uses_milestones": True}, "uses_milestones"),
    ],
)
def test_rules_bad_input(cast, api, path, data, field) -> None:
    before = list(CadenceRule.objects.values_list("grade", "interval_days", "uses_milestones"))
    response = api(cast.admin).patch(path, data, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert (
        list(CadenceRule.objects.values_list("grade", "interval_days", "uses_milestones")) == before
    )


def test_milestones_crud(cast, api, django_assert_num_queries) -> None:
    day = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    manager = api(cast.manager)
    created = manager.post(
        "/api/v1/milestones/", {"date": day, "name": "开盘", "node": cast.team.pk}, format="json"
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert (
        manager.patch(f"/api/v1/milestones/{pk}/", {"name": "开盘日"}, format="json").json()["name"]
        == "开盘日"
    )
    # The consultant of that team reads it; the other team does not see it.
    assert [m["id"] for m in api(cast.consultant).get("/api/v1/milestones/").json()["results"]] == [
        pk
    ]
    assert api(cast.other_consultant).get(f"/api/v1/milestones/{pk}/").status_code == 404
    denied = api(cast.consultant).delete(f"/api/v1/milestones/{pk}/")
    assert denied.status_code == 403
    assert Milestone.objects.filter(pk=pk).exists()
    assert api(cast.other_manager).delete(f"/api/v1/milestones/{pk}/").status_code == 404
    assert manager.delete(f"/api/v1/milestones/{pk}/").status_code == 204
    assert not Milestone.objects.exists()
    for n in range(3):
        manager.post(
            "/api/v1/milestones/",
            {"date": day, "name": f"活动{n}", "node": cast.team.pk},
            format="json",
        )
    with django_assert_num_queries(2):  # count, page
        assert len(api(cast.consultant).get("/api/v1/milestones/").json()["results"]) == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"date": "2026-02-30", "name": "x"}, "date"),
        ({"date": "1999-01-01", "name": "x"}, "date"),
        ({"date": "2026-12-01", "name": ""}, "name"),
        ({"date": "2026-12-01", "name": "x", "node": 999999}, "node"),
    ],
)
def test_milestones_bad_input(cast, api, data, field) -> None:
    response = api(cast.admin).post("/api/v1/milestones/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Milestone.objects.exists()
