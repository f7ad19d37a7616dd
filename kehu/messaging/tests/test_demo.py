"""The messaging demo loader: its messages obey the rules a real run obeys, and nothing
it leaves behind is sent when the worker runs, even with a gateway configured."""

from __future__ import annotations

import datetime
import random
from collections import Counter

import pytest
from django.utils import timezone

from kehu.activities.services import log_activity
from kehu.core import demo
from kehu.customers.models import Customer
from kehu.customers.services import ensure_tag, set_tags
from kehu.messaging import services
from kehu.messaging.demo import load_messages
from kehu.messaging.models import Broadcast, Consent, Message, PromoSlot
from kehu.messaging.tests.gateway import FakeGateway
from kehu.messaging.tests.helpers import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_world(cast):
    """Thirty customers of the team's consultant (two tagged for the broadcast), ten of
    the other team's; the default templates include the promotional open-day invitation."""
    tag = ensure_tag(actor=cast.admin, dimension="interest", name="学区房")
    mine = [make_customer(cast.consultant, name=f"甲{i}") for i in range(30)]
    for customer in mine[:2]:
        set_tags(actor=cast.consultant, customer=customer, tags=[tag])
    for i in range(10):
        make_customer(cast.other_consultant, name=f"乙{i}")
    return cast


def run_demo(seed: int = 3) -> None:
    load_messages(
        demo.DemoContext(size=1, rng=random.Random(seed), password="x", say=lambda _s: None)
    )


def test_the_demo_messages_obey_the_rules(demo_world) -> None:
    run_demo()
    messages = list(Message.objects.all())
    assert len(messages) >= 40  # every customer with a phone, plus the broadcast
    statuses = Counter(m.status for m in messages)
    # Only what a run ends with; nothing queued or mid-send.
    assert set(statuses) <= {"sent", "failed", "held", "suppressed"}
    assert statuses["sent"] and statuses["held"]
    opted_in = set(Consent.objects.opted_in().values_list("customer_id", flat=True))
    promos = [m for m in messages if m.kind == "promotional"]
    assert promos, "the demo has promotional messages"
    # Promotions only to customers who opted in, each holding a daily slot unless
    # suppressed; never more than the limit a day.
    assert {m.customer_id for m in promos} <= opted_in
    slotted = set(PromoSlot.objects.values_list("message_id", flat=True))
    assert {m.pk for m in promos if m.status != "suppressed"} <= slotted
    per_day = Counter(PromoSlot.objects.values_list("customer_id", "day"))
    assert max(per_day.values()) <= 2
    # No fake gateway: the demo's provider or the outbox, never a gateway reference.
    assert {m.provider for m in messages if m.status in ("sent", "failed")} == {"demo"}
    assert {m.provider for m in messages if m.status == "held"} == {"outbox"}
    assert {m.provider_ref for m in messages} == {""}
    assert all(m.sent_at is not None for m in messages if m.status == "sent")
    assert all(m.sent_at is None for m in messages if m.status != "sent")
    assert (
        Broadcast.objects.get().messages.exclude(status__in=["sent", "failed", "held"]).count() == 0
    )


def test_the_worker_sends_nothing_of_the_demo_even_with_a_gateway(demo_world, settings) -> None:
    # An earlier loader's follow-up fired a real trigger (first call + 10 minutes).
    customer = Customer.objects.filter(owner=demo_world.consultant).order_by("pk").first()
    log_activity(actor=demo_world.consultant, customer=customer, kind="call")
    assert Message.objects.filter(status="queued", trigger_event="first_call").count() == 1
    run_demo()
    gateway = FakeGateway().start()
    try:
        settings.KEHU_SMS_URL = gateway.url
        settings.KEHU_SMS_TOKEN = gateway.token
        before = list(Message.objects.order_by("pk").values_list("pk", "status"))
        # Not now, nor once every delay has run out.
        later = timezone.now() + datetime.timedelta(days=1)
        assert not Message.objects.filter(status__in=["queued", "sending"]).exists()
        assert services.send_due_messages(now=later) == {}
        assert gateway.keys_requested() == []
        assert list(Message.objects.order_by("pk").values_list("pk", "status")) == before
    finally:
        gateway.stop()


def test_a_second_run_changes_nothing(demo_world) -> None:
    run_demo()
    state = list(Message.objects.order_by("pk").values_list("pk", "status", "scheduled_at"))
    run_demo(seed=4)
    assert list(Message.objects.order_by("pk").values_list("pk", "status", "scheduled_at")) == state
