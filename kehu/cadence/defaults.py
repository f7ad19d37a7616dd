"""Default rows: the cadence rules and the nightly recompute job; and the owner trigger
(kehu.cadence.triggers), put back after every migrate.

The data migrations create them once; this post_migrate handler puts them back when a
table has been emptied whole (a flushed database), never one row an administrator
removed from a populated table (as kehu.leads.defaults).
"""

from __future__ import annotations

import importlib
from typing import Any


def ensure_defaults(**kwargs: Any) -> None:
    from django.apps import apps as global_apps
    from django.db import connections

    from kehu.cadence import triggers

    triggers.install(connections[kwargs.get("using") or "default"])

    from kehu.cadence.models import CadenceRule
    from kehu.core.models import ScheduledJob

    migration = importlib.import_module("kehu.cadence.migrations.0002_defaults")
    if not CadenceRule.objects.exists():
        migration.seed_rules(global_apps, None)
    if not ScheduledJob.objects.filter(name=migration.NAME).exists():
        migration.schedule(global_apps, None)
