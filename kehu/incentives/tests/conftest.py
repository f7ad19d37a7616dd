"""Every incentives test starts in English, whatever an earlier test (or a request with
another Accept-Language) left active in the thread; a test that needs Chinese activates
it itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield
