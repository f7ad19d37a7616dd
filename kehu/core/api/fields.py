"""Serializer fields shared by every app's API."""

from __future__ import annotations

from typing import Any, NoReturn

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MAX_ID = 2**63 - 1  # the largest BigAutoField value: ids past it are unknown, not an error


class KnownChoiceField(serializers.ChoiceField):
    """A choice field whose error names the valid choices, so a client (or a person
    reading the error) knows what to send instead. A custom ``invalid_choice`` message
    may use ``{input}`` and ``{valid}``."""

    default_error_messages = {
        "invalid_choice": _('"{input}" is not a valid choice; choose one of: {valid}.'),
    }

    def fail(self, key: str, **kwargs: Any) -> NoReturn:
        if key == "invalid_choice":
            kwargs = {
                "input": str(kwargs.get("input", ""))[:100],
                "valid": ", ".join(self.choice_strings_to_values),
            }
        super().fail(key, **kwargs)
