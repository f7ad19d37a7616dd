"""The built-in ``default`` scheme (DOMAIN §8, approved, valid from 2011) and the monthly
run's schedule: the worker enqueues ``kehu.incentives.tasks.run_last_month_task`` once a
day; the task runs last month only from 09:00 on the 6th (after the targets deadline)
and only once (see kehu.incentives.tasks)."""

import datetime

from django.db import migrations
from django.utils import timezone

JOB = "incentives-monthly-run"
TASK = "kehu.incentives.tasks.run_last_month_task"
DAY = 24 * 60 * 60


def next_nine_am() -> datetime.datetime:
    now = timezone.localtime()
    run = now.replace(hour=9, minute=0, second=0, microsecond=0)
    return run if run > now else run + datetime.timedelta(days=1)


def forwards(apps, schema_editor):
    from kehu.incentives.schemes import default_scheme

    Scheme = apps.get_model("incentives", "Scheme")
    params = default_scheme()
    Scheme.objects.get_or_create(
        code=params["code"],
        version=params["version"],
        defaults={
            "name": params["name"],
            "valid_from": datetime.date.fromisoformat(params["valid_from"]),
            "valid_to": None,
            "params": params,
            "status": "approved",
            "is_builtin": True,
        },
    )
    apps.get_model("core", "ScheduledJob").objects.get_or_create(
        name=JOB,
        defaults={"task_path": TASK, "interval_seconds": DAY, "next_run_at": next_nine_am()},
    )


def backwards(apps, schema_editor):
    apps.get_model("core", "ScheduledJob").objects.filter(name=JOB).delete()
    apps.get_model("incentives", "Scheme").objects.filter(is_builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("incentives", "0001_initial"), ("core", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
