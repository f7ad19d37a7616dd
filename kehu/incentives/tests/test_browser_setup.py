"""Rows of other apps' data migrations the live-server tests need after a flush."""

from __future__ import annotations

import importlib


def channels() -> None:
    from django.apps import apps

    importlib.import_module("kehu.leads.migrations.0002_default_channels").forwards(apps, None)
