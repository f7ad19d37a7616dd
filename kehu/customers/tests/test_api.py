"""API tests for the customer archive: who sees which customer, the list's filters and
search (numbers masked for promoters and brokers), the customer page's data, every write
allowed and denied, the timeline, the duplicate check, tags and the completeness
configuration, and query counts.

Denied and invalid writes assert that no row of any table changed.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kehu.activities.services import log_activity
from kehu.customers import services
from kehu.customers.models import (
    Customer,
    CustomerPhone,
    MileageReading,
    Purchase,
    Relation,
    StageRequirement,
    Tag,
)
from kehu.customers.tests.api_helpers import (  # noqa: F401 - fixtures
    DENIED,
    NON_EDITORS,
    NOT_FOUND,
    NUMBERS,
    VISIBLE_CUSTOMERS,
    World,
    build_world,
    everything,
    fast_passwords,
    fresh,
    invalid,
    last_event_pk,
    new_events,
    register,
    world_fixture,
)
from kehu.leads.models import Registration
from kehu.leads.services import flag_fraud, resolve_conflict

URL = "/api/v1/customers/"
PERSONAS = sorted(VISIBLE_CUSTOMERS)
TOO_LONG = "Ensure this field has no more than {n} characters."


def local_iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_lists_exactly_the_customers_they_may_see(
    cast: Any, api: Any, world: World, persona: str
) -> None:
    response = api(fresh(cast.all()[persona])).get(URL)
    assert ids(response) == world.ids(*VISIBLE_CUSTOMERS[persona])
    assert response.json()["count"] == len(VISIBLE_CUSTOMERS[persona])


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(NUMBERS))
def test_each_customer_page_is_there_or_not_found_like_a_missing_one(
    cast: Any, api: Any, world: World, persona: str, name: str
) -> None:
    customer = getattr(world, name)
    client = api(fresh(cast.all()[persona]))
    for url in (f"{URL}{customer.pk}/", f"{URL}{customer.pk}/timeline/"):
        response = client.get(url)
        if name in VISIBLE_CUSTOMERS[persona]:
            assert response.status_code == 200
        else:
            assert (response.status_code, response.json()) == (404, NOT_FOUND)
    missing = client.get(f"{URL}999999/")
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


def test_a_merged_away_customer_is_gone(cast: Any, api: Any, world: World) -> None:
    Customer.objects.filter(pk=world.field.pk).update(merged_into=world.mine)
    assert ids(api(fresh(cast.manager)).get(URL)) == {world.mine.pk}
    assert api(fresh(cast.manager)).get(f"{URL}{world.field.pk}/").status_code == 404


def test_anonymous_is_401(cast: Any, api: Any, world: World) -> None:
    response = api(None).get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


# --- the customer's data --------------------------------------------------------------------


def test_the_customer_page_has_the_whole_archive(cast: Any, api: Any, world: World) -> None:
    mine = world.mine
    services.update_customer(
        actor=cast.consultant,
        customer=mine,
        gender="male",
        title="先生",
        age=40,
        lunar_birthday={"month": 8, "day": 15, "is_leap": False},
        address="浦东新区",
        profile={"occupation": "医生", "consultation": "三居室"},
    )
    services.add_phone(actor=cast.consultant, customer=mine, phone="13900000011")
    tag = services.ensure_tag(actor=cast.consultant, dimension="兴趣", name="高尔夫")
    services.set_tags(actor=cast.consultant, customer=mine, tags=[tag])
    services.add_relation(actor=cast.manager, customer=world.field, other=mine, kind="referred_by")
    services.add_relation(actor=cast.admin, customer=mine, other=world.theirs, kind="colleague")
    occasion = services.add_anniversary(
        actor=cast.consultant, customer=mine, label="结婚纪念日", date=datetime.date(2010, 5, 20)
    )
    mine.refresh_from_db()
    phones = list(CustomerPhone.objects.filter(customer=mine).order_by("pk"))
    relations = list(Relation.objects.order_by("pk"))
    body = api(fresh(cast.consultant)).get(f"{URL}{mine.pk}/").json()
    assert body == {
        "id": mine.pk,
        "kind": "person",
        "name": "张三",
        "title": "先生",
        "gender": "male",
        "phone": "+8613900000001",
        "stage": "left_phone",
        "lost_reason": "",
        "intent_grade": "",
        "relationship": "N",
        "visit_count": 0,
        "owner": cast.consultant.pk,
        "node": cast.team.pk,
        "registered_by": cast.consultant.pk,
        "channel": "phone",
        "protected_until": local_iso(mine.protected_until),
        "first_registered_at": local_iso(mine.first_registered_at),
        "last_followup_at": None,
        "tags": [{"id": tag.pk, "dimension": "兴趣", "name": "高尔夫"}],
        "completeness": {
            "score": mine.completeness,
            "stage": "first_call",
            "minimum": 0,
            "missing": [],
            "is_below": False,
        },
        "created_at": local_iso(mine.created_at),
        "updated_at": local_iso(mine.updated_at),
        "age": 40,
        "birthday": None,
        "lunar_birthday": {"month": 8, "day": 15, "is_leap": False},
        "address": "浦东新区",
        "wechat": "",
        "email": "",
        "profile": {"occupation": "医生", "consultation": "三居室"},
        "contribution_value": "0.00",
        "phones": [
            {"id": phones[0].pk, "number": "+8613900000001", "is_primary": True},
            {"id": phones[1].pk, "number": "+8613900000011", "is_primary": False},
        ],
        # The field customer is not the consultant's: its name is not shown.
        "relations": [
            {
                "id": relations[0].pk,
                "kind": "referred_by",
                "direction": "in",
                "other": world.field.pk,
                "other_name": None,
            },
            {
                "id": relations[1].pk,
                "kind": "colleague",
                "direction": "out",
                "other": world.theirs.pk,
                "other_name": None,
            },
        ],
        "anniversaries": [
            {"id": occasion.pk, "label": "结婚纪念日", "date": "2010-05-20", "lunar": None}
        ],
        "pooled_at": None,
        "previous_owner": None,
    }
    assert mine.completeness == 31  # 10 of the 32 tracked fields
    as_manager = api(fresh(cast.manager)).get(f"{URL}{mine.pk}/").json()["relations"]
    assert [r["other_name"] for r in as_manager] == ["王五", None]


def test_a_customer_below_its_stage_says_what_is_missing(cast: Any, api: Any, world: World) -> None:
    completeness = api(fresh(cast.consultant)).get(f"{URL}{world.mine.pk}/").json()["completeness"]
    assert completeness == {
        "score": 12,
        "stage": "first_call",
        "minimum": 0,
        "missing": ["gender", "consultation"],
        "is_below": True,
    }


@pytest.mark.parametrize(
    ("persona", "name", "phone"),
    [
        ("promoter", "field", "139****0003"),
        ("broker", "referral", "139****0004"),
        ("commissioner", "field", "+8613900000003"),
        ("manager", "field", "+8613900000003"),
        ("consultant", "mine", "+8613900000001"),
        ("admin", "referral", "+8613900000004"),
    ],
)
def test_promoters_and_brokers_see_numbers_masked(
    cast: Any, api: Any, world: World, persona: str, name: str, phone: str
) -> None:
    customer = getattr(world, name)
    client = api(fresh(cast.all()[persona]))
    listed = {row["id"]: row["phone"] for row in client.get(URL).json()["results"]}
    assert listed[customer.pk] == phone
    detail = client.get(f"{URL}{customer.pk}/").json()
    assert detail["phone"] == phone
    assert [p["number"] for p in detail["phones"]] == [phone]


# --- filters and search ---------------------------------------------------------------------


@pytest.fixture
def varied(cast: Any, world: World) -> dict[str, Any]:
    """Stages, grades, a tag, a sleeping customer and a complete one among the world."""
    tag = services.ensure_tag(actor=cast.admin, dimension="收入", name="高")
    services.set_tags(actor=cast.admin, customer=world.theirs, tags=[tag])
    log_activity(actor=cast.consultant, customer=world.mine, kind="visit")
    Customer.objects.filter(pk=world.field.pk).update(intent_grade="A")
    long_ago = timezone.now() - datetime.timedelta(days=45)
    Customer.objects.filter(pk=world.theirs.pk).update(first_registered_at=long_ago)
    Customer.objects.filter(pk=world.hq.pk).update(is_below_completeness=False)
    return {"tag": tag}


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({}, {"mine", "theirs", "field", "referral", "hq"}),
        ({"owner": "{consultant}"}, {"mine"}),
        ({"owner": "999999"}, set()),
        ({"team": "{team}"}, {"mine", "field"}),
        ({"team": "{region}"}, {"mine", "theirs", "field"}),
        ({"team": "{company}"}, {"mine", "theirs", "field", "hq"}),
        ({"team": "999999"}, set()),
        ({"stage": "visited"}, {"mine"}),
        ({"stage": "left_phone"}, {"theirs", "field", "referral", "hq"}),
        ({"intent_grade": "A"}, {"field"}),
        ({"tag": "{tag}"}, {"theirs"}),
        ({"tag": "999999"}, set()),
        ({"channel": "phone"}, {"mine", "theirs", "field", "referral", "hq"}),
        ({"channel": "tour"}, set()),
        ({"sleeping": "true"}, {"theirs"}),
        ({"sleeping": "false"}, {"mine", "field", "referral", "hq"}),
        ({"below_completeness": "false"}, {"hq"}),
        ({"below_completeness": "true", "team": "{team}"}, {"mine", "field"}),
        ({"q": "张"}, {"mine"}),
        ({"q": "0000000"}, {"mine", "theirs", "field", "referral", "hq"}),
        ({"q": "00003"}, {"field"}),
        ({"q": "+86 139 0000 0002"}, {"theirs"}),
        ({"q": "139-0000-0005"}, {"hq"}),
        ({"q": "赵六"}, {"referral"}),
        ({"q": "nobody"}, set()),
    ],
)
def test_customer_filters(
    cast: Any, api: Any, world: World, varied: dict, query: dict, names: set
) -> None:
    values = {
        "consultant": cast.consultant.pk,
        "team": cast.team.pk,
        "region": cast.region.pk,
        "company": cast.company.pk,
        "tag": varied["tag"].pk,
    }
    query = {k: v.format(**values) for k, v in query.items()}
    assert ids(api(fresh(cast.admin)).get(URL, query)) == world.ids(*names)


def test_the_sleeping_threshold_is_the_pool_settings(
    cast: Any, api: Any, world: World, varied: dict
) -> None:
    from kehu.leads.models import PoolSettings

    PoolSettings.objects.filter(pk=1).update(sleeping_days=60)
    assert ids(api(fresh(cast.admin)).get(URL, {"sleeping": "true"})) == set()


def test_filters_narrow_only_what_the_user_may_see(cast: Any, api: Any, world: World) -> None:
    client = api(fresh(cast.consultant))
    assert ids(client.get(URL, {"owner": cast.other_consultant.pk})) == set()
    assert ids(client.get(URL, {"team": cast.region.pk})) == {world.mine.pk}
    assert ids(client.get(URL, {"q": "13900000002"})) == set()


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("13900000003", True),  # the whole number, which they typed in
        ("+8613900000003", True),
        ("139", True),  # the visible head
        ("0003", True),  # the visible tail
        ("003", True),
        ("00000", False),  # reaches into the hidden middle
        ("9000", False),
        ("1390000", False),
        ("王五", True),
    ],
)
def test_a_promoter_finds_a_number_only_by_the_parts_they_can_see(
    cast: Any, api: Any, world: World, term: str, found: bool
) -> None:
    expected = {world.field.pk} if found else set()
    assert ids(api(fresh(cast.promoter)).get(URL, {"q": term})) == expected


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (
            {"stage": "won"},
            {"stage": ["Select a valid choice. won is not one of the available choices."]},
        ),
        (
            {"intent_grade": "E"},
            {"intent_grade": ["Select a valid choice. E is not one of the available choices."]},
        ),
        ({"owner": "me"}, {"owner": ["Enter a whole number."]}),
        ({"team": "1.5"}, {"team": ["Enter a whole number."]}),
        ({"tag": "0"}, {"tag": ["Ensure this value is greater than or equal to 1."]}),
        ({"q": "x" * 101}, {"q": ["Ensure this value has at most 100 characters (it has 101)."]}),
        ({"ordering": "phone"}, None),
    ],
)
def test_bad_filters_are_400(
    cast: Any, api: Any, world: World, query: dict, fields: dict | None
) -> None:
    response = api(fresh(cast.admin)).get(URL, query)
    if fields is None:  # an unknown ordering is ignored, as DRF does
        assert ids(response) == world.ids(*VISIBLE_CUSTOMERS["admin"])
    else:
        assert (response.status_code, response.json()) == (400, invalid(fields))


def test_ordering_and_pagination(cast: Any, api: Any, world: World) -> None:
    client = api(fresh(cast.admin))
    by_name = client.get(URL, {"ordering": "name"}).json()["results"]
    assert [c["name"] for c in by_name] == sorted(c["name"] for c in by_name)
    page = client.get(URL, {"page_size": 2, "page": 3}).json()
    assert (page["count"], len(page["results"]), page["next"]) == (5, 1, None)
    assert [c["id"] for c in page["results"]] == [world.mine.pk]  # newest first


# --- editing the profile --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "name"),
    [
        ("consultant", "mine"),
        ("manager", "mine"),
        ("region_manager", "theirs"),
        ("admin", "referral"),
        ("manager", "field"),
    ],
)
def test_owners_managers_and_admins_edit_the_profile(
    cast: Any, api: Any, world: World, persona: str, name: str
) -> None:
    customer = getattr(world, name)
    before = last_event_pk()
    response = api(fresh(cast.all()[persona])).patch(
        f"{URL}{customer.pk}/",
        {
            "name": "<b>新名字</b>",
            "gender": "female",
            "birthday": "1985-03-02",
            "email": "a@example.com",
            "profile": {"occupation": "教师", "budget": "300万"},
        },
        format="json",
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.gender, customer.birthday, customer.email) == (
        "<b>新名字</b>",
        "female",
        datetime.date(1985, 3, 2),
        "a@example.com",
    )
    assert customer.profile == {"occupation": "教师", "budget": "300万"}
    assert response.json()["name"] == "<b>新名字</b>"
    assert response.json()["profile"] == customer.profile
    events = new_events(before)
    assert [(e.action, e.actor_id, e.source) for e in events] == [
        ("customers.customer.update", cast.all()[persona].pk, "api")
    ]
    assert events[0].before["name"] != events[0].after["name"] == "<b>新名字</b>"


def test_a_profile_key_set_to_null_is_removed(cast: Any, api: Any, world: World) -> None:
    client = api(fresh(cast.consultant))
    client.patch(
        f"{URL}{world.mine.pk}/", {"profile": {"occupation": "医生", "budget": "1"}}, format="json"
    )
    response = client.patch(f"{URL}{world.mine.pk}/", {"profile": {"budget": None}}, format="json")
    assert response.json()["profile"] == {"occupation": "医生"}


@pytest.mark.parametrize(
    ("persona", "name", "status", "expected"),
    [
        ("promoter", "field", 403, DENIED),
        ("broker", "referral", 403, DENIED),
        ("commissioner", "mine", 403, DENIED),
        ("other_consultant", "mine", 404, NOT_FOUND),
        ("consultant", "field", 404, NOT_FOUND),
        ("other_manager", "mine", 404, NOT_FOUND),
        ("region_manager", "hq", 404, NOT_FOUND),
    ],
)
def test_others_cannot_edit_the_profile(
    cast: Any, api: Any, world: World, persona: str, name: str, status: int, expected: dict
) -> None:
    before = everything()
    response = api(fresh(cast.all()[persona])).patch(
        f"{URL}{getattr(world, name).pk}/", {"name": "改"}, format="json"
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


def test_put_is_not_allowed(cast: Any, api: Any, world: World) -> None:
    before = everything()
    response = api(fresh(cast.consultant)).put(
        f"{URL}{world.mine.pk}/", {"name": "改"}, format="json"
    )
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert everything() == before


EDITABLE = "kind, name, title, gender, age, birthday, lunar_birthday, address, wechat, email, profile, relationship"


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"name": "x" * 101}, {"name": [TOO_LONG.format(n=100)]}),
        ({"name": 12}, {"name": ["Expected text."]}),
        ({"title": "x" * 21}, {"title": [TOO_LONG.format(n=20)]}),
        ({"address": "x" * 201}, {"address": [TOO_LONG.format(n=200)]}),
        ({"wechat": ["w"]}, {"wechat": ["Expected text."]}),
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        (
            {"kind": "robot"},
            {"kind": ['"robot" is not a valid choice; choose one of: person, organisation.']},
        ),
        (
            {"gender": "M"},
            {"gender": ['"M" is not a valid choice; choose one of: male, female, unknown.']},
        ),
        (
            {"relationship": "X"},
            {"relationship": ['"X" is not a valid choice; choose one of: N, Y, M, O, VIP.']},
        ),
        ({"age": 151}, {"age": ["Ensure this value is less than or equal to 150."]}),
        ({"age": -1}, {"age": ["Ensure this value is greater than or equal to 0."]}),
        ({"age": "40"}, {"age": ["Expected a whole number."]}),
        ({"age": 40.5}, {"age": ["Expected a whole number."]}),
        ({"age": True}, {"age": ["Expected a whole number."]}),
        (
            {"birthday": "1985-02-30"},
            {"birthday": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
        ),
        ({"birthday": "1800-01-01"}, {"birthday": ["A birthday is between 1900-01-01 and today."]}),
        ({"birthday": "2999-01-01"}, {"birthday": ["A birthday is between 1900-01-01 and today."]}),
        (
            {"lunar_birthday": {"month": 13, "day": 1}},
            {"lunar_birthday.month": ["Ensure this value is less than or equal to 12."]},
        ),
        (
            {"lunar_birthday": {"month": 1, "day": 31}},
            {"lunar_birthday.day": ["Ensure this value is less than or equal to 30."]},
        ),
        (
            {"lunar_birthday": {"month": "1", "day": 1}},
            {"lunar_birthday.month": ["Expected a whole number."]},
        ),
        (
            {"lunar_birthday": {"month": 1, "day": 1, "is_leap": "no"}},
            {"lunar_birthday.is_leap": ["Must be true or false."]},
        ),
        (
            {"lunar_birthday": {"month": 1, "day": 1, "year": 1990}},
            {
                "lunar_birthday.year": [
                    "Unknown field, or one that cannot be changed here; valid: month, day, is_leap."
                ]
            },
        ),
        (
            {"lunar_birthday": "八月十五"},
            {
                "lunar_birthday.non_field_errors": [
                    "Invalid data. Expected a dictionary, but got str."
                ]
            },
        ),
        (
            {"profile": ["医生"]},
            {"profile": ['Expected a dictionary of items but got type "list".']},
        ),
        (
            {"profile": {"salary": "1"}},
            {
                "profile": [
                    "Unknown profile fields: salary; valid: native_place, consultation, family_structure, occupation, industry, employer, position, income, cars, investments, housing, purchase_history, family_relations, hobbies, character, interests, circle, purpose, needs, budget, intended_product, scale, cash_flow, market_position, credit_record, decision_makers."
                ]
            },
        ),
        (
            {"profile": {"needs": "x" * 501}},
            {"profile": ["At most 500 characters per field: needs."]},
        ),
        (
            {"owner": 1},
            {"owner": [f"Unknown field, or one that cannot be changed here; valid: {EDITABLE}."]},
        ),
        (
            {"stage": "deal", "name": "ok"},
            {"stage": [f"Unknown field, or one that cannot be changed here; valid: {EDITABLE}."]},
        ),
    ],
)
def test_a_bad_edit_says_what_to_fix_and_changes_nothing(
    cast: Any, api: Any, world: World, data: dict, fields: dict
) -> None:
    before = everything()
    response = api(fresh(cast.consultant)).patch(f"{URL}{world.mine.pk}/", data, format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


# --- numbers --------------------------------------------------------------------------------


def test_the_owner_adds_and_removes_a_number(cast: Any, api: Any, world: World) -> None:
    client = api(fresh(cast.consultant))
    before = last_event_pk()
    added = client.post(
        f"{URL}{world.mine.pk}/phones/", {"phone": "0086 139 0000 0021"}, format="json"
    )
    assert added.status_code == 201
    row = CustomerPhone.objects.get(number="+8613900000021")
    assert (row.customer_id, row.digits, row.is_primary) == (world.mine.pk, "13900000021", False)
    assert [p["number"] for p in added.json()["phones"]] == ["+8613900000001", "+8613900000021"]
    removed = client.delete(f"{URL}{world.mine.pk}/phones/{row.pk}/")
    assert removed.status_code == 204
    assert list(
        CustomerPhone.objects.filter(customer=world.mine).values_list("number", flat=True)
    ) == ["+8613900000001"]
    assert [e.action for e in new_events(before)] == [
        "customers.phone.add",
        "customers.phone.remove",
    ]


@pytest.mark.parametrize(
    ("phone", "fields"),
    [
        ("13900000002", {"phone": ["This number already belongs to another customer."]}),
        ("13900000001", {"phone": ["This number already belongs to another customer."]}),
        ("1390000002", {"phone": ["A mainland mobile number has 11 digits; this one has 10."]}),
        ("139000000021", {"phone": ["A mainland mobile number has 11 digits; this one has 12."]}),
        (
            "139abc00021",
            {"phone": ["A phone number may contain only digits, spaces, dashes and a leading +."]},
        ),
        (
            "11100000021",
            {"phone": ["This number does not exist: check the prefix and the number of digits."]},
        ),
        (13900000021, {"phone": ["Expected text."]}),
        ("1" * 33, {"phone": [TOO_LONG.format(n=32)]}),
    ],
)
def test_a_bad_number_changes_nothing(
    cast: Any, api: Any, world: World, phone: Any, fields: dict
) -> None:
    before = everything()
    response = api(fresh(cast.consultant)).post(
        f"{URL}{world.mine.pk}/phones/", {"phone": phone}, format="json"
    )
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


def test_the_last_number_stays(cast: Any, api: Any, world: World) -> None:
    row = CustomerPhone.objects.get(customer=world.mine)
    before = everything()
    response = api(fresh(cast.consultant)).delete(f"{URL}{world.mine.pk}/phones/{row.pk}/")
    assert (response.status_code, response.json()) == (
        400,
        invalid({"phone": ["A customer keeps at least one number."]}),
    )
    assert everything() == before


@pytest.mark.parametrize(
    "phone_id", ["{theirs_phone}", "999999", "9223372036854775808", "9999999999999999999"]
)
def test_removing_a_number_of_another_customer_is_404(
    cast: Any, api: Any, world: World, phone_id: str
) -> None:
    services.add_phone(actor=None, customer=world.mine, phone="13900000021")
    theirs_phone = CustomerPhone.objects.get(customer=world.theirs).pk
    before = everything()
    url = f"{URL}{world.mine.pk}/phones/{phone_id.format(theirs_phone=theirs_phone)}/"
    response = api(fresh(cast.admin)).delete(url)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert everything() == before


@pytest.mark.parametrize(("persona", "name", "status", "expected"), NON_EDITORS)
def test_others_cannot_add_or_remove_numbers(
    cast: Any, api: Any, world: World, persona: str, name: str, status: int, expected: dict
) -> None:
    customer = getattr(world, name)
    services.add_phone(actor=None, customer=customer, phone="13900000031")
    row = CustomerPhone.objects.get(number="+8613900000031")
    before = everything()
    client = api(fresh(cast.all()[persona]))
    added = client.post(f"{URL}{customer.pk}/phones/", {"phone": "13900000032"}, format="json")
    removed = client.delete(f"{URL}{customer.pk}/phones/{row.pk}/")
    assert (added.status_code, added.json()) == (status, expected)
    assert (removed.status_code, removed.json()) == (status, expected)
    assert everything() == before


# --- purchases and mileage readings -----------------------------------------------------------


def bought(customer: Customer, days_ago: int = 60) -> Purchase:
    return services.record_purchase(
        actor=None,
        customer=customer,
        product="宝马 X3",
        amount=Decimal("300000"),
        purchased_on=timezone.localdate() - datetime.timedelta(days=days_ago),
    )


def mileage_url(customer: Customer, purchase: Any) -> str:
    return f"{URL}{customer.pk}/purchases/{getattr(purchase, 'pk', purchase)}/mileage-readings/"


def test_the_owner_records_the_mileage_and_lists_it(cast: Any, api: Any, world: World) -> None:
    purchase = bought(world.mine)
    today = timezone.localdate()
    client = api(fresh(cast.consultant))
    before = last_event_pk()
    response = client.post(
        mileage_url(world.mine, purchase),
        {"km": 4200, "read_on": today.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    row = MileageReading.objects.get()
    assert response.json() == {
        "id": row.pk,
        "km": 4200,
        "read_on": today.isoformat(),
        "recorded_by": cast.consultant.pk,
        "created_at": local_iso(row.created_at),
    }
    assert [(e.action, e.after["km"]) for e in new_events(before)] == [
        ("customers.mileage.add", 4200)
    ]
    listed = client.get(f"{URL}{world.mine.pk}/purchases/")
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "id": purchase.pk,
            "product": "宝马 X3",
            "amount": "300000.00",
            "purchased_on": purchase.purchased_on.isoformat(),
            "mileage_readings": [response.json()],
        }
    ]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"km": -1, "read_on": "{today}"}, {"km": ["The kilometres are a whole number from 0 to 2000000."]}),
        ({"km": "4000", "read_on": "{today}"}, {"km": ["Expected a whole number."]}),
        ({"km": 2999, "read_on": "{today}"}, {"km": ["An earlier reading already shows 3000 km; a reading cannot be lower."]}),
        ({"km": 4000, "read_on": "{tomorrow}"}, {"read_on": ["A reading cannot be dated in the future."]}),
        ({"km": 4000, "read_on": "{before}"}, {"read_on": ["A reading cannot be dated before the purchase."]}),
        ({"km": 4000, "read_on": "2026-02-30"}, {"read_on": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
        ({"km": 4000}, {"read_on": ["This field is required."]}),
        ({"km": 4000, "read_on": "{today}", "purchase": 1}, {"purchase": ["Unknown field, or one that cannot be changed here; valid: km, read_on."]}),
    ],
)  # fmt: skip
def test_bad_readings_are_400_naming_the_field(
    cast: Any, api: Any, world: World, body: dict, fields: dict
) -> None:
    purchase = bought(world.mine)
    today = timezone.localdate()
    services.record_mileage(actor=None, purchase=purchase, km=3000, read_on=today)
    days = {
        "today": today,
        "tomorrow": today + datetime.timedelta(days=1),
        "before": purchase.purchased_on - datetime.timedelta(days=1),
    }
    body = {
        k: v.format(**{n: d.isoformat() for n, d in days.items()}) if isinstance(v, str) else v
        for k, v in body.items()
    }
    before = everything()
    response = api(fresh(cast.consultant)).post(
        mileage_url(world.mine, purchase), body, format="json"
    )
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


@pytest.mark.parametrize(("persona", "name", "status", "expected"), NON_EDITORS)
def test_others_cannot_record_the_mileage(
    cast: Any, api: Any, world: World, persona: str, name: str, status: int, expected: dict
) -> None:
    customer = getattr(world, name)
    purchase = bought(customer)
    before = everything()
    response = api(fresh(cast.all()[persona])).post(
        mileage_url(customer, purchase),
        {"km": 1000, "read_on": timezone.localdate().isoformat()},
        format="json",
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


@pytest.mark.parametrize("purchase_id", ["{theirs}", "999999", "9223372036854775808"])
def test_a_purchase_of_another_customer_is_404(
    cast: Any, api: Any, world: World, purchase_id: str
) -> None:
    bought(world.mine)
    theirs = bought(world.theirs)
    before = everything()
    response = api(fresh(cast.admin)).post(
        mileage_url(world.mine, purchase_id.format(theirs=theirs.pk)),
        {"km": 1000, "read_on": timezone.localdate().isoformat()},
        format="json",
    )
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert everything() == before


def purchases_url(customer: Customer) -> str:
    return f"{URL}{customer.pk}/purchases/"


def a_sale(**changes: Any) -> dict[str, Any]:
    day = timezone.localdate() - datetime.timedelta(days=30)
    return {"product": "宝马 X3", "amount": "300000.50", "purchased_on": day.isoformat()} | changes


@pytest.mark.parametrize("persona", ["consultant", "manager", "region_manager", "admin"])
def test_who_may_edit_records_a_purchase(cast: Any, api: Any, world: World, persona: str) -> None:
    client = api(fresh(cast.all()[persona]))
    before = last_event_pk()
    response = client.post(purchases_url(world.mine), a_sale(amount=1999.9), format="json")
    assert response.status_code == 201, response.content
    row = Purchase.objects.get()
    expected = {
        "id": row.pk,
        "product": "宝马 X3",
        "amount": "1999.90",
        "purchased_on": (timezone.localdate() - datetime.timedelta(days=30)).isoformat(),
        "mileage_readings": [],
    }
    assert response.json() == expected
    assert (row.customer_id, row.amount) == (world.mine.pk, Decimal("1999.90"))
    assert [(e.action, e.object_id) for e in new_events(before)] == [
        ("customers.purchase.add", str(world.mine.pk))
    ]
    assert client.get(purchases_url(world.mine)).json() == [expected]


def test_a_recorded_purchase_moves_the_contribution_and_builds_reminders(
    cast: Any, api: Any, world: World
) -> None:
    from kehu.occasions.models import LifecycleReminder

    client = api(fresh(cast.consultant))
    first = client.post(purchases_url(world.mine), a_sale(amount="100000"), format="json")
    assert first.status_code == 201, first.content
    world.mine.refresh_from_db()
    assert world.mine.contribution_value == Decimal("0")  # the first purchase is not a repeat
    reminders = LifecycleReminder.objects.filter(purchase_id=first.json()["id"])
    assert {r.rule.kind for r in reminders.select_related("rule")} == {"service", "insurance"}
    assert {(r.customer_id, r.owner_id) for r in reminders} == {(world.mine.pk, cast.consultant.pk)}
    second = client.post(purchases_url(world.mine), a_sale(amount=2500), format="json")
    assert second.status_code == 201, second.content
    world.mine.refresh_from_db()
    assert world.mine.contribution_value == Decimal("2500")
    assert LifecycleReminder.objects.filter(purchase_id=second.json()["id"]).exists()


def test_a_purchase_counts_for_who_referred_the_customer(cast: Any, api: Any, world: World) -> None:
    services.add_relation(actor=None, customer=world.mine, other=world.hq, kind="referred_by")
    response = api(fresh(cast.consultant)).post(
        purchases_url(world.mine), a_sale(amount=800), format="json"
    )
    assert response.status_code == 201, response.content
    world.hq.refresh_from_db()
    assert world.hq.contribution_value == Decimal("800")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"product": None}, {"product": ["This field is required."]}),
        ({"product": ""}, {"product": ["Name the product (at most 100 characters)."]}),
        ({"product": "x" * 101}, {"product": ["Name the product (at most 100 characters)."]}),
        ({"product": 12}, {"product": ["Expected text."]}),
        ({"amount": -1}, {"amount": ["The amount cannot be negative."]}),
        ({"amount": "-0.01"}, {"amount": ["The amount cannot be negative."]}),
        ({"amount": "abc"}, {"amount": ["Enter an amount in yuan, for example 7950."]}),
        ({"amount": True}, {"amount": ["Enter an amount in yuan, for example 7950."]}),
        ({"amount": [1]}, {"amount": ["Enter an amount in yuan, for example 7950."]}),
        ({"amount": "1.005"}, {"amount": ["An amount is below 1,000,000,000,000 yuan, with at most 2 decimals."]}),
        ({"amount": 1e12}, {"amount": ["An amount is below 1,000,000,000,000 yuan, with at most 2 decimals."]}),
        ({"amount": None}, {"amount": ["This field is required."]}),
        ({"purchased_on": "{tomorrow}"}, {"purchased_on": ["A purchase cannot be dated in the future."]}),
        ({"purchased_on": "1899-12-31"}, {"purchased_on": ["A purchase cannot be dated before 1900."]}),
        ({"purchased_on": "2026/03/01"}, {"purchased_on": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
        ({"customer": 1}, {"customer": ["Unknown field, or one that cannot be changed here; valid: product, amount, purchased_on."]}),
    ],
)  # fmt: skip
def test_bad_purchases_are_400_naming_the_field(
    cast: Any, api: Any, world: World, changes: dict, fields: dict
) -> None:
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    body = {
        k: v.format(tomorrow=tomorrow) if isinstance(v, str) else v
        for k, v in a_sale(**changes).items()
        if v is not None
    }
    before = everything()
    response = api(fresh(cast.consultant)).post(purchases_url(world.mine), body, format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


def test_purchase_errors_come_in_the_request_language(cast: Any, api: Any, world: World) -> None:
    before = everything()
    response = api(fresh(cast.consultant), language="zh-hans").post(
        purchases_url(world.mine), a_sale(amount=-5), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"amount": ["金额不能为负数。"]}
    assert everything() == before


@pytest.mark.parametrize(("persona", "name", "status", "expected"), NON_EDITORS)
def test_others_cannot_record_a_purchase(
    cast: Any, api: Any, world: World, persona: str, name: str, status: int, expected: dict
) -> None:
    customer = getattr(world, name)
    before = everything()
    response = api(fresh(cast.all()[persona])).post(
        purchases_url(customer), a_sale(), format="json"
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


def test_recording_a_purchase_costs_the_same_queries_however_many_there_are(
    cast: Any, api: Any, world: World
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(fresh(cast.consultant))
    # The first write warms what is read once per process (the life-cycle rules, content
    # types), so the two measured writes compare like with like.
    assert client.post(purchases_url(world.mine), a_sale(), format="json").status_code == 201
    counts = []
    for existing in (1, 6):
        for _ in range(existing):
            bought(world.mine, days_ago=400)
        with CaptureQueriesContext(connection) as queries:
            response = client.post(purchases_url(world.mine), a_sale(), format="json")
        assert response.status_code == 201, response.content
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_schema_documents_the_mileage_routes(cast: Any, api: Any) -> None:
    schema = api(cast.admin).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    if not schema["content-type"].startswith("application/json"):
        import yaml

        document = yaml.safe_load(schema.content)
    else:
        document = schema.json()
    paths = document["paths"]
    post = paths["/api/v1/customers/{id}/purchases/{purchase_id}/mileage-readings/"]["post"]
    assert set(post["responses"]) >= {"201"}
    assert "requestBody" in post
    listing = paths["/api/v1/customers/{id}/purchases/"]
    assert listing["get"]["responses"]["200"]["content"]["application/json"]["schema"]["type"] == (
        "array"
    )
    assert "201" in listing["post"]["responses"]
    assert "200" not in listing["post"]["responses"]
    request_body = listing["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert request_body == {"$ref": "#/components/schemas/PurchaseCreateRequest"}
    component = document["components"]["schemas"]["PurchaseCreateRequest"]
    assert set(component["required"]) == {"product", "amount", "purchased_on"}


# --- tags -----------------------------------------------------------------------------------


@pytest.fixture
def tags(cast: Any) -> list[Tag]:
    return [
        services.ensure_tag(actor=None, dimension="兴趣", name="高尔夫"),
        services.ensure_tag(actor=None, dimension="收入", name="高"),
        services.ensure_tag(actor=None, dimension="兴趣", name="钓鱼"),
    ]


def test_the_owner_sets_the_tags(cast: Any, api: Any, world: World, tags: list[Tag]) -> None:
    client = api(fresh(cast.consultant))
    before = last_event_pk()
    response = client.put(
        f"{URL}{world.mine.pk}/tags/", {"tags": [tags[1].pk, tags[0].pk, tags[1].pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["tags"] == [
        {"id": tags[0].pk, "dimension": "兴趣", "name": "高尔夫"},
        {"id": tags[1].pk, "dimension": "收入", "name": "高"},
    ]
    cleared = client.put(f"{URL}{world.mine.pk}/tags/", {"tags": []}, format="json")
    assert (cleared.status_code, cleared.json()["tags"]) == (200, [])
    assert [(e.action, e.after) for e in new_events(before)] == [
        ("customers.customer.tags", {"tags": sorted([tags[0].pk, tags[1].pk])}),
        ("customers.customer.tags", {"tags": []}),
    ]


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"tags": [999999]}, {"tags": ["Unknown id 999999."]}),
        ({"tags": ["1"]}, {"tags.0": ["Expected an id (a whole number)."]}),
        ({"tags": [1.0]}, {"tags.0": ["Expected an id (a whole number)."]}),
        ({"tags": [0]}, {"tags.0": ["Ensure this value is greater than or equal to 1."]}),
        ({"tags": 1}, {"tags": ['Expected a list of items but got type "int".']}),
        (
            {"tags": list(range(1, 102))},
            {"tags": ["Ensure this field has no more than 100 elements."]},
        ),
        ({}, {"tags": ["This field is required."]}),
    ],
)
def test_bad_tags_change_nothing(
    cast: Any, api: Any, world: World, tags: list[Tag], data: dict, fields: dict
) -> None:
    before = everything()
    response = api(fresh(cast.consultant)).put(f"{URL}{world.mine.pk}/tags/", data, format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


@pytest.mark.parametrize(
    ("persona", "name", "status", "expected"),
    [
        ("promoter", "field", 403, DENIED),
        ("commissioner", "field", 403, DENIED),
        ("other_consultant", "mine", 404, NOT_FOUND),
        ("broker", "mine", 404, NOT_FOUND),
    ],
)
def test_others_cannot_set_tags(
    cast: Any,
    api: Any,
    world: World,
    tags: list[Tag],
    persona: str,
    name: str,
    status: int,
    expected: dict,
) -> None:
    before = everything()
    response = api(fresh(cast.all()[persona])).put(
        f"{URL}{getattr(world, name).pk}/tags/", {"tags": [tags[0].pk]}, format="json"
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_lists_the_tags(cast: Any, api: Any, tags: list[Tag], persona: str) -> None:
    client = api(fresh(cast.all()[persona]))
    response = client.get("/api/v1/tags/")
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": tags[2].pk, "dimension": "兴趣", "name": "钓鱼"},
        {"id": tags[0].pk, "dimension": "兴趣", "name": "高尔夫"},
        {"id": tags[1].pk, "dimension": "收入", "name": "高"},
    ]
    assert [
        t["id"] for t in client.get("/api/v1/tags/", {"dimension": "收入"}).json()["results"]
    ] == [tags[1].pk]
    assert [t["id"] for t in client.get("/api/v1/tags/", {"q": "鱼"}).json()["results"]] == [
        tags[2].pk
    ]


@pytest.mark.parametrize("persona", ["admin", "manager", "consultant"])
def test_owners_and_managers_add_tags(cast: Any, api: Any, persona: str) -> None:
    client = api(fresh(cast.all()[persona]))
    before = last_event_pk()
    created = client.post(
        "/api/v1/tags/", {"dimension": " 性格 ", "name": "<i>爽快</i>"}, format="json"
    )
    tag = Tag.objects.get()
    assert (created.status_code, created.json()) == (
        201,
        {"id": tag.pk, "dimension": "性格", "name": "<i>爽快</i>"},
    )
    again = client.post(
        "/api/v1/tags/", {"dimension": "性格", "name": "<i>爽快</i>"}, format="json"
    )
    assert (again.status_code, again.json()) == (200, created.json())
    assert [e.action for e in new_events(before)] == ["customers.tag.create"]


@pytest.mark.parametrize("persona", ["commissioner", "promoter", "broker"])
def test_others_cannot_add_tags(cast: Any, api: Any, persona: str) -> None:
    before = everything()
    response = api(fresh(cast.all()[persona])).post(
        "/api/v1/tags/", {"dimension": "性格", "name": "爽快"}, format="json"
    )
    assert (response.status_code, response.json()) == (403, DENIED)
    assert everything() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"dimension": "性格"}, {"name": ["This field is required."]}),
        ({"dimension": "", "name": "x"}, {"dimension": ["This field may not be blank."]}),
        ({"dimension": "x" * 51, "name": "x"}, {"dimension": [TOO_LONG.format(n=50)]}),
        ({"dimension": "x", "name": 5}, {"name": ["Expected text."]}),
        (
            {"dimension": "x", "name": "y", "id": 3},
            {"id": ["Unknown field, or one that cannot be changed here; valid: dimension, name."]},
        ),
    ],
)
def test_a_bad_tag_changes_nothing(cast: Any, api: Any, data: dict, fields: dict) -> None:
    before = everything()
    response = api(fresh(cast.admin)).post("/api/v1/tags/", data, format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


# --- relations ------------------------------------------------------------------------------


def test_a_manager_records_who_referred_whom(cast: Any, api: Any, world: World) -> None:
    before = last_event_pk()
    response = api(fresh(cast.manager)).post(
        f"{URL}{world.field.pk}/relations/",
        {"other": world.mine.pk, "kind": "referred_by"},
        format="json",
    )
    assert response.status_code == 201
    relation = Relation.objects.get()
    assert (relation.from_customer, relation.to_customer, relation.kind) == (
        world.field,
        world.mine,
        "referred_by",
    )
    assert response.json()["relations"] == [
        {
            "id": relation.pk,
            "kind": "referred_by",
            "direction": "out",
            "other": world.mine.pk,
            "other_name": "张三",
        }
    ]
    assert [e.action for e in new_events(before)] == ["customers.relation.add"]


UNKNOWN_OTHER = "unknown other"


@pytest.mark.parametrize(
    ("persona", "name", "other", "status", "expected"),
    [
        ("consultant", "mine", "theirs", 400, UNKNOWN_OTHER),
        (
            "consultant",
            "mine",
            "mine",
            400,
            invalid({"other": ["A customer cannot be related to themselves."]}),
        ),
        ("promoter", "field", "field", 403, DENIED),
        ("commissioner", "mine", "field", 403, DENIED),
        ("other_consultant", "mine", "theirs", 404, NOT_FOUND),
    ],
)
def test_relations_that_cannot_be_made(
    cast: Any,
    api: Any,
    world: World,
    persona: str,
    name: str,
    other: str,
    status: int,
    expected: Any,
) -> None:
    other_pk = getattr(world, other).pk
    if expected == UNKNOWN_OTHER:  # a customer you may not see is unknown
        expected = invalid({"other": [f"Unknown id {other_pk}."]})
    before = everything()
    response = api(fresh(cast.all()[persona])).post(
        f"{URL}{getattr(world, name).pk}/relations/",
        {"other": other_pk, "kind": "family"},
        format="json",
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {"other": "field", "kind": "friend"},
            {
                "kind": [
                    '"friend" is not a valid choice; choose one of: referred_by, family, colleague.'
                ]
            },
        ),
        (
            {"other": "abc", "kind": "family"},
            {"other": ["Expected an id (a whole number), got str."]},
        ),
        (
            {"other": 1.5, "kind": "family"},
            {"other": ["Expected an id (a whole number), got float."]},
        ),
        (
            {"other": True, "kind": "family"},
            {"other": ["Expected an id (a whole number), got bool."]},
        ),
        ({"other": 999999, "kind": "family"}, {"other": ["Unknown id 999999."]}),
        ({"kind": "family"}, {"other": ["This field is required."]}),
    ],
)
def test_bad_relations_change_nothing(
    cast: Any, api: Any, world: World, data: dict, fields: dict
) -> None:
    if data.get("other") == "field":
        data = {**data, "other": world.field.pk}
    before = everything()
    response = api(fresh(cast.manager)).post(
        f"{URL}{world.mine.pk}/relations/", data, format="json"
    )
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


# --- the funnel -----------------------------------------------------------------------------


def test_the_owner_moves_the_customer_through_the_funnel(cast: Any, api: Any, world: World) -> None:
    client = api(fresh(cast.consultant))
    before = last_event_pk()
    pledged = client.post(f"{URL}{world.mine.pk}/stage/", {"stage": "pledged"}, format="json")
    assert (pledged.status_code, pledged.json()["stage"]) == (200, "pledged")
    lost = client.post(
        f"{URL}{world.mine.pk}/stage/", {"stage": "lost", "reason": "price"}, format="json"
    )
    assert (lost.json()["stage"], lost.json()["lost_reason"]) == ("lost", "price")
    assert list(world.mine.stage_changes.order_by("pk").values_list("from_stage", "to_stage")) == [
        ("", "left_phone"),
        ("left_phone", "pledged"),
        ("pledged", "lost"),
    ]
    assert [e.action for e in new_events(before)] == [
        "activities.stage.change",
        "activities.stage.change",
    ]


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {"stage": "lost"},
            {
                "reason": [
                    "Say why the customer was lost (price, competitor, location, product, finance, no_need, unreachable, other…)."
                ]
            },
        ),
        ({"stage": "lead"}, {"reason": ["Moving a customer back needs a reason."]}),
        (
            {"stage": "won"},
            {
                "stage": [
                    '"won" is not a valid choice; choose one of: lead, left_phone, visited, pledged, deal, owner, lost.'
                ]
            },
        ),
        ({"stage": "lost", "reason": "x" * 201}, {"reason": [TOO_LONG.format(n=200)]}),
        ({}, {"stage": ["This field is required."]}),
    ],
)
def test_a_bad_stage_change_changes_nothing(
    cast: Any, api: Any, world: World, data: dict, fields: dict
) -> None:
    before = everything()
    response = api(fresh(cast.consultant)).post(f"{URL}{world.mine.pk}/stage/", data, format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


@pytest.mark.parametrize(
    ("persona", "name", "status", "expected"),
    [
        ("promoter", "field", 403, DENIED),
        ("commissioner", "mine", 403, DENIED),
        ("broker", "referral", 403, DENIED),
        ("other_manager", "mine", 404, NOT_FOUND),
    ],
)
def test_others_cannot_change_the_stage(
    cast: Any, api: Any, world: World, persona: str, name: str, status: int, expected: dict
) -> None:
    before = everything()
    response = api(fresh(cast.all()[persona])).post(
        f"{URL}{getattr(world, name).pk}/stage/", {"stage": "visited"}, format="json"
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


# --- the timeline ---------------------------------------------------------------------------


def test_the_timeline_merges_the_history_newest_first(cast: Any, api: Any, world: World) -> None:
    call = log_activity(
        actor=cast.consultant, customer=world.mine, kind="call", outcome="reached", note="约了周六"
    )
    clash = register(cast.other_consultant, NUMBERS["mine"], kind="visit").registration
    resolve_conflict(actor=cast.manager, conflict=clash.conflict, decision="transfer", note="带看")
    first = Registration.objects.get(customer=world.mine, result="new")
    body = api(fresh(cast.region_manager)).get(f"{URL}{world.mine.pk}/timeline/").json()
    assert body["count"] == 6
    assert [(r["type"], r["actor"], r["data"]) for r in body["results"]] == [
        (
            "assignment",
            cast.manager.pk,
            {
                "from_staff": cast.consultant.pk,
                "to_staff": cast.other_consultant.pk,
                "reason": "conflict",
                "explanation": "带看",
            },
        ),
        (
            "registration",
            cast.other_consultant.pk,
            {
                "kind": "visit",
                "channel": "phone",
                "result": "conflict",
                "owner": cast.consultant.pk,
                "is_fraud": False,
            },
        ),
        (
            "activity",
            cast.consultant.pk,
            {"kind": "call", "outcome": "reached", "note": "约了周六"},
        ),
        (
            "assignment",
            cast.consultant.pk,
            {
                "from_staff": None,
                "to_staff": cast.consultant.pk,
                "reason": "registration",
                "explanation": "First registration through 来电.",
            },
        ),
        (
            "registration",
            cast.consultant.pk,
            {
                "kind": "call",
                "channel": "phone",
                "result": "new",
                "owner": cast.consultant.pk,
                "is_fraud": False,
            },
        ),
        (
            "stage_change",
            cast.consultant.pk,
            {"from_stage": "", "to_stage": "left_phone", "reason": "registration"},
        ),
    ]
    assert [r["id"] for r in body["results"]][1:5:3] == [clash.pk, first.pk]
    assert body["results"][2]["id"] == call.pk
    assert body["results"][2]["at"] == local_iso(call.occurred_at)
    times = [r["at"] for r in body["results"]]
    assert times == sorted(times, reverse=True)
    # The new owner's own view: only the registrations they may see.
    mine = (
        api(fresh(cast.other_consultant)).get(f"{URL}{world.mine.pk}/timeline/").json()["results"]
    )
    assert [r["id"] for r in mine if r["type"] == "registration"] == [clash.pk]


def test_the_timeline_shows_a_broker_only_what_they_were_told(
    cast: Any, api: Any, world: World
) -> None:
    flag_fraud(
        actor=cast.admin,
        registration=Registration.objects.get(customer=world.referral),
        reason="x",
        is_fraud=False,
    )
    rows = api(fresh(cast.broker)).get(f"{URL}{world.referral.pk}/timeline/").json()["results"]
    registration = next(r for r in rows if r["type"] == "registration")
    assert registration["data"] == {
        "kind": "broker",
        "channel": "phone",
        "result": "new",
        "owner": None,
        "is_fraud": False,
    }


def test_the_timeline_is_paginated(cast: Any, api: Any, world: World) -> None:
    for _ in range(3):
        log_activity(actor=cast.consultant, customer=world.mine, kind="note", note="n")
    page = (
        api(fresh(cast.consultant))
        .get(f"{URL}{world.mine.pk}/timeline/", {"page_size": 2, "page": 3})
        .json()
    )
    assert (page["count"], len(page["results"]), page["next"]) == (6, 2, None)


# --- the duplicate check --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "phone", "expected"),
    [
        (
            "consultant",
            "139 0000 0001",
            {
                "exists": True,
                "visible": True,
                "customer": "mine",
                "is_mine": True,
                "protected": True,
            },
        ),
        (
            "consultant",
            "13900000002",
            {
                "exists": True,
                "visible": False,
                "customer": None,
                "is_mine": False,
                "protected": True,
            },
        ),
        (
            "manager",
            "13900000003",
            {
                "exists": True,
                "visible": True,
                "customer": "field",
                "is_mine": False,
                "protected": True,
            },
        ),
        (
            "promoter",
            "13900000003",
            {
                "exists": True,
                "visible": True,
                "customer": "field",
                "is_mine": True,
                "protected": True,
            },
        ),
        ("broker", "13900000001", {"exists": True, "visible": False, "customer": None}),
        ("broker", "13900000004", {"exists": True, "visible": False, "customer": None}),
        ("consultant", "13900000099", {"exists": False, "visible": False, "customer": None}),
    ],
)
def test_the_duplicate_check_sees_everything_and_reveals_what_you_may_see(
    cast: Any, api: Any, world: World, persona: str, phone: str, expected: dict
) -> None:
    before = everything()
    response = api(fresh(cast.all()[persona])).get(f"{URL}check/", {"phone": phone})
    assert response.status_code == 200
    if expected["customer"]:
        customer = getattr(world, expected["customer"])
        expected = {
            **expected,
            "customer": {
                "id": customer.pk,
                "name": customer.name,
                "stage": customer.stage,
                "owner": customer.owner_id,
            },
        }
    digits = "".join(ch for ch in phone if ch.isdigit())
    assert response.json() == {"phone": f"+86{digits}", **expected}
    assert everything() == before


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({}, {"phone": ["This field is required."]}),
        ({"phone": ""}, {"phone": ["This field may not be blank."]}),
        (
            {"phone": "1390000001"},
            {"phone": ["A mainland mobile number has 11 digits; this one has 10."]},
        ),
        (
            {"phone": "abc"},
            {"phone": ["A phone number may contain only digits, spaces, dashes and a leading +."]},
        ),
    ],
)
def test_a_bad_duplicate_check_is_400(cast: Any, api: Any, query: dict, fields: dict) -> None:
    response = api(fresh(cast.consultant)).get(f"{URL}check/", query)
    assert (response.status_code, response.json()) == (400, invalid(fields))


# --- completeness configuration -------------------------------------------------------------

REQUIREMENTS_URL = "/api/v1/completeness-requirements/"


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_reads_the_completeness_requirements(cast: Any, api: Any, persona: str) -> None:
    from kehu.customers.completeness import FIELDS, FIRST_CALL, FIRST_VISIT, REPEAT_VISITS

    response = api(fresh(cast.all()[persona])).get(REQUIREMENTS_URL)
    assert (response.status_code, response.json()) == (
        200,
        [
            {"stage": "first_call", "label": "First call", "fields": FIRST_CALL, "minimum": 0},
            {"stage": "first_visit", "label": "First visit", "fields": FIRST_VISIT, "minimum": 30},
            {
                "stage": "repeat_visits",
                "label": "Three or more visits",
                "fields": REPEAT_VISITS,
                "minimum": 70,
            },
            {"stage": "owner", "label": "Owner", "fields": list(FIELDS), "minimum": 100},
        ],
    )


def test_an_admin_edits_the_requirements(cast: Any, api: Any) -> None:
    before = last_event_pk()
    response = api(fresh(cast.admin)).put(
        REQUIREMENTS_URL,
        [
            {"stage": "first_call", "fields": ["name", "phone", "name"], "minimum": 10},
            {"stage": "owner", "fields": ["name"], "minimum": 90},
        ],
        format="json",
    )
    assert response.status_code == 200
    rows = {r["stage"]: (r["fields"], r["minimum"]) for r in response.json()}
    assert rows["first_call"] == (["name", "phone"], 10)
    assert rows["owner"] == (["name"], 90)
    assert rows["first_visit"][1] == 30
    assert StageRequirement.objects.get(stage="first_call").minimum == 10
    assert [e.action for e in new_events(before)] == ["customers.completeness.configure"] * 2


@pytest.mark.parametrize(
    "persona", ["region_manager", "manager", "consultant", "promoter", "broker"]
)
def test_only_admins_edit_the_requirements(cast: Any, api: Any, persona: str) -> None:
    before = everything()
    response = api(fresh(cast.all()[persona])).put(
        REQUIREMENTS_URL, [{"stage": "first_call", "fields": ["name"], "minimum": 0}], format="json"
    )
    assert (response.status_code, response.json()) == (403, DENIED)
    assert everything() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            [{"stage": "second_call", "fields": [], "minimum": 0}],
            {
                "0.stage": [
                    '"second_call" is not a valid choice; choose one of: first_call, first_visit, repeat_visits, owner.'
                ]
            },
        ),
        ([{"stage": "owner", "fields": ["salary"], "minimum": 0}], {"0.fields.0": None}),
        (
            [{"stage": "owner", "fields": [], "minimum": 101}],
            {"0.minimum": ["Ensure this value is less than or equal to 100."]},
        ),
        (
            [{"stage": "owner", "fields": [], "minimum": "50"}],
            {"0.minimum": ["Expected a whole number."]},
        ),
        ([{"stage": "owner", "fields": []}], {"0.minimum": ["This field is required."]}),
        (
            [
                {"stage": "owner", "fields": [], "minimum": 1},
                {"stage": "owner", "fields": [], "minimum": 2},
            ],
            {"non_field_errors": ["Each stage may be given once."]},
        ),
        (
            [
                {"stage": "first_call", "fields": [], "minimum": 1},
                {"stage": "owner", "fields": [], "minimum": 200},
            ],
            {"1.minimum": ["Ensure this value is less than or equal to 100."]},
        ),
        ([], {"non_field_errors": ["This list may not be empty."]}),
        (
            {"stage": "owner", "fields": [], "minimum": 1},
            {"non_field_errors": ['Expected a list of items but got type "dict".']},
        ),
    ],
)
def test_bad_requirements_change_nothing(cast: Any, api: Any, data: Any, fields: dict) -> None:
    before = everything()
    response = api(fresh(cast.admin)).put(REQUIREMENTS_URL, data, format="json")
    assert response.status_code == 400
    got = response.json()["error"]["fields"]
    if "0.fields.0" in fields:
        assert list(got) == ["0.fields.0"]
        assert got["0.fields.0"][0].startswith(
            '"salary" is not a valid choice; choose one of: name, title, gender'
        )
    else:
        assert got == fields
    assert everything() == before


# --- query counts ---------------------------------------------------------------------------


def grow(cast: Any, start: int) -> None:
    """20 more customers (5 per registrant), each with a new tag and a second number."""
    for i in range(20):
        tag = services.ensure_tag(actor=None, dimension="兴趣", name=f"t{start + i}")
        actor = [cast.consultant, cast.other_consultant, cast.promoter, cast.broker][i % 4]
        kind = {"promoter": "field", "broker": "broker"}.get(actor.username, "call")
        customer = register(actor, f"1360000{start + i:04d}", kind=kind, name=f"客{i}").customer
        services.set_tags(actor=None, customer=customer, tags=[tag])
        services.add_phone(actor=None, customer=customer, phone=f"1350000{start + i:04d}")


# The completeness requirements come from the cache (warmed by the first request); a
# manager's subtree node ids are one query (Staff.managed_node_ids), and so is the
# subtree of a team filter.
LIST_QUERIES = [
    ("admin", URL, {}, 6),
    ("region_manager", URL, {}, 8),
    ("manager", URL, {}, 8),
    ("consultant", URL, {}, 6),
    ("commissioner", URL, {}, 6),
    ("promoter", URL, {}, 6),
    ("broker", URL, {}, 6),
    (
        "manager",
        URL,
        {"q": "1360", "stage": "left_phone", "sleeping": "false", "team": "{team}"},
        11,
    ),
    ("promoter", URL, {"q": "0003"}, 6),
    ("consultant", "/api/v1/tags/", {}, 3),
]


@pytest.mark.parametrize(("persona", "url", "params", "queries"), LIST_QUERIES)
def test_list_query_count_does_not_grow_with_rows(
    cast: Any,
    api: Any,
    world: World,
    django_assert_num_queries: Any,
    persona: str,
    url: str,
    params: dict,
    queries: int,
) -> None:
    staff = cast.all()[persona]
    params = {k: v.format(team=cast.team.pk) for k, v in params.items()} | {"page_size": 200}
    grow(cast, 0)
    with django_assert_num_queries(queries):
        small = api(fresh(staff)).get(url, params)
    grow(cast, 100)
    with django_assert_num_queries(queries):
        large = api(fresh(staff)).get(url, params)
    assert small.status_code == large.status_code == 200
    if params.get("q") != "0003":
        assert large.json()["count"] >= small.json()["count"] + 5


@pytest.mark.parametrize(("url", "queries"), [("{pk}/", 11), ("{pk}/timeline/", 9)])
def test_the_customer_page_query_count_does_not_grow(
    cast: Any, api: Any, world: World, django_assert_num_queries: Any, url: str, queries: int
) -> None:
    def more(n: int) -> None:
        for i in range(n):
            log_activity(actor=cast.consultant, customer=world.mine, kind="note", note=str(i))
            tag = services.ensure_tag(actor=None, dimension="兴趣", name=f"{n}-{i}")
            services.set_tags(
                actor=None,
                customer=world.mine,
                tags=[*Tag.objects.filter(customer_rows__customer=world.mine), tag],
            )
            services.add_relation(
                actor=None,
                customer=world.mine,
                other=[world.theirs, world.field, world.hq][i % 3],
                kind=["family", "colleague", "referred_by"][i % 3],
            )

    more(1)
    with django_assert_num_queries(queries):
        small = api(fresh(cast.manager)).get(f"{URL}{url.format(pk=world.mine.pk)}")
    more(3)
    with django_assert_num_queries(queries):
        large = api(fresh(cast.manager)).get(f"{URL}{url.format(pk=world.mine.pk)}")
    assert small.status_code == large.status_code == 200
    assert large.content != small.content


def test_the_world_builds_the_same_way_twice(cast: Any) -> None:
    """The fixture itself: five customers, one per registration, owned as documented."""
    world = build_world(cast)
    assert [c.owner for c in (world.mine, world.theirs, world.field, world.referral, world.hq)] == [
        cast.consultant,
        cast.other_consultant,
        None,
        None,
        cast.admin,
    ]


# --- duplicates and merge -------------------------------------------------------------------


def test_duplicates_are_found_over_every_record_and_shown_only_when_visible(
    cast: Any, api: Any, world: World
) -> None:
    twin = register(cast.other_consultant, "13900000011", name="张三").customer
    mine = api(fresh(cast.consultant)).get(f"{URL}{world.mine.pk}/duplicates/")
    assert (mine.status_code, mine.json()) == (
        200,
        {
            "candidates": [],
            "hidden_count": 1,
            "hidden_message": "1 more record you cannot see looks like this customer; ask your manager.",
        },
    )
    region = api(fresh(cast.region_manager)).get(f"{URL}{world.mine.pk}/duplicates/").json()
    assert region == {
        "candidates": [
            {
                "customer": {
                    "id": twin.pk,
                    "name": "张三",
                    "phone": "+8613900000011",
                    "stage": "left_phone",
                    "owner": cast.other_consultant.pk,
                },
                "reasons": ["name_and_number"],
                "labels": ["Same name, number one digit apart"],
            }
        ],
        "hidden_count": 0,
        "hidden_message": "",
    }


def test_a_promoter_sees_duplicates_with_numbers_masked(cast: Any, api: Any, world: World) -> None:
    twin = register(cast.promoter, "13900000013", kind="field", name="王五").customer
    body = api(fresh(cast.promoter)).get(f"{URL}{world.field.pk}/duplicates/").json()
    assert [(c["customer"]["id"], c["customer"]["phone"]) for c in body["candidates"]] == [
        (twin.pk, "139****0013")
    ]


def test_duplicates_of_a_customer_you_cannot_see_are_404(cast: Any, api: Any, world: World) -> None:
    response = api(fresh(cast.consultant)).get(f"{URL}{world.theirs.pk}/duplicates/")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("persona", ["consultant", "manager", "admin"])
def test_a_duplicate_is_merged_with_its_history(
    cast: Any, api: Any, world: World, persona: str
) -> None:
    twin = register(cast.consultant, "13900000011", name="张三", note="二次登记").customer
    log_activity(actor=cast.consultant, customer=twin, kind="call")
    before = last_event_pk()
    response = api(fresh(cast.all()[persona])).post(
        f"{URL}{world.mine.pk}/merge/", {"merge": twin.pk}, format="json"
    )
    assert response.status_code == 200
    assert [p["number"] for p in response.json()["phones"]] == ["+8613900000001", "+8613900000011"]
    twin.refresh_from_db()
    assert twin.merged_into_id == world.mine.pk
    assert set(
        Registration.objects.filter(customer=world.mine).values_list("result", flat=True)
    ) == {"new"}
    assert Registration.objects.filter(customer=world.mine).count() == 2
    assert world.mine.activities.count() == 1
    assert [e.action for e in new_events(before)] == ["customers.customer.merge"]
    gone = api(fresh(cast.all()[persona])).get(f"{URL}{twin.pk}/")
    assert (gone.status_code, gone.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("persona", "keep", "merge", "status", "expected"),
    [
        ("consultant", "mine", "theirs", 400, "unknown"),
        (
            "consultant",
            "mine",
            "mine",
            400,
            invalid({"merge": ["Choose another customer: a record cannot be merged into itself."]}),
        ),
        ("commissioner", "mine", "field", 403, DENIED),
        ("promoter", "field", "field", 403, DENIED),
        ("other_manager", "mine", "theirs", 404, NOT_FOUND),
        ("manager", "mine", "hq", 400, "unknown"),
    ],
)
def test_merges_that_are_refused_change_nothing(
    cast: Any,
    api: Any,
    world: World,
    persona: str,
    keep: str,
    merge: str,
    status: int,
    expected: Any,
) -> None:
    other = getattr(world, merge).pk
    if expected == "unknown":
        expected = invalid({"merge": [f"Unknown id {other}."]})
    before = everything()
    response = api(fresh(cast.all()[persona])).post(
        f"{URL}{getattr(world, keep).pk}/merge/", {"merge": other}, format="json"
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, {"merge": ["This field is required."]}),
        ({"merge": "x"}, {"merge": ["Expected an id (a whole number), got str."]}),
        ({"merge": None}, {"merge": ["This field may not be null."]}),
        ({"merge": 999999}, {"merge": ["Unknown id 999999."]}),
    ],
)
def test_a_bad_merge_changes_nothing(
    cast: Any, api: Any, world: World, data: dict, fields: dict
) -> None:
    before = everything()
    response = api(fresh(cast.admin)).post(f"{URL}{world.mine.pk}/merge/", data, format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


# --- returning a customer to the pool -------------------------------------------------------


@pytest.mark.parametrize("persona", ["consultant", "manager", "admin"])
def test_the_owner_or_a_manager_returns_a_customer_to_the_pool(
    cast: Any, api: Any, world: World, persona: str
) -> None:
    before = last_event_pk()
    response = api(fresh(cast.all()[persona])).post(
        f"{URL}{world.mine.pk}/return-to-pool/", {"reason": "联系不上"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["previous_owner"]) == (
        None,
        cast.consultant.pk,
    )
    customer = Customer.objects.get(pk=world.mine.pk)
    assert (customer.owner, customer.previous_owner, customer.pooled_at is not None) == (
        None,
        cast.consultant,
        True,
    )
    assert [(e.action, e.after) for e in new_events(before)] == [
        ("leads.pool.return", {"owner": None, "reason": "联系不上"})
    ]


@pytest.mark.parametrize(
    ("persona", "name", "data", "status", "expected"),
    [
        ("promoter", "field", {"reason": "x"}, 403, DENIED),
        ("commissioner", "mine", {"reason": "x"}, 403, DENIED),
        ("other_consultant", "mine", {"reason": "x"}, 404, NOT_FOUND),
        (
            "manager",
            "field",
            {"reason": "x"},
            400,
            invalid({"customer": ["This customer is already in the pool."]}),
        ),
        (
            "consultant",
            "mine",
            {"reason": " "},
            400,
            invalid({"reason": ["Say why the customer goes back to the pool."]}),
        ),
        ("consultant", "mine", {}, 400, invalid({"reason": ["This field is required."]})),
        (
            "consultant",
            "mine",
            {"reason": "x" * 201},
            400,
            invalid({"reason": [TOO_LONG.format(n=200)]}),
        ),
    ],
)
def test_returns_that_are_refused_change_nothing(
    cast: Any,
    api: Any,
    world: World,
    persona: str,
    name: str,
    data: dict,
    status: int,
    expected: dict,
) -> None:
    before = everything()
    response = api(fresh(cast.all()[persona])).post(
        f"{URL}{getattr(world, name).pk}/return-to-pool/", data, format="json"
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before
