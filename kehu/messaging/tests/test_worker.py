"""Kill the worker mid-send and restart it: no message is lost and none is sent twice.

A real ``kehu worker`` process sends through the HTTP SMS adapter to the local fake
gateway; the gateway is slow to answer, so the SIGKILL lands after it accepted the
first message and before the worker recorded it. The restarted worker sends that message
again with the same idempotency key; the gateway delivers it once.
"""

from __future__ import annotations

import signal

import pytest
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kehu.core.models import ScheduledJob
from kehu.core.tests.procs import run_kehu, start_kehu, stop
from kehu.core.tests.test_worker import FAST_BEAT, quiet_schedule, wait_for
from kehu.messaging import services
from kehu.messaging.models import Message
from kehu.messaging.tests.gateway import FakeGateway
from kehu.messaging.tests.helpers import make_customer

PROCESS = pytest.mark.django_db(transaction=True)


def sent(ids: list[int]) -> bool:
    close_old_connections()
    return set(Message.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"sent"}


@PROCESS
def test_kill_the_worker_mid_send_nothing_lost_nothing_twice(cast):
    quiet_schedule()
    customers = [make_customer(cast.consultant, name=f"客户{i}") for i in range(4)]
    ids = [
        services.send_one_off(actor=cast.consultant, customer=c, body="{name}{title}您好").pk
        for c in customers
    ]
    # One send task per message, enqueued on commit.
    assert DBTaskResult.objects.filter(task_path__endswith="send_messages_task").count() == 4
    gateway = FakeGateway(delay=30).start()
    env = {
        **FAST_BEAT,
        "KEHU_SMS_URL": gateway.url,
        "KEHU_SMS_TOKEN": gateway.token,
        "KEHU_SMS_TIMEOUT": "60",
        "KEHU_MESSAGING_SENDING_STALE_SECONDS": "2",
    }
    first = second = None
    try:
        first = start_kehu("worker", "--interval", "0.2", "--worker-id", "first", **env)
        wait_for(lambda: len(gateway.requests) == 1, 60, "the first message to reach the gateway")
        # The gateway has delivered it and is slow to say so: kill the worker now.
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        close_old_connections()
        [killed] = Message.objects.filter(status="sending")
        assert (killed.attempts, len(gateway.deliveries)) == (1, 1)
        assert Message.objects.filter(status="queued").count() == 3

        gateway.delay = 0
        second = start_kehu("worker", "--interval", "0.2", "--worker-id", "second", **env)
        wait_for(lambda: sent(ids), 90, "every message to be sent")
    finally:
        for process in (first, second):
            if process is not None:
                stop(process)
        gateway.stop()
    # Every message sent, each delivered once; the killed one was retried with its key.
    keys = dict(Message.objects.values_list("pk", "idempotency_key"))
    assert sorted(gateway.deliveries) == sorted(keys.values())
    requested = gateway.keys_requested()
    assert requested.count(killed.idempotency_key) == 2
    assert len(requested) == 5
    attempts = dict(Message.objects.values_list("pk", "attempts"))
    assert attempts == {pk: (2 if pk == killed.pk else 1) for pk in ids}
    assert {row.pk: row.provider_ref for row in Message.objects.all()} == {
        pk: gateway.deliveries[keys[pk]]["id"] for pk in ids
    }


@PROCESS
def test_the_minute_sweep_sends_what_no_task_carried(cast):
    """The enqueue after commit is lost (the web process died right after the commit):
    the ``messaging-send-due`` job of a batch worker still sends the message."""
    quiet_schedule()
    customer = make_customer(cast.consultant)
    message = services.send_one_off(actor=cast.consultant, customer=customer, body="你好")
    DBTaskResult.objects.all().delete()
    ScheduledJob.objects.filter(name="messaging-send-due").update(
        is_enabled=True, next_run_at=timezone.now()
    )
    gateway = FakeGateway().start()
    try:
        done = run_kehu(
            "worker",
            "--batch",
            "--interval",
            "0",
            KEHU_SMS_URL=gateway.url,
            KEHU_SMS_TOKEN=gateway.token,
            **FAST_BEAT,
        )
    finally:
        gateway.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider) == ("sent", 1, "http_sms")
    assert list(gateway.deliveries) == [message.idempotency_key]
