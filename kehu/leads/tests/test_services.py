"""Registration (报备), judging (判客), attribution, conflicts and fraud, at the service
level (DOMAIN §3).

Every write has an allowed case (exact result, exactly the audit events it writes) and a
refused case (nothing changed, no audit event).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from kehu.activities.models import StageChange
from kehu.core.models import AuditEvent
from kehu.core.testing import actions_since, mark, refuser
from kehu.customers.models import Customer, CustomerPhone
from kehu.leads import services
from kehu.leads.models import Assignment, Channel, Conflict, Registration

NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
PHONE = "13912345678"
E164 = "+8613912345678"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- helpers ------------------------------------------------------------------------------


def db_state() -> dict[str, Any]:
    """Everything registration can write, to prove a refused call changed nothing."""
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "phones": list(CustomerPhone.objects.order_by("pk").values()),
        "registrations": list(Registration.objects.order_by("pk").values()),
        "conflicts": list(Conflict.objects.order_by("pk").values()),
        "assignments": list(Assignment.objects.order_by("pk").values()),
        "stage_changes": list(StageChange.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


def register(actor, phone: str = PHONE, **kwargs: Any) -> services.Judgement:
    kwargs.setdefault("kind", "call")
    kwargs.setdefault("channel", "phone")
    kwargs.setdefault("name", "王先生")
    return services.register_lead(actor=actor, phone=phone, **kwargs)


refused = refuser(db_state)


# --- new, existing, conflict ------------------------------------------------------------------


def test_first_registration_creates_the_customer_owned_by_the_registrant(cast):
    since = mark()
    judgement = register(cast.consultant, "+86 139-1234-5678", now=NOW, note="问两居室")

    customer = Customer.objects.get()
    assert judgement.result == "new"
    assert judgement.customer == customer
    assert judgement.owner_id == cast.consultant.pk
    assert judgement.protected_until == NOW + datetime.timedelta(days=30)
    assert (customer.name, customer.owner, customer.node, customer.registered_by) == (
        "王先生",
        cast.consultant,
        cast.team,
        cast.consultant,
    )
    assert customer.channel.code == "phone"
    assert customer.stage == "left_phone"
    assert customer.first_registered_at == NOW
    assert customer.profile == {"consultation": "问两居室"}
    assert list(customer.phones.values_list("number", "digits", "is_primary")) == [
        (E164, "13912345678", True)
    ]
    assert list(
        Registration.objects.values_list("customer", "registered_by", "kind", "result", "owner")
    ) == [(customer.pk, cast.consultant.pk, "call", "new", cast.consultant.pk)]
    assert list(Assignment.objects.values_list("customer", "from_staff", "to_staff", "reason")) == [
        (customer.pk, None, cast.consultant.pk, "registration")
    ]
    assert list(StageChange.objects.values_list("from_stage", "to_stage", "reason")) == [
        ("", "left_phone", "registration")
    ]
    assert actions_since(since) == [("leads.registration.new", "consultant")]
    assert judgement.as_dict(cast.consultant) == {
        "customer": customer.pk,
        "result": "new",
        "owner": cast.consultant.pk,
        "protected_until": "2026-04-01T18:00:00+08:00",
    }


def test_the_owner_registering_again_is_existing_and_changes_nothing(cast):
    first = register(cast.consultant, now=NOW)
    since = mark()

    again = register(cast.consultant, kind="visit", channel="walk_in", now=NOW)

    assert again.result == "existing"
    assert again.customer.pk == first.customer.pk
    assert again.owner_id == cast.consultant.pk
    assert again.protected_until == first.protected_until
    assert Customer.objects.count() == 1
    assert list(Registration.objects.order_by("pk").values_list("result", "kind")) == [
        ("new", "call"),
        ("existing", "visit"),
    ]
    assert Assignment.objects.count() == 1
    assert actions_since(since) == [("leads.registration.existing", "consultant")]


def test_someone_else_inside_the_protection_period_is_a_conflict(cast):
    first = register(cast.consultant, now=NOW)
    before = list(Customer.objects.values())
    since = mark()

    judgement = register(
        cast.other_consultant,
        channel="walk_in",
        kind="visit",
        now=NOW + datetime.timedelta(days=29),
    )

    assert judgement.result == "conflict"
    assert judgement.owner_id == cast.consultant.pk
    assert judgement.protected_until == first.protected_until
    assert list(Customer.objects.values()) == before  # the customer is untouched
    conflict = Conflict.objects.get()
    assert (conflict.customer, conflict.claimant, conflict.owner, conflict.status) == (
        first.customer,
        cast.other_consultant,
        cast.consultant,
        "open",
    )
    assert conflict.registration == judgement.registration
    assert judgement.registration.result == "conflict"
    assert Assignment.objects.count() == 1
    assert actions_since(since) == [("leads.registration.conflict", "other_consultant")]


def test_after_the_protection_period_the_new_registrant_is_credited(cast):
    first = register(cast.consultant, now=NOW - datetime.timedelta(days=31))
    since = mark()

    judgement = register(cast.other_consultant, channel="walk_in", kind="visit", now=NOW)

    customer = Customer.objects.get()
    assert judgement.result == "existing"
    assert judgement.customer.pk == first.customer.pk
    assert (customer.owner, customer.node, customer.registered_by, customer.channel.code) == (
        cast.other_consultant,
        cast.other_team,
        cast.other_consultant,
        "walk_in",
    )
    assert customer.protected_until == NOW + datetime.timedelta(days=30)
    assert judgement.owner_id == cast.other_consultant.pk
    assert Conflict.objects.count() == 0
    assert list(
        Assignment.objects.order_by("pk").values_list("from_staff", "to_staff", "reason")
    ) == [
        (None, cast.consultant.pk, "registration"),
        (cast.consultant.pk, cast.other_consultant.pk, "reattributed"),
    ]
    assert actions_since(since) == [("leads.registration.reattributed", "other_consultant")]


@pytest.mark.parametrize(
    ("days_ago", "result", "owner"),
    [(6, "conflict", "consultant"), (8, "existing", "other_consultant")],
)
def test_each_channel_has_its_own_protection_period(cast, days_ago, result, owner):
    services.update_channel(
        actor=cast.admin, channel=Channel.objects.get(code="flyer"), protection_days=7
    )
    first = register(cast.consultant, channel="flyer", now=NOW - datetime.timedelta(days=days_ago))
    assert first.protected_until == NOW - datetime.timedelta(days=days_ago - 7)

    judgement = register(cast.other_consultant, now=NOW)

    assert judgement.result == result
    assert Customer.objects.get().owner == getattr(cast, owner)


def test_a_promoter_registers_a_lead_nobody_owns_yet(cast):
    judgement = register(cast.promoter, kind="field", channel="flyer", now=NOW)

    customer = Customer.objects.get()
    assert judgement.result == "new"
    assert (customer.owner, customer.registered_by, customer.node) == (
        None,
        cast.promoter,
        cast.team,
    )
    assert list(Assignment.objects.values_list("to_staff", "reason")) == [(None, "registration")]


def test_a_broker_learns_new_or_existing_and_nothing_more(cast):
    new = register(cast.broker, kind="broker", channel="broker", now=NOW)
    register(cast.consultant, "13912340000", now=NOW)
    existing = register(cast.broker, "13912340000", kind="broker", channel="broker", now=NOW)

    assert new.as_dict(cast.broker) == {
        "customer": new.customer.pk,
        "result": "new",
        "owner": None,
        "protected_until": "2026-04-01T18:00:00+08:00",
    }
    assert existing.result == "conflict"
    assert existing.as_dict(cast.broker) == {
        "customer": None,
        "result": "existing",
        "owner": None,
        "protected_until": None,
    }


# --- who may register what --------------------------------------------------------------------


def test_allowed_kinds_per_role(cast):
    assert {name: services.allowed_kinds(staff) for name, staff in cast.all().items()} == {
        "admin": ["call", "visit", "field", "broker", "web"],
        "region_manager": ["broker", "call", "field", "visit", "web"],
        "manager": ["broker", "call", "field", "visit", "web"],
        "other_manager": ["broker", "call", "field", "visit", "web"],
        "consultant": ["broker", "call", "field", "visit", "web"],
        "other_consultant": ["broker", "call", "field", "visit", "web"],
        "commissioner": ["field"],
        "promoter": ["field"],
        "broker": ["broker"],
    }


def test_a_kind_the_role_may_not_use_is_refused_and_leaves_nothing(cast):
    error = refused(
        ValidationError,
        services.register_lead,
        actor=cast.promoter,
        phone=PHONE,
        kind="call",
        channel="phone",
    )
    assert error.message_dict == {
        "kind": ["You cannot register a lead of kind call; you may use: field."]
    }


def test_someone_who_left_cannot_register(cast):
    cast.consultant.is_active = False
    refused(
        PermissionDenied,
        services.register_lead,
        actor=cast.consultant,
        phone=PHONE,
        kind="call",
        channel="phone",
    )


def test_bad_input_names_every_bad_field_and_leaves_nothing(cast):
    error = refused(
        ValidationError,
        services.register_lead,
        actor=cast.consultant,
        phone="1391234567",
        kind="fax",
        channel="carrier-pigeon",
        name="名" * 101,
        gender="other",
        note="x" * 2001,
        location={"lat": 91, "lng": 0},
    )
    codes = ", ".join(Channel.objects.filter(is_active=True).values_list("code", flat=True))
    assert error.message_dict == {
        "phone": ["A mainland mobile number has 11 digits; this one has 10."],
        "kind": ["Unknown kind 'fax'; choose one of: broker, call, field, visit, web."],
        "channel": [f"Unknown channel 'carrier-pigeon'; choose one of: {codes}."],
        "name": ["At most 100 characters (this has 101)."],
        "gender": ["Choose one of: male, female, unknown."],
        "note": ["At most 2000 characters (this has 2001)."],
        "location": ['A location is {"lat": -90..90, "lng": -180..180}.'],
    }


def test_an_inactive_channel_is_unknown(cast):
    services.update_channel(
        actor=cast.admin, channel=Channel.objects.get(code="tour"), is_active=False
    )
    error = refused(
        ValidationError,
        services.register_lead,
        actor=cast.consultant,
        phone=PHONE,
        kind="call",
        channel="tour",
    )
    assert list(error.message_dict) == ["channel"]


def test_a_location_is_kept_to_six_decimals(cast):
    judgement = register(
        cast.promoter,
        kind="field",
        channel="flyer",
        location={"lat": 31.2304567, "lng": "121.4737011"},
    )
    row = judgement.registration
    row.refresh_from_db()
    assert (str(row.latitude), str(row.longitude)) == ("31.230457", "121.473701")


# --- conflicts ----------------------------------------------------------------------------------


def open_conflict(cast) -> Conflict:
    register(cast.consultant, now=NOW)
    register(cast.other_consultant, now=NOW + datetime.timedelta(days=1))
    return Conflict.objects.get()


def test_a_manager_gives_the_customer_to_the_claimant(cast):
    conflict = open_conflict(cast)
    since = mark()

    services.resolve_conflict(
        actor=cast.manager, conflict=conflict, decision="transfer", note="他先带看", now=NOW
    )

    conflict.refresh_from_db()
    customer = Customer.objects.get()
    assert (conflict.status, conflict.decision, conflict.resolved_by, conflict.note) == (
        "resolved",
        "transfer",
        cast.manager,
        "他先带看",
    )
    assert (customer.owner, customer.registered_by, customer.node) == (
        cast.other_consultant,
        cast.other_consultant,
        cast.other_team,
    )
    assert customer.protected_until == NOW + datetime.timedelta(days=30)
    assert list(
        Assignment.objects.filter(reason="conflict").values_list(
            "from_staff", "to_staff", "actor", "explanation"
        )
    ) == [(cast.consultant.pk, cast.other_consultant.pk, cast.manager.pk, "他先带看")]
    assert actions_since(since) == [("leads.conflict.resolve", "manager")]


def test_a_manager_keeps_the_owner(cast):
    conflict = open_conflict(cast)
    before = list(Customer.objects.values())
    since = mark()

    services.resolve_conflict(actor=cast.other_manager, conflict=conflict, decision="keep_owner")

    assert list(Customer.objects.values()) == before
    assert Conflict.objects.get().decision == "keep_owner"
    assert actions_since(since) == [("leads.conflict.resolve", "other_manager")]


@pytest.mark.parametrize("persona", ["consultant", "other_consultant", "promoter", "broker"])
def test_only_managers_over_it_resolve_a_conflict(cast, persona):
    conflict = open_conflict(cast)
    refused(
        PermissionDenied,
        services.resolve_conflict,
        actor=getattr(cast, persona),
        conflict=conflict,
        decision="transfer",
    )


def test_a_conflict_is_resolved_once(cast):
    conflict = open_conflict(cast)
    services.resolve_conflict(actor=cast.manager, conflict=conflict, decision="keep_owner")
    error = refused(
        ValidationError,
        services.resolve_conflict,
        actor=cast.region_manager,
        conflict=conflict,
        decision="transfer",
    )
    assert error.message_dict == {"decision": ["This conflict has already been resolved."]}


def test_an_unknown_decision_is_refused(cast):
    conflict = open_conflict(cast)
    error = refused(
        ValidationError,
        services.resolve_conflict,
        actor=cast.manager,
        conflict=conflict,
        decision="split",
    )
    assert error.message_dict == {"decision": ["Choose one of: keep_owner, transfer."]}


# --- fraud --------------------------------------------------------------------------------------


def test_a_fraudulent_registration_is_excluded_from_valid_ones(cast):
    fake = register(cast.promoter, kind="field", channel="flyer").registration
    real = register(cast.promoter, "13912340000", kind="field", channel="flyer").registration
    since = mark()

    services.flag_fraud(actor=cast.manager, registration=fake, reason="空号")

    fake.refresh_from_db()
    assert (fake.is_fraud, fake.fraud_reason, fake.fraud_flagged_by) == (True, "空号", cast.manager)
    assert list(Registration.objects.valid()) == [real]
    assert Registration.objects.count() == 2  # kept as evidence
    assert actions_since(since) == [("leads.registration.fraud", "manager")]

    services.flag_fraud(actor=cast.manager, registration=fake, reason="", is_fraud=False)
    assert Registration.objects.valid().count() == 2


@pytest.mark.parametrize("persona", ["other_manager", "consultant", "promoter", "commissioner"])
def test_only_managers_over_it_flag_fraud(cast, persona):
    registration = register(cast.promoter, kind="field", channel="flyer").registration
    refused(
        PermissionDenied,
        services.flag_fraud,
        actor=getattr(cast, persona),
        registration=registration,
        reason="空号",
    )


def test_fraud_needs_a_reason(cast):
    registration = register(cast.promoter, kind="field", channel="flyer").registration
    error = refused(
        ValidationError,
        services.flag_fraud,
        actor=cast.manager,
        registration=registration,
        reason=" ",
    )
    assert error.message_dict == {"reason": ["Say why the registration is false."]}


# --- judging before saving ----------------------------------------------------------------------


def test_judging_sees_every_record_and_reveals_only_what_the_asker_may_see(cast):
    customer = register(cast.consultant, now=timezone.now()).customer

    assert services.judge(actor=cast.consultant, phone=PHONE) == {
        "phone": E164,
        "exists": True,
        "visible": True,
        "customer": {
            "id": customer.pk,
            "name": "王先生",
            "stage": "left_phone",
            "owner": cast.consultant.pk,
        },
        "is_mine": True,
        "protected": True,
    }
    assert services.judge(actor=cast.other_consultant, phone=PHONE) == {
        "phone": E164,
        "exists": True,
        "visible": False,
        "customer": None,
        "is_mine": False,
        "protected": True,
    }
    assert services.judge(actor=cast.broker, phone=PHONE) == {
        "phone": E164,
        "exists": True,
        "visible": False,
        "customer": None,
    }
    assert services.judge(actor=cast.consultant, phone="13900000000") == {
        "phone": "+8613900000000",
        "exists": False,
        "customer": None,
        "visible": False,
    }


def test_judging_a_bad_number_says_why(cast):
    with pytest.raises(ValidationError) as info:
        services.judge(actor=cast.consultant, phone="139123456789")
    assert info.value.message_dict == {
        "phone": ["A mainland mobile number has 11 digits; this one has 12."]
    }
