"""Demo messaging: consents, a few hundred messages of the last month, and one
broadcast fanned out to the opted-in customers of a team.

Every message goes through the rules a real run obeys: promotional messages only to
customers who opted in, each taking one of the customer's daily slots (a third on a day
is suppressed), and then through the real claim-and-send path of the outbox. What a
provider answers comes from :class:`DemoProvider` (named ``demo`` in the outbox, no
gateway reference) or, for some, the outbox-only provider (*held*). Nothing is left
*queued*: a gateway configured later never sends a demo message unless someone retries
it (the trigger messages that the earlier loaders' follow-ups fired are answered the
same way). Only ``scheduled_at`` / ``sent_at`` are back-dated, as history.

The default templates and triggers come from the data migration.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from kehu.core import demo
from kehu.customers.models import Customer, CustomerTag
from kehu.messaging import providers, services
from kehu.messaging.models import Broadcast, Consent, Message, MessageTemplate
from kehu.org.models import Staff

KEY = "demo:"
#: The provider's answers in the history: mostly sent, some refused by the "gateway",
#: some held in the outbox (no provider for them).
OUTCOMES = [("sent", 80), ("failed", 8), ("held", 12)]


class DemoProvider:
    """Stands in for a gateway in the demo: answers sent or refused at random and sends
    nothing anywhere (no network, no reference)."""

    name = "demo"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def send(self, message: providers.Outgoing) -> providers.ProviderResult:
        outcome = self.rng.choices([o for o, _w in OUTCOMES], [w for _o, w in OUTCOMES])[0]
        if outcome == "failed":
            return providers.ProviderResult(
                providers.FAILED, self.name, error="HTTP 400: 号码不存在 (number does not exist)"
            )
        if outcome == "held":
            return providers.OutboxProvider().send(message)
        return providers.ProviderResult(providers.SENT, self.name)


def deliver(message: Message, provider: providers.Provider, rng: random.Random) -> None:
    """Run a queued demo message through the real claim-and-send path with ``provider``,
    then back-date its claim and delivery to its scheduled time (history)."""
    if message.status != "queued":
        return
    services.send_message(
        message.pk, now=max(timezone.now(), message.scheduled_at), provider=provider
    )
    when = message.scheduled_at + datetime.timedelta(seconds=rng.randrange(1, 30))
    Message.objects.filter(pk=message.pk).update(claimed_at=when, updated_at=when)
    Message.objects.filter(pk=message.pk, status="sent").update(sent_at=when)


@demo.register(70, "messages")
def load_messages(ctx: demo.DemoContext) -> None:
    if Message.objects.filter(idempotency_key__startswith=KEY).exists():
        return
    rng = ctx.rng
    customers = list(
        Customer.objects.live()
        .filter(owner__isnull=False)
        .select_related("owner", "node")
        .prefetch_related("phones")
        .order_by("id")
    )
    if not customers:
        return
    # Consents: about 40% opted in, a few of them unsubscribed since.
    for customer in customers:
        if rng.random() < 0.4:
            services.set_consent(actor=None, customer=customer, opted_in=True)
            if rng.random() < 0.05:
                services.set_consent(actor=None, customer=customer, opted_in=False)
    opted_in = set(Consent.objects.opted_in().values_list("customer_id", flat=True))

    templates = list(MessageTemplate.objects.filter(channel="sms", is_active=True).order_by("code"))
    transactional = [t for t in templates if t.kind == "transactional"]
    events = {"first-call": "first_call", "first-visit": "first_visit", "pledge": "pledge",
              "deal": "deal"}  # fmt: skip
    now = timezone.now()
    provider = DemoProvider(rng)
    made = 0
    count = min(len(customers), 60 * ctx.size)
    for i, customer in enumerate(rng.sample(customers, count)):
        if not customer.phones.all():
            continue
        template = rng.choice(templates)
        if template.kind == "promotional" and customer.pk not in opted_in:
            if not transactional:
                continue
            template = rng.choice(transactional)  # promotions only to the opted-in
        when = now - datetime.timedelta(minutes=rng.randrange(10, 30 * 24 * 60))
        with transaction.atomic():
            message = services._queue(
                customer=customer,
                sender=customer.owner,
                template=template,
                trigger_event=events.get(template.code, ""),
                key=f"{KEY}{customer.pk}:{i}",
                scheduled_at=when,
                schedule=False,
            )
        deliver(message, provider, rng)
        made += 1
    ctx.say(f"  {made} messages")
    # The earlier loaders' follow-ups and stage changes fired real triggers (first call,
    # pledge, deal…): answered here too, so none waits for a gateway.
    fired = Message.objects.filter(
        status="queued", broadcast__isnull=True, customer__in=customers
    ).order_by("pk")
    for message in fired:
        deliver(message, provider, rng)

    # One broadcast by a manager, to the opted-in customers of their team with a tag.
    if Broadcast.objects.exists():
        return
    manager = Staff.objects.active().with_role("manager").filter(node__kind="team").first()
    promo = MessageTemplate.objects.filter(kind="promotional", is_active=True).first()
    if manager is None or promo is None:
        return
    tag_ids = list(
        CustomerTag.objects.filter(customer__node_id=manager.node_id)
        .values_list("tag_id", flat=True)
        .distinct()[:2]
    )
    if not tag_ids:
        return
    from kehu.customers.models import Tag

    broadcast = services.create_broadcast(
        actor=manager,
        name="周末开放日邀请",
        template=promo,
        tags=list(Tag.objects.filter(pk__in=tag_ids)),
    )
    # Fanned out now and answered by the demo provider, so the worker finds nothing
    # queued (a gateway configured later never sends it).
    services.fan_out_broadcast(broadcast.pk)
    for message in Message.objects.filter(broadcast=broadcast, status="queued").order_by("pk"):
        deliver(message, provider, rng)
    ctx.say(f"  broadcast to {broadcast.audience_count} customers")
