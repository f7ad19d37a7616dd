from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Kehu: gunicorn in production (default), Django's development server with --dev."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dev", action="store_true", help="Development server, debug on.")
        parser.add_argument("--bind", default=os.environ.get("KEHU_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("KEHU_WEB_WORKERS", "3"))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dev"]:
            call_command("runserver", options["bind"], use_reloader=False)
            return
        if not settings.PRODUCTION:
            self.stderr.write("Serving with gunicorn in development mode (KEHU_ENV=development).")
        call_command("collectstatic", interactive=False, verbosity=0)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "kehu.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            "--timeout",
            "60",
        ]
        try:
            os.execv(sys.executable, argv)  # noqa: S606 - our own argv, no shell
        except OSError as exc:  # pragma: no cover
            raise CommandError(f"Could not start gunicorn: {exc}") from exc
