"""Field pay and brokers' commissions get kinds of their own (field_pay, commission,
commission_clawback) instead of bonus / clawback, so stored statements keep them apart
from the scheme's lines the penalty pool funds (DOMAIN §8 rule 10)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

FORWARD = [
    ({"rule": "field", "kind": "bonus"}, "field_pay"),
    ({"rule": "broker", "kind": "bonus"}, "commission"),
    ({"rule": "broker", "kind": "clawback"}, "commission_clawback"),
]


def forwards(apps: Any, schema_editor: Any) -> None:
    line = apps.get_model("incentives", "StatementLine")
    for match, kind in FORWARD:
        line.objects.filter(**match).update(kind=kind)


def backwards(apps: Any, schema_editor: Any) -> None:
    line = apps.get_model("incentives", "StatementLine")
    for match, kind in FORWARD:
        line.objects.filter(rule=match["rule"], kind=kind).update(kind=match["kind"])


class Migration(migrations.Migration):
    dependencies = [("incentives", "0004_fieldcampaign")]

    operations = [migrations.RunPython(forwards, backwards)]
