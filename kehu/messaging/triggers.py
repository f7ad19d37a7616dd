"""The activity hooks (kehu.activities.hooks) that fire message triggers.

Called inside the activity service's transaction: the message row is created in it,
and its send is enqueued only after commit (services.schedule_send)."""

from __future__ import annotations

import datetime
from typing import Any

from kehu.messaging.choices import TriggerEvent

ACTIVITY_EVENTS = {"call": TriggerEvent.FIRST_CALL, "visit": TriggerEvent.FIRST_VISIT}
STAGE_EVENTS = {"pledged": TriggerEvent.PLEDGE, "deal": TriggerEvent.DEAL}


def activity_logged(activity: Any, customer: Any) -> None:
    event = ACTIVITY_EVENTS.get(activity.kind)
    if event is None:
        return
    from kehu.activities.models import Activity
    from kehu.messaging.services import fire_trigger

    earlier = Activity.objects.filter(customer_id=customer.pk, kind=activity.kind).exclude(
        pk=activity.pk
    )
    if earlier.exists():
        return  # not the first call (visit) of this customer
    fire_trigger(event=event, customer=customer, actor=activity.staff, at=activity.occurred_at)


def stage_changed(
    customer: Any, from_stage: str, to_stage: str, actor: Any, at: datetime.datetime
) -> None:
    event = STAGE_EVENTS.get(to_stage)
    if event is None:
        return
    from kehu.messaging.services import fire_trigger

    fire_trigger(event=event, customer=customer, actor=actor, at=at)
