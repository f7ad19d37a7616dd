from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from kehu.core.management.base import AuditedCommand
from kehu.org import services
from kehu.org.models import Staff


class Command(AuditedCommand):
    help = "Print a new API token for USERNAME (kehu token USERNAME)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label to recognise the token by.")

    def handle(self, *args: Any, **options: Any) -> None:
        staff = Staff.objects.filter(username=options["username"]).first()
        if staff is None:
            raise CommandError(f"No user named {options['username']!r}.")
        _token, key = services.issue_api_token(actor=None, staff=staff, name=options["name"])
        self.stdout.write(key)
