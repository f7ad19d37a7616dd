"""Put the default templates, triggers and the sweep job back after a flush.

The data migration creates them once; this post_migrate handler re-creates them only
when the trigger table has been emptied whole (``kehu flush``, the test runner between
transactional tests), never one row an administrator removed (see kehu.leads.defaults).
"""

from __future__ import annotations

import importlib
from typing import Any


def ensure_defaults(**kwargs: Any) -> None:
    from django.apps import apps as global_apps

    from kehu.messaging.models import TriggerRule

    if not TriggerRule.objects.exists():
        importlib.import_module("kehu.messaging.migrations.0002_defaults").forwards(
            global_apps, None
        )
