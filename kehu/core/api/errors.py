"""One error body for every 4xx the API answers:

    {"error": {"code": "...", "message": "...", "fields": {"name": ["..."]}}}

Messages are in the request's language (LocaleMiddleware reads Accept-Language).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _text(value: Any) -> str:
    """A message as text that can be sent: validators echo the input, and a lone
    surrogate (``"\\ud800"`` in the JSON) would make rendering the error a 500."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF error details (nested dicts/lists) → {"field" or "field.sub": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [_text(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                name = f"{prefix}.{index}" if prefix else str(index)
                for k, v in _flatten(item, name).items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix or "non_field_errors"] = [_text(detail)]
    return out


def django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {
                ("non_field_errors" if k == "__all__" else k): [str(m) for e in v for m in e]
                for k, v in exc.error_dict.items()
            }
        )
    return exceptions.ValidationError({"non_field_errors": [str(m) for m in exc.messages]})


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = django_validation_to_drf(exc)
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("too_large", _("The request body is too large (at most 2 MB).")),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, TooManyFieldsSent | SuspiciousOperation | BadRequest):
        return Response(
            error_body("bad_request", _("The request could not be read.")),
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # Keep the service's reason ("Only an administrator can grant the admin role.").
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()), ("", [""]))
        message = _("Please correct the errors below.")
        if first[0] == "non_field_errors" and first[1]:
            message = first[1][0]
        response.data = error_body("invalid", message, fields)
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body(
            "malformed_request",
            _("The request body is not valid JSON: %(detail)s") % {"detail": str(exc.detail)},
        )
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = (
            _text(detail) if not isinstance(detail, dict | list) else _text(exc.default_detail)
        )
        code = exc.get_codes() if not isinstance(detail, dict | list) else exc.default_code
        response.data = error_body(str(code), message)
    return response


def json_error_response(
    request: HttpRequest, status_code: int, code: str, message: str
) -> JsonResponse:
    return JsonResponse(
        error_body(code, message), status=status_code, json_dumps_params={"ensure_ascii": False}
    )


def is_json_body(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True
