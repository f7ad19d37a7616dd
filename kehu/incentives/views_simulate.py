"""The simulator page: paste or upload a simulate body, see the statements and the pool.

Managers and administrators (others: 404, like the other incentive pages). Nothing is
stored; the calculation is ``kehu.incentives.simulate.simulate``, as for the API and the
``kehu incentives simulate`` command.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kehu.incentives.api.simulate import EXAMPLE_FILE, may_simulate
from kehu.incentives.simulate import simulate
from kehu.incentives.xlsx import statements_xlsx

MAX_UPLOAD = 2 * 1024 * 1024


def example_text() -> str:
    try:
        return EXAMPLE_FILE.read_text(encoding="utf-8")
    except OSError:  # pragma: no cover - an installed package without docs/
        return json.dumps({"scheme": "default", "month": "2026-03", "staff": [], "customers": []})


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            ("" if field == "__all__" else field, message)
            for field, errors in exc.message_dict.items()
            for message in errors
        ]
    return [("", message) for message in exc.messages]


def _body_text(request: HttpRequest) -> tuple[str, list[tuple[str, str]]]:
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size is not None and upload.size > MAX_UPLOAD:
            return "", [("file", _("The file is too large (at most 2 MB)."))]
        try:
            return upload.read().decode("utf-8"), []
        except UnicodeDecodeError:
            return "", [("file", _("The file is not UTF-8 text: upload a .json file."))]
    return request.POST.get("body", ""), []


def _names(body: Any) -> dict[Any, str]:
    """Labels for staff: their optional "name" in the body, else "#id"."""
    names: dict[Any, str] = {}
    if isinstance(body, dict) and isinstance(body.get("staff"), list):
        for row in body["staff"]:
            if isinstance(row, dict) and "id" in row:
                name = row.get("name")
                names[row["id"]] = str(name) if name else f"#{row['id']}"
    return names


@login_required
def simulate_page(request: HttpRequest) -> HttpResponse:
    if not may_simulate(request.user):
        raise Http404
    text = example_text()
    result: dict[str, Any] | None = None
    errors: list[tuple[str, str]] = []
    names: dict[Any, str] = {}
    if request.method == "POST":
        text, errors = _body_text(request)
        if not errors:
            try:
                body = json.loads(text)
            except (ValueError, RecursionError) as exc:
                errors = [("", _("The body is not valid JSON: %(detail)s") % {"detail": exc})]
            else:
                names = _names(body)
                try:
                    result = simulate(body)
                except ValidationError as exc:
                    errors = _errors(exc)
        if result is not None and request.POST.get("export") == "xlsx":
            response = HttpResponse(
                statements_xlsx(result, names),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="simulation-{result["month"]}.xlsx"'
            )
            return response
    rows = []
    chart = None
    if result is not None:
        for statement in result["statements"]:
            rows.append(
                {**statement, "name": names.get(statement["staff"], f"#{statement['staff']}")}
            )
        chart = {"names": [row["name"] for row in rows], "values": [row["total"] for row in rows]}
    status = 400 if errors else 200
    return render(
        request,
        "incentives/simulate.html",
        {"text": text, "result": result, "rows": rows, "errors": errors, "chart": chart},
        status=status,
    )
