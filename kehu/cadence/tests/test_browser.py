"""Browser test of My day (issue 4) in Debian's Chromium at 375 px and 1280 px: the
consultant opens it from the navbar, sees the overdue and due customers with their
reasons, logs a call with one tap (htmx, in place), and moves to another day with the
date picker. Every page is checked as in kehu/core/tests/test_browser.py (no sideways
scroll, no foreign host, no error)."""

from __future__ import annotations

import datetime
import importlib
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conftest import build_cast
from kehu.activities.models import Activity
from kehu.cadence.tests.helpers import called, customer_of
from kehu.core.tests import test_browser as core

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

allow_orm_beside_playwright = core.allow_orm_beside_playwright
browser = core.browser
walk = core.walk


def default_rows() -> None:
    from django.apps import apps

    importlib.import_module("kehu.leads.migrations.0002_default_channels").forwards(apps, None)
    migration = importlib.import_module("kehu.cadence.migrations.0002_defaults")
    migration.seed_rules(apps, None)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_consultant_works_through_my_day(walk: Any, viewport: str) -> None:
    default_rows()
    cast = build_cast()
    overdue = called(cast.consultant, customer_of(cast.consultant, "13900000011", "王先生", "B"), 6)
    due = called(cast.consultant, customer_of(cast.consultant, "13900000012", "张女士", "A"), 1)
    called(
        cast.other_consultant, customer_of(cast.other_consultant, "13900000013", "赵先生", "A"), 3
    )

    w = walk(viewport, "consultant")
    page = w.page
    w.login("consultant")
    w.nav(reverse("cadence:my-day"))
    page.wait_for_url(re.compile(r".*/cadence/my-day/$"))
    expect(page.get_by_test_id("group-overdue")).to_contain_text("王先生")
    expect(page.get_by_test_id("group-overdue")).to_contain_text("Grade B: call every 3 days")
    expect(page.get_by_test_id("group-due")).to_contain_text("张女士")
    expect(page.locator("body")).not_to_contain_text("赵先生")
    w.check("my-day")

    # One tap: the call is logged in place, the page stays.
    page.get_by_test_id(f"log-call-{overdue.pk}").click()
    expect(page.get_by_test_id(f"logged-{overdue.pk}")).to_contain_text("Call logged")
    assert Activity.objects.filter(customer=overdue, kind="call").count() == 2
    w.check("my-day-logged")

    # Reload: the customer called today is no longer due; the other still is.
    page.reload()
    expect(page.get_by_test_id("group-overdue")).to_have_count(0)
    expect(page.get_by_test_id("group-due")).to_contain_text("张女士")

    # The date picker: three days on, the customer just called is due again.
    page.get_by_test_id("date-input").fill(
        (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    )
    page.get_by_test_id("date-input").dispatch_event("change")
    page.wait_for_url(re.compile(r".*\?date=\d{4}-\d{2}-\d{2}$"))
    expect(page.get_by_test_id("group-due")).to_contain_text("王先生")
    expect(page.get_by_test_id("group-overdue")).to_contain_text("张女士")
    w.check("my-day-later")

    # The customer link opens the customer.
    page.get_by_role("link", name="张女士").first.click()
    page.wait_for_url(re.compile(rf".*/customers/{due.pk}/$"))
    w.check("customer")
    w.assert_clean()
