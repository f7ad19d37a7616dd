from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def kehu(request: HttpRequest) -> dict[str, Any]:
    """Role flags the base layout needs to build the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "is_admin": user.is_admin,
        "is_manager": user.is_manager,
        "can_read_audit": user.is_admin or user.is_manager,
    }
