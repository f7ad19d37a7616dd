from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Benchmark Kehu against plain-code limits in the same run (PostgreSQL): "
        "kehu bench --customers N. Set DATABASE_URL to a PostgreSQL database for it."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=100_000,
            help="Customers to generate (up to 1,000,000; default 100,000).",
        )
        parser.add_argument(
            "--requests", type=int, default=400, help="Requests per measured series (default 400)."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=4,
            help="gunicorn workers for both the project and the limit.",
        )
        parser.add_argument(
            "--only",
            default="registrations,lists,agenda",
            help="Comma-separated parts to run: registrations, lists, agenda (default all).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError(
                "The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…/kehu_bench."
            )
        if not 60_000 <= options["customers"] <= 1_000_000:
            raise CommandError("--customers must be between 60,000 and 1,000,000.")
        root = Path(settings.BASE_DIR)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        parts = tuple(p.strip() for p in options["only"].split(",") if p.strip())
        unknown = set(parts) - {"registrations", "lists", "agenda"}
        if unknown or not parts:
            raise CommandError(
                f"--only takes registrations, lists and/or agenda (not {sorted(unknown)})."
            )
        from bench.harness import run

        failures = 0
        if {"registrations", "lists"} & set(parts):
            failures += run(
                database_url=os.environ["DATABASE_URL"],
                customers=options["customers"],
                requests=options["requests"],
                workers=options["workers"],
                say=lambda m: self.stdout.write(m),
                parts=parts,
            )
        if "agenda" in parts:
            from bench.agenda import run_agenda_bench

            results = run_agenda_bench(
                customers=options["customers"],
                requests=options["requests"],
                say=lambda m: self.stdout.write(m),
            )
            failures += sum(1 for r in results if not r["ok"])
        if failures:
            raise CommandError(f"{failures} target(s) missed.")
