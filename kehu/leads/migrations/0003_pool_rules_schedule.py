"""Schedule the daily pool rules (kehu.leads.tasks.run_pool_rules_task) at 02:00 local
time; the worker enqueues it when due (kehu.core.worker.enqueue_due_jobs)."""

import datetime

from django.db import migrations
from django.utils import timezone

NAME = "pool-rules"
TASK = "kehu.leads.tasks.run_pool_rules_task"
DAY = 24 * 60 * 60


def next_two_am() -> datetime.datetime:
    now = timezone.localtime()
    run = now.replace(hour=2, minute=0, second=0, microsecond=0)
    return run if run > now else run + datetime.timedelta(days=1)


def forwards(apps, schema_editor):
    ScheduledJob = apps.get_model("core", "ScheduledJob")
    ScheduledJob.objects.get_or_create(
        name=NAME,
        defaults={"task_path": TASK, "interval_seconds": DAY, "next_run_at": next_two_am()},
    )


def backwards(apps, schema_editor):
    apps.get_model("core", "ScheduledJob").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_default_channels"), ("core", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
