"""DOMAIN §2 completeness defaults, editable afterwards."""

from django.db import migrations

from kehu.customers.completeness import DEFAULT_REQUIREMENTS


def forwards(apps, schema_editor):
    StageRequirement = apps.get_model("customers", "StageRequirement")
    for stage, (fields, minimum) in DEFAULT_REQUIREMENTS.items():
        StageRequirement.objects.get_or_create(
            stage=stage, defaults={"fields": list(fields), "minimum": minimum}
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
