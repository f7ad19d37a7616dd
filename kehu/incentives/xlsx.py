"""Statements and the pool of one month as an XLSX workbook (openpyxl).

``statements_xlsx(result, staff_names)`` takes the engine's JSON result (``compute`` or a
stored run rendered the same way) and returns the file's bytes: a "Statements" sheet with
one row per line (and one row for a statement without lines), and a "Pool" sheet.
Headers and reasons are in the active language.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

# Cells starting with these are formulas to a spreadsheet; prefix them (CSV/XLSX injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def statements_xlsx(result: dict[str, Any], staff_names: dict[Any, str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Statements")[:31]
    headers = [
        _("Month"),
        _("Staff id"),
        _("Name"),
        _("Role"),
        _("Region"),
        _("Assessed"),
        _("Statement total"),
        _("Kind"),
        _("Amount"),
        _("Customer"),
        _("Rule"),
        _("Reason"),
    ]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    month = result.get("month", "")
    for statement in result.get("statements", []):
        staff = statement["staff"]
        head = [
            month,
            staff,
            _cell(staff_names.get(staff, "")),
            statement.get("role", ""),
            _cell(str(statement.get("region", "") or "")),
            _("yes") if statement.get("assessed", True) else _("no"),
            statement["total"],
        ]
        lines = statement.get("lines") or []
        if not lines:
            reason = (statement.get("not_assessed") or {}).get("message", "")
            sheet.append([*head, "", 0, "", "", _cell(reason)])
        for line in lines:
            sheet.append(
                [
                    *head,
                    line["kind"],
                    line["amount"],
                    _cell(line.get("customer")),
                    line.get("rule", ""),
                    _cell(line.get("message") or line.get("reason", "")),
                ]
            )
    for column, width in zip(
        "ABCDEFGHIJKL", (9, 9, 16, 15, 10, 9, 12, 14, 10, 10, 6, 80), strict=True
    ):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"

    pool_sheet = workbook.create_sheet(_("Pool")[:31])
    pool = result.get("pool", {})
    pool_sheet.append([_("Month"), month])
    for key, label in (
        ("opening", _("Opening balance")),
        ("penalties", _("Penalties this month")),
        ("bonuses", _("Bonuses this month")),
        ("penalties_used", _("Bonuses paid from this month's penalties")),
        ("pool_used", _("Bonuses paid from the pool")),
        ("from_management_fund", _("Bonuses paid from the management fund")),
        ("closing", _("Closing balance")),
    ):
        if key in pool:
            pool_sheet.append([label, pool[key]])
    pool_sheet.column_dimensions["A"].width = 42
    pool_sheet.column_dimensions["B"].width = 14

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
