from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kehu.core.context import acting


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(m for e in errors for m in e.messages)}"
            for field, errors in exc.error_dict.items()
        )
    return " ".join(exc.messages)


class AuditedCommand(BaseCommand):
    """A command whose writes are audited with source "command"; validation errors
    become a clean CommandError (exit 1, message on stderr) instead of a traceback."""

    def execute(self, *args: Any, **options: Any) -> Any:
        with acting("command"):
            try:
                return super().execute(*args, **options)
            except ValidationError as exc:
                raise CommandError(validation_message(exc)) from exc
