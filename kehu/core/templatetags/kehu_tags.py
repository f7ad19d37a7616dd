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
