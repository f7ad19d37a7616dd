"""Browser test of the incentive pages in Debian's Chromium at 375 px: an administrator
runs a month with the run button (htmx, progress bar, then the run's page with its
chart), reads a statement, the pool and the schemes; a manager reads their own statement.
A manager simulates the worked example on the simulator page and sees a mistake named.
Every page is checked as in kehu/core/tests/test_browser.py (no sideways scroll, no error)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from conftest import build_cast
from kehu.core.tests import test_browser as core
from kehu.incentives.tests import factories as f
from kehu.incentives.tests.test_browser_setup import channels

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

allow_orm_beside_playwright = core.allow_orm_beside_playwright
browser = core.browser
walk = core.walk


def test_admin_runs_a_month_and_reads_the_statements(walk: Any) -> None:
    channels()
    cast = build_cast()
    f.world(cast)
    w = walk("phone", "admin")
    page = w.page
    w.login("admin")

    page.goto(w.url("incentives:runs"))
    w.check("incentive-runs")
    page.get_by_label("Month", exact=True).fill(f.MONTH)
    page.get_by_test_id("run-button").click()
    page.wait_for_url(re.compile(r".*/incentives/runs/2026-03/$"))
    expect(page.get_by_test_id("run-total")).to_have_text("600.00")
    expect(page.locator("[data-chart] svg")).to_have_count(1)
    expect(page.get_by_test_id("xlsx")).to_be_visible()
    w.check("incentive-run")

    page.get_by_role("link", name="Manager", exact=True).click()
    expect(page.get_by_test_id("statement-total")).to_have_text("800.00")
    expect(page.get_by_test_id("line")).to_have_count(2)
    w.check("incentive-statement")

    page.goto(w.url("incentives:pool"))
    expect(page.get_by_test_id("pool-table")).to_contain_text("2026-03")
    expect(page.locator("[data-chart] svg")).to_have_count(1)
    w.check("incentive-pool")
    page.goto(w.url("incentives:schemes"))
    w.check("incentive-schemes")
    page.goto(w.url("incentives:targets"))
    w.check("incentive-targets")
    assert w.errors == [] and w.failures == []

    m = walk("phone", "manager")
    m.login("manager")
    m.page.goto(m.url("incentives:statement"))
    expect(m.page.get_by_test_id("statement-total")).to_have_text("800.00")
    m.check("incentive-my-statement")
    assert m.errors == [] and m.failures == []


def test_manager_simulates_the_worked_example_and_sees_mistakes(walk: Any) -> None:
    channels()
    build_cast()
    w = walk("phone", "manager")
    page = w.page
    w.login("manager")

    page.goto(w.url("incentives:simulate"))
    body = page.get_by_test_id("simulate-body")
    expect(body).to_contain_text('"month": "2026-03"')
    w.check("incentive-simulate")
    page.get_by_test_id("simulate-button").click()
    expect(page.get_by_test_id("simulate-closing")).to_have_text("4100")
    expect(page.get_by_test_id("simulate-statement-1")).to_contain_text(
        "Customer beyond the threshold of 2, paid 25,000 in 2026-03: bonus 500."
    )
    expect(page.locator("[data-chart] svg")).to_have_count(1)
    expect(page.get_by_test_id("simulate-voided")).to_be_visible()
    w.check("incentive-simulate-result")

    # A mistake in the body: the page names the field and shows no result.
    text = page.get_by_test_id("simulate-body").input_value()
    page.get_by_test_id("simulate-body").fill(
        text.replace('"pool_opening": 1000', '"pool_opening": -5', 1)
    )
    page.get_by_test_id("simulate-button").click()
    errors = page.get_by_test_id("simulate-errors")
    expect(errors).to_contain_text("pool_opening")
    expect(errors).to_contain_text("Must not be negative.")
    expect(page.get_by_test_id("simulate-statements")).to_have_count(0)
    w.check("incentive-simulate-errors")
    # The only failed response is the page answering the bad body with a 400.
    assert w.errors == []
    assert [failure.split(" ")[0] for failure in w.failures] == ["400"]
    assert w.failures[0].endswith("/incentives/simulate/")
