from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from kehu.core import demo
from kehu.core.management.base import AuditedCommand


class Command(AuditedCommand):
    help = "Load the demo company (idempotent): kehu demo [--size N]."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--size",
            type=int,
            default=40,
            help="About how many staff (default 40); later data scales with it.",
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        size = options["size"]
        if not 12 <= size <= 100_000:
            raise CommandError("--size must be between 12 and 100000.")
        demo.discover()  # each app's kehu/<app>/demo.py registers its loader
        ctx = demo.DemoContext(
            size=size,
            rng=random.Random(options["seed"]),
            password=settings.KEHU_DEMO_PASSWORD,
            say=lambda m: self.stdout.write(m),
        )
        demo.run(ctx)
        self.stdout.write(self.style.SUCCESS("Demo company ready. Log in with:"))
        for username, label in ctx.logins:
            self.stdout.write(f"  {username:<14} {settings.KEHU_DEMO_PASSWORD}   {label}")
