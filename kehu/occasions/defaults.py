"""The rows occasions need to work: care rules by relationship, the invitation window,
the default life-cycle rules and the nightly job.

The data migration (0002_defaults) creates them once. This post_migrate handler puts
them back when the tables have been emptied whole (a flushed database, the test runner
between transactional tests); it never re-creates one row an administrator removed."""

from __future__ import annotations

import datetime
from typing import Any

JOB_NAME = "occasions-nightly"
JOB_TASK = "kehu.occasions.tasks.refresh_occasions_task"
DAY = 24 * 60 * 60

CARE_RULES = {
    "VIP": "visit_gift",
    "O": "call_card",
    "M": "call_card",
    "Y": "message",
    "N": "message",
}

#: Every product matches (empty product_contains): narrow them on the settings page.
LIFECYCLE_RULES: list[dict[str, Any]] = [
    {
        "name": "首次免费保养 (5,000-7,500 km)",
        "kind": "service",
        "km_after": 5000,
        "months_after": 6,
        "lead_days": 14,
    },
    {
        "name": "定期保养",
        "kind": "service",
        "km_after": 15000,
        "months_after": 12,
        "repeat_months": 12,
        "lead_days": 14,
    },
    {
        "name": "36/48/60 个月回访",
        "kind": "callback",
        "months_after": 36,
        "repeat_months": 12,
        "occurrences": 3,
    },
    {
        "name": "保险续保",
        "kind": "insurance",
        "months_after": 12,
        "repeat_months": 12,
        "lead_days": 30,
    },
    {
        "name": "年检",
        "kind": "inspection",
        "months_after": 24,
        "repeat_months": 12,
        "lead_days": 30,
    },
]


def next_run_at() -> datetime.datetime:
    """03:00 local time, after the leads' pool rules at 02:00."""
    from django.utils import timezone

    now = timezone.localtime()
    run = now.replace(hour=3, minute=0, second=0, microsecond=0)
    return run if run > now else run + datetime.timedelta(days=1)


def create_defaults(apps: Any) -> None:
    CareRule = apps.get_model("occasions", "CareRule")
    InvitationSettings = apps.get_model("occasions", "InvitationSettings")
    LifecycleRule = apps.get_model("occasions", "LifecycleRule")
    ScheduledJob = apps.get_model("core", "ScheduledJob")
    if not CareRule.objects.exists():
        CareRule.objects.bulk_create(
            [CareRule(relationship=r, care=c) for r, c in CARE_RULES.items()]
        )
    if not InvitationSettings.objects.exists():
        InvitationSettings.objects.create(pk=1, days_min=14, days_max=21)
    if not LifecycleRule.objects.exists():
        LifecycleRule.objects.bulk_create([LifecycleRule(**row) for row in LIFECYCLE_RULES])
    ScheduledJob.objects.get_or_create(
        name=JOB_NAME,
        defaults={"task_path": JOB_TASK, "interval_seconds": DAY, "next_run_at": next_run_at()},
    )


def ensure_defaults(**kwargs: Any) -> None:
    from django.apps import apps as global_apps
    from django.db import connections

    from kehu.occasions import triggers
    from kehu.occasions.models import CareRule, InvitationSettings

    triggers.install(connections[kwargs.get("using") or "default"])

    if not CareRule.objects.exists() or not InvitationSettings.objects.exists():
        create_defaults(global_apps)
