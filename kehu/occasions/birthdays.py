"""The monthly birthday calendar (shared by the page and the API)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.occasions import rules
from kehu.occasions.models import OccasionDate

COLUMNS = (
    "customer_id",
    "date",
    "is_lunar",
    "customer__name",
    "customer__owner_id",
    "customer__node_id",
    "customer__relationship",
    "customer__lunar_birthday",
)


def team_for(user: Any, node_id: Any) -> Any:
    """The team ``node_id`` if the user may see it; a ValidationError otherwise."""
    from kehu.org.models import OrgNode

    if node_id in (None, ""):
        return None
    try:
        return OrgNode.objects.visible_to(user).get(pk=int(node_id))
    except (ValueError, TypeError, OverflowError, OrgNode.DoesNotExist):
        raise ValidationError({"node": [_("Choose a team you can see (its id).")]}) from None


def month_queryset(user: Any, year: int, month: int, node: Any = None) -> Any:
    queryset = OccasionDate.objects.visible_to(user).birthdays().in_month(year, month)
    if node is not None:
        queryset = queryset.in_subtree(node)
    return queryset.order_by("date", "customer_id", "id").values(*COLUMNS)


def as_row(row: dict[str, Any], care: dict[str, str]) -> dict[str, Any]:
    lunar = row["customer__lunar_birthday"] if row["is_lunar"] else None
    return {
        "customer": row["customer_id"],
        "name": row["customer__name"] or f"#{row['customer_id']}",
        "owner": row["customer__owner_id"],
        "node": row["customer__node_id"],
        "date": row["date"],
        "is_lunar": row["is_lunar"],
        "lunar": lunar,
        "lunar_label": rules.lunar_label(lunar) if lunar else "",
        "relationship": row["customer__relationship"],
        "care": care.get(row["customer__relationship"], "message"),
    }
