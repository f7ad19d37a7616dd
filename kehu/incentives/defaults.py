"""Default rows the incentives app needs: the built-in ``default`` scheme and the monthly
run's schedule.

The data migration creates them once. This post_migrate handler puts them back when the
scheme table has been emptied whole (a database flushed by ``kehu flush`` or by the test
runner between transactional tests); it never re-creates a row an administrator removed
from a populated table. The schedule row is restored with the scheme, by name, after the
leads app has restored its own (its handler runs first: leads precedes incentives in
INSTALLED_APPS)."""

from __future__ import annotations

import importlib
from typing import Any


def ensure_defaults(**kwargs: Any) -> None:
    from django.apps import apps as global_apps

    from kehu.incentives.models import Scheme

    if not Scheme.objects.exists():
        importlib.import_module("kehu.incentives.migrations.0002_default_scheme_schedule").forwards(
            global_apps, None
        )
