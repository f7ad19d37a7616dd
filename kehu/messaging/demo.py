"""Demo messaging: consents, a few hundred messages of the last month in every status,
and one broadcast fanned out to the opted-in customers of a team.

The default templates and triggers come from the data migration. Consents and the
broadcast go through the services; the past messages are written as history (the
services cannot back-date a send), with bodies rendered by the same code.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from kehu.core import demo
from kehu.customers.models import Customer, CustomerTag
from kehu.messaging import services
from kehu.messaging.models import Broadcast, Message, MessageTemplate
from kehu.messaging.rendering import render
from kehu.org.models import Staff

KEY = "demo:"
# (status, weight) of the history: most sent, some of everything else.
STATUSES = [("sent", 70), ("held", 8), ("failed", 6), ("suppressed", 6), ("queued", 10)]
ERRORS = {
    "held": "No provider is configured for this channel.",
    "failed": "HTTP 400: 号码不存在 (number does not exist)",
    "suppressed": "Over the daily limit of promotional messages.",
}


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

    templates = list(MessageTemplate.objects.filter(channel="sms").order_by("code"))
    events = {"first-call": "first_call", "first-visit": "first_visit", "pledge": "pledge",
              "deal": "deal"}  # fmt: skip
    now = timezone.now()
    weights = [w for _s, w in STATUSES]
    rows = []
    count = min(len(customers), 60 * ctx.size)
    for i, customer in enumerate(rng.sample(customers, count)):
        phones = list(customer.phones.all())
        if not phones:
            continue
        template = rng.choice(templates)
        status = rng.choices([s for s, _w in STATUSES], weights)[0]
        if template.kind == "transactional" and status == "suppressed":
            status = "sent"
        when = now - datetime.timedelta(minutes=rng.randrange(10, 30 * 24 * 60))
        if status == "queued":
            when = now + datetime.timedelta(minutes=rng.randrange(1, 120))
        rows.append(
            Message(
                customer=customer,
                sender=customer.owner,
                template=template,
                trigger_event=events.get(template.code, ""),
                channel="sms",
                to=phones[0].number,
                body=render(
                    template.body, services.context_for(customer, customer.owner, template)
                ),
                kind=template.kind,
                status=status,
                scheduled_at=when,
                sent_at=when + datetime.timedelta(seconds=rng.randrange(1, 30))
                if status == "sent"
                else None,
                attempts=0 if status == "queued" else 1 + (status == "failed"),
                provider="" if status == "queued" else "outbox" if status == "held" else "http_sms",
                provider_ref=f"demo-{i}" if status == "sent" else "",
                error=ERRORS.get(status, ""),
                idempotency_key=f"{KEY}{customer.pk}:{i}",
            )
        )
    with transaction.atomic():
        Message.objects.bulk_create(rows, batch_size=500)
    ctx.say(f"  {len(rows)} messages")

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
    # Fanned out now; the worker sends it (held in the outbox when no gateway is set).
    services.fan_out_broadcast(broadcast.pk)
    ctx.say(f"  broadcast to {broadcast.audience_count} customers")
