"""Default care rules, invitation window, life-cycle rules and the nightly job
(kehu.occasions.defaults)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from kehu.occasions.defaults import create_defaults

    create_defaults(apps)


def backwards(apps, schema_editor):
    from kehu.occasions.defaults import JOB_NAME

    apps.get_model("core", "ScheduledJob").objects.filter(name=JOB_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("occasions", "0001_initial"), ("core", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
