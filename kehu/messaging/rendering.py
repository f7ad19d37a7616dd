"""Message bodies: which placeholders a template may use, and filling them in.

Pure functions (STYLE rule 14): no database, so the API, the pages, the triggers and the
broadcasts all render the same way and the rules are tested without a database.

A placeholder is anything between single braces without spaces: ``{name}``. A body that
names a placeholder we do not know (``{姓名}``, ``{nmae}``) is refused when the template
is saved, so a customer never receives a literal ``{nmae}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PLACEHOLDER = re.compile(r"\{([^{}\s]{1,40})\}")

# name → what it stands for (shown as help beside the template editor).
PLACEHOLDERS: dict[str, StrOrPromise] = {
    "title": _("the customer's title in messages (先生 / 女士 / 总)"),
    "name": _("the customer's name"),
    "consultant": _("the consultant's name (the customer's owner)"),
    "consultant_phone": _("the consultant's mobile number"),
    "project": _("the project's name"),
    "project_address": _("the project's address"),
    "project_route": _("the driving route to the project"),
}

MAX_BODY = 1000


def placeholders_in(body: str) -> list[str]:
    """The placeholder names in ``body``, in order of first use, each once."""
    seen: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(body or ""):
        seen.setdefault(match.group(1), None)
    return list(seen)


def unknown_placeholders(body: str) -> list[str]:
    return [name for name in placeholders_in(body) if name not in PLACEHOLDERS]


def render(body: str, context: Mapping[str, object]) -> str:
    """Fill every known placeholder from ``context`` (missing values become empty text);
    anything else between braces is left as it is."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        value = context.get(name)
        return "" if value is None else str(value)

    return PLACEHOLDER.sub(fill, body or "")
