"""API tests for registrations (报备/判客), channels, conflicts and fraud flags.

Attribution: new → the registrant owns it; the owner again → existing; someone else while
protected → conflict (queued); someone else after protection → existing, re-attributed;
a broker hears only new or existing. Every write has an allowed and a denied case; denied
and invalid ones assert that no row of any table changed.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from kehu.customers.models import Customer, CustomerPhone
from kehu.customers.tests.api_helpers import (  # noqa: F401 - fixtures
    DENIED,
    NOT_FOUND,
    NUMBERS,
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
from kehu.leads.models import Assignment, Channel, Conflict, PoolSettings, Registration
from kehu.org.models import Staff

URL = "/api/v1/registrations/"
NEW_NUMBER = "13912345678"
CHANNEL_CODES = [
    "flyer",
    "roadshow",
    "exhibition",
    "intercept",
    "key_account",
    "circle",
    "tour",
    "broker",
    "walk_in",
    "phone",
    "online",
    "referral",
]


def local_iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def post(api: Any, staff: Staff, body: Any, url: str = URL, **kw: Any) -> Any:
    return api(fresh(staff)).post(url, body, format="json", **kw)


def body(**overrides: Any) -> dict[str, Any]:
    data = {"phone": NEW_NUMBER, "name": "孙八", "kind": "call", "channel": "phone"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not ...}


def close_to_now_plus(value: datetime.datetime, days: int) -> bool:
    expected = timezone.now() + datetime.timedelta(days=days)
    return abs(value - expected) < datetime.timedelta(minutes=1)


# --- registering: the contract and attribution ----------------------------------------------


def test_a_new_number_creates_the_customer_owned_by_the_registrant(cast: Any, api: Any) -> None:
    before = last_event_pk()
    response = post(
        api,
        cast.consultant,
        body(
            phone="+86 139-1234-5678",
            gender="female",
            note="想要三居室",
            location={"lat": 31.23, "lng": 121.47},
        ),
    )
    assert response.status_code == 201
    customer = Customer.objects.get()
    assert response.json() == {
        "customer": customer.pk,
        "result": "new",
        "owner": cast.consultant.pk,
        "protected_until": local_iso(customer.protected_until),
    }
    assert close_to_now_plus(customer.protected_until, 30)
    assert (customer.name, customer.gender, customer.stage) == ("孙八", "female", "left_phone")
    assert (customer.owner, customer.node, customer.registered_by) == (
        cast.consultant,
        cast.team,
        cast.consultant,
    )
    assert customer.channel.code == "phone"
    assert list(CustomerPhone.objects.values_list("number", "digits", "is_primary")) == [
        ("+8613912345678", "13912345678", True)
    ]
    registration = Registration.objects.get()
    assert (
        registration.result,
        registration.kind,
        registration.registered_by,
        registration.note,
    ) == (
        "new",
        "call",
        cast.consultant,
        "想要三居室",
    )
    assert (str(registration.latitude), str(registration.longitude)) == ("31.230000", "121.470000")
    assert list(Assignment.objects.values_list("to_staff", "reason")) == [
        (cast.consultant.pk, "registration")
    ]
    assert [(e.action, e.source, e.actor_id) for e in new_events(before)] == [
        ("leads.registration.new", "api", cast.consultant.pk)
    ]


def test_the_owner_registering_again_is_existing_and_changes_nothing_of_the_customer(
    cast: Any, api: Any
) -> None:
    first = post(api, cast.consultant, body()).json()
    customer = Customer.objects.values().get()
    response = post(api, cast.consultant, body(kind="visit", channel="walk_in"))
    assert response.status_code == 201
    assert response.json() == {
        "customer": first["customer"],
        "result": "existing",
        "owner": cast.consultant.pk,
        "protected_until": first["protected_until"],
    }
    assert Customer.objects.values().get() == customer
    assert list(Registration.objects.order_by("pk").values_list("result", flat=True)) == [
        "new",
        "existing",
    ]
    assert Conflict.objects.count() == 0


def test_someone_else_within_protection_gets_a_conflict_queued_for_a_manager(
    cast: Any, api: Any
) -> None:
    first = post(api, cast.consultant, body()).json()
    customer = Customer.objects.values().get()
    before = last_event_pk()
    response = post(api, cast.other_consultant, body(kind="visit"))
    assert response.status_code == 201
    assert response.json() == {
        "customer": first["customer"],
        "result": "conflict",
        "owner": cast.consultant.pk,
        "protected_until": first["protected_until"],
    }
    assert Customer.objects.values().get() == customer
    conflict = Conflict.objects.get()
    assert (conflict.claimant, conflict.owner, conflict.status, conflict.customer_id) == (
        cast.other_consultant,
        cast.consultant,
        "open",
        first["customer"],
    )
    assert conflict.registration.result == "conflict"
    assert [e.action for e in new_events(before)] == ["leads.registration.conflict"]


def test_after_protection_the_next_registrant_is_credited(cast: Any, api: Any) -> None:
    first = post(api, cast.consultant, body()).json()
    Customer.objects.update(protected_until=timezone.now() - datetime.timedelta(seconds=1))
    response = post(api, cast.other_consultant, body(kind="visit", channel="walk_in"))
    assert response.status_code == 201
    customer = Customer.objects.get()
    assert response.json() == {
        "customer": first["customer"],
        "result": "existing",
        "owner": cast.other_consultant.pk,
        "protected_until": local_iso(customer.protected_until),
    }
    assert close_to_now_plus(customer.protected_until, 30)
    assert (customer.owner, customer.node, customer.registered_by, customer.channel.code) == (
        cast.other_consultant,
        cast.other_team,
        cast.other_consultant,
        "walk_in",
    )
    assert list(
        Assignment.objects.order_by("pk").values_list("from_staff", "to_staff", "reason")
    ) == [
        (None, cast.consultant.pk, "registration"),
        (cast.consultant.pk, cast.other_consultant.pk, "reattributed"),
    ]
    assert Conflict.objects.count() == 0


def test_the_protection_period_is_the_channels(cast: Any, api: Any) -> None:
    Channel.objects.filter(code="tour").update(protection_days=7)
    response = post(api, cast.consultant, body(channel="tour"))
    customer = Customer.objects.get()
    assert close_to_now_plus(customer.protected_until, 7)
    assert response.json()["protected_until"] == local_iso(customer.protected_until)


def test_a_broker_learns_new_with_the_customer_and_nothing_but_existing_otherwise(
    cast: Any, api: Any, world: World
) -> None:
    new = post(api, cast.broker, body(kind="broker", channel="broker"))
    customer = Customer.objects.get(phones__number="+8613912345678")
    assert (new.status_code, new.json()) == (
        201,
        {
            "customer": customer.pk,
            "result": "new",
            "owner": None,
            "protected_until": local_iso(customer.protected_until),
        },
    )
    hidden = {"customer": None, "result": "existing", "owner": None, "protected_until": None}
    # Protected for the consultant: a conflict in the database, "existing" to the broker.
    protected = post(api, cast.broker, body(phone=NUMBERS["mine"], kind="broker", channel="broker"))
    assert (protected.status_code, protected.json()) == (201, hidden)
    assert (
        Registration.objects.filter(registered_by=cast.broker, customer=world.mine).get().result
        == "conflict"
    )
    # After protection: existing too.
    Customer.objects.filter(pk=world.theirs.pk).update(
        protected_until=timezone.now() - datetime.timedelta(days=1)
    )
    expired = post(api, cast.broker, body(phone=NUMBERS["theirs"], kind="broker", channel="broker"))
    assert (expired.status_code, expired.json()) == (201, hidden)
    # Nor do the lists tell more: the broker sees the customer they brought, not the others,
    # and their own registrations as they were told them.
    listed = api(fresh(cast.broker)).get("/api/v1/customers/").json()["results"]
    assert sorted(c["id"] for c in listed) == sorted([customer.pk, world.referral.pk])
    registrations = api(fresh(cast.broker)).get(URL).json()["results"]
    assert [
        (r["customer"], r["result"], r["owner"], r["protected_until"]) for r in registrations
    ] == [
        (None, "existing", None, None),
        (None, "existing", None, None),
        (customer.pk, "new", None, local_iso(customer.protected_until)),
        (world.referral.pk, "new", None, local_iso(world.referral.protected_until)),
    ]
    assert api(fresh(cast.broker)).get("/api/v1/conflicts/").json()["count"] == 0
    assert api(fresh(cast.broker)).get(f"/api/v1/customers/{world.mine.pk}/").status_code == 404


def test_html_is_stored_verbatim(cast: Any, api: Any) -> None:
    name, note = "<script>alert(1)</script>", '<b onclick="x()">hi</b> & <i>'
    response = post(api, cast.consultant, body(name=name, note=note))
    assert response.status_code == 201
    assert Customer.objects.get().name == name
    assert Registration.objects.get().note == note
    listed = api(fresh(cast.consultant)).get(URL).json()["results"][0]
    assert listed["note"] == note
    assert (
        api(fresh(cast.consultant))
        .get(f"/api/v1/customers/{response.json()['customer']}/")
        .json()["name"]
        == name
    )


def test_optional_fields_may_be_left_out_or_null(cast: Any, api: Any) -> None:
    response = post(api, cast.consultant, {**body(name=""), "gender": None, "location": None})
    assert response.status_code == 201
    customer = Customer.objects.get()
    assert (customer.name, customer.gender) == ("", "unknown")
    assert Registration.objects.get().latitude is None


def test_answers_follow_the_request_language(cast: Any, api: Any) -> None:
    response = api(fresh(cast.consultant), language="zh-hans").post(
        URL, body(phone="1391234567"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "phone": ["中国大陆手机号为 11 位，此号码为 10 位。"]
    }


def test_anonymous_registration_is_refused(cast: Any, api: Any) -> None:
    before = everything()
    response = api(None).post(URL, body(), format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert everything() == before


# --- registering: bad input leaves nothing behind --------------------------------------------

TOO_LONG = "Ensure this field has no more than {n} characters."
REQUIRED = "This field is required."
KINDS = "call, visit, field, broker, web"
UNKNOWN_FIELD = "Unknown field, or one that cannot be changed here; valid: phone, name, kind, channel, gender, note, location."

BAD_REGISTRATIONS = [
    # phones
    (
        body(phone="1391234567"),
        {"phone": ["A mainland mobile number has 11 digits; this one has 10."]},
    ),
    (
        body(phone="139123456789"),
        {"phone": ["A mainland mobile number has 11 digits; this one has 12."]},
    ),
    (
        body(phone="1391234abcd"),
        {"phone": ["A phone number may contain only digits, spaces, dashes and a leading +."]},
    ),
    (
        body(phone="12012345678"),
        {"phone": ["This number does not exist: check the prefix and the number of digits."]},
    ),
    (
        body(phone="+1 555 0100"),
        {"phone": ["This number does not exist: check the prefix and the number of digits."]},
    ),
    (body(phone=""), {"phone": ["This field may not be blank."]}),
    (body(phone="1" * 33), {"phone": [TOO_LONG.format(n=32)]}),
    (body(phone=13912345678), {"phone": ["Expected text."]}),
    (body(phone=None), {"phone": ["This field may not be null."]}),
    (body(phone=...), {"phone": [REQUIRED]}),
    # name
    (body(name="名" * 101), {"name": [TOO_LONG.format(n=100)]}),
    (body(name=["孙八"]), {"name": ["Expected text."]}),
    (body(name=...), {"name": [REQUIRED]}),
    # kind
    (body(kind="import"), {"kind": [f'"import" is not a valid choice; choose one of: {KINDS}.']}),
    (body(kind="CALL"), {"kind": [f'"CALL" is not a valid choice; choose one of: {KINDS}.']}),
    (body(kind=1), {"kind": [f'"1" is not a valid choice; choose one of: {KINDS}.']}),
    (body(kind=...), {"kind": [REQUIRED]}),
    # channel
    (
        body(channel="tv"),
        {"channel": ["Unknown channel 'tv'; choose one of: " + ", ".join(CHANNEL_CODES) + "."]},
    ),
    (body(channel=7), {"channel": ["Expected text."]}),
    (body(channel="x" * 33), {"channel": [TOO_LONG.format(n=32)]}),
    (body(channel=...), {"channel": [REQUIRED]}),
    # the optional ones
    (
        body(gender="f"),
        {"gender": ['"f" is not a valid choice; choose one of: male, female, unknown.']},
    ),
    (body(note="x" * 2001), {"note": [TOO_LONG.format(n=2000)]}),
    (body(note={"text": "x"}), {"note": ["Expected text."]}),
    (
        body(location={"lat": 91, "lng": 121}),
        {"location.lat": ["Ensure this value is less than or equal to 90."]},
    ),
    (
        body(location={"lat": 31, "lng": -181}),
        {"location.lng": ["Ensure this value is greater than or equal to -180."]},
    ),
    (body(location={"lat": "31.2", "lng": 121}), {"location.lat": ["Expected a number."]}),
    (body(location={"lat": True, "lng": 121}), {"location.lat": ["Expected a number."]}),
    (body(location={"lat": 31}), {"location.lng": [REQUIRED]}),
    (
        body(location={"lat": 31, "lng": 121, "alt": 5}),
        {"location.alt": ["Unknown field, or one that cannot be changed here; valid: lat, lng."]},
    ),
    (
        body(location="31,121"),
        {"location.non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
    ),
    (
        body(location=[31, 121]),
        {"location.non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    ),
    # the body itself
    ({**body(), "owner": 1}, {"owner": [UNKNOWN_FIELD]}),
    (
        {**body(), "customer": 1, "result": "new"},
        {"customer": [UNKNOWN_FIELD], "result": [UNKNOWN_FIELD]},
    ),
]


@pytest.mark.parametrize(("data", "fields"), BAD_REGISTRATIONS)
def test_a_bad_registration_says_what_to_fix_and_leaves_nothing_behind(
    cast: Any, api: Any, world: World, data: Any, fields: dict
) -> None:
    before = everything()
    response = post(api, cast.consultant, data)
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "[]",
            invalid(
                {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
                "Invalid data. Expected a dictionary, but got list.",
            ),
        ),
        (
            '"13912345678"',
            invalid(
                {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
                "Invalid data. Expected a dictionary, but got str.",
            ),
        ),
    ],
)
def test_a_body_that_is_not_an_object_is_refused(
    cast: Any, api: Any, raw: str, expected: dict
) -> None:
    before = everything()
    response = api(fresh(cast.consultant)).post(URL, raw, content_type="application/json")
    assert (response.status_code, response.json()) == (400, expected)
    assert everything() == before


def test_malformed_json_is_refused(cast: Any, api: Any) -> None:
    before = everything()
    response = api(fresh(cast.consultant)).post(URL, '{"phone": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    assert everything() == before


def test_an_inactive_channel_is_unknown(cast: Any, api: Any) -> None:
    Channel.objects.filter(code="tour").update(is_active=False)
    before = everything()
    response = post(api, cast.consultant, body(channel="tour"))
    codes = [c for c in CHANNEL_CODES if c != "tour"]
    assert (response.status_code, response.json()) == (
        400,
        invalid({"channel": ["Unknown channel 'tour'; choose one of: " + ", ".join(codes) + "."]}),
    )
    assert everything() == before


@pytest.mark.parametrize(
    ("persona", "kind", "allowed"),
    [
        ("promoter", "call", "field"),
        ("promoter", "broker", "field"),
        ("broker", "call", "broker"),
        ("broker", "field", "broker"),
        ("commissioner", "visit", "field"),
    ],
)
def test_each_role_registers_only_its_kinds(
    cast: Any, api: Any, persona: str, kind: str, allowed: str
) -> None:
    before = everything()
    response = post(api, cast.all()[persona], body(kind=kind))
    assert (response.status_code, response.json()) == (
        400,
        invalid({"kind": [f"You cannot register a lead of kind {kind}; you may use: {allowed}."]}),
    )
    assert everything() == before


@pytest.mark.parametrize(
    ("persona", "kind", "owner"),
    [
        ("admin", "web", "admin"),
        ("manager", "visit", "manager"),
        ("consultant", "broker", "consultant"),
        ("commissioner", "field", None),
        ("promoter", "field", None),
        ("broker", "broker", None),
    ],
)
def test_every_role_that_registers_can(
    cast: Any, api: Any, persona: str, kind: str, owner: str | None
) -> None:
    response = post(api, cast.all()[persona], body(kind=kind))
    assert response.status_code == 201
    customer = Customer.objects.get()
    assert customer.owner == (cast.all()[owner] if owner else None)
    assert customer.registered_by == cast.all()[persona]
    assert response.json()["result"] == "new"


# --- the registration list ------------------------------------------------------------------

VISIBLE_REGISTRATIONS = {
    "admin": {"mine", "theirs", "field", "referral", "hq"},
    "region_manager": {"mine", "theirs", "field"},
    "manager": {"mine", "field"},
    "other_manager": {"theirs"},
    "consultant": {"mine"},
    "other_consultant": {"theirs"},
    "commissioner": set(),
    "promoter": {"field"},
    "broker": {"referral"},
}


def registration_of(world: World, name: str) -> Registration:
    return Registration.objects.get(customer=getattr(world, name), result="new")


@pytest.mark.parametrize("persona", sorted(VISIBLE_REGISTRATIONS))
def test_each_persona_lists_exactly_the_registrations_they_may_see(
    cast: Any, api: Any, world: World, persona: str
) -> None:
    response = api(fresh(cast.all()[persona])).get(URL)
    expected = {registration_of(world, n).pk for n in VISIBLE_REGISTRATIONS[persona]}
    assert response.status_code == 200
    assert {r["id"] for r in response.json()["results"]} == expected
    assert response.json()["count"] == len(expected)
    for name in VISIBLE_REGISTRATIONS["admin"]:
        pk = registration_of(world, name).pk
        detail = api(fresh(cast.all()[persona])).get(f"{URL}{pk}/")
        if name in VISIBLE_REGISTRATIONS[persona]:
            assert (detail.status_code, detail.json()["id"]) == (200, pk)
        else:
            assert (detail.status_code, detail.json()) == (404, NOT_FOUND)


def test_a_registration_as_listed(cast: Any, api: Any) -> None:
    post(api, cast.consultant, body(note="备注", location={"lat": 31.5, "lng": 121.25}))
    registration = Registration.objects.get()
    assert api(fresh(cast.consultant)).get(URL).json()["results"] == [
        {
            "id": registration.pk,
            "customer": registration.customer_id,
            "registered_by": cast.consultant.pk,
            "kind": "call",
            "channel": "phone",
            "result": "new",
            "owner": cast.consultant.pk,
            "protected_until": local_iso(registration.protected_until),
            "note": "备注",
            "location": {"lat": 31.5, "lng": 121.25},
            "created_at": local_iso(registration.created_at),
            "is_fraud": False,
            "fraud_reason": "",
            "fraud_flagged_by": None,
            "fraud_flagged_at": None,
        }
    ]


@pytest.fixture
def crowd(cast: Any, world: World) -> dict[str, Registration]:
    """More registrations of the world's numbers: an existing one and two conflicts."""
    return {
        "again": register(
            cast.consultant, NUMBERS["mine"], kind="visit", channel="walk_in"
        ).registration,
        "clash": register(
            cast.other_consultant, NUMBERS["mine"], kind="visit", channel="walk_in"
        ).registration,
        "poach": register(
            cast.consultant, NUMBERS["theirs"], kind="call", channel="online"
        ).registration,
    }


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({}, {"again", "clash", "poach", "mine", "theirs", "field", "referral", "hq"}),
        ({"result": "conflict"}, {"clash", "poach"}),
        ({"result": "existing"}, {"again"}),
        ({"result": "new", "kind": "visit"}, {"theirs"}),
        ({"kind": "visit"}, {"again", "clash", "theirs"}),
        ({"channel": "walk_in"}, {"again", "clash"}),
        ({"channel": "nowhere"}, set()),
        ({"registered_by": "{consultant}"}, {"again", "poach", "mine"}),
        ({"registered_by": "{consultant}", "channel": "online"}, {"poach"}),
        ({"is_fraud": "true"}, {"hq"}),
        ({"is_fraud": "false", "kind": "field"}, {"field"}),
    ],
)
def test_registration_filters(
    cast: Any, api: Any, world: World, crowd: dict, query: dict, names: set
) -> None:
    Registration.objects.filter(customer=world.hq).update(is_fraud=True)
    ids = {n: r.pk for n, r in crowd.items()} | {
        n: registration_of(world, n).pk for n in vars(world)
    }
    query = {k: v.format(consultant=cast.consultant.pk) for k, v in query.items()}
    response = api(fresh(cast.admin)).get(URL, query)
    assert response.status_code == 200
    assert {r["id"] for r in response.json()["results"]} == {ids[n] for n in names}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (
            {"result": "won"},
            {"result": ["Select a valid choice. won is not one of the available choices."]},
        ),
        (
            {"kind": "import2"},
            {"kind": ["Select a valid choice. import2 is not one of the available choices."]},
        ),
        ({"registered_by": "me"}, {"registered_by": ["Enter a whole number."]}),
        ({"registered_by": "1.5"}, {"registered_by": ["Enter a whole number."]}),
        (
            {"registered_by": str(2**63)},
            {"registered_by": ["Ensure this value is less than or equal to 9223372036854775807."]},
        ),
    ],
)
def test_bad_registration_filters_are_400(cast: Any, api: Any, query: dict, fields: dict) -> None:
    response = api(fresh(cast.admin)).get(URL, query)
    assert (response.status_code, response.json()) == (400, invalid(fields))


# --- fraud ----------------------------------------------------------------------------------


def test_a_manager_flags_a_registration_as_fraud_and_it_no_longer_counts(
    cast: Any, api: Any, world: World
) -> None:
    registration = registration_of(world, "field")
    assert set(Registration.objects.valid()) == set(Registration.objects.all())
    before = last_event_pk()
    response = post(
        api, cast.manager, {"reason": "号码是编的"}, url=f"{URL}{registration.pk}/fraud/"
    )
    assert response.status_code == 200
    registration.refresh_from_db()
    assert response.json()["is_fraud"] is True
    assert response.json()["fraud_reason"] == "号码是编的"
    assert response.json()["fraud_flagged_by"] == cast.manager.pk
    assert (registration.is_fraud, registration.fraud_flagged_by) == (True, cast.manager)
    assert registration not in Registration.objects.valid()
    assert Registration.objects.valid().count() == 4
    assert [(e.action, e.after) for e in new_events(before)] == [
        ("leads.registration.fraud", {"is_fraud": True, "reason": "号码是编的"})
    ]
    # and cleared again
    cleared = post(api, cast.admin, {"is_fraud": False}, url=f"{URL}{registration.pk}/fraud/")
    assert (cleared.status_code, cleared.json()["is_fraud"], cleared.json()["fraud_reason"]) == (
        200,
        False,
        "",
    )
    assert Registration.objects.valid().count() == 5


@pytest.mark.parametrize(
    ("persona", "name", "status", "expected"),
    [
        ("consultant", "mine", 403, DENIED),
        ("promoter", "field", 403, DENIED),
        ("broker", "referral", 403, DENIED),
        ("other_consultant", "mine", 404, NOT_FOUND),
        ("other_manager", "mine", 404, NOT_FOUND),
        ("manager", "theirs", 404, NOT_FOUND),
        ("commissioner", "field", 404, NOT_FOUND),
        ("region_manager", "hq", 404, NOT_FOUND),
    ],
)
def test_only_managers_over_it_flag_fraud(
    cast: Any, api: Any, world: World, persona: str, name: str, status: int, expected: dict
) -> None:
    registration = registration_of(world, name)
    before = everything()
    response = post(
        api, cast.all()[persona], {"reason": "假的"}, url=f"{URL}{registration.pk}/fraud/"
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, {"reason": ["Say why the registration is false."]}),
        ({"reason": "   "}, {"reason": ["Say why the registration is false."]}),
        ({"reason": "x" * 201}, {"reason": [TOO_LONG.format(n=200)]}),
        ({"reason": "假的", "is_fraud": "yes"}, {"is_fraud": ["Must be true or false."]}),
        ({"reason": 5}, {"reason": ["Expected text."]}),
        (
            {"reason": "假的", "by": 1},
            {"by": ["Unknown field, or one that cannot be changed here; valid: reason, is_fraud."]},
        ),
    ],
)
def test_a_bad_fraud_flag_changes_nothing(
    cast: Any, api: Any, world: World, data: dict, fields: dict
) -> None:
    registration = registration_of(world, "mine")
    before = everything()
    response = post(api, cast.manager, data, url=f"{URL}{registration.pk}/fraud/")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


# --- channels -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "consultant", "promoter", "broker"])
def test_everyone_lists_the_channels_with_their_codes(cast: Any, api: Any, persona: str) -> None:
    response = api(fresh(cast.all()[persona])).get("/api/v1/channels/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [c["code"] for c in results] == CHANNEL_CODES
    phone = results[CHANNEL_CODES.index("phone")]
    assert {k: phone[k] for k in ("code", "name", "name_en", "protection_days", "is_active")} == {
        "code": "phone",
        "name": "来电",
        "name_en": "Phone call",
        "protection_days": 30,
        "is_active": True,
    }


def test_the_channel_list_filters_on_active(cast: Any, api: Any) -> None:
    Channel.objects.filter(code__in=["tour", "flyer"]).update(is_active=False)
    response = api(fresh(cast.consultant)).get("/api/v1/channels/", {"is_active": "false"})
    assert [c["code"] for c in response.json()["results"]] == ["flyer", "tour"]


def test_an_admin_adds_a_channel_and_it_can_be_registered_through(cast: Any, api: Any) -> None:
    before = last_event_pk()
    response = post(
        api,
        cast.admin,
        {
            "code": "Wechat_Group",
            "name": "微信群",
            "name_en": "WeChat group",
            "protection_days": 14,
        },
        url="/api/v1/channels/",
    )
    assert response.status_code == 201
    channel = Channel.objects.get(code="wechat_group")
    assert response.json() == {
        "id": channel.pk,
        "code": "wechat_group",
        "name": "微信群",
        "name_en": "WeChat group",
        "protection_days": 14,
        "is_active": True,
        "sort_order": 100,
        "created_at": local_iso(channel.created_at),
        "updated_at": local_iso(channel.updated_at),
    }
    assert [e.action for e in new_events(before)] == ["leads.channel.create"]
    post(api, cast.consultant, body(channel="wechat_group"))
    assert close_to_now_plus(Customer.objects.get().protected_until, 14)


def test_an_admin_edits_the_protection_period(cast: Any, api: Any) -> None:
    channel = Channel.objects.get(code="phone")
    before = last_event_pk()
    response = api(fresh(cast.admin)).patch(
        f"/api/v1/channels/{channel.pk}/", {"protection_days": 45, "name_en": "Call"}, format="json"
    )
    assert response.status_code == 200
    assert (
        response.json()["protection_days"],
        response.json()["name_en"],
        response.json()["code"],
    ) == (45, "Call", "phone")
    events = new_events(before)
    assert [
        (e.action, e.before["protection_days"], e.after["protection_days"]) for e in events
    ] == [("leads.channel.update", 30, 45)]
    post(api, cast.consultant, body())
    assert close_to_now_plus(Customer.objects.get().protected_until, 45)


@pytest.mark.parametrize(
    "persona", ["region_manager", "manager", "consultant", "commissioner", "promoter", "broker"]
)
def test_only_admins_change_channels(cast: Any, api: Any, persona: str) -> None:
    channel = Channel.objects.get(code="phone")
    before = everything()
    created = post(
        api, cast.all()[persona], {"code": "new_one", "name": "新"}, url="/api/v1/channels/"
    )
    edited = api(fresh(cast.all()[persona])).patch(
        f"/api/v1/channels/{channel.pk}/", {"protection_days": 1}, format="json"
    )
    assert (created.status_code, created.json()) == (403, DENIED)
    assert (edited.status_code, edited.json()) == (403, DENIED)
    assert everything() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {"code": "bad code", "name": "x"},
            {"code": ["A code is 1 to 32 letters, digits or underscores (e.g. walk_in)."]},
        ),
        (
            {"code": "渠道", "name": "x"},
            {"code": ["A code is 1 to 32 letters, digits or underscores (e.g. walk_in)."]},
        ),
        ({"code": "phone", "name": "x"}, {"code": ["A channel with this code already exists."]}),
        ({"code": "PHONE", "name": "x"}, {"code": ["A channel with this code already exists."]}),
        ({"code": "x" * 33, "name": "x"}, {"code": [TOO_LONG.format(n=32)]}),
        ({"code": "new_one"}, {"name": [REQUIRED]}),
        ({"code": "new_one", "name": "   "}, {"name": ["This field may not be blank."]}),
        ({"code": "new_one", "name": "x" * 51}, {"name": [TOO_LONG.format(n=50)]}),
        (
            {"code": "new_one", "name": "x", "protection_days": -1},
            {"protection_days": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            {"code": "new_one", "name": "x", "protection_days": 3651},
            {"protection_days": ["Ensure this value is less than or equal to 3650."]},
        ),
        (
            {"code": "new_one", "name": "x", "protection_days": "30"},
            {"protection_days": ["Expected a whole number."]},
        ),
        (
            {"code": "new_one", "name": "x", "protection_days": 7.5},
            {"protection_days": ["Expected a whole number."]},
        ),
        (
            {"code": "new_one", "name": "x", "is_active": "no"},
            {"is_active": ["Must be true or false."]},
        ),
        (
            {"code": "new_one", "name": "x", "id": 99},
            {
                "id": [
                    "Unknown field, or one that cannot be changed here; valid: name, name_en, protection_days, is_active, sort_order, code."
                ]
            },
        ),
    ],
)
def test_a_bad_new_channel_changes_nothing(cast: Any, api: Any, data: dict, fields: dict) -> None:
    before = everything()
    response = post(api, cast.admin, data, url="/api/v1/channels/")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {"code": "call"},
            {
                "code": [
                    "Unknown field, or one that cannot be changed here; valid: name, name_en, protection_days, is_active, sort_order."
                ]
            },
        ),
        ({"protection_days": None}, {"protection_days": ["This field may not be null."]}),
        ({"protection_days": True}, {"protection_days": ["Expected a whole number."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
    ],
)
def test_a_bad_channel_edit_changes_nothing(cast: Any, api: Any, data: dict, fields: dict) -> None:
    channel = Channel.objects.get(code="phone")
    before = everything()
    response = api(fresh(cast.admin)).patch(f"/api/v1/channels/{channel.pk}/", data, format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


def test_an_unknown_channel_is_404(cast: Any, api: Any) -> None:
    response = api(fresh(cast.admin)).patch(
        "/api/v1/channels/999999/", {"name": "x"}, format="json"
    )
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# --- conflicts ------------------------------------------------------------------------------


@pytest.fixture
def clash(cast: Any, world: World) -> Conflict:
    """The other consultant (二组) registers the consultant's (一组) protected customer."""
    register(cast.other_consultant, NUMBERS["mine"], kind="visit")
    return Conflict.objects.get()


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("admin", True),
        ("region_manager", True),
        ("manager", True),  # over the customer's team
        ("other_manager", True),  # over the claimant's team
        ("consultant", True),  # the owner
        ("other_consultant", True),  # the claimant
        ("commissioner", False),
        ("promoter", False),
        ("broker", False),
    ],
)
def test_who_sees_a_conflict(
    cast: Any, api: Any, clash: Conflict, persona: str, sees: bool
) -> None:
    client = api(fresh(cast.all()[persona]))
    listed = client.get("/api/v1/conflicts/").json()
    detail = client.get(f"/api/v1/conflicts/{clash.pk}/")
    if sees:
        assert [c["id"] for c in listed["results"]] == [clash.pk]
        assert detail.json() == {
            "id": clash.pk,
            "customer": clash.customer_id,
            "registration": clash.registration_id,
            "kind": "visit",
            "channel": "phone",
            "claimant": cast.other_consultant.pk,
            "owner": cast.consultant.pk,
            "status": "open",
            "decision": "",
            "resolved_by": None,
            "resolved_at": None,
            "note": "",
            "created_at": local_iso(clash.created_at),
        }
    else:
        assert listed["results"] == []
        assert (detail.status_code, detail.json()) == (404, NOT_FOUND)


def test_the_queue_filters_on_status(cast: Any, api: Any, world: World, clash: Conflict) -> None:
    register(cast.consultant, NUMBERS["theirs"])
    second = Conflict.objects.exclude(pk=clash.pk).get()
    Conflict.objects.filter(pk=second.pk).update(status="resolved")
    client = api(fresh(cast.region_manager))
    assert [
        c["id"] for c in client.get("/api/v1/conflicts/", {"status": "open"}).json()["results"]
    ] == [clash.pk]
    assert [
        c["id"] for c in client.get("/api/v1/conflicts/", {"status": "resolved"}).json()["results"]
    ] == [second.pk]
    assert {c["id"] for c in client.get("/api/v1/conflicts/").json()["results"]} == {
        clash.pk,
        second.pk,
    }
    bad = client.get("/api/v1/conflicts/", {"status": "closed"})
    assert bad.status_code == 400


def test_a_manager_keeps_the_owner(cast: Any, api: Any, clash: Conflict) -> None:
    customer = Customer.objects.values().get(pk=clash.customer_id)
    before = last_event_pk()
    response = post(
        api,
        cast.manager,
        {"decision": "keep_owner", "note": "张三先来的"},
        url=f"/api/v1/conflicts/{clash.pk}/resolve/",
    )
    assert response.status_code == 200
    clash.refresh_from_db()
    assert {k: response.json()[k] for k in ("status", "decision", "resolved_by", "note")} == {
        "status": "resolved",
        "decision": "keep_owner",
        "resolved_by": cast.manager.pk,
        "note": "张三先来的",
    }
    assert response.json()["resolved_at"] == local_iso(clash.resolved_at)
    assert Customer.objects.values().get(pk=clash.customer_id) == customer
    assert [(e.action, e.after, e.source) for e in new_events(before)] == [
        (
            "leads.conflict.resolve",
            {"decision": "keep_owner", "note": "张三先来的", "owner": cast.consultant.pk},
            "api",
        )
    ]


def test_a_manager_transfers_the_customer_to_the_claimant(
    cast: Any, api: Any, clash: Conflict
) -> None:
    before = last_event_pk()
    response = post(
        api,
        cast.other_manager,
        {"decision": "transfer", "note": "李四带看过"},
        url=f"/api/v1/conflicts/{clash.pk}/resolve/",
    )
    assert response.status_code == 200
    assert response.json()["decision"] == "transfer"
    customer = Customer.objects.get(pk=clash.customer_id)
    assert (customer.owner, customer.node, customer.registered_by) == (
        cast.other_consultant,
        cast.other_team,
        cast.other_consultant,
    )
    assert close_to_now_plus(customer.protected_until, 30)
    assert Assignment.objects.filter(customer=customer).order_by("pk").last().reason == "conflict"
    assert [e.action for e in new_events(before)] == ["leads.conflict.resolve"]


def test_a_conflict_is_resolved_once(cast: Any, api: Any, clash: Conflict) -> None:
    url = f"/api/v1/conflicts/{clash.pk}/resolve/"
    assert (
        post(api, cast.manager, {"decision": "keep_owner", "note": ""}, url=url).status_code == 200
    )
    before = everything()
    again = post(api, cast.other_manager, {"decision": "transfer", "note": "改判"}, url=url)
    assert (again.status_code, again.json()) == (
        400,
        invalid({"decision": ["This conflict has already been resolved."]}),
    )
    assert everything() == before


@pytest.mark.parametrize(
    ("persona", "status", "expected"),
    [
        ("consultant", 403, DENIED),
        ("other_consultant", 403, DENIED),
        ("commissioner", 404, NOT_FOUND),
        ("promoter", 404, NOT_FOUND),
        ("broker", 404, NOT_FOUND),
    ],
)
def test_only_managers_resolve(
    cast: Any, api: Any, clash: Conflict, persona: str, status: int, expected: dict
) -> None:
    before = everything()
    response = post(
        api,
        cast.all()[persona],
        {"decision": "transfer", "note": ""},
        url=f"/api/v1/conflicts/{clash.pk}/resolve/",
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {"decision": "split", "note": ""},
            {"decision": ['"split" is not a valid choice; choose one of: keep_owner, transfer.']},
        ),
        ({"note": ""}, {"decision": [REQUIRED]}),
        ({"decision": "transfer"}, {"note": [REQUIRED]}),
        ({"decision": "transfer", "note": "x" * 2001}, {"note": [TOO_LONG.format(n=2000)]}),
        ({"decision": "transfer", "note": 1}, {"note": ["Expected text."]}),
    ],
)
def test_a_bad_resolution_changes_nothing(
    cast: Any, api: Any, clash: Conflict, data: dict, fields: dict
) -> None:
    before = everything()
    response = post(api, cast.manager, data, url=f"/api/v1/conflicts/{clash.pk}/resolve/")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


# --- query counts ---------------------------------------------------------------------------


def grow(cast: Any, start: int) -> None:
    """20 more registrations (and so customers, conflicts…) seen by every list below."""
    for i in range(10):
        number = f"1370000{start + i:04d}"
        register(cast.consultant, number, note="n")
        register(cast.other_consultant, number, kind="visit")
    for i in range(10, 20):
        Channel.objects.create(code=f"extra_{start + i}", name=f"渠道{i}")


@pytest.mark.parametrize(
    ("persona", "url", "queries"),
    [
        ("admin", URL, 4),
        ("manager", URL, 5),
        ("consultant", URL, 4),
        ("broker", URL, 4),
        ("admin", "/api/v1/conflicts/", 4),
        ("region_manager", "/api/v1/conflicts/", 5),
        ("consultant", "/api/v1/conflicts/", 4),
        ("consultant", "/api/v1/channels/", 3),
    ],
)
def test_list_query_count_does_not_grow_with_rows(
    cast: Any,
    api: Any,
    world: World,
    django_assert_num_queries: Any,
    persona: str,
    url: str,
    queries: int,
) -> None:
    staff = cast.all()[persona]
    grow(cast, 0)
    with django_assert_num_queries(queries):
        small = api(fresh(staff)).get(url, {"page_size": 200})
    grow(cast, 100)
    with django_assert_num_queries(queries):
        large = api(fresh(staff)).get(url, {"page_size": 200})
    assert small.status_code == large.status_code == 200
    if persona != "broker":
        assert large.json()["count"] >= small.json()["count"] + 10


def test_registering_takes_a_bounded_number_of_queries(
    cast: Any, api: Any, django_assert_max_num_queries: Any
) -> None:
    client = api(fresh(cast.consultant))
    with django_assert_max_num_queries(25):
        assert client.post(URL, body(), format="json").status_code == 201
    client = api(fresh(cast.other_consultant))
    with django_assert_max_num_queries(15):
        assert client.post(URL, body(kind="visit"), format="json").json()["result"] == "conflict"


# --- assignment -----------------------------------------------------------------------------

ASSIGN = "/api/v1/assignments/"


def test_a_manager_assigns_customers_by_hand_each_saying_why(
    cast: Any, api: Any, world: World
) -> None:
    before = last_event_pk()
    response = post(
        api,
        cast.manager,
        {
            "customers": [world.field.pk, world.referral.pk],
            "to_staff": cast.consultant.pk,
            "reason_note": "熟悉片区",
        },
        url=ASSIGN,
    )
    why = "Assigned by Manager to Consultant. 熟悉片区"
    assert (response.status_code, response.json()) == (
        200,
        [
            {"customer": world.field.pk, "to": cast.consultant.pk, "reason": why},
            {"customer": world.referral.pk, "to": cast.consultant.pk, "reason": why},
        ],
    )
    assert set(
        Customer.objects.filter(owner=cast.consultant).values_list("pk", flat=True)
    ) == world.ids("mine", "field", "referral")
    assert list(
        Assignment.objects.filter(reason="manual")
        .order_by("pk")
        .values_list("customer", "to_staff", "explanation")
    ) == [(world.field.pk, cast.consultant.pk, why), (world.referral.pk, cast.consultant.pk, why)]
    assert [e.action for e in new_events(before)] == ["leads.customer.assign"] * 2


@pytest.mark.parametrize(
    ("persona", "data", "status", "expected"),
    [
        ("consultant", {"customers": ["mine"], "to_staff": "consultant"}, 403, DENIED),
        ("commissioner", {"customers": ["mine"], "to_staff": "consultant"}, 403, DENIED),
        (
            "manager",
            {"customers": ["mine"], "to_staff": "promoter"},
            400,
            invalid(
                {"to_staff": ["Customers go to a consultant or a manager; choose one of them."]}
            ),
        ),
        (
            "manager",
            {"customers": ["theirs"], "to_staff": "consultant"},
            400,
            "unknown customer theirs",
        ),
        (
            "manager",
            {"customers": ["mine"], "to_staff": "other_consultant"},
            400,
            "unknown staff other_consultant",
        ),
        (
            "other_manager",
            {"customers": ["theirs", "mine"], "to_staff": "other_consultant"},
            400,
            "unknown customer mine",
        ),
        (
            "promoter",
            {"customers": ["field"], "to_staff": "consultant"},
            400,
            "unknown staff consultant",
        ),
        (
            "broker",
            {"customers": ["referral"], "to_staff": "consultant"},
            400,
            "unknown staff consultant",
        ),
    ],
)
def test_assignments_that_are_refused_change_nothing(
    cast: Any, api: Any, world: World, persona: str, data: dict, status: int, expected: Any
) -> None:
    if isinstance(expected, str):
        _unknown, what, name = expected.split()
        pk = getattr(world, name).pk if what == "customer" else cast.all()[name].pk
        expected = invalid(
            {"customers" if what == "customer" else "to_staff": [f"Unknown id {pk}."]}
        )
    body = {
        "customers": [getattr(world, n).pk for n in data["customers"]],
        "to_staff": cast.all()[data["to_staff"]].pk,
    }
    before = everything()
    response = post(api, cast.all()[persona], body, url=ASSIGN)
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {"customers": [], "to_staff": "{consultant}"},
            {"customers": ["This list may not be empty."]},
        ),
        (
            {"customers": "{field}", "to_staff": "{consultant}"},
            {"customers": ['Expected a list of items but got type "int".']},
        ),
        ({"customers": ["{field}"], "to_staff": "{consultant}"}, None),
        (
            {"customers": [0], "to_staff": "{consultant}"},
            {"customers.0": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"customers": list(range(1, 502)), "to_staff": "{consultant}"},
            {"customers": ["Ensure this field has no more than 500 elements."]},
        ),
        (
            {"customers": [999999], "to_staff": "{consultant}"},
            {"customers": ["Unknown id 999999."]},
        ),
        ({"customers": ["@field"]}, {"to_staff": ["This field is required."]}),
        (
            {"customers": ["@field"], "to_staff": "{consultant}", "reason_note": "x" * 201},
            {"reason_note": [TOO_LONG.format(n=200)]},
        ),
        (
            {"customers": ["@field"], "to_staff": "{consultant}", "why": "x"},
            {
                "why": [
                    "Unknown field, or one that cannot be changed here; valid: customers, to_staff, reason_note."
                ]
            },
        ),
    ],
)
def test_a_bad_assignment_changes_nothing(
    cast: Any, api: Any, world: World, data: dict, fields: dict | None
) -> None:
    values = {"consultant": cast.consultant.pk, "field": world.field.pk}

    def fill(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("{"):
            return int(value.format(**values))
        if isinstance(value, list):
            # "{field}": the id as a string (not an id); "@field": the id itself
            return [
                str(world.field.pk) if v == "{field}" else world.field.pk if v == "@field" else v
                for v in value
            ]
        return value

    data = {k: fill(v) for k, v in data.items()}
    if fields is None:  # ids as strings are not ids
        fields = {"customers.0": ["Expected an id (a whole number)."]}
    before = everything()
    response = post(api, cast.manager, data, url=ASSIGN)
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert everything() == before


def test_round_robin_shares_unowned_customers_and_says_why_not(
    cast: Any, api: Any, world: World
) -> None:
    before = last_event_pk()
    response = post(
        api,
        cast.manager,
        {"customers": [world.field.pk, world.mine.pk, world.referral.pk], "node": cast.team.pk},
        url=ASSIGN + "round-robin/",
    )
    assert (response.status_code, response.json()) == (
        200,
        [
            {
                "customer": world.field.pk,
                "to": cast.consultant.pk,
                "reason": "Round-robin in 一组: weight 100 of 100; no. 1 of 3 in this batch.",
            },
            {
                "customer": world.mine.pk,
                "to": None,
                "why_not": "Already owned by Consultant; reassign it by hand if needed.",
            },
            {
                "customer": world.referral.pk,
                "to": cast.consultant.pk,
                "reason": "Round-robin in 一组: weight 100 of 100; no. 3 of 3 in this batch.",
            },
        ],
    )
    assert list(
        Assignment.objects.filter(reason="round_robin")
        .values_list("customer", flat=True)
        .order_by("pk")
    ) == [
        world.field.pk,
        world.referral.pk,
    ]
    assert [e.action for e in new_events(before)] == ["leads.customer.assign"] * 2


@pytest.mark.parametrize(
    ("persona", "name", "node", "status", "expected"),
    [
        ("consultant", "mine", "team", 403, DENIED),
        ("promoter", "field", "team", 403, DENIED),
        ("broker", "referral", "team", 400, "unknown node"),
        ("broker", "field", "team", 400, "unknown both"),
        ("other_manager", "referral", "team", 400, "unknown node"),
        ("manager", "referral", "area", 403, DENIED),
    ],
)
def test_round_robins_that_are_refused_change_nothing(
    cast: Any,
    api: Any,
    world: World,
    persona: str,
    name: str,
    node: str,
    status: int,
    expected: Any,
) -> None:
    node_pk, customer_pk = getattr(cast, node).pk, getattr(world, name).pk
    if expected == "unknown both":
        expected = invalid(
            {"customers": [f"Unknown id {customer_pk}."], "node": [f"Unknown id {node_pk}."]}
        )
    elif expected == "unknown node":
        expected = invalid({"node": [f"Unknown id {node_pk}."]})
    before = everything()
    response = post(
        api,
        cast.all()[persona],
        {"customers": [customer_pk], "node": node_pk},
        url=ASSIGN + "round-robin/",
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


# --- the pool -------------------------------------------------------------------------------

POOL_SEES = {
    "admin": {"field", "referral"},
    "region_manager": {"field", "referral"},
    "manager": {"field", "referral"},
    "other_manager": {"field", "referral"},
    "consultant": {"field", "referral"},
    "other_consultant": {"field", "referral"},
    "commissioner": set(),
    "promoter": set(),
    "broker": set(),
}


@pytest.mark.parametrize("persona", sorted(POOL_SEES))
def test_who_sees_which_customers_in_the_pool(
    cast: Any, api: Any, world: World, persona: str
) -> None:
    response = api(fresh(cast.all()[persona])).get("/api/v1/pool/")
    assert response.status_code == 200
    assert {c["id"] for c in response.json()["results"]} == world.ids(*POOL_SEES[persona])


def test_a_consultant_claims_a_customer_from_the_pool(cast: Any, api: Any, world: World) -> None:
    before = last_event_pk()
    response = post(api, cast.other_consultant, {}, url=f"/api/v1/pool/{world.field.pk}/claim/")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["owner"], response.json()["node"]) == (
        world.field.pk,
        cast.other_consultant.pk,
        cast.other_team.pk,
    )
    assert [e.action for e in new_events(before)] == ["leads.pool.claim"]
    assert {
        c["id"] for c in api(fresh(cast.consultant)).get("/api/v1/pool/").json()["results"]
    } == world.ids("referral")


@pytest.mark.parametrize(
    ("persona", "name", "status", "expected"),
    [
        ("promoter", "field", 404, NOT_FOUND),
        ("broker", "referral", 404, NOT_FOUND),
        ("commissioner", "field", 404, NOT_FOUND),
        ("consultant", "mine", 404, NOT_FOUND),  # owned: not in the pool
        ("admin", "theirs", 404, NOT_FOUND),
    ],
)
def test_claims_outside_your_pool_are_404(
    cast: Any, api: Any, world: World, persona: str, name: str, status: int, expected: dict
) -> None:
    before = everything()
    response = post(
        api, cast.all()[persona], {}, url=f"/api/v1/pool/{getattr(world, name).pk}/claim/"
    )
    assert (response.status_code, response.json()) == (status, expected)
    assert everything() == before


def test_the_daily_quota_stops_a_claim(cast: Any, api: Any, world: World) -> None:
    from kehu.leads.models import PoolSettings

    PoolSettings.objects.filter(pk=1).update(claim_daily_quota=0)
    before = everything()
    response = post(api, cast.consultant, {}, url=f"/api/v1/pool/{world.field.pk}/claim/")
    assert (response.status_code, response.json()) == (
        400,
        invalid(
            {
                "customer": [
                    "You have claimed 0 customers today, your daily quota of 0; claim more tomorrow or ask your manager to assign one."
                ]
            }
        ),
    )
    assert everything() == before


@pytest.mark.parametrize("persona", ["admin", "consultant", "broker"])
def test_everyone_reads_the_pool_rules(cast: Any, api: Any, persona: str) -> None:
    response = api(fresh(cast.all()[persona])).get("/api/v1/pool-settings/")
    assert (response.status_code, response.json()) == (
        200,
        {
            "return_days": {"A": 30, "B": 20, "C": 15, "D": 10, "": 15},
            "return_lost": True,
            "claim_daily_quota": 10,
            "no_reclaim_days": 30,
            "ownership_cap": 2000,
            "sleeping_days": 30,
        },
    )


def test_an_admin_changes_the_pool_rules(cast: Any, api: Any) -> None:
    before = last_event_pk()
    response = api(fresh(cast.admin)).patch(
        "/api/v1/pool-settings/",
        {"claim_daily_quota": 3, "return_days": {"A": 40, "": 20}},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["claim_daily_quota"], response.json()["return_days"]) == (
        3,
        {"A": 40, "": 20},
    )
    assert [e.action for e in new_events(before)] == ["leads.pool.settings"]


@pytest.mark.parametrize(
    ("persona", "data", "status", "fields"),
    [
        ("manager", {"claim_daily_quota": 3}, 403, None),
        ("consultant", {"ownership_cap": 3}, 403, None),
        (
            "admin",
            {"claim_daily_quota": -1},
            400,
            {"claim_daily_quota": ["Ensure this value is greater than or equal to 0."]},
        ),
        ("admin", {"ownership_cap": "10"}, 400, {"ownership_cap": ["Expected a whole number."]}),
        (
            "admin",
            {"return_days": {"Z": 3}},
            400,
            {
                "return_days": [
                    'Days per intent grade, e.g. {"A": 30, "B": 20, "C": 15, "D": 10, "": 15} ("" is for customers without a grade).'
                ]
            },
        ),
        (
            "admin",
            {"return_days": {"A": 0}},
            400,
            {"return_days.A": ["Ensure this value is greater than or equal to 1."]},
        ),
        ("admin", {"return_lost": "yes"}, 400, {"return_lost": ["Must be true or false."]}),
        (
            "admin",
            {"pk": 2},
            400,
            {
                "pk": [
                    "Unknown field, or one that cannot be changed here; valid: return_days, return_lost, claim_daily_quota, no_reclaim_days, ownership_cap, sleeping_days."
                ]
            },
        ),
    ],
)
def test_bad_or_denied_pool_rule_changes_change_nothing(
    cast: Any, api: Any, persona: str, data: dict, status: int, fields: dict | None
) -> None:
    before = everything() | {"settings": list(PoolSettings.objects.values())}
    response = api(fresh(cast.all()[persona])).patch("/api/v1/pool-settings/", data, format="json")
    assert (response.status_code, response.json()) == (
        status,
        DENIED if fields is None else invalid(fields),
    )
    assert everything() | {"settings": list(PoolSettings.objects.values())} == before


@pytest.mark.parametrize(("persona", "queries"), [("admin", 6), ("manager", 7), ("consultant", 7)])
def test_the_pool_list_query_count_does_not_grow(
    cast: Any, api: Any, world: World, django_assert_num_queries: Any, persona: str, queries: int
) -> None:
    def grow(start: int) -> None:
        for i in range(10):
            register(cast.promoter, f"1370000{start + i:04d}", kind="field")
            register(cast.broker, f"1380000{start + i:04d}", kind="broker")

    grow(0)
    with django_assert_num_queries(queries):
        small = api(fresh(cast.all()[persona])).get("/api/v1/pool/", {"page_size": 200})
    grow(100)
    with django_assert_num_queries(queries):
        large = api(fresh(cast.all()[persona])).get("/api/v1/pool/", {"page_size": 200})
    assert large.json()["count"] == small.json()["count"] + 20
