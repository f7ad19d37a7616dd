"""Default rows grading needs: the settings row and the nightly value-grade job.

The data migration creates them once. This post_migrate handler puts them back after a
flush (``kehu flush``, or the test runner between transactional tests): the settings
table empty means the database was emptied, and then the job is restored by its name.
An administrator who disables the job keeps it disabled (its row stays).
"""

from __future__ import annotations

import importlib
from typing import Any


def ensure_defaults(**kwargs: Any) -> None:
    from django.apps import apps as global_apps

    from kehu.grading.models import GradingSettings

    migration = importlib.import_module("kehu.grading.migrations.0002_defaults_and_schedule")
    if not GradingSettings.objects.exists():
        migration.forwards(global_apps, None)
