"""Browser test of the sales-floor registration and the customer page (issue 3), and of
the promoter's phone page, in Debian's Chromium at 375 px and 1280 px: the duplicate
answer appears while the number is typed, before saving; the judgement after saving links
to the customer; a follow-up logged on the customer page updates the timeline and the
summary in place (htmx); the stage changes. Every page is checked as in
kehu/core/tests/test_browser.py (no sideways scroll, no foreign host, no error)."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conftest import build_cast
from kehu.core.tests import test_browser as core
from kehu.customers.models import Customer
from kehu.leads.models import Registration
from kehu.leads.services import register_lead

# The live server needs a transactional database, flushed after each test; the flush's
# post_migrate puts the default rows back (kehu.leads.defaults).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

# The core browser test's fixtures: one Chromium per module, and a walk at a viewport.
allow_orm_beside_playwright = core.allow_orm_beside_playwright
browser = core.browser
walk = core.walk


def default_channels() -> None:
    """The live server needs a transactional database, flushed after each test, rows
    of data migrations included: put the default channels and pool settings back."""
    from django.apps import apps

    importlib.import_module("kehu.leads.migrations.0002_default_channels").forwards(apps, None)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_consultant_registers_a_visit_and_follows_it_up(walk: Any, viewport: str) -> None:
    default_channels()
    cast = build_cast()
    register_lead(
        actor=cast.other_consultant, phone="13900000002", kind="call", channel="phone", name="乙"
    )
    w = walk(viewport, "consultant")
    page = w.page

    w.login("consultant")
    assert page.url == w.url("customers:list")
    w.check("customers-empty")

    w.nav(reverse("leads:register"))
    phone = page.get_by_label("Mobile number")
    answer = page.get_by_test_id("check-answer")
    # Someone else's protected number: said before saving, without whose it is.
    phone.press_sequentially("13900000002")
    expect(answer).to_contain_text("Existing — protected for someone else until")
    expect(answer).not_to_contain_text("乙")
    phone.fill("")
    phone.press_sequentially("1390000123")
    expect(answer).to_contain_text("A mainland mobile number has 11 digits; this one has 10.")
    phone.press_sequentially("4")
    expect(answer).to_contain_text("New customer.")
    w.check("register")
    page.locator("label[for='id_kind_1']").click()  # Visit
    page.get_by_label("Name").fill("王先生")
    page.get_by_label("Channel").select_option("walk_in")
    page.get_by_test_id("register-submit").click()
    page.wait_for_url(re.compile(r".*/leads/register/\?done=\d+$"))
    expect(page.get_by_test_id("registration-answer")).to_contain_text("New customer: registered.")
    w.check("registered")

    customer = Customer.objects.get(phones__number="+8613900001234")
    assert Registration.objects.get(customer=customer).kind == "visit"
    page.get_by_test_id("answer-customer").click()
    page.wait_for_url(w.url("customers:detail", customer.pk))
    expect(page.get_by_test_id("customer-name")).to_have_text("王先生")
    expect(page.get_by_test_id("customer-stage")).to_have_text("Left phone number")
    w.check("customer")

    form = page.get_by_test_id("followup-form")
    form.get_by_label("Kind").select_option("visit")
    form.get_by_label("Outcome").select_option("interested")
    form.get_by_label("Note").fill("看了样板间")
    form.get_by_role("button", name="Save follow-up").click()
    expect(page.get_by_text("Follow-up saved.")).to_be_visible()
    # The summary and the timeline were swapped in place: same page, no reload.
    assert page.url == w.url("customers:detail", customer.pk)
    expect(page.get_by_test_id("customer-stage")).to_have_text("Visited")
    expect(page.get_by_test_id("timeline").locator("li").first).to_contain_text("看了样板间")
    expect(form.get_by_label("Note")).to_have_value("")
    expect(page.get_by_test_id("stage-form").get_by_label("New stage")).to_have_value("visited")
    w.check("followed-up")

    stage = page.get_by_test_id("stage-form")
    stage.get_by_label("New stage").select_option("pledged")
    stage.get_by_role("button", name="Change stage").click()
    expect(page.get_by_test_id("customer-stage")).to_have_text("Pledged")
    w.check("pledged")
    customer.refresh_from_db()
    assert (customer.stage, customer.visit_count, customer.owner_id) == (
        "pledged",
        1,
        cast.consultant.pk,
    )
    w.assert_clean()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_promoter_registers_in_the_field(walk: Any, viewport: str) -> None:
    default_channels()
    build_cast()
    w = walk(viewport, "promoter")
    page = w.page

    w.login("promoter")
    assert page.url == w.url("leads:field")
    w.check("field")
    phone = page.get_by_label("Mobile number")
    expect(phone).to_have_attribute("inputmode", "tel")
    phone.press_sequentially("13900005678")
    expect(page.get_by_test_id("check-answer")).to_contain_text("New customer.")
    page.get_by_label("Name").fill("路人甲")
    page.locator("label", has_text="Flyers / orders").click()
    page.get_by_test_id("field-submit").click()
    page.wait_for_url(re.compile(r".*/leads/field/\?done=\d+$"))
    expect(page.get_by_test_id("registration-answer")).to_contain_text("New customer: registered.")
    expect(page.get_by_test_id("today-list")).to_contain_text("139****5678")
    expect(page.get_by_test_id("today-list")).not_to_contain_text("13900005678")
    w.check("field-registered")
    registration = Registration.objects.get()
    assert (registration.kind, registration.channel.code) == ("field", "flyer")
    w.assert_clean()
