"""Running the real ``kehu`` command in a child process against the test database.

Used by the command and worker tests. Tests that start a child process use
``transactional_db`` so that the child sees committed rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from django.db import connection

BIN = Path(sys.executable).parent
KEHU = str(BIN / "kehu")
ROOT = Path(__file__).resolve().parents[3]


def database_url() -> str:
    """A DATABASE_URL for the database the tests are using right now (the test one)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(Path(s["NAME"]).resolve())
    auth = quote(s["USER"] or "")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"])
    host = s["HOST"] or "127.0.0.1"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child ``kehu``: development mode on the test database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KEHU_", "DJANGO_", "PYTEST_")) and k not in {"DATABASE_URL"}
    }
    env.update(
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="kehu.settings",
        KEHU_ENV="development",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    if "KEHU_VAR_DIR" in os.environ:
        env["KEHU_VAR_DIR"] = os.environ["KEHU_VAR_DIR"]
    env.update(extra)
    return env


def run_kehu(*args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own executable and arguments
        [KEHU, *args],
        env=child_env(**extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_kehu(*args: str, **extra: str) -> subprocess.Popen[str]:
    """Start ``kehu ARGS`` in the background; the caller must :func:`stop` it in a
    ``finally``. Output goes to a file, not a pipe, so a chatty child never blocks."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop()
    process = subprocess.Popen(  # noqa: S603
        [KEHU, *args],
        env=child_env(**extra),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def stop(process: subprocess.Popen[str]) -> str:
    """Kill ``process`` if it still runs, wait for it, and return what it printed."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)
    log = process.log  # type: ignore[attr-defined]
    log.seek(0)
    out = log.read()
    log.close()
    return out
