"""Default rows the product needs to work: channels, pool rules, the completeness
requirements and the nightly pool job.

The data migrations create them once. This post_migrate handler puts them back when a
table has been emptied whole (a database flushed by `kehu flush` or by the test runner
between transactional tests); it never re-creates one row that an administrator removed
from a populated table.
"""

from __future__ import annotations

import importlib
from typing import Any


def ensure_defaults(**kwargs: Any) -> None:
    from django.apps import apps as global_apps

    from kehu.core.models import ScheduledJob
    from kehu.customers.models import StageRequirement
    from kehu.leads.models import Channel, PoolSettings

    channels = importlib.import_module("kehu.leads.migrations.0002_default_channels")
    if not Channel.objects.exists() or not PoolSettings.objects.exists():
        channels.forwards(global_apps, None)
    if not StageRequirement.objects.exists():
        importlib.import_module("kehu.customers.migrations.0003_default_requirements").forwards(
            global_apps, None
        )
    if not ScheduledJob.objects.exists():
        importlib.import_module("kehu.leads.migrations.0003_pool_rules_schedule").forwards(
            global_apps, None
        )
