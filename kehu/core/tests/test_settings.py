"""Settings come from the environment; in production a wrong or missing one stops
start-up with a message that names it. Each case starts a fresh process with a clean
environment, as an operator's deployment would."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from kehu.core.tests.procs import KEHU, ROOT

SECRET = secrets.token_urlsafe(50)


def environment(tmp_path: Path, **values: str | None) -> dict[str, str]:
    """Production with every required setting, then ``values`` (None removes one)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "KEHU_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "KEHU_ENV": "production",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "kehu.example.com",
    }
    for name, value in values.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(tmp_path: Path, *args: str, **values: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        env=environment(tmp_path, **values),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def kehu(tmp_path: Path, *args: str, **values: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [KEHU, *args],
        env=environment(tmp_path, **values),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


BAD = [
    pytest.param(
        {"SECRET_KEY": None}, "SECRET_KEY is required when KEHU_ENV=production.", id="no-secret"
    ),
    pytest.param(
        {"SECRET_KEY": ""}, "SECRET_KEY is required when KEHU_ENV=production.", id="empty-secret"
    ),
    pytest.param(
        {"SECRET_KEY": "short"},
        "SECRET_KEY is too weak: use at least 50 random characters",
        id="short-secret",
    ),
    pytest.param(
        {"SECRET_KEY": "ab" * 40},
        "SECRET_KEY is too weak: use at least 50 random characters",
        id="repetitive-secret",
    ),
    pytest.param(
        {"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is required when KEHU_ENV=production", id="no-hosts"
    ),
    pytest.param(
        {"ALLOWED_HOSTS": " , "},
        "ALLOWED_HOSTS is required when KEHU_ENV=production",
        id="blank-hosts",
    ),
    pytest.param(
        {"DATABASE_URL": "not a url"}, "DATABASE_URL is not a valid database URL", id="garbage-url"
    ),
    pytest.param(
        {"DATABASE_URL": "postgres://u:p@db:notaport/kehu"},
        "DATABASE_URL is not a valid database URL",
        id="bad-port",
    ),
    pytest.param(
        {"DATABASE_URL": "mysql://u:p@db/kehu"}, "DATABASE_URL must point at PostgreSQL", id="mysql"
    ),
    pytest.param(
        {"DATABASE_URL": "postgres://"}, "DATABASE_URL names no database", id="no-db-name"
    ),
    pytest.param(
        {"DATABASE_URL": "sqlite://"}, "DATABASE_URL names no database", id="sqlite-memory"
    ),
    pytest.param(
        {"TIME_ZONE": "Mars/Olympus"},
        "TIME_ZONE 'Mars/Olympus' is not a known time zone",
        id="bad-tz",
    ),
    pytest.param(
        {"KEHU_ENV": "staging"},
        "KEHU_ENV must be 'development' or 'production', not 'staging'.",
        id="bad-env",
    ),
    pytest.param(
        {"SECURE_SSL_REDIRECT": "maybe"},
        "SECURE_SSL_REDIRECT must be true or false, not 'maybe'.",
        id="bad-bool",
    ),
]


@pytest.mark.parametrize(("values", "message"), BAD)
def test_manage_check_fails_naming_the_setting(tmp_path, values, message):
    done = manage(tmp_path, "check", **values)
    assert done.returncode != 0
    assert message in done.stderr


@pytest.mark.parametrize(("values", "message"), BAD[:1] + BAD[4:5] + BAD[6:7] + BAD[11:12])
def test_kehu_serve_exits_2_naming_the_setting(tmp_path, values, message):
    done = kehu(tmp_path, "serve", **values)
    assert done.returncode == 2
    assert done.stderr.startswith("kehu: configuration error: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_plain_kehu_serve_is_production_by_default(tmp_path):
    done = kehu(tmp_path, "serve", KEHU_ENV=None, SECRET_KEY=None)
    assert done.returncode == 2
    assert "SECRET_KEY is required when KEHU_ENV=production." in done.stderr


def test_the_database_url_password_is_not_printed(tmp_path):
    done = manage(tmp_path, "check", DATABASE_URL="postgres://kehu:hunter2@db:notaport/kehu")
    assert done.returncode != 0
    assert "hunter2" not in done.stderr


def test_check_deploy_is_clean_in_production(tmp_path):
    done = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert (done.returncode, done.stderr) == (0, "")
    assert "System check identified no issues" in done.stdout


def test_check_deploy_flags_turning_off_the_https_redirect(tmp_path):
    done = manage(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", SECURE_SSL_REDIRECT="false"
    )
    assert done.returncode != 0
    assert "security.W008" in done.stderr


SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'DEBUG': s.DEBUG, 'SESSION_COOKIE_SECURE': s.SESSION_COOKIE_SECURE, "
    "'CSRF_COOKIE_SECURE': s.CSRF_COOKIE_SECURE, 'SECURE_SSL_REDIRECT': s.SECURE_SSL_REDIRECT, "
    "'SECURE_HSTS_SECONDS': s.SECURE_HSTS_SECONDS, 'SESSION_COOKIE_HTTPONLY': s.SESSION_COOKIE_HTTPONLY, "
    "'ALLOWED_HOSTS': s.ALLOWED_HOSTS, 'TIME_ZONE': s.TIME_ZONE, 'HASHER': s.PASSWORD_HASHERS[0], "
    "'ENGINE': s.DATABASES['default']['ENGINE'], 'DB': str(s.DATABASES['default']['NAME']), "
    "'X_FRAME_OPTIONS': s.X_FRAME_OPTIONS, 'RENDERERS': s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES']}))"
)


def test_production_settings_are_secure(tmp_path):
    done = manage(
        tmp_path,
        "shell",
        "-v",
        "0",
        "-c",
        SHOW,
        DEBUG="true",
        ALLOWED_HOSTS="kehu.example.com, crm.example.com",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "DEBUG": False,  # DEBUG=true is ignored in production
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_HTTPONLY": True,
        "ALLOWED_HOSTS": ["kehu.example.com", "crm.example.com"],
        "TIME_ZONE": "Asia/Shanghai",
        "HASHER": "django.contrib.auth.hashers.Argon2PasswordHasher",
        "ENGINE": "django.db.backends.sqlite3",
        "DB": str(tmp_path / "var" / "kehu.sqlite3"),
        "X_FRAME_OPTIONS": "DENY",
        "RENDERERS": ["rest_framework.renderers.JSONRenderer"],
    }


def test_development_needs_no_settings(tmp_path):
    done = manage(
        tmp_path, "shell", "-v", "0", "-c", SHOW, KEHU_ENV=None, SECRET_KEY=None, ALLOWED_HOSTS=None
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["DEBUG"], shown["SESSION_COOKIE_SECURE"]) == (True, False)
    assert "127.0.0.1" in shown["ALLOWED_HOSTS"]
    # A generated secret is kept in the var directory for the next start.
    assert len((tmp_path / "var" / "dev-secret-key").read_text()) >= 50


def test_database_url_selects_postgresql(tmp_path):
    done = manage(
        tmp_path,
        "shell",
        "-v",
        "0",
        "-c",
        SHOW,
        DATABASE_URL="postgres://kehu:pw@db.internal:5432/kehu",
        TIME_ZONE="UTC",
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["ENGINE"], shown["DB"], shown["TIME_ZONE"]) == (
        "django.db.backends.postgresql",
        "kehu",
        "UTC",
    )
