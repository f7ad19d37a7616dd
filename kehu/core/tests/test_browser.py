"""Browser test: a person logs in through the form and walks the pages in Debian's Chromium.

Driven by Playwright's sync API against pytest-django's ``live_server``, at a phone width
(375 px) and a desktop width (1280 px), as the admin and as a consultant. On every page it
checks that nothing scrolls sideways, and over the whole walk that the browser asked no host
but the live server (no CDN, no web fonts) and got no 4xx/5xx answer and no script error.
Screenshots of every page land in ``test-artifacts/`` (gitignored) for a person to look at.

Chromium comes from Debian (``apt-get install chromium``), not from Playwright's own
download, which cannot work on our machines.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect, sync_playwright

from conftest import PASSWORD, build_cast

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
VIEWPORTS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(scope="module", autouse=True)
def allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an asyncio event loop running in this thread (in a
    greenlet), so Django's async-safety guard would refuse every ORM call the test makes
    (building the cast, pytest-django's flush at teardown) with SynchronousOnlyOperation.
    Nothing here is async: the test and the live server's thread call the ORM
    synchronously. The guard is lifted for this module only and put back afterwards."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="module")
def browser(allow_orm_beside_playwright: None) -> Iterator[Browser | None]:
    """One Chromium for the module; None when it is not installed, so that each test
    fails (not errors, never skips) with the command that installs it."""
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMIUM)):
        yield None
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Walk:
    """One person's walk through the pages at one viewport, with the checks every page gets."""

    def __init__(self, page: Page, base_url: str, label: str, phone: bool) -> None:
        self.page = page
        self.base_url = base_url
        self.label = label
        self.phone = phone
        self.requests: list[str] = []
        self.failures: list[str] = []
        self.errors: list[str] = []
        self.shots: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on(
            "response",
            lambda r: self.failures.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def url(self, name: str, *args: Any) -> str:
        return self.base_url + reverse(name, args=args)

    def check(self, name: str) -> None:
        """No sideways scrolling on this page, and a full-page screenshot of it."""
        self.page.wait_for_load_state("load")
        width = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert width[0] <= width[1], f"{name} scrolls sideways at {self.label}: {width}"
        text = self.page.locator("body").inner_text()
        assert "{%" not in text and "{#" not in text and "{{" not in text, name
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{self.label}-{name}.png", full_page=True)
        self.shots.append(name)

    def nav(self, href: str) -> None:
        """Click a navbar link the way a person would: on a phone, open the menu first."""
        link = self.page.locator(f'#nav a[href="{href}"]')
        toggler = self.page.locator(".navbar-toggler")
        if self.phone:
            expect(link).to_be_hidden()
            expect(toggler).to_be_visible()
            toggler.click()
            # Bootstrap animates the menu open ("collapsing"), then marks it "show".
            expect(self.page.locator("#nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
            if "menu" not in self.shots:
                self.check("menu")
        else:
            expect(toggler).to_be_hidden()
        menu = self.page.locator(f'#nav .dropdown:has(a[href="{href}"]) > .dropdown-toggle')
        if menu.count():
            # Grouped links (Work, Company) sit in a dropdown: open it as a person would.
            expect(link).to_be_hidden()
            menu.click()
        expect(link).to_be_visible()
        link.click()
        self.page.wait_for_url(self.base_url + href)

    def login(self, username: str) -> None:
        self.page.goto(self.url("login"))
        expect(self.page.locator("html")).to_have_attribute("lang", "en")
        self.check("login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_test_id("login-submit").click()
        expect(self.page.get_by_test_id("nav-profile")).to_have_count(1)

    def switch_language(self) -> None:
        """The switch sits in the navbar, reachable at 375 px without opening the menu."""
        page = self.page
        staff_link = page.locator(f'#nav a[href="{reverse("org:staff-list")}"]')
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(staff_link).to_have_text("Staff")
        if self.phone:
            expect(page.locator("#nav")).to_be_hidden()
        zh = page.get_by_test_id("lang-zh")
        expect(zh).to_be_visible()
        expect(zh).to_have_text("中文")
        zh.click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(staff_link).to_have_text("员工")
        en = page.get_by_test_id("lang-en")
        expect(en).to_be_visible()
        expect(en).to_have_text("English")
        self.check("zh")
        en.click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(staff_link).to_have_text("Staff")
        expect(page.get_by_test_id("lang-zh")).to_have_text("中文")

    def open_staff(self, name: str) -> None:
        """From the staff list, click a person's name and land on their page."""
        table = self.page.get_by_test_id("staff-table")
        table.get_by_role("link", name=name, exact=True).click()
        self.page.wait_for_url(re.compile(r".*/org/staff/\d+/$"))
        expect(self.page.get_by_test_id("staff-name")).to_have_text(name)

    def create_token(self) -> None:
        self.page.locator("#id_token-name").fill("laptop")
        self.page.get_by_role("button", name="Create token").click()
        expect(self.page.get_by_test_id("new-token")).to_be_visible()

    def assert_clean(self) -> None:
        # The page's own assets were asked for, all from the live server: no CDN.
        assert self.base_url + "/static/vendor/bootstrap/bootstrap.min.css" in self.requests
        assert self.base_url + "/static/kehu/kehu.css" in self.requests
        foreign = [u for u in self.requests if not u.startswith(self.base_url + "/")]
        assert foreign == []
        assert self.failures == []
        assert self.errors == []


@pytest.fixture
def walk(browser: Browser | None, live_server: Any, transactional_db: Any) -> Iterator[Any]:
    def start(viewport: str, persona: str) -> Walk:
        if browser is None:
            pytest.fail(
                f"Chromium is missing at {CHROMIUM}: the browser tests need Debian's package "
                "(apt-get install chromium)."
            )
        context = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-US")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return Walk(
            context.new_page(), live_server.url, f"{persona}-{viewport}", viewport == "phone"
        )

    contexts: list[Any] = []
    yield start
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_admin_walks_every_page(walk: Any, viewport: str) -> None:
    cast = build_cast()
    w = walk(viewport, "admin")
    page = w.page

    w.login("admin")
    assert page.url == w.url("customers:list")
    page.goto(w.url("org:tree"))
    w.switch_language()
    expect(page.get_by_test_id("org-tree")).to_contain_text("一组")
    expect(page.get_by_test_id("org-tree")).to_contain_text("二组")
    w.check("tree")

    w.nav(reverse("org:staff-list"))
    expect(page.get_by_test_id("staff-table").locator("tbody tr")).to_have_count(9)
    w.check("staff-list")
    w.open_staff("Consultant")
    assert page.url == w.url("org:staff-detail", cast.consultant.pk)
    expect(page.get_by_text("13800000005")).to_be_visible()
    w.check("staff-detail")
    page.get_by_role("link", name="Edit").click()
    page.wait_for_url(w.url("org:staff-edit", cast.consultant.pk))
    expect(page.locator("#id_name")).to_have_value("Consultant")
    w.check("staff-edit")

    w.nav(reverse("org:profile"))
    w.create_token()
    w.check("profile")

    w.nav(reverse("audit-log"))
    expect(page.get_by_test_id("audit-table")).to_contain_text("org.token.issue")
    # The change column lists what changed; a phone has no room for it.
    change = page.get_by_test_id("audit-table").locator(
        ".kehu-diff li", has_text=re.compile(rf"^manager — → {cast.manager.pk}$")
    )
    expect(change).to_have_count(1)
    if viewport == "desktop":
        expect(change).to_be_visible()
    else:
        expect(change).to_be_hidden()
    w.check("audit-log")

    w.nav(reverse("org:tree"))
    w.check("tree-again")
    assert w.shots == [
        "login",
        "zh",
        "tree",
        *(["menu"] if viewport == "phone" else []),
        "staff-list",
        "staff-detail",
        "staff-edit",
        "profile",
        "audit-log",
        "tree-again",
    ]
    w.assert_clean()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_consultant_walks_their_pages(walk: Any, viewport: str) -> None:
    cast = build_cast()
    w = walk(viewport, "consultant")
    page = w.page

    w.login("consultant")
    assert page.url == w.url("customers:list")
    page.goto(w.url("org:profile"))
    expect(page.locator(f'#nav a[href="{reverse("audit-log")}"]')).to_have_count(0)
    w.switch_language()
    w.create_token()
    w.check("profile")

    w.nav(reverse("org:tree"))
    expect(page.get_by_test_id("org-tree")).to_contain_text("一组")
    expect(page.get_by_test_id("org-tree")).not_to_contain_text("二组")
    w.check("tree")

    w.nav(reverse("org:staff-list"))
    names = page.get_by_test_id("staff-table").locator("tbody tr td:first-child a")
    expect(names).to_have_text(["Commissioner", "Consultant", "Manager", "Promoter"])
    w.check("staff-list")
    w.open_staff("Manager")
    assert page.url == w.url("org:staff-detail", cast.manager.pk)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    w.check("staff-detail")
    menu = ["menu"] if viewport == "phone" else []
    assert w.shots == ["login", "zh", "profile", *menu, "tree", "staff-list", "staff-detail"]
    w.assert_clean()
