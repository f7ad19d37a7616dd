"""The messaging services: templates, triggers, the outbox and its exactly-once claim,
consents, the daily promotional limit and broadcasts."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kehu.activities.services import change_stage, log_activity
from kehu.core.testing import actions_since, mark, refuser
from kehu.customers.models import Customer, Tag
from kehu.customers.services import ensure_tag, set_tags
from kehu.messaging import services
from kehu.messaging.models import (
    Broadcast,
    Consent,
    Message,
    MessageTemplate,
    PromoSlot,
    TriggerRule,
)
from kehu.messaging.tests.gateway import FakeGateway
from kehu.messaging.tests.helpers import make_customer
from kehu.org.services import create_project


def outbox() -> list[tuple]:
    return list(
        Message.objects.order_by("id").values_list(
            "customer_id", "status", "idempotency_key", "attempts"
        )
    )


def templates() -> list[tuple]:
    return list(MessageTemplate.objects.order_by("id").values_list("code", "name", "body"))


@pytest.fixture
def project(cast):
    return create_project(
        actor=cast.admin,
        name="江南府",
        node=cast.area,
        address="上海市徐汇区龙华路1号",
        route="内环高架龙华出口右转",
    )


@pytest.fixture
def gateway(settings):
    gw = FakeGateway().start()
    settings.KEHU_SMS_URL = gw.url
    settings.KEHU_SMS_TOKEN = gw.token
    settings.KEHU_SMS_BACKOFF = 0.01
    yield gw
    gw.stop()


def promo(cast, code="promo") -> MessageTemplate:
    return services.create_template(
        actor=cast.admin, code=code, name="促销", kind="promotional", body="{name}{title}，开放日见"
    )


# --- templates ----------------------------------------------------------------------------


def test_admin_creates_a_template(cast):
    since = mark()
    template = services.create_template(
        actor=cast.admin, code="thanks", name="感谢", body="{name}{title}，谢谢！"
    )
    assert (template.kind, template.channel, template.is_active) == ("transactional", "sms", True)
    assert actions_since(since) == [("messaging.template.create", "admin")]


@pytest.mark.parametrize("persona", ["manager", "consultant"])
def test_others_may_not_create_or_edit_templates(cast, persona):
    refused = refuser(templates)
    refused(
        PermissionDenied,
        services.create_template,
        actor=getattr(cast, persona),
        code="x",
        name="x",
        body="x",
    )
    template = MessageTemplate.objects.get(code="deal")
    refused(
        PermissionDenied,
        services.update_template,
        actor=getattr(cast, persona),
        template=template,
        body="改",
    )


def test_an_unknown_placeholder_is_refused_naming_it(cast):
    template = MessageTemplate.objects.get(code="deal")
    refused = refuser(templates)
    error = refused(
        ValidationError, services.update_template, actor=cast.admin, template=template,
        body="恭喜{姓名}{title}",
    )  # fmt: skip
    assert error.message_dict == {
        "body": [
            "Unknown placeholder {姓名}. Use only: {title}, {name}, {consultant}, "
            "{consultant_phone}, {project}, {project_address}, {project_route}."
        ]
    }
    refused(ValidationError, services.create_template, actor=cast.admin, code="deal", name="重复",
            body="x")  # fmt: skip


def test_preview_renders_for_a_customer(cast, project):
    customer = make_customer(cast.consultant, name="张三", title="先生")
    template = MessageTemplate.objects.get(code="first-call")
    text = services.preview(template=template, customer=customer)
    assert text == (
        "张三先生您好，我是江南府的置业顾问Consultant，感谢您的来电。"
        "项目地址：上海市徐汇区龙华路1号。驾车路线：内环高架龙华出口右转。"
        "欢迎来访，看房请联系我：13800000005。"
    )
    assert services.preview(template=None, customer=customer, body="{name}") == "张三"
    with pytest.raises(ValidationError):
        services.preview(template=None, customer=customer, body="{nope}")


# --- triggers -----------------------------------------------------------------------------


def test_first_call_queues_one_message_ten_minutes_later(cast, project):
    customer = make_customer(cast.consultant)
    before = timezone.now()
    log_activity(actor=cast.consultant, customer=customer, kind="call")
    [message] = Message.objects.all()
    assert (message.status, message.idempotency_key, message.trigger_event, message.kind) == (
        "queued",
        f"trigger:first_call:{customer.pk}",
        "first_call",
        "transactional",
    )
    assert message.to == "+8613900000000"[:0] + customer.phones.get().number
    assert message.sender == cast.consultant
    assert "上海市徐汇区龙华路1号" in message.body
    delay = message.scheduled_at - before
    assert datetime.timedelta(minutes=10) <= delay < datetime.timedelta(minutes=10, seconds=30)
    # A second call is not a first call: still one message.
    log_activity(actor=cast.consultant, customer=customer, kind="call")
    assert Message.objects.count() == 1


def test_visit_pledge_and_deal_have_their_own_triggers(cast):
    customer = make_customer(cast.consultant)
    log_activity(actor=cast.consultant, customer=customer, kind="visit")
    change_stage(actor=cast.consultant, customer=customer, stage="pledged")
    change_stage(actor=cast.consultant, customer=customer, stage="deal")
    rows = dict(Message.objects.values_list("trigger_event", "scheduled_at"))
    assert set(rows) == {"first_visit", "pledge", "deal"}
    now = timezone.now()
    assert rows["first_visit"] - now > datetime.timedelta(minutes=29)
    assert abs(rows["pledge"] - now) < datetime.timedelta(minutes=1)
    assert abs(rows["deal"] - now) < datetime.timedelta(minutes=1)


def test_back_dated_and_disabled_triggers_send_nothing(cast):
    customer = make_customer(cast.consultant)
    log_activity(
        actor=cast.consultant,
        customer=customer,
        kind="call",
        occurred_at=timezone.now() - datetime.timedelta(days=2),
    )
    TriggerRule.objects.filter(event="first_visit").update(is_enabled=False)
    log_activity(actor=cast.consultant, customer=customer, kind="visit")
    assert Message.objects.count() == 0


def test_admin_edits_a_trigger_and_others_may_not(cast):
    rule = TriggerRule.objects.get(event="first_call")
    since = mark()
    services.update_trigger(actor=cast.admin, rule=rule, delay_minutes=5, is_enabled=False)
    rule.refresh_from_db()
    assert (rule.delay_minutes, rule.is_enabled) == (5, False)
    assert actions_since(since) == [("messaging.trigger.update", "admin")]
    state = lambda: list(TriggerRule.objects.values_list("event", "delay_minutes", "is_enabled"))  # noqa: E731
    refused = refuser(state)
    refused(
        PermissionDenied, services.update_trigger, actor=cast.manager, rule=rule, delay_minutes=1
    )
    refused(ValidationError, services.update_trigger, actor=cast.admin, rule=rule, delay_minutes=-1)


# --- sending, exactly once ----------------------------------------------------------------


def test_without_a_provider_messages_are_held_not_dropped(cast, settings):
    settings.KEHU_SMS_URL = ""
    customer = make_customer(cast.consultant)
    message = services.send_one_off(actor=cast.consultant, customer=customer, body="你好{name}")
    assert services.send_message(message.pk) == "held"
    message.refresh_from_db()
    assert (message.status, message.provider, message.body) == ("held", "outbox", "你好张三")
    assert message.error == "No provider is configured for this channel."


def test_a_message_is_claimed_once(cast, gateway):
    customer = make_customer(cast.consultant)
    message = services.send_one_off(actor=cast.consultant, customer=customer, body="你好")
    token = services.claim_message(message.pk)
    assert token is not None
    assert services.claim_message(message.pk) is None  # someone holds it
    assert services.send_message(message.pk) is None
    assert gateway.requests == []


def test_a_message_left_sending_is_resent_with_the_same_key_and_delivered_once(
    cast, gateway, settings
):
    settings.KEHU_MESSAGING_SENDING_STALE_SECONDS = 60
    customer = make_customer(cast.consultant)
    message = services.send_one_off(actor=cast.consultant, customer=customer, body="你好")
    # A worker claimed it, reached the gateway, and died before recording the result.
    services.claim_message(message.pk)
    assert (
        services.providers.provider_for("sms")
        .send(services.providers.Outgoing(message.idempotency_key, "sms", message.to, "你好"))
        .status
        == "sent"
    )
    assert services.send_due_messages() == {}  # not stale yet: a live worker may hold it
    later = timezone.now() + datetime.timedelta(seconds=61)
    assert services.send_due_messages(now=later) == {"sent": 1}
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_ref) == ("sent", 2, "gw-1")
    assert gateway.keys_requested() == [message.idempotency_key] * 2
    assert list(gateway.deliveries) == [message.idempotency_key]


def test_a_gateway_refusal_fails_and_an_outage_requeues(cast, gateway, settings):
    settings.KEHU_SMS_RETRIES = 0
    customer = make_customer(cast.consultant)
    refused = services.send_one_off(actor=cast.consultant, customer=customer, body="a")
    later = services.send_one_off(actor=cast.consultant, customer=customer, body="b")
    gateway.script = [(400, {"error": "number blocked"}), (503, {"error": "down"})]
    assert services.send_message(refused.pk) == "failed"
    assert services.send_message(later.pk) == "queued"
    refused.refresh_from_db()
    later.refresh_from_db()
    assert (refused.status, refused.error) == ("failed", "HTTP 400: number blocked")
    assert (later.status, later.error, later.attempts) == ("queued", "HTTP 503: down", 1)
    assert later.scheduled_at > timezone.now() + datetime.timedelta(minutes=1)


def test_retry_puts_a_held_message_back(cast, settings, gateway):
    customer = make_customer(cast.consultant)
    message = services.send_one_off(actor=cast.consultant, customer=customer, body="你好")
    Message.objects.filter(pk=message.pk).update(status="held")
    message.refresh_from_db()
    refused = refuser(outbox)
    refused(PermissionDenied, services.retry_message, actor=cast.other_consultant, message=message)
    services.retry_message(actor=cast.consultant, message=message)
    assert services.send_message(message.pk) == "sent"
    sent = Message.objects.get(pk=message.pk)
    refused(ValidationError, services.retry_message, actor=cast.consultant, message=sent)


def slots() -> list[tuple]:
    return list(PromoSlot.objects.order_by("message_id").values_list("message_id", "day", "slot"))


def failed_promo_of_yesterday(cast, customer, template):
    """A promotional message scheduled yesterday (it took yesterday's slot) that failed."""
    message = services.send_one_off(
        actor=cast.consultant,
        customer=customer,
        template=template,
        scheduled_at=timezone.now() - datetime.timedelta(days=1),
    )
    Message.objects.filter(pk=message.pk).update(status="failed", error="HTTP 400")
    message.refresh_from_db()
    return message


def test_retrying_a_promotional_message_takes_one_of_todays_slots(cast, gateway):
    customer = make_customer(cast.consultant)
    services.set_consent(actor=cast.consultant, customer=customer, opted_in=True)
    template = promo(cast)
    old = failed_promo_of_yesterday(cast, customer, template)
    today = services.send_one_off(actor=cast.consultant, customer=customer, template=template)
    services.retry_message(actor=cast.consultant, message=old)
    old.refresh_from_db()
    assert old.status == "queued"
    # Yesterday's slot (not used: nothing was delivered) is given up for today's second.
    assert slots() == [(old.pk, timezone.localdate(), 2), (today.pk, timezone.localdate(), 1)]
    assert services.send_message(old.pk) == "sent"


def test_retrying_a_promotional_message_over_todays_limit_is_refused(cast, gateway):
    customer = make_customer(cast.consultant)
    services.set_consent(actor=cast.consultant, customer=customer, opted_in=True)
    template = promo(cast)
    old = failed_promo_of_yesterday(cast, customer, template)
    for _ in range(2):
        services.send_one_off(actor=cast.consultant, customer=customer, template=template)
    refused = refuser(lambda: (outbox(), slots()))
    error = refused(ValidationError, services.retry_message, actor=cast.consultant, message=old)
    assert error.message_dict == {
        "customer": [
            "The customer already has 2 promotional messages today: send it again tomorrow."
        ]
    }
    assert Message.objects.get(pk=old.pk).status == "failed"


def test_retrying_a_promotional_message_keeps_todays_slot(cast, gateway):
    """Failed today: it still holds today's slot, so a retry takes no other, even with the
    day's other slot taken."""
    customer = make_customer(cast.consultant)
    services.set_consent(actor=cast.consultant, customer=customer, opted_in=True)
    template = promo(cast)
    first, _second = (
        services.send_one_off(actor=cast.consultant, customer=customer, template=template)
        for _ in range(2)
    )
    Message.objects.filter(pk=first.pk).update(status="held")
    first.refresh_from_db()
    before = slots()
    assert services.retry_message(actor=cast.consultant, message=first).status == "queued"
    assert slots() == before


def test_retrying_a_promotional_message_after_an_unsubscribe_is_refused(cast, gateway):
    customer = make_customer(cast.consultant)
    services.set_consent(actor=cast.consultant, customer=customer, opted_in=True)
    template = promo(cast)
    message = services.send_one_off(actor=cast.consultant, customer=customer, template=template)
    Message.objects.filter(pk=message.pk).update(status="held")
    message.refresh_from_db()
    services.set_consent(actor=cast.consultant, customer=customer, opted_in=False)
    refused = refuser(lambda: (outbox(), slots()))
    error = refused(ValidationError, services.retry_message, actor=cast.consultant, message=message)
    assert list(error.message_dict) == ["customer"]


# --- one-off messages ---------------------------------------------------------------------


def test_one_off_allowed_for_the_owner_denied_to_others(cast):
    customer = make_customer(cast.consultant)
    refused = refuser(outbox)
    refused(
        PermissionDenied,
        services.send_one_off,
        actor=cast.other_consultant,
        customer=customer,
        body="x",
    )
    error = refused(
        ValidationError, services.send_one_off, actor=cast.consultant, customer=customer,
        body="{nmae}",
    )  # fmt: skip
    assert list(error.message_dict) == ["body"]
    refused(ValidationError, services.send_one_off, actor=cast.consultant, customer=customer)
    since = mark()
    message = services.send_one_off(actor=cast.manager, customer=customer, body="你好")
    assert (message.sender, message.status) == (cast.manager, "queued")
    assert actions_since(since) == [("messaging.message.create", "manager")]


# --- consents and the daily limit ---------------------------------------------------------


def test_consent_opt_in_by_the_owner_unsubscribe_by_anyone_who_sees(cast):
    customer = make_customer(cast.consultant)
    state = lambda: list(Consent.objects.values_list("customer_id", "opted_in_at"))  # noqa: E731
    refuser(state)(
        PermissionDenied,
        services.set_consent,
        actor=cast.other_consultant,
        customer=customer,
        opted_in=True,
    )
    consent = services.set_consent(actor=cast.consultant, customer=customer, opted_in=True)
    assert consent.is_opted_in
    consent = services.set_consent(actor=cast.consultant, customer=customer, opted_in=False)
    assert not consent.is_opted_in and consent.unsubscribed_at is not None


def test_at_most_two_promotional_messages_a_day(cast, gateway):
    customer = make_customer(cast.consultant)
    services.set_consent(actor=cast.consultant, customer=customer, opted_in=True)
    template = promo(cast)
    sent = [
        services.send_one_off(actor=cast.consultant, customer=customer, template=template)
        for _ in range(3)
    ]
    assert [m.status for m in sent] == ["queued", "queued", "suppressed"]
    assert sent[2].error == "Over the daily limit of promotional messages."
    assert PromoSlot.objects.count() == 2
    # The limit is the database's: a third slot row for the day cannot be written.
    with pytest.raises(IntegrityError), transaction.atomic():
        PromoSlot.objects.create(
            customer=customer, day=timezone.localdate(), slot=1, message=sent[2]
        )
    # Tomorrow is another day.
    tomorrow = services.send_one_off(
        actor=cast.consultant,
        customer=customer,
        template=template,
        scheduled_at=timezone.now() + datetime.timedelta(days=1),
    )
    assert tomorrow.status == "queued"


def test_promotional_needs_consent_and_an_unsubscribe_is_honoured_at_send(cast, gateway):
    customer = make_customer(cast.consultant)
    template = promo(cast)
    refuser(outbox)(
        ValidationError,
        services.send_one_off,
        actor=cast.consultant,
        customer=customer,
        template=template,
    )
    services.set_consent(actor=cast.consultant, customer=customer, opted_in=True)
    message = services.send_one_off(actor=cast.consultant, customer=customer, template=template)
    services.set_consent(actor=cast.consultant, customer=customer, opted_in=False)
    assert services.send_message(message.pk) == "suppressed"
    assert gateway.requests == []


# --- broadcasts ---------------------------------------------------------------------------


@pytest.fixture
def tagged(cast):
    """Five customers of the consultant tagged 两居: two opted in, one VIP opted in, one
    grade A opted in, one not opted in; and one of the other team, opted in and tagged."""
    tag = ensure_tag(actor=cast.admin, dimension="意向产品", name="两居")
    people = {}
    for key, owner in [
        ("in1", cast.consultant),
        ("in2", cast.consultant),
        ("vip", cast.consultant),
        ("gradeA", cast.consultant),
        ("out", cast.consultant),
        ("theirs", cast.other_consultant),
    ]:
        customer = make_customer(owner, name=key)
        set_tags(actor=cast.admin, customer=customer, tags=[tag])
        if key != "out":
            services.set_consent(actor=cast.admin, customer=customer, opted_in=True)
        people[key] = customer
    services.set_consent(actor=cast.admin, customer=people["vip"], opted_in=True)
    Customer.objects.filter(pk=people["vip"].pk).update(relationship="VIP")
    Customer.objects.filter(pk=people["gradeA"].pk).update(intent_grade="A")
    return tag, people


def test_broadcast_reaches_opted_in_visible_customers_except_important_ones(cast, tagged):
    tag, people = tagged
    template = promo(cast)
    since = mark()
    broadcast = services.create_broadcast(
        actor=cast.manager, name="开放日", template=template, tags=[tag]
    )
    assert (broadcast.audience_count, broadcast.personal_count) == (2, 2)
    assert services.fan_out_broadcast(broadcast.pk, batch_size=1) == 2
    assert set(Message.objects.values_list("customer__name", flat=True)) == {"in1", "in2"}
    # Run again (a worker restarted mid fan-out): nothing twice.
    Broadcast.objects.filter(pk=broadcast.pk).update(cursor=0, status="fanning_out")
    services.fan_out_broadcast(broadcast.pk)
    assert Message.objects.count() == 2
    assert [a for a, _ in actions_since(since)] == [
        "messaging.broadcast.create",
        *["messaging.broadcast.fan_out"] * 3,
    ]
    broadcast.refresh_from_db()
    report = services.progress(broadcast)
    assert (report["status"], report["total"], report["finished"], report["percent"]) == (
        "sending",
        2,
        0,
        0,
    )
    services.send_due_messages()
    report = services.progress(broadcast)
    assert (report["status"], report["finished"], report["counts"]["held"]) == ("done", 2, 2)


def test_broadcast_rules(cast, tagged):
    tag, _people = tagged
    template = promo(cast)
    state = lambda: (Broadcast.objects.count(), Message.objects.count())  # noqa: E731
    refused = refuser(state)
    refused(
        PermissionDenied,
        services.create_broadcast,
        actor=cast.consultant,
        name="x",
        template=template,
        tags=[tag],
    )
    error = refused(ValidationError, services.create_broadcast, actor=cast.manager, name="x",
                    template=template)  # fmt: skip
    assert error.messages == ["Choose at least one tag or grade for the audience."]
    error = refused(
        ValidationError, services.create_broadcast, actor=cast.manager, name="x",
        template=MessageTemplate.objects.get(code="deal"), tags=[tag],
    )  # fmt: skip
    assert error.message_dict == {"template": ["Choose an active promotional template."]}
    error = refused(ValidationError, services.create_broadcast, actor=cast.manager, name="x",
                    template=template, intent_grades=["Z"])  # fmt: skip
    assert error.message_dict == {"intent_grades": ["Choose among A, B, C and D."]}


def test_a_broadcast_keeps_to_the_creators_customers(cast, tagged):
    tag, _people = tagged
    counts = services.audience_counts(
        actor=cast.other_manager, tag_ids=[tag.pk], intent_grades=[], value_grades=[]
    )
    assert counts == {"audience": 1, "personal": 0}
    counts = services.audience_counts(
        actor=cast.admin, tag_ids=[tag.pk], intent_grades=[], value_grades=[]
    )
    assert counts == {"audience": 3, "personal": 2}
    assert Tag.objects.count() == 1


def test_a_broadcast_enqueues_one_send_task_per_batch(
    cast, tagged, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    tag, _people = tagged
    broadcast = services.create_broadcast(
        actor=cast.admin, name="开放日", template=promo(cast), tags=[tag]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.fan_out_broadcast(broadcast.pk, batch_size=2)
    tasks = DBTaskResult.objects.filter(task_path__endswith="send_messages_task")
    # Admin sees three ordinary customers: a batch of 2, a batch of 1.
    assert sorted(len(t.args_kwargs["args"][0]) for t in tasks) == [1, 2]
    assert Message.objects.filter(broadcast=broadcast).count() == 3
