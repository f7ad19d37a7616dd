"""Extension points the activity services call, inside their transaction.

Apps that come later in the dependency order (cadence keeps next-due dates, messaging
fires its triggers) register a function here instead of being imported by this app, so
dependencies keep pointing one way. These are not Django signals: the services call
:func:`activity_logged` and :func:`stage_changed` explicitly, so the flow stays readable
and commands, jobs and imports that go through the services run them too. A hook that
needs to do slow work must defer it with ``transaction.on_commit``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kehu.activities.models import Activity
    from kehu.customers.models import Customer

ActivityHook = Callable[["Activity", "Customer"], None]
StageHook = Callable[["Customer", str, str, Any, datetime.datetime], None]

_activity_hooks: list[ActivityHook] = []
_stage_hooks: list[StageHook] = []


def on_activity_logged(func: ActivityHook) -> ActivityHook:
    """Register ``func(activity, customer)``; call it from an AppConfig.ready()."""
    if func not in _activity_hooks:
        _activity_hooks.append(func)
    return func


def on_stage_changed(func: StageHook) -> StageHook:
    """Register ``func(customer, from_stage, to_stage, actor, at)``."""
    if func not in _stage_hooks:
        _stage_hooks.append(func)
    return func


def activity_logged(activity: Activity, customer: Customer) -> None:
    for hook in _activity_hooks:
        hook(activity, customer)


def stage_changed(
    customer: Customer, from_stage: str, to_stage: str, actor: Any, at: datetime.datetime
) -> None:
    for hook in _stage_hooks:
        hook(customer, from_stage, to_stage, actor, at)
