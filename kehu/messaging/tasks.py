"""Background entry points of messaging; each is idempotent (STYLE rule 12)."""

from __future__ import annotations

from django_tasks import task

from kehu.messaging import services


@task(queue_name="messages")
def send_messages_task(ids: list[int]) -> dict[str, int]:
    """Send the given messages when due. A message already sent, or being sent by a live
    worker, is skipped (services.claim_message), so running it twice sends nothing twice."""
    return services.send_messages(ids)


@task(queue_name="messages")
def send_due_messages_task() -> dict[str, int]:
    """The minute sweep (ScheduledJob ``messaging-send-due``): anything due that no task
    carried, retries whose time has come, and messages a dead worker left SENDING."""
    counts = services.send_due_messages()
    from kehu.messaging.models import Broadcast

    for broadcast in Broadcast.objects.filter(status="sending"):
        services.mark_broadcast_done(broadcast)
    return counts


@task(queue_name="messages")
def fan_out_broadcast_task(broadcast_id: int) -> int:
    """Queue a broadcast's messages batch by batch; resumes from its cursor."""
    return services.fan_out_broadcast(broadcast_id)
