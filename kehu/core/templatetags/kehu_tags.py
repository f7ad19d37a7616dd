from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.http import urlencode

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def pretty_json(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


@register.simple_tag(takes_context=True)
def page_url(context: Any, page: int) -> str:
    """The current query string with ``page`` replaced."""
    params = context["request"].GET.copy()
    params["page"] = page
    return "?" + urlencode(sorted(params.lists()), doseq=True)


def _short(value: Any, limit: int = 80) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def audit_changes(event: Any) -> list[dict[str, Any]]:
    """What an audit event changed, field by field, for the audit log page.

    One row per field whose value differs between ``before`` and ``after``:
    ``{"field", "before", "after", "had_before"}`` with the values as short text. A field
    that is new (a creation) and empty is left out: it changed nothing a reader needs."""
    before = event.before or {}
    after = event.after or {}
    rows = []
    for field in sorted(set(before) | set(after)):
        had_before, has_after = field in before, field in after
        old, new = before.get(field), after.get(field)
        if had_before and has_after and old == new:
            continue
        if not had_before and new in (None, "", [], {}):
            continue
        rows.append(
            {
                "field": field,
                "before": _short(old) if had_before else "",
                "after": _short(new) if has_after else "",
                "had_before": had_before,
            }
        )
    return rows
