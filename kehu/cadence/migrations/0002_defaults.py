"""Seed the default cadence rules (DOMAIN §6: A daily, B 2-3 a week, C 2-3 a month, D at
marketing milestones, a callback at least every 90 days) and schedule the nightly
recompute (kehu.cadence.tasks.recompute_cadences_task) at 01:30 local time."""

import datetime

from django.db import migrations
from django.utils import timezone

NAME = "cadence-recompute"
TASK = "kehu.cadence.tasks.recompute_cadences_task"
DAY = 24 * 60 * 60
DEFAULTS = {
    "A": (1, False),
    "B": (3, False),
    "C": (12, False),
    "D": (None, True),
    "callback": (90, False),
}


def next_run() -> datetime.datetime:
    now = timezone.localtime()
    run = now.replace(hour=1, minute=30, second=0, microsecond=0)
    return run if run > now else run + datetime.timedelta(days=1)


def seed_rules(apps, schema_editor):
    CadenceRule = apps.get_model("cadence", "CadenceRule")
    for grade, (days, milestones) in DEFAULTS.items():
        CadenceRule.objects.get_or_create(
            grade=grade, defaults={"interval_days": days, "uses_milestones": milestones}
        )


def schedule(apps, schema_editor):
    ScheduledJob = apps.get_model("core", "ScheduledJob")
    ScheduledJob.objects.get_or_create(
        name=NAME, defaults={"task_path": TASK, "interval_seconds": DAY, "next_run_at": next_run()}
    )


def forwards(apps, schema_editor):
    seed_rules(apps, schema_editor)
    schedule(apps, schema_editor)


def backwards(apps, schema_editor):
    apps.get_model("core", "ScheduledJob").objects.filter(name=NAME).delete()
    apps.get_model("cadence", "CadenceRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cadence", "0001_initial"), ("core", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
