"""The grading settings row (DOMAIN §5 defaults) and the nightly value-grade job
(kehu.grading.tasks.recompute_value_grades_task) at 03:00 local time; the worker enqueues
it when due (kehu.core.worker.enqueue_due_jobs)."""

import datetime

from django.db import migrations
from django.utils import timezone

NAME = "value-grades"
TASK = "kehu.grading.tasks.recompute_value_grades_task"
DAY = 24 * 60 * 60


def next_three_am() -> datetime.datetime:
    now = timezone.localtime()
    run = now.replace(hour=3, minute=0, second=0, microsecond=0)
    return run if run > now else run + datetime.timedelta(days=1)


def forwards(apps, schema_editor):
    apps.get_model("grading", "GradingSettings").objects.get_or_create(pk=1)
    apps.get_model("core", "ScheduledJob").objects.get_or_create(
        name=NAME,
        defaults={"task_path": TASK, "interval_seconds": DAY, "next_run_at": next_three_am()},
    )


def backwards(apps, schema_editor):
    apps.get_model("core", "ScheduledJob").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("grading", "0001_initial"), ("core", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
