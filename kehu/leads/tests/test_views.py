"""The registration pages (sales floor, promoter's phone page, broker portal), the
duplicate check before saving, the conflict queue, the pool and the landing page,
persona by persona. Each write has an allowed case and a denied case that proves
nothing changed."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.utils import timezone

from conftest import Cast
from kehu.core.models import AuditEvent
from kehu.customers.models import Customer, CustomerPhone
from kehu.leads.models import Assignment, Conflict, PoolEvent, PoolSettings, Registration
from kehu.leads.services import register_lead

pytestmark = pytest.mark.django_db

PERSONAS = [
    "admin",
    "region_manager",
    "manager",
    "other_manager",
    "consultant",
    "other_consultant",
    "commissioner",
    "promoter",
    "broker",
]
MANAGERS = {"admin", "region_manager", "manager", "other_manager"}
SALES_FLOOR = MANAGERS | {"consultant", "other_consultant"}
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
ANSWER = re.compile(r'data-answer="([a-z]*)"')


def add(actor, phone: str, name: str, kind: str = "call", channel: str = "phone") -> Customer:
    return register_lead(actor=actor, phone=phone, kind=kind, channel=channel, name=name).customer


@pytest.fixture
def world(cast: Cast) -> dict[str, Customer]:
    return {
        "mine": add(cast.consultant, "13900000001", "甲先生"),
        "theirs": add(cast.other_consultant, "13900000002", "乙女士"),
        "field": add(cast.promoter, "13900000003", "丙", kind="field", channel="flyer"),
        "referral": add(cast.broker, "13900000004", "丁", kind="broker", channel="broker"),
    }


def db_state() -> dict[str, Any]:
    """Everything these pages can write, to prove a refused write changed nothing."""
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "phones": list(CustomerPhone.objects.order_by("pk").values()),
        "registrations": list(Registration.objects.order_by("pk").values()),
        "conflicts": list(Conflict.objects.order_by("pk").values()),
        "assignments": list(Assignment.objects.order_by("pk").values()),
        "pool_events": list(PoolEvent.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


def answer_of(response: Any) -> str:
    return ANSWER.findall(response.content.decode())[0]


# --- access ---------------------------------------------------------------------------------

PAGES = {
    "/leads/register/": SALES_FLOOR,
    "/leads/field/": SALES_FLOOR | {"commissioner", "promoter"},
    "/leads/broker/": {"admin", "broker"},
    "/leads/conflicts/": MANAGERS,
    "/leads/pool/": SALES_FLOOR,
    "/leads/check/?phone=13900000001": set(PERSONAS),
}


@pytest.mark.parametrize("url", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_log_in(web: Any, url: str):
    response = web(None).get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", sorted(PAGES))
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_page_opens_for_its_people_only(cast: Cast, web: Any, url: str, persona: str):
    response = web(getattr(cast, persona)).get(url)

    assert response.status_code == (200 if persona in PAGES[url] else 404)


@pytest.mark.parametrize(
    "url",
    [
        "/leads/register/",
        "/leads/field/",
        "/leads/broker/",
        "/leads/conflicts/1/resolve/",
        "/leads/pool/1/claim/",
    ],
)
def test_anonymous_writes_change_nothing(world, web: Any, url: str):
    before = db_state()

    response = web(None).post(url, {"phone": "13900000077", "kind": "call", "channel": "phone"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert db_state() == before


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("admin", "/customers/"),
        ("region_manager", "/customers/"),
        ("manager", "/customers/"),
        ("consultant", "/customers/"),
        ("commissioner", "/customers/"),
        ("promoter", "/leads/field/"),
        ("broker", "/leads/broker/"),
    ],
)
def test_home_sends_each_person_to_their_page(cast: Cast, web: Any, persona: str, landing: str):
    response = web(getattr(cast, persona)).get("/")

    assert response.status_code == 302
    assert response["Location"] == landing


@pytest.mark.parametrize("persona", PERSONAS)
def test_navigation_links_match_the_pages_one_may_open(cast: Cast, web: Any, persona: str):
    content = web(getattr(cast, persona)).get("/org/me/").content.decode()

    links = {
        url: f'href="{url}"' in content
        for url in [
            "/customers/",
            "/leads/register/",
            "/leads/field/",
            "/leads/broker/",
            "/leads/conflicts/",
            "/leads/pool/",
        ]
    }
    assert links == {
        "/customers/": persona != "broker",
        "/leads/register/": persona in {"consultant", "other_consultant"},
        "/leads/field/": persona in {"commissioner", "promoter"},
        "/leads/broker/": persona == "broker",
        "/leads/conflicts/": persona in MANAGERS,
        "/leads/pool/": persona in SALES_FLOOR,
    }


# --- the duplicate check before saving -----------------------------------------------------------


def check(client: Any, phone: str) -> Any:
    return client.get("/leads/check/", {"phone": phone}, HTTP_HX_REQUEST="true")


def test_check_says_new_for_an_unknown_number(cast: Cast, world, web: Any):
    response = check(web(cast.consultant), "139 0000 0099")

    assert answer_of(response) == "new"
    assert "New customer." in response.content.decode()
    assert "<html" not in response.content.decode()


def test_check_says_existing_and_yours_with_a_link(cast: Cast, world, web: Any):
    response = check(web(cast.consultant), "+86 139 0000 0001")

    content = response.content.decode()
    assert answer_of(response) == "mine"
    assert f'href="/customers/{world["mine"].pk}/"' in content
    assert "甲先生" in content


def test_check_says_protected_for_someone_else_until_when_without_revealing_whom(
    cast: Cast, world, web: Any
):
    until = timezone.localtime(world["mine"].protected_until).strftime("%Y-%m-%d %H:%M")

    response = check(web(cast.other_consultant), "13900000001")

    content = response.content.decode()
    assert answer_of(response) == "protected"
    assert f"Existing — protected for someone else until {until}." in content
    assert "甲先生" not in content
    assert "/customers/" not in content


def test_check_says_a_lapsed_protection_credits_the_next_registrant(cast: Cast, world, web: Any):
    Customer.objects.filter(pk=world["mine"].pk).update(
        protected_until=timezone.now() - datetime.timedelta(days=1)
    )

    response = check(web(cast.other_consultant), "13900000001")

    assert answer_of(response) == "expired"


def test_a_manager_sees_the_customer_of_their_team(cast: Cast, world, web: Any):
    response = check(web(cast.manager), "13900000001")

    assert answer_of(response) == "protected"
    assert f'href="/customers/{world["mine"].pk}/"' in response.content.decode()


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("139123", "A mainland mobile number has 11 digits; this one has 6."),
        ("139123456789", "A mainland mobile number has 11 digits; this one has 12."),
        ("12345678901", "This number does not exist: check the prefix and the number of digits."),
        ("139abc45678", "A phone number may contain only digits, spaces, dashes and a leading +."),
    ],
)
def test_check_says_why_a_number_is_wrong(cast: Cast, web: Any, phone: str, reason: str):
    response = check(web(cast.consultant), phone)

    assert answer_of(response) == "invalid"
    assert reason in response.content.decode()


def test_check_waits_for_a_few_digits(cast: Cast, web: Any):
    response = check(web(cast.consultant), "13")

    assert answer_of(response) == ""


def test_a_broker_hears_existing_and_nothing_more(cast: Cast, world, web: Any):
    response = check(web(cast.broker), "13900000001")

    content = response.content.decode()
    assert answer_of(response) == "existing"
    assert "甲先生" not in content and "/customers/" not in content and "protected" not in content


def test_check_does_not_write(cast: Cast, world, web: Any):
    before = db_state()

    check(web(cast.consultant), "13900000099")
    check(web(cast.other_consultant), "13900000001")

    assert db_state() == before


# --- the sales-floor registration ----------------------------------------------------------------


def floor_form(**changes: Any) -> dict[str, Any]:
    data = {
        "kind": "visit",
        "phone": "139-0000-0099",
        "name": "新客",
        "channel": "walk_in",
        "gender": "female",
        "note": "问三房",
    }
    data.update(changes)
    return data


def test_a_new_lead_is_registered_and_answered(cast: Cast, world, web: Any):
    client = web(cast.consultant)

    response = client.post("/leads/register/", floor_form())

    registration = Registration.objects.get(customer__phones__number="+8613900000099")
    assert response.status_code == 302
    assert response["Location"] == f"/leads/register/?done={registration.pk}"
    customer = registration.customer
    assert (
        registration.kind,
        registration.channel.code,
        registration.result,
        registration.registered_by_id,
    ) == (
        "visit",
        "walk_in",
        "new",
        cast.consultant.pk,
    )
    assert (customer.name, customer.gender, customer.owner_id, customer.profile) == (
        "新客",
        "female",
        cast.consultant.pk,
        {"consultation": "问三房"},
    )
    page = client.get(response["Location"])
    assert page.context["done"]["result"] == "new"
    assert page.context["done"]["customer"] == customer
    assert 'data-result="new"' in page.content.decode()
    assert f'href="/customers/{customer.pk}/"' in page.content.decode()


def test_registering_ones_own_customer_again_says_existing_yours(cast: Cast, world, web: Any):
    client = web(cast.consultant)

    response = client.post("/leads/register/", floor_form(phone="13900000001"), follow=True)

    done = response.context["done"]
    assert (done["result"], done["is_mine"], done["customer"]) == ("existing", True, world["mine"])
    assert "Existing customer — yours." in response.content.decode()
    assert Customer.objects.count() == 4


def test_registering_someone_elses_protected_customer_is_a_conflict(cast: Cast, world, web: Any):
    response = web(cast.other_consultant).post(
        "/leads/register/", floor_form(phone="13900000001"), follow=True
    )

    done = response.context["done"]
    assert (done["result"], done["customer"], done["owner"]) == ("conflict", None, cast.consultant)
    content = response.content.decode()
    assert "Conflict: this customer is protected for someone else." in content
    assert "甲先生" not in content
    conflict = Conflict.objects.get()
    assert (conflict.customer_id, conflict.claimant_id, conflict.status) == (
        world["mine"].pk,
        cast.other_consultant.pk,
        "open",
    )
    assert Customer.objects.get(pk=world["mine"].pk).owner_id == cast.consultant.pk


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"phone": "1390000"},
            {"phone": ["A mainland mobile number has 11 digits; this one has 7."]},
        ),
        ({"phone": ""}, {"phone": ["This field is required."]}),
        (
            {"channel": "nope"},
            {
                "channel": [
                    "Select a valid choice. That choice is not one of the available choices."
                ]
            },
        ),
        (
            {"kind": "broker"},
            {"kind": ["Select a valid choice. broker is not one of the available choices."]},
        ),
    ],
)
def test_a_bad_registration_says_why_and_leaves_nothing(
    cast: Cast, world, web: Any, changes, errors
):
    before = db_state()

    response = web(cast.consultant).post("/leads/register/", floor_form(**changes))

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert db_state() == before


@pytest.mark.parametrize("persona", ["commissioner", "promoter", "broker"])
def test_others_cannot_use_the_sales_floor_form(cast: Cast, world, web: Any, persona: str):
    before = db_state()

    response = web(getattr(cast, persona)).post("/leads/register/", floor_form())

    assert response.status_code == 404
    assert db_state() == before


def test_the_answer_of_someone_elses_registration_is_not_shown(cast: Cast, world, web: Any):
    theirs = Registration.objects.get(customer=world["theirs"])

    response = web(cast.consultant).get(f"/leads/register/?done={theirs.pk}")

    assert response.context["done"] is None
    assert 'data-testid="registration-answer"' not in response.content.decode()


def test_names_are_escaped_in_the_answer(cast: Cast, web: Any):
    client = web(cast.consultant)

    response = client.post("/leads/register/", floor_form(name=XSS), follow=True)

    content = response.content.decode()
    assert XSS not in content
    assert XSS_ESCAPED in content


# --- the promoter's phone page -------------------------------------------------------------------


def field_form(**changes: Any) -> dict[str, Any]:
    data = {"phone": "13900000088", "name": "路人", "channel": "flyer", "gender": "", "note": ""}
    data.update(changes)
    return data


def test_the_field_page_is_phone_first(cast: Cast, web: Any):
    content = web(cast.promoter).get("/leads/field/").content.decode()

    assert 'inputmode="tel"' in content
    assert 'type="tel"' in content
    assert 'name="lat"' in content and 'name="lng"' in content
    assert "navigator.geolocation" in content
    assert 'hx-get="/leads/check/"' in content


def test_a_promoter_registers_a_field_lead_with_their_position(cast: Cast, world, web: Any):
    client = web(cast.promoter)

    response = client.post("/leads/field/", field_form(lat="31.230416", lng="121.473701"))

    registration = Registration.objects.get(customer__phones__number="+8613900000088")
    assert response["Location"] == f"/leads/field/?done={registration.pk}"
    assert (registration.kind, registration.channel.code, registration.result) == (
        "field",
        "flyer",
        "new",
    )
    assert (str(registration.latitude), str(registration.longitude)) == ("31.230416", "121.473701")
    assert registration.customer.owner_id is None
    page = client.get(response["Location"])
    earlier = Registration.objects.get(customer=world["field"])
    assert [(r["registration"].pk, r["phone"], r["answer"]) for r in page.context["rows"]] == [
        (registration.pk, "139****0088", "new"),
        (earlier.pk, "139****0003", "new"),
    ]
    assert "13900000088" not in page.content.decode()


def test_todays_list_has_only_todays_own_field_registrations(cast: Cast, world, web: Any):
    yesterday = Registration.objects.get(customer=world["field"])
    Registration.objects.filter(pk=yesterday.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1)
    )
    register_lead(actor=cast.promoter, phone="13900000001", kind="field", channel="flyer")

    response = web(cast.promoter).get("/leads/field/")

    assert [(r["phone"], r["answer"]) for r in response.context["rows"]] == [
        ("139****0001", "conflict")
    ]


def test_a_position_out_of_range_is_refused(cast: Cast, world, web: Any):
    before = db_state()

    response = web(cast.promoter).post("/leads/field/", field_form(lat="120", lng="121"))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        'A location is {"lat": -90..90, "lng": -180..180}.'
    ]
    assert db_state() == before


def test_a_broker_cannot_use_the_field_page(cast: Cast, world, web: Any):
    before = db_state()

    response = web(cast.broker).post("/leads/field/", field_form())

    assert response.status_code == 404
    assert db_state() == before


def test_names_are_escaped_in_todays_list(cast: Cast, web: Any):
    register_lead(actor=cast.promoter, phone="13900000088", kind="field", channel="flyer", name=XSS)

    content = web(cast.promoter).get("/leads/field/").content.decode()

    assert XSS not in content
    assert XSS_ESCAPED in content


# --- the broker portal -----------------------------------------------------------------------------


def test_a_broker_refers_a_new_customer(cast: Cast, world, web: Any):
    client = web(cast.broker)

    response = client.post(
        "/leads/broker/", {"phone": "13900000066", "name": "朋友", "note": "想看房"}, follow=True
    )

    registration = Registration.objects.get(customer__phones__number="+8613900000066")
    assert (registration.kind, registration.channel.code, registration.registered_by_id) == (
        "broker",
        "broker",
        cast.broker.pk,
    )
    assert response.context["done"]["result"] == "new"
    assert "New customer: registered." in response.content.decode()


@pytest.mark.parametrize("phone", ["13900000001", "13900000004"])
def test_a_broker_hears_existing_and_nothing_more_after_saving(cast: Cast, world, web: Any, phone):
    """Whether the number is someone else's (a conflict, for the managers) or their own."""
    response = web(cast.broker).post(
        "/leads/broker/", {"phone": phone, "name": "", "note": ""}, follow=True
    )

    done = response.context["done"]
    assert (done["result"], done["customer"], done["owner"], done["protected_until"]) == (
        "existing",
        None,
        None,
        None,
    )
    content = response.content.decode()
    assert 'data-result="existing"' in content
    assert "甲先生" not in content and "Protected until" not in content


def test_referrals_show_their_status_with_numbers_masked(cast: Cast, world, web: Any):
    from kehu.activities.services import change_stage

    change_stage(actor=cast.admin, customer=world["referral"], stage="visited")
    register_lead(actor=cast.broker, phone="13900000001", kind="broker", channel="broker")

    response = web(cast.broker).get("/leads/broker/")

    assert [(r["phone"], r["result"], r["stage"], r["name"]) for r in response.context["rows"]] == [
        ("139****0001", "existing", "", ""),
        ("139****0004", "new", "Visited", "丁"),
    ]
    content = response.content.decode()
    assert "13900000001" not in content and "13900000004" not in content
    assert "甲先生" not in content


@pytest.mark.parametrize("persona", ["consultant", "manager", "promoter"])
def test_others_cannot_use_the_broker_portal(cast: Cast, world, web: Any, persona: str):
    before = db_state()

    response = web(getattr(cast, persona)).post("/leads/broker/", {"phone": "13900000066"})

    assert response.status_code == 404
    assert db_state() == before


def test_names_are_escaped_in_the_referrals(cast: Cast, web: Any):
    register_lead(actor=cast.broker, phone="13900000055", kind="broker", channel="broker", name=XSS)

    content = web(cast.broker).get("/leads/broker/").content.decode()

    assert XSS not in content
    assert XSS_ESCAPED in content


def test_broker_portal_query_count(cast: Cast, world, web: Any, django_assert_num_queries: Any):
    client = web(cast.broker)
    client.get("/leads/broker/")
    # session, user, roles, count, page, phones
    with django_assert_num_queries(6):
        client.get("/leads/broker/")
    for i in range(20):
        register_lead(actor=cast.broker, phone=f"139880000{i:02d}", kind="broker", channel="broker")
    with django_assert_num_queries(6):
        response = client.get("/leads/broker/")
    assert len(response.context["rows"]) == 21


# --- the conflict queue --------------------------------------------------------------------------


@pytest.fixture
def conflict(cast: Cast, world) -> Conflict:
    """The other team's consultant registers the consultant's protected customer."""
    register_lead(actor=cast.other_consultant, phone="13900000001", kind="call", channel="phone")
    return Conflict.objects.get()


@pytest.mark.parametrize(
    ("persona", "can_resolve"),
    [("admin", True), ("region_manager", True), ("manager", True), ("other_manager", True)],
)
def test_managers_see_the_open_conflict(cast: Cast, conflict, web: Any, persona, can_resolve):
    response = web(getattr(cast, persona)).get("/leads/conflicts/")

    assert [(r["conflict"].pk, r["can_resolve"]) for r in response.context["rows"]] == [
        (conflict.pk, can_resolve)
    ]
    content = response.content.decode()
    assert "Other_Consultant" in content and "Consultant" in content


def test_a_conflict_inside_one_team_is_not_shown_to_other_managers(cast: Cast, world, web: Any):
    register_lead(actor=cast.promoter, phone="13900000001", kind="field", channel="flyer")

    assert len(web(cast.manager).get("/leads/conflicts/").context["rows"]) == 1
    assert web(cast.other_manager).get("/leads/conflicts/").context["rows"] == []


def test_manager_keeps_the_owner(cast: Cast, conflict, web: Any):
    response = web(cast.manager).post(
        f"/leads/conflicts/{conflict.pk}/resolve/",
        {f"c{conflict.pk}-decision": "keep_owner", f"c{conflict.pk}-note": "先报备者优先"},
        follow=True,
    )

    conflict.refresh_from_db()
    assert (conflict.status, conflict.decision, conflict.resolved_by_id, conflict.note) == (
        "resolved",
        "keep_owner",
        cast.manager.pk,
        "先报备者优先",
    )
    assert Customer.objects.get(pk=conflict.customer_id).owner_id == cast.consultant.pk
    assert response.context["rows"] == []
    assert [c.pk for c in response.context["history"]] == [conflict.pk]
    assert [str(m) for m in response.context["messages"]] == [
        "Conflict on 甲先生 resolved: Keep the owner."
    ]


def test_manager_gives_the_customer_to_the_claimant(cast: Cast, conflict, web: Any):
    web(cast.other_manager).post(
        f"/leads/conflicts/{conflict.pk}/resolve/",
        {f"c{conflict.pk}-decision": "transfer", f"c{conflict.pk}-note": ""},
    )

    customer = Customer.objects.get(pk=conflict.customer_id)
    assert (customer.owner_id, customer.node_id) == (cast.other_consultant.pk, cast.other_team.pk)
    assert Assignment.objects.filter(customer=customer, reason="conflict").count() == 1


@pytest.mark.parametrize(
    "persona", ["consultant", "other_consultant", "commissioner", "promoter", "broker"]
)
def test_others_cannot_resolve(cast: Cast, conflict, web: Any, persona: str):
    before = db_state()

    response = web(getattr(cast, persona)).post(
        f"/leads/conflicts/{conflict.pk}/resolve/", {f"c{conflict.pk}-decision": "transfer"}
    )

    assert response.status_code == 404
    assert db_state() == before


def test_a_manager_outside_the_conflict_cannot_resolve_it(cast: Cast, world, web: Any):
    register_lead(actor=cast.promoter, phone="13900000001", kind="field", channel="flyer")
    conflict = Conflict.objects.get()
    before = db_state()

    response = web(cast.other_manager).post(
        f"/leads/conflicts/{conflict.pk}/resolve/", {f"c{conflict.pk}-decision": "transfer"}
    )

    assert response.status_code == 404
    assert db_state() == before


def test_a_decision_is_required_and_taken_once(cast: Cast, conflict, web: Any):
    client = web(cast.manager)
    before = db_state()

    missing = client.post(f"/leads/conflicts/{conflict.pk}/resolve/", {}, follow=True)
    assert [str(m) for m in missing.context["messages"]] == [
        "Choose a decision: keep the owner or give to the claimant."
    ]
    assert db_state() == before

    client.post(
        f"/leads/conflicts/{conflict.pk}/resolve/",
        {f"c{conflict.pk}-decision": "keep_owner"},
        follow=True,
    )
    after_first = db_state()
    again = client.post(
        f"/leads/conflicts/{conflict.pk}/resolve/",
        {f"c{conflict.pk}-decision": "transfer"},
        follow=True,
    )
    assert [str(m) for m in again.context["messages"]] == [
        "This conflict has already been resolved."
    ]
    assert db_state() == after_first


def test_conflict_queue_query_count(cast: Cast, conflict, web: Any, django_assert_num_queries: Any):
    from kehu.leads.services import resolve_conflict

    def more_conflicts(start: int, count: int, resolved: int) -> None:
        for i in range(start, start + count):
            add(cast.consultant, f"139880000{i:02d}", f"客{i}")
            register_lead(
                actor=cast.other_consultant, phone=f"139880000{i:02d}", kind="call", channel="phone"
            )
        for row in Conflict.objects.filter(status="open").order_by("id")[1 : 1 + resolved]:
            resolve_conflict(actor=cast.admin, conflict=row, decision="keep_owner")

    more_conflicts(0, 1, 1)
    client = web(cast.region_manager)
    client.get("/leads/conflicts/")
    # session, user, roles, the manager's node, open conflicts, their phones, resolved
    # count, resolved page, the customers the manager may open
    with django_assert_num_queries(10):
        client.get("/leads/conflicts/")
    more_conflicts(1, 10, 5)
    with django_assert_num_queries(10):
        response = client.get("/leads/conflicts/")
    assert (len(response.context["rows"]), len(response.context["history"])) == (6, 6)


def test_names_are_escaped_in_the_conflict_queue(cast: Cast, web: Any):
    add(cast.consultant, "13900000055", XSS)
    register_lead(actor=cast.other_consultant, phone="13900000055", kind="call", channel="phone")

    content = web(cast.manager).get("/leads/conflicts/").content.decode()

    assert XSS not in content
    assert XSS_ESCAPED in content


# --- the pool ------------------------------------------------------------------------------------


def test_pool_lists_unowned_customers_of_the_region_and_the_quota(cast: Cast, world, web: Any):
    response = web(cast.consultant).get("/leads/pool/")

    assert [r["customer"].pk for r in response.context["rows"]] == [
        world["referral"].pk,
        world["field"].pk,
    ]
    assert (response.context["claimed"], response.context["quota"]) == (0, 10)
    assert "Claimed today: 0 of 10" in response.content.decode()


def test_pool_with_htmx_returns_only_the_rows(cast: Cast, world, web: Any):
    response = web(cast.consultant).get("/leads/pool/?q=丙", HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert "<html" not in content and 'data-testid="pool-table"' in content
    assert [r["customer"].pk for r in response.context["rows"]] == [world["field"].pk]


def test_a_consultant_claims_from_the_pool(cast: Cast, world, web: Any):
    client = web(cast.consultant)

    response = client.post(f"/leads/pool/{world['field'].pk}/claim/")

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{world['field'].pk}/"
    assert Customer.objects.get(pk=world["field"].pk).owner_id == cast.consultant.pk
    assert client.get("/leads/pool/").context["claimed"] == 1


def test_claims_stop_at_the_daily_quota(cast: Cast, world, web: Any):
    PoolSettings.objects.filter(pk=1).update(claim_daily_quota=1)
    client = web(cast.consultant)
    client.post(f"/leads/pool/{world['field'].pk}/claim/", follow=True)
    before = db_state()

    response = client.post(f"/leads/pool/{world['referral'].pk}/claim/", follow=True)

    assert db_state() == before
    assert [str(m) for m in response.context["messages"]] == [
        "You have claimed 1 customers today, your daily quota of 1; claim more tomorrow or ask your manager to assign one."
    ]
    assert 'disabled data-testid="claim-' in response.content.decode()


@pytest.mark.parametrize("persona", ["commissioner", "promoter", "broker"])
def test_others_cannot_claim(cast: Cast, world, web: Any, persona: str):
    before = db_state()

    response = web(getattr(cast, persona)).post(f"/leads/pool/{world['field'].pk}/claim/")

    assert response.status_code == 404
    assert db_state() == before


def test_an_owned_customer_cannot_be_claimed(cast: Cast, world, web: Any):
    before = db_state()

    response = web(cast.other_consultant).post(f"/leads/pool/{world['mine'].pk}/claim/")

    assert response.status_code == 404
    assert db_state() == before


def test_pool_query_count(cast: Cast, world, web: Any, django_assert_num_queries: Any):
    client = web(cast.consultant)
    client.get("/leads/pool/")
    # session, user, roles, the user's node (their region), count, page, phones,
    # pool settings, today's claims, channels
    with django_assert_num_queries(10):
        client.get("/leads/pool/")
    for i in range(20):
        add(cast.promoter, f"139880000{i:02d}", f"池{i}", kind="field", channel="flyer")
    with django_assert_num_queries(10):
        response = client.get("/leads/pool/")
    assert len(response.context["rows"]) == 22


def test_names_are_escaped_in_the_pool(cast: Cast, web: Any):
    register_lead(actor=cast.promoter, phone="13900000055", kind="field", channel="flyer", name=XSS)

    content = web(cast.consultant).get("/leads/pool/").content.decode()

    assert XSS not in content
    assert XSS_ESCAPED in content
