"""API tests for follow-ups (跟进): who sees which, recording one (allowed, denied, bad
input), what a follow-up does to the customer, filters and query counts."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from kehu.activities.models import Activity
from kehu.activities.services import log_activity
from kehu.customers.models import Customer
from kehu.customers.tests.api_helpers import (  # noqa: F401 - fixtures
    DENIED,
    NOT_FOUND,
    VISIBLE_CUSTOMERS,
    World,
    everything,
    fast_passwords,
    fresh,
    invalid,
    last_event_pk,
    new_events,
    register,
    world_fixture,
)

URL = "/api/v1/activities/"
TOO_LONG = "Ensure this field has no more than {n} characters."


def local_iso(value: datetime.datetime) -> str:
    return timezone.localtime(value).isoformat()


@pytest.fixture
def followups(cast: Any, world: World) -> dict[str, Activity]:
    """One follow-up on each of the world's customers, keyed by the customer's name."""
    return {
        "mine": log_activity(
            actor=cast.consultant, customer=world.mine, kind="call", outcome="reached"
        ),
        "theirs": log_activity(actor=cast.other_consultant, customer=world.theirs, kind="visit"),
        "field": log_activity(actor=cast.manager, customer=world.field, kind="note", note="回访"),
        "referral": log_activity(actor=cast.admin, customer=world.referral, kind="message"),
        "hq": log_activity(actor=cast.admin, customer=world.hq, kind="call", outcome="no_answer"),
    }


@pytest.mark.parametrize("persona", sorted(VISIBLE_CUSTOMERS))
def test_each_persona_sees_the_follow_ups_of_the_customers_they_may_see(
    cast: Any, api: Any, followups: dict[str, Activity], persona: str
) -> None:
    client = api(fresh(cast.all()[persona]))
    response = client.get(URL)
    expected = {followups[name].pk for name in VISIBLE_CUSTOMERS[persona]}
    assert response.status_code == 200
    assert {a["id"] for a in response.json()["results"]} == expected
    for name, activity in followups.items():
        detail = client.get(f"{URL}{activity.pk}/")
        if name in VISIBLE_CUSTOMERS[persona]:
            assert (detail.status_code, detail.json()["id"]) == (200, activity.pk)
        else:
            assert (detail.status_code, detail.json()) == (404, NOT_FOUND)


def test_a_follow_up_as_listed(cast: Any, api: Any, followups: dict[str, Activity]) -> None:
    activity = followups["field"]
    assert api(fresh(cast.promoter)).get(URL).json()["results"] == [
        {
            "id": activity.pk,
            "customer": activity.customer_id,
            "staff": cast.manager.pk,
            "kind": "note",
            "outcome": "",
            "note": "回访",
            "occurred_at": local_iso(activity.occurred_at),
            "created_at": local_iso(activity.created_at),
        }
    ]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"customer": "{mine}"}, {"mine"}),
        ({"staff": "{admin}"}, {"referral", "hq"}),
        ({"kind": "call"}, {"mine", "hq"}),
        ({"outcome": "no_answer"}, {"hq"}),
        ({"kind": "call", "staff": "{consultant}"}, {"mine"}),
        ({"since": "{today}"}, {"mine", "theirs", "field", "referral", "hq"}),
        ({"until": "2020-01-01"}, set()),
    ],
)
def test_follow_up_filters(
    cast: Any, api: Any, world: World, followups: dict[str, Activity], query: dict, names: set
) -> None:
    values = {
        "mine": world.mine.pk,
        "admin": cast.admin.pk,
        "consultant": cast.consultant.pk,
        "today": timezone.localdate().isoformat(),
    }
    query = {k: v.format(**values) for k, v in query.items()}
    response = api(fresh(cast.admin)).get(URL, query)
    assert {a["id"] for a in response.json()["results"]} == {followups[n].pk for n in names}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (
            {"kind": "meeting"},
            {"kind": ["Select a valid choice. meeting is not one of the available choices."]},
        ),
        ({"customer": "x"}, {"customer": ["Enter a whole number."]}),
        ({"since": "yesterday"}, {"since": ["Enter a valid date."]}),
    ],
)
def test_bad_follow_up_filters_are_400(cast: Any, api: Any, query: dict, fields: dict) -> None:
    response = api(fresh(cast.admin)).get(URL, query)
    assert (response.status_code, response.json()) == (400, invalid(fields))


# --- recording a follow-up ------------------------------------------------------------------


def test_the_owner_records_a_visit_and_the_customer_moves_on(
    cast: Any, api: Any, world: World
) -> None:
    before = last_event_pk()
    response = api(fresh(cast.consultant)).post(
        URL,
        {
            "customer": world.mine.pk,
            "kind": "visit",
            "outcome": "interested",
            "note": "<p>看了样板间</p>",
        },
        format="json",
    )
    assert response.status_code == 201
    activity = Activity.objects.get()
    assert response.json() == {
        "id": activity.pk,
        "customer": world.mine.pk,
        "staff": cast.consultant.pk,
        "kind": "visit",
        "outcome": "interested",
        "note": "<p>看了样板间</p>",
        "occurred_at": local_iso(activity.occurred_at),
        "created_at": local_iso(activity.created_at),
    }
    customer = Customer.objects.get(pk=world.mine.pk)
    assert (customer.stage, customer.visit_count, customer.last_followup_at) == (
        "visited",
        1,
        activity.occurred_at,
    )
    assert [(e.action, e.source) for e in new_events(before)] == [
        ("activities.stage.change", "api"),
        ("activities.activity.log", "api"),
    ]


@pytest.mark.parametrize(
    ("persona", "name"), [("manager", "field"), ("region_manager", "theirs"), ("admin", "referral")]
)
def test_managers_and_admins_record_follow_ups_too(
    cast: Any, api: Any, world: World, persona: str, name: str
) -> None:
    when = timezone.now() - datetime.timedelta(days=2)
    response = api(fresh(cast.all()[persona])).post(
        URL,
        {"customer": getattr(world, name).pk, "kind": "call", "occurred_at": when.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    activity = Activity.objects.get()
    assert (activity.staff, activity.occurred_at, activity.outcome) == (
        cast.all()[persona],
        when,
        "",
    )


@pytest.mark.parametrize(
    ("persona", "name", "status", "expected"),
    [
        ("promoter", "field", 403, DENIED),
        ("commissioner", "mine", 403, DENIED),
        ("broker", "referral", 403, DENIED),
        ("other_consultant", "mine", 400, "unknown"),
        ("other_manager", "field", 400, "unknown"),
        ("consultant", "hq", 400, "unknown"),
    ],
)
def test_others_cannot_record_follow_ups(
    cast: Any, api: Any, world: World, persona: str, name: str, status: int, expected: Any
) -> None:
    customer = getattr(world, name)
    if expected == "unknown":  # a customer you may not see is unknown, like a missing one
        expected = invalid({"customer": [f"Unknown id {customer.pk}."]})
    before = everything()
    response = api(fresh(cast.all()[persona])).post(
        URL, {"customer": customer.pk, "kind": "call"}, format="json"
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


FUTURE = (timezone.now() + datetime.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {"kind": "meeting"},
            {
                "kind": [
                    '"meeting" is not a valid choice; choose one of: call, visit, message, note.'
                ]
            },
        ),
        ({"kind": None}, {"kind": ["This field may not be null."]}),
        ({"kind": ...}, {"kind": ["This field is required."]}),
        (
            {"outcome": "great"},
            {
                "outcome": [
                    '"great" is not a valid choice; choose one of: reached, no_answer, interested, not_interested, appointment, other.'
                ]
            },
        ),
        ({"note": "x" * 4001}, {"note": [TOO_LONG.format(n=4000)]}),
        ({"note": 42}, {"note": ["Expected text."]}),
        ({"occurred_at": FUTURE}, {"occurred_at": ["A follow-up cannot be in the future."]}),
        (
            {"occurred_at": "1999-12-31T23:00:00+08:00"},
            {"occurred_at": ["A follow-up cannot be before 2000."]},
        ),
        (
            {"occurred_at": "0001-01-01T00:00:00"},
            {"occurred_at": ["A follow-up cannot be before 2000."]},
        ),
        (
            {"occurred_at": "9999-12-31T23:59:59-10:00"},
            {"occurred_at": ["Datetime value out of range."]},
        ),
        (
            {"occurred_at": "9999-12-31T23:59:59"},
            {"occurred_at": ["A follow-up cannot be in the future."]},
        ),
        (
            {"occurred_at": "yesterday"},
            {
                "occurred_at": [
                    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        ({"customer": ...}, {"customer": ["This field is required."]}),
        ({"customer": "abc"}, {"customer": ["Expected an id (a whole number), got str."]}),
        ({"customer": 1.5}, {"customer": ["Expected an id (a whole number), got float."]}),
        ({"customer": 999999}, {"customer": ["Unknown id 999999."]}),
        ({"customer": 2**70}, {"customer": [f"Unknown id {2**70}."]}),
        (
            {"staff": 1},
            {
                "staff": [
                    "Unknown field, or one that cannot be changed here; valid: customer, kind, outcome, note, occurred_at."
                ]
            },
        ),
    ],
)
def test_a_bad_follow_up_says_what_to_fix_and_changes_nothing(
    cast: Any, api: Any, world: World, data: dict, fields: dict
) -> None:
    body = {"customer": world.mine.pk, "kind": "call", **data}
    body = {k: v for k, v in body.items() if v is not ...}
    before = everything()
    response = api(fresh(cast.consultant)).post(URL, body, format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


# --- query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "queries"), [("admin", 4), ("manager", 6), ("consultant", 4), ("promoter", 4)]
)
def test_list_query_count_does_not_grow_with_rows(
    cast: Any, api: Any, world: World, django_assert_num_queries: Any, persona: str, queries: int
) -> None:
    def grow() -> None:
        for _ in range(5):
            for actor, customer in (
                (cast.consultant, world.mine),
                (cast.manager, world.field),
                (cast.admin, world.hq),
            ):
                log_activity(actor=actor, customer=customer, kind="note", note="n")

    grow()
    with django_assert_num_queries(queries):
        small = api(fresh(cast.all()[persona])).get(URL, {"page_size": 200})
    grow()
    with django_assert_num_queries(queries):
        large = api(fresh(cast.all()[persona])).get(URL, {"page_size": 200})
    assert small.status_code == large.status_code == 200
    assert large.json()["count"] >= small.json()["count"] + 5


def test_a_new_customer_can_be_followed_up_at_once(cast: Any, api: Any) -> None:
    customer = register(cast.consultant, "13911112222").customer
    response = api(fresh(cast.consultant)).post(
        URL, {"customer": customer.pk, "kind": "message"}, format="json"
    )
    assert response.status_code == 201
