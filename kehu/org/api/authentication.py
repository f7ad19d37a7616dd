from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from kehu.org.services import authenticate_token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token kehu_…`` (``Bearer`` is accepted too)."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: use 'Token <key>'.")
            )
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(
                _("The token contains invalid characters.")
            ) from exc
        staff = authenticate_token(key)
        if staff is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return staff, None

    def authenticate_header(self, request: Any) -> str:
        return "Token"


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes :class:`ApiTokenAuthentication` in the OpenAPI schema (registered on
    import, which the authentication setting guarantees)."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _("Personal API token, sent as `Authorization: Token <key>` (prefix kehu_).")
            ),
        }
