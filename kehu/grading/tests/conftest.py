"""Fixtures of the grading tests: ``world`` (see helpers) and English messages."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from kehu.grading.tests.helpers import world  # noqa: F401 - a fixture


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield
