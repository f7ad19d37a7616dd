"""The grading API: contracts, permissions (denied changes nothing), bad input as the
standard error body, and query counts that do not grow with the rows."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from kehu.activities.services import change_stage
from kehu.customers.models import Customer
from kehu.customers.services import record_purchase
from kehu.grading import services
from kehu.grading.rules import week_start
from kehu.grading.tests.helpers import ALL_SIX, World, customer, fresh, state

TODAY = timezone.localdate()
WEEK = week_start(TODAY)
DENIED = {
    "error": {
        "code": "permission_denied",
        "message": "You are not allowed to do this.",
        "fields": {},
    }
}
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def invalid(
    fields: dict[str, list[str]], message: str = "Please correct the errors below."
) -> dict:
    return {"error": {"code": "invalid", "message": message, "fields": fields}}


# --- intent -----------------------------------------------------------------------------


def test_post_an_intent_assessment(cast: Any, api: Any, world: World) -> None:
    response = api(cast.consultant).post(
        "/api/v1/intent-assessments/",
        {"customer": world.mine.pk, **ALL_SIX, "chosen_unit": False, "note": "再看看"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("customer", "grade", "note", "assessed_by")} == {
        "customer": world.mine.pk,
        "grade": "C",
        "note": "再看看",
        "assessed_by": cast.consultant.pk,
    }
    assert body["judgements"] == {
        **ALL_SIX,
        "chosen_unit": False,
        "price_resistance": False,
        "deferred_down_payment": False,
    }
    assert body["explanation"]["rule"] == "core_without_chosen_unit"
    assert body["explanation_text"] == (
        "C: product, price and payment accepted, but no unit chosen; missing: "
        "Has chosen a unit or a clear intent."
    )
    assert Customer.objects.get(pk=world.mine.pk).intent_grade == "C"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {**ALL_SIX, "budget": True},
            {
                "budget": [
                    "Unknown field, or one that cannot be changed here; valid: customer, "
                    "product, price, payment, chosen_unit, attention, decision_makers, "
                    "price_resistance, deferred_down_payment, note."
                ]
            },
        ),
        ({**ALL_SIX, "price": "yes"}, {"price": ["Must be true or false."]}),
        ({"product": True}, None),
    ],
)
def test_bad_intent_input_changes_nothing(
    cast: Any, api: Any, world: World, data: dict, expected: Any
) -> None:
    before = state()
    response = api(cast.consultant).post(
        "/api/v1/intent-assessments/", {"customer": world.mine.pk, **data}, format="json"
    )
    assert response.status_code == 400
    if expected is not None:
        assert response.json() == invalid(expected)
    else:
        assert set(response.json()["error"]["fields"]) == {
            "price",
            "payment",
            "chosen_unit",
            "attention",
            "decision_makers",
        }
    assert state() == before


@pytest.mark.parametrize("persona", ["other_consultant", "other_manager", "promoter", "broker"])
def test_an_invisible_customer_is_unknown(cast: Any, api: Any, world: World, persona: str) -> None:
    before = state()
    response = api(getattr(cast, persona)).post(
        "/api/v1/intent-assessments/", {"customer": world.mine.pk, **ALL_SIX}, format="json"
    )
    assert response.json() == invalid({"customer": [f"Unknown id {world.mine.pk}."]})
    assert state() == before


def test_intent_history_and_its_query_count(
    cast: Any, api: Any, world: World, django_assert_num_queries: Any
) -> None:
    def grow(n: int) -> None:
        for _i in range(n):
            for c in (world.mine, world.mine2, world.theirs):
                services.assess_intent(actor=None, customer=c, judgements=ALL_SIX)

    grow(1)
    client = api(fresh(cast.consultant))
    with django_assert_num_queries(3):  # roles, count, page
        small = client.get("/api/v1/intent-assessments/")
    grow(5)
    client = api(fresh(cast.consultant))
    with django_assert_num_queries(3):
        large = client.get("/api/v1/intent-assessments/")
    assert (small.json()["count"], large.json()["count"]) == (2, 12)
    history = api(cast.consultant).get("/api/v1/intent-assessments/", {"customer": world.mine.pk})
    assert history.json()["count"] == 6
    assert (
        api(cast.other_consultant)
        .get("/api/v1/intent-assessments/", {"customer": world.mine.pk})
        .json()["count"]
        == 0
    )
    client = api(fresh(cast.manager))
    with django_assert_num_queries(5):  # roles, node, node ids, count, page
        managed = client.get("/api/v1/intent-assessments/")
    assert managed.json()["count"] == 12
    assert api(cast.admin).get("/api/v1/intent-assessments/").json()["count"] == 18


# --- referral ---------------------------------------------------------------------------


def test_referral_assessments(cast: Any, api: Any, world: World) -> None:
    response = api(cast.manager).post(
        "/api/v1/referral-assessments/",
        {"customer": world.mine.pk, "loyalty": 4, "network": 5, "willingness": 2},
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["grade"], response.json()["explanation"]["rule"]) == ("C", "unwilling")
    before = state()
    bad = api(cast.manager).post(
        "/api/v1/referral-assessments/",
        {"customer": world.mine.pk, "loyalty": 6, "network": "5", "willingness": 2},
        format="json",
    )
    assert bad.json() == invalid(
        {
            "loyalty": ["Ensure this value is less than or equal to 5."],
            "network": ["Expected a whole number."],
        }
    )
    assert state() == before
    listed = api(cast.consultant).get("/api/v1/referral-assessments/", {"customer": world.mine.pk})
    assert [r["grade"] for r in listed.json()["results"]] == ["C"]


# --- key customers ----------------------------------------------------------------------


def submit(api: Any, actor: Any, *items: tuple[Customer, str], **extra: Any) -> Any:
    return api(actor).post(
        "/api/v1/key-customers/",
        {"items": [{"customer": c.pk, "horizon": h} for c, h in items], **extra},
        format="json",
    )


def test_submit_list_review_close(cast: Any, api: Any, world: World) -> None:
    response = submit(api, cast.consultant, (world.mine, "H"), (world.mine2, "A"))
    assert response.status_code == 201
    rows = response.json()
    assert [(r["customer_name"], r["horizon"], r["status"], r["week"]) for r in rows] == [
        ("张三", "H", "open", WEEK.isoformat()),
        ("张四", "A", "open", WEEK.isoformat()),
    ]
    assert rows[1]["expected_by"] == (TODAY + datetime.timedelta(days=15)).isoformat()
    listed = api(cast.manager).get("/api/v1/key-customers/", {"week": TODAY.isoformat()})
    assert listed.json()["count"] == 2
    assert api(cast.other_manager).get("/api/v1/key-customers/").json()["count"] == 0
    assert (
        api(cast.consultant).get("/api/v1/key-customers/", {"status": "won"}).json()["count"] == 0
    )

    pk = rows[0]["id"]
    before = state()
    assert (
        api(cast.consultant).post(f"/api/v1/key-customers/{pk}/review/", {}, format="json").json()
        == DENIED
    )
    assert (
        api(cast.other_manager)
        .post(f"/api/v1/key-customers/{pk}/review/", {}, format="json")
        .json()
        == NOT_FOUND
    )
    assert state() == before
    reviewed = api(cast.manager).post(
        f"/api/v1/key-customers/{pk}/review/", {"note": "周末带家人来"}, format="json"
    )
    assert (reviewed.json()["reviewed_by"], reviewed.json()["review_note"]) == (
        cast.manager.pk,
        "周末带家人来",
    )

    before = state()
    bad = api(cast.consultant).post(
        f"/api/v1/key-customers/{pk}/close/", {"status": "lost"}, format="json"
    )
    assert bad.json() == invalid(
        {"status": ['"lost" is not a valid choice; choose one of: won, defeated.']}
    )
    no_reason = api(cast.consultant).post(
        f"/api/v1/key-customers/{pk}/close/", {"status": "defeated"}, format="json"
    )
    assert no_reason.json() == invalid(
        {"reason": ["Say why the customer was defeated (bought elsewhere, price…)."]}
    )
    assert state() == before
    closed = api(cast.consultant).post(
        f"/api/v1/key-customers/{pk}/close/",
        {"status": "defeated", "reason": "买了竞品"},
        format="json",
    )
    assert (closed.json()["status"], closed.json()["reason"]) == ("defeated", "买了竞品")
    assert Customer.objects.get(pk=world.mine.pk).stage == "lost"


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {"items": [{"customer": 1, "horizon": "Z"}]},
            {"items.0.horizon": ['"Z" is not a valid choice; choose one of: H, A, B, C.']},
        ),
        ({"items": []}, {"items.non_field_errors": ["This list may not be empty."]}),
        ({"items": [{"customer": 1, "horizon": "H", "kind": "x"}]}, None),
    ],
)
def test_bad_submissions_change_nothing(
    cast: Any, api: Any, world: World, data: dict, fields: Any
) -> None:
    for item in data["items"]:
        item["customer"] = world.mine.pk
    before = state()
    response = api(cast.consultant).post("/api/v1/key-customers/", data, format="json")
    assert response.status_code == 400
    if fields is not None:
        assert response.json() == invalid(fields)
    else:
        assert list(response.json()["error"]["fields"]) == ["items.0.kind"]
    assert state() == before


def test_a_week_that_is_not_this_or_next_is_refused(cast: Any, api: Any, world: World) -> None:
    before = state()
    old = WEEK - datetime.timedelta(days=7)
    response = submit(api, cast.consultant, (world.mine, "H"), week=old.isoformat())
    assert response.json()["error"]["fields"] == {
        "week": [
            f"Key customers are submitted for this week ({WEEK}) or the next "
            f"({WEEK + datetime.timedelta(days=7)})."
        ]
    }
    assert state() == before


def test_the_board(cast: Any, api: Any, world: World, django_assert_num_queries: Any) -> None:
    submit(api, cast.consultant, (world.mine, "H"))
    client = api(fresh(cast.region_manager))
    # roles, node, node ids, settings, staff, submitted, prospects
    with django_assert_num_queries(7):
        response = client.get("/api/v1/key-customers/board/")
    body = response.json()
    assert body["week"] == WEEK.isoformat() and body["minimum"] == 3
    assert [
        (r["name"], r["submitted"], r["required"], r["short"], r["has_prospects"])
        for r in body["results"]
    ] == [
        ("Consultant", 1, 3, True, True),
        ("Other_Consultant", 0, 1, True, True),
    ]
    for i in range(5):
        c = customer(cast.other_consultant, f"1370000{i:04d}", f"客户{i}")
        change_stage(actor=None, customer=c, stage="visited")
    submit(api, cast.other_consultant, (world.theirs, "B"))
    client = api(fresh(cast.region_manager))
    with django_assert_num_queries(7):
        response = client.get("/api/v1/key-customers/board/")
    assert [(r["name"], r["submitted"], r["required"]) for r in response.json()["results"]] == [
        ("Consultant", 1, 3),
        ("Other_Consultant", 1, 3),
    ]
    mine = api(fresh(cast.consultant)).get("/api/v1/key-customers/board/").json()["results"]
    assert [r["name"] for r in mine] == ["Consultant"]
    assert api(cast.promoter).get("/api/v1/key-customers/board/").json()["results"] == []
    bad = api(cast.manager).get("/api/v1/key-customers/board/", {"week": "next"})
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["week"]


def test_the_summary(cast: Any, api: Any, world: World, django_assert_num_queries: Any) -> None:
    rows = submit(
        api, cast.consultant, (world.mine, "H"), (world.mine2, "A"), (world.mine3, "B")
    ).json()
    api(cast.consultant).post(
        f"/api/v1/key-customers/{rows[0]['id']}/close/", {"status": "won"}, format="json"
    )
    api(cast.consultant).post(
        f"/api/v1/key-customers/{rows[1]['id']}/close/",
        {"status": "defeated", "reason": "价格太高"},
        format="json",
    )
    client = api(fresh(cast.manager))
    with django_assert_num_queries(4):  # roles, node, node ids, key customers
        body = client.get("/api/v1/key-customers/summary/").json()
    assert {
        k: body[k]
        for k in (
            "submitted",
            "won",
            "defeated",
            "open",
            "close_rate",
            "defeat_rate",
            "average_cycle_days",
        )
    } == {
        "submitted": 3,
        "won": 1,
        "defeated": 1,
        "open": 1,
        "close_rate": 33.3,
        "defeat_rate": 33.3,
        "average_cycle_days": 0.0,
    }
    assert [(w["customer_name"], w["reason"]) for w in body["defeats"]] == [("张四", "价格太高")]
    assert body["defeat_reasons"] == [{"reason": "价格太高", "count": 1}]
    assert [w["customer_name"] for w in body["wins"]] == ["张三"]
    empty = api(cast.other_manager).get("/api/v1/key-customers/summary/").json()
    assert (empty["submitted"], empty["close_rate"]) == (0, None)


def test_key_customer_list_query_count(
    cast: Any, api: Any, world: World, django_assert_num_queries: Any
) -> None:
    submit(api, cast.consultant, (world.mine, "H"))
    client = api(fresh(cast.manager))
    with django_assert_num_queries(5):  # roles, node, node ids, count, page
        small = client.get("/api/v1/key-customers/")
    for i in range(6):
        c = customer(cast.consultant, f"1360000{i:04d}", f"客户{i}")
        submit(api, cast.consultant, (c, "C"))
    client = api(fresh(cast.manager))
    with django_assert_num_queries(5):
        large = client.get("/api/v1/key-customers/")
    assert (small.json()["count"], large.json()["count"]) == (1, 7)


# --- value grades and settings ----------------------------------------------------------


def test_recompute_one_and_all(cast: Any, api: Any, world: World) -> None:
    from django_tasks_db.models import DBTaskResult

    record_purchase(
        actor=cast.consultant, customer=world.mine, product="住宅", amount=500, purchased_on=TODAY
    )
    one = api(cast.consultant).post(
        "/api/v1/value-grades/recompute/", {"customer": world.mine.pk}, format="json"
    )
    assert one.status_code == 200
    assert (one.json()["value_grade"], one.json()["value_explanation_text"]) == (
        "A",
        "A: this year's sales 500 are in the top 20% (at least 500).",
    )
    before = state()
    assert (
        api(cast.consultant).post("/api/v1/value-grades/recompute/", {}, format="json").json()
        == DENIED
    )
    other = api(cast.other_consultant).post(
        "/api/v1/value-grades/recompute/", {"customer": world.mine.pk}, format="json"
    )
    assert other.json() == invalid({"customer": [f"Unknown id {world.mine.pk}."]})
    assert state() == before
    queued = api(cast.manager).post("/api/v1/value-grades/recompute/", {}, format="json")
    assert (queued.status_code, queued.json()) == (202, {"queued": True})
    assert (
        DBTaskResult.objects.filter(
            task_path="kehu.grading.tasks.recompute_value_grades_task"
        ).count()
        == 1
    )


def test_settings(cast: Any, api: Any) -> None:
    got = api(cast.consultant).get("/api/v1/grading-settings/").json()
    assert {
        k: got[k]
        for k in (
            "horizon_h_days",
            "horizon_a_days",
            "horizon_b_days",
            "horizon_c_days",
            "weekly_minimum",
            "value_top_share",
            "value_growth",
        )
    } == {
        "horizon_h_days": 7,
        "horizon_a_days": 15,
        "horizon_b_days": 30,
        "horizon_c_days": 90,
        "weekly_minimum": 3,
        "value_top_share": 20,
        "value_growth": 10,
    }
    before = state()
    assert (
        api(cast.manager)
        .patch("/api/v1/grading-settings/", {"weekly_minimum": 2}, format="json")
        .json()
        == DENIED
    )
    bad = api(cast.admin).patch(
        "/api/v1/grading-settings/", {"weekly_minimum": 99, "grade": "E"}, format="json"
    )
    assert set(bad.json()["error"]["fields"]) == {"grade"}
    bad = api(cast.admin).patch("/api/v1/grading-settings/", {"weekly_minimum": 99}, format="json")
    assert bad.json() == invalid({"weekly_minimum": ["A whole number from 0 to 50."]})
    assert state() == before
    ok = api(cast.admin).patch("/api/v1/grading-settings/", {"horizon_h_days": 3}, format="json")
    assert ok.json()["horizon_h_days"] == 3


def test_the_schema_documents_the_routes(cast: Any, api: Any) -> None:
    schema = api(cast.admin).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = (
        schema.json()["paths"] if schema["content-type"].startswith("application/json") else None
    )
    if paths is not None:
        for route in (
            "/api/v1/intent-assessments/",
            "/api/v1/referral-assessments/",
            "/api/v1/key-customers/",
            "/api/v1/key-customers/board/",
            "/api/v1/key-customers/summary/",
            "/api/v1/value-grades/recompute/",
            "/api/v1/grading-settings/",
        ):
            assert route in paths
