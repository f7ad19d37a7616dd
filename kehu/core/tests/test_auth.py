"""Logging in with the real password, lock-out after repeated failures, logging out,
and what an anonymous visitor gets. No force_login here: every login goes through
the login page, the axes backend and the argon2 hasher."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client

from conftest import PASSWORD, Cast
from kehu.org import services
from kehu.org.models import OrgNode, Staff

pytestmark = pytest.mark.django_db

CONFIGURED_HASHERS = list(settings.PASSWORD_HASHERS)


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 still, with costs low enough that a test hashing a dozen passwords
    stays fast; the hashes keep the ``argon2$argon2id$`` form."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1


@pytest.fixture
def real_hasher() -> None:
    """Asked for by the one test that hashes with the configured argon2 costs."""


@pytest.fixture(autouse=True)
def cheap_argon2(request: Any, settings: Any) -> None:
    if "real_hasher" not in request.fixturenames:
        settings.PASSWORD_HASHERS = [f"{__name__}.CheapArgon2PasswordHasher"]


WRONG = "not-the-password"
BAD_LOGIN = (
    "Please enter a correct username and password. Note that both fields may be case-sensitive."
)
LOCKED = "Too many failed logins"


def login(client: Client, username: str, password: str, **extra: str) -> Any:
    return client.post("/login/", {"username": username, "password": password, **extra})


def logged_in_as(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


# --- passwords ----------------------------------------------------------------------------


@pytest.mark.argon2
def test_passwords_are_hashed_with_argon2(real_hasher: None, cast: Cast):
    assert CONFIGURED_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings.PASSWORD_HASHERS == CONFIGURED_HASHERS
    for staff in Staff.objects.all():
        assert staff.password.startswith("argon2$argon2id$v=19$m=102400,t=2,p=8$"), staff
        assert PASSWORD not in staff.password
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert login(client, "broker", PASSWORD).status_code == 302
    assert logged_in_as(client) == cast.broker.pk


def test_a_person_added_on_the_page_logs_in_with_their_initial_password(cast: Cast):
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    login(admin, "admin", PASSWORD)
    admin.post(
        "/org/staff/add/",
        {
            "username": "newbie",
            "roles": ["consultant"],
            "node": cast.team.pk,
            "password": "a-long-initial-passphrase",
            "employment_type": "full_time",
            "capacity": 100,
        },
    )
    newbie = Staff.objects.get(username="newbie")
    assert newbie.password.startswith("argon2$argon2id$")

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = login(client, "newbie", "a-long-initial-passphrase")

    assert response.status_code == 302
    assert logged_in_as(client) == newbie.pk


# --- logging in ----------------------------------------------------------------------------


def test_login_page_renders_for_anonymous_visitors(db: Any):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/login/")

    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    assert 'name="password"' in response.content.decode()


def test_login_with_the_right_password_redirects_home(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = login(client, "consultant", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_as(client) == cast.consultant.pk
    assert client.get("/org/me/").status_code == 200
    assert Staff.objects.get(pk=cast.consultant.pk).last_login is not None


def test_login_returns_to_the_page_asked_for(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = login(client, "manager", PASSWORD, next="/org/staff/?role=manager")

    assert response.status_code == 302
    assert response["Location"] == "/org/staff/?role=manager"


def test_login_never_redirects_off_site(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = login(client, "manager", PASSWORD, next="https://evil.example/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_page_sends_a_logged_in_user_home(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    login(client, "manager", PASSWORD)

    response = client.get("/login/")

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(("username", "password"), [("consultant", WRONG), ("nobody", PASSWORD)])
def test_login_with_a_wrong_password_or_user_shows_an_error(
    cast: Cast, username: str, password: str
):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = login(client, username, password)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [BAD_LOGIN]
    assert BAD_LOGIN in response.content.decode()
    assert logged_in_as(client) is None


def test_login_error_follows_the_language(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")

    response = login(client, "consultant", WRONG)

    assert response.status_code == 200
    assert BAD_LOGIN not in response.content.decode()
    assert response.context["form"].non_field_errors() != [BAD_LOGIN]


def test_a_person_who_left_cannot_log_in(cast: Cast):
    services.mark_staff_left(actor=cast.admin, staff=cast.promoter)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = login(client, "promoter", PASSWORD)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [BAD_LOGIN]
    assert logged_in_as(client) is None


# --- lock-out -------------------------------------------------------------------------------


def test_repeated_failures_lock_the_account_even_for_the_right_password(cast: Cast):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    for _ in range(4):
        response = login(client, "consultant", WRONG)
        assert response.status_code == 200
        assert BAD_LOGIN in response.content.decode()

    fifth = login(client, "consultant", WRONG)
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()

    right = login(client, "consultant", PASSWORD)
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert "registration/locked_out.html" in [t.name for t in right.templates]
    assert logged_in_as(client) is None
    # the attempt made during the lock counts as one more failure (and restarts the wait)
    assert AccessAttempt.objects.get(username="consultant").failures_since_start == 6


def test_a_locked_account_does_not_lock_out_anyone_else(cast: Cast):
    """Lock-out is per username: a sales floor behind one address keeps working."""
    for _ in range(5):
        login(Client(), "consultant", WRONG)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = login(client, "manager", PASSWORD)

    assert response.status_code == 302
    assert logged_in_as(client) == cast.manager.pk


def test_the_lock_lifts_after_the_cool_off(cast: Cast):
    for _ in range(5):
        login(Client(), "consultant", WRONG)
    assert login(Client(), "consultant", PASSWORD).status_code == 429
    earlier = settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1)
    attempt = AccessAttempt.objects.get(username="consultant")
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - earlier)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = login(client, "consultant", PASSWORD)

    assert response.status_code == 302
    assert logged_in_as(client) == cast.consultant.pk


def test_a_successful_login_resets_the_failure_count(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(4):
        login(client, "consultant", WRONG)
    assert login(client, "consultant", PASSWORD).status_code == 302
    client.post("/logout/")

    for _ in range(4):
        assert login(client, "consultant", WRONG).status_code == 200
    response = login(client, "consultant", PASSWORD)

    assert response.status_code == 302
    assert logged_in_as(client) == cast.consultant.pk


# --- logging out -------------------------------------------------------------------------------


def test_logout_by_post_ends_the_session(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    login(client, "manager", PASSWORD)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert logged_in_as(client) is None
    assert client.get("/org/").status_code == 302


def test_logout_by_get_is_refused(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    login(client, "manager", PASSWORD)

    response = client.get("/logout/")

    assert response.status_code == 405
    assert logged_in_as(client) == cast.manager.pk


def test_every_page_has_a_logout_button(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    login(client, "promoter", PASSWORD)

    content = client.get("/org/me/").content.decode()

    assert '<form method="post" action="/logout/"' in content


# --- anonymous visitors -------------------------------------------------------------------------


def page_urls(cast: Cast) -> list[str]:
    return [
        "/",
        "/org/",
        "/org/staff/",
        "/org/staff/add/",
        f"/org/staff/{cast.consultant.pk}/",
        f"/org/staff/{cast.consultant.pk}/edit/",
        "/org/me/",
        "/audit/",
    ]


def test_anonymous_visitors_are_sent_to_login(cast: Cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    for url in page_urls(cast):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/login/?next={url}", url


def test_anonymous_writes_are_sent_to_login_and_change_nothing(cast: Cast):
    token, _key = services.issue_api_token(actor=None, staff=cast.consultant)
    nodes, people = OrgNode.objects.count(), Staff.objects.count()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    posts = [
        ("/org/", {"name": "三组", "parent": cast.area.pk}),
        ("/org/staff/add/", {"username": "x", "roles": ["admin"], "node": cast.company.pk}),
        (f"/org/staff/{cast.consultant.pk}/edit/", {"form": "leave"}),
        (f"/org/me/tokens/{token.pk}/revoke/", {}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url

    assert (OrgNode.objects.count(), Staff.objects.count()) == (nodes, people)
    assert Staff.objects.get(pk=cast.consultant.pk).is_active is True
    token.refresh_from_db()
    assert token.revoked_at is None
